from uknfv.argtypes import String
from uknfv.codegen import routes as rt
from uknfv.element import Arg, Element, Handler


class _Raw(String):
    name = "route"

    def parse(self, text):
        return text


def _mask_text(mask: int) -> str:
    n = 32 - (~mask & 0xFFFFFFFF).bit_length()
    if ((0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF if n else 0) == mask:
        return str(n)
    return rt.format_ip(mask)


def route_table_text(routes) -> str:
    """Click's `table` handler text: IPRoute::unparse(sa, true) per route.

    Only the routes the table holds: the first route for each prefix, in
    configuration order.  Columns are padded with tabs as Click does.
    """
    seen = set()
    lines = []
    for r in routes:
        key = (r.addr & r.mask, r.mask)
        if key in seen:
            continue
        seen.add(key)
        s = f"{rt.format_ip(r.addr & r.mask)}/{_mask_text(r.mask)}\t"
        if len(s) < 17:
            s += "\t"
        g = (rt.format_ip(r.gw) if r.gw else "-") + "\t"
        if len(g) < 9:
            g += "\t"
        lines.append(s + g + str(r.port) + "\n")
    return "".join(lines)


class LinearIPLookup(Element):
    name = "LinearIPLookup"
    ports = "1/-"
    processing = "h/h"
    rest = Arg("ROUTE", _Raw(), doc="a route: ADDR/MASK [GATEWAY] OUTPUT")
    complaint = "LinearIPLookup: no route for %s"
    complained_var = "uknfv_lineariplookup_complained"
    handlers = (
        Handler("table", "{{E}}_table_text", kind="str",
                doc="the routes, one per line: ADDR/MASK, gateway or '-', output"),
        Handler("drops", "{{E}}_s.drops", doc="packets with no matching route (dropped)"),
    )
    doc = """
    Looks up the next hop of IP packets in a static routing table.

    LinearIPLookup(ROUTE1, ROUTE2, ...).  Each argument is a route
    `ADDR/MASK [GATEWAY] OUTPUT` (mask as a prefix length or dotted quad;
    a bare address is a /32; GATEWAY an address or '-'), as in Click.  The
    key is the packet's destination IP address annotation (set by
    CheckIPHeader, GetIPAddress or SetIPAddress), not the IP header.  The
    longest matching prefix wins; the packet leaves on that route's OUTPUT
    and, if the route has a non-zero gateway, its destination annotation is
    set to the gateway (as ARPQuerier expects).  A packet with no matching
    route is dropped and counted in `drops`; the first five per program are
    reported on stderr (`LinearIPLookup: no route for ADDR`).  When a
    prefix is given twice the first route is kept, as in Click.

    The table is compiled at build time into a multibit trie (see
    uknfv/codegen/routes.py): a plain 8-8-8-8 array trie when it fits in
    16 KiB, a bitmap-compressed one for larger tables, so a lookup is a
    few loads whether there are 3 routes or 100000; Click's
    LinearIPLookup scans a list.  The routes
    cannot change at run time (no add/remove/set/ctrl/lookup handlers);
    `table` prints them in Click's format.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;
/* first misses reported, shared by all {{ v.cls }} elements as in Click */
static unsigned {{ v.complained }};

static const char {{E}}_table_text[] = {{ v.table_text | c_str }};

{{ v.code }}
static void {{E}}_noroute(struct pkt *p, uint32_t dst)
{
	{{E}}_s.drops++;
	if (++{{ v.complained }} <= 5) {
		char a[16];
		snprintf(a, sizeof a, "%u.%u.%u.%u", dst >> 24, (dst >> 16) & 255, (dst >> 8) & 255, dst & 255);
		rt_log({{ v.complaint | c_str }}, a);
	}
	pkt_kill(p);
}

static inline void {{E}}_push0(struct pkt *p)
{
	uint32_t gw, dst = rd32(p->anno + PKT_ANNO_DST_IP);
	int port = {{E}}_lookup(dst, &gw);
	if (gw)
		wr32(p->anno + PKT_ANNO_DST_IP, gw);
	switch (port) {
{% for j in v.ports %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default:
		{{E}}_noroute(p, dst);
	}
}
"""

    def configure(self, inst):
        routes = rt.parse_routes(inst.args["rest"])
        inst.vars["routes"] = routes
        inst.vars["code"] = rt.emit_c(routes, f"{inst.cid}_lookup")
        inst.vars["table_text"] = route_table_text(routes)
        inst.vars["ports"] = sorted({r.port for r in routes})
        inst.vars["complaint"] = self.complaint
        inst.vars["complained"] = self.complained_var
        inst.vars["cls"] = self.name

    def port_counts(self, inst, nin, nout):
        need = rt.noutputs(inst.vars["routes"])
        if need > nout:
            bad = next(r for r in inst.vars["routes"] if r.port >= nout)
            from uknfv.diag import UknfvError
            raise UknfvError(f"{inst.name} :: {inst.cls}: route '{bad.unparse()}' uses output "
                             f"{bad.port}, but only {nout} output{'s are' if nout != 1 else ' is'} "
                             f"connected", bad.loc or inst.loc)
        return nin, nout
