/*
 * Core: error texts, version, output queue, input buffer, line reader,
 * allocation failures, text helpers, the engine transport glue.
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

static void check_words(const char *list, size_t max_word, unsigned flags, int rc, const char *expect)
{
    char dst[16];
    memcpy(dst, "untouched", sizeof "untouched");
    CHECK_INT(mw__word_list_copy(dst, sizeof dst, list, max_word, flags), rc);
    CHECK_STR(dst, strlen(dst), rc ? "untouched" : expect);
}

static void test_word_lists(void)
{
    unsigned sasl = MW__WORDS_UNDERSCORE;
    check_words(NULL, 20, 0, MW_OK, "");
    check_words("plain login", 20, 0, MW_OK, "PLAIN LOGIN");
    check_words(" a  b ", 20, 0, MW_OK, " A  B "); /* kept as given */
    check_words(" a  b ", 20, MW__WORDS_TIDY, MW_OK, "A B");
    check_words("x_y", 20, 0, MW_ERR_INVALID, NULL);
    check_words("x_y z-1", 20, sasl, MW_OK, "X_Y Z-1");
    check_words("abc", 2, 0, MW_ERR_INVALID, NULL);
    check_words("a\tb", 20, 0, MW_ERR_INVALID, NULL);
    check_words("aaaaaaaaaaaaaaa", 20, 0, MW_OK, "AAAAAAAAAAAAAAA");     /* 15 + NUL fits */
    check_words("aaaaaaaaaaaaaaaa", 20, 0, MW_ERR_INVALID, NULL);         /* 16 does not */
    check_words("aaaaaaa  bbbbbbb   ", 20, MW__WORDS_TIDY, MW_OK, "AAAAAAA BBBBBBB");
    check_words("aaaaaaa  bbbbbbb", 20, 0, MW_ERR_INVALID, NULL);

    CHECK(mw__ieq("EhLo", 4, "ehlo"));
    CHECK(!mw__ieq("EHLO", 4, "ehl"));
    CHECK(mw__in_list(" PLAIN  LOGIN ", "login", 5));
    CHECK(!mw__in_list("PLAIN LOGIN", "LOG", 3));
    CHECK(!mw__in_list("PLAIN", "", 0));
    uint64_t v = 7;
    CHECK_INT(mw__parse_u64("18446744073709551615", 20, &v), 0);
    CHECK(v == UINT64_MAX);
    CHECK_INT(mw__parse_u64("18446744073709551616", 20, &v), -1);
    CHECK_INT(mw__parse_u64("", 0, &v), -1);
    CHECK_INT(mw__parse_u64("1a", 2, &v), -1);
    unsigned bits = 1;
    CHECK_INT(mw__set_bits(&bits, 6, 7, 1), MW_OK);
    CHECK_INT(bits, 7);
    CHECK_INT(mw__set_bits(&bits, 3, 7, 0), MW_OK);
    CHECK_INT(bits, 4);
    CHECK_INT(mw__set_bits(&bits, 8, 7, 1), MW_ERR_INVALID);
    CHECK_INT(bits, 4);
}

/* The transport glue on its own: a server-style and a client-style io
 * bound to a local phase variable. */
enum { PH_RUN, PH_HANDOFF, PH_CLOSED };

static void test_engine_io(void)
{
    mw_mem m;
    mw__mem_resolve(&m, NULL);
    for (int server = 0; server <= 1; server++) {
        mw__engine_io io;
        int phase = PH_RUN;
        mw__io_init(&io, &m, 4096, 4096);
        mw__io_bind(&io, &phase, PH_HANDOFF, PH_CLOSED, server ? MW__IO_SERVER : MW__IO_FATAL_CLOSES);
        CHECK_INT(mw__io_feed(&io, NULL, 1), MW_ERR_INVALID);
        CHECK_INT(mw__io_feed(&io, "AB\r\nCD", 6), 6);
        CHECK_INT(mw__io_recv_ack(&io, 0), MW_ERR_STATE); /* no buffer out */
        size_t len;
        unsigned char *p = mw__io_recv_buf(&io, &len);
        CHECK(p && len > 0);
        CHECK_INT(mw__io_recv_ack(&io, len + 1), MW_ERR_INVALID);
        memcpy(p, "EF", 2);
        CHECK_INT(mw__io_recv_ack(&io, 2), MW_OK);
        CHECK_STR(mw__inbuf_data(&io.in), mw__inbuf_len(&io.in), "AB\r\nCDEF");
        /* STARTTLS: the buffered rest is dropped, later bytes too (server)
         * or the session fails (client). */
        phase = PH_HANDOFF;
        CHECK_INT(mw__io_handoff_discard(&io), 8);
        CHECK_INT(mw__inbuf_len(&io.in), 0);
        if (server) {
            CHECK_INT(mw__io_feed(&io, "RSET\r\n", 6), 6);
            CHECK_INT(io.tls_discarded, 14);
            CHECK_INT(phase, PH_HANDOFF);
        } else {
            CHECK_INT(mw__io_feed(&io, "", 0), 0);
            CHECK_INT(mw__io_feed(&io, "X", 1), MW_ERR_TLS_INJECTION);
            CHECK_INT(phase, PH_CLOSED);
            CHECK_INT(mw__io_feed(&io, "X", 1), MW_ERR_TLS_INJECTION); /* sticky */
            CHECK(mw__io_recv_buf(&io, &len) == NULL && len == 0);
        }
        CHECK_INT(mw__outq_puts(&io.out, "250 OK\r\n"), MW_OK);
        const unsigned char *o = mw__io_out_buf(&io, &len);
        CHECK_STR(o, len, "250 OK\r\n");
        mw__io_out_ack(&io, 4);
        o = mw__io_out_buf(&io, NULL);
        CHECK(o != NULL);
        CHECK(mw__io_out_buf(NULL, &len) == NULL && len == 0);
        io.eof = 1;
        if (server) CHECK_INT(mw__io_feed(&io, "X", 1), MW_ERR_CLOSED);
        mw__io_free(&io);
    }
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
    MW_RUN(test_word_lists);
    MW_RUN(test_engine_io);
    return mw_test_finish();
}
