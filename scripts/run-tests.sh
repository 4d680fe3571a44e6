#!/usr/bin/env bash
# The whole test suite: installs what it needs, then builds and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
# Serially: the live-mode tests run processes and servers whose timing parallel tests would disturb.
swift test --skip-build --no-parallel
