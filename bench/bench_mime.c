/*
 * MIME parser throughput: mailwire against GMime 3 (when installed) on
 * generated corpora: a small-message set (every message <= 64 KiB: text,
 * HTML alternatives in quoted-printable, small base64 attachments, nested
 * forwards), a mixed set with 1-4 MiB attachments, and one 200 MiB message.
 *
 * Usage: bench_mime [small|mixed|big|stream|build]
 *   (no argument: small, mixed and big)
 *   stream: only mailwire on a 1 GiB message generated on the fly, so that
 *           `/usr/bin/time -v bench_mime stream` shows the parser's memory.
 *   build:  a 1 GiB attachment written by the builder and parsed back with
 *           decoding in one pipeline (memory: both engines' buffers).
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

#include <mailwire/mime.h>

#if MW_BENCH_HAVE_GMIME
#include <gmime/gmime.h>
#endif

/* ---- corpus generation ------------------------------------------- */

typedef struct gbuf {
    char *p;
    size_t len, cap;
} gbuf;

static void gen_put(gbuf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) {
            fprintf(stderr, "bench: out of memory\n");
            exit(1);
        }
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void gen_str(gbuf *b, const char *s)
{
    gen_put(b, s, strlen(s));
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static const char *words[] = {"the",      "mail",     "server", "message",     "parser",
                              "boundary", "quick",    "brown",  "fox",         "jumps",
                              "over",     "lazy",     "dog",    "caf\xc3\xa9", "meeting",
                              "tomorrow", "attached", "report", "please",      "review"};

static void gen_text(gbuf *b, size_t n)
{
    size_t start = b->len, col = 0;
    while (b->len - start < n) {
        const char *w = words[rnd() % (sizeof words / sizeof *words)];
        size_t wl = strlen(w);
        if (col + wl + 1 > 72) {
            gen_str(b, "\r\n");
            col = 0;
        } else if (col) {
            gen_str(b, " ");
            col++;
        }
        gen_put(b, w, wl);
        col += wl;
    }
    gen_str(b, "\r\n");
}

/* Text as quoted-printable: the 8-bit bytes of the words become =XX. */
static void gen_qp(gbuf *b, size_t n)
{
    gbuf t = {0};
    gen_text(&t, n);
    size_t col = 0;
    for (size_t i = 0; i < t.len; i++) {
        unsigned char c = (unsigned char)t.p[i];
        char esc[4];
        if (c == '\r' && i + 1 < t.len && t.p[i + 1] == '\n') {
            gen_str(b, "\r\n");
            i++;
            col = 0;
            continue;
        }
        if (col >= 72) {
            gen_str(b, "=\r\n");
            col = 0;
        }
        if (c >= 128 || c == '=') {
            snprintf(esc, sizeof esc, "=%02X", c);
            gen_put(b, esc, 3);
            col += 3;
        } else {
            gen_put(b, (const char *)&c, 1);
            col++;
        }
    }
    free(t.p);
}

static void gen_b64(gbuf *b, size_t nbytes)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char line[80];
    for (size_t done = 0; done < nbytes; done += 57) {
        size_t n = nbytes - done < 57 ? nbytes - done : 57, o = 0;
        for (size_t i = 0; i < n; i += 3) {
            uint32_t v = (uint32_t)rnd();
            size_t k = n - i < 3 ? n - i : 3;
            line[o++] = al[(v >> 18) & 63];
            line[o++] = al[(v >> 12) & 63];
            line[o++] = k > 1 ? al[(v >> 6) & 63] : '=';
            line[o++] = k > 2 ? al[v & 63] : '=';
        }
        line[o++] = '\r';
        line[o++] = '\n';
        gen_put(b, line, o);
    }
}

static void gen_headers(gbuf *b, int n)
{
    char tmp[160];
    snprintf(
        tmp, sizeof tmp,
        "From: Sender %d <sender%d@example.org>\r\nTo: rcpt@example.net\r\n"
        "Subject: Message number %d about the report\r\nDate: Thu, 26 Nov 2026 23:00:00 +0000\r\n",
        n, n, n);
    gen_str(b, tmp);
    snprintf(tmp, sizeof tmp, "Message-ID: <%d.%llu@example.org>\r\nMIME-Version: 1.0\r\n", n,
             (unsigned long long)(rnd() % 1000000));
    gen_str(b, tmp);
    gen_str(b, "Received: from relay.example.org (relay.example.org [192.0.2.1])\r\n"
               "\tby mx.example.net with ESMTPS id 4F3D2C1B0A\r\n\tfor <rcpt@example.net>; Thu, 26 "
               "Nov 2026 23:00:00 +0000\r\n");
}

static void gen_alternative(gbuf *b, size_t n)
{
    gen_str(b, "Content-Type: multipart/alternative; boundary=\"=_alt_7f3a\"\r\n\r\n"
               "--=_alt_7f3a\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    gen_qp(b, n);
    gen_str(b, "--=_alt_7f3a\r\nContent-Type: text/html; charset=utf-8\r\n"
               "Content-Transfer-Encoding: quoted-printable\r\n\r\n<html><body><p>\r\n");
    gen_qp(b, n + n / 2);
    gen_str(b, "</p></body></html>\r\n--=_alt_7f3a--\r\n");
}

static void gen_mixed(gbuf *b, size_t text, size_t attach)
{
    gen_str(b, "Content-Type: multipart/mixed; boundary=\"=_mix_91c0\"\r\n\r\n"
               "This is a multi-part message in MIME format.\r\n--=_mix_91c0\r\n");
    gen_alternative(b, text);
    gen_str(b, "--=_mix_91c0\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
               "Content-Transfer-Encoding: base64\r\n"
               "Content-Disposition: attachment; filename=\"report.pdf\"\r\n\r\n");
    gen_b64(b, attach);
    gen_str(b, "--=_mix_91c0--\r\n");
}

static void gen_message(gbuf *b, int n, size_t attach)
{
    gen_headers(b, n);
    int kind = (int)(rnd() % 4);
    size_t text = 1000 + rnd() % 6000;
    if (attach) kind = 2;
    switch (kind) {
    case 0:
        gen_str(
            b,
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        gen_text(b, text);
        break;
    case 1:
        gen_alternative(b, text);
        break;
    case 2:
        gen_mixed(b, text, attach ? attach : 8000 + rnd() % 30000);
        break;
    default:
        gen_str(b, "Content-Type: multipart/mixed; boundary=\"=_fwd_1\"\r\n\r\n--=_fwd_1\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n\r\nSee the forwarded message.\r\n"
                   "--=_fwd_1\r\nContent-Type: message/rfc822\r\n\r\n");
        gen_headers(b, n + 1);
        gen_mixed(b, text / 2, 4000 + rnd() % 12000);
        gen_str(b, "--=_fwd_1--\r\n");
        break;
    }
}

typedef struct corpus {
    gbuf all;    /* messages back to back */
    size_t *off; /* message i is all.p[off[i] .. off[i+1]) */
    size_t n;
} corpus;

static void corpus_small(corpus *c, size_t n)
{
    memset(c, 0, sizeof *c);
    c->off = malloc((n + 1) * sizeof *c->off);
    for (size_t i = 0; i < n; i++) {
        c->off[i] = c->all.len;
        size_t before = c->all.len;
        gen_message(&c->all, (int)i, 0);
        if (c->all.len - before > 65536) c->all.len = before, i--; /* keep <= 64 KiB */
    }
    c->off[n] = c->all.len;
    c->n = n;
}

static void corpus_mixed(corpus *c, size_t n)
{
    memset(c, 0, sizeof *c);
    c->off = malloc((n + 1) * sizeof *c->off);
    for (size_t i = 0; i < n; i++) {
        c->off[i] = c->all.len;
        size_t attach = i % 5 == 0 ? (1u << 20) + rnd() % (3u << 20) : 0;
        gen_message(&c->all, (int)i, attach);
    }
    c->off[n] = c->all.len;
    c->n = n;
}

/* ---- mailwire ------------------------------------------------------ */

typedef struct mw_run {
    const corpus *c;
    mw_mime_parser *p;
    uint64_t body;
} mw_run;

static void mw_parse_one(mw_mime_parser *p, const char *m, size_t len, uint64_t *body)
{
    mw_mime_event ev;
    size_t off = 0;
    int rc;
    mw_mime_parser_reset(p);
    while (off < len) {
        size_t n = len - off < 65536 ? len - off : 65536;
        mw_ssize t = mw_mime_feed(p, m + off, n);
        if (t < 0) exit(2);
        off += (size_t)t;
        while ((rc = mw_mime_next(p, &ev)) > 0)
            if (rc == MW_MIME_BODY) *body += ev.data.len;
    }
    mw_mime_eof(p);
    while ((rc = mw_mime_next(p, &ev)) > 0)
        if (rc == MW_MIME_BODY) *body += ev.data.len;
}

static void mw_corpus_fn(void *arg)
{
    mw_run *r = arg;
    r->body = 0;
    for (size_t i = 0; i < r->c->n; i++)
        mw_parse_one(r->p, r->c->all.p + r->c->off[i], r->c->off[i + 1] - r->c->off[i], &r->body);
    bench_sink(&r->body, sizeof r->body);
}

/* ---- GMime --------------------------------------------------------- */

#if MW_BENCH_HAVE_GMIME
typedef struct gm_run {
    const corpus *c;
    int decode;
    uint64_t body;
} gm_run;

static void gm_decode_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    (void)parent;
    gm_run *r = data;
    if (!GMIME_IS_PART(part)) return;
    GMimeDataWrapper *w = g_mime_part_get_content((GMimePart *)part);
    if (!w) return;
    GMimeStream *null = g_mime_stream_null_new();
    g_mime_data_wrapper_write_to_stream(w, null);
    r->body += (uint64_t)((GMimeStreamNull *)null)->written;
    g_object_unref(null);
}

static void gm_corpus_fn(void *arg)
{
    gm_run *r = arg;
    r->body = 0;
    for (size_t i = 0; i < r->c->n; i++) {
        GMimeStream *s = g_mime_stream_mem_new_with_buffer(r->c->all.p + r->c->off[i],
                                                           r->c->off[i + 1] - r->c->off[i]);
        GMimeParser *parser = g_mime_parser_new_with_stream(s);
        GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
        if (msg && r->decode) g_mime_message_foreach(msg, gm_decode_part, r);
        if (msg) g_object_unref(msg);
        g_object_unref(parser);
        g_object_unref(s);
    }
}
#endif

/* ---- driver -------------------------------------------------------- */

static void report(const char *what, const corpus *c, double t, double base)
{
    double mb = (double)c->all.len / 1e6;
    printf("  %-34s %9.1f MB/s %10.0f msg/s", what, mb / t, (double)c->n / t);
    if (base > 0) printf("   x%.2f vs GMime", base / t);
    printf("\n");
}

static void bench_corpus(const char *name, const corpus *c, double secs)
{
    printf("%s: %zu messages, %.1f MB\n", name, c->n, (double)c->all.len / 1e6);
    double memcpy_rate = bench_memcpy_rate(c->all.len, 65536, 0.2);
    printf("  %-34s %9.1f MB/s\n", "memcpy (64 KiB pieces)", memcpy_rate / 1e6);
    double gm_parse = 0, gm_decode = 0;
#if MW_BENCH_HAVE_GMIME
    gm_run g = {c, 0, 0};
    gm_parse = bench_best(gm_corpus_fn, &g, secs);
    report("GMime 3 parse", c, gm_parse, 0);
    g.decode = 1;
    gm_decode = bench_best(gm_corpus_fn, &g, secs);
    report("GMime 3 parse+decode all parts", c, gm_decode, 0);
#endif
    mw_run r = {c, mw_mime_parser_new(NULL, NULL), 0};
    double t = bench_best(mw_corpus_fn, &r, secs);
    report("mailwire parse (raw bodies)", c, t, gm_parse);
    mw_mime_parser_free(r.p);
    mw_mime_options *o = mw_mime_options_new(NULL);
    mw_mime_options_set_flags(o, MW_MIME_DECODE);
    r.p = mw_mime_parser_new(NULL, o);
    t = bench_best(mw_corpus_fn, &r, secs);
    report("mailwire parse+decode (MW_MIME_DECODE)", c, t, gm_decode);
    mw_mime_parser_free(r.p);
    mw_mime_options_free(o);
}

/* A message of `total` bytes generated chunk by chunk into the parser:
 * memory use is the parser's, not the message's. */
static void stream_big(size_t total)
{
    mw_mime_parser *p = mw_mime_parser_new(NULL, NULL);
    gbuf b = {0};
    gen_headers(&b, 1);
    gen_str(&b,
            "Content-Type: multipart/mixed; boundary=\"=_big\"\r\n\r\n--=_big\r\n"
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    gbuf chunk = {0};
    gen_b64(&chunk, 48 * 1024); /* 64 KiB of base64 lines, reused */
    uint64_t body = 0, fed = 0;
    mw_mime_event ev;
    int rc;
    double t0 = bench_now();
    const char *src = b.p;
    size_t srclen = b.len, pos = 0;
    int phase = 0;
    while (phase < 3) {
        if (pos == srclen) {
            pos = 0;
            if (phase == 0)
                src = chunk.p, srclen = chunk.len, phase = 1;
            else if (phase == 1 && fed >= total)
                src = "--=_big--\r\n", srclen = 11, phase = 2;
            else if (phase == 2)
                phase = 3;
            continue;
        }
        mw_ssize t = mw_mime_feed(p, src + pos, srclen - pos);
        pos += (size_t)t;
        fed += (uint64_t)t;
        while ((rc = mw_mime_next(p, &ev)) > 0)
            if (rc == MW_MIME_BODY) body += ev.data.len;
    }
    mw_mime_eof(p);
    while ((rc = mw_mime_next(p, &ev)) > 0)
        if (rc == MW_MIME_BODY) body += ev.data.len;
    double t = bench_now() - t0;
    printf("stream: %.0f MiB generated on the fly, %.0f MiB of body, %.2f s, %.1f MB/s\n",
           (double)fed / 1048576.0, (double)body / 1048576.0, t, (double)fed / 1e6 / t);
    mw_mime_parser_free(p);
    free(b.p);
    free(chunk.p);
}

/* Builder -> parser pipeline: a 1 GiB attachment is written through the
 * builder (base64) and every drained output chunk is fed straight to a
 * decoding parser. Nothing holds the message: memory is the two engines'
 * buffers. */
static void build_pipeline(size_t total)
{
    mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 0);
    mw_mime_options *o = mw_mime_options_new(NULL);
    mw_mime_options_set_flags(o, MW_MIME_DECODE);
    mw_mime_parser *p = mw_mime_parser_new(NULL, o);
    mw_mime_options_free(o);
    unsigned char *chunk = malloc(65536);
    for (size_t i = 0; i < 65536; i++)
        chunk[i] = (unsigned char)rnd();
    uint64_t decoded = 0, wire = 0;
    mw_mime_event ev;
    int rc;
#define PUMP()                                                                                     \
    do {                                                                                           \
        size_t n_;                                                                                 \
        const unsigned char *o_;                                                                   \
        while ((o_ = mw_mime_builder_out_buf(b, &n_)) != NULL && n_) {                             \
            mw_ssize t_ = mw_mime_feed(p, o_, n_);                                                 \
            mw_mime_builder_out_ack(b, (size_t)t_);                                                \
            wire += (uint64_t)t_;                                                                  \
            while ((rc = mw_mime_next(p, &ev)) > 0)                                                \
                if (rc == MW_MIME_BODY) decoded += ev.data.len;                                    \
        }                                                                                          \
    } while (0)
    double t0 = bench_now();
    mw_mime_builder_header(b, "From", "a@example.org", 13);
    mw_mime_builder_multipart_begin(b, "mixed", "=_big", NULL);
    mw_mime_builder_part_begin(b, "application/octet-stream", NULL, MW_MIME_CTE_BASE64,
                               "attachment", "big.bin", NULL, 0);
    for (size_t done = 0; done < total;) {
        size_t off = 0;
        while (off < 65536) {
            mw_ssize t = mw_mime_builder_write(b, chunk + off, 65536 - off);
            off += (size_t)t;
            if (t == 0) PUMP();
        }
        done += 65536;
    }
    while (mw_mime_builder_part_end(b) == MW_ERR_BUFFER)
        PUMP();
    mw_mime_builder_multipart_end(b);
    PUMP();
    mw_mime_eof(p);
    while ((rc = mw_mime_next(p, &ev)) > 0)
        if (rc == MW_MIME_BODY) decoded += ev.data.len;
#undef PUMP
    double t = bench_now() - t0;
    printf("build: %.0f MiB attachment -> %.0f MiB on the wire -> %.0f MiB decoded back, %.2f s\n",
           (double)total / 1048576.0, (double)wire / 1048576.0, (double)decoded / 1048576.0, t);
    mw_mime_builder_free(b);
    mw_mime_parser_free(p);
    free(chunk);
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
#if MW_BENCH_HAVE_GMIME
    g_mime_init();
#endif
    if (!strcmp(what, "build")) {
        build_pipeline((size_t)1 << 30);
        return 0;
    }
    if (!strcmp(what, "stream")) {
        stream_big((size_t)1 << 30);
        return 0;
    }
    if (!strcmp(what, "all") || !strcmp(what, "small")) {
        corpus c;
        corpus_small(&c, 2000);
        bench_corpus("small (<= 64 KiB each)", &c, 2.0);
        free(c.all.p);
        free(c.off);
    }
    if (!strcmp(what, "all") || !strcmp(what, "mixed")) {
        corpus c;
        corpus_mixed(&c, 100);
        bench_corpus("mixed (20% with 1-4 MiB attachments)", &c, 2.0);
        free(c.all.p);
        free(c.off);
    }
    if (!strcmp(what, "all") || !strcmp(what, "big")) {
        corpus c;
        memset(&c, 0, sizeof c);
        c.off = malloc(2 * sizeof *c.off);
        c.off[0] = 0;
        gen_message(&c.all, 1, (200u << 20) / 4 * 3); /* ~200 MiB once in base64 */
        c.off[1] = c.all.len;
        c.n = 1;
        bench_corpus("one 200 MiB message", &c, 1.0);
        free(c.all.p);
        free(c.off);
    }
    return 0;
}
