#!/usr/bin/env bash
# Replay speed and memory with 1 and 2 workers (issue: scale-out), alternated in one run on this
# noisy machine, with identical files checked; DuckDB with 1 and 2 threads on the same file as a
# reference (installed with pip when missing).
# Usage: benchmarks/replay-workers.sh [USERS] [DAYS] [PAIRS]   (default 100000 users, 60 days, 3 pairs)
# Needs: python3, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}
days=${2:-60}
pairs=${3:-3}
data=${BENCH_DATA:-/tmp/tagstream-bench}
mkdir -p "$data"
swift build -c release --product tagstream >/dev/null
bin=$PWD/.build/release/tagstream
file="$data/generated-$users-$days.jsonl"
if [ ! -s "$file" ]; then
  echo "generating $file with tagstream generate ..."
  "$bin" generate --users "$users" --days "$days" --merged "$file" >/dev/null
fi
lines=$(wc -l < "$file")
head -n 1000 "$file" > "$data/base.jsonl"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

replay() {  # $1 = workers, $2 = input, $3 = output dir; prints "seconds peak_kb"
  /usr/bin/time -f "%e %M" -o "$results/time" "$bin" replay --workers "$1" --out "$3" "$2" >/dev/null
  cat "$results/time"
}

echo "replay of $file ($lines events), 1 and 2 workers alternated, $pairs pairs:"
for i in $(seq "$pairs"); do
  for n in 1 2; do
    set -- $(replay "$n" "$file" "$results/out-$n")
    echo "$n $1 $2" >> "$results/runs"
  done
  for f in tags alerts coupons community_stats coupon_outcomes dead_letters late; do
    cmp -s "$results/out-1/$f.jsonl" "$results/out-2/$f.jsonl" || { echo "FAIL: $f.jsonl differs between 1 and 2 workers"; exit 1; }
  done
done
for n in 1 2; do
  set -- $(replay "$n" "$data/base.jsonl" "$results/base-$n")
  echo "$n $2" >> "$results/base"
done
users_seen=$(python3 -c "import json; print(json.load(open('$results/out-1/summary.json'))['final_state']['users'])")

duckdb_available=yes
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb >/dev/null 2>&1 || duckdb_available=no
if [ "$duckdb_available" = yes ]; then
  python3 - "$file" "$pairs" > "$results/duckdb" <<'PY'
import sys, time, duckdb
path, pairs = sys.argv[1], int(sys.argv[2])
query = f"""
SELECT user_id, count(*) AS events, sum(CASE WHEN type = 'order_paid' THEN amount END) AS paid, max(ts) AS last_ts
FROM read_json('{path}', format = 'newline_delimited', ignore_errors = true,
     columns = {{event_id: 'VARCHAR', type: 'VARCHAR', user_id: 'VARCHAR', ts: 'BIGINT', community_id: 'VARCHAR', amount: 'DECIMAL(18,6)'}})
GROUP BY user_id"""
for _ in range(pairs):
    for threads in (1, 2):
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        start = time.perf_counter()
        con.execute(query).fetchall()
        print(threads, time.perf_counter() - start)
PY
fi

python3 - "$lines" "$users_seen" "$results/runs" "$results/base" "$results/duckdb" "$duckdb_available" <<'PY'
import statistics, sys
lines, users = int(sys.argv[1]), int(sys.argv[2])
runs = [l.split() for l in open(sys.argv[3])]
base = {l.split()[0]: int(l.split()[1]) for l in open(sys.argv[4])}
def rate(seconds): return lines / float(seconds)
for n in ("1", "2"):
    mine = [r for r in runs if r[0] == n]
    rates = [rate(r[1]) for r in mine]
    peak = max(int(r[2]) for r in mine)
    print(f"  {n} worker(s): {statistics.median(rates):,.0f} events/s (median of {len(rates)}, {min(rates):,.0f}–{max(rates):,.0f}); "
          f"peak {peak / 1024:.0f} MB, {(peak - base[n]) * 1024 / users:,.0f} bytes per user above the base ({base[n] / 1024:.0f} MB)")
pairs = [(float(runs[i][1]), float(runs[i + 1][1])) for i in range(0, len(runs), 2)]
ratios = [one / two for one, two in pairs]
print(f"  2 workers / 1 worker, per pair: {', '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.2f}); files identical")
if sys.argv[6] == "yes":
    times = [l.split() for l in open(sys.argv[5])]
    for t in ("1", "2"):
        rates = [rate(x[1]) for x in times if x[0] == t]
        print(f"  DuckDB, {t} thread(s), per-user aggregates of the same file: {statistics.median(rates):,.0f} events/s (median of {len(rates)})")
else:
    print("  DuckDB: not measured (the duckdb Python package is missing and pip could not install it)")
PY
