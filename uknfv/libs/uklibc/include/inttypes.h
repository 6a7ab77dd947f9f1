/* uklibc: <inttypes.h> for x86_64 (LP64: int64_t is long). */
#ifndef UKLIBC_INTTYPES_H
#define UKLIBC_INTTYPES_H

#include <stdint.h>

#define __UK_PRI64 "l"
#define __UK_PRIPTR "l"

#define PRId8 "d"
#define PRId16 "d"
#define PRId32 "d"
#define PRId64 __UK_PRI64 "d"
#define PRIi8 "i"
#define PRIi16 "i"
#define PRIi32 "i"
#define PRIi64 __UK_PRI64 "i"
#define PRIu8 "u"
#define PRIu16 "u"
#define PRIu32 "u"
#define PRIu64 __UK_PRI64 "u"
#define PRIo8 "o"
#define PRIo16 "o"
#define PRIo32 "o"
#define PRIo64 __UK_PRI64 "o"
#define PRIx8 "x"
#define PRIx16 "x"
#define PRIx32 "x"
#define PRIx64 __UK_PRI64 "x"
#define PRIX8 "X"
#define PRIX16 "X"
#define PRIX32 "X"
#define PRIX64 __UK_PRI64 "X"
#define PRIdMAX __UK_PRI64 "d"
#define PRIuMAX __UK_PRI64 "u"
#define PRIxMAX __UK_PRI64 "x"
#define PRIdPTR __UK_PRIPTR "d"
#define PRIuPTR __UK_PRIPTR "u"
#define PRIxPTR __UK_PRIPTR "x"
#define PRIXPTR __UK_PRIPTR "X"

#define SCNd32 "d"
#define SCNu32 "u"
#define SCNx32 "x"
#define SCNd64 __UK_PRI64 "d"
#define SCNu64 __UK_PRI64 "u"
#define SCNx64 __UK_PRI64 "x"

typedef struct { intmax_t quot, rem; } imaxdiv_t;
intmax_t strtoimax(const char *restrict s, char **restrict end, int base);
uintmax_t strtoumax(const char *restrict s, char **restrict end, int base);

#endif
