from uknfv.argtypes import ArgError, ArgType, Bool, IPAddr, Seconds, UInt, parse_ip
from uknfv.element import Arg, Element, Handler

from .etherencap import ClickEther

NS = 1_000_000_000


class _IPMaybePrefix(ArgType):
    """ADDR or ADDR/LEN (the prefix gives the default broadcast address)."""

    name = "IP address"

    def parse(self, text):
        t = text.strip()
        addr, slash, n = t.partition("/")
        try:
            a = parse_ip(addr)
        except ArgError:
            raise ArgError(f"expected IP address or ADDR/LEN, got '{t}'") from None
        if not slash:
            return a, None
        if not n.isdigit() or int(n) > 32:
            raise ArgError(f"bad prefix length in '{t}' (0-32)")
        mask = (0xFFFFFFFF << (32 - int(n))) & 0xFFFFFFFF
        return a, (a & mask) | (~mask & 0xFFFFFFFF)


class ARPQuerier(Element):
    name = "ARPQuerier"
    ports = "2/1-2"
    processing = "h/h"
    args = (
        Arg("IP", _IPMaybePrefix(), positional=True, required=True,
            doc="this interface's IP address (ADDR or ADDR/LEN), the ARP queries' sender"),
        Arg("ETH", ClickEther(), positional=True, required=True,
            doc="this interface's Ethernet address"),
        Arg("CAPACITY", UInt(1 << 20), default=2048,
            doc="packets waiting for resolution, in total (the LIMIT of Click's ARPTable)"),
        Arg("ENTRY_CAPACITY", UInt(1 << 20), default=1024,
            doc="entries in the table (fixed at build time; 0 means the default 1024)"),
        Arg("TIMEOUT", Seconds(), default=300 * NS,
            doc="an entry is used for this long after the reply that made it (default 5 minutes)"),
        Arg("POLL_TIMEOUT", Seconds(), default=1 * NS,
            doc="minimum interval between two queries for the same address (default 1 s)"),
        Arg("BROADCAST", IPAddr(),
            doc="IP broadcast address (default: from IP/LEN, and always 255.255.255.255)"),
        Arg("BROADCAST_POLL", Bool(), default=False, doc="accepted for compatibility (queries are always broadcast)"),
    )
    handlers = (
        Handler("table", "{{E}}_h_table", kind="fn",
                doc="one line per entry: 'ADDR ETH' when resolved (ETH as "
                    "xx-xx-xx-xx-xx-xx), 'ADDR - N' while N packets wait for a reply"),
        Handler("count", "{{E}}_s.nentries", doc="entries in the table (resolved or pending)"),
        Handler("length", "{{E}}_s.queued", doc="packets waiting for resolution now"),
        Handler("drops", "{{E}}_s.drops",
                doc="packets dropped: queue full (CAPACITY), table full, no headroom, "
                    "bad ARP on input 1, cleared while waiting, no dst annotation"),
        Handler("arp_queries", "{{E}}_s.queries", doc="ARP queries sent"),
        Handler("arp_responses", "{{E}}_s.responses", doc="ARP replies received and used"),
        Handler("broadcasts", "{{E}}_s.broadcasts",
                doc="IP packets sent to the Ethernet broadcast address"),
        Handler("insert", write="{{E}}_w_insert",
                doc="write 'IP ETH': add or replace a resolved entry (queued packets leave)"),
        Handler("clear", write="{{E}}_w_clear",
                doc="remove every entry (waiting packets are dropped and counted)"),
    )
    doc = """
    Encapsulates IP packets in Ethernet headers found with ARP.

    ARPQuerier(IP, ETH [, KEYWORDS]).  Input 0 takes IP packets (data at
    the IP header) with the destination IP annotation set (the next hop,
    from a routing element); input 1 takes ARP replies (Ethernet frames).
    Each IP packet gets a 14-byte Ethernet header (source ETH, type
    0x0800) and leaves on output 0: its destination is the Ethernet
    address the table holds for the annotation; for 255.255.255.255 or the
    BROADCAST address ff:ff:ff:ff:ff:ff (counted in `broadcasts`); for a
    multicast address 01:00:5e and its low 23 bits, as in Click.

    When the table has no valid entry for the address, the packet waits
    (up to CAPACITY packets in total; default 2048) and an ARP query goes
    out: a 42-byte Ethernet broadcast frame (type 0x0806, request, sender
    ETH and IP, target hardware address zero, target the annotation), on
    output 1 if there are two outputs, else on output 0, as in Click.
    Further packets to the same address wait too and resend the query when
    the last one is at least POLL_TIMEOUT old (default 1 s; that is the
    retry).  An ARP reply on input 1 (at least 42 bytes, hardware type 1,
    protocol 0x0800, lengths 6/4, operation 2) records the sender's
    addresses and releases the packets waiting for it, in arrival order;
    the reply itself is consumed.  An entry is valid for TIMEOUT (default
    5 minutes) after its reply, then the address is queried again.  Time
    is the packet's timestamp annotation when it has one (FromDump sets it
    from the capture), else the wall clock.

    Handlers: `table`, `count`, `length`, `drops`, `arp_queries`,
    `arp_responses`, `broadcasts`, `insert` (write `IP ETH`), `clear`.

    Differences from Click: the table holds ENTRY_CAPACITY entries fixed at
    build time (default 1024; Click's default is unlimited), a packet that
    finds the waiting queue full (or the table full of pending entries) is
    dropped rather than the oldest one, entries are not polled with
    unicast queries before they expire, and there is no TABLE (shared
    ARPTable) keyword.
    """
    c = r"""
#define {{E}}_NENT {{ v.nent }}u
struct {{E}}_ent {
	uint32_t ip;            /* host order; 0 = free slot */
	uint8_t eth[6], ok;
	uint64_t t_reply, t_query;
	struct pkt *qh, *qt;
	uint32_t nq;
};
static struct {
	struct {{E}}_ent e[{{E}}_NENT];
	uint32_t nentries, queued;
	uint64_t drops, queries, responses, broadcasts, now;
} {{E}}_s;
static const uint8_t {{E}}_eth[6] = {{ a.ETH | c_bytes }};

static inline void {{E}}_drop(struct pkt *p)
{
	{{E}}_s.drops++;
	pkt_kill(p);
}

/* The entry for ip (open addressing), creating it when create; NULL if full. */
static struct {{E}}_ent *{{E}}_get(uint32_t ip, int create)
{
	uint32_t h = (ip * 0x9E3779B1u) >> 8;
	for (uint32_t i = 0; i < {{E}}_NENT; i++) {
		struct {{E}}_ent *e = &{{E}}_s.e[(h + i) % {{E}}_NENT];
		if (e->ip == ip)
			return e;
		if (!e->ip) {
			if (!create)
				return NULL;
			memset(e, 0, sizeof *e);
			e->ip = ip;
			{{E}}_s.nentries++;
			return e;
		}
	}
	return NULL;
}

static inline void {{E}}_out_query(struct pkt *q)
{
{% if nout > 1 %}
	{{ out[1] }}(q);
{% else %}
	{{ out[0] }}(q);
{% endif %}
}

static void {{E}}_query(struct {{E}}_ent *e)
{
	struct pkt *q = pkt_alloc();
	if (!q)
		return;
	uint8_t *d = q->data;
	if (q->cap - pkt_headroom(q) < 42) {
		pkt_kill(q);
		return;
	}
	q->len = 42;
	memset(d, 0xFF, 6);
	memcpy(d + 6, {{E}}_eth, 6);
	wr16(d + 12, 0x0806);
	wr16(d + 14, 1);
	wr16(d + 16, 0x0800);
	d[18] = 6;
	d[19] = 4;
	wr16(d + 20, 1);
	memcpy(d + 22, {{E}}_eth, 6);
	wr32(d + 28, {{ v.ip | c_u32 }});
	memset(d + 32, 0, 6);
	wr32(d + 38, e->ip);
	q->mac = d;
	q->nh = q->th = NULL;
	q->ts_ns = {{E}}_s.now;
	e->t_query = {{E}}_s.now;
	{{E}}_s.queries++;
	{{E}}_out_query(q);
}

/* Prepend the Ethernet header and send on output 0. */
static inline void {{E}}_send(struct pkt *p, const uint8_t *dst)
{
	uint8_t *h = pkt_push(p, 14);
	if (!h) {
		{{E}}_drop(p);
		return;
	}
	memcpy(h, dst, 6);
	memcpy(h + 6, {{E}}_eth, 6);
	wr16(h + 12, 0x0800);
	p->mac = h;
	{{ out[0] }}(p);
}

static inline int {{E}}_valid(const struct {{E}}_ent *e)
{
	return e->ok && {{E}}_s.now - e->t_reply <= {{ v.timeout }}ull;
}

static void {{E}}_release(struct {{E}}_ent *e)
{
	struct pkt *p = e->qh;
	e->qh = e->qt = NULL;
	{{E}}_s.queued -= e->nq;
	e->nq = 0;
	while (p) {
		struct pkt *n = p->next;
		p->next = NULL;
		{{E}}_send(p, e->eth);
		p = n;
	}
}

static inline void {{E}}_tick(struct pkt *p)
{
	uint64_t now = p->ts_ns ? p->ts_ns : rt_now_ns();
	if (now > {{E}}_s.now)
		{{E}}_s.now = now;
}

static inline void {{E}}_push0(struct pkt *p)
{
	static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	{{E}}_tick(p);
	uint8_t a[4];
	memcpy(a, p->anno + PKT_ANNO_DST_IP, 4);
	uint32_t dst = rd32(a);
	if (dst == 0xFFFFFFFFu{% if v.bcast is not none %} || dst == {{ v.bcast | c_u32 }}{% endif %}) {
		{{E}}_s.broadcasts++;
		{{E}}_send(p, bcast);
		return;
	}
	if ((dst >> 28) == 0xE) {
		uint8_t m[6] = { 0x01, 0x00, 0x5E, (uint8_t)((dst >> 16) & 0x7F), (uint8_t)(dst >> 8), (uint8_t)dst };
		{{E}}_send(p, m);
		return;
	}
	if (!dst) {
		{{E}}_drop(p);
		return;
	}
	struct {{E}}_ent *e = {{E}}_get(dst, 1);
	if (!e) {
		{{E}}_drop(p);
		return;
	}
	if ({{E}}_valid(e)) {
		{{E}}_send(p, e->eth);
		return;
	}
	if ({{E}}_s.queued >= {{ a.CAPACITY }}u) {
		{{E}}_drop(p);
	} else {
		p->next = NULL;
		if (e->qt)
			e->qt->next = p;
		else
			e->qh = p;
		e->qt = p;
		e->nq++;
		{{E}}_s.queued++;
	}
	if (!e->t_query || {{E}}_s.now - e->t_query >= {{ v.poll }}ull)
		{{E}}_query(e);
}

static void {{E}}_learn(uint32_t ip, const uint8_t *eth)
{
	struct {{E}}_ent *e = {{E}}_get(ip, 1);
	if (!e)
		return;
	memcpy(e->eth, eth, 6);
	e->ok = 1;
	e->t_reply = {{E}}_s.now;
	{{E}}_release(e);
}

static inline void {{E}}_push1(struct pkt *p)
{
	{{E}}_tick(p);
	const uint8_t *d = p->data;
	if (p->len < 42 || rd16(d + 12) != 0x0806 || rd16(d + 14) != 1 || rd16(d + 16) != 0x0800
	    || d[18] != 6 || d[19] != 4 || rd16(d + 20) != 2 || !rd32(d + 28)) {
		{{E}}_drop(p);
		return;
	}
	{{E}}_s.responses++;
	uint8_t sha[6];
	memcpy(sha, d + 22, 6);
	uint32_t spa = rd32(d + 28);
	pkt_kill(p);
	{{E}}_learn(spa, sha);
}

static int {{E}}_h_table(char *buf, size_t n)
{
	size_t o = 0;
	if (n)
		buf[0] = 0;
	for (uint32_t i = 0; i < {{E}}_NENT; i++) {
		const struct {{E}}_ent *e = &{{E}}_s.e[i];
		if (!e->ip)
			continue;
		char ip[16];
		snprintf(ip, sizeof ip, "%u.%u.%u.%u", e->ip >> 24, (e->ip >> 16) & 255, (e->ip >> 8) & 255, e->ip & 255);
		int w;
		if ({{E}}_valid(e))
			w = snprintf(buf + o, o < n ? n - o : 0, "%s %02X-%02X-%02X-%02X-%02X-%02X\n", ip,
				     e->eth[0], e->eth[1], e->eth[2], e->eth[3], e->eth[4], e->eth[5]);
		else
			w = snprintf(buf + o, o < n ? n - o : 0, "%s - %u\n", ip, e->nq);
		if (w < 0 || (size_t)w >= (o < n ? n - o : 0)) {
			if (n)
				buf[o < n ? o : n - 1] = 0;
			return (int)o;
		}
		o += (size_t)w;
	}
	return (int)o;
}

static int {{E}}_hexv(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int {{E}}_w_insert(const char *v)
{
	unsigned b[4];
	int k = 0;
	const char *s = v;
	while (*s == ' ' || *s == '\t')
		s++;
	for (int i = 0; i < 4; i++) {
		unsigned x = 0;
		int nd = 0;
		while (*s >= '0' && *s <= '9' && nd < 4) {
			x = x * 10 + (unsigned)(*s++ - '0');
			nd++;
		}
		if (!nd || x > 255 || (i < 3 && *s++ != '.'))
			return -1;
		b[i] = x;
	}
	uint8_t eth[6];
	while (*s == ' ' || *s == '\t')
		s++;
	for (k = 0; k < 6; k++) {
		int h = {{E}}_hexv(s[0]), l = {{E}}_hexv(s[1]);
		if (h < 0 || l < 0)
			return -1;
		eth[k] = (uint8_t)(h << 4 | l);
		s += 2;
		if (k < 5 && *s != ':' && *s != '-')
			return -1;
		if (k < 5)
			s++;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s)
		return -1;
	uint32_t ip = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	if (!ip)
		return -1;
	if (!{{E}}_s.now)
		{{E}}_s.now = rt_now_ns();
	{{E}}_learn(ip, eth);
	return 0;
}

static int {{E}}_w_clear(const char *v)
{
	(void)v;
	for (uint32_t i = 0; i < {{E}}_NENT; i++) {
		struct pkt *p = {{E}}_s.e[i].qh;
		while (p) {
			struct pkt *n = p->next;
			{{E}}_drop(p);
			p = n;
		}
	}
	memset({{E}}_s.e, 0, sizeof {{E}}_s.e);
	{{E}}_s.nentries = 0;
	{{E}}_s.queued = 0;
	return 0;
}
"""

    def configure(self, inst):
        a = inst.args
        ip, bcast = a["IP"]
        if ip == 0:
            raise inst.error("IP must not be 0.0.0.0", "IP")
        if a["BROADCAST"] is not None:
            bcast = a["BROADCAST"]
        inst.vars["ip"] = ip
        inst.vars["bcast"] = bcast
        n = a["ENTRY_CAPACITY"] or 1024
        inst.vars["nent"] = n
        inst.vars["timeout"] = a["TIMEOUT"]
        inst.vars["poll"] = a["POLL_TIMEOUT"]
