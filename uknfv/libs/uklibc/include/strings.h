/* uklibc: <strings.h> */
#ifndef UKLIBC_STRINGS_H
#define UKLIBC_STRINGS_H
#include <string.h>
#endif
