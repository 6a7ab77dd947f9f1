from ._rewriter import DST_ANNO, RewriterBase, timeout_kw


class IPAddrRewriter(RewriterBase):
    name = "IPAddrRewriter"
    mode = "addr"
    keywords = {
        "TIMEOUT": timeout_kw(300),
        "DST_ANNO": DST_ANNO,
    }
    doc = """
    Rewrites IP packets' source addresses (Basic NAT), with a mapping table.

    IPAddrRewriter(INPUTSPEC1, ..., INPUTSPECn [, KEYWORDS]).  A packet is
    first looked up by its source address among the mappings' original
    addresses (then rewritten to the mapped source, out on FOUTPUT), then
    by its destination address among the mapped addresses (a reply: the
    destination becomes the original address, out on ROUTPUT).  Only
    packets with no mapping use their input's INPUTSPEC: `drop`, `pass
    OUTPUT`, `keep FOUTPUT ROUTPUT`, or `pattern SADDR DADDR FOUTPUT
    ROUTPUT` where SADDR is `-`, an address, a range `A-B` or `ADDR/LEN`
    (a free address is taken from it, sequentially) and DADDR must be `-`
    (Basic NAT rewrites sources only).  Works for every IP protocol: the IP
    checksum and, for first fragments, the TCP or UDP checksum (pseudo
    header) are updated incrementally (RFC 1624).  The destination IP
    annotation is set to the new destination unless DST_ANNO is false.

    Keywords: CAPACITY (mappings, default 65536; fixed at build time),
    TIMEOUT (unused mappings expire, default 5 minutes; time is the
    packet's timestamp annotation, else the wall clock), DST_ANNO.
    Handlers: `mappings` (lines `SA => SA' [FOUTPUT]`), `nmappings`,
    `size`, `capacity`, `created`, `drops`, `table_full`, `bad`, `clear`
    (write).  Difference from Click: a DADDR pattern field is rejected,
    and mappings expire after TIMEOUT.
"""

    def configure(self, inst):
        super().configure(inst)
        for sp in inst.vars["specs"]:
            if sp["kind"] == "pattern" and sp["daddr"][0]:
                raise inst.error("IPAddrRewriter rewrites source addresses only: "
                                 "DADDR must be '-'", sp["arg"])
