"""Choosing KVM or TCG from (fake) /dev and /sys."""
from __future__ import annotations

import os

import pytest

from uknfv.diag import UknfvError
from uknfv.run.accel import choose_accel, kvm_problem


def host(tmp_path, *modules: str, dev: bool = True):
    (tmp_path / "dev").mkdir()
    if dev:
        (tmp_path / "dev" / "kvm").write_bytes(b"")
    for m in ("kvm",) + modules:
        (tmp_path / "sys" / "module" / m).mkdir(parents=True)
    return str(tmp_path)


def test_hardware_kvm_intel(tmp_path):
    assert choose_accel(None, host(tmp_path, "kvm_intel")) == \
        ("kvm", "using KVM (kvm_intel, hardware virtualisation)")


def test_hardware_kvm_amd(tmp_path):
    acc, why = choose_accel("auto", host(tmp_path, "kvm_amd"))
    assert acc == "kvm" and "kvm_amd" in why


def test_kvm_pvm_is_a_software_layer(tmp_path):
    acc, why = choose_accel(None, host(tmp_path, "kvm_pvm"))
    assert acc == "tcg"
    assert why.startswith("using TCG: /dev/kvm is kvm_pvm, a software virtualisation layer")
    assert "30x slower" in why and "ldmxcsr" in why


def test_pvm_wins_even_next_to_a_hardware_module(tmp_path):
    assert choose_accel(None, host(tmp_path, "kvm_pvm", "kvm_intel"))[0] == "tcg"


def test_no_dev_kvm(tmp_path):
    assert choose_accel(None, host(tmp_path, "kvm_intel", dev=False)) == \
        ("tcg", "using TCG: /dev/kvm does not exist (no KVM on this host)")


def test_no_hardware_module(tmp_path):
    acc, why = choose_accel(None, host(tmp_path))
    assert acc == "tcg" and "neither kvm_intel nor kvm_amd" in why


def test_dev_kvm_not_accessible(tmp_path, monkeypatch):
    root = host(tmp_path, "kvm_intel")
    real_open = os.open

    def refuse_kvm(path, *a, **kw):   # what a user outside the kvm group gets (root opens anything)
        if str(path).endswith(os.path.join("dev", "kvm")):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **kw)

    monkeypatch.setattr(os, "open", refuse_kvm)
    acc, why = choose_accel(None, root)
    assert acc == "tcg" and "not accessible" in why and "'kvm' group" in why


def test_override_tcg(tmp_path):
    assert choose_accel("tcg", host(tmp_path, "kvm_intel")) == \
        ("tcg", "using TCG as requested (KVM would be available)")


def test_override_kvm_where_impossible_is_an_error(tmp_path):
    with pytest.raises(UknfvError, match=r"--accel kvm: /dev/kvm does not exist.*--accel tcg"):
        choose_accel("kvm", host(tmp_path, dev=False))


def test_override_kvm_on_pvm_is_honoured_with_a_warning(tmp_path):
    acc, why = choose_accel("kvm", host(tmp_path, "kvm_pvm"))
    assert acc == "kvm" and "although /dev/kvm is kvm_pvm" in why


def test_unknown_accel(tmp_path):
    with pytest.raises(UknfvError, match="unknown accelerator 'hvf'"):
        choose_accel("hvf", host(tmp_path))


def test_this_host_decides_without_error():
    acc, why = choose_accel()
    assert acc in ("kvm", "tcg") and why
    assert (kvm_problem() is None) == (acc == "kvm")
