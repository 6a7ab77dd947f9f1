#!/usr/bin/env bash
# Set up (if needed) and run the main job: build the example router vNF as a
# unikernel, boot it under QEMU between two network namespaces, push traffic
# through it and print the result (as root; otherwise the Linux-target demo).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/uknfv demo "$@"
