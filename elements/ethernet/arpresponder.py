import re

from uknfv.argtypes import ArgError, ArgType, ip_str
from uknfv.element import Arg, Element, Handler
from uknfv.lang.args import split_words_at

from .etherencap import ClickEther


def _ip_bytes(s):
    """Click's IPAddressArg::basic_parse: up to 4 dot-separated decimal bytes.

    Returns (value, number of bytes, characters used); missing bytes are 0.
    """
    vals, pos, d = [0, 0, 0, 0], 0, 0
    while d < 4:
        m = re.match(r"[0-9]+", s[pos + (1 if d else 0):]) if (d == 0 or s[pos:pos + 1] == ".") else None
        if not m or not m.group().isascii():
            break
        # Click stops accumulating digits once the byte exceeds 255
        digits = m.group()
        part = int(digits[0])
        k = 1
        while k < len(digits) and part <= 255:
            part = part * 10 + int(digits[k])
            k += 1
        if part > 255:
            break
        pos += (1 if d else 0) + k
        vals[d] = part
        d += 1
    return vals[0] << 24 | vals[1] << 16 | vals[2] << 8 | vals[3], d, pos


def _full_ip(s):
    v, n, used = _ip_bytes(s)
    return v if n == 4 and used == len(s) else None


def _prefix_mask(n):
    return (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF if n else 0


def _click_prefix(word):
    """Click's IPPrefixArg(allow bare address): ADDR/LEN, ADDR/MASK or ADDR.

    With a slash the address may be partial ("10/8", "0/0") as long as the
    mask covers no bytes it leaves out.  Returns (addr, mask) or None.
    """
    slash = word.rfind("/")
    if 0 < slash < len(word) - 1:
        addr, nbytes, used = _ip_bytes(word[:slash])
        m = word[slash + 1:]
        mask = None
        if used == slash:
            if re.fullmatch(r"[+-]?[0-9](?:_?[0-9])*", m) and 0 <= int(m.replace("_", "")) <= 32:
                mask = _prefix_mask(int(m.replace("_", "")))
            else:
                mask = _full_ip(m)
        if mask is not None and (nbytes == 4 or mask & _prefix_mask(nbytes * 8) == mask):
            return addr, mask
    addr = _full_ip(word)
    return None if addr is None else (addr, 0xFFFFFFFF)


class _Entry(ArgType):
    """One ARPResponder argument: `IP/MASK [IP/MASK...] ETH` (any order)."""

    name = "ARP entry"

    def parse(self, text):
        prefixes, eth = [], None
        for w in split_words_at(text):
            pfx = _click_prefix(w.text)
            if pfx is not None:
                prefixes.append(pfx)
                continue
            try:
                e = ClickEther().parse(w.text)
            except ArgError:
                raise ArgError(f"expected IP/MASK ETH, got '{w.text}'", w.offset) from None
            if eth is not None:
                raise ArgError("more than one ETH", w.offset)
            eth = e
        if not prefixes:
            raise ArgError("missing IP/MASK")
        if eth is None:
            raise ArgError("missing ETH")
        return prefixes, eth


def _mask_len(mask):
    for n in range(33):
        if mask == ((0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF if n else 0):
            return n
    return -1


def _unparse(dst, mask):
    n = _mask_len(mask)
    return f"{ip_str(dst)}/{n if n >= 0 else ip_str(mask)}"


def _click_order(entries):
    """The order Click's ARPResponder tries its entries in.

    Click sorts the entry indices with its own quicksort (Bentley and
    McIlroy's three-way partitioning, insertion sort below 7 items) and a
    comparison that puts an entry contained in another first, the later of
    two equal prefixes first, and unrelated entries in configuration order;
    then it keeps the first of each run of equal prefixes.  The comparison
    is not a total order (with an unrelated entry in between, a wider
    prefix can stay ahead of a narrower one it contains), so the resulting
    order depends on the sort's exact steps, which this function follows.
    """
    def cmp(a, b):
        (da, ma, _), (db, mb, _) = entries[a], entries[b]
        if da == db and ma == mb:
            return b - a
        if da & mb == db:
            return -1
        if db & ma == da:
            return 1
        return a - b

    v = list(range(len(entries)))

    def med3(i, j, k):
        ab, bc = cmp(v[i], v[j]), cmp(v[j], v[k])
        if ab < 0:
            return j if bc < 0 else (k if cmp(v[i], v[k]) < 0 else i)
        return j if bc > 0 else (k if cmp(v[i], v[k]) > 0 else i)

    def swap(i, j):
        v[i], v[j] = v[j], v[i]

    stack = [(0, len(v))]
    while stack:
        lo, hi = stack.pop()
        n = hi - lo
        if n < 7:
            for i in range(lo + 1, hi):
                j = i
                while j > lo and cmp(v[j - 1], v[j]) > 0:
                    swap(j, j - 1)
                    j -= 1
            continue
        pm = lo + n // 2
        if n > 7:
            p1, p2 = lo, lo + n - 1
            if n > 40:
                d = n // 8
                p1 = med3(p1, p1 + d, p1 + 2 * d)
                pm = med3(pm - d, pm, pm + d)
                p2 = med3(p2 - 2 * d, p2 - d, p2)
            pm = med3(p1, pm, p2)
        swap(lo, pm)
        pivot = v[lo]
        pa = pb = lo + 1
        pc = pd = lo + n - 1
        while True:
            while pb <= pc:
                r = cmp(v[pb], pivot)
                if r > 0:
                    break
                if r == 0:
                    swap(pa, pb)
                    pa += 1
                pb += 1
            while pc >= pb:
                r = cmp(v[pc], pivot)
                if r < 0:
                    break
                if r == 0:
                    swap(pc, pd)
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            swap(pb, pc)
            pb += 1
            pc -= 1
        pn = lo + n
        s = min(pa - lo, pb - pa)
        for k in range(s):
            swap(lo + k, pb - s + k)
        s = min(pd - pc, pn - pd - 1)
        for k in range(s):
            swap(pb + k, pn - s + k)
        if pb == pa and pd == pc:
            continue
        left = (lo, lo + (pb - pa))
        right = (hi - (pd - pc), hi)
        if right[1] - right[0] > left[1] - left[0]:
            left, right = right, left
        stack.append(left)
        if right[0] != right[1]:
            stack.append(right)

    out = []
    for i in v:
        e = entries[i]
        if not out or out[-1][0] != e[0] or out[-1][1] != e[1]:
            out.append(e)
    return out


class ARPResponder(Element):
    name = "ARPResponder"
    ports = "1/1-2"
    processing = "a/ah"
    action = True
    rest = Arg("ENTRY", _Entry(), doc="IP/MASK [IP/MASK...] ETH")
    handlers = (
        Handler("table", "{{E}}_table", kind="str",
                doc="the table, one 'ADDR/MASK ETH' line per entry, in lookup order"),
        Handler("drops", "{{E}}_s.drops",
                doc="packets not answered and dropped (output 1 not connected)"),
    )
    doc = """
    Answers ARP requests for configured IP addresses and networks.

    ARPResponder(IP/MASK [IP/MASK...] ETH, IP2/MASK2 ETH2, ...): each
    argument maps one or more IP networks (ADDR/LEN, ADDR/DOTTED-MASK, or a
    bare address meaning /32) to the Ethernet address ETH.  Input packets
    are Ethernet frames.  A frame at least 42 bytes long with Ethernet type
    0x0806, ARP hardware type 1, protocol type 0x0800 and operation 1
    (request) whose target protocol address matches an entry is answered:
    the request is replaced by a 42-byte reply (Ethernet destination = the
    request's sender hardware address, source = ETH, type 0x0806; ARP
    operation 2, sender = ETH and the requested address, target = the
    requester's hardware and protocol addresses), no padding, no timestamp,
    annotations cleared except the VLAN TCI and the MAC header, which points
    at the reply.  Everything else (other frames, ARP replies, short
    frames, unknown targets) leaves unchanged on output 1 if it is
    connected, else it is dropped and counted in `drops`.

    Entries are tried in Click's order: narrower networks before wider ones
    that contain them, of two equal networks the later argument.  (Like
    Click, which sorts with a comparison that is not a total order, a wider
    network listed before an unrelated one can still be tried before a
    narrower network it contains; uknfv reproduces Click's exact order.)
    The table is fixed at build time: Click's `lookup`, `add` and `remove`
    handlers are not provided; `table` reads it.

    Example: ARPResponder(10.0.1.1 10.0.2.0/24 52:54:00:00:00:01)
    """
    c = r"""
static const struct {
	uint32_t dst, mask;     /* host order */
	uint8_t eth[6];
} {{E}}_tab[{{ [v.entries | length, 1] | max }}] = {
{% for dst, mask, eth in v.entries %}
	{ {{ dst | c_u32 }}, {{ mask | c_u32 }}, {{ eth | c_bytes }} },   /* {{ v.names[loop.index0] }} */
{% else %}
	{ 0, 0, {0} }
{% endfor %}
};
static const char {{E}}_table[] = {{ v.table | c_str }};

static struct {
	uint64_t drops;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
{% if v.entries %}
	uint8_t *d = p->data;
	if (p->len >= 42 && rd16(d + 12) == 0x0806 && rd16(d + 14) == 1
	    && rd16(d + 16) == 0x0800 && rd16(d + 20) == 1) {
		uint32_t tpa = rd32(d + 38);
		for (unsigned i = 0; i < {{ v.entries | length }}u; i++) {
			if ((tpa & {{E}}_tab[i].mask) != {{E}}_tab[i].dst)
				continue;
			/* The reply replaces the request in its own buffer. */
			uint8_t sha[6], spa[4], vlan[2];
			memcpy(sha, d + 22, 6);
			memcpy(spa, d + 28, 4);
			memcpy(vlan, p->anno + PKT_ANNO_VLAN_TCI, 2);
			pkt_take(p, p->len - 42);
			memcpy(d, sha, 6);
			memcpy(d + 6, {{E}}_tab[i].eth, 6);
			wr16(d + 12, 0x0806);
			wr16(d + 14, 1);
			wr16(d + 16, 0x0800);
			d[18] = 6;
			d[19] = 4;
			wr16(d + 20, 2);
			memcpy(d + 22, {{E}}_tab[i].eth, 6);
			wr32(d + 28, tpa);
			memcpy(d + 32, sha, 6);
			memcpy(d + 38, spa, 4);
			p->mac = d;
			p->nh = p->th = NULL;
			p->ts_ns = 0;
			p->pkt_type = PKT_TYPE_HOST;
			memset(p->anno, 0, PKT_ANNO_SIZE);
			memcpy(p->anno + PKT_ANNO_VLAN_TCI, vlan, 2);
			return p;
		}
	}
{% endif %}
{% if nout > 1 %}
	{{ out[1] }}(p);
{% else %}
	{{E}}_s.drops++;
	pkt_kill(p);
{% endif %}
	return NULL;
}
"""

    def configure(self, inst):
        entries = []
        for (prefixes, eth), _loc in inst.args["rest"]:
            for dst, mask in prefixes:
                entries.append((dst & mask, mask, eth))
        ordered = _click_order(entries)
        inst.vars["entries"] = ordered
        inst.vars["names"] = [_unparse(d, m) for d, m, _ in ordered]
        inst.vars["table"] = "".join(
            f"{_unparse(d, m)} {'-'.join(f'{b:02X}' for b in e)}\n" for d, m, e in ordered)
