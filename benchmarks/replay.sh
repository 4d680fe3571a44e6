#!/usr/bin/env bash
# Replay throughput and memory of the reference pipeline (issue: the engine).
# Usage: benchmarks/replay.sh [USERS] [DAYS]   (default 100000 users, 60 days ≈ 8.7 M events)
# Needs: python3, /usr/bin/time, taskset; perf for the time split (optional).
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}
days=${2:-60}
data=${BENCH_DATA:-/tmp/tagstream-bench}
mkdir -p "$data"
swift build -c release --product tagstream >/dev/null
bin=.build/release/tagstream
file="$data/generated-$users-$days.jsonl"
if [ ! -s "$file" ]; then
  echo "generating $file with tagstream generate ..."
  "$bin" generate --users "$users" --days "$days" --merged "$file" >/dev/null
fi
lines=$(wc -l < "$file")

measure() {  # $1 = input file; prints "seconds peak_kb"
  local out; out=$(mktemp -d)
  /usr/bin/time -f "%e %M" -o "$out/time" taskset -c 0 "$bin" replay --pipeline pipelines/community-grocery.yaml \
    --out "$out/results" "$1" >/dev/null
  cat "$out/time"
  python3 -c "import json,sys; s=json.load(open('$out/results/summary.json')); print(s['final_state']['users'])"
  rm -rf "$out"
}

# shellcheck disable=SC2046
set -- $(measure "$file")
seconds=$1 peak_kb=$2 users_seen=$3
# The fixed base: the same binary on a tiny input.
head -n 1000 "$file" > "$data/base.jsonl"
set -- $(measure "$data/base.jsonl")
base_kb=$2
python3 - "$lines" "$seconds" "$peak_kb" "$base_kb" "$users_seen" <<'PY'
import sys
lines, seconds, peak, base, users = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"events: {lines:,}  wall: {seconds:.2f} s  throughput: {lines/seconds:,.0f} events/s (one core)")
print(f"peak RSS: {peak/1024:.0f} MB; base {base/1024:.0f} MB; {(peak-base)*1024/users:,.0f} bytes per user above the base ({users:,} users)")
PY

# The time split: a perf profile (skipped for inputs over 20 M lines, whose profiles get too large).
if [ "$lines" -le 20000000 ] && command -v perf >/dev/null; then
  perf record -q -o "$data/perf.data" "$bin" replay --pipeline pipelines/community-grocery.yaml --out "$data/perf-out" "$file" >/dev/null 2>&1
  perf report -i "$data/perf.data" --no-children --sort symbol --stdio 2>/dev/null | python3 benchmarks/time_split.py
fi
