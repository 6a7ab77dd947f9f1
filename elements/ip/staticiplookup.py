from uknfv.elements.ip.lineariplookup import LinearIPLookup


class StaticIPLookup(LinearIPLookup):
    name = "StaticIPLookup"
    complaint = "StaticIPLookup: no route for %s"
    complained_var = "uknfv_staticiplookup_complained"
    # Click's StaticIPLookup is LinearIPLookup without the handlers that
    # change the table: no run-time table, no memory reserved for one.
    mutable = False
    libs = ()
    headers = ()
    init = False
    handlers = LinearIPLookup.static_handlers
    doc = """
    Looks up the next hop of IP packets in a static routing table.

    StaticIPLookup(ROUTE1, ROUTE2, ...).  Each argument is a route
    `ADDR/MASK [GATEWAY] OUTPUT` (mask as a prefix length or dotted quad;
    a bare address is a /32; GATEWAY an address or '-'), as in Click.  The
    key is the packet's destination IP address annotation (set by
    CheckIPHeader, GetIPAddress or SetIPAddress), not the IP header.  The
    longest matching prefix wins; the packet leaves on that route's OUTPUT
    and, if the route has a non-zero gateway, its destination annotation is
    set to the gateway.  A packet with no matching route is dropped and
    counted in `drops`; the first five per program are reported on stderr
    (`StaticIPLookup: no route for ADDR`).  When a prefix is given twice
    the first route is kept, as in Click.

    In Click, StaticIPLookup is LinearIPLookup without the handlers that
    change the table, and so it is here: the table is compiled at build
    time into a multibit trie (the same code as LinearIPLookup and
    RadixIPLookup) and cannot change at run time (no add/set/remove/flush/
    ctrl handlers, and no memory reserved for a run-time table); `table`
    prints the routes in Click's format.
    """
