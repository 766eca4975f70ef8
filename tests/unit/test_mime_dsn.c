/*
 * MIME builder: address header fields (mw_mime_builder_header_addrs) and
 * RFC 3464 delivery status notifications (mw_mime_dsn_format,
 * mw_mime_builder_delivery_status), each read back with our own parsers:
 * the MIME parser, the address parser and the header iterator.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/codec.h>
#include <mailwire/mime.h>
#include <mailwire/rfc5322.h>

#include <stdlib.h>

/* ---- helpers -------------------------------------------------------- */

typedef struct obuf {
    char *p;
    size_t len, cap;
    int oom;
} obuf;

static void ob_put(obuf *o, const void *d, size_t n)
{
    if (n == 0 || o->oom) return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *np = realloc(o->p, cap);
        if (!np) {
            o->oom = 1;
            return;
        }
        o->p = np;
        o->cap = cap;
    }
    memcpy(o->p + o->len, d, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void drain(mw_mime_builder *b, obuf *o)
{
    size_t n;
    const unsigned char *p;
    while ((p = mw_mime_builder_out_buf(b, &n)) != NULL && n) {
        ob_put(o, p, n);
        mw_mime_builder_out_ack(b, n);
    }
}

/* Write all of text into the current part, draining when the output is
 * full. @return MW_OK or the builder's error. */
static int write_all(mw_mime_builder *b, obuf *o, const char *text, size_t len)
{
    for (size_t off = 0; off < len;) {
        mw_ssize t = mw_mime_builder_write(b, text + off, len - off);
        if (t < 0) return (int)t;
        if (t == 0) drain(b, o);
        off += (size_t)t;
    }
    return MW_OK;
}

/* CRLF only, every line at most maxcol columns. */
static void check_lines(const obuf *o, size_t maxcol)
{
    size_t col = 0;
    for (size_t i = 0; i < o->len; i++) {
        if (o->p[i] == '\r') {
            CHECK(i + 1 < o->len && o->p[i + 1] == '\n');
            if (col > maxcol)
                mw_test_fail(__FILE__, __LINE__, "line of %zu columns at %zu", col, i - col);
            col = 0;
            i++;
            continue;
        }
        CHECK(o->p[i] != '\n');
        col++;
    }
}

/* The unfolded value of the first top-level header field called name. */
static char *field_value(const obuf *o, const char *name)
{
    mw_hdr_iter it;
    mw_hdr_field f;
    mw_hdr_iter_init(&it, o->p, o->len);
    while (mw_hdr_iter_next(&it, &f) == 1) {
        if (!mw_hdr_name_eq(f.name, name)) continue;
        while (f.value.len && (f.value.base[0] == ' ' || f.value.base[0] == '\t')) {
            f.value.base++;
            f.value.len--;
        }
        char *u = malloc(f.value.len + 1);
        if (!u) return NULL;
        mw_ssize n = mw_hdr_unfold(f.value.base, f.value.len, u, f.value.len + 1, 0);
        if (n < 0) {
            free(u);
            return NULL;
        }
        u[n] = '\0';
        return u;
    }
    return NULL;
}

/* ---- address fields ------------------------------------------------- */

static obuf build_addrs(unsigned flags, const char *name, const mw_mime_mailbox *list, size_t n,
                        int *rc)
{
    obuf o = {0};
    mw_mime_builder *b = mw_mime_builder_new(NULL, flags, 0);
    *rc = mw_mime_builder_header_addrs(b, name, list, n);
    if (*rc == MW_OK) {
        mw_mime_builder_part_begin(b, "text/plain", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0);
        mw_mime_builder_part_end(b);
    }
    drain(b, &o);
    mw_mime_builder_free(b);
    return o;
}

static void test_addrs_exact(void)
{
    const mw_mime_mailbox l[] = {{"Ann Example", "ann@example.org"},
                                 {NULL, "bob@example.net"},
                                 {"Dr. \"X\" Y", "x@y.example"},
                                 {"", "john smith@example.com"},
                                 {"Caf\xc3\xa9", "c@example.fr"}};
    int rc;
    obuf o = build_addrs(0, "To", l, 5, &rc);
    CHECK_INT(rc, MW_OK);
    const char *want =
        "To: Ann Example <ann@example.org>, bob@example.net, \"Dr. \\\"X\\\" Y\"\r\n"
        " <x@y.example>, \"john smith\"@example.com, =?UTF-8?B?Q2Fmw6k=?= <c@example.fr>\r\n";
    CHECK(o.p && strncmp(o.p, want, strlen(want)) == 0);
    if (o.p && strncmp(o.p, want, strlen(want)) != 0) fprintf(stderr, "got:\n%s", o.p);
    free(o.p);
}

/* Display names of every kind, read back by mw_addr_list_parse. */
static void test_addrs_round_trip(void)
{
    static const char *names[] = {
        "Ann",
        "Ann Example",
        "J\xc3\xb6rg M\xc3\xbcller",
        "O'Brien, Pat",
        "a <b@c> d",
        "back\\slash \"quote\"",
        "=?utf-8?q?not_a_word?=",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe3\x81\xae\xe5\x90\x8d\xe5"
        "\x89\x8d",
        "tab\there",
        "x.y",
        "   spaced   out   ",
        "A very long display name that certainly does not fit on one line"
        " with the address"};
    const size_t nn = sizeof names / sizeof *names;
    static const char *addrs[] = {"ann@example.org", "first.last@sub.example.com",
                                  "\"odd local\"@example.net", "x@[192.0.2.1]"};
    static const char *locals[] = {"ann", "first.last", "odd local", "x"};
    static const char *domains[] = {"example.org", "sub.example.com", "example.net", "[192.0.2.1]"};
    uint64_t rs = 5322;
    for (unsigned flags = 0; flags <= MW_MIME_BUILD_SMTPUTF8; flags += MW_MIME_BUILD_SMTPUTF8) {
        for (int iter = 0; iter < 60; iter++) {
            mw_mime_mailbox l[6];
            size_t n = 1 + (size_t)(mw_test_rand(&rs) % 6), ai[6];
            for (size_t k = 0; k < n; k++) {
                ai[k] = (size_t)(mw_test_rand(&rs) % 4);
                l[k].display = mw_test_rand(&rs) % 5 ? names[mw_test_rand(&rs) % nn] : NULL;
                l[k].addr = ai[k] == 2 ? "odd local@example.net" : addrs[ai[k]];
            }
            int rc;
            obuf o = build_addrs(flags, "Cc", l, n, &rc);
            CHECK_INT(rc, MW_OK);
            check_lines(&o, 78);
            char *v = field_value(&o, "Cc");
            CHECK(v != NULL);
            if (!v) {
                free(o.p);
                continue;
            }
            mw_addr_list al;
            CHECK_INT(mw_addr_list_parse(v, strlen(v), NULL, NULL, &al), MW_OK);
            CHECK_INT(al.count, n);
            if (al.count != n) fprintf(stderr, "value: [%s]\n", v);
            for (size_t k = 0; k < n && k < al.count; k++) {
                const mw_addr *a = &al.items[k];
                CHECK_INT(a->kind, MW_ADDR_MAILBOX);
                const char *d = l[k].display ? l[k].display : "";
                /* the parser renders a phrase with single spaces between
                 * words; names without runs of white space come back exactly */
                if (!strstr(d, "  ") && d[0] != ' ' && !strchr(d, '\t'))
                    CHECK_STR(a->display.base, a->display.len, d);
                CHECK_STR(a->local.base, a->local.len, locals[ai[k]]);
                CHECK_STR(a->domain.base, a->domain.len, domains[ai[k]]);
                CHECK(!(a->flags & MW_ADDR_F_ENCODED_SPECIALS) || strpbrk(d, "@<>,;:\""));
            }
            mw_addr_list_free(&al);
            free(v);
            free(o.p);
        }
    }
}

static void test_addrs_errors(void)
{
    mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 0);
    mw_mime_mailbox ok = {"Ann", "ann@example.org"};
    mw_mime_mailbox bad[] = {{"Ann\r\nBcc: x@y", "ann@example.org"},
                             {"Ann", "ann@example.org\r\nBcc: x@y"},
                             {"Ann", NULL}};
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(mw_mime_builder_header_addrs(b, "To", &bad[i], 1), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header_addrs(b, "To", &ok, 0), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header_addrs(b, "To", NULL, 1), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header_addrs(b, "T:o", &ok, 1), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_header_addrs(NULL, "To", &ok, 1), MW_ERR_INVALID);
    mw_mime_mailbox syn[] = {{"Ann", "no-at-sign"},
                             {"Ann", "j\xc3\xb6rg@example.org"},
                             {"Ann", "@example.org"},
                             {"Ann", "a@bad domain"},
                             {"\xff", "a@example.org"}};
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(mw_mime_builder_header_addrs(b, "To", &syn[i], 1), MW_ERR_SYNTAX);
    size_t n;
    CHECK(mw_mime_builder_out_buf(b, &n) == NULL || n == 0); /* nothing written */
    mw_mime_builder_free(b);
    /* SMTPUTF8: UTF-8 addresses and raw display names */
    int rc;
    mw_mime_mailbox u = {"J\xc3\xb6rg", "j\xc3\xb6rg@b\xc3\xbc"
                                        "cher.example"};
    obuf o = build_addrs(MW_MIME_BUILD_SMTPUTF8, "From", &u, 1, &rc);
    CHECK_INT(rc, MW_OK);
    const char *want = "From: J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc"
                       "cher.example>\r\n";
    CHECK(o.p && strncmp(o.p, want, strlen(want)) == 0);
    free(o.p);
    /* state: no header after the body started */
    b = mw_mime_builder_new(NULL, 0, 0);
    mw_mime_builder_part_begin(b, "text/plain", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0);
    mw_mime_builder_write(b, "x", 1);
    CHECK_INT(mw_mime_builder_header_addrs(b, "To", &ok, 1), MW_ERR_STATE);
    mw_mime_builder_free(b);
}

/* A first word too long for the name's line goes to a continuation line. */
static void test_addrs_fold_first(void)
{
    char local[96];
    memset(local, 'a', 70);
    strcpy(local + 70, "@example.org");
    mw_mime_mailbox l = {NULL, local};
    int rc;
    obuf o = build_addrs(0, "Disposition-Notification-To", &l, 1, &rc);
    CHECK_INT(rc, MW_OK);
    CHECK(o.p && strncmp(o.p, "Disposition-Notification-To:\r\n aaaa", 35) == 0);
    check_lines(&o, 84);
    char *v = field_value(&o, "Disposition-Notification-To");
    mw_addr_list al;
    CHECK(v && mw_addr_list_parse(v, strlen(v), NULL, NULL, &al) == MW_OK && al.count == 1);
    if (v && al.count == 1) CHECK_STR(al.items[0].addr_spec.base, al.items[0].addr_spec.len, local);
    mw_addr_list_free(&al);
    free(v);
    free(o.p);
}

/* ---- delivery status ------------------------------------------------ */

static const mw_mime_dsn_rcpt g_rcpts[] = {
    {"bob@example.net", "Bob@Example.NET", NULL, "failed", "5.1.1", "mx.example.net", NULL,
     "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in virtual "
     "mailbox table",
     "Fri, 27 Nov 2026 01:02:03 +0000", NULL},
    {"carol@example.com", NULL, NULL, "delayed", "4.4.1", NULL, NULL, NULL, NULL,
     "Mon, 30 Nov 2026 01:02:03 +0000"},
    {"dave@example.org", NULL, NULL, "Delivered", "2.0.0", NULL, "x-local", "delivered to mailbox",
     NULL, NULL}};

static const mw_mime_dsn g_dsn = {
    "mx.example.org", "QQ314159", "client.example.org", "Fri, 27 Nov 2026 01:00:00 +0000",
    g_rcpts,          3};

static const char g_body[] =
    "Original-Envelope-Id: QQ314159\r\n"
    "Reporting-MTA: dns; mx.example.org\r\n"
    "Received-From-MTA: dns; client.example.org\r\n"
    "Arrival-Date: Fri, 27 Nov 2026 01:00:00 +0000\r\n"
    "\r\n"
    "Original-Recipient: rfc822; Bob@Example.NET\r\n"
    "Final-Recipient: rfc822; bob@example.net\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n"
    "Remote-MTA: dns; mx.example.net\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address\r\n"
    " rejected: User unknown in virtual mailbox table\r\n"
    "Last-Attempt-Date: Fri, 27 Nov 2026 01:02:03 +0000\r\n"
    "\r\n"
    "Final-Recipient: rfc822; carol@example.com\r\n"
    "Action: delayed\r\n"
    "Status: 4.4.1\r\n"
    "Will-Retry-Until: Mon, 30 Nov 2026 01:02:03 +0000\r\n"
    "\r\n"
    "Final-Recipient: rfc822; dave@example.org\r\n"
    "Action: Delivered\r\n"
    "Status: 2.0.0\r\n"
    "Diagnostic-Code: x-local; delivered to mailbox\r\n";

static void test_dsn_format(void)
{
    size_t want = sizeof g_body - 1;
    CHECK_INT(mw_mime_dsn_format(&g_dsn, NULL, 0), (mw_ssize)want);
    char out[2048];
    mw_ssize n = mw_mime_dsn_format(&g_dsn, out, sizeof out);
    CHECK_MEM(out, n > 0 ? (size_t)n : 0, g_body, want);
    for (size_t cap = 0; cap < want; cap += 7)
        CHECK_INT(mw_mime_dsn_format(&g_dsn, out, cap), MW_ERR_BUFFER);
    CHECK_INT(mw_mime_dsn_format(&g_dsn, out, want), (mw_ssize)want);
    /* minimal: one recipient, only the required fields */
    mw_mime_dsn_rcpt r = {"a@b.example", NULL, NULL, "failed", "5.0.0",
                          NULL,          NULL, NULL, NULL,     NULL};
    mw_mime_dsn d = {"mx.b.example", NULL, NULL, NULL, &r, 1};
    n = mw_mime_dsn_format(&d, out, sizeof out);
    const char *min = "Reporting-MTA: dns; mx.b.example\r\n\r\n"
                      "Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.0.0\r\n";
    CHECK_MEM(out, n > 0 ? (size_t)n : 0, min, strlen(min));
}

static void test_dsn_errors(void)
{
    char out[512];
    CHECK_INT(mw_mime_dsn_format(NULL, out, sizeof out), MW_ERR_INVALID);
    CHECK_INT(mw_mime_dsn_format(&g_dsn, NULL, 5), MW_ERR_INVALID);
    mw_mime_dsn_rcpt r = {"a@b.example", NULL, NULL, "failed", "5.0.0",
                          NULL,          NULL, NULL, NULL,     NULL};
    mw_mime_dsn d = {"mx.b.example", NULL, NULL, NULL, &r, 1};
    CHECK(mw_mime_dsn_format(&d, out, sizeof out) > 0);
    d.nrcpts = 0;
    CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_INVALID);
    d.nrcpts = 1;
    d.reporting_mta = "";
    CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_INVALID);
    d.reporting_mta = "mx\r\nX-Evil: 1";
    CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_INVALID);
    d.reporting_mta = "mx.b.example";
    static const char *bad_status[] = {"3.0.0", "5.0",    "5.0.0.0", "5.1234.0",
                                       "5..0",  "5.0.0 ", "x"};
    for (size_t i = 0; i < sizeof bad_status / sizeof *bad_status; i++) {
        r.status = bad_status[i];
        CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_SYNTAX);
    }
    r.status = "4.123.45";
    CHECK(mw_mime_dsn_format(&d, out, sizeof out) > 0);
    r.action = "bounced";
    CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_SYNTAX);
    r.action = "failed";
    r.diagnostic_code = "550 caf\xc3\xa9";
    CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_SYNTAX);
    r.diagnostic_code = "550 x\ny";
    CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_INVALID);
    r.diagnostic_code = NULL;
    r.address_type = "rfc;822";
    CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_SYNTAX);
    r.address_type = NULL;
    r.final_recipient = NULL;
    CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_INVALID);
    r.final_recipient = "a@b.example";
    static char longword[1100];
    memset(longword, 'x', sizeof longword - 1);
    r.diagnostic_code = longword;
    CHECK_INT(mw_mime_dsn_format(&d, out, sizeof out), MW_ERR_LINE_TOO_LONG);
    CHECK_INT(mw_mime_dsn_format(&d, NULL, 0), MW_ERR_LINE_TOO_LONG);
}

/* Build a whole bounce and read it back: the MIME tree, then every field
 * of every block of the delivery-status body. */
static int build_bounce(const mw_mem *mem, obuf *o, size_t out_max)
{
    mw_mime_builder *b = mw_mime_builder_new(mem, 0, out_max);
    if (!b) return MW_ERR_NOMEM;
    const mw_mime_mailbox from = {"Mail Delivery System", "MAILER-DAEMON@mx.example.org"};
    const mw_mime_mailbox to = {"S\xc3\xa9verine", "sender@example.org"};
    static const char text[] = "Your message could not be delivered to some recipients.\r\n";
    static const char orig[] = "From: sender@example.org\r\nSubject: hello\r\n";
    int rc;
#define TRY(x)                                                                                     \
    do {                                                                                           \
        while ((rc = (x)) == MW_ERR_BUFFER)                                                        \
            drain(b, o);                                                                           \
        if (rc < 0) goto out;                                                                      \
    } while (0)
    TRY(mw_mime_builder_header_addrs(b, "From", &from, 1));
    TRY(mw_mime_builder_header_addrs(b, "To", &to, 1));
    TRY(mw_mime_builder_header_text(b, "Subject", "Undelivered Mail Returned to Sender", 35));
    TRY(mw_mime_builder_header(b, "Auto-Submitted", "auto-replied", 12));
    TRY(mw_mime_builder_multipart_begin(b, "report", "=_dsn_1", "report-type=delivery-status"));
    TRY(mw_mime_builder_part_begin(b, "text/plain", "us-ascii", MW_MIME_CTE_7BIT, NULL, NULL, NULL,
                                   0));
    if ((rc = write_all(b, o, text, sizeof text - 1)) < 0) goto out;
    TRY(mw_mime_builder_part_end(b));
    TRY(mw_mime_builder_delivery_status(b, &g_dsn));
    TRY(mw_mime_builder_part_begin(b, "text/rfc822-headers", "us-ascii", MW_MIME_CTE_7BIT, NULL,
                                   NULL, NULL, 0));
    if ((rc = write_all(b, o, orig, sizeof orig - 1)) < 0) goto out;
    TRY(mw_mime_builder_part_end(b));
    TRY(mw_mime_builder_multipart_end(b));
    TRY(mw_mime_builder_finish(b));
    drain(b, o);
#undef TRY
out:
    mw_mime_builder_free(b);
    return rc < 0 ? rc : MW_OK;
}

typedef struct dsn_read {
    char types[4][64];
    int nparts, defects;
    obuf status; /* body of the message/delivery-status part */
    char report_type[32];
} dsn_read;

static void read_bounce(const obuf *o, dsn_read *r)
{
    memset(r, 0, sizeof *r);
    mw_mime_parser *p = mw_mime_parser_new(NULL, NULL);
    CHECK_INT(mw_mime_feed(p, o->p, o->len), (mw_ssize)o->len);
    mw_mime_eof(p);
    mw_mime_event ev;
    int rc, cur = -1;
    while ((rc = mw_mime_next(p, &ev)) > 0) {
        if (rc == MW_MIME_DEFECT) r->defects++;
        if (rc == MW_MIME_PART_BEGIN && r->nparts < 4) {
            cur = r->nparts++;
            snprintf(r->types[cur], sizeof r->types[cur], "%.*s/%.*s", (int)ev.media_type.len,
                     ev.media_type.base, (int)ev.subtype.len, ev.subtype.base);
            for (size_t i = 0; cur == 0 && i < ev.nparams; i++)
                if (ev.params[i].name.len == 11 &&
                    !memcmp(ev.params[i].name.base, "report-type", 11))
                    snprintf(r->report_type, sizeof r->report_type, "%.*s",
                             (int)ev.params[i].value.len, ev.params[i].value.base);
        }
        if (rc == MW_MIME_BODY && cur == 2) ob_put(&r->status, ev.data.base, ev.data.len);
    }
    CHECK_INT(rc, MW_ERR_CLOSED);
    mw_mime_parser_free(p);
}

static void test_dsn_bounce_round_trip(void)
{
    for (size_t out_max = 0; out_max <= 2048; out_max += 2048) {
        obuf o = {0};
        CHECK_INT(build_bounce(NULL, &o, out_max), MW_OK);
        check_lines(&o, 78);
        dsn_read r;
        read_bounce(&o, &r);
        CHECK_INT(r.nparts, 4);
        CHECK(strcmp(r.types[0], "multipart/report") == 0);
        CHECK(strcmp(r.report_type, "delivery-status") == 0);
        CHECK(strcmp(r.types[1], "text/plain") == 0);
        CHECK(strcmp(r.types[2], "message/delivery-status") == 0);
        CHECK(strcmp(r.types[3], "text/rfc822-headers") == 0);
        CHECK_INT(r.defects, 0);
        /* the body is exactly what the formatter writes (the CRLF before
         * the next delimiter belongs to the delimiter) */
        CHECK_MEM(r.status.p, r.status.len, g_body, sizeof g_body - 1);
        /* read the blocks back with the header iterator */
        static const char *want[][9] = {
            {"Original-Envelope-Id", "Reporting-MTA", "Received-From-MTA", "Arrival-Date", NULL},
            {"Original-Recipient", "Final-Recipient", "Action", "Status", "Remote-MTA",
             "Diagnostic-Code", "Last-Attempt-Date", NULL},
            {"Final-Recipient", "Action", "Status", "Will-Retry-Until", NULL},
            {"Final-Recipient", "Action", "Status", "Diagnostic-Code", NULL}};
        size_t off = 0;
        for (int blk = 0; blk < 4 && r.status.p; blk++) {
            mw_hdr_iter it;
            mw_hdr_field f;
            mw_hdr_iter_init(&it, r.status.p + off, r.status.len - off);
            int k = 0;
            while (mw_hdr_iter_next(&it, &f) == 1) {
                CHECK(want[blk][k] != NULL);
                if (!want[blk][k]) break;
                CHECK(mw_hdr_name_eq(f.name, want[blk][k]));
                CHECK_INT(f.defects, 0);
                if (blk == 1 && mw_hdr_name_eq(f.name, "Diagnostic-Code")) {
                    char u[256];
                    mw_ssize n = mw_hdr_unfold(f.value.base, f.value.len, u, sizeof u, 0);
                    if (n > 0 && u[0] == ' ') memmove(u, u + 1, (size_t)n--);
                    const char *dc = "smtp; 550 5.1.1 <bob@example.net>: Recipient address "
                                     "rejected: User unknown in virtual mailbox table";
                    CHECK_STR(u, n > 0 ? (size_t)n : 0, dc);
                }
                k++;
            }
            CHECK(want[blk][k] == NULL);
            size_t body = mw_hdr_iter_body(&it, NULL);
            CHECK(body != (size_t)-1);
            off += body;
        }
        CHECK_INT(off, r.status.len);
        /* the To display name came back through the address parser */
        char *to = field_value(&o, "To");
        mw_addr_list al;
        CHECK(to && mw_addr_list_parse(to, strlen(to), NULL, NULL, &al) == MW_OK);
        if (to && al.count == 1)
            CHECK_STR(al.items[0].display.base, al.items[0].display.len, "S\xc3\xa9verine");
        mw_addr_list_free(&al);
        free(to);
        free(r.status.p);
        free(o.p);
    }
}

static void test_dsn_builder_state(void)
{
    mw_mime_builder *b = mw_mime_builder_new(NULL, 0, 0);
    CHECK_INT(mw_mime_builder_delivery_status(NULL, &g_dsn), MW_ERR_INVALID);
    CHECK_INT(mw_mime_builder_delivery_status(b, NULL), MW_ERR_INVALID);
    mw_mime_builder_part_begin(b, "text/plain", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0);
    CHECK_INT(mw_mime_builder_delivery_status(b, &g_dsn), MW_ERR_STATE); /* inside a leaf */
    mw_mime_builder_free(b);
    /* larger than the queue could ever hold */
    static mw_mime_dsn_rcpt many[400];
    for (size_t i = 0; i < 400; i++)
        many[i] = g_rcpts[0];
    mw_mime_dsn big = g_dsn;
    big.rcpts = many;
    big.nrcpts = 400;
    b = mw_mime_builder_new(NULL, 0, 1024);
    mw_mime_builder_multipart_begin(b, "report", "=_x", "report-type=delivery-status");
    CHECK_INT(mw_mime_builder_delivery_status(b, &big), MW_ERR_LIMIT);
    CHECK_INT(mw_mime_builder_delivery_status(b, &g_dsn), MW_OK);
    mw_mime_builder_free(b);
}

static int alloc_bounce(const mw_mem *mem, void *arg)
{
    (void)arg;
    obuf o = {0};
    int rc = build_bounce(mem, &o, 512);
    free(o.p);
    return rc;
}

static void test_alloc_failures(void)
{
    CHECK(mw_test_alloc_loop("dsn bounce", alloc_bounce, NULL) > 2);
}

int main(void)
{
    MW_RUN(test_addrs_exact);
    MW_RUN(test_addrs_round_trip);
    MW_RUN(test_addrs_errors);
    MW_RUN(test_addrs_fold_first);
    MW_RUN(test_dsn_format);
    MW_RUN(test_dsn_errors);
    MW_RUN(test_dsn_bounce_round_trip);
    MW_RUN(test_dsn_builder_state);
    MW_RUN(test_alloc_failures);
    return mw_test_finish();
}
