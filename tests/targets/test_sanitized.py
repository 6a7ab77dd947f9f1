"""The Linux target built with ASan+UBSan, run over the malformed-packet corpus.

Every element that parses headers sees truncated frames, every IHL, bad
lengths and checksums, and random bytes.  The run must finish cleanly with
no sanitizer report, and the drops must be counted.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from uknfv.pcapfile import write_frames
from uknfv.testing import run_uknfv, stats_of
from uknfv.traffic.corpus import malformed_frames

PIPELINE = """
FromDump(in.pcap, STOP true) -> t :: Tee(4);
t[0] -> c :: Classifier(12/0806 20/0001, 12/0800, -);
c[0] -> ARPResponder(10.0.1.1 52:54:00:00:00:01) -> ToDump(arp.pcap);
c[1] -> Strip(14) -> chk :: CheckIPHeader -> GetIPAddress(16)
     -> f :: IPFilter(allow tcp opt syn, allow udp && dst port 53, allow icmp type echo,
                      allow ip frag, deny src net 10.9.0.0/16, allow dst host 10.0.2.2)
     -> cl :: IPClassifier(icmp type echo, tcp or udp, -);
cl[0] -> ICMPPingResponder -> rt :: RadixIPLookup(10.0.1.0/24 0, 10.0.2.0/24 10.0.2.254 1, 0.0.0.0/0 2);
cl[1] -> rt;
cl[2] -> Discard;
rt[0] -> d0 :: DecIPTTL -> SetIPChecksum -> EtherEncap(0x0800, 1:2:3:4:5:6, 6:5:4:3:2:1) -> ToDump(r0.pcap);
rt[1] -> d1 :: DecIPTTL -> Unstrip(14) -> ToDump(r1.pcap);
rt[2] -> StripToNetworkHeader -> ToDump(r2.pcap, ENCAP IP);
d0[1] -> Discard;
d1[1] -> Discard;
c[2] -> Discard;
t[1] -> Strip(14) -> m :: MarkIPHeader -> ic :: IPClassifier(src host 10.0.1.2 and dst port 2, -);
ic[0] -> SetIPAddress(1.2.3.4) -> Discard;
ic[1] -> Discard;
t[2] -> HostEtherFilter(52:54:00:00:00:01) -> EtherMirror -> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2)
     -> Print(x, MAXLENGTH 8) -> Discard;
t[3] -> Strip(14) -> MarkIPHeader -> GetIPAddress(16) -> lk :: LinearIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1);
lk[0] -> Discard;
lk[1] -> Discard;
"""


@pytest.mark.slow
def test_asan_ubsan_over_malformed_corpus(tmp_path: Path) -> None:
    write_frames(tmp_path / "in.pcap", malformed_frames())
    (tmp_path / "fuzz.click").write_text(PIPELINE)
    res = run_uknfv("run", "fuzz.click", "--opt", "sanitize", "--stats", cwd=tmp_path, timeout=300)
    assert "runtime error" not in res.stderr and "AddressSanitizer" not in res.stderr, res.stderr
    assert res.returncode == 0, res.stderr
    stats = stats_of(res.stdout)
    assert int(stats["chk.drops"]) > 50
    assert int(stats["m.drops"]) > 0
