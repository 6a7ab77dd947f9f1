from ._rewriter import DST_ANNO, RewriterBase, timeout_kw
from .iprewriter import COMMON_DOC


class UDPRewriter(RewriterBase):
    name = "UDPRewriter"
    mode = "udp"
    keywords = {
        "UDP_TIMEOUT": timeout_kw(300),
        "DST_ANNO": DST_ANNO,
    }
    doc = """
    Rewrites UDP flows' addresses and ports (IPRewriter for UDP only).

    UDPRewriter(INPUTSPEC1, ..., INPUTSPECn [, KEYWORDS]): IPRewriter's
    engine for UDP packets; every other packet is not a flow (it goes to
    the `pass` output of its input, else it is dropped).  Keywords:
    CAPACITY (default 65536), UDP_TIMEOUT (default 5 minutes), DST_ANNO.
    Difference from Click: Click's UDPRewriter also rewrites TCP; uknfv's
    handles UDP only (use IPRewriter for both).
""" + COMMON_DOC
