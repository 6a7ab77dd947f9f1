"""uknfv/manifest.py: the vNF manifests (pipelines/NAME.toml) and their validation."""
from __future__ import annotations

from pathlib import Path

import pytest

from uknfv.diag import UknfvError
from uknfv.manifest import (DEFAULT_FRAME_SIZES, check_config, config_ports, find_manifest,
                            list_manifests, load_manifest)
from uknfv.testing import REPO

EXPECTED = {"bridge", "firewall", "loadbalancer", "ratelimiter", "router", "vxlan-gateway"}

GOOD = """\
name = "fw"
summary = "a test vNF"
default_target = "kvm"
memory_mb = 32
scenario = "fw_test"

[[ports]]
name = "inside"
role = "inside"

[[ports]]
name = "outside"
role = "outside"
description = "the world"

[defines]
RATE = "10Mbps"
VNI = 42

[bench]
ingress = "inside"
egress = "outside"
frame_sizes = [64, 1518]
"""

CONFIG = ("define($RATE 1Mbps, $VNI 1);\n"
          "FromDevice(inside) -> ToDevice(outside); FromDevice(outside) -> ToDevice(inside);\n")


def write(tmp_path: Path, text: str, name: str = "fw", config: str | None = CONFIG) -> Path:
    if config is not None:
        (tmp_path / f"{name}.click").write_text(config)
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    return p


def test_every_example_vnf_has_a_valid_manifest_readme_and_config():
    ms = list_manifests()
    assert {m.name for m in ms} >= EXPECTED
    assert [m.name for m in ms] == sorted(m.name for m in ms)
    index = (REPO / "pipelines" / "README.md").read_text()
    for m in ms:
        assert m.config == (REPO / "pipelines" / f"{m.name}.click").resolve()
        assert m.readme.is_file(), f"{m.name}: no {m.readme.name}"
        doc = m.readme.read_text()
        for port in m.port_names:
            assert f"`{port}`" in doc, f"{m.readme.name} does not describe port {port}"
        for d in m.defines:
            assert d in doc, f"{m.readme.name} does not document define {d}"
        assert f"{m.name}" in index
        assert m.config.read_text().startswith("//"), f"{m.config.name}: no header comment"
        check_config(m)          # ports are the config's, defines are its own
        assert m.bench is not None and m.bench.ingress != m.bench.egress


def test_load_all_fields(tmp_path):
    m = load_manifest(write(tmp_path, GOOD))
    assert (m.name, m.summary, m.default_target, m.memory_mb, m.scenario) == \
        ("fw", "a test vNF", "kvm", 32, "fw_test")
    assert m.port_names == ["inside", "outside"] and m.port("outside").description == "the world"
    assert m.port("inside").role == "inside"
    assert m.defines == {"RATE": "10Mbps", "VNI": "42"}
    assert (m.bench.ingress, m.bench.egress, m.bench.frame_sizes) == ("inside", "outside", (64, 1518))
    assert m.config == (tmp_path / "fw.click").resolve()
    assert m.define_args(VNI=7) == ["RATE=10Mbps", "VNI=7"]
    assert config_ports(m) == {"inside": {"rx", "tx"}, "outside": {"rx", "tx"}}
    check_config(m)
    with pytest.raises(UknfvError, match="no define NOPE"):
        m.define_args(NOPE=1)
    with pytest.raises(UknfvError, match="has no port 'x'"):
        m.port("x")


def test_defaults(tmp_path):
    text = 'name = "fw"\nsummary = "s"\n[[ports]]\nname = "inside"\nrole = "r"\n'
    m = load_manifest(write(tmp_path, text))
    assert (m.default_target, m.memory_mb, m.scenario, m.defines, m.bench) == ("linux", 64, "fw", {}, None)
    text += '[bench]\ningress = "inside"\negress = "inside"\n'
    assert load_manifest(write(tmp_path, text)).bench.frame_sizes == DEFAULT_FRAME_SIZES


def test_list_and_find(tmp_path):
    write(tmp_path, GOOD)
    assert [m.name for m in list_manifests(tmp_path)] == ["fw"]
    assert find_manifest("fw", tmp_path).name == "fw"
    with pytest.raises(UknfvError, match=r"no vNF manifest 'nope' .*known: fw"):
        find_manifest("nope", tmp_path)
    with pytest.raises(UknfvError, match="no such directory"):
        list_manifests(tmp_path / "missing")
    assert find_manifest("router").name == "router"


@pytest.mark.parametrize("edit,needle", [
    (lambda t: t.replace('name = "fw"', 'name = "other"', 1), "name: 'other' must be the manifest's file name"),
    (lambda t: t.replace('name = "fw"\n', '', 1), "name: missing"),
    (lambda t: t.replace('name = "fw"', 'name = "Fw!"', 1), "name: 'Fw!' is not a vNF name"),
    (lambda t: t.replace('summary = "a test vNF"', 'summary = ""'), "summary: must not be empty"),
    (lambda t: t.replace('summary = "a test vNF"', 'summary = 3'), "summary: expected a string, got int 3"),
    (lambda t: t.replace('"kvm"', '"xen"'), "default_target: 'xen' is not a target"),
    (lambda t: t.replace("memory_mb = 32", "memory_mb = 1"), "memory_mb: 1 is out of range"),
    (lambda t: t.replace("memory_mb = 32", 'memory_mb = "32"'), "memory_mb: expected an integer"),
    (lambda t: t.replace("memory_mb = 32", "memory_mb = true"), "memory_mb: expected an integer"),
    (lambda t: t + 'colour = "blue"\n', "unknown field"),
    (lambda t: t.replace('role = "outside"', 'role = "outside"\nspeed = 10'), "ports[1].speed: unknown field"),
    (lambda t: t.replace('name = "outside"', 'name = "inside"'), "ports[1].name: port 'inside' is listed twice"),
    (lambda t: t.replace('role = "inside"\n', ''), "ports[0].role: missing"),
    (lambda t: t.replace('ingress = "inside"', 'ingress = "lan"'), "bench.ingress: 'lan' is not one of the vNF's ports"),
    (lambda t: t.replace("[64, 1518]", "[64, 20]"), "bench.frame_sizes: 20 is not a frame size"),
    (lambda t: t.replace('VNI = 42', 'VNI = [1]'), "defines.VNI: expected a string or a number"),
    (lambda t: t.replace('VNI = 42', '"bad name" = 1'), "not a define name"),
    (lambda t: "defines = 3\n" + t.replace('[defines]\nRATE = "10Mbps"\nVNI = 42\n', ""),
     "defines: expected a table"),
    (lambda t: t + "config = 'nope.click'\n", "unknown field"),
    (lambda t: 'config = "nope.click"\n' + t, "config: nope.click not found beside the manifest"),
    (lambda t: t.replace("[[ports]]", "[[portz]]"), "unknown field"),
    (lambda t: t.replace("= [64", "= [64,,"), "not valid TOML"),
])
def test_errors_name_the_file_and_field(tmp_path, edit, needle):
    p = write(tmp_path, edit(GOOD))
    with pytest.raises(UknfvError) as exc:
        load_manifest(p)
    msg = str(exc.value)
    assert needle in msg, msg
    assert str(p) in msg


def test_no_ports_and_missing_file(tmp_path):
    p = write(tmp_path, 'name = "fw"\nsummary = "s"\nports = []\n')
    with pytest.raises(UknfvError, match="ports: a vNF needs at least one port"):
        load_manifest(p)
    with pytest.raises(UknfvError, match="no such manifest"):
        load_manifest(tmp_path / "nope.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UknfvError, match="not UTF-8"):
        load_manifest(tmp_path / "bin.toml")


def test_check_config_mismatches(tmp_path):
    m = load_manifest(write(tmp_path, GOOD, config="define($RATE 1, $VNI 2);\n"
                                                   "FromDevice(inside) -> ToDevice(wan);\n"))
    with pytest.raises(UknfvError, match=r"ports \['inside', 'outside'\] but fw.click uses \['inside', 'wan'\]"):
        check_config(m)
    m = load_manifest(write(tmp_path, GOOD, config="define($RATE 1);\n"
                                                   "FromDevice(inside) -> ToDevice(outside);\n"))
    with pytest.raises(UknfvError, match=r"defines.VNI: fw.click has no \$VNI"):
        check_config(m)
