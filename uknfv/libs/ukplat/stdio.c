/*
 * ukplat: console output (uk_puts, uk_printf) and the few <stdio.h> stream
 * functions, all writing to COM1.  stdout and stderr are the same console.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "uk/console.h"
#include "uk/plat.h"

struct uk_file {
	int fd;
};

static struct uk_file out_file = { 1 }, err_file = { 2 };
FILE *const stdout = &out_file;
FILE *const stderr = &err_file;

void uk_puts(const char *s)
{
	uk_console_write(s, strlen(s));
}

struct obuf {
	char b[128];
	size_t n;
};

static void obuf_out(void *ctx, const char *s, size_t n)
{
	struct obuf *o = ctx;
	if (o->n + n > sizeof o->b) {
		uk_console_write(o->b, o->n);
		o->n = 0;
		if (n > sizeof o->b) {
			uk_console_write(s, n);
			return;
		}
	}
	memcpy(o->b + o->n, s, n);
	o->n += n;
}

int uk_vprintf(const char *fmt, va_list ap)
{
	struct obuf o;
	o.n = 0;
	int r = uk_vcbprintf(obuf_out, &o, fmt, ap);
	uk_console_write(o.b, o.n);
	return r;
}

int uk_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = uk_vprintf(fmt, ap);
	va_end(ap);
	return r;
}

int vprintf(const char *restrict fmt, va_list ap)
{
	return uk_vprintf(fmt, ap);
}

int printf(const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = uk_vprintf(fmt, ap);
	va_end(ap);
	return r;
}

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
	(void)f;
	return uk_vprintf(fmt, ap);
}

int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

int puts(const char *s)
{
	uk_puts(s);
	uk_console_write("\n", 1);
	return 1;
}

int fputs(const char *restrict s, FILE *restrict f)
{
	(void)f;
	uk_puts(s);
	return 1;
}

int fputc(int c, FILE *f)
{
	(void)f;
	char ch = (char)c;
	uk_console_write(&ch, 1);
	return (unsigned char)c;
}

int putchar(int c)
{
	return fputc(c, stdout);
}

size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f)
{
	(void)f;
	uk_console_write(p, size * n);
	return n;
}

int fflush(FILE *f)
{
	(void)f;
	uk_console_flush();
	return 0;
}
