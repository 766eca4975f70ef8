/*
 * Fuzz the header-field iterator, single-field parse and unfolding.
 * Invariants: fields tile the header block exactly; each field classifies
 * the same alone; unfolding never grows and equals the zero-copy pieces;
 * the msg-id iterator stays inside each value and always makes progress.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/rfc5322.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_unfold(mw_slice v)
{
    char *out = malloc(v.len + 1);
    if (!out) return;
    mw_ssize n = mw_hdr_unfold(v.base, v.len, out, v.len, 0);
    if (n < 0 || (size_t)n > v.len) abort();
    mw_slice rest = v, piece;
    size_t at = 0;
    while (mw_hdr_unfold_next(&rest, &piece) == 1) {
        if (piece.len == 0 || at + piece.len > (size_t)n) abort();
        if (memcmp(out + at, piece.base, piece.len) != 0) abort();
        at += piece.len;
    }
    if (at != (size_t)n) abort();
    mw_ssize t = mw_hdr_unfold(v.base, v.len, out, v.len, MW_HDR_UNFOLD_TRIM);
    if (t < 0 || t > n) abort();
    free(out);
}

/* Message-ID lists in any field value: views stay inside the value, an id
 * is exactly left '@' right, and every call makes progress. */
static void check_msgids(mw_slice v)
{
    mw_msgid_iter it;
    mw_msgid id;
    if (mw_msgid_iter_init(&it, v.base, v.len) != MW_OK) abort();
    size_t calls = 0;
    int rc;
    while ((rc = mw_msgid_iter_next(&it, &id)) != 0) {
        if (++calls > v.len + 1) abort();
        if (rc == MW_ERR_SYNTAX || rc == MW_ERR_LIMIT) continue;
        if (rc != 1) abort();
        if (id.id.base < v.base || id.id.base + id.id.len > v.base + v.len) abort();
        if (id.left.base != id.id.base || id.left.len + 1 + id.right.len != id.id.len) abort();
        if (id.left.base[id.left.len] != '@' || id.right.base != id.left.base + id.left.len + 1)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *buf = (const char *)data;
    mw_hdr_iter it;
    mw_hdr_field f, g;
    if (mw_hdr_iter_init(&it, buf, size) != MW_OK) abort();
    size_t pos = 0;
    int rc;
    while ((rc = mw_hdr_iter_next(&it, &f)) == 1) {
        if (f.raw.base != buf + pos || f.raw.len == 0) abort();
        if (f.value.base < f.raw.base || f.value.base + f.value.len > f.raw.base + f.raw.len)
            abort();
        if (f.name.base != f.raw.base || f.name.len > f.raw.len) abort();
        if (mw_hdr_field_parse(f.raw.base, f.raw.len, &g) != MW_OK) abort();
        if (g.name.base != f.name.base || g.name.len != f.name.len) abort();
        if (g.value.base != f.value.base || g.value.len != f.value.len) abort();
        if (g.defects != f.defects) abort();
        check_unfold(f.value);
        check_msgids(f.value);
        pos += f.raw.len;
    }
    if (rc != 0) abort();
    size_t body = mw_hdr_iter_body(&it, NULL);
    if (body < pos || body > size || body - pos > 2) abort();
    return 0;
}
