/*
 * Every streaming codec must write only inside [next_out, next_out +
 * avail_out): the output space is cut to every size from 1 to 300 bytes, a
 * canary follows it, and the canary must survive. (A fast path that stored
 * a whole block past avail_out slipped through the per-codec tests once.)
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <stdlib.h>

#define CANARY 64

typedef int (*step_fn)(mw_codec *c, int finish);
typedef int (*init_fn)(mw_codec *c, unsigned flags);

/* Text with CRLF lines of varied lengths, dots at line starts, '=' signs,
 * trailing white space and 8-bit bytes: every branch of the encoders. */
static size_t make_text(unsigned char *p, size_t n, uint64_t seed)
{
    uint64_t r = seed;
    size_t i = 0;
    while (i + 2 < n) {
        size_t line = (size_t)(mw_test_rand(&r) % 120);
        for (size_t k = 0; k < line && i + 2 < n; k++) {
            uint64_t x = mw_test_rand(&r) % 100;
            p[i++] = x < 80 ? (unsigned char)('a' + x % 26)
                     : x < 88 ? ' '
                     : x < 92 ? '.'
                     : x < 95 ? '='
                     : (unsigned char)(0x80 + x);
        }
        p[i++] = '\r';
        p[i++] = '\n';
    }
    return i;
}

/* Run the stepper over in with output space of exactly cap bytes per call;
 * return 0 when it finished without touching the canary. */
static int run_bounded(init_fn init, step_fn step, unsigned flags, const unsigned char *in,
                       size_t len, size_t cap)
{
    mw_codec c;
    if (init(&c, flags) != MW_OK) return -1;
    c.next_in = in;
    c.avail_in = len;
    unsigned char *buf = malloc(cap + CANARY);
    if (!buf) return -1;
    int rc, bad = 0;
    long rounds = 0;
    do {
        memset(buf, 0xA5, cap + CANARY);
        c.next_out = buf;
        c.avail_out = cap;
        rc = step(&c, 1);
        for (size_t i = cap; i < cap + CANARY; i++)
            if (buf[i] != 0xA5) bad = 1;
        if (c.next_out != buf + (cap - c.avail_out)) bad = 1;
    } while (rc == MW_CODEC_MORE && !bad && ++rounds < 10000000);
    free(buf);
    if (bad) return 1;
    return rc == MW_CODEC_DONE || rc < 0 ? 0 : 2;
}

static void check_codec(const char *name, init_fn init, step_fn step, unsigned flags,
                        const unsigned char *in, size_t len)
{
    for (size_t cap = 1; cap <= 300; cap++) {
        int r = run_bounded(init, step, flags, in, len, cap);
        if (r != 0) {
            mw_test_fail(__FILE__, __LINE__, "%s (flags %#x): output space %zu: %s", name, flags,
                         cap, r == 1 ? "wrote past avail_out" : "did not finish");
            return;
        }
    }
}

/* Clean prose: short CRLF lines of plain letters, the case where block
 * fast paths run across several lines at once. */
static size_t make_plain(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = i % 40 == 38 ? '\r' : i % 40 == 39 ? '\n' : (unsigned char)('a' + i % 26);
    return n - n % 40;
}

static void test_encoders_stay_in_bounds(void)
{
    size_t n = 8192;
    unsigned char *text = malloc(n);
    CHECK(text != NULL);
    if (!text) return;
    size_t len = make_plain(text, n);
    check_codec("qp encode (plain lines)", mw_qp_encode_init, mw_qp_encode_step, 0, text, len);
    check_codec("b64 encode (plain lines)", mw_b64_encode_init, mw_b64_encode_step, MW_B64_WRAP,
                text, len);
    check_codec("dotstuff (plain lines)", mw_dotstuff_init, mw_dotstuff_step, 0, text, len);
    len = make_text(text, n, 7);
    check_codec("qp encode", mw_qp_encode_init, mw_qp_encode_step, 0, text, len);
    check_codec("qp encode", mw_qp_encode_init, mw_qp_encode_step, MW_QP_DOT, text, len);
    check_codec("qp encode", mw_qp_encode_init, mw_qp_encode_step, MW_QP_BINARY, text, len);
    check_codec("b64 encode", mw_b64_encode_init, mw_b64_encode_step, 0, text, len);
    check_codec("b64 encode", mw_b64_encode_init, mw_b64_encode_step, MW_B64_WRAP, text, len);
    check_codec("dotstuff", mw_dotstuff_init, mw_dotstuff_step, 0, text, len);
    free(text);
}

static void test_decoders_stay_in_bounds(void)
{
    size_t n = 8192;
    unsigned char *text = malloc(n);
    char *enc = malloc(4 * n);
    CHECK(text != NULL && enc != NULL);
    if (!text || !enc) {
        free(text);
        free(enc);
        return;
    }
    size_t len = make_plain(text, n);
    mw_ssize e = mw_qp_encode(text, len, enc, 4 * n, 0);
    CHECK(e > 0);
    if (e > 0)
        check_codec("qp decode (plain lines)", mw_qp_decode_init, mw_qp_decode_step, 0,
                    (const unsigned char *)enc, (size_t)e);
    len = make_text(text, n, 11);
    e = mw_qp_encode(text, len, enc, 4 * n, 0);
    CHECK(e > 0);
    if (e > 0)
        check_codec("qp decode", mw_qp_decode_init, mw_qp_decode_step, 0,
                    (const unsigned char *)enc, (size_t)e);
    e = mw_b64_encode(text, len, enc, 4 * n, MW_B64_WRAP);
    CHECK(e > 0);
    if (e > 0)
        check_codec("b64 decode", mw_b64_decode_init, mw_b64_decode_step, MW_B64_MIME,
                    (const unsigned char *)enc, (size_t)e);
    /* unstuffing: the text, stuffed and terminated */
    memcpy(enc, text, len);
    memcpy(enc + len, ".\r\n", 3);
    check_codec("dotunstuff", mw_dotunstuff_init, mw_dotunstuff_step, 0,
                (const unsigned char *)enc, len + 3);
    free(text);
    free(enc);
}

int main(void)
{
    MW_RUN(test_encoders_stay_in_bounds);
    MW_RUN(test_decoders_stay_in_bounds);
    return mw_test_finish();
}
