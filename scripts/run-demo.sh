#!/usr/bin/env bash
# The main job on embedded defaults: builds a release binary, generates a sample of
# community group-buying traffic and replays it through the reference pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product tagstream
bin=.build/release/tagstream
out=${TAGSTREAM_DEMO_DIR:-/tmp/tagstream-demo}
rm -rf "$out"
"$bin" generate --users 5000 --days 120 --seed 1 --out "$out/events"
"$bin" replay --pipeline pipelines/community-grocery.yaml --out "$out/results" "$out"/events/*.jsonl
