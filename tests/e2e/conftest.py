"""End-to-end tests of the unikernel: real QEMU (KVM, or TCG), virtio NICs, traffic.

test_kvm_router.py and test_kvm_firewall.py boot their vNF once per module
with a host namespace on each NIC (uknfv.traffic.vmlab.VMLab); everything is
removed when the module ends, whatever happened.  They need root,
qemu-system-x86_64, tcpdump and iperf3, and skip (saying why) without them.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from uknfv.testing import REPO
from uknfv.traffic.vmlab import build_image


def pytest_configure(config):
    config.addinivalue_line("markers", "vm: tests that boot the unikernel under QEMU")


@pytest.fixture(scope="session")
def kvm_image(tmp_path_factory):
    """kvm_image("router") -> the kvm image of pipelines/router.click, built once per session."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            out = tmp_path_factory.mktemp(f"kvm-{name}") / f"{name}.img"
            built[name] = build_image(REPO / "pipelines" / f"{name}.click", out)
        return built[name]
    return get
