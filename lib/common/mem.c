/*
 * Allocator plumbing: per-context hooks with libc defaults, and a
 * constant-time comparison for secrets.
 *
 * SPDX-License-Identifier: MIT
 */
#include "common/common_internal.h"

#include <stdlib.h>

static void *libc_malloc(size_t n, void *ud)
{
    (void)ud;
    return malloc(n);
}

static void libc_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static void *libc_calloc(size_t count, size_t size, void *ud)
{
    (void)ud;
    return calloc(count, size);
}

static void *libc_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    return realloc(p, n);
}

void mw__mem_resolve(mw_mem *out, const mw_mem *in)
{
    mw_mem m = {NULL, libc_malloc, libc_free, libc_calloc, libc_realloc};
    if (in) {
        m.user_data = in->user_data;
        if (in->malloc) m.malloc = in->malloc;
        if (in->free) m.free = in->free;
        if (in->calloc) m.calloc = in->calloc;
        if (in->realloc) m.realloc = in->realloc;
    }
    *out = m;
}

void *mw__malloc(const mw_mem *m, size_t n)
{
    return m->malloc(n ? n : 1, m->user_data);
}

void *mw__calloc(const mw_mem *m, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    return m->calloc(count ? count : 1, size ? size : 1, m->user_data);
}

void *mw__realloc(const mw_mem *m, void *p, size_t n)
{
    return m->realloc(p, n ? n : 1, m->user_data);
}

void mw__free(const mw_mem *m, void *p)
{
    if (p) m->free(p, m->user_data);
}

int mw__ct_memcmp(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a;
    const volatile unsigned char *y = b;
    unsigned diff = 0;
    for (size_t i = 0; i < n; i++) diff |= (unsigned)(x[i] ^ y[i]);
    return diff != 0;
}
