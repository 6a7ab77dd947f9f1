import re

from uknfv.argtypes import String
from uknfv.codegen import routes as rt
from uknfv.element import Arg, Element, Handler

DEFAULT_CAPACITY = 1024
_CAPACITY = re.compile(r"\s*CAPACITY(?:\s+(\S*))?\s*\Z")


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
    # Click's IPRouteTable handlers that change the table (StaticIPLookup
    # has none of them, as in Click).
    mutable = True
    libs = ("iproute",)
    headers = ("uknfv/iproute.h",)
    init = True
    handlers = (
        Handler("table", "{{E}}_hr_table", kind="fn",
                doc="the routes, one per line: ADDR/MASK, gateway or '-', output"),
        Handler("drops", "{{E}}_s.drops", doc="packets with no matching route (dropped)"),
        Handler("add", write="{{E}}_hw_add",
                doc="add a route 'ADDR/MASK [GW] OUT'; error if the prefix has one"),
        Handler("set", write="{{E}}_hw_set",
                doc="add or replace the route 'ADDR/MASK [GW] OUT'"),
        Handler("remove", write="{{E}}_hw_remove",
                doc="remove the route 'ADDR/MASK [GW] [OUT]' (GW/OUT must match if given)"),
        Handler("flush", write="{{E}}_hw_flush", doc="remove every route"),
        Handler("ctrl", write="{{E}}_hw_ctrl",
                doc="'add ROUTE', 'set ROUTE' or 'remove ROUTE'"),
        Handler("generation", "{{E}}_rt.generation",
                doc="number of successful table changes since start"),
    )
    static_handlers = (
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
    LinearIPLookup scans a list.

    Handlers, as in Click's IPRouteTable: `table` (read) prints the current
    routes in Click's format; `add` (write `ADDR/MASK [GW] OUT`, an error if
    the prefix already has a route), `set` (add or replace), `remove`
    (`ADDR/MASK [GW] [OUT]`; a GW or OUT given must match), `flush` (remove
    all) and `ctrl` (`add ROUTE`, `set ROUTE`, `remove ROUTE`) change the
    table; forwarding follows from the next packet on, on every target.  A
    bad write (syntax, OUT >= the number of outputs, table full, a route
    that is not there) fails (ControlSocket 520), is logged, and changes
    nothing.  The compiled trie stays the packet path until the first
    change; from then on a trie rebuilt in C on each write is (see
    uknfv/libs/iproute).  Room for `CAPACITY n` routes (an extra argument,
    a uknfv extension; default 1024) beyond the configured ones is reserved
    at build time: about 680 KiB of static memory for the default.  A
    changed table lists routes in change order (new routes last).  `lookup`
    (a read handler with a parameter) is not provided: the control protocol
    has no read parameters.  `generation` counts successful changes.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;
/* first misses reported, shared by all {{ v.cls }} elements as in Click */
static unsigned {{ v.complained }};

static const char {{E}}_table_text[] = {{ v.table_text | c_str }};

{{ v.code }}
{% if v.mutable %}
/* The run-time table (uknfv/libs/iproute): used from the first change on. */
#define {{E}}_CAP {{ v.capacity }}u
static struct iproute {{E}}_routes[{{E}}_CAP];
static uint32_t {{E}}_ent[2][IPROUTE_ENTRIES({{E}}_CAP)];
static struct iproute_nh {{E}}_nh[2][{{E}}_CAP + 1];
static struct iproute_table {{E}}_rt = {
	.name = {{ (name ~ " :: " ~ v.cls) | c_str }},
	.r = {{E}}_routes, .cap = {{E}}_CAP, .noutputs = {{ nout }},
	.buf = { { {{E}}_ent[0], {{E}}_nh[0], IPROUTE_NODES({{E}}_CAP) },
		 { {{E}}_ent[1], {{E}}_nh[1], IPROUTE_NODES({{E}}_CAP) } },
};

static int {{E}}_init(void)
{
	_Static_assert(sizeof(struct iproute) == sizeof({{E}}_lookup_table[0]), "route layout");
	iproute_init(&{{E}}_rt, (const struct iproute *){{E}}_lookup_table, {{E}}_lookup_nroutes);
	return 0;
}

static int {{E}}_hr_table(char *buf, size_t n)
{
	if (!{{E}}_rt.cur)
		return snprintf(buf, n, "%s", {{E}}_table_text);
	return iproute_format(&{{E}}_rt, buf, n);
}
static int {{E}}_hw_add(const char *v) { return iproute_add(&{{E}}_rt, v); }
static int {{E}}_hw_set(const char *v) { return iproute_set(&{{E}}_rt, v); }
static int {{E}}_hw_remove(const char *v) { return iproute_remove(&{{E}}_rt, v); }
static int {{E}}_hw_flush(const char *v) { return iproute_flush(&{{E}}_rt, v); }
static int {{E}}_hw_ctrl(const char *v) { return iproute_ctrl(&{{E}}_rt, v); }
{% endif %}
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
{% if v.mutable %}
	const struct iproute_trie *t = {{E}}_rt.cur;
	int port = __builtin_expect(t == NULL, 1) ? {{E}}_lookup(dst, &gw) : iproute_lookup(t, dst, &gw);
{% else %}
	int port = {{E}}_lookup(dst, &gw);
{% endif %}
	if (gw)
		wr32(p->anno + PKT_ANNO_DST_IP, gw);
	switch (port) {
{% for j in (range(nout) if v.mutable else v.ports) %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default:
		{{E}}_noroute(p, dst);
	}
}
"""

    def handlers_for(self, inst):
        return self.handlers if self.mutable else self.static_handlers

    def configure(self, inst):
        args = inst.args["rest"]
        capacity = DEFAULT_CAPACITY
        if self.mutable:
            kept = []
            for i, (text, loc) in enumerate(args):
                m = _CAPACITY.match(text)
                if not m:
                    kept.append((text, loc))
                    continue
                val = m.group(1) or ""
                if not val.isdigit() or int(val) > 1 << 20:
                    raise inst.error(f"CAPACITY: expected a number of routes 0..{1 << 20}, "
                                     f"got '{val}'", f"ROUTE{i}")
                capacity = int(val)
            args = kept
        routes = rt.parse_routes(args)
        inst.vars["routes"] = routes
        inst.vars["code"] = rt.emit_c(routes, f"{inst.cid}_lookup")
        inst.vars["table_text"] = route_table_text(routes)
        inst.vars["ports"] = sorted({r.port for r in routes})
        inst.vars["complaint"] = self.complaint
        inst.vars["complained"] = self.complained_var
        inst.vars["cls"] = self.name
        inst.vars["mutable"] = self.mutable
        ninstalled = len(routes) - len(rt.duplicate_routes(routes))
        inst.vars["capacity"] = max(1, ninstalled + capacity)

    def port_counts(self, inst, nin, nout):
        need = rt.noutputs(inst.vars["routes"])
        if need > nout:
            bad = next(r for r in inst.vars["routes"] if r.port >= nout)
            from uknfv.diag import UknfvError
            raise UknfvError(f"{inst.name} :: {inst.cls}: route '{bad.unparse()}' uses output "
                             f"{bad.port}, but only {nout} output{'s are' if nout != 1 else ' is'} "
                             f"connected", bad.loc or inst.loc)
        return nin, nout
