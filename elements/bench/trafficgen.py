import re
import struct
from math import gcd

import dataclasses

from uknfv.argtypes import ArgError, ArgType, Bool, EtherAddr, Int, IPAddr, Keyword, UInt, ip_str
from uknfv.diag import UknfvError
from uknfv.element import Arg, Element, Handler
from uknfv.elements.standard.infinitesource import C_LIMIT_STOP

from .stamp import (FCS_LEN, HEADERS_LEN, MAX_BUFFER, SIMPLE_IMIX, STAMP_LEN, STAMP_MAGIC)

MAX_RATE = 10**9            # packets per second (the pacing needs 1e9 / RATE >= 1 ns)
MAX_IMIX_SIZES = 32
MAX_IMIX_CYCLE = 4096       # sum of the weights, after dividing by their gcd
DEFAULTS = {
    "SRCETH": "02:00:00:00:00:01", "DSTETH": "02:00:00:00:00:02",
    "SRCIP": "198.18.0.1", "DSTIP": "198.19.0.1",
}


class Imix(tuple):
    """The parsed IMIX: (size, weight) pairs; `texts` and `offsets` say where
    each item was written (offset within the argument's text), for errors."""

    texts: tuple = ()
    offsets: tuple = ()


class ImixSpec(ArgType):
    """IMIX: a boolean (true = the simple IMIX 64:7 570:4 1518:1) or a list of
    SIZE:WEIGHT items separated by spaces (or commas, inside quotes); a bare
    SIZE has weight 1.  The value is a tuple of (size, weight), or None."""

    name = "IMIX (true/false or SIZE:WEIGHT list)"

    def parse(self, text):
        stripped = text.strip()
        if stripped.lower() in Bool._map:
            return SIMPLE_IMIX if Bool._map[stripped.lower()] else None
        base = len(text) - len(text.lstrip())
        body = stripped
        if len(body) >= 2 and body[0] == body[-1] and body[0] in "\"'":
            body, base = body[1:-1], base + 1
        items = list(re.finditer(r"[^\s,]+", body))
        if not items:
            raise ArgError("expected true, false or a list of SIZE:WEIGHT (e.g. 64:7 570:4 1518:1)")
        out: dict[int, int] = {}
        where: dict[int, tuple[str, int]] = {}
        for m in items:
            im = re.fullmatch(r"([0-9]+)(?::([0-9]+))?", m.group(0))
            if not im:
                raise ArgError(f"expected SIZE:WEIGHT (e.g. 64:7), got '{m.group(0)}'",
                               base + m.start())
            size, weight = int(im.group(1)), int(im.group(2) or 1)
            if weight < 1:
                raise ArgError(f"weight of size {size} must be at least 1", base + m.start())
            out[size] = out.get(size, 0) + weight
            where.setdefault(size, (m.group(0), base + m.start()))
        value = Imix(out.items())
        value.texts = tuple(where[s][0] for s in out)
        value.offsets = tuple(where[s][1] for s in out)
        return value


def header_template(length: int, src_eth: bytes, dst_eth: bytes, src_ip: int, dst_ip: int,
                    sport: int, dport: int, stamp: bool) -> tuple[bytes, int]:
    """The first bytes of a frame of `length` bytes (without FCS): Ethernet,
    IPv4 (checksum filled in), UDP (checksum 0) and, with `stamp`, the magic
    and a zero sequence number and timestamp.  Also returns the one's
    complement sum of the IPv4 header without its checksum and source
    address (for the per-flow checksum in C)."""
    ip_total = length - 14
    ip = bytearray(struct.pack("!BBHHHBBHII", 0x45, 0, ip_total, 0, 0, 64, 17, 0, src_ip, dst_ip))
    s = sum(struct.unpack("!10H", bytes(ip)))
    ip[10:12] = struct.pack("!H", _fold(s))
    partial = s - (src_ip >> 16) - (src_ip & 0xFFFF)
    udp = struct.pack("!HHHH", sport, dport, ip_total - 20, 0)
    hdr = dst_eth + src_eth + b"\x08\x00" + bytes(ip) + udp
    if stamp:
        hdr += struct.pack("!HQQ", STAMP_MAGIC, 0, 0)
    return hdr, partial


def _fold(s: int) -> int:
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def smooth_pattern(weights: list[int]) -> list[int]:
    """A cycle of sum(weights) indices, each i appearing weights[i] times,
    spread as evenly as possible (smooth weighted round robin)."""
    total = sum(weights)
    cur = [0] * len(weights)
    out = []
    for _ in range(total):
        for i, w in enumerate(weights):
            cur[i] += w
        j = max(range(len(weights)), key=lambda i: (cur[i], -i))
        cur[j] -= total
        out.append(j)
    return out


class TrafficGen(Element):
    name = "TrafficGen"
    ports = "0/1"
    processing = "h"
    stop_source = True
    timed = True
    task = "source"
    args = (
        Arg("SRCETH", EtherAddr(), doc=f"source Ethernet address (default {DEFAULTS['SRCETH']})"),
        Arg("DSTETH", EtherAddr(), doc=f"destination Ethernet address (default {DEFAULTS['DSTETH']})"),
        Arg("SRCIP", IPAddr(), doc=f"source IPv4 address of flow 0 (default {DEFAULTS['SRCIP']}, "
                                   "RFC 2544's benchmarking range 198.18.0.0/15)"),
        Arg("DSTIP", IPAddr(), doc=f"destination IPv4 address (default {DEFAULTS['DSTIP']})"),
        Arg("SPORT", UInt(65535), default=1024, doc="UDP source port of flow 0"),
        Arg("DPORT", UInt(65535), default=1024, doc="UDP destination port"),
        Arg("LENGTH", Int(), default=None,
            doc="frame size in bytes INCLUDING the 4-byte FCS, as RFC 2544 counts it "
                "(default 64): the buffer handed to the NIC is LENGTH - 4 bytes. "
                "At least 64 with STAMP (46 without), at most 2052"),
        Arg("IMIX", ImixSpec(), default=None,
            doc="mix of frame sizes instead of LENGTH: true for the simple IMIX "
                "64:7 570:4 1518:1, or SIZE:WEIGHT items separated by spaces "
                "(IMIX 64:7 570:4 1518:1); sizes include the FCS like LENGTH"),
        Arg("FLOWS", Int(1, 1 << 24), default=1,
            doc="number of flows; packet k belongs to flow k mod FLOWS"),
        Arg("FLOWVARY", Keyword(("SPORT", "SRCIP", "BOTH")), default="SPORT",
            doc="what differs between flows: flow i has UDP source port SPORT+i (SPORT), "
                "source address SRCIP+i (SRCIP), or both"),
        Arg("RATE", UInt(MAX_RATE), default=0,
            doc="packets per second; 0 = as fast as possible (BURST per round)"),
        Arg("LIMIT", Int(), default=-1, doc="total packets to emit; negative means no limit"),
        Arg("ACTIVE", Bool(), default=True, doc="emit at once (else wait for the active handler)"),
        Arg("STOP", Bool(), default=False, doc="end the run once LIMIT packets were emitted"),
        Arg("STAMP", Bool(), default=True,
            doc="write the 18-byte stamp (magic 0x2544, 64-bit sequence number, 64-bit "
                "transmit time) at the start of the UDP payload"),
        Arg("BURST", Int(1, 1024), default=32, doc="at most this many packets per scheduling round"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets emitted (= the next sequence number)"),
        Handler("bytes", "{{E}}_s.bytes",
                doc="bytes emitted, as handed to the NIC (without FCS: add 4 per frame for "
                    "RFC 2544 frame bytes, 24 for bytes on the wire)"),
        Handler("rate", "{{E}}_s.rate", write="{{E}}_w_rate",
                doc="packets per second (0: as fast as possible); a write restarts the pacing"),
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it emits (0/1)"),
        Handler("limit", "{{E}}_limit", kind="fn", write="{{E}}_w_limit",
                doc="total packets to emit (-1: no limit)"),
        Handler("burst", "{{E}}_s.burst", write="{{E}}_w_burst", doc="packets per round (1-1024)"),
        Handler("reset", write="{{E}}_w_reset",
                doc="zero count, bytes and skipped, restart sequence numbers, flows, "
                    "the IMIX cycle and the pacing (reset the sink too: its sequence "
                    "tracking would see the numbers start again)"),
        Handler("skipped", "{{E}}_s.skipped",
                doc="packets dropped from the schedule because the generator ran late "
                    "(more than 1 ms or 2 bursts behind): the offered rate fell short"),
        Handler("length", "{{ v.length_mean }}",
                doc="frame size in bytes including FCS (IMIX: the mean of one cycle, rounded)"),
        Handler("imix", "{{ v.imix_text | c_str }}", kind="str",
                doc="the IMIX as SIZE:WEIGHT items (empty without IMIX)"),
        Handler("flows", "{{ a.FLOWS }}", doc="number of flows"),
    )
    doc = """
    Generates Ethernet/IPv4/UDP test traffic for RFC 2544 benchmarks.

    TrafficGen(KEYWORDS).  Every packet is an Ethernet II frame SRCETH ->
    DSTETH carrying IPv4 (version 4, IHL 5, TOS 0, ID 0, no fragment flags,
    TTL 64, protocol UDP, correct total length and header checksum) and UDP
    (correct length; checksum 0, which IPv4 allows: "no checksum").  All
    headers are computed at build time; per packet only the flow fields,
    the sequence number and the timestamp are patched in, the rest of the
    payload is zero.

    Frame sizes: LENGTH (and every IMIX size) is the Ethernet frame size as
    RFC 2544 counts it, INCLUDING the 4-byte FCS that the NIC appends.  The
    packet handed to the NIC is LENGTH - 4 bytes: LENGTH 64 (the default)
    gives a 60-byte buffer, IPv4 total length 46, UDP length 26 and an
    18-byte UDP payload; LENGTH 1518 gives a 1514-byte buffer.  A pcap file
    written by ToDump shows LENGTH - 4 bytes per frame, and the bytes
    handler counts LENGTH - 4 per frame.  Limits: at least 64 with STAMP
    (46 without: NICs pad frames under 64 bytes), at most 2052 (a 2048-byte
    packet buffer).

    STAMP (default true) writes 18 bytes at the start of the UDP payload,
    big-endian: the 16-bit magic 0x2544, the 64-bit sequence number (0, 1,
    2 ... since start or the last reset; it equals the count handler) and
    the 64-bit transmit time in ns on the process's monotonic clock
    (rt_mono_ns; the clock TrafficSink reads, so a generator and a sink in
    one process measure latency without clock offset).  The clock is read
    once per burst: every packet of a burst carries the burst's time.

    IMIX replaces LENGTH with a mix of sizes: `IMIX true` is the simple IMIX
    64:7 570:4 1518:1 (7 of 64, 4 of 570, 1 of 1518 bytes per 12 frames);
    `IMIX 64:1 1518:1` or `IMIX "64:7, 1518:1"` give others (items separated
    by spaces, or by commas inside quotes, since a bare comma separates
    arguments).  The sizes follow a fixed cycle, interleaved rather than
    grouped (smooth weighted round robin): over any whole number of cycles
    the proportions are exact.

    FLOWS N makes N flows: packet k (sequence number k) belongs to flow
    k mod N, whose UDP source port is SPORT + (k mod N) (FLOWVARY SPORT, the
    default), whose source address is SRCIP + (k mod N) (FLOWVARY SRCIP,
    with the IPv4 checksum updated), or both (FLOWVARY BOTH).  With IMIX,
    flows and sizes cycle independently.

    RATE R paces exactly: packet k after a (re)start is due at t0 + k/R s on
    the monotonic clock (integer ns arithmetic, no drift), and the clock is
    read once per burst, not per packet.  While it is active and paced the
    generator keeps the scheduler busy (it never lets the runtime sleep),
    so packets leave on time at the cost of one busy CPU, like any DPDK
    generator.  If it runs late by more than 1 ms (or 2 bursts' worth,
    whichever is more: the pipeline cannot keep up, or the process was
    descheduled), the packets beyond that are not sent later in one big
    burst but dropped from the schedule and counted in skipped.  RATE 0
    sends BURST packets every round, as fast as the pipeline takes them.

    LIMIT stops it after that many packets (negative: never); with STOP
    true the run ends once the limit is reached.  ACTIVE false makes it
    wait for a write to active.  When the buffer pool is empty it sends
    fewer packets this round (counted in the pool's alloc_failures).

    The push output only (no pull).  Pair it with TrafficSink, which checks
    the stamps: a generator and a sink in one process (dpdk target:
    `gen -> ToDevice(tx)` and `FromDevice(rx) -> sink`) measure throughput,
    loss, reordering and latency through the device under test.

    Example:
      gen :: TrafficGen(SRCETH 02:00:00:00:00:01, DSTETH 02:00:00:00:00:02,
                        LENGTH 64, FLOWS 256, RATE 1000000, LIMIT 10000000, STOP true)
          -> ToDevice(tx);
      FromDevice(rx) -> sink :: TrafficSink;
    """
    c = r"""
#define {{E}}_HLEN {{ v.hlen }}u
#define {{E}}_NSIZES {{ v.nsizes }}u
static const uint8_t {{E}}_tpl[{{ v.nsizes }}][{{ v.hlen }}] = {
{% for t in v.templates %}
	{{ t | c_bytes }},
{% endfor %}
};
static const uint16_t {{E}}_len[{{ v.nsizes }}] = { {{ v.buflens | join(", ") }} };
{% if v.vary_ip %}
/* One's complement sum of each IPv4 header without checksum and source address. */
static const uint32_t {{E}}_ipsum[{{ v.nsizes }}] = { {{ v.ipsums | join(", ") }} };
{% endif %}
{% if v.imix %}
#define {{E}}_CYCLE {{ v.pattern | length }}u
static const uint8_t {{E}}_pattern[{{ v.pattern | length }}] = {{ v.pattern | c_bytes }};
{% endif %}
_Static_assert({{ v.maxlen }}u <= PKT_DATAROOM, "TrafficGen frame larger than a packet buffer");

/* Pacing without division on the packet path: packet k is due at
 * t0 + floor(k * 1e9 / rate) ns, kept as `next` plus a Bresenham error
 * term (next += step, err += rem, carry one ns when err reaches rate). */
static struct {
	uint64_t count;         /* packets emitted = the next sequence number */
	uint64_t bytes;
	uint64_t skipped;
	int64_t limit;
	uint64_t rate;          /* packets per second, 0 = unpaced */
	uint64_t step, rem;     /* 1e9 / rate, 1e9 % rate */
	uint64_t late_ns;       /* how late it may run before skipping */
	uint64_t next, err;     /* when the next packet is due (monotonic ns) */
	uint32_t burst;
	uint32_t flow;          /* flow of the next packet */
	uint32_t pat;           /* position in the IMIX cycle */
	int started, active, ended;
} {{E}}_s = { 0, 0, 0, {{ v.limit }}, 0, 0, 0, 0, 0, 0, {{ a.BURST }}, 0, 0, 0,
	     {{ 1 if a.ACTIVE else 0 }}, 0 };

static inline void {{E}}_wr64(uint8_t *b, uint64_t x)
{
	wr32(b, (uint32_t)(x >> 32));
	wr32(b + 4, (uint32_t)x);
}

""" + C_LIMIT_STOP + r"""
static void {{E}}_set_rate(uint64_t r)
{
	uint64_t cap;
	{{E}}_s.rate = r;
	{{E}}_s.step = r ? 1000000000ull / r : 0;
	{{E}}_s.rem = r ? 1000000000ull % r : 0;
	/* credit: 1 ms, or two bursts' worth if that is longer */
	cap = r ? 2ull * {{E}}_s.burst * {{E}}_s.step : 0;
	{{E}}_s.late_ns = cap > 1000000ull ? cap : 1000000ull;
	{{E}}_s.started = 0;
}

static int {{E}}_w_reset(const char *v)
{
	(void)v;
	{{E}}_s.count = 0;
	{{E}}_s.bytes = 0;
	{{E}}_s.skipped = 0;
	{{E}}_s.flow = 0;
	{{E}}_s.pat = 0;
	{{E}}_s.started = 0;
	return 0;
}

static int {{E}}_w_active(const char *v)
{
	int was = {{E}}_s.active;
	if (rt_parse_bool(v, &{{E}}_s.active))
		return -1;
	if ({{E}}_s.active && !was)
		{{E}}_s.started = 0;    /* restart the pacing: no credit for the pause */
	return 0;
}

static int {{E}}_w_rate(const char *v)
{
	int64_t x;
	if (rt_parse_i64(v, &x) || x < 0 || x > {{ v.max_rate }}ll)
		return -1;
	{{E}}_set_rate((uint64_t)x);
	return 0;
}

static int {{E}}_w_burst(const char *v)
{
	int64_t x;
	if (rt_parse_i64(v, &x) || x < 1 || x > 1024)
		return -1;
	{{E}}_s.burst = (uint32_t)x;
	{{E}}_set_rate({{E}}_s.rate);
	return 0;
}

static int {{E}}_init(void)
{
	{{E}}_set_rate({{ a.RATE }}ull);
	return 0;
}


/* Build packet number {{E}}_s.count (not yet counted) in p. */
static inline void {{E}}_fill(struct pkt *p, uint64_t ts)
{
{% if v.imix %}
	unsigned k = {{E}}_pattern[{{E}}_s.pat];
	if (++{{E}}_s.pat == {{E}}_CYCLE)
		{{E}}_s.pat = 0;
	uint32_t len = {{E}}_len[k];
{% else %}
	const unsigned k = 0;
	const uint32_t len = {{ v.buflens[0] }}u;
{% endif %}
	uint8_t *d = p->data;
	memcpy(d, {{E}}_tpl[k], {{E}}_HLEN);
	memset(d + {{E}}_HLEN, 0, len - {{E}}_HLEN);
	p->len = len;
{% if a.FLOWS > 1 %}
	uint32_t f = {{E}}_s.flow;
	if (++{{E}}_s.flow == {{ a.FLOWS }}u)
		{{E}}_s.flow = 0;
{% if v.vary_port %}
	wr16(d + 34, (uint16_t)({{ a.SPORT }}u + f));
{% endif %}
{% if v.vary_ip %}
	uint32_t ip = {{ v.srcip }}u + f;
	wr32(d + 26, ip);
	wr16(d + 24, cksum_fold({{E}}_ipsum[k] + (ip >> 16) + (ip & 0xffffu)));
{% endif %}
{% endif %}
{% if a.STAMP %}
	{{E}}_wr64(d + {{ v.stamp_off }} + 2, {{E}}_s.count);
	{{E}}_wr64(d + {{ v.stamp_off }} + 10, ts);
{% else %}
	(void)ts;
{% endif %}
	(void)k;
	{{E}}_s.count++;
	{{E}}_s.bytes += len;
}

static unsigned {{E}}_run(void)
{
	if (__builtin_expect(!{{E}}_s.active, 0))
		return 0;
	uint64_t want = {{E}}_s.burst;
	if ({{E}}_s.limit >= 0) {
		if ({{E}}_s.count >= (uint64_t){{E}}_s.limit) {
			{{E}}_end();
			return 0;
		}
		if (want > (uint64_t){{E}}_s.limit - {{E}}_s.count)
			want = (uint64_t){{E}}_s.limit - {{E}}_s.count;
	}
	uint64_t now = rt_mono_ns();    /* once per burst: pacing and the stamps */
	int paced = {{E}}_s.rate != 0;
	if (paced) {
		if (!{{E}}_s.started) {
			{{E}}_s.started = 1;
			{{E}}_s.next = now;     /* the first packet leaves at once */
			{{E}}_s.err = 0;
		}
		if (now < {{E}}_s.next)
			return 1;               /* one is due soon: keep the loop busy */
		if (now - {{E}}_s.next > {{E}}_s.late_ns) {
			/* too late: drop what is beyond the credit from the schedule */
			uint64_t behind = now - {{E}}_s.next - {{E}}_s.late_ns;
			{{E}}_s.skipped += behind / 1000u * {{E}}_s.rate / 1000000u;
			{{E}}_s.next = now - {{E}}_s.late_ns;
			{{E}}_s.err = 0;
		}
	}
	/* Fill a chunk first, then push: like a NIC's RX burst. */
	uint64_t done = 0;
	while (done < want) {
		struct pkt *chunk[32];
		unsigned k = 0, m = want - done < 32 ? (unsigned)(want - done) : 32;
		for (; k < m; k++) {
			if (paced && {{E}}_s.next > now)
				break;
			struct pkt *p = pkt_alloc();
			if (__builtin_expect(!p, 0))
				break;          /* pool empty: still due, next round */
			if (paced) {
				{{E}}_s.next += {{E}}_s.step;
				{{E}}_s.err += {{E}}_s.rem;
				if ({{E}}_s.err >= {{E}}_s.rate) {
					{{E}}_s.err -= {{E}}_s.rate;
					{{E}}_s.next++;
				}
			}
			{{E}}_fill(p, now);
			chunk[k] = p;
		}
		for (unsigned j = 0; j < k; j++)
			{{ out[0] }}(chunk[j]);
		done += k;
		if (k < m)
			break;
	}
	return done ? (unsigned)done : (unsigned)paced;
}
"""
    init = True

    def configure(self, inst):
        a = inst.args
        for kw, text in DEFAULTS.items():
            if a[kw] is None:
                a[kw] = (EtherAddr() if kw.endswith("ETH") else IPAddr()).parse(text)
        stamp = a["STAMP"]
        need = HEADERS_LEN + (STAMP_LEN if stamp else 0)
        min_len, max_len = need + FCS_LEN, MAX_BUFFER + FCS_LEN
        what = ("Ethernet, IPv4 and UDP headers plus the 18-byte stamp" if stamp
                else "Ethernet, IPv4 and UDP headers")

        def item_error(message: str, i: int | None) -> UknfvError:
            """An error at IMIX item i (its own column when it is on the IMIX line)."""
            loc = inst.arg_locs.get("IMIX")
            texts, offs = getattr(imix, "texts", ()), getattr(imix, "offsets", ())
            if loc is not None and i is not None and i < len(offs):
                col = loc.col + offs[i]
                if loc.source_line[col - 1:col - 1 + len(texts[i])] == texts[i]:
                    loc = dataclasses.replace(loc, col=col)
            return UknfvError(f"{inst.name} :: {inst.cls}: {message}", loc or inst.loc)

        def check_size(size: int, kw: str, label: str, i: int | None = None) -> None:
            if size < min_len:
                if kw == "IMIX":
                    raise item_error(f"{label} {size} is too small: {what} need {min_len} bytes "
                                     f"({need} bytes plus the 4-byte FCS; frame sizes include "
                                     f"the FCS)", i)
                raise inst.error(f"{label} {size} is too small: {what} need {min_len} bytes "
                                 f"({need} bytes plus the 4-byte FCS; frame sizes include "
                                 f"the FCS)", kw)
            if size > max_len:
                if kw == "IMIX":
                    raise item_error(f"{label} {size} is too large: at most {max_len} "
                                     f"(a {MAX_BUFFER}-byte packet buffer plus the 4-byte FCS)", i)
                raise inst.error(f"{label} {size} is too large: at most {max_len} "
                                 f"(a {MAX_BUFFER}-byte packet buffer plus the 4-byte FCS)", kw)

        imix = a["IMIX"]
        if imix is not None and a["LENGTH"] is not None:
            raise inst.error("give LENGTH or IMIX, not both", "LENGTH")
        if imix is None:
            length = 64 if a["LENGTH"] is None else a["LENGTH"]
            check_size(length, "LENGTH", "LENGTH")
            sizes, weights = [length], [1]
        else:
            if len(imix) > MAX_IMIX_SIZES:
                raise inst.error(f"IMIX has {len(imix)} sizes (at most {MAX_IMIX_SIZES})", "IMIX")
            for i, (size, _) in enumerate(imix):
                check_size(size, "IMIX", "IMIX size", i)
            sizes = [s for s, _ in imix]
            g = 0
            for _, w in imix:
                g = gcd(g, w)
            weights = [w // g for _, w in imix]
            if sum(weights) > MAX_IMIX_CYCLE:
                raise inst.error(f"IMIX weights add up to {sum(weights)} (after dividing by their "
                                 f"common factor): at most {MAX_IMIX_CYCLE}", "IMIX")
        flows, vary = a["FLOWS"], a["FLOWVARY"]
        vary_port = flows > 1 and vary in ("SPORT", "BOTH")
        vary_ip = flows > 1 and vary in ("SRCIP", "BOTH")
        if vary_port and a["SPORT"] + flows - 1 > 65535:
            raise inst.error(f"FLOWS {flows} from SPORT {a['SPORT']} runs past port 65535", "FLOWS")
        if vary_ip and a["SRCIP"] + flows - 1 > 0xFFFFFFFF:
            raise inst.error(f"FLOWS {flows} from SRCIP {ip_str(a['SRCIP'])} runs past "
                             f"255.255.255.255", "FLOWS")
        limit = a["LIMIT"]
        if limit >= 1 << 63:
            raise inst.error(f"LIMIT {limit} is too large", "LIMIT")

        templates, ipsums = [], []
        for size in sizes:
            t, s = header_template(size - FCS_LEN, a["SRCETH"], a["DSTETH"], a["SRCIP"], a["DSTIP"],
                                   a["SPORT"], a["DPORT"], stamp)
            templates.append(t)
            ipsums.append(f"{s}u")
        v = inst.vars
        v["templates"] = templates
        v["ipsums"] = ipsums
        v["hlen"] = need
        v["nsizes"] = len(sizes)
        v["buflens"] = [s - FCS_LEN for s in sizes]
        v["maxlen"] = max(sizes) - FCS_LEN
        v["imix"] = imix is not None
        v["pattern"] = bytes(smooth_pattern(weights)) if imix is not None else b""
        v["imix_text"] = " ".join(f"{s}:{w}" for s, w in imix) if imix is not None else ""
        total = sum(weights)
        v["length_mean"] = (sum(s * w for s, w in zip(sizes, weights)) + total // 2) // total
        v["vary_port"] = vary_port
        v["vary_ip"] = vary_ip
        v["srcip"] = a["SRCIP"]
        v["stamp_off"] = HEADERS_LEN
        v["limit"] = f"{limit if limit >= 0 else -1}ll"
        v["max_rate"] = MAX_RATE
