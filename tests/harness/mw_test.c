/* SPDX-License-Identifier: MIT */
#include "mw_test.h"

#include <stdarg.h>
#include <stdlib.h>

static int g_passed, g_failed, g_current_failed;
static const char *g_current = "?";

void mw_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s (%s:%d): ", g_current, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    g_current_failed = 1;
}

void mw_test_run(const char *name, void (*fn)(void))
{
    g_current = name;
    g_current_failed = 0;
    fn();
    if (g_current_failed) {
        g_failed++;
    } else {
        g_passed++;
        if (getenv("MW_TEST_VERBOSE")) fprintf(stderr, "ok   %s\n", name);
    }
}

int mw_test_finish(void)
{
    printf("%d passed, %d failed\n", g_passed, g_failed);
    fflush(stdout);
    return g_failed ? 1 : (g_passed ? 0 : 1);
}

void mw_test_dump(const char *label, const void *data, size_t len)
{
    const unsigned char *p = data;
    fprintf(stderr, "%s (%zu): \"", label, len);
    size_t shown = len > 300 ? 300 : len;
    for (size_t i = 0; i < shown; i++) {
        unsigned c = p[i];
        if (c == '\r') fputs("\\r", stderr);
        else if (c == '\n') fputs("\\n", stderr);
        else if (c == '\\') fputs("\\\\", stderr);
        else if (c == '"') fputs("\\\"", stderr);
        else if (c < 0x20 || c > 0x7e) fprintf(stderr, "\\x%02x", c);
        else fputc((int)c, stderr);
    }
    fprintf(stderr, "\"%s\n", shown < len ? "..." : "");
}

/* Each block carries a small header so free() can count it. */
typedef struct {
    size_t size;
    size_t pad_; /* keeps the payload 16-byte aligned */
} blk;

static int should_fail(mw_test_alloc *a)
{
    a->calls++;
    if (a->fail_at && a->calls == a->fail_at) {
        a->failed = 1;
        return 1;
    }
    return 0;
}

static void *t_malloc(size_t n, void *ud)
{
    mw_test_alloc *a = ud;
    if (should_fail(a)) return NULL;
    blk *b = malloc(sizeof(blk) + n);
    if (!b) return NULL;
    b->size = n;
    a->live++;
    return b + 1;
}

static void t_free(void *p, void *ud)
{
    mw_test_alloc *a = ud;
    if (!p) return;
    a->live--;
    free((blk *)p - 1);
}

static void *t_calloc(size_t count, size_t size, void *ud)
{
    size_t n = count * size;
    void *p = t_malloc(n, ud);
    if (p) memset(p, 0, n);
    return p;
}

static void *t_realloc(void *p, size_t n, void *ud)
{
    mw_test_alloc *a = ud;
    if (!p) return t_malloc(n, ud);
    if (should_fail(a)) return NULL;
    blk *b = realloc((blk *)p - 1, sizeof(blk) + n);
    if (!b) return NULL;
    b->size = n;
    return b + 1;
}

void mw_test_alloc_init(mw_test_alloc *a, long fail_at)
{
    memset(a, 0, sizeof *a);
    a->fail_at = fail_at;
    a->mem.user_data = a;
    a->mem.malloc = t_malloc;
    a->mem.free = t_free;
    a->mem.calloc = t_calloc;
    a->mem.realloc = t_realloc;
}

long mw_test_alloc_loop(const char *what, int (*fn)(const mw_mem *mem, void *arg), void *arg)
{
    for (long n = 1; n < 100000; n++) {
        mw_test_alloc a;
        mw_test_alloc_init(&a, n);
        int rc = fn(&a.mem, arg);
        if (a.live != 0)
            mw_test_fail(__FILE__, __LINE__, "%s: %ld blocks leaked when allocation %ld failed",
                         what, a.live, n);
        if (rc != MW_OK && !(rc == MW_ERR_NOMEM && a.failed))
            mw_test_fail(__FILE__, __LINE__, "%s: allocation %ld failed and the result was %d (%s)",
                         what, n, rc, mw_strerror(rc));
        if (rc == MW_ERR_NOMEM && !a.failed)
            mw_test_fail(__FILE__, __LINE__, "%s: NOMEM without an injected failure", what);
        if (!a.failed) return n;
        if (a.live != 0 || (rc != MW_OK && rc != MW_ERR_NOMEM)) return n;
    }
    mw_test_fail(__FILE__, __LINE__, "%s: allocation loop did not terminate", what);
    return -1;
}

uint64_t mw_test_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

void mw_test_fill(unsigned char *p, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)mw_test_rand(state);
}

void *mw_test_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}
