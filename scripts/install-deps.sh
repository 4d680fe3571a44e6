#!/usr/bin/env bash
# Installs the Debian packages TagStream builds and tests with, when they are missing.
set -euo pipefail
packages=(zlib1g-dev librdkafka-dev kcat libhiredis-dev redis-server chromium chromium-driver fonts-wqy-microhei)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi
command -v python3 >/dev/null || { echo "python3 is needed for the test data generator" >&2; exit 1; }
