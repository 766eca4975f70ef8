/*
 * libFuzzer target for the MIME parser. The first input byte picks small
 * limits and a cut size; the rest is the message. Each input is parsed
 * whole and cut into pieces (and through the zero-copy path), and the
 * runs must agree. Invariants checked (abort on violation):
 *   - raw BODY/PREAMBLE/EPILOGUE bytes never exceed the input length
 *     (4 times it when decoding to UTF-8);
 *   - PART_BEGIN/PART_END balance and depths are consistent;
 *   - MESSAGE_END comes exactly once, last, then MW_ERR_CLOSED;
 *   - the parser never stalls with a full buffer;
 *   - split-invariance: same event digest and defect digest per cut.
 * With selector bit 7 the input instead drives a builder round trip.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/mime.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct digest {
    uint64_t events, defects, body;
    int run_type;
    int open; /* entities open */
    int ended;
    size_t expand; /* body bytes may be this many times the input (1 raw, 16 with UTF-8: TSCII) */
} digest;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void on_event(digest *d, const mw_mime_event *ev, size_t in_len)
{
    if (d->ended) abort();
    if (ev->type == MW_MIME_DEFECT) {
        /* The mbox envelope line: only the input's first line, handed out whole. */
        if (ev->defect == MW_MIME_DEFECT_MBOX_FROM &&
            (ev->offset != 0 || ev->value.len < 5 || ev->value.len > in_len ||
             memcmp(ev->value.base, "From ", 5) != 0))
            abort();
        /* A commutative sum: defects found by different stages (boundary
         * scan, decoder) may come out in a cut-dependent order; the set
         * of (code, offset) pairs may not differ. */
        uint64_t h = mix(0xcbf29ce484222325ull, &ev->defect, sizeof ev->defect);
        d->defects += mix(h, &ev->offset, sizeof ev->offset);
        return;
    }
    int data =
        ev->type == MW_MIME_BODY || ev->type == MW_MIME_PREAMBLE || ev->type == MW_MIME_EPILOGUE;
    if (data) {
        if (ev->data.len == 0) abort(); /* no empty chunks */
        d->body += ev->data.len;
        if ((uint64_t)d->body > in_len * d->expand) abort();
        if (d->run_type != ev->type) d->events = mix(d->events, &ev->type, sizeof ev->type);
        d->run_type = ev->type;
        d->events = mix(d->events, ev->data.base, ev->data.len);
        return;
    }
    d->run_type = 0;
    d->events = mix(d->events, &ev->type, sizeof ev->type);
    d->events = mix(d->events, ev->path.base, ev->path.len);
    switch (ev->type) {
    case MW_MIME_HEADER:
        if ((int)ev->depth != d->open) abort();
        d->events = mix(d->events, ev->name.base, ev->name.len);
        d->events = mix(d->events, ev->unfolded.base, ev->unfolded.len);
        if (ev->unfolded.len > ev->value.len) abort();
        break;
    case MW_MIME_PART_BEGIN:
        if ((int)ev->depth != d->open) abort();
        d->open++;
        d->events = mix(d->events, ev->media_type.base, ev->media_type.len);
        d->events = mix(d->events, ev->subtype.base, ev->subtype.len);
        d->events = mix(d->events, ev->filename.base, ev->filename.len);
        for (size_t i = 0; i < ev->nparams; i++) {
            d->events = mix(d->events, ev->params[i].name.base, ev->params[i].name.len);
            d->events = mix(d->events, ev->params[i].value.base, ev->params[i].value.len);
        }
        if (ev->kind == MW_MIME_KIND_MULTIPART && ev->boundary.len == 0) abort();
        break;
    case MW_MIME_PART_END:
        d->open--;
        if (d->open < 0 || (int)ev->depth != d->open) abort();
        break;
    case MW_MIME_MESSAGE_END:
        if (d->open != 0) abort();
        d->ended = 1;
        break;
    default:
        abort();
    }
}

static void drain(mw_mime_parser *p, digest *d, size_t in_len)
{
    mw_mime_event ev;
    int rc;
    while ((rc = mw_mime_next(p, &ev)) > 0) {
        if (rc != ev.type) abort();
        on_event(d, &ev, in_len);
        if (rc == MW_MIME_MESSAGE_END) {
            if (mw_mime_next(p, &ev) != MW_ERR_CLOSED) abort();
            return;
        }
    }
    if (rc < 0 && rc != MW_ERR_NOMEM) abort();
}

static digest run(const uint8_t *in, size_t len, const mw_mime_options *o, size_t cut, int zc,
                  size_t expand)
{
    digest d;
    memset(&d, 0, sizeof d);
    d.expand = expand;
    d.events = d.defects = 0xcbf29ce484222325ull;
    mw_mime_parser *p = mw_mime_parser_new(NULL, o);
    if (!p) abort();
    size_t off = 0;
    while (off < len) {
        size_t n = cut && cut < len - off ? cut : len - off;
        size_t took;
        if (zc) {
            unsigned char *buf;
            size_t room;
            if (mw_mime_recv_buf(p, &buf, &room) != MW_OK) abort();
            if (n > room) n = room;
            memcpy(buf, in + off, n);
            if (mw_mime_recv_ack(p, n) != MW_OK) abort();
            took = n;
        } else {
            mw_ssize t = mw_mime_feed(p, in + off, n);
            if (t < 0) abort();
            took = (size_t)t;
        }
        off += took;
        drain(p, &d, len);
        if (took == 0 && !d.ended) abort(); /* stalled on a full buffer */
    }
    mw_mime_eof(p);
    drain(p, &d, len);
    if (!d.ended) abort();
    mw_mime_parser_free(p);
    return d;
}

/* ---- builder round trip (selector bit 7) ---------------------------- */

typedef struct outbuf {
    unsigned char *p;
    size_t len, cap;
} outbuf;

static void out_put(outbuf *o, const void *d, size_t n)
{
    if (!n) return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->len + n)
            cap *= 2;
        o->p = realloc(o->p, cap);
        if (!o->p) abort();
        o->cap = cap;
    }
    memcpy(o->p + o->len, d, n);
    o->len += n;
}

static void out_drain(mw_mime_builder *b, outbuf *o)
{
    size_t n;
    const unsigned char *p;
    while ((p = mw_mime_builder_out_buf(b, &n)) != NULL && n) {
        out_put(o, p, n);
        mw_mime_builder_out_ack(b, n);
    }
}

/* Build multipart/mixed holding one part whose filename and body come from
 * the input, then parse it back: the filename and the decoded body must be
 * the input's (base64, and quoted-printable of non-text data, are exact),
 * and every output line must end in CRLF within 998 bytes. */
static void builder_round_trip(const uint8_t *data, size_t size)
{
    if (size < 2) return;
    unsigned mode = data[0];
    size_t fnlen = data[1] % 40;
    data += 2;
    size -= 2;
    if (fnlen > size) fnlen = size;
    char fn[41];
    memcpy(fn, data, fnlen);
    fn[fnlen] = '\0';
    int has_nul = memchr(data, 0, fnlen) != NULL;
    const uint8_t *body = data + fnlen;
    size_t blen = size - fnlen;
    int text = mode & 1;
    int cte = (mode & 2) ? MW_MIME_CTE_BASE64 : (mode & 4) ? MW_MIME_CTE_QP : MW_MIME_CTE_AUTO;
    mw_mime_builder *b = mw_mime_builder_new(NULL, (mode >> 3) & 7, 256 + (mode & 0x70) * 16);
    if (!b) abort();
    outbuf o = {0};
    if (mw_mime_builder_multipart_begin(b, "mixed", "=_fz", NULL) != MW_OK) abort();
    int rc = mw_mime_builder_part_begin(b, text ? "text/plain" : "application/x-fuzz", "utf-8", cte,
                                        "attachment", fnlen && !has_nul ? fn : NULL, body, blen);
    if (rc == MW_ERR_INVALID || rc == MW_ERR_SYNTAX) { /* CR/LF in the name, bad UTF-8 */
        mw_mime_builder_free(b);
        return;
    }
    if (rc != MW_OK) abort();
    size_t off = 0;
    while (off < blen) {
        mw_ssize t = mw_mime_builder_write(b, body + off, blen - off);
        if (t < 0) abort();
        if (t == 0) out_drain(b, &o);
        off += (size_t)t;
    }
    while ((rc = mw_mime_builder_part_end(b)) == MW_ERR_BUFFER)
        out_drain(b, &o);
    if (rc != MW_OK || mw_mime_builder_multipart_end(b) != MW_OK ||
        mw_mime_builder_finish(b) != MW_OK)
        abort();
    out_drain(b, &o);
    mw_mime_builder_free(b);
    size_t col = 0;
    for (size_t i = 0; i < o.len; i++) {
        if (o.p[i] == '\n' && (i == 0 || o.p[i - 1] != '\r')) abort();
        if (o.p[i] == '\r' && (i + 1 == o.len || o.p[i + 1] != '\n')) abort();
        col = o.p[i] == '\n' ? 0 : col + 1;
        if (col > 1000) abort();
    }
    mw_mime_options *opt = mw_mime_options_new(NULL);
    mw_mime_options_set_flags(opt, MW_MIME_DECODE);
    mw_mime_parser *p = mw_mime_parser_new(NULL, opt);
    mw_mime_options_free(opt);
    if (mw_mime_feed(p, o.p, o.len) != (mw_ssize)o.len) abort();
    mw_mime_eof(p);
    mw_mime_event ev;
    outbuf got = {0};
    int parts = 0, exact = cte == MW_MIME_CTE_BASE64 || (cte == MW_MIME_CTE_QP && !text);
    while ((rc = mw_mime_next(p, &ev)) > 0) {
        if (rc == MW_MIME_PART_BEGIN && ++parts == 2 && fnlen && !has_nul) {
            if (ev.filename.len != fnlen || memcmp(ev.filename.base, fn, fnlen) != 0) abort();
        }
        if (rc == MW_MIME_BODY && parts == 2) out_put(&got, ev.data.base, ev.data.len);
        /* 2047_PARAM: the RFC 2047 name= that MW_MIME_BUILD_2047_NAME writes */
        if (rc == MW_MIME_DEFECT && ev.defect != MW_MIME_DEFECT_8BIT_HEADER &&
            ev.defect != MW_MIME_DEFECT_2047_PARAM)
            abort();
    }
    if (rc != MW_ERR_CLOSED || parts != 2) abort();
    if (exact && (got.len != blen || (blen && memcmp(got.p, body, blen) != 0))) abort();
    mw_mime_parser_free(p);
    free(got.p);
    free(o.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0];
    data++;
    size--;
    if (sel & 0x80) {
        builder_round_trip(data, size);
        return 0;
    }
    mw_mime_options *o = mw_mime_options_new(NULL);
    if (!o) return 0;
    if (sel & 1) {
        mw_mime_options_set_limit(o, MW_MIME_LIMIT_BUFFER, 4096);
        mw_mime_options_set_limit(o, MW_MIME_LIMIT_HEADER_BYTES, 300);
        mw_mime_options_set_limit(o, MW_MIME_LIMIT_LINE, 80);
    }
    if (sel & 2) {
        mw_mime_options_set_limit(o, MW_MIME_LIMIT_DEPTH, 3);
        mw_mime_options_set_limit(o, MW_MIME_LIMIT_PARTS, 5);
        mw_mime_options_set_limit(o, MW_MIME_LIMIT_PARAMS, 3);
        mw_mime_options_set_limit(o, MW_MIME_LIMIT_SEGMENTS, 3);
        mw_mime_options_set_limit(o, MW_MIME_LIMIT_HEADER_FIELDS, 4);
    }
    size_t expand = 1;
    if (sel & 0x40) {
        /* With bit 1 too, text is also converted to UTF-8; the converter
         * is split-invariant on malformed input too (codec/charset.c:
         * EILSEQ is final, UTF-7 is in-house), so bodies are compared. */
        int utf8 = (sel & 0x02) != 0;
        mw_mime_options_set_flags(o, MW_MIME_DECODE | (utf8 ? MW_MIME_UTF8 : 0u));
        expand = utf8 ? 16 : 1;
    }
    size_t cut = 1 + ((sel >> 2) & 7);
    digest whole = run(data, size, o, 0, 0, expand);
    digest cutd = run(data, size, o, cut, (sel >> 5) & 1, expand);
    if (whole.defects != cutd.defects) abort();
    if (whole.events != cutd.events || whole.body != cutd.body) abort();
    mw_mime_options_free(o);
    return 0;
}
