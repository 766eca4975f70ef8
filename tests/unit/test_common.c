/*
 * Core: error texts, version, output queue, input buffer, line reader,
 * allocation failures.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include "common/common_internal.h"

#include <stdlib.h>

static void test_errors(void)
{
    for (int code = 0; code >= -16; code--) {
        CHECK(strcmp(mw_strerror(code), "unknown error") != 0);
    }
    CHECK(strcmp(mw_strerror(-17), "unknown error") == 0);
    CHECK(strcmp(mw_strerror(5), "unknown error") == 0);
    CHECK(mw_is_fatal(MW_ERR_NOMEM));
    CHECK(mw_is_fatal(MW_ERR_TLS_INJECTION));
    CHECK(!mw_is_fatal(MW_ERR_SYNTAX));
    CHECK(!mw_is_fatal(MW_OK));
    CHECK(!mw_is_fatal(3));
}

static void test_version(void)
{
    CHECK(strcmp(mw_version(), MW_VERSION_STRING) == 0);
    CHECK_INT(mw_version_number(), MW_VERSION_NUMBER);
}

static void test_outq_basic(void)
{
    mw_mem mem;
    mw__mem_resolve(&mem, NULL);
    mw__outq q;
    mw__outq_init(&q, &mem, 1000);
    size_t len;
    CHECK(mw__outq_buf(&q, &len) == NULL);
    CHECK_INT(len, 0);
    CHECK_INT(mw__outq_puts(&q, "250 OK\r\n"), MW_OK);
    CHECK_INT(mw__outq_printf(&q, "%d %s\r\n", 354, "go"), MW_OK);
    const unsigned char *p = mw__outq_buf(&q, &len);
    CHECK_STR(p, len, "250 OK\r\n354 go\r\n");
    mw__outq_ack(&q, 3); /* partial write */
    p = mw__outq_buf(&q, &len);
    CHECK_STR(p, len, " OK\r\n354 go\r\n");
    mw__outq_ack(&q, 100);
    CHECK_INT(mw__outq_len(&q), 0);
    /* A long formatted string goes straight into the queue. */
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_INT(mw__outq_printf(&q, "<%s>", big), MW_OK);
    CHECK_INT(mw__outq_len(&q), 601);
    p = mw__outq_buf(&q, &len);
    CHECK(p[0] == '<' && p[600] == '>' && p[1] == 'x');
    mw__outq_free(&q);
}

static void test_outq_limit(void)
{
    mw_mem mem;
    mw__mem_resolve(&mem, NULL);
    mw__outq q;
    mw__outq_init(&q, &mem, 10);
    CHECK_INT(mw__outq_append(&q, "0123456789", 10), MW_OK);
    CHECK_INT(mw__outq_append(&q, "a", 1), MW_ERR_LIMIT);
    CHECK_INT(mw__outq_room(&q), 0);
    mw__outq_ack(&q, 4);
    CHECK_INT(mw__outq_room(&q), 4);
    CHECK_INT(mw__outq_append(&q, "abcd", 4), MW_OK); /* slides data to the front */
    size_t len;
    const unsigned char *p = mw__outq_buf(&q, &len);
    CHECK_STR(p, len, "456789abcd");
    CHECK_INT(mw__outq_append(&q, "e", 1), MW_ERR_LIMIT);
    mw__outq_ack(&q, 10);
    size_t got;
    unsigned char *w = mw__outq_reserve(&q, 3, &got);
    CHECK(w != NULL);
    CHECK(got >= 3 && got <= 10);
    memcpy(w, "xyz", 3);
    mw__outq_commit(&q, 3);
    p = mw__outq_buf(&q, &len);
    CHECK_STR(p, len, "xyz");
    CHECK(mw__outq_reserve(&q, 8, &got) == NULL);
    CHECK_INT(got, 0);
    mw__outq_free(&q);
}

/* Collect every line (or error marker) from input fed in chunks of `chunk`
 * bytes, into out as "line|" entries. */
static size_t lines_chunked(const char *in, size_t len, size_t chunk, size_t max_line,
                            unsigned flags, char *out, size_t cap, size_t bufmax)
{
    mw_mem mem;
    mw__mem_resolve(&mem, NULL);
    mw__inbuf b;
    mw__inbuf_init(&b, &mem, bufmax);
    size_t o = 0, pos = 0;
    for (;;) {
        mw_slice line;
        int rc;
        while ((rc = mw__inbuf_line(&b, max_line, flags, &line)) != 0) {
            if (rc == 1) {
                if (o + line.len + 1 < cap) {
                    memcpy(out + o, line.base, line.len);
                    o += line.len;
                    out[o++] = '|';
                }
            } else {
                CHECK_INT(rc, MW_ERR_LINE_TOO_LONG);
                if (o + 5 < cap) {
                    memcpy(out + o, "LONG|", 5);
                    o += 5;
                }
            }
        }
        if (pos >= len) break;
        size_t n = len - pos < chunk ? len - pos : chunk;
        mw_ssize took = mw__inbuf_feed(&b, in + pos, n);
        CHECK(took > 0);
        if (took <= 0) break;
        pos += (size_t)took;
    }
    mw__inbuf_free(&b);
    return o;
}

static void check_lines(const char *in, size_t max_line, unsigned flags, const char *expect)
{
    char out[4096];
    for (size_t chunk = 1; chunk <= 9; chunk++) {
        size_t n = lines_chunked(in, strlen(in), chunk == 9 ? strlen(in) + 1 : chunk, max_line,
                                 flags, out, sizeof out, 4096);
        CHECK_STR(out, n, expect);
    }
}

static void test_lines(void)
{
    check_lines("EHLO a\r\nMAIL FROM:<x>\r\n", 512, 0, "EHLO a|MAIL FROM:<x>|");
    /* Bare LF and bare CR are content, never line ends (smuggling rule). */
    check_lines("a\nb\r\nc\rd\r\n", 512, 0, "a\nb|c\rd|");
    check_lines("a\nb\r\n", 512, MW__LINE_LENIENT_LF, "a|b|");
    check_lines("\r\n\r\n", 512, 0, "||");
    /* Incomplete last line stays buffered. */
    check_lines("one\r\ntwo", 512, 0, "one|");
}

static void test_line_too_long(void)
{
    /* max_line counts the CRLF: 6 bytes = 4 characters + CRLF. */
    check_lines("abcd\r\nabcde\r\nok\r\n", 6, 0, "abcd|LONG|ok|");
    check_lines("abcdefghijklmnop\r\nok\r\n", 6, 0, "LONG|ok|");
    /* The CR of the overlong line's CRLF may arrive in one chunk, LF in the next. */
    check_lines("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nab\r\n", 8, 0, "LONG|ab|");
    /* A buffer smaller than the line limit reports too long instead of waiting. */
    char out[64];
    const char *in = "0123456789abcdef\r\nok\r\n";
    size_t n = lines_chunked(in, strlen(in), 3, 512, 0, out, sizeof out, 8);
    CHECK_STR(out, n, "LONG|ok|");
}

static void test_inbuf_bounded(void)
{
    mw_mem mem;
    mw__mem_resolve(&mem, NULL);
    mw__inbuf b;
    mw__inbuf_init(&b, &mem, 16);
    CHECK_INT(mw__inbuf_feed(&b, "0123456789abcdefXYZ", 19), 16);
    CHECK_INT(mw__inbuf_feed(&b, "XYZ", 3), 0);
    mw__inbuf_consume(&b, 10);
    CHECK_INT(mw__inbuf_feed(&b, "XYZ", 3), 3);
    CHECK_STR(mw__inbuf_data(&b), mw__inbuf_len(&b), "abcdefXYZ");
    /* Zero-copy path. */
    unsigned char *p;
    size_t room;
    CHECK_INT(mw__inbuf_reserve(&b, &p, &room), MW_OK);
    CHECK_INT(room, 7);
    memcpy(p, "\r\n", 2);
    mw__inbuf_recv_ack(&b, 2);
    mw_slice line;
    CHECK_INT(mw__inbuf_line(&b, 100, 0, &line), 1);
    CHECK_STR(line.base, line.len, "abcdefXYZ");
    CHECK_INT(mw__inbuf_len(&b), 0);
    mw__inbuf_free(&b);
}

static int alloc_outq(const mw_mem *user, void *arg)
{
    (void)arg;
    mw_mem mem;
    mw__mem_resolve(&mem, user);
    mw__outq q;
    mw__outq_init(&q, &mem, 1 << 20);
    int rc = MW_OK;
    for (int i = 0; i < 200 && rc == MW_OK; i++)
        rc = mw__outq_printf(&q, "250-line %d of a long reply %0300d\r\n", i, i);
    mw__outq_free(&q);
    return rc;
}

static int alloc_inbuf(const mw_mem *user, void *arg)
{
    (void)arg;
    mw_mem mem;
    mw__mem_resolve(&mem, user);
    mw__inbuf b;
    mw__inbuf_init(&b, &mem, 1 << 16);
    int rc = MW_OK;
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 40; i++) {
        mw_ssize n = mw__inbuf_feed(&b, chunk, sizeof chunk);
        if (n < 0) {
            rc = (int)n;
            break;
        }
    }
    mw__inbuf_free(&b);
    return rc;
}

static void test_alloc_failures(void)
{
    CHECK(mw_test_alloc_loop("outq", alloc_outq, NULL) > 1);
    CHECK(mw_test_alloc_loop("inbuf", alloc_inbuf, NULL) > 1);
}

static void test_ct_memcmp(void)
{
    CHECK_INT(mw__ct_memcmp("secret", "secret", 6), 0);
    CHECK_INT(mw__ct_memcmp("secret", "secreT", 6), 1);
    CHECK_INT(mw__ct_memcmp("", "", 0), 0);
}

int main(void)
{
    MW_RUN(test_errors);
    MW_RUN(test_version);
    MW_RUN(test_outq_basic);
    MW_RUN(test_outq_limit);
    MW_RUN(test_lines);
    MW_RUN(test_line_too_long);
    MW_RUN(test_inbuf_bounded);
    MW_RUN(test_alloc_failures);
    MW_RUN(test_ct_memcmp);
    return mw_test_finish();
}
