/*
 * uklibc: <stdio.h> for the freestanding unikernel.
 *
 * Formatted output into buffers (snprintf & co) is uklibc's own; the few
 * stream functions (printf, puts, fprintf to stdout/stderr ...) are thin
 * wrappers over the console, implemented by ukplat.  There is no input
 * stream and no file system: FILE is only ever stdout or stderr.
 */
#ifndef UKLIBC_STDIO_H
#define UKLIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EOF (-1)
#ifndef BUFSIZ
#define BUFSIZ 1024
#endif

int snprintf(char *restrict buf, size_t n, const char *restrict fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t n, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int sprintf(char *restrict buf, const char *restrict fmt, ...)
	__attribute__((format(printf, 2, 3)));
int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* The formatter behind them: emits the output in pieces through out(ctx, s, n).
 * Returns the number of characters the output has (like vsnprintf). */
int uk_vcbprintf(void (*out)(void *ctx, const char *s, size_t n), void *ctx,
		 const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* ---- console streams (ukplat) ------------------------------------------- */
typedef struct uk_file FILE;
extern FILE *const stdout;
extern FILE *const stderr;
#define stdout stdout
#define stderr stderr

int printf(const char *restrict fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *restrict fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int fprintf(FILE *restrict f, const char *restrict fmt, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
int puts(const char *s);                  /* appends '\n', like C's puts */
int fputs(const char *restrict s, FILE *restrict f);
int putchar(int c);
int fputc(int c, FILE *f);
#define putc(c, f) fputc((c), (f))
size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f);
int fflush(FILE *f);

#ifdef __cplusplus
}
#endif
#endif
