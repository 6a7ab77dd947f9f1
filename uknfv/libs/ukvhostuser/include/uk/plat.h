/*
 * uk/plat.h for hosted builds (ukvhostuser): the console functions the
 * unikernel libraries print their diagnostics with.  In a process they go
 * to stderr, except while a port is being opened (uk_hosted_quiet set):
 * the first line printed after the caller cleared uk_hosted_msg is kept
 * there instead, so the caller can turn it into its own one-line error.
 */
#ifndef UK_PLAT_H
#define UK_PLAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

int uk_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void uk_puts(const char *s);

extern int uk_hosted_quiet;          /* nonzero: keep messages, do not print them */
extern char uk_hosted_msg[256];      /* see above (no trailing newline) */

#endif
