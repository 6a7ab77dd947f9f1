from ._rewriter import DST_ANNO, RewriterBase, timeout_kw
from .iprewriter import COMMON_DOC


class TCPRewriter(RewriterBase):
    name = "TCPRewriter"
    mode = "tcp"
    keywords = {
        "TCP_TIMEOUT": timeout_kw(86400),
        "TCP_DONE_TIMEOUT": timeout_kw(240),
        "DST_ANNO": DST_ANNO,
    }
    doc = """
    Rewrites TCP flows' addresses and ports (IPRewriter for TCP only).

    TCPRewriter(INPUTSPEC1, ..., INPUTSPECn [, KEYWORDS]): IPRewriter's
    engine for TCP packets; every other packet is not a flow (it goes to
    the `pass` output of its input, else it is dropped).  Keywords:
    CAPACITY (default 65536), TCP_TIMEOUT (default 24 hours),
    TCP_DONE_TIMEOUT (default 4 minutes, after a FIN or RST), DST_ANNO.
    Difference from Click: sequence number deltas (used by FTPPortMapper)
    are not supported; sequence numbers are never changed.
""" + COMMON_DOC
