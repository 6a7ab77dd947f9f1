from uknfv.elements.ip.lineariplookup import LinearIPLookup


class RadixIPLookup(LinearIPLookup):
    name = "RadixIPLookup"
    complaint = "IPRouteTable: no route for %s"
    complained_var = "uknfv_iproutetable_complained"
    doc = """
    Looks up the next hop of IP packets in a static routing table (radix trie).

    RadixIPLookup(ROUTE1, ROUTE2, ...).  Each argument is a route
    `ADDR/MASK [GATEWAY] OUTPUT` (mask as a prefix length or dotted quad;
    a bare address is a /32; GATEWAY an address or '-'), as in Click.  The
    key is the packet's destination IP address annotation (set by
    CheckIPHeader, GetIPAddress or SetIPAddress), not the IP header.  The
    longest matching prefix wins; the packet leaves on that route's OUTPUT
    and, if the route has a non-zero gateway, its destination annotation is
    set to the gateway.  A packet with no matching route is dropped and
    counted in `drops`; the first five per program are reported on stderr
    (`IPRouteTable: no route for ADDR`, Click's text).  When a prefix is
    given twice the first route is kept, as in Click.

    uknfv compiles the table at build time into a compressed multibit trie
    (the same code as LinearIPLookup: the two elements differ only in their
    messages).  The table can change at run time through Click's handlers:
    `add` (`ADDR/MASK [GW] OUT`, an error if the prefix has a route), `set`
    (add or replace), `remove` (`ADDR/MASK [GW] [OUT]`), `flush`, `ctrl`
    (`add|set|remove ROUTE`); `table` prints the current routes in Click's
    format.  Forwarding changes from the next packet on; a bad write fails
    (520) and changes nothing.  `CAPACITY n` (a uknfv extension, default
    1024) reserves room for n routes beyond the configured ones; see
    LinearIPLookup for the design.  No `lookup` handler (the control
    protocol has no read parameters).
    """
