#!/usr/bin/env bash
# The main job on embedded defaults: installs what is missing, builds a release binary and runs
# the live demo (an embedded 3-broker Kafka cluster, synthetic traffic, the engine on it) until
# Ctrl-C, with the leaders' dashboard on port 8080 (TAGSTREAM_HTTP_PORT to change it): open the
# printed links. Extra arguments go to `tagstream demo` (e.g. --duration 60).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product tagstream
exec .build/release/tagstream demo --http-port "${TAGSTREAM_HTTP_PORT:-8080}" "$@"
