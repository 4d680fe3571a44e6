"""Groups a `perf report --sort symbol --stdio` profile into the stages of the hot path."""
import re
import sys

stages = [
    ("decoding (JSON scan, validation, interning)", r"JSONReader|EventDecoder|Money.*parse|Interner|SymbolTable|EventTime|uncheckedFromUTF8"),
    ("sequencing (watermarks, dedupe, reorder buffer)", r"Sequencer|AcceptedIDs|Pending|lexicographicallyPrecedes"),
    ("rule evaluation (engine, windows, expressions, timers, refresh)",
     r"Engine|AggregateColumn|WindowQueues|4NodeO|5ValueV|TimerEntry|Processor|RawDictionaryStorage|Hasher"),
    ("output (encoding, writing)", r"RecordEncoder|JSONWriter|FileWriter|ReplayOutput|OutputTally|FNV1a64"),
    ("reading input", r"LineReader|memchr|gzread|inflate|copy_to_iter|copy_folio|read"),
    ("Swift runtime and memory (retain/release, exclusivity checks, malloc, page faults)",
     r"swift_retain|swift_release|swift_bridgeObject|isUniquelyReferenced|AccessSet|swift_beginAccess|swift_endAccess"
     r"|tls_get_addr|malloc|free|memmove|clear_page|page_fault"),
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
