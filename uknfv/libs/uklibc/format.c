/*
 * uklibc: formatted output (vsnprintf and friends).
 *
 * Conversions: d i u o x X p s c % and f F e E g G (doubles, needs SSE,
 * which the boot code enables).  Flags - + space 0 #; width and precision,
 * also as '*'; length modifiers hh h l ll z j t L.  %n is accepted and
 * ignored (its pointer is consumed).
 *
 * Doubles: the integer part is exact up to 2^64 (beyond it, the leading
 * 18 digits are exact-ish and the rest are the binary value's best guess);
 * the fraction is exact to ~17 significant digits and rounds half to even
 * when the value is exactly halfway, as glibc does.  Good for counters and
 * rates, not for a numerics library.
 */
#pragma GCC optimize("fp-contract=off")   /* two_prod_err must not become an FMA */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum {
	F_MINUS = 1, F_PLUS = 2, F_SPACE = 4, F_ZERO = 8, F_HASH = 16, F_UPPER = 32,
};

struct sink {
	void (*out)(void *ctx, const char *s, size_t n);
	void *ctx;
	size_t total;
};

static void emit(struct sink *k, const char *s, size_t n)
{
	if (n) {
		k->out(k->ctx, s, n);
		k->total += n;
	}
}

static void pad(struct sink *k, char c, int n)
{
	static const char spaces[16] = "                ";
	static const char zeros[16] = "0000000000000000";
	const char *src = c == '0' ? zeros : spaces;
	while (n > 0) {
		int m = n > 16 ? 16 : n;
		emit(k, src, (size_t)m);
		n -= m;
	}
}

/* Emit prefix (sign, 0x), leading zeros, body, honouring width and flags. */
static void field(struct sink *k, int flags, int width, const char *prefix, size_t plen,
		  int zeros, const char *body, size_t blen)
{
	int len = (int)(plen + blen) + (zeros > 0 ? zeros : 0);
	int fill = width > len ? width - len : 0;
	if (!(flags & F_MINUS) && !(flags & F_ZERO))
		pad(k, ' ', fill);
	emit(k, prefix, plen);
	if (!(flags & F_MINUS) && (flags & F_ZERO))
		pad(k, '0', fill);
	pad(k, '0', zeros);
	emit(k, body, blen);
	if (flags & F_MINUS)
		pad(k, ' ', fill);
}

static size_t utoa(char *end, unsigned long long v, unsigned base, int upper)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;
	do {
		*--p = dig[v % base];
		v /= base;
	} while (v);
	return (size_t)(end - p);
}

static void fmt_int(struct sink *k, int flags, int width, int prec, unsigned long long v,
		    int neg, unsigned base, int is_signed, int is_ptr)
{
	char buf[24], prefix[3];
	size_t plen = 0, blen = 0;
	if (is_signed) {
		if (neg)
			prefix[plen++] = '-';
		else if (flags & F_PLUS)
			prefix[plen++] = '+';
		else if (flags & F_SPACE)
			prefix[plen++] = ' ';
	}
	if (!(prec == 0 && v == 0))
		blen = utoa(buf + sizeof buf, v, base, flags & F_UPPER);
	const char *body = buf + sizeof buf - blen;
	int zeros = prec > (int)blen ? prec - (int)blen : 0;
	if (base == 16 && (is_ptr || ((flags & F_HASH) && v))) {
		prefix[plen++] = '0';
		prefix[plen++] = (flags & F_UPPER) ? 'X' : 'x';
	}
	if (base == 8 && (flags & F_HASH) && zeros == 0 && (blen == 0 || body[0] != '0'))
		zeros = 1;
	if (prec >= 0)
		flags &= ~F_ZERO;
	field(k, flags, width, prefix, plen, zeros, body, blen);
}

/* ---- doubles ------------------------------------------------------------
 *
 * Digits are generated exactly for the integer part (a small bignum for
 * values >= 2^64) and from an exact double-double remainder for the
 * fraction (each step multiplies by 10 with an error-free product), which is
 * exact for ~30 significant digits; rounding is to nearest, ties to even, as
 * glibc does in its default mode.
 */

struct fgen {
	double hi, lo;          /* the remaining fraction, hi + lo, in [0, 1) */
};

/* Error-free product: a * b == p + err (Veltkamp/Dekker, no FMA needed). */
static double two_prod_err(double a, double b, double p)
{
	const double split = 134217729.0;    /* 2^27 + 1 */
	double ca = split * a, cb = split * b;
	double ah = ca - (ca - a), al = a - ah;
	double bh = cb - (cb - b), bl = b - bh;
	return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

static int fgen_digit(struct fgen *g)
{
	double p = g->hi * 10.0;
	double e = two_prod_err(g->hi, 10.0, p);
	double q = g->lo * 10.0;
	int d = (int)p;
	double h = p - d;               /* exact */
	double l = e + q;
	double s = h + l;
	if (s < 0) {
		d--;
		h += 1.0;
	} else if (s >= 1.0) {
		d++;
		h -= 1.0;
	}
	/* renormalise (two-sum) */
	s = h + l;
	double bb = s - h;
	g->lo = (h - (s - bb)) + (l - bb);
	g->hi = s;
	if (d < 0) d = 0;
	if (d > 9) d = 9;
	return d;
}

/* Sign of (remaining fraction - 1/2). */
static int fgen_half(const struct fgen *g)
{
	double d = (g->hi - 0.5) + g->lo;
	return d > 0 ? 1 : d < 0 ? -1 : 0;
}

static int fgen_zero(const struct fgen *g)
{
	return g->hi == 0 && g->lo == 0;
}

/* Integer part of v >= 0 as decimal digits into buf (no NUL); returns the
 * count.  Sets *frac to the exact fractional part. */
static size_t int_digits(char *buf, double v, double *frac)
{
	if (v < 18446744073709551616.0) {
		uint64_t ip = (uint64_t)v;
		char tmp[24];
		size_t n = utoa(tmp + sizeof tmp, ip, 10, 0);
		memcpy(buf, tmp + sizeof tmp - n, n);
		*frac = v - (double)ip;
		return n;
	}
	/* v = m * 2^e exactly, e >= 12: bignum in 32-bit limbs, little-endian. */
	union { double d; uint64_t u; } bits = { v };
	int e = (int)((bits.u >> 52) & 0x7ff) - 1075;
	uint64_t m = (bits.u & ((1ull << 52) - 1)) | (1ull << 52);
	uint32_t a[36] = { 0 };
	int w = e / 32, sh = e % 32;
	unsigned __int128 mm = (unsigned __int128)m << sh;
	a[w] = (uint32_t)mm;
	a[w + 1] = (uint32_t)(mm >> 32);
	a[w + 2] = (uint32_t)(mm >> 64);
	int top = w + 2;
	char rev[330];
	size_t n = 0;
	while (top >= 0) {
		uint64_t r = 0;
		for (int i = top; i >= 0; i--) {
			uint64_t cur = (r << 32) | a[i];
			a[i] = (uint32_t)(cur / 1000000000u);
			r = cur % 1000000000u;
		}
		while (top >= 0 && a[top] == 0)
			top--;
		for (int i = 0; i < 9; i++) {
			rev[n++] = (char)('0' + r % 10);
			r /= 10;
		}
	}
	while (n > 1 && rev[n - 1] == '0')
		n--;
	for (size_t i = 0; i < n; i++)
		buf[i] = rev[n - 1 - i];
	*frac = 0;
	return n;
}

/* Round the digit string d[0..n) up by one unit in the last place; returns 1
 * if it overflowed (all nines: d is now 000.. and a leading 1 is due). */
static int round_up(char *d, size_t n)
{
	while (n--) {
		if (d[n] != '9') {
			d[n]++;
			return 0;
		}
		d[n] = '0';
	}
	return 1;
}

/* Whether to round up after keeping the digits ending in `last`, given how
 * the dropped tail compares with half a unit (cmp) */
static int want_up(int cmp, char last)
{
	return cmp > 0 || (cmp == 0 && ((last - '0') & 1));
}

/* Fixed notation of v >= 0 with prec fraction digits. */
static size_t dtoa_fixed(char *buf, double v, int prec, int hash)
{
	double frac;
	char *ip = buf + 1;             /* room for a carry digit in front */
	size_t il = int_digits(ip, v, &frac);
	struct fgen g = { frac, 0 };
	char *fp = ip + il + 1;
	for (int i = 0; i < prec; i++)
		fp[i] = (char)('0' + fgen_digit(&g));
	char last = prec ? fp[prec - 1] : ip[il - 1];
	if (want_up(fgen_half(&g), last)) {
		if (round_up(fp, (size_t)prec) && round_up(ip, il)) {
			ip--;
			ip[0] = '1';
			il++;
		}
	}
	ip[il] = '.';
	size_t n = il + (prec > 0 || hash ? 1 + (size_t)prec : 0);
	if (ip != buf)
		memmove(buf, ip, n);
	return n;
}

/* Significant digits of v > 0: exactly `nd` of them, rounded, into d;
 * returns the decimal exponent of the first. */
static int sig_digits(char *d, double v, int nd)
{
	char ib[330];
	double frac;
	int exp10;
	int k = 0;
	struct fgen g;
	int cmp;
	if (v >= 1) {
		size_t il = int_digits(ib, v, &frac);
		g.hi = frac;
		g.lo = 0;
		exp10 = (int)il - 1;
		if ((int)il >= nd) {
			memcpy(d, ib, (size_t)nd);
			/* the dropped integer digits, then the fraction */
			cmp = -1;
			if ((int)il > nd) {
				cmp = ib[nd] > '5' ? 1 : ib[nd] < '5' ? -1 : 0;
				for (size_t i = (size_t)nd + 1; cmp == 0 && i < il; i++)
					if (ib[i] != '0')
						cmp = 1;
				if (cmp == 0 && !fgen_zero(&g))
					cmp = 1;
			} else {
				cmp = fgen_half(&g);
			}
			goto round;
		}
		memcpy(d, ib, il);
		k = (int)il;
	} else {
		g.hi = v;
		g.lo = 0;
		exp10 = -1;
		int dg;
		while ((dg = fgen_digit(&g)) == 0)
			exp10--;
		d[k++] = (char)('0' + dg);
	}
	while (k < nd)
		d[k++] = (char)('0' + fgen_digit(&g));
	cmp = fgen_half(&g);
round:
	if (want_up(cmp, d[nd - 1]) && round_up(d, (size_t)nd)) {
		d[0] = '1';
		exp10++;
	}
	return exp10;
}

static size_t put_exp(char *buf, int e, int upper)
{
	size_t n = 0;
	buf[n++] = upper ? 'E' : 'e';
	buf[n++] = e < 0 ? '-' : '+';
	unsigned ue = (unsigned)(e < 0 ? -e : e);
	char eb[8];
	size_t el = utoa(eb + sizeof eb, ue, 10, 0);
	if (el < 2)
		buf[n++] = '0';
	memcpy(buf + n, eb + sizeof eb - el, el);
	return n + el;
}

/* Scientific notation with prec digits after the point; *x gets the exponent. */
static size_t dtoa_exp(char *buf, double v, int prec, int hash, int upper, int *x)
{
	char d[80];
	int e = 0;
	if (v == 0)
		memset(d, '0', (size_t)prec + 1);
	else
		e = sig_digits(d, v, prec + 1);
	size_t n = 0;
	buf[n++] = d[0];
	if (prec > 0 || hash)
		buf[n++] = '.';
	memcpy(buf + n, d + 1, (size_t)prec);
	n += (size_t)prec;
	if (x)
		*x = e;
	return n + put_exp(buf + n, e, upper);
}

static size_t strip_zeros(char *buf, size_t n)
{
	char *dot = memchr(buf, '.', n);
	if (!dot)
		return n;
	char *e = memchr(buf, 'e', n);
	if (!e)
		e = memchr(buf, 'E', n);
	size_t end = e ? (size_t)(e - buf) : n;
	size_t k = end;
	while (k > (size_t)(dot - buf) + 1 && buf[k - 1] == '0')
		k--;
	if (k == (size_t)(dot - buf) + 1)
		k--;                          /* drop the point too */
	memmove(buf + k, buf + end, n - end);
	return k + (n - end);
}

static void fmt_double(struct sink *k, int flags, int width, int prec, char conv, double v)
{
	char buf[420], prefix[1];
	size_t plen = 0, n;
	int upper = conv == 'F' || conv == 'E' || conv == 'G';
	if (__builtin_signbit(v)) {
		prefix[plen++] = '-';
		v = -v;
	} else if (flags & F_PLUS) {
		prefix[plen++] = '+';
	} else if (flags & F_SPACE) {
		prefix[plen++] = ' ';
	}
	if (v != v || __builtin_isinf(v)) {
		const char *s = v != v ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
		field(k, flags & ~F_ZERO, width, prefix, plen, 0, s, 3);
		return;
	}
	if (prec < 0)
		prec = 6;
	if (prec > 60)
		prec = 60;
	int hash = (flags & F_HASH) != 0;
	switch (conv | 32) {
	case 'f':
		n = dtoa_fixed(buf, v, prec, hash);
		break;
	case 'e':
		n = dtoa_exp(buf, v, prec, hash, upper, NULL);
		break;
	default: {  /* g: P significant digits, style by the rounded exponent X */
		int p = prec ? prec : 1;
		int x = 0;
		n = dtoa_exp(buf, v, p - 1, hash, upper, &x);
		if (x < p && x >= -4)
			n = dtoa_fixed(buf, v, p - 1 - x, hash);
		if (!hash)
			n = strip_zeros(buf, n);
		break;
	}
	}
	field(k, flags, width, prefix, plen, 0, buf, n);
}

int uk_vcbprintf(void (*out)(void *ctx, const char *s, size_t n), void *ctx, const char *fmt,
		 va_list ap)
{
	struct sink k = { out, ctx, 0 };
	va_list args;
	va_copy(args, ap);
	while (*fmt) {
		const char *lit = fmt;
		while (*fmt && *fmt != '%')
			fmt++;
		emit(&k, lit, (size_t)(fmt - lit));
		if (!*fmt)
			break;
		const char *start = fmt++;
		int flags = 0, width = 0, prec = -1, len = 0;
		for (;; fmt++) {
			if (*fmt == '-') flags |= F_MINUS;
			else if (*fmt == '+') flags |= F_PLUS;
			else if (*fmt == ' ') flags |= F_SPACE;
			else if (*fmt == '0') flags |= F_ZERO;
			else if (*fmt == '#') flags |= F_HASH;
			else break;
		}
		if (*fmt == '*') {
			width = va_arg(args, int);
			if (width < 0) {
				flags |= F_MINUS;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(args, int);
				if (prec < 0)
					prec = -1;
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		/* len: -2 hh, -1 h, 0 int, 1 l, 2 ll, 3 z/j/t (64-bit), 4 L */
		switch (*fmt) {
		case 'h':
			len = -1;
			if (*++fmt == 'h') { len = -2; fmt++; }
			break;
		case 'l':
			len = 1;
			if (*++fmt == 'l') { len = 2; fmt++; }
			break;
		case 'z': case 'j': case 't':
			len = 3; fmt++;
			break;
		case 'L':
			len = 4; fmt++;
			break;
		}
		if (flags & F_MINUS)
			flags &= ~F_ZERO;
		if (flags & F_PLUS)
			flags &= ~F_SPACE;
		char conv = *fmt;
		if (conv)
			fmt++;
		switch (conv) {
		case 'd': case 'i': {
			long long v;
			if (len == 0) v = va_arg(args, int);
			else if (len == -1) v = (short)va_arg(args, int);
			else if (len == -2) v = (signed char)va_arg(args, int);
			else if (len == 1) v = va_arg(args, long);
			else if (len == 3) v = va_arg(args, long);
			else v = va_arg(args, long long);
			unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
			fmt_int(&k, flags, width, prec, u, v < 0, 10, 1, 0);
			break;
		}
		case 'u': case 'o': case 'x': case 'X': {
			unsigned long long v;
			if (len == 0) v = va_arg(args, unsigned);
			else if (len == -1) v = (unsigned short)va_arg(args, unsigned);
			else if (len == -2) v = (unsigned char)va_arg(args, unsigned);
			else if (len == 1 || len == 3) v = va_arg(args, unsigned long);
			else v = va_arg(args, unsigned long long);
			unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
			fmt_int(&k, flags | (conv == 'X' ? F_UPPER : 0), width, prec, v, 0, base, 0, 0);
			break;
		}
		case 'p': {
			void *p = va_arg(args, void *);
			if (!p)
				field(&k, flags & ~F_ZERO, width, "", 0, 0, "(nil)", 5);
			else
				fmt_int(&k, flags, width, prec, (uintptr_t)p, 0, 16, 0, 1);
			break;
		}
		case 'c': {
			char c = (char)va_arg(args, int);
			field(&k, flags & ~F_ZERO, width, "", 0, 0, &c, 1);
			break;
		}
		case 's': {
			const char *s = va_arg(args, const char *);
			if (!s)
				s = "(null)";
			size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			field(&k, flags & ~F_ZERO, width, "", 0, 0, s, n);
			break;
		}
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A': {
			double v = len == 4 ? (double)va_arg(args, long double) : va_arg(args, double);
			if ((conv | 32) == 'a')
				conv = conv == 'a' ? 'e' : 'E';   /* no hex floats: scientific instead */
			fmt_double(&k, flags, width, prec, conv, v);
			break;
		}
		case 'n':
			(void)va_arg(args, void *);
			break;
		case '%':
			emit(&k, "%", 1);
			break;
		default:
			/* Unknown conversion: print it as written. */
			emit(&k, start, (size_t)(fmt - start));
			break;
		}
	}
	va_end(args);
	return (int)k.total;
}

struct bufsink {
	char *buf;
	size_t cap;     /* bytes that may hold characters (room for the NUL excluded) */
	size_t pos;
};

static void buf_out(void *ctx, const char *s, size_t n)
{
	struct bufsink *b = ctx;
	if (b->pos < b->cap) {
		size_t m = b->cap - b->pos < n ? b->cap - b->pos : n;
		memcpy(b->buf + b->pos, s, m);
	}
	b->pos += n;
}

int vsnprintf(char *restrict buf, size_t n, const char *restrict fmt, va_list ap)
{
	struct bufsink b = { buf, n ? n - 1 : 0, 0 };
	int r = uk_vcbprintf(buf_out, &b, fmt, ap);
	if (n)
		buf[b.pos < b.cap ? b.pos : b.cap] = 0;
	return r;
}

int snprintf(char *restrict buf, size_t n, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
{
	return vsnprintf(buf, (size_t)1 << 30, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsprintf(buf, fmt, ap);
	va_end(ap);
	return r;
}
