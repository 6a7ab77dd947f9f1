from ._rewriter import DST_ANNO, RewriterBase, timeout_kw


class ICMPPingRewriter(RewriterBase):
    name = "ICMPPingRewriter"
    mode = "icmp"
    keywords = {
        "TIMEOUT": timeout_kw(300),
        "DST_ANNO": DST_ANNO,
    }
    doc = """
    Rewrites ICMP echo requests and replies (addresses and identifiers), for NAT.

    ICMPPingRewriter(INPUTSPEC1, ..., INPUTSPECn [, KEYWORDS]).  An echo
    request (ICMP type 8) creates, through its input's INPUTSPEC, a mapping
    of (source, destination, identifier) to a new triple; INPUTSPECs are
    IPRewriter's (`drop`, `pass OUTPUT`, `keep FOUTPUT ROUTPUT`, `pattern
    SADDR SPORT DADDR - FOUTPUT ROUTPUT`), SPORT being the identifier (a
    range `LO-HI[#|?]` allocates a free one).  Echo requests of a mapped
    triple are rewritten and leave on FOUTPUT; echo replies (type 0) to the
    rewritten triple are rewritten back (source = the original destination,
    destination = the original source, original identifier) and leave on
    ROUTPUT.  The IP checksum and the ICMP checksum (identifier) are
    updated incrementally (RFC 1624); the destination IP annotation is set
    unless DST_ANNO is false.  Unmapped replies, other ICMP types, other
    protocols and fragments go to the `pass` output of their input, else
    they are dropped (counted in `drops`).

    Keywords: CAPACITY (mappings, default 65536; fixed at build time),
    TIMEOUT (default 5 minutes; time is the packet's timestamp annotation,
    else the wall clock), DST_ANNO.  Handlers: `mappings` (lines
    `(SA, DA, ID) => (SA', DA', ID') [FOUTPUT]`), `nmappings`, `size`,
    `capacity`, `created`, `drops`, `table_full`, `bad`, `clear` (write).
"""
