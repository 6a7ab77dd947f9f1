#!/usr/bin/env bash
# Set up (if needed) and run the main job: build the example router vNF,
# push scapy-made traffic through it, print what came out of each port.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/uknfv demo "$@"
