/*
 * MIME builder: header folding and encoding, injection refusal, CTE choice,
 * RFC 2231 filenames, streaming with a small output queue, and round trips:
 * what the builder writes, the parser reads back identically.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/codec.h>
#include <mailwire/mime.h>

#include <stdlib.h>

/* ---- helpers -------------------------------------------------------- */

typedef struct obuf {
    unsigned char *p;
    size_t len, cap;
} obuf;

static void ob_put(obuf *o, const void *d, size_t n)
{
    if (n == 0) return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap < o->len + n)
            cap *= 2;
        o->p = realloc(o->p, cap);
        o->cap = cap;
    }
    memcpy(o->p + o->len, d, n);
    o->len += n;
}

/* Drain the builder, at most step bytes per ack (0 = all). */
static void drain(mw_mime_builder *b, obuf *o, size_t step)
{
    size_t n;
    const unsigned char *p;
    while ((p = mw_mime_builder_out_buf(b, &n)) != NULL && n) {
        if (step && n > step) n = step;
        ob_put(o, p, n);
        mw_mime_builder_out_ack(b, n);
    }
}

/* Write all of data, draining whenever the builder takes nothing. */
static int write_all(mw_mime_builder *b, obuf *o, const void *data, size_t len, size_t piece)
{
    size_t off = 0;
    while (off < len) {
        size_t n = piece && len - off > piece ? piece : len - off;
        mw_ssize t = mw_mime_builder_write(b, (const char *)data + off, n);
        if (t < 0) return (int)t;
        if (t == 0) drain(b, o, 0);
        off += (size_t)t;
    }
    return MW_OK;
}

/* Line rules of the output: CRLF only, no line over 998. Returns the
 * longest line. */
static size_t check_lines(const obuf *o)
{
    size_t col = 0, maxcol = 0;
    for (size_t i = 0; i < o->len; i++) {
        if (o->p[i] == '\r') {
            CHECK(i + 1 < o->len && o->p[i + 1] == '\n');
            if (col > maxcol) maxcol = col;
            col = 0;
            i++;
            continue;
        }
        CHECK(o->p[i] != '\n');
        col++;
    }
    if (col > maxcol) maxcol = col;
    CHECK(maxcol <= 998);
    return maxcol;
}

/* What the parser reads back: per entity, its path, type, filename, first
 * headers and decoded body. */
typedef struct rpart {
    char path[32];
    char type[64];
    char filename[256];
    char subject[256];
    int kind, cte;
    obuf body;
} rpart;

typedef struct readback {
    rpart parts[32];
    int n;
    int defects;
    int compat_2047; /* MW_MIME_DEFECT_2047_PARAM: what MW_MIME_BUILD_2047_NAME writes */
} readback;

static void copy_slice(char *dst, size_t cap, mw_slice s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n) memcpy(dst, s.base, n);
    dst[n] = '\0';
}

/* Case-insensitive compare of a slice and a lowercase string. */
static int mw_test_ieq(mw_slice s, const char *low)
{
    size_t n = strlen(low);
    if (s.len != n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s.base[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != low[i]) return 0;
    }
    return 1;
}

static void parse_back(const obuf *o, readback *r)
{
    memset(r, 0, sizeof *r);
    mw_mime_options *opt = mw_mime_options_new(NULL);
    mw_mime_options_set_flags(opt, MW_MIME_DECODE);
    mw_mime_parser *p = mw_mime_parser_new(NULL, opt);
    mw_mime_options_free(opt);
    size_t off = 0;
    int rc = 0, ended = 0;
    char subject[256] = "";
    while (!ended) {
        if (off < o->len) {
            mw_ssize t = mw_mime_feed(p, o->p + off, o->len - off);
            CHECK(t >= 0);
            off += (size_t)t;
        } else {
            mw_mime_eof(p);
        }
        mw_mime_event ev;
        while ((rc = mw_mime_next(p, &ev)) > 0) {
            if (rc == MW_MIME_HEADER && mw_test_ieq(ev.name, "subject")) {
                char dec[512];
                mw_ssize n =
                    mw_2047_decode(ev.unfolded.base, ev.unfolded.len, dec, sizeof dec, 0, NULL);
                if (n >= 0) copy_slice(subject, sizeof subject, (mw_slice){dec, (size_t)n});
            } else if (rc == MW_MIME_PART_BEGIN && r->n < 32) {
                rpart *q = &r->parts[r->n++];
                copy_slice(q->path, sizeof q->path, ev.path);
                char t[30], st[30];
                copy_slice(t, sizeof t, ev.media_type);
                copy_slice(st, sizeof st, ev.subtype);
                snprintf(q->type, sizeof q->type, "%s/%s", t, st);
                copy_slice(q->filename, sizeof q->filename, ev.filename);
                memcpy(q->subject, subject, sizeof subject);
                subject[0] = '\0';
                q->kind = ev.kind;
                q->cte = ev.cte;
            } else if (rc == MW_MIME_BODY && r->n > 0) {
                ob_put(&r->parts[r->n - 1].body, ev.data.base, ev.data.len);
            } else if (rc == MW_MIME_DEFECT && ev.defect == MW_MIME_DEFECT_2047_PARAM) {
                r->compat_2047++;
            } else if (rc == MW_MIME_DEFECT) {
                r->defects++;
                fprintf(stderr, "  defect %d at %llu\n", ev.defect, (unsigned long long)ev.offset);
            } else if (rc == MW_MIME_MESSAGE_END) {
                ended = 1;
            }
        }
        CHECK(rc == 0 || rc == MW_ERR_CLOSED);
        if (rc < 0) break;
    }
    mw_mime_parser_free(p);
}

static void free_readback(readback *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->parts[i].body.p);
}

/* ---- tests ---------------------------------------------------------- */

static void test_simple_text(void)
{
    mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 0);
    const char *text = "Hello caf\xc3\xa9,\r\nsee you at 10.\r\n";
    CHECK_INT(mw_mime_builder_header(b, "From", "Ann <ann@example.org>", 21), MW_OK);
    CHECK_INT(mw_mime_builder_header(b, "Date", "Thu, 26 Nov 2026 23:00:00 +0000", 31), MW_OK);
    CHECK_INT(mw_mime_builder_header(b, "Message-ID", "<1@example.org>", 15), MW_OK);
    CHECK_INT(mw_mime_builder_header_text(b, "Subject", "Caf\xc3\xa9 at ten", 12), MW_OK);
    CHECK_INT(mw_mime_builder_part_begin(b, "text/plain", "utf-8", MW_MIME_CTE_AUTO, NULL, NULL,
                                         text, strlen(text)),
              MW_OK);
    obuf o = {0};
    CHECK_INT(write_all(b, &o, text, strlen(text), 0), MW_OK);
    CHECK_INT(mw_mime_builder_part_end(b), MW_OK);
    CHECK_INT(mw_mime_builder_finish(b), MW_OK);
    drain(b, &o, 0);
    mw_mime_builder_free(b);
    const char *want = "From: Ann <ann@example.org>\r\n"
                       "Date: Thu, 26 Nov 2026 23:00:00 +0000\r\n"
                       "Message-ID: <1@example.org>\r\n"
                       "Subject: =?UTF-8?Q?Caf=C3=A9_at_ten?=\r\n"
                       "MIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: quoted-printable\r\n"
                       "\r\n"
                       "Hello caf=C3=A9,\r\nsee you at 10.\r\n";
    CHECK_MEM(o.p, o.len, want, strlen(want));
    readback r;
    parse_back(&o, &r);
    CHECK_INT(r.n, 1);
    CHECK(strcmp(r.parts[0].subject, "Caf\xc3\xa9 at ten") == 0);
    CHECK_MEM(r.parts[0].body.p, r.parts[0].body.len, text, strlen(text));
    CHECK_INT(r.defects, 0);
    free_readback(&r);
    free(o.p);
}

static void test_folding(void)
{
    mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 0);
    char v[600];
    size_t n = 0;
    for (int i = 0; i < 80; i++)
        n += (size_t)snprintf(v + n, sizeof v - n, "word%d ", i);
    n--; /* no trailing space */
    CHECK_INT(mw_mime_builder_header(b, "X-Long", v, n), MW_OK);
    char big[1200];
    memset(big, 'x', sizeof big);
    CHECK_INT(mw_mime_builder_header(b, "X-Big", big, sizeof big), MW_ERR_LINE_TOO_LONG);
    {
        /* Larger than the queue could ever hold: a limit, not "drain first". */
        mw_mime_builder *small = mw_mime_builder_new(NULL, 0, 1024);
        size_t hn = 200000;
        char *huge = malloc(hn);
        for (size_t i = 0; i < hn; i++)
            huge[i] = i % 10 == 9 ? ' ' : 'w';
        CHECK_INT(mw_mime_builder_header(small, "X-Huge", huge, hn), MW_ERR_LIMIT);
        free(huge);
        mw_mime_builder_free(small);
    }
    char longtext[400];
    for (size_t i = 0; i < sizeof longtext; i++)
        longtext[i] = (char)(i % 7 == 6 ? ' ' : 'a' + (char)(i % 26));
    memcpy(longtext, "\xc3\xa9", 2);
    CHECK_INT(mw_mime_builder_header_text(b, "Subject", longtext, sizeof longtext), MW_OK);
    CHECK_INT(
        mw_mime_builder_part_begin(b, "text/plain", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0),
        MW_OK);
    CHECK_INT(mw_mime_builder_part_end(b), MW_OK);
    obuf o = {0};
    drain(b, &o, 7);
    mw_mime_builder_free(b);
    CHECK(check_lines(&o) <= 78);
    /* Unfolding gives the value back. */
    mw_mime_parser *p = mw_mime_parser_new(NULL, NULL);
    CHECK(mw_mime_feed(p, o.p, o.len) == (mw_ssize)o.len);
    mw_mime_eof(p);
    mw_mime_event ev;
    CHECK_INT(mw_mime_next(p, &ev), MW_MIME_HEADER);
    CHECK_MEM(ev.unfolded.base, ev.unfolded.len, v, n);
    CHECK_INT(mw_mime_next(p, &ev), MW_MIME_HEADER);
    char dec[1500];
    mw_ssize dn = mw_2047_decode(ev.unfolded.base, ev.unfolded.len, dec, sizeof dec, 0, NULL);
    CHECK_MEM(dec, (size_t)dn, longtext, sizeof longtext);
    mw_mime_parser_free(p);
    free(o.p);
}

static void test_injection_refused(void)
{
    mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 0);
    CHECK_INT(mw_mime_builder_header(b, "Subject", "a\r\nBcc: x", 9), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header(b, "Subject", "a\nb", 3), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header(b, "Subject", "a\0b", 3), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header_text(b, "Subject", "a\rb", 3), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header(b, "Bad:Name", "x", 1), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header(b, "Bad Name", "x", 1), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header(b, "X", "caf\xc3\xa9", 5), MW_ERR_SYNTAX);
    CHECK_INT(mw_mime_builder_header_text(b, "X", "\xff\xfe", 2), MW_ERR_SYNTAX);
    CHECK_INT(mw_mime_builder_part_begin(b, "text/plain", NULL, MW_MIME_CTE_7BIT, "attachment",
                                         "a\r\nb.txt", NULL, 0),
              MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_part_begin(b, "text/plain\r\nX: y", NULL, MW_MIME_CTE_7BIT, NULL,
                                         NULL, NULL, 0),
              MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_part_begin(b, "text/plain", "utf-8\r\n", MW_MIME_CTE_7BIT, NULL, NULL,
                                         NULL, 0),
              MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_multipart_begin(b, "mixed", "bad\nboundary", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_multipart_begin(b, "mixed", "ends with space ", NULL),
              MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_multipart_begin(b, "mixed", "ok", "x=1\r\n"), MW_ERR_INVALID);
    size_t len = 99;
    CHECK(mw_mime_builder_out_buf(b, &len) == NULL);
    CHECK_INT(len, 0); /* nothing was written */
    mw_mime_builder_free(b);
    /* SMTPUTF8: raw UTF-8 allowed in headers. */
    b = mw_mime_builder_new(NULL, MW_MIME_BUILD_SMTPUTF8, 0);
    CHECK_INT(mw_mime_builder_header(b, "To", "J\xc3\xb6rg <j\xc3\xb6rg@example.de>", 24), MW_OK);
    CHECK_INT(mw_mime_builder_header_text(b, "Subject",
                                          "Gr\xc3\xbc\xc3\x9f"
                                          "e",
                                          7),
              MW_OK);
    const unsigned char *p = mw_mime_builder_out_buf(b, &len);
    const char *want = "To: J\xc3\xb6rg <j\xc3\xb6rg@example.de>\r\nSubject: Gr\xc3\xbc\xc3\x9f"
                       "e\r\n";
    CHECK_MEM(p, len, want, strlen(want));
    mw_mime_builder_free(b);
    CHECK(mw_mime_builder_new(NULL, 0x100, 0) == NULL);
}

static void test_state_errors(void)
{
    mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 0);
    CHECK_INT(mw_mime_builder_write(b, "x", 1), MW_ERR_STATE);
    CHECK_INT(mw_mime_builder_part_end(b), MW_ERR_STATE);
    CHECK_INT(mw_mime_builder_multipart_end(b), MW_ERR_STATE);
    CHECK_INT(mw_mime_builder_message_end(b), MW_ERR_STATE);
    CHECK_INT(mw_mime_builder_finish(b), MW_ERR_STATE);
    CHECK_INT(mw_mime_builder_multipart_begin(b, "mixed", "=_b", NULL), MW_OK);
    CHECK_INT(mw_mime_builder_write(b, "x", 1), MW_ERR_STATE);
    CHECK_INT(
        mw_mime_builder_part_begin(b, "text/plain", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0),
        MW_OK);
    CHECK_INT(mw_mime_builder_write(b, "x", 1), 1);
    CHECK_INT(mw_mime_builder_header(b, "X-Late", "y", 1), MW_ERR_STATE); /* body started */
    CHECK_INT(mw_mime_builder_multipart_end(b), MW_ERR_STATE);
    CHECK_INT(mw_mime_builder_part_end(b), MW_OK);
    CHECK_INT(mw_mime_builder_multipart_end(b), MW_OK);
    CHECK_INT(mw_mime_builder_finish(b), MW_OK);
    CHECK_INT(
        mw_mime_builder_part_begin(b, "text/plain", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0),
        MW_ERR_STATE);
    CHECK_INT(mw_mime_builder_header(b, "X", "y", 1), MW_ERR_STATE);
    mw_mime_builder_free(b);
}

static void test_choose_cte(void)
{
    CHECK_INT(mw_mime_choose_cte("plain text\r\n", 12, 1, 0), MW_MIME_CTE_7BIT);
    const char *accent = "caf\xc3\xa9 ordinary text with one accent\r\n";
    CHECK_INT(mw_mime_choose_cte(accent, strlen(accent), 1, 0), MW_MIME_CTE_QP);
    CHECK_INT(mw_mime_choose_cte(accent, strlen(accent), 1, 1), MW_MIME_CTE_8BIT);
    CHECK_INT(mw_mime_choose_cte("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 12, 1, 0),
              MW_MIME_CTE_BASE64);
    CHECK_INT(mw_mime_choose_cte("a\0b", 3, 1, 1), MW_MIME_CTE_BASE64);
    CHECK_INT(mw_mime_choose_cte("\x89PNG\r\n\x1a\n", 8, 0, 1), MW_MIME_CTE_BASE64);
    CHECK_INT(mw_mime_choose_cte("ascii", 5, 0, 0), MW_MIME_CTE_7BIT);
    CHECK_INT(mw_mime_choose_cte("line\n", 5, 0, 0), MW_MIME_CTE_BASE64); /* bare LF in data */
    CHECK_INT(mw_mime_choose_cte("line\n", 5, 1, 0), MW_MIME_CTE_7BIT);   /* text: becomes CRLF */
    char longline[1200];
    memset(longline, 'a', sizeof longline);
    CHECK_INT(mw_mime_choose_cte(longline, sizeof longline, 1, 1), MW_MIME_CTE_QP);
    CHECK_INT(mw_mime_choose_cte(NULL, 0, 1, 0), MW_MIME_CTE_7BIT);
}

static void fill_random(unsigned char *d, size_t n, uint64_t *rs, int textish)
{
    static const char *frags[] = {"caf\xc3\xa9 ", "hello ",     "\r\n",
                                  "--=_not ",     "=3D ",       ". ",
                                  "From x\r\n",   "tab\there ", "\xe2\x82\xac "};
    size_t i = 0;
    while (i < n) {
        if (textish) {
            const char *f = frags[mw_test_rand(rs) % (sizeof frags / sizeof *frags)];
            size_t fl = strlen(f);
            if (fl > n - i) fl = n - i;
            memcpy(d + i, f, fl);
            i += fl;
        } else {
            d[i++] = (unsigned char)mw_test_rand(rs);
        }
    }
}

/* RFC 3464 §2.2/§2.3 per-message and per-recipient fields. */
#define DSN_FIELDS                                                                                 \
    "Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; c@example.net\r\n"         \
    "Action: failed\r\nStatus: 5.1.1\r\n"

/* Build a message with every kind of structure, then read it back. */
static void build_complex(const mw_mem *mem, obuf *o, size_t out_max, size_t piece, size_t step,
                          const unsigned char *att, size_t attlen, const char *txt, size_t txtlen,
                          int *rc_out)
{
    int rc = MW_OK;
    mw_mime_builder *b = mw_mime_builder_new(mem, MW_MIME_BUILD_2047_NAME, out_max);
    if (!b) {
        *rc_out = MW_ERR_NOMEM;
        return;
    }
#define TRY(x)                                                                                     \
    do {                                                                                           \
        int r_ = (x);                                                                              \
        while (r_ == MW_ERR_BUFFER) {                                                              \
            drain(b, o, step);                                                                     \
            r_ = (x);                                                                              \
        }                                                                                          \
        if (r_ < 0) {                                                                              \
            rc = r_;                                                                               \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)
    TRY(mw_mime_builder_header(b, "From", "a@example.org", 13));
    TRY(mw_mime_builder_header_text(b, "Subject", "R\xc3\xa9sum\xc3\xa9 and forward", 20));
    TRY(mw_mime_builder_multipart_begin(b, "mixed", "=_outer_1", NULL));
    TRY(mw_mime_builder_multipart_begin(b, "alternative", "=_alt_2", NULL));
    TRY(mw_mime_builder_part_begin(b, "text/plain", "utf-8", MW_MIME_CTE_AUTO, NULL, NULL, txt,
                                   txtlen));
    TRY(write_all(b, o, txt, txtlen, piece));
    TRY(mw_mime_builder_part_end(b));
    TRY(mw_mime_builder_part_begin(b, "text/html", "utf-8", MW_MIME_CTE_QP, NULL, NULL, NULL, 0));
    TRY(write_all(b, o, "<p>hi</p>\r\n", 11, piece));
    TRY(mw_mime_builder_part_end(b));
    TRY(mw_mime_builder_multipart_end(b));
    TRY(mw_mime_builder_part_begin(
        b, "application/octet-stream", NULL, MW_MIME_CTE_BASE64, "attachment",
        "r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac with a rather long name that needs continuations.bin",
        NULL, 0));
    TRY(mw_mime_builder_header(b, "Content-ID", "<att1@example.org>", 18));
    TRY(write_all(b, o, att, attlen, piece));
    TRY(mw_mime_builder_part_end(b));
    TRY(mw_mime_builder_message_begin(b, 0));
    TRY(mw_mime_builder_header(b, "From", "b@example.org", 13));
    TRY(mw_mime_builder_header_text(b, "Subject", "inner", 5));
    TRY(mw_mime_builder_multipart_begin(b, "report", "=_rep_3", "report-type=delivery-status"));
    TRY(mw_mime_builder_part_begin(b, "text/plain", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0));
    TRY(write_all(b, o, "Delivery failed.\n", 17, piece)); /* bare LF becomes CRLF */
    TRY(mw_mime_builder_part_end(b));
    TRY(mw_mime_builder_part_begin(b, "message/delivery-status", NULL, MW_MIME_CTE_7BIT, NULL, NULL,
                                   NULL, 0));
    TRY(write_all(b, o, DSN_FIELDS, strlen(DSN_FIELDS), piece));
    TRY(mw_mime_builder_part_end(b));
    TRY(mw_mime_builder_multipart_end(b));
    TRY(mw_mime_builder_message_end(b));
    TRY(mw_mime_builder_multipart_end(b));
    TRY(mw_mime_builder_finish(b));
    drain(b, o, step);
#undef TRY
out:
    mw_mime_builder_free(b);
    *rc_out = rc;
}

static void check_complex(const obuf *o, const unsigned char *att, size_t attlen, const char *txt,
                          size_t txtlen)
{
    check_lines(o);
    readback r;
    parse_back(o, &r);
    CHECK_INT(r.defects, 0);
    CHECK_INT(r.compat_2047, 1); /* the attachment's RFC 2047 name= (MW_MIME_BUILD_2047_NAME) */
    CHECK_INT(r.n, 9);
    if (r.n != 9) {
        free_readback(&r);
        return;
    }
    CHECK(strcmp(r.parts[0].type, "multipart/mixed") == 0);
    CHECK(strcmp(r.parts[0].subject, "R\xc3\xa9sum\xc3\xa9 and forward") == 0);
    CHECK(strcmp(r.parts[1].path, "1") == 0 &&
          strcmp(r.parts[1].type, "multipart/alternative") == 0);
    CHECK(strcmp(r.parts[2].path, "1.1") == 0);
    CHECK_MEM(r.parts[2].body.p, r.parts[2].body.len, txt, txtlen);
    CHECK_MEM(r.parts[3].body.p, r.parts[3].body.len, "<p>hi</p>\r\n", 11);
    CHECK(strcmp(r.parts[4].path, "2") == 0);
    CHECK(strcmp(r.parts[4].filename, "r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac with a rather long name "
                                      "that needs continuations.bin") == 0);
    CHECK_INT(r.parts[4].cte, MW_MIME_CTE_BASE64);
    CHECK_MEM(r.parts[4].body.p, r.parts[4].body.len, att, attlen);
    CHECK(strcmp(r.parts[5].path, "3") == 0 && r.parts[5].kind == MW_MIME_KIND_MESSAGE);
    CHECK(strcmp(r.parts[6].path, "3.1") == 0 && strcmp(r.parts[6].type, "multipart/report") == 0);
    CHECK(strcmp(r.parts[6].subject, "inner") == 0);
    CHECK_MEM(r.parts[7].body.p, r.parts[7].body.len, "Delivery failed.\r\n", 18);
    CHECK(strcmp(r.parts[8].type, "message/delivery-status") == 0);
    CHECK_MEM(r.parts[8].body.p, r.parts[8].body.len, DSN_FIELDS, strlen(DSN_FIELDS));
    free_readback(&r);
}

static void test_round_trip_complex(void)
{
    uint64_t rs = 7;
    size_t attlen = 100000;
    unsigned char *att = malloc(attlen);
    fill_random(att, attlen, &rs, 0);
    char txt[3000];
    fill_random((unsigned char *)txt, sizeof txt, &rs, 1);
    /* Text must end as the parser will return it: CRLF-normalised input
     * reads back the same. */
    static const struct {
        size_t out_max, piece, step;
    } cfgs[] = {{0, 0, 0}, {1024, 100, 7}, {300, 1, 1}, {4096, 65536, 4096}};
    for (size_t k = 0; k < sizeof cfgs / sizeof *cfgs; k++) {
        obuf o = {0};
        int rc;
        build_complex(NULL, &o, cfgs[k].out_max, cfgs[k].piece, cfgs[k].step, att, attlen, txt,
                      sizeof txt, &rc);
        CHECK_INT(rc, MW_OK);
        check_complex(&o, att, attlen, txt, sizeof txt);
        /* the output queue never held more than out_max + the structure margin */
        free(o.p);
    }
    free(att);
}

static void test_round_trip_random(void)
{
    uint64_t rs = 99;
    for (int iter = 0; iter < 60; iter++) {
        size_t len = (size_t)(mw_test_rand(&rs) % 5000);
        int textish = (int)(mw_test_rand(&rs) % 2);
        unsigned char *d = malloc(len + 1);
        fill_random(d, len, &rs, textish);
        int ctes[] = {MW_MIME_CTE_AUTO, MW_MIME_CTE_QP, MW_MIME_CTE_BASE64};
        int cte = ctes[mw_test_rand(&rs) % 3];
        mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 256 + (size_t)(mw_test_rand(&rs) % 2000));
        obuf o = {0};
        CHECK_INT(mw_mime_builder_multipart_begin(b, "mixed", "=_rt", NULL), MW_OK);
        int rc = mw_mime_builder_part_begin(b, textish ? "text/plain" : "application/x-y", "utf-8",
                                            cte, NULL, NULL, d, len);
        CHECK_INT(rc, MW_OK);
        CHECK_INT(write_all(b, &o, d, len, 1 + (size_t)(mw_test_rand(&rs) % 700)), MW_OK);
        while (mw_mime_builder_part_end(b) == MW_ERR_BUFFER)
            drain(b, &o, 0);
        CHECK_INT(mw_mime_builder_multipart_end(b), MW_OK);
        drain(b, &o, 1 + (size_t)(mw_test_rand(&rs) % 100));
        mw_mime_builder_free(b);
        check_lines(&o);
        readback r;
        parse_back(&o, &r);
        CHECK_INT(r.n, 2);
        /* Text through 7bit/8bit would be CRLF-normalised; the fragments
         * only hold CRLF pairs, so every path gives the input back. */
        if (r.n == 2) CHECK_MEM(r.parts[1].body.p, r.parts[1].body.len, d, len);
        CHECK_INT(r.defects, 0);
        free_readback(&r);
        free(o.p);
        free(d);
    }
}

static void test_forward_raw_and_related(void)
{
    /* A stored message (LF line ends) forwarded as a leaf, and an HTML part
     * with an inline image in multipart/related. */
    const char *stored = "From: c@example.org\nSubject: old\n\nold body\n";
    mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 0);
    obuf o = {0};
    CHECK_INT(mw_mime_builder_header(b, "Subject", "Fwd: old", 8), MW_OK);
    CHECK_INT(mw_mime_builder_multipart_begin(b, "mixed", "=_f", NULL), MW_OK);
    CHECK_INT(mw_mime_builder_multipart_begin(b, "related", "=_r", "type=\"text/html\""), MW_OK);
    CHECK_INT(mw_mime_builder_part_begin(b, "text/html", "us-ascii", MW_MIME_CTE_AUTO, NULL, NULL,
                                         "<img src=\"cid:i1\">", 19),
              MW_OK);
    CHECK_INT(write_all(b, &o, "<img src=\"cid:i1\">", 19, 0), MW_OK);
    CHECK_INT(mw_mime_builder_part_end(b), MW_OK);
    CHECK_INT(mw_mime_builder_part_begin(b, "image/png", NULL, MW_MIME_CTE_BASE64, "inline",
                                         "i.png", NULL, 0),
              MW_OK);
    CHECK_INT(mw_mime_builder_header(b, "Content-ID", "<i1>", 4), MW_OK);
    CHECK_INT(write_all(b, &o, "\x89PNG", 4, 0), MW_OK);
    CHECK_INT(mw_mime_builder_part_end(b), MW_OK);
    CHECK_INT(mw_mime_builder_multipart_end(b), MW_OK);
    CHECK_INT(mw_mime_builder_part_begin(b, "message/rfc822", NULL, MW_MIME_CTE_7BIT, "inline",
                                         NULL, NULL, 0),
              MW_OK);
    CHECK_INT(write_all(b, &o, stored, strlen(stored), 5), MW_OK);
    CHECK_INT(mw_mime_builder_part_end(b), MW_OK);
    CHECK_INT(mw_mime_builder_multipart_end(b), MW_OK);
    CHECK_INT(mw_mime_builder_finish(b), MW_OK);
    drain(b, &o, 0);
    mw_mime_builder_free(b);
    check_lines(&o);
    readback r;
    parse_back(&o, &r);
    CHECK_INT(r.defects, 0);
    CHECK_INT(r.n, 6);
    if (r.n == 6) {
        CHECK(strcmp(r.parts[1].type, "multipart/related") == 0);
        CHECK_MEM(r.parts[3].body.p, r.parts[3].body.len, "\x89PNG", 4);
        CHECK(strcmp(r.parts[3].filename, "i.png") == 0);
        CHECK(strcmp(r.parts[4].path, "2") == 0 && r.parts[4].kind == MW_MIME_KIND_MESSAGE);
        CHECK(strcmp(r.parts[5].path, "2.1") == 0 && strcmp(r.parts[5].subject, "old") == 0);
        CHECK_STR(r.parts[5].body.p, r.parts[5].body.len, "old body\r\n");
    }
    free_readback(&r);
    free(o.p);
}

static void test_output_bounded(void)
{
    /* 1 MiB through a 4 KiB queue: write never lets more than out_max
     * bytes pile up, whatever the encoding. */
    size_t total = 1u << 20;
    unsigned char *d = malloc(65536);
    uint64_t rs = 5;
    fill_random(d, 65536, &rs, 0);
    int ctes[] = {MW_MIME_CTE_BASE64, MW_MIME_CTE_QP, MW_MIME_CTE_BINARY};
    for (int k = 0; k < 3; k++) {
        mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 4096);
        CHECK_INT(
            mw_mime_builder_part_begin(b, "application/x-y", NULL, ctes[k], NULL, NULL, NULL, 0),
            MW_OK);
        size_t fed = 0, maxpending = 0, wire = 0;
        while (fed < total) {
            mw_ssize t = mw_mime_builder_write(b, d + fed % 65536, 65536 - fed % 65536);
            CHECK(t >= 0);
            size_t n;
            mw_mime_builder_out_buf(b, &n);
            if (n > maxpending) maxpending = n;
            if (t <= 0) {
                wire += n;
                mw_mime_builder_out_ack(b, n);
            }
            fed += t > 0 ? (size_t)t : 0;
        }
        CHECK(maxpending <= 4096 + 512); /* + the header block written before the body */
        CHECK(wire >= total);
        mw_mime_builder_free(b);
    }
    free(d);
}

static int alloc_build(const mw_mem *mem, void *arg)
{
    (void)arg;
    unsigned char att[300];
    for (size_t i = 0; i < sizeof att; i++)
        att[i] = (unsigned char)i;
    obuf o = {0};
    int rc;
    build_complex(mem, &o, 512, 50, 0, att, sizeof att, "text\r\n", 6, &rc);
    free(o.p);
    return rc;
}

static void test_alloc_failures(void)
{
    long runs = mw_test_alloc_loop("mime builder", alloc_build, NULL);
    CHECK(runs > 2);
}

int main(void)
{
    MW_RUN(test_simple_text);
    MW_RUN(test_folding);
    MW_RUN(test_injection_refused);
    MW_RUN(test_state_errors);
    MW_RUN(test_choose_cte);
    MW_RUN(test_round_trip_complex);
    MW_RUN(test_round_trip_random);
    MW_RUN(test_forward_raw_and_related);
    MW_RUN(test_output_bounded);
    MW_RUN(test_alloc_failures);
    return mw_test_finish();
}
