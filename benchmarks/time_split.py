"""Groups a `perf report --sort symbol --stdio` profile into the stages of the hot path."""
import re
import sys

stages = [
    ("decoding (JSON scan, validation, interning)", r"JSONReader|EventDecoder|Money.*parse|Interner|SymbolTable|uncheckedFromUTF8|Hasher|RawDictionaryStorage"),
    ("sequencing (watermarks, dedupe, reorder buffer)", r"Sequencer|AcceptedIDs|Heap|Pending|lexicographicallyPrecedes"),
    ("rule evaluation (engine, timers, refresh)", r"Engine|UserState|CommunityState|TimerEntry|CompiledRules|Deque"),
    ("output (encoding, writing)", r"RecordEncoder|JSONWriter|FileWriter|ReplayOutput|FNV1a64"),
    ("reading input", r"LineReader|memchr|gzread|inflate|_copy_to_iter|read"),
    ("memory management (retain/release/malloc)", r"swift_retain|swift_release|malloc|free|swift_bridgeObject|isUniquelyReferenced|memmove"),
]
totals = {name: 0.0 for name, _ in stages}
other = 0.0
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+\S+\s+(.*)", line)
    if not m:
        continue
    share, symbol = float(m.group(1)), m.group(2)
    for name, pattern in stages:
        if re.search(pattern, symbol):
            totals[name] += share
            break
    else:
        other += share
print("time split (perf, share of samples):")
for name, _ in stages:
    print(f"  {totals[name]:5.1f}%  {name}")
print(f"  {other:5.1f}%  other")
