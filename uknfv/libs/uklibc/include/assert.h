/* uklibc: <assert.h>. A failed assertion prints where (ukplat) and aborts. */
#ifdef assert
#undef assert
#endif

#ifndef UKLIBC_ASSERT_DECL
#define UKLIBC_ASSERT_DECL
void __uk_assert_fail(const char *expr, const char *file, int line, const char *func)
	__attribute__((noreturn));
#endif

#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : __uk_assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

#if !defined(__cplusplus) && __STDC_VERSION__ >= 201112L && !defined(static_assert)
#define static_assert _Static_assert
#endif
