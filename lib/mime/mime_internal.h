/*
 * mailwire — MIME module internals: parser state, entity stack, header
 * value parsing (Content-Type, Content-Disposition, RFC 2231 parameters).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_MIME_INTERNAL_H
#define MW_MIME_INTERNAL_H

#include <mailwire/codec.h>
#include <mailwire/mime.h>

#include "common/common_internal.h"

struct mw_mime_options {
    mw_mem mem;
    size_t buffer, depth, parts, header_bytes, header_fields, params, segments, line;
    unsigned flags;
};

/* ---- header value parsing (mime_params.c) ---- */

/* A growable byte arena with a hard cap; slices into it stay valid until
 * the arena is reset (it never moves once reserved: callers reserve the
 * worst case before writing). */
typedef struct mw__arena {
    const mw_mem *mem;
    char *buf;
    size_t len, cap, max;
} mw__arena;

/* Parsed structured header (type/subtype or disposition) with parameters. */
typedef struct mw__mime_ctype {
    mw_slice type, subtype; /* lowercase; subtype empty for Content-Disposition */
    mw_mime_param *params;
    size_t nparams;
    unsigned defects; /* bit (1u << MW_MIME_DEFECT_x) for each defect found */
} mw__mime_ctype;

/* Limits and scratch for mw__mime_parse_ctype. */
typedef struct mw__mime_pctx {
    mw__arena *arena;      /* output strings */
    mw_mime_param *params; /* output array of max_params entries */
    size_t max_params;
    size_t max_segments;
    struct mw__raw_param *raw; /* scratch of max_params + max_segments entries */
    size_t max_raw;
} mw__mime_pctx;

/* Raw parameter before RFC 2231 joining. */
typedef struct mw__raw_param {
    mw_slice name;  /* without the "*n*" suffix */
    mw_slice value; /* unquoted bytes may still hold backslash escapes when quoted */
    long section;   /* -1 when absent */
    unsigned char extended, quoted, used;
} mw__raw_param;

/**
 * Parse "type/subtype *(; param)" (has_subtype) or "disposition *(; param)"
 * into out, with strings in ctx->arena. Never fails on bad input (defect
 * bits instead); returns MW_OK or MW_ERR_NOMEM / MW_ERR_LIMIT (arena).
 */
int mw__mime_parse_ctype(mw__mime_pctx *ctx, const char *s, size_t len, int has_subtype,
                         mw__mime_ctype *out);

/** Append bytes to the arena (reserving first). NULL on NOMEM/LIMIT. */
char *mw__arena_push(mw__arena *a, const void *data, size_t len);
/** Reserve n bytes at the end; returns where to write (commit by adding to a->len). */
char *mw__arena_reserve(mw__arena *a, size_t n);

/** ASCII case-insensitive equality of two slices. */
int mw__mime_ieq_slices(mw_slice a, mw_slice b);

/** ASCII case-insensitive equality of a slice and a lowercase C string. */
int mw__mime_ieq(const char *s, size_t len, const char *lower);

/**
 * Convert bytes in charset to UTF-8 into the arena. Returns 1 when converted,
 * 0 when the charset is unknown or the bytes invalid (out is then a copy of
 * the input), negative MW_ERR_* on NOMEM/LIMIT.
 */
int mw__mime_to_utf8(mw__arena *a, const char *charset, size_t cslen, const char *in, size_t len,
                     mw_slice *out);

#endif /* MW_MIME_INTERNAL_H */
