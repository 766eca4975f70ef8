/*
 * SMTP server engine: API contracts, reply validation, pipelining flush
 * rules, back-pressure, bounded memory, DATA round-trip property over
 * random bodies and random cuts, allocation failures, and the parsers.
 *
 * SPDX-License-Identifier: MIT
 */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS for the guard-page test */
#include "mw_test.h"

#include "smtp/smtp_internal.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static mw_smtp_server *new_server(const char *flags_note)
{
    (void)flags_note;
    mw_smtp_server *s = NULL;
    CHECK_INT(mw_smtp_server_new(NULL, NULL, &s), MW_OK);
    return s;
}

/* Append all pending output to *acc (may be NULL to drop it). */
static size_t drain(mw_smtp_server *s, char *acc, size_t cap, size_t *len)
{
    size_t n, total = 0;
    const unsigned char *p;
    while ((p = mw_smtp_server_out_buf(s, &n)) != NULL) {
        if (acc && *len + n < cap) {
            memcpy(acc + *len, p, n);
            *len += n;
            acc[*len] = 0;
        }
        total += n;
        mw_smtp_server_out_ack(s, n);
    }
    return total;
}

static void feed_str(mw_smtp_server *s, const char *str)
{
    CHECK_INT(mw_smtp_server_feed(s, str, strlen(str)), (mw_ssize)strlen(str));
}

static int next_type(mw_smtp_server *s)
{
    const mw_smtp_event *ev;
    return mw_smtp_server_next(s, &ev);
}

static void test_opts_validation(void)
{
    mw_smtp_server_opts *o = mw_smtp_server_opts_new(NULL);
    CHECK(o != NULL);
    CHECK_INT(mw_smtp_server_opts_set_hostname(o, "bad host"), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_hostname(o, "bad\r\nhost"), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_hostname(o, ""), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_hostname(o, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_hostname(o, "mx.example.org"), MW_OK);
    CHECK_INT(mw_smtp_server_opts_set_extensions(o, 0x10000u, 1), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_flags(o, 0x8000u, 1), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_quirks(o, 0x80u, 1), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_max_line(o, 100, 1000, 12288), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_max_line(o, 512, 999, 12288), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_max_line(o, 512, 1000, 100000), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_max_recipients(o, 0), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_max_bad_commands(o, 0), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_input_buffer(o, 100), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_auth_mechanisms(o, "PLAIN LOG\nIN"), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_set_auth_mechanisms(o, "ABCDEFGHIJKLMNOPQRSTU"), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_declare_params(o, 0, "X=Y", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_opts_declare_params(o, 0, "XFOO", "XFOO\r\n250 injected"), MW_ERR_INVALID);
    /* The input buffer must hold an AUTH line (12288 by default). */
    CHECK_INT(mw_smtp_server_opts_set_auth_mechanisms(o, "plain"), MW_OK);
    CHECK_INT(mw_smtp_server_opts_set_input_buffer(o, 4096), MW_OK);
    mw_smtp_server *s = (mw_smtp_server *)1;
    CHECK_INT(mw_smtp_server_new(NULL, o, &s), MW_ERR_INVALID);
    CHECK(s == NULL);
    CHECK_INT(mw_smtp_server_opts_set_max_line(o, 512, 1000, 4096), MW_OK);
    CHECK_INT(mw_smtp_server_new(NULL, o, &s), MW_OK);
    CHECK_STR(s->o.auth_mechs, strlen(s->o.auth_mechs), "PLAIN");
    mw_smtp_server_free(s);
    CHECK_INT(mw_smtp_server_new(NULL, o, NULL), MW_ERR_INVALID);
    mw_smtp_server_opts_free(o);
    mw_smtp_server_opts_free(NULL);
    mw_smtp_server_free(NULL);
}

static void test_api_states(void)
{
    mw_smtp_server *s = new_server(NULL);
    const mw_smtp_event *ev = (const mw_smtp_event *)1;
    CHECK_INT(mw_smtp_server_next(NULL, &ev), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_next(s, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_next(s, &ev), 0);
    CHECK(ev == NULL);
    CHECK_INT(mw_smtp_server_accept(s), MW_ERR_STATE);
    CHECK_INT(mw_smtp_server_reply(s, 250, NULL, NULL), MW_ERR_STATE);
    CHECK_INT(mw_smtp_server_auth_challenge(s, "x", 1), MW_ERR_STATE);
    CHECK_INT(mw_smtp_server_tls_started(s), MW_ERR_STATE);
    CHECK_INT(mw_smtp_server_recv_ack(s, 1), MW_ERR_STATE);
    CHECK_INT(mw_smtp_server_feed(s, NULL, 3), MW_ERR_INVALID);
    feed_str(s, "EHLO a.example\r\nMAIL FROM:<a@b.example>\r\n");
    CHECK_INT(mw_smtp_server_next(s, &ev), MW_SMTP_EV_HELO);
    CHECK(ev && ev->paused == 1);
    CHECK_INT(mw_smtp_server_next(s, &ev), MW_ERR_STATE); /* paused, not sticky */
    CHECK_INT(mw_smtp_server_reply(s, 354, NULL, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_accept(s), MW_OK);
    CHECK_INT(mw_smtp_server_next(s, &ev), MW_SMTP_EV_MAIL);
    CHECK_STR(ev->path.base, ev->path.len, "a@b.example");
    CHECK_STR(ev->verb.base, ev->verb.len, "MAIL");
    /* Reply validation: class, enhanced code shape, text. */
    CHECK_INT(mw_smtp_server_reply(s, 199, NULL, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_reply(s, 600, NULL, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_reply(s, 354, NULL, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_reply(s, 250, "5.1.0", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_reply(s, 250, "2.1", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_reply(s, 250, "2.1.0000", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_reply(s, 550, NULL, "evil\r\n250 OK"), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_reply(s, 550, NULL, "nul\x01"), MW_ERR_INVALID);
    char big[500];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_INT(mw_smtp_server_reply(s, 550, NULL, big), MW_ERR_INVALID);
    const char *lines[2] = {"one", "two\n"};
    CHECK_INT(mw_smtp_server_reply_lines(s, 550, NULL, lines, 2), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_reply_lines(s, 550, NULL, lines, 0), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_server_auth_challenge(s, "x", 1), MW_ERR_STATE);
    char out[2048];
    size_t olen = 0;
    drain(s, out, sizeof out, &olen);
    CHECK(strstr(out, "evil") == NULL);
    CHECK_INT(mw_smtp_server_reply(s, 550, "5.7.1", "Sender refused"), MW_OK);
    olen = 0;
    drain(s, out, sizeof out, &olen);
    CHECK_STR(out, olen, "550 5.7.1 Sender refused\r\n");
    /* 421 is allowed at any time and closes. */
    CHECK_INT(mw_smtp_server_reply(s, 421, NULL, "shutting down"), MW_OK);
    olen = 0;
    drain(s, out, sizeof out, &olen);
    CHECK_STR(out, olen, "421 4.0.0 localhost shutting down\r\n");
    CHECK(mw_smtp_server_state(s) & MW_CLOSED);
    CHECK_INT(mw_smtp_server_next(s, &ev), MW_ERR_CLOSED);
    CHECK_INT(mw_smtp_server_feed(s, "x", 1), MW_ERR_CLOSED);
    mw_smtp_server_free(s);
}

/* RFC 2920 §3.2: replies to a pipelined group are held until the group
 * has been consumed, then flushed together, in order. */
static void test_pipelining_flush(void)
{
    mw_smtp_server *s = new_server(NULL);
    CHECK(mw_smtp_server_state(s) & MW_WANT_WRITE); /* the greeting */
    drain(s, NULL, 0, NULL);
    CHECK(!(mw_smtp_server_state(s) & MW_WANT_WRITE));
    feed_str(s, "EHLO a.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nNOOP\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_HELO);
    CHECK_INT(mw_smtp_server_accept(s), MW_OK);
    CHECK(!(mw_smtp_server_state(s) & MW_WANT_WRITE));
    CHECK_INT(next_type(s), MW_SMTP_EV_MAIL);
    CHECK_INT(mw_smtp_server_accept(s), MW_OK);
    CHECK(!(mw_smtp_server_state(s) & MW_WANT_WRITE));
    CHECK_INT(next_type(s), MW_SMTP_EV_RCPT);
    CHECK_INT(mw_smtp_server_reply(s, 550, NULL, "no"), MW_OK);
    CHECK(!(mw_smtp_server_state(s) & MW_WANT_WRITE));
    CHECK_INT(next_type(s), 0);
    CHECK(mw_smtp_server_state(s) & MW_WANT_WRITE);
    char out[2048];
    size_t olen = 0;
    drain(s, out, sizeof out, &olen);
    const char *tail = "250 2.1.0 OK\r\n550 5.0.0 no\r\n250 2.0.0 OK\r\n";
    CHECK(olen > strlen(tail));
    CHECK_STR(out + olen - strlen(tail), strlen(tail), tail);
    CHECK(strncmp(out, "250-mx.example.org\r\n", 20) == 0 || strncmp(out, "250-localhost\r\n", 15) == 0);
    mw_smtp_server_free(s);
}

/* A peer that pipelines without reading: the engine stops taking commands
 * while its output is over the high-water mark, and loses nothing. */
static void test_backpressure(void)
{
    mw_smtp_server *s = new_server(NULL);
    drain(s, NULL, 0, NULL);
    enum { N = 5000 };
    size_t fed = 0, replies = 0;
    const char *cmd = "NOOP\r\n";
    int stalls = 0;
    while (replies < N) {
        while (fed < N) {
            mw_ssize t = mw_smtp_server_feed(s, cmd, 6);
            if (t == 0) break;
            CHECK_INT(t, 6);
            fed++;
        }
        int rc = next_type(s);
        CHECK_INT(rc, 0);
        CHECK(s->io.out.cap <= MW__SMTP_OUT_MAX);
        if (mw__inbuf_len(&s->io.in) > 0) stalls++;
        size_t n;
        const unsigned char *p;
        while ((p = mw_smtp_server_out_buf(s, &n)) != NULL) {
            for (size_t i = 0; i + 14 <= n; i += 14) CHECK(memcmp(p + i, "250 2.0.0 OK\r\n", 14) == 0);
            replies += n / 14;
            mw_smtp_server_out_ack(s, n);
        }
    }
    CHECK_INT(replies, N);
    CHECK(stalls > 0);
    mw_smtp_server_free(s);
}

/* An endless command line and an endless DATA line keep memory at the
 * input buffer's ceiling. */
static void test_bounded_memory(void)
{
    mw_smtp_server_opts *o = mw_smtp_server_opts_new(NULL);
    CHECK_INT(mw_smtp_server_opts_set_input_buffer(o, 4096), MW_OK);
    mw_smtp_server *s;
    CHECK_INT(mw_smtp_server_new(NULL, o, &s), MW_OK);
    mw_smtp_server_opts_free(o);
    drain(s, NULL, 0, NULL);
    char junk[1000];
    memset(junk, 'A', sizeof junk);
    for (int i = 0; i < 2000; i++) {
        mw_ssize t = mw_smtp_server_feed(s, junk, sizeof junk);
        CHECK(t > 0);
        CHECK_INT(next_type(s), 0);
        if (t < (mw_ssize)sizeof junk) CHECK_INT(mw_smtp_server_feed(s, junk + t, sizeof junk - (size_t)t), (mw_ssize)sizeof junk - t);
        CHECK_INT(next_type(s), 0);
        CHECK(s->io.in.cap <= 4096);
    }
    feed_str(s, "\r\nNOOP\r\n");
    CHECK_INT(next_type(s), 0);
    char out[256];
    size_t olen = 0;
    drain(s, out, sizeof out, &olen);
    CHECK_STR(out, olen, "500 5.5.2 Line too long\r\n250 2.0.0 OK\r\n");
    /* DATA with a 2 MB line: streamed, bounded, refused at the end. */
    feed_str(s, "HELO a\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_HELO);
    CHECK_INT(mw_smtp_server_accept(s), MW_OK);
    feed_str(s, "MAIL FROM:<>\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_MAIL);
    CHECK_INT(mw_smtp_server_accept(s), MW_OK);
    feed_str(s, "RCPT TO:<a@b>\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_RCPT);
    CHECK_INT(mw_smtp_server_accept(s), MW_OK);
    feed_str(s, "DATA\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_DATA);
    CHECK_INT(mw_smtp_server_accept(s), MW_OK);
    uint64_t body = 0;
    for (int i = 0; i < 2000; i++) {
        size_t off = 0;
        while (off < sizeof junk) {
            mw_ssize t = mw_smtp_server_feed(s, junk + off, sizeof junk - off);
            CHECK(t >= 0);
            off += (size_t)t;
            const mw_smtp_event *ev;
            int rc;
            while ((rc = mw_smtp_server_next(s, &ev)) == MW_SMTP_EV_BODY) body += ev->data.len;
            CHECK_INT(rc, 0);
        }
        CHECK(s->io.in.cap <= 4096);
    }
    feed_str(s, "\r\n.\r\n");
    const mw_smtp_event *ev;
    int rc;
    while ((rc = mw_smtp_server_next(s, &ev)) == MW_SMTP_EV_BODY) body += ev->data.len;
    CHECK_INT(rc, MW_SMTP_EV_BODY_END);
    CHECK_INT(ev->reject_code, 552);
    CHECK_INT(ev->paused, 0);
    CHECK_INT(body, 2000 * 1000 + 2);
    CHECK_INT(ev->size, body);
    mw_smtp_server_free(s);
}

/* Client-side stuffing of a body for the property test: a dot after each
 * CRLF (and at the start) is doubled; the terminator is appended. */
static size_t stuff(const unsigned char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    int bol = 1;
    for (size_t i = 0; i < n; i++) {
        if (bol && in[i] == '.') out[o++] = '.';
        out[o++] = in[i];
        bol = in[i] == '\n' && i > 0 && in[i - 1] == '\r';
    }
    memcpy(out + o, ".\r\n", 3);
    return o + 3;
}

static void test_data_roundtrip_random(void)
{
    uint64_t seed = 0x5eed5eedULL;
    static const unsigned char alphabet[] = {'.', '.', '\r', '\n', '\r', '\n', 'a', 'b', 0, ' '};
    for (int iter = 0; iter < 300; iter++) {
        size_t n = (size_t)(mw_test_rand(&seed) % 3000);
        unsigned char *body = malloc(n + 2), *wire = malloc(2 * n + 16), *got = malloc(n + 16);
        for (size_t i = 0; i < n; i++) body[i] = alphabet[mw_test_rand(&seed) % sizeof alphabet];
        body[n++] = '\r';
        body[n++] = '\n';
        size_t wlen = stuff(body, n, wire);
        mw_smtp_server_opts *o = mw_smtp_server_opts_new(NULL);
        mw_smtp_server_opts_set_input_buffer(o, iter % 2 ? 1024 : 65536);
        mw_smtp_server_opts_set_max_line(o, 512, 1u << 20, 512);
        mw_smtp_server *s;
        CHECK_INT(mw_smtp_server_new(NULL, o, &s), MW_OK);
        mw_smtp_server_opts_free(o);
        feed_str(s, "HELO a\r\nMAIL FROM:<>\r\nRCPT TO:<a@b>\r\nDATA\r\n");
        for (int k = 0; k < 4; k++) {
            CHECK(next_type(s) > 0);
            CHECK_INT(mw_smtp_server_accept(s), MW_OK);
        }
        size_t off = 0, glen = 0;
        int zero_copy = iter % 3 == 0, ended = 0;
        while (!ended) {
            const mw_smtp_event *ev;
            int rc;
            while ((rc = mw_smtp_server_next(s, &ev)) == MW_SMTP_EV_BODY) {
                CHECK(glen + ev->data.len <= n);
                if (glen + ev->data.len > n) break;
                memcpy(got + glen, ev->data.base, ev->data.len);
                glen += ev->data.len;
            }
            if (rc == MW_SMTP_EV_BODY_END) {
                CHECK_INT(ev->reject_code, 0);
                ended = 1;
                break;
            }
            CHECK_INT(rc, 0);
            if (off >= wlen) break;
            size_t chunk = 1 + (size_t)(mw_test_rand(&seed) % 700);
            if (chunk > wlen - off) chunk = wlen - off;
            if (zero_copy) {
                size_t cap;
                unsigned char *p = mw_smtp_server_recv_buf(s, &cap);
                CHECK(p != NULL);
                if (!p) break;
                if (chunk > cap) chunk = cap;
                memcpy(p, wire + off, chunk);
                CHECK_INT(mw_smtp_server_recv_ack(s, chunk), MW_OK);
            } else {
                mw_ssize t = mw_smtp_server_feed(s, wire + off, chunk);
                CHECK(t >= 0);
                chunk = (size_t)t;
            }
            off += chunk;
        }
        CHECK(ended);
        CHECK_MEM(got, glen, body, n);
        mw_smtp_server_free(s);
        free(body);
        free(wire);
        free(got);
    }
}

/* A whole session under allocation failure: MW_OK or MW_ERR_NOMEM, no
 * leak, no crash. */
static int session_under_alloc(const mw_mem *mem, void *arg)
{
    (void)arg;
    mw_smtp_server_opts *o = mw_smtp_server_opts_new(mem);
    if (!o) return MW_ERR_NOMEM;
    mw_smtp_server_opts_set_auth_mechanisms(o, "PLAIN");
    mw_smtp_server_opts_set_flags(o, MW_SMTP_SERVER_PLAINTEXT_AUTH, 1);
    mw_smtp_server *s;
    int rc = mw_smtp_server_new(mem, o, &s);
    mw_smtp_server_opts_free(o);
    if (rc) return rc;
    static const char session[] =
        "EHLO a.example\r\nAUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\nMAIL FROM:<a@b.example> SIZE=10\r\n"
        "RCPT TO:<c@d.example> NOTIFY=NEVER\r\nDATA\r\nhello\r\n..dot\r\n.\r\nBDAT 3 LAST\r\nxyzRSET\r\n"
        "STARTTLS\r\n";
    size_t off = 0;
    rc = MW_OK;
    for (int guard = 0; guard < 10000 && rc == MW_OK; guard++) {
        const mw_smtp_event *ev;
        int t = mw_smtp_server_next(s, &ev);
        if (t > 0) {
            if (ev->paused) rc = mw_smtp_server_accept(s);
        } else if (t == MW_ERR_STATE) {
            rc = mw_smtp_server_accept(s);
        } else if (t < 0) {
            rc = t;
        } else {
            size_t n;
            if (mw_smtp_server_out_buf(s, &n)) {
                mw_smtp_server_out_ack(s, n);
                continue;
            }
            if (off == sizeof session - 1) break;
            mw_ssize f = mw_smtp_server_feed(s, session + off, 7 < sizeof session - 1 - off ? 7 : sizeof session - 1 - off);
            if (f < 0) rc = (int)f;
            else off += (size_t)f;
        }
    }
    if (rc == MW_OK && !(mw_smtp_server_state(s) & MW_TLS_HANDOFF)) rc = MW_ERR_STATE;
    mw_smtp_server_free(s);
    return rc;
}

static void test_alloc_failures(void)
{
    long runs = mw_test_alloc_loop("smtp session", session_under_alloc, NULL);
    CHECK(runs >= 4);
}

static void test_params_get(void)
{
    const char *p = "SIZE=100 BODY=8BITMIME SMTPUTF8 XFOO=a+2Bb";
    mw_slice params = {p, strlen(p)}, v;
    CHECK_INT(mw_smtp_params_get(params, "body", &v), 1);
    CHECK_STR(v.base, v.len, "8BITMIME");
    CHECK_INT(mw_smtp_params_get(params, "SMTPUTF8", &v), 1);
    CHECK_INT(v.len, 0);
    CHECK_INT(mw_smtp_params_get(params, "xfoo", &v), 1);
    CHECK_STR(v.base, v.len, "a+2Bb");
    CHECK_INT(mw_smtp_params_get(params, "SIZ", &v), 0);
    CHECK_INT(mw_smtp_params_get(params, NULL, &v), MW_ERR_INVALID);
}

static void test_codecs(void)
{
    unsigned char x[32];
    CHECK_INT(mw__smtp_xtext_decode("a+2B+3Db", 8, x), 4);
    CHECK_STR(x, 4, "a+=b");
    CHECK_INT(mw__smtp_xtext_decode("a+2b", 4, x), -1); /* lower-case hex is not xtext */
    CHECK_INT(mw__smtp_xtext_decode("a+2", 3, x), -1);
    CHECK_INT(mw__smtp_xtext_decode("a=b", 3, x), -1);
    CHECK(mw__smtp_utf8_valid((const unsigned char *)"\xC3\xB6", 2));
    CHECK(!mw__smtp_utf8_valid((const unsigned char *)"\xC0\xAF", 2));      /* overlong */
    CHECK(!mw__smtp_utf8_valid((const unsigned char *)"\xED\xA0\x80", 3));  /* surrogate */
    CHECK(!mw__smtp_utf8_valid((const unsigned char *)"\xE2\x82", 2));      /* truncated */
}

static void test_xtext_public(void)
{
    char enc[64];
    unsigned char dec[64];
    static const unsigned char raw[] = "a+b=c d\x01\xff~!";
    mw_ssize n = mw_smtp_xtext_encode(raw, sizeof raw - 1, enc, sizeof enc);
    CHECK_STR(enc, (size_t)n, "a+2Bb+3Dc+20d+01+FF~!");
    CHECK_INT(mw_smtp_xtext_encode(raw, sizeof raw - 1, enc, 5), MW_ERR_BUFFER);
    mw_ssize d = mw_smtp_xtext_decode(enc, (size_t)n, dec, sizeof dec);
    CHECK_MEM(dec, (size_t)d, raw, sizeof raw - 1);
    CHECK_INT(mw_smtp_xtext_decode(enc, (size_t)n, dec, 3), MW_ERR_BUFFER);
    CHECK_INT(mw_smtp_xtext_decode("a+2b", 4, dec, sizeof dec), MW_ERR_SYNTAX);
    CHECK_INT(mw_smtp_xtext_decode("a b", 3, dec, sizeof dec), MW_ERR_SYNTAX);
    CHECK_INT(mw_smtp_xtext_decode("", 0, dec, 0), 0);
    CHECK_INT(mw_smtp_xtext_encode(NULL, 1, enc, 4), MW_ERR_INVALID);
    /* round trip over random octets */
    uint64_t seed = 42;
    for (int it = 0; it < 200; it++) {
        unsigned char in[20];
        char e[60];
        unsigned char back[20];
        size_t len = (size_t)(mw_test_rand(&seed) % 20);
        for (size_t i = 0; i < len; i++) in[i] = (unsigned char)mw_test_rand(&seed);
        mw_ssize el = mw_smtp_xtext_encode(in, len, e, sizeof e);
        CHECK(el >= 0);
        mw_ssize bl = mw_smtp_xtext_decode(e, (size_t)el, back, sizeof back);
        CHECK_MEM(back, (size_t)bl, in, len);
    }
}

static void test_path_parser(void)
{
    struct { const char *in; int null_ok, pm; int rc; const char *addr; } t[] = {
        {"<a@b.example>", 0, 0, MW__SMTP_PATH_OK, "a@b.example"},
        {"<>", 1, 0, MW__SMTP_PATH_OK, ""},
        {"<>", 0, 0, MW__SMTP_PATH_SYNTAX, NULL},
        {"<Postmaster>", 0, 1, MW__SMTP_PATH_OK, "Postmaster"},
        {"<Postmaster>", 1, 0, MW__SMTP_PATH_SYNTAX, NULL},
        {"<\"a b\\\"c\"@b>", 0, 0, MW__SMTP_PATH_OK, "\"a b\\\"c\"@b"},
        {"<a@[IPv6:2001:db8::1]>", 0, 0, MW__SMTP_PATH_OK, "a@[IPv6:2001:db8::1]"},
        {"<@x.example,@y.example:a@b>", 0, 0, MW__SMTP_PATH_OK, "a@b"},
        {"<@x.example a@b>", 0, 0, MW__SMTP_PATH_SYNTAX, NULL},
        {"<a.@b>", 0, 0, MW__SMTP_PATH_SYNTAX, NULL},
        {"<.a@b>", 0, 0, MW__SMTP_PATH_SYNTAX, NULL},
        {"<a@b->", 0, 0, MW__SMTP_PATH_SYNTAX, NULL},
        {"<a@b..c>", 0, 0, MW__SMTP_PATH_SYNTAX, NULL},
        {"<a@[]>", 0, 0, MW__SMTP_PATH_SYNTAX, NULL},
        {"<a b@c>", 0, 0, MW__SMTP_PATH_SYNTAX, NULL},
        {"<a@b", 0, 0, MW__SMTP_PATH_SYNTAX, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        mw_slice addr;
        size_t used = 0;
        unsigned flags = 0;
        int eight;
        int rc = mw__smtp_parse_path(t[i].in, strlen(t[i].in), t[i].null_ok, t[i].pm, &addr, &used, &flags, &eight);
        if (rc != t[i].rc) mw_test_fail(__FILE__, __LINE__, "path %s: rc %d", t[i].in, rc);
        if (rc == 0) {
            CHECK_STR(addr.base, addr.len, t[i].addr);
            CHECK_INT(used, strlen(t[i].in));
        }
    }
    char longdom[300] = "<a@";
    for (int i = 0; i < 4; i++) strcat(longdom, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    strcat(longdom, "example>");
    mw_slice addr;
    size_t used;
    unsigned flags = 0;
    int eight;
    CHECK_INT(mw__smtp_parse_path(longdom, strlen(longdom), 0, 0, &addr, &used, &flags, &eight), MW__SMTP_PATH_LONG);
}

/* Parsers never read past their input: each input ends at a page whose
 * successor is unmapped, so an over-read faults. */
static void test_guard_page(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    if (map == MAP_FAILED) return;
    CHECK_INT(mprotect(map + pg, (size_t)pg, PROT_NONE), 0);
    static const char *const inputs[] = {"<a@b.example", "<\"unterminated", "<a@[1.2.3.4", "<@r.example,",
                                         "<a@b-", "<\xC3", "SIZE=1 BODY", "X=", "a+2", "a+"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        size_t n = strlen(inputs[i]);
        char *p = (char *)map + pg - n;
        memcpy(p, inputs[i], n);
        mw_slice addr, v;
        size_t used;
        unsigned flags = 0;
        int eight;
        CHECK(mw__smtp_parse_path(p, n, 1, 1, &addr, &used, &flags, &eight) != MW__SMTP_PATH_OK);
        mw_slice params = {p, n};
        mw_smtp_params_get(params, "BODY", &v);
        unsigned char out[32];
        mw__smtp_xtext_decode(p, n, out);
        mw__smtp_utf8_valid((const unsigned char *)p, n);
    }
    /* A parameter value that runs to the last mapped byte. */
    char *q = (char *)map + pg - 8;
    memcpy(q, "XFOO=abc", 8);
    mw_slice params = {q, 8}, v;
    CHECK_INT(mw_smtp_params_get(params, "XFOO", &v), 1);
    CHECK_STR(v.base, v.len, "abc");
    munmap(map, (size_t)pg * 2);
}

/* LMTP with many recipients and long replies: the output queue fills,
 * reply() says MW_ERR_LIMIT without queueing anything, the caller drains
 * and goes on; every recipient gets exactly one reply. */
static void test_lmtp_many_replies(void)
{
    mw_smtp_server_opts *o = mw_smtp_server_opts_new(NULL);
    mw_smtp_server_opts_set_flags(o, MW_SMTP_SERVER_LMTP, 1);
    mw_smtp_server *s;
    CHECK_INT(mw_smtp_server_new(NULL, o, &s), MW_OK);
    mw_smtp_server_opts_free(o);
    drain(s, NULL, 0, NULL);
    feed_str(s, "LHLO a\r\nMAIL FROM:<>\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_HELO);
    mw_smtp_server_accept(s);
    CHECK_INT(next_type(s), MW_SMTP_EV_MAIL);
    mw_smtp_server_accept(s);
    enum { N = 1000 };
    for (int i = 0; i < N; i++) {
        feed_str(s, "RCPT TO:<a@b>\r\n");
        CHECK_INT(next_type(s), MW_SMTP_EV_RCPT);
        CHECK_INT(mw_smtp_server_accept(s), MW_OK);
        drain(s, NULL, 0, NULL);
    }
    feed_str(s, "DATA\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_DATA);
    mw_smtp_server_accept(s);
    drain(s, NULL, 0, NULL);
    feed_str(s, "x\r\n.\r\n");
    const mw_smtp_event *ev;
    int t;
    while ((t = mw_smtp_server_next(s, &ev)) == MW_SMTP_EV_BODY) {}
    CHECK_INT(t, MW_SMTP_EV_BODY_END);
    CHECK_INT(ev->rcpt_count, N);
    char text[401];
    memset(text, 'z', 400);
    text[400] = 0;
    int replies = 0, limits = 0;
    size_t bytes = 0;
    while (replies < N) {
        int rc = mw_smtp_server_reply(s, 250, NULL, text);
        if (rc == MW_ERR_LIMIT) {
            limits++;
            size_t n;
            const unsigned char *p;
            while ((p = mw_smtp_server_out_buf(s, &n)) != NULL) {
                CHECK_INT(n % 412, 0); /* whole replies only */
                bytes += n;
                mw_smtp_server_out_ack(s, n);
            }
            continue;
        }
        CHECK_INT(rc, MW_OK);
        if (rc != MW_OK) break;
        replies++;
    }
    bytes += drain(s, NULL, 0, NULL);
    CHECK(limits > 0);
    CHECK_INT(bytes, (size_t)N * 412);
    CHECK_INT(mw_smtp_server_reply(s, 250, NULL, NULL), MW_ERR_STATE); /* all answered */
    feed_str(s, "QUIT\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_QUIT);
    mw_smtp_server_free(s);
}

/* LMTP refusal by the engine for 5000 recipients: 5000 replies fit. */
static void test_lmtp_engine_refusal_many(void)
{
    mw_smtp_server_opts *o = mw_smtp_server_opts_new(NULL);
    mw_smtp_server_opts_set_flags(o, MW_SMTP_SERVER_LMTP, 1);
    mw_smtp_server_opts_set_max_recipients(o, 5000);
    mw_smtp_server_opts_set_max_message_size(o, 3);
    mw_smtp_server *s;
    CHECK_INT(mw_smtp_server_new(NULL, o, &s), MW_OK);
    mw_smtp_server_opts_free(o);
    feed_str(s, "LHLO a\r\nMAIL FROM:<>\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_HELO);
    mw_smtp_server_accept(s);
    CHECK_INT(next_type(s), MW_SMTP_EV_MAIL);
    mw_smtp_server_accept(s);
    drain(s, NULL, 0, NULL);
    for (int i = 0; i < 5000; i++) {
        feed_str(s, "RCPT TO:<a@b>\r\n");
        CHECK_INT(next_type(s), MW_SMTP_EV_RCPT);
        mw_smtp_server_accept(s);
        drain(s, NULL, 0, NULL);
    }
    feed_str(s, "DATA\r\n");
    CHECK_INT(next_type(s), MW_SMTP_EV_DATA);
    mw_smtp_server_accept(s);
    drain(s, NULL, 0, NULL);
    feed_str(s, "0123456789\r\n.\r\n");
    const mw_smtp_event *ev;
    int t;
    while ((t = mw_smtp_server_next(s, &ev)) == MW_SMTP_EV_BODY) {}
    CHECK_INT(t, MW_SMTP_EV_BODY_END);
    CHECK_INT(ev->reject_code, 552);
    static const char line[] = "552 5.3.4 Message size exceeds fixed maximum message size\r\n";
    CHECK_INT(drain(s, NULL, 0, NULL), 5000 * (sizeof line - 1));
    mw_smtp_server_free(s);
}

int main(void)
{
    MW_RUN(test_lmtp_engine_refusal_many);
    MW_RUN(test_lmtp_many_replies);
    MW_RUN(test_guard_page);
    MW_RUN(test_opts_validation);
    MW_RUN(test_api_states);
    MW_RUN(test_pipelining_flush);
    MW_RUN(test_backpressure);
    MW_RUN(test_bounded_memory);
    MW_RUN(test_data_roundtrip_random);
    MW_RUN(test_alloc_failures);
    MW_RUN(test_params_get);
    MW_RUN(test_codecs);
    MW_RUN(test_path_parser);
    MW_RUN(test_xtext_public);
    return mw_test_finish();
}
