from ._rewriter import DST_ANNO, RewriterBase, timeout_kw

COMMON_DOC = """
    INPUTSPECs, one per input port (Click's syntax):

    * `drop` (or `discard`): packets without a mapping are dropped (counted
      in `drops`).
    * `pass OUTPUT` (or `nochange OUTPUT`; OUTPUT defaults to 0): packets
      without a mapping leave unchanged on OUTPUT; no mapping is made.
    * `keep FOUTPUT ROUTPUT`: a mapping that changes nothing is made; the
      flow's packets leave on FOUTPUT, its replies on ROUTPUT.
    * `pattern SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT`: a mapping is made
      that rewrites the flow to the pattern: each field is `-` (unchanged)
      or a value.  SADDR may be a range `A-B` or `ADDR/LEN`, SPORT a range
      `LO-HI` (source NAT: a free address/port pair is chosen from the
      range, so that no two flows get the same reply flow); a range ending
      in `#` is walked sequentially (the next free port after the last one
      given out), one ending in `?` starts at a pseudo-random place.
      Without a suffix uknfv allocates sequentially (reproducible runs;
      Click picks randomly).  Rewritten packets leave on FOUTPUT; replies to
      the rewritten flow (source and destination swapped) are rewritten back
      to the original flow and leave on ROUTPUT.

    A packet is first looked up in the flow table (by its addresses, ports
    and protocol; both directions of every flow are in the table); only
    packets without a mapping use the INPUTSPEC of their input.  Rewriting
    changes the addresses and ports and updates the IP and transport
    checksums incrementally (RFC 1624; a UDP checksum of 0 stays 0), and
    sets the destination IP annotation to the new destination (DST_ANNO
    false: left alone).  Packets need the network header annotation
    (CheckIPHeader, MarkIPHeader); those without a 20-byte IP header there
    are dropped and counted in `bad`.  Non-first fragments and packets of
    other protocols (or too short for their ports) are not flows: they go
    unchanged to the `pass` output of their input, else they are dropped.

    The flow table is one fixed array of CAPACITY flows (default 65536;
    4096 on the kvm target, whose guest memory is sized for packet
    buffers: give a larger CAPACITY together with `--memory`) allocated at
    build time (about 90 bytes a flow), with a chained hash index: no allocation on the
    packet path.  A flow is removed when unused for longer than its timeout.
    Time is the packet's timestamp annotation when it has one (FromDump
    sets it from the capture, so runs are reproducible), else the wall
    clock; expired flows are removed when met by a lookup, when the table
    is full, and before the mapping handlers are read.  When the table is
    full and no flow has expired, or the pattern has no free address/port
    left, the packet is dropped and counted in `table_full` and `drops`.

    Handlers: `mappings` (one line per flow, Click's format `(SA, SP, DA,
    DP) => (SA', SP', DA', DP') [OUTPUT]`), `nmappings` and `size` (live
    flows), `capacity`, `created`, `drops`, `table_full`, `bad`, and
    `clear` (write: remove every mapping).

    Differences from Click: no IPRewriterPatterns element names as
    INPUTSPECs, no `ELEMENTNAME` (IPMapper) form, no TCP_NODATA_TIMEOUT/
    TCP_GUARANTEE, REAP_INTERVAL or UDP_STREAMING_TIMEOUT keywords (flows
    are reaped lazily), and the table cannot grow beyond CAPACITY.
"""


class IPRewriter(RewriterBase):
    name = "IPRewriter"
    mode = "ip"
    keywords = {
        "TCP_TIMEOUT": timeout_kw(86400),
        "TCP_DONE_TIMEOUT": timeout_kw(240),
        "UDP_TIMEOUT": timeout_kw(300),
        "DST_ANNO": DST_ANNO,
    }
    doc = """
    Rewrites TCP and UDP flows' addresses and ports (NAPT), with a flow table.

    IPRewriter(INPUTSPEC1, ..., INPUTSPECn [, KEYWORDS]): one input per
    INPUTSPEC; as many outputs as the INPUTSPECs name.  Keywords:
    CAPACITY (flows, default 65536), TCP_TIMEOUT (default 24 hours: TCP
    flows), TCP_DONE_TIMEOUT (default 4 minutes: TCP flows once a FIN or
    RST has been seen in either direction), UDP_TIMEOUT (default 5
    minutes), DST_ANNO (default true).  The `tcp_mappings` and
    `udp_mappings` handlers list one protocol; `mappings` lists both, each
    line prefixed with `tcp ` or `udp `.
""" + COMMON_DOC
