#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for uknfv: system packages, then a
# virtualenv in .venv with the project installed (editable) and its test
# tools.  Idempotent: a second run only checks.  Needs root (or sudo) the
# first time, for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-pip gcc libc6-dev make
  graphviz iproute2 tcpdump iperf3 procps binutils
  qemu-system-x86 qemu-system-data tmux iputils-ping
  libdpdk-dev dpdk dpdk-dev pkg-config util-linux
  # dpdk-dev carries dpdk-testpmd (the benchmark's baseline); util-linux taskset
)

need=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: needs root to install: ${need[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  echo "setup: installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The dpdk target runs without hugepages (--no-huge) but faster with them:
# reserve 256 x 2 MB when we may and none are reserved (best effort; a
# container's /proc/sys may be read-only).  The vNFs use them through memfd
# (--in-memory), so no hugetlbfs mount is needed.
if [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/nr_hugepages ] \
   && [ "$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 1)" = 0 ]; then
  avail_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
  if [ "${avail_kb:-0}" -gt 4194304 ]; then
    echo 256 > /proc/sys/vm/nr_hugepages 2>/dev/null \
      && echo "setup: reserved $(cat /proc/sys/vm/nr_hugepages) hugepages of 2 MB for the dpdk target" \
      || true
  fi
fi

# --system-site-packages: Debian's python3-bpfcc (bcc) must import here too.
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
stamp=.venv/.uknfv-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing uknfv and its Python dependencies into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
  touch "$stamp"
fi
echo "setup: ready (.venv/bin/uknfv)"
