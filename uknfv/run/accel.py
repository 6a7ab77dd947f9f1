"""Which QEMU accelerator to use: KVM where it is hardware virtualisation, else TCG.

KVM is only worth it when ``/dev/kvm`` is backed by VT-x or AMD-V (the
``kvm_intel`` or ``kvm_amd`` module).  Some hosts, among them the machines
uknfv is built on, expose ``/dev/kvm`` through ``kvm_pvm``: a software layer
(Pagetable-based Virtual Machine) that only runs PVM-aware guests well; a
normal guest under it runs roughly 30x slower than TCG and faults on SSE
instructions such as ``ldmxcsr``.  There TCG is the right choice, and we
say why.

``choose_accel`` takes a ``root`` directory so tests can point it at a fake
``/dev`` and ``/sys``.
"""
from __future__ import annotations

import errno
import os

from ..diag import UknfvError

ACCELS = ("kvm", "tcg")
HW_MODULES = ("kvm_intel", "kvm_amd")
PVM_MODULE = "kvm_pvm"


def _path(root: str, p: str) -> str:
    return os.path.join(root, p.lstrip("/"))


def _open_error(path: str) -> str | None:
    """None if ``path`` opens read-write, else why not (in words)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return "/dev/kvm does not exist (no KVM on this host)"
        if e.errno in (errno.EACCES, errno.EPERM):
            return ("/dev/kvm is not accessible to this user (add yourself to the 'kvm' group "
                    "or run as root)")
        return f"/dev/kvm cannot be opened ({e.strerror})"
    os.close(fd)
    return None


def kvm_problem(root: str = "/") -> str | None:
    """None if KVM is hardware virtualisation and usable here, else the reason it is not."""
    err = _open_error(_path(root, "/dev/kvm"))
    if err:
        return err
    modules = _path(root, "/sys/module")
    if os.path.isdir(os.path.join(modules, PVM_MODULE)):
        return ("/dev/kvm is kvm_pvm, a software virtualisation layer: guests that are not "
                "PVM-aware run about 30x slower than TCG under it and SSE instructions such as "
                "ldmxcsr fault")
    if not any(os.path.isdir(os.path.join(modules, m)) for m in HW_MODULES):
        return ("/dev/kvm is not backed by hardware virtualisation (neither kvm_intel nor "
                "kvm_amd is loaded)")
    return None


def _hw_module(root: str) -> str:
    modules = _path(root, "/sys/module")
    for m in HW_MODULES:
        if os.path.isdir(os.path.join(modules, m)):
            return m
    return "kvm"


def choose_accel(requested: str | None = None, root: str = "/") -> tuple[str, str]:
    """(accel, reason): the accelerator to give QEMU and a sentence saying why.

    ``requested`` is None/"auto" (decide), "kvm" or "tcg" (the user's override).
    Asking for KVM where /dev/kvm cannot be opened is an error; asking for it
    where it is only a software layer is honoured, with a warning in the reason.
    """
    if requested in (None, "", "auto"):
        problem = kvm_problem(root)
        if problem is None:
            return "kvm", f"using KVM ({_hw_module(root)}, hardware virtualisation)"
        return "tcg", f"using TCG: {problem}"
    if requested not in ACCELS:
        raise UknfvError(f"unknown accelerator '{requested}' (choose kvm, tcg or auto)")
    if requested == "tcg":
        problem = kvm_problem(root)
        why = "" if problem else " (KVM would be available)"
        return "tcg", f"using TCG as requested{why}"
    err = _open_error(_path(root, "/dev/kvm"))
    if err:
        raise UknfvError(f"--accel kvm: {err}; use --accel tcg (or leave --accel out to choose "
                         f"automatically)")
    problem = kvm_problem(root)
    if problem:
        return "kvm", f"using KVM as requested, although {problem}"
    return "kvm", f"using KVM as requested ({_hw_module(root)}, hardware virtualisation)"
