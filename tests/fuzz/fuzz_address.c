/*
 * Fuzz the address-list parser and the mailbox formatter. Invariants:
 * every slice lies in the input or in the arena; groups own exactly their
 * members; whatever the formatter writes from a parsed mailbox parses back
 * to the same display name, local part and domain.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/rfc5322.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void same(mw_slice a, mw_slice b)
{
    if (a.len != b.len || memcmp(a.base, b.base, a.len) != 0) abort();
}

static void reformat(const mw_addr *a, unsigned flags)
{
    size_t cap = 4 * (a->display.len + a->local.len + a->domain.len) + 64;
    char *out = malloc(cap);
    if (!out) return;
    mw_ssize n = mw_addr_format(a->display.base, a->display.len, a->local.base, a->local.len,
                                a->domain.base, a->domain.len, flags, out, cap);
    if (n >= 0) {
        /* Builders never emit a bare line end: only CRLF SP folds. */
        for (mw_ssize i = 0; i < n; i++) {
            if (out[i] == 0) abort();
            if (out[i] == '\r' && (i + 2 >= n || out[i + 1] != '\n' || out[i + 2] != ' ')) abort();
            if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r')) abort();
        }
        mw_addr_list l;
        if (mw_addr_list_parse(out, (size_t)n, NULL, NULL, &l) != MW_OK) abort();
        if (l.count != 1 || l.items[0].kind != MW_ADDR_MAILBOX) abort();
        same(l.items[0].display, a->display);
        same(l.items[0].local, a->local);
        same(l.items[0].domain, a->domain);
        mw_addr_list_free(&l);
    } else if (n != MW_ERR_SYNTAX) {
        abort();
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *in = (const char *)data;
    mw_addr_list l;
    mw_addr_opts o = {64, 8, 0};
    int rc = mw_addr_list_parse(in, size, &o, NULL, &l);
    if (rc == MW_ERR_LIMIT) return 0;
    if (rc != MW_OK) abort();
    for (size_t i = 0; i < l.count; i++) {
        const mw_addr *a = &l.items[i];
        if (a->raw.base < in || a->raw.base + a->raw.len > in + size) {
            if (a->raw.len) abort();
        }
        if (a->kind == MW_ADDR_GROUP) {
            if (a->members > l.count - i - 1) abort();
            for (size_t j = 1; j <= a->members; j++)
                if (l.items[i + j].group != i) abort();
        } else if (a->kind == MW_ADDR_MAILBOX) {
            if (a->domain.len == 0 || a->addr_spec.len < 2) abort(); /* the local part may be "" */
            if (a->addr_spec.base[a->addr_spec.len] != 0) abort();
            reformat(a, MW_ADDR_FMT_UTF8);
            reformat(a, 0);
        } else if (a->kind != MW_ADDR_INVALID) {
            abort();
        }
    }
    mw_addr_list_free(&l);
    return 0;
}
