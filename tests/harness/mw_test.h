/*
 * mailwire's small test harness (no third-party code). A test file defines
 * test functions, runs them from main() with MW_RUN, and returns
 * mw_test_finish(), which prints "N passed, N failed".
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_TEST_H
#define MW_TEST_H

#include <mailwire/mailwire.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Record a failed check; the current test is marked failed, execution goes on. */
void mw_test_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Run one test function and count it as passed or failed. */
void mw_test_run(const char *name, void (*fn)(void));
/* Print "N passed, N failed" and return the process exit status. */
int mw_test_finish(void);
/* Print bytes with escapes, for failure messages. */
void mw_test_dump(const char *label, const void *data, size_t len);

#define MW_RUN(fn) mw_test_run(#fn, fn)

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) mw_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);             \
    } while (0)

#define CHECK_INT(a, b)                                                                \
    do {                                                                               \
        long long va_ = (long long)(a), vb_ = (long long)(b);                          \
        if (va_ != vb_)                                                                \
            mw_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a,    \
                         va_, #b, vb_);                                                \
    } while (0)

#define CHECK_MEM(p, plen, q, qlen)                                                    \
    do {                                                                               \
        size_t pl_ = (size_t)(plen), ql_ = (size_t)(qlen);                             \
        if (pl_ != ql_ || memcmp((p), (q), pl_) != 0) {                                \
            mw_test_fail(__FILE__, __LINE__, "bytes differ: %s vs %s", #p, #q);        \
            mw_test_dump("  got     ", (p), pl_);                                      \
            mw_test_dump("  expected", (q), ql_);                                      \
        }                                                                              \
    } while (0)

#define CHECK_STR(p, plen, s) CHECK_MEM((p), (plen), (s), strlen(s))

/* ---- allocation tracking and failure injection ---------------------- */

/* A counting allocator: fail_at = N makes the Nth allocation (1-based)
 * fail; 0 never fails. live counts blocks not yet freed. */
typedef struct mw_test_alloc {
    mw_mem mem;
    long calls;
    long fail_at;
    long live;
    int failed; /* set once an injected failure happened */
} mw_test_alloc;

void mw_test_alloc_init(mw_test_alloc *a, long fail_at);

/* Run fn(mem) with the Nth allocation failing, for N = 1, 2, ... until a
 * run completes without an injected failure. Each run must return MW_OK or
 * MW_ERR_NOMEM (MW_ERR_NOMEM only when a failure was injected) and free
 * everything. Returns the number of runs. */
long mw_test_alloc_loop(const char *what, int (*fn)(const mw_mem *mem, void *arg), void *arg);

/* Deterministic pseudo-random numbers (xorshift64*) for property tests. */
uint64_t mw_test_rand(uint64_t *state);

/* n pseudo-random bytes from mw_test_rand(state) into p. */
void mw_test_fill(unsigned char *p, size_t n, uint64_t *state);

/* malloc that aborts the test binary on failure (n = 0 gives 1 byte). */
void *mw_test_xmalloc(size_t n);

#endif
