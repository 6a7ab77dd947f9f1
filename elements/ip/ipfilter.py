from uknfv.diag import UknfvError
from uknfv.element import Arg
from uknfv.elements.ip.ipclassifier import IPClassifier, _Raw


class IPFilter(IPClassifier):
    name = "IPFilter"
    kind = "IPFilter"
    rest = Arg("RULE", _Raw(), doc="ACTION PATTERN: ACTION is allow, deny, drop or an output number")
    doc = """
    Filters IP packets by header fields: a list of ACTION PATTERN rules.

    IPFilter(ACTION1 PATTERN1, ..., ACTIONN PATTERNN).  The first rule
    whose PATTERN matches decides: ACTION `allow` sends the packet to
    output 0, an integer K to output K, `deny` or `drop` drops it.  Packets
    matching no rule are dropped; dropped packets are counted in `drops`.
    PATTERN uses the same tcpdump-like language as IPClassifier
    (`tcp dst port 80`, `src net 10.0.0.0/8 && udp`, `icmp type echo`,
    `!(tcp or udp)`, `all` ...).  Example:
    `IPFilter(allow src host 10.0.0.1, 1 icmp, deny all)`.

    Fields are read at the network header annotation (IP) and IHL*4 bytes
    after it (transport), so the packets must have been through
    CheckIPHeader or MarkIPHeader; a test on bytes the packet does not hold
    is false.  The rules are compiled at build time into one C function of
    constant comparisons (see uknfv/codegen/ipfilter.py, which also lists
    the few differences from Click).  The element has as many outputs as
    its connections (at least one more than the highest output a rule
    names).

    Difference from Click: a packet without a network header annotation
    (Click reads relative to the unset annotation: undefined) is dropped and counted
    in `malformed`.
    """

    def port_counts(self, inst, nin, nout):
        bad = next((r for r in inst.vars["rules"] if r.output >= nout), None)
        if bad is not None:
            raise UknfvError(f"{inst.name} :: {inst.cls}: a rule sends packets to output "
                             f"{bad.output}, but only {nout} output"
                             f"{'s are' if nout != 1 else ' is'} connected", bad.loc or inst.loc)
        return nin, nout
