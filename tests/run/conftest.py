"""Fixtures for tests/run: a fake PVH guest (see fakeguest.py) and helpers."""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _load_fakeguest():
    spec = importlib.util.spec_from_file_location("uknfv_tests_fakeguest", HERE / "fakeguest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def fake_guest_elf(tmp_path_factory) -> Path:
    """The fake guest ELF (skips when it cannot be built or QEMU is missing)."""
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 is not installed")
    try:
        return _load_fakeguest().build(tmp_path_factory.mktemp("fakeguest"))
    except RuntimeError as e:
        pytest.skip(str(e))


@pytest.fixture
def fake_image(tmp_path):
    """fake_image(ports, **meta) -> Path of an ELF-looking image with IMAGE.json beside it.

    The image is not bootable: for tests that only build command lines."""
    def make(ports=("lan", "wan"), name="vnf", **meta) -> Path:
        img = tmp_path / name
        img.write_bytes(b"\x7fELF" + bytes(60))
        m = {"target": "kvm", "ports": [{"name": p, "nic": i} for i, p in enumerate(ports)]}
        m.update(meta)
        (tmp_path / f"{name}.json").write_text(json.dumps(m))
        return img
    return make
