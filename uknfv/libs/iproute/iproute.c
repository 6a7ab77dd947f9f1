/* iproute: see include/uknfv/iproute.h.  Freestanding: string.h, snprintf. */
#include <stdio.h>
#include <string.h>
#include "uknfv/iproute.h"

/* From uknfv/rt.h (not included: it pulls in the packet API). */
void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* IPAddressArg::basic_parse over s[0..len): up to four dotted decimal bytes.
 * Returns the number of bytes; *used the characters consumed. */
static int ip_basic(const char *s, size_t len, uint32_t *v, size_t *used)
{
	uint32_t part[4] = {0, 0, 0, 0};
	size_t pos = 0;
	int d = 0;
	while (d < 4 && pos < len && (d == 0 || s[pos] == '.')) {
		size_t t = pos + (d ? 1 : 0);
		if (t >= len || !is_digit(s[t]))
			break;
		uint32_t x = (uint32_t)(s[t++] - '0');
		while (t < len && is_digit(s[t]) && x <= 255)
			x = x * 10 + (uint32_t)(s[t++] - '0');
		if (x > 255)
			break;
		pos = t;
		part[d++] = x;
	}
	*v = part[0] << 24 | part[1] << 16 | part[2] << 8 | part[3];
	*used = pos;
	return d;
}

/* A full dotted quad; *v is left alone on failure. */
static int ip_full(const char *s, size_t len, uint32_t *v)
{
	size_t used;
	uint32_t x;
	if (ip_basic(s, len, &x, &used) != 4 || used != len)
		return -1;
	*v = x;
	return 0;
}

static int digit_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* Click's IntArg(base) on a whole word (no '-': negative is an error for
 * both users).  0 and *v, or -1. */
static int parse_uint(const char *s, size_t len, int base, uint64_t *v)
{
	size_t i = 0;
	if (i < len && s[i] == '+')
		i++;
	int b = base;
	if ((b == 0 || b == 16) && i + 2 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		i += 2;
		b = 16;
	} else if (b == 0 && i + 2 < len && s[i] == '0' && (s[i + 1] == 'b' || s[i + 1] == 'B')) {
		i += 2;
		b = 2;
	} else if (b == 0 && i < len && s[i] == '0') {
		b = 8;
	} else if (b == 0) {
		b = 10;
	}
	uint64_t x = 0;
	int ndig = 0, last_digit = 0;
	for (; i < len; i++) {
		if (s[i] == '_' && last_digit && i + 1 < len && digit_val(s[i + 1]) < b) {
			last_digit = 0;
			continue;
		}
		if (digit_val(s[i]) >= b)
			return -1;
		x = x * (uint64_t)b + (uint64_t)digit_val(s[i]);
		if (x > 0x7fffffffu)
			return -1;
		ndig++;
		last_digit = 1;
	}
	if (!ndig)
		return -1;
	*v = x;
	return 0;
}

static uint32_t make_mask(unsigned plen)
{
	return plen ? 0xffffffffu << (32 - plen) : 0;
}

static int mask_len(uint32_t mask)
{
	for (int l = 0; l <= 32; l++)
		if (make_mask((unsigned)l) == mask)
			return l;
	return -1;
}

struct word {
	const char *s;
	size_t len;
};

static int split(const char *s, struct word *w, int max)
{
	int n = 0;
	while (*s) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;
		const char *b = s;
		while (*s && !is_space(*s))
			s++;
		if (n == max)
			return max + 1;
		w[n].s = b;
		w[n].len = (size_t)(s - b);
		n++;
	}
	return n;
}

static int parse_prefix(const char *s, size_t len, uint32_t *addr, uint32_t *mask, const char **why)
{
	size_t slash = len;
	for (size_t i = len; i-- > 0;)
		if (s[i] == '/') {
			slash = i;
			break;
		}
	if (slash < len) {
		uint32_t a, m;
		size_t used;
		uint64_t plen;
		if (slash == 0 || slash + 1 == len) {
			*why = "bad ADDR/MASK";
			return -1;
		}
		int nbytes = ip_basic(s, slash, &a, &used);
		if (used != slash) {
			*why = "bad address";
			return -1;
		}
		if (parse_uint(s + slash + 1, len - slash - 1, 10, &plen) == 0 && plen <= 32)
			m = make_mask((unsigned)plen);
		else if (ip_full(s + slash + 1, len - slash - 1, &m) < 0) {
			*why = "bad mask";
			return -1;
		}
		if (nbytes < 4 && (m & ~make_mask((unsigned)nbytes * 8))) {
			*why = "mask longer than the address bits given";
			return -1;
		}
		if (mask_len(m) < 0) {
			*why = "non-contiguous mask";
			return -1;
		}
		*addr = a & m;
		*mask = m;
		return 0;
	}
	if (ip_full(s, len, addr) < 0) {
		*why = "bad address or prefix";
		return -1;
	}
	*mask = 0xffffffffu;
	return 0;
}

int iproute_parse(const char *s, struct iproute *r, int need_port, int *has_gw,
		  int *has_port, const char **why)
{
	struct word w[4];
	int n = split(s, w, 3), k = 1;
	uint64_t port;
	*has_gw = *has_port = 0;
	r->gw = 0;
	r->port = -1;
	if (n == 0) {
		*why = "empty route";
		return -1;
	}
	if (n > 3) {
		*why = "too many words";
		return -1;
	}
	if (parse_prefix(w[0].s, w[0].len, &r->addr, &r->mask, why) < 0)
		return -1;
	if (k < n) {
		if (w[k].len == 1 && w[k].s[0] == '-') {
			*has_gw = 1;
			k++;
		} else if (ip_full(w[k].s, w[k].len, &r->gw) == 0) {
			*has_gw = 1;
			k++;
		} else if (k + 1 < n) {
			*why = "bad gateway address";
			return -1;
		}
	}
	if (k < n) {
		if (parse_uint(w[k].s, w[k].len, 0, &port) < 0) {
			*why = "bad output port";
			return -1;
		}
		r->port = (int32_t)port;
		*has_port = 1;
		k++;
	}
	if (k < n) {
		*why = "unexpected word after the output port";
		return -1;
	}
	if (need_port && !*has_port) {
		*why = "missing output port";
		return -1;
	}
	return 0;
}

/* ---- the run-time trie ------------------------------------------------ */

static int insert(struct iproute_trie *b, unsigned *nn, uint32_t addr, unsigned plen, uint32_t leaf)
{
	uint32_t *node = b->ent;
	unsigned depth = 0, stride = 8;
	for (;;) {
		unsigned end = depth + stride;
		uint32_t slot = (addr >> (32 - end)) & ((1u << stride) - 1);
		if (plen <= end) {
			/* Routes arrive shortest first, so no child node lies under
			 * a prefix that ends at this level: the span is all leaves. */
			uint32_t span = 1u << (end - plen);
			for (uint32_t i = 0; i < span; i++)
				node[slot + i] = IPROUTE_LEAF | leaf;
			return 0;
		}
		uint32_t e = node[slot];
		if (e & IPROUTE_LEAF) {
			if (*nn >= b->max_nodes)
				return -1;
			uint32_t off = 256 + 16 * (*nn)++;
			for (unsigned i = 0; i < 16; i++)
				b->ent[off + i] = e;     /* push the enclosing route down */
			node[slot] = off;
			e = off;
		}
		node = b->ent + e;
		depth = end;
		stride = 4;
	}
}

int iproute_build(struct iproute_trie *b, const struct iproute *routes, unsigned n)
{
	unsigned nn = 0;
	for (unsigned i = 0; i < 256; i++)
		b->ent[i] = IPROUTE_LEAF;
	b->nh[0].port = -1;
	b->nh[0].gw = 0;
	for (unsigned i = 0; i < n; i++) {
		b->nh[i + 1].port = routes[i].port;
		b->nh[i + 1].gw = routes[i].gw;
	}
	/* Shortest prefixes first: longer ones then overwrite them. */
	for (int len = 0; len <= 32; len++)
		for (unsigned i = 0; i < n; i++)
			if (routes[i].mask == make_mask((unsigned)len)
			    && insert(b, &nn, routes[i].addr, (unsigned)len, i + 1) < 0)
				return -1;
	return 0;
}

/* ---- handlers --------------------------------------------------------- */

void iproute_init(struct iproute_table *t, const struct iproute *routes, unsigned n)
{
	if (n > t->cap)
		n = t->cap;
	if (n)
		memcpy(t->r, routes, n * sizeof *routes);
	t->n = n;
	t->cur = NULL;
	t->generation = 0;
}

/* Make the routes current: rebuild into the spare buffer and swap. */
static int commit(struct iproute_table *t)
{
	struct iproute_trie *b = &t->buf[t->cur == &t->buf[0] ? 1 : 0];
	if (iproute_build(b, t->r, t->n) < 0)
		return -1;
	t->cur = b;
	t->generation++;
	return 0;
}

static int find(const struct iproute_table *t, uint32_t addr, uint32_t mask)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->r[i].addr == addr && t->r[i].mask == mask)
			return (int)i;
	return -1;
}

static int fail(const struct iproute_table *t, const char *what, const char *v, const char *why)
{
	rt_log("%s: %s '%.100s': %s", t->name, what, v, why);
	return -1;
}

static int put(struct iproute_table *t, const char *v, int replace, const char *what)
{
	struct iproute r;
	int has_gw, has_port;
	const char *why;
	if (iproute_parse(v, &r, 1, &has_gw, &has_port, &why) < 0)
		return fail(t, what, v, why);
	if ((unsigned)r.port >= t->noutputs)
		return fail(t, what, v, "output port out of range");
	int i = find(t, r.addr, r.mask);
	if (i >= 0 && !replace)
		return fail(t, what, v, "a route for this prefix exists");
	struct iproute old;
	if (i >= 0) {
		old = t->r[i];
		t->r[i] = r;
	} else {
		if (t->n >= t->cap)
			return fail(t, what, v, "route table full (raise CAPACITY)");
		t->r[t->n++] = r;
	}
	if (commit(t) < 0) {            /* cannot happen with IPROUTE_NODES */
		if (i >= 0)
			t->r[i] = old;
		else
			t->n--;
		return fail(t, what, v, "out of trie nodes");
	}
	return 0;
}

int iproute_add(struct iproute_table *t, const char *v)
{
	return put(t, v, 0, "add");
}

int iproute_set(struct iproute_table *t, const char *v)
{
	return put(t, v, 1, "set");
}

int iproute_remove(struct iproute_table *t, const char *v)
{
	struct iproute r;
	int has_gw, has_port;
	const char *why;
	if (iproute_parse(v, &r, 0, &has_gw, &has_port, &why) < 0)
		return fail(t, "remove", v, why);
	int i = find(t, r.addr, r.mask);
	if (i < 0 || (has_gw && t->r[i].gw != r.gw) || (has_port && t->r[i].port != r.port))
		return fail(t, "remove", v, "no such route");
	struct iproute old = t->r[i];
	memmove(&t->r[i], &t->r[i + 1], (t->n - (unsigned)i - 1) * sizeof *t->r);
	t->n--;
	if (commit(t) < 0) {            /* fewer routes: cannot happen */
		memmove(&t->r[i + 1], &t->r[i], (t->n - (unsigned)i) * sizeof *t->r);
		t->r[i] = old;
		t->n++;
		return fail(t, "remove", v, "out of trie nodes");
	}
	return 0;
}

int iproute_flush(struct iproute_table *t, const char *v)
{
	(void)v;
	unsigned n = t->n;
	t->n = 0;
	if (commit(t) < 0) {
		t->n = n;
		return -1;
	}
	return 0;
}

int iproute_ctrl(struct iproute_table *t, const char *v)
{
	while (is_space(*v))
		v++;
	const char *e = v;
	while (*e && !is_space(*e))
		e++;
	size_t n = (size_t)(e - v);
	if (n == 3 && !strncmp(v, "add", 3))
		return iproute_add(t, e);
	if (n == 3 && !strncmp(v, "set", 3))
		return iproute_set(t, e);
	if (n == 6 && !strncmp(v, "remove", 6))
		return iproute_remove(t, e);
	return fail(t, "ctrl", v, "expected 'add ROUTE', 'set ROUTE' or 'remove ROUTE'");
}

static int fmt_ip(char *b, size_t n, uint32_t a)
{
	return snprintf(b, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

int iproute_format(const struct iproute_table *t, char *buf, size_t n)
{
	size_t pos = 0;
	if (n)
		buf[0] = 0;
	for (unsigned i = 0; i < t->n; i++) {
		const struct iproute *r = &t->r[i];
		char pfx[32], gw[24], line[80];
		int l = fmt_ip(pfx, sizeof pfx, r->addr);
		l += snprintf(pfx + l, sizeof pfx - (size_t)l, "/%d\t", mask_len(r->mask));
		if (l < 17)
			snprintf(pfx + l, sizeof pfx - (size_t)l, "\t");
		int g = r->gw ? fmt_ip(gw, sizeof gw, r->gw) : snprintf(gw, sizeof gw, "-");
		g += snprintf(gw + g, sizeof gw - (size_t)g, "\t");
		if (g < 9)
			snprintf(gw + g, sizeof gw - (size_t)g, "\t");
		int m = snprintf(line, sizeof line, "%s%s%d\n", pfx, gw, (int)r->port);
		if (pos + (size_t)m >= n)
			break;                   /* whole lines only */
		memcpy(buf + pos, line, (size_t)m + 1);
		pos += (size_t)m;
	}
	return (int)pos;
}
