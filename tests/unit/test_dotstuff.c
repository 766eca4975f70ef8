/*
 * SMTP dot-stuffing (RFC 5321 §4.5.2): stuffing and terminator rules,
 * unstuffing, every end-of-data smuggling variant as content (DESIGN.md
 * rule 2, CVE-2023-51764), round trips, split-invariance, in-place use.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include "codec/codec_internal.h"

#include <stdlib.h>

typedef int (*init_fn)(mw_codec *c, unsigned flags);
typedef int (*step_fn)(mw_codec *c, int finish);

typedef struct run_result {
    int rc;
    size_t out_len;
    size_t in_used;
} run_result;

/* Feed in[0, len) with at most in_chunk input bytes and out_chunk bytes of
 * output space per call (0 = everything; SIZE_MAX = random 1..9). */
static run_result drive(init_fn init, step_fn step, const void *in, size_t len, unsigned char *out,
                        size_t cap, size_t in_chunk, size_t out_chunk, uint64_t *rng)
{
    run_result r = {0, 0, 0};
    mw_codec c;
    r.rc = init(&c, 0);
    if (r.rc != MW_OK) return r;
    const unsigned char *src = in;
    int idle = 0;
    for (;;) {
        size_t ia = len - r.in_used, oa = cap - r.out_len;
        size_t ic = in_chunk == SIZE_MAX ? 1 + (size_t)(mw_test_rand(rng) % 9) : in_chunk;
        size_t oc = out_chunk == SIZE_MAX ? 1 + (size_t)(mw_test_rand(rng) % 9) : out_chunk;
        if (ic && ic < ia) ia = ic;
        if (oc && oc < oa) oa = oc;
        c.next_in = src + r.in_used;
        c.avail_in = ia;
        c.next_out = out + r.out_len;
        c.avail_out = oa;
        r.rc = step(&c, r.in_used + ia == len);
        size_t used = ia - c.avail_in, made = oa - c.avail_out;
        r.in_used += used;
        r.out_len += made;
        if (r.rc < 0 || r.rc == MW_CODEC_DONE) break;
        idle = (used || made) ? 0 : idle + 1;
        if (idle > 3) {
            r.rc = MW_ERR_BUFFER;
            break;
        }
    }
    CHECK_INT(c.total_in, r.in_used);
    CHECK_INT(c.total_out, r.out_len);
    return r;
}

static void stuff_eq(const char *in, size_t len, const char *expected, size_t elen)
{
    unsigned char out[512];
    run_result r = drive(mw_dotstuff_init, mw_dotstuff_step, in, len, out, sizeof out, 0, 0, NULL);
    CHECK_INT(r.rc, MW_CODEC_DONE);
    CHECK_INT(r.in_used, len);
    CHECK_MEM(out, r.out_len, expected, elen);
}

static void unstuff_eq(const char *in, size_t len, const char *expected, size_t elen, size_t used)
{
    unsigned char out[512];
    run_result r = drive(mw_dotunstuff_init, mw_dotunstuff_step, in, len, out, sizeof out, 0, 0, NULL);
    CHECK_INT(r.rc, MW_CODEC_DONE);
    CHECK_INT(r.in_used, used);
    CHECK_MEM(out, r.out_len, expected, elen);
}

#define STUFF(in, exp) stuff_eq((in), sizeof(in) - 1, (exp), sizeof(exp) - 1)
#define UNSTUFF(in, exp) unstuff_eq((in), sizeof(in) - 1, (exp), sizeof(exp) - 1, sizeof(in) - 1)

static void test_stuff_rules(void)
{
    STUFF("", ".\r\n"); /* empty message */
    STUFF("abc", "abc\r\n.\r\n"); /* completed with CRLF */
    STUFF("abc\r\n", "abc\r\n.\r\n");
    STUFF(".", "..\r\n.\r\n");
    STUFF(".\r\n", "..\r\n.\r\n");
    STUFF("..\r\n...", "...\r\n....\r\n.\r\n");
    STUFF(".abc\r\n.\r\nx.y\r\n..", "..abc\r\n..\r\nx.y\r\n...\r\n.\r\n");
    STUFF("a\r\n\r\n.", "a\r\n\r\n..\r\n.\r\n");
    /* only CRLF starts a line */
    STUFF("a\n.b", "a\n.b\r\n.\r\n");
    STUFF("a\r.b", "a\r.b\r\n.\r\n");
    STUFF("a\r", "a\r\r\n.\r\n");
    STUFF("a\n", "a\n\r\n.\r\n");
    STUFF("\r\n", "\r\n.\r\n");
    STUFF("x\0.\r\n.\0", "x\0.\r\n..\0\r\n.\r\n");
}

static void test_stuff_misc(void)
{
    mw_codec c;
    CHECK_INT(mw_dotstuff_init(NULL, 0), MW_ERR_INVALID);
    CHECK_INT(mw_dotstuff_init(&c, 1), MW_ERR_INVALID);
    CHECK_INT(mw_dotstuff_step(NULL, 1), MW_ERR_INVALID);
    CHECK_INT(mw_dotstuff_init(&c, 0), MW_OK);
    unsigned char out[8];
    c.next_in = (const unsigned char *)"ab";
    c.avail_in = 2;
    c.next_out = out;
    c.avail_out = sizeof out;
    CHECK_INT(mw_dotstuff_step(&c, 0), MW_CODEC_MORE);
    CHECK_INT(c.avail_in, 0);
    CHECK_INT(c.total_out, 2);
    CHECK_INT(mw_dotstuff_step(&c, 1), MW_CODEC_DONE);
    CHECK_MEM(out, c.total_out, "ab\r\n.\r\n", 7);
    CHECK_INT(mw_dotstuff_step(&c, 1), MW_CODEC_DONE); /* stays done */
    CHECK_INT(c.total_out, 7);
}

static void test_unstuff_rules(void)
{
    UNSTUFF(".\r\n", "");
    UNSTUFF("abc\r\n.\r\n", "abc\r\n");
    UNSTUFF("..abc\r\n..\r\n...\r\n.\r\n", ".abc\r\n.\r\n..\r\n");
    UNSTUFF("a.b\r\n x\r\n.\r\n", "a.b\r\n x\r\n");
    UNSTUFF("\r\n.\r\n", "\r\n");
    UNSTUFF(".x\r\n.\r\n", "x\r\n"); /* a dot then more: stuffing */
    /* next_in stops right after the terminator */
    unstuff_eq("hi\r\n.\r\nQUIT\r\n", 14, "hi\r\n", 4, 7);
    unstuff_eq(".\r\n.\r\n", 6, "", 0, 3);
}

/* Each smuggling variant inside a message is content; only the real
 * terminator after it ends the data. */
static void test_unstuff_smuggling(void)
{
    UNSTUFF("a\n.\nb\r\n.\r\n", "a\n.\nb\r\n");
    UNSTUFF("a\r\n.\nb\r\n.\r\n", "a\r\n\nb\r\n"); /* ".\nb" is a line: its dot is stuffing */
    UNSTUFF("a\n.\r\nb\r\n.\r\n", "a\n.\r\nb\r\n");
    UNSTUFF("a\r.\r\nb\r\n.\r\n", "a\r.\r\nb\r\n");
    UNSTUFF("a\r\n.\0\r\nb\r\n.\r\n", "a\r\n\0\r\nb\r\n");
    UNSTUFF("a\r\n\0.\r\nb\r\n.\r\n", "a\r\n\0.\r\nb\r\n");
    UNSTUFF("a\r\n.\r\r\nb\r\n.\r\n", "a\r\n\r\r\nb\r\n");
    UNSTUFF("a\r\n .\r\nb\r\n.\r\n", "a\r\n .\r\nb\r\n");
    UNSTUFF("a\r\r\n.\r\n", "a\r\r\n"); /* CR CR LF: the last CRLF counts */
    UNSTUFF("\n.\n\r\n.\r\n", "\n.\n\r\n");
    /* none of them ends the data on its own */
    static const char *variants[] = {"\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\0\r\n",
                                     "\r\n\0.\r\n", "\r\n.\r", "\r\n.", "\r\n. \r\n"};
    static const size_t lens[] = {3, 4, 4, 4, 5, 5, 4, 3, 5};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        unsigned char out[32];
        char in[32];
        in[0] = 'x';
        memcpy(in + 1, variants[i], lens[i]);
        run_result r = drive(mw_dotunstuff_init, mw_dotunstuff_step, in, lens[i] + 1, out,
                             sizeof out, 0, 0, NULL);
        CHECK_INT(r.rc, MW_ERR_TRUNCATED);
        CHECK_INT(r.in_used, lens[i] + 1);
    }
}

static void test_unstuff_truncated(void)
{
    static const char *cases[] = {"", "abc", "abc\r\n", "abc\r\n.", "abc\r\n.\r", "."};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char out[16];
        run_result r = drive(mw_dotunstuff_init, mw_dotunstuff_step, cases[i], strlen(cases[i]),
                             out, sizeof out, 0, 0, NULL);
        CHECK_INT(r.rc, MW_ERR_TRUNCATED);
    }
    mw_codec c;
    CHECK_INT(mw_dotunstuff_init(&c, 2), MW_ERR_INVALID);
    CHECK_INT(mw_dotunstuff_step(NULL, 0), MW_ERR_INVALID);
    /* without finish, a partial message is just "more" */
    unsigned char out[16];
    mw_dotunstuff_init(&c, 0);
    c.next_in = (const unsigned char *)"ab\r\n.";
    c.avail_in = 5;
    c.next_out = out;
    c.avail_out = sizeof out;
    CHECK_INT(mw_dotunstuff_step(&c, 0), MW_CODEC_MORE);
    CHECK_INT(c.avail_in, 0);
    c.next_in = (const unsigned char *)"\r\nxyz";
    c.avail_in = 5;
    CHECK_INT(mw_dotunstuff_step(&c, 0), MW_CODEC_DONE);
    CHECK_INT(c.avail_in, 3);
    CHECK_INT(mw_dotunstuff_step(&c, 1), MW_CODEC_DONE); /* stays done, takes nothing */
    CHECK_INT(c.avail_in, 3);
    CHECK_MEM(out, c.total_out, "ab\r\n", 4);
}

/* Data rich in dots and line-end bytes. */
static size_t random_data(uint64_t *rng, unsigned char *buf, size_t cap)
{
    static const char alphabet[] = "..\r\n\r\n.a\n\r\0x";
    size_t len = (size_t)(mw_test_rand(rng) % cap);
    for (size_t i = 0; i < len; i++) {
        uint64_t r = mw_test_rand(rng);
        buf[i] = r % 7 == 0 ? (unsigned char)(r >> 9) : (unsigned char)alphabet[(r >> 9) % 12];
    }
    return len;
}

static void test_roundtrip(void)
{
    uint64_t rng = 1234;
    static unsigned char in[2000], wire[5000], back[5000];
    for (int iter = 0; iter < 500; iter++) {
        size_t len = random_data(&rng, in, sizeof in);
        run_result s = drive(mw_dotstuff_init, mw_dotstuff_step, in, len, wire, sizeof wire, 0, 0, NULL);
        CHECK_INT(s.rc, MW_CODEC_DONE);
        /* the wire form ends with the terminator and has no other */
        CHECK(s.out_len >= 3 && memcmp(wire + s.out_len - 3, ".\r\n", 3) == 0);
        run_result u = drive(mw_dotunstuff_init, mw_dotunstuff_step, wire, s.out_len, back,
                             sizeof back, 0, 0, NULL);
        CHECK_INT(u.rc, MW_CODEC_DONE);
        CHECK_INT(u.in_used, s.out_len);
        /* a message not ending in CRLF comes back completed with one */
        int ended = len == 0 || (len >= 2 && in[len - 2] == '\r' && in[len - 1] == '\n');
        CHECK_INT(u.out_len, ended ? len : len + 2);
        CHECK_MEM(back, len, in, len);
        if (!ended) CHECK(u.out_len >= 2 && memcmp(back + len, "\r\n", 2) == 0);
    }
}

static void check_split(init_fn init, step_fn step, const unsigned char *in, size_t len,
                        uint64_t *rng)
{
    static unsigned char ref[5000], got[5000];
    run_result a = drive(init, step, in, len, ref, sizeof ref, 0, 0, NULL);
    for (size_t mode = 0; mode < 4; mode++) {
        for (size_t k = 1; k <= 8; k++) {
            size_t ic = mode == 0 || mode == 2 ? k : 0, oc = mode == 1 || mode == 2 ? k : 0;
            if (mode == 3) ic = oc = SIZE_MAX;
            run_result b = drive(init, step, in, len, got, sizeof got, ic, oc, rng);
            if (b.rc != a.rc || b.out_len != a.out_len || b.in_used != a.in_used ||
                memcmp(ref, got, a.out_len) != 0) {
                mw_test_fail(__FILE__, __LINE__, "split %zu/%zu differs (rc %d/%d)", ic, oc,
                             a.rc, b.rc);
                mw_test_dump("  input", in, len);
                mw_test_dump("  whole", ref, a.out_len);
                mw_test_dump("  split", got, b.out_len);
                return;
            }
        }
    }
}

static void test_split(void)
{
    uint64_t rng = 77;
    static unsigned char in[1500], wire[4000];
    for (int iter = 0; iter < 200; iter++) {
        size_t len = random_data(&rng, in, sizeof in);
        check_split(mw_dotstuff_init, mw_dotstuff_step, in, len, &rng);
        check_split(mw_dotunstuff_init, mw_dotunstuff_step, in, len, &rng); /* raw: may end anywhere */
        run_result s = drive(mw_dotstuff_init, mw_dotstuff_step, in, len, wire, sizeof wire, 0, 0, NULL);
        check_split(mw_dotunstuff_init, mw_dotunstuff_step, wire, s.out_len, &rng);
    }
}

static void test_unstuff_in_place(void)
{
    uint64_t rng = 3;
    static unsigned char in[2000], wire[5000], buf[5000];
    for (int iter = 0; iter < 200; iter++) {
        size_t len = random_data(&rng, in, sizeof in);
        run_result s = drive(mw_dotstuff_init, mw_dotstuff_step, in, len, wire, sizeof wire, 0, 0, NULL);
        memcpy(buf, wire, s.out_len);
        mw_codec c;
        mw_dotunstuff_init(&c, 0);
        c.next_in = buf;
        c.avail_in = s.out_len;
        c.next_out = buf;
        c.avail_out = s.out_len;
        CHECK_INT(mw_dotunstuff_step(&c, 1), MW_CODEC_DONE);
        CHECK(c.total_out >= len);
        CHECK_MEM(buf, len, in, len);
    }
}

/* Exactly sized heap buffers (ASan catches any access past them). */
static void test_exact_buffers(void)
{
    uint64_t rng = 8;
    static unsigned char scratch[5000];
    for (int iter = 0; iter < 100; iter++) {
        unsigned char tmp[2000];
        size_t len = random_data(&rng, tmp, sizeof tmp);
        unsigned char *in = malloc(len + 1);
        memcpy(in, tmp, len);
        run_result s = drive(mw_dotstuff_init, mw_dotstuff_step, in, len, scratch, sizeof scratch, 0, 0, NULL);
        unsigned char *wire = malloc(s.out_len);
        run_result s2 = drive(mw_dotstuff_init, mw_dotstuff_step, in, len, wire, s.out_len, 0, 0, NULL);
        CHECK_INT(s2.rc, MW_CODEC_DONE);
        CHECK_MEM(wire, s2.out_len, scratch, s.out_len);
        unsigned char *back = malloc(s.out_len);
        run_result u = drive(mw_dotunstuff_init, mw_dotunstuff_step, wire, s.out_len, back, s.out_len, 0, 0, NULL);
        CHECK_INT(u.rc, MW_CODEC_DONE);
        CHECK_MEM(back, len, in, len);
        free(back);
        free(wire);
        free(in);
    }
}

/* NULL buffers with zero sizes are valid. */
static void test_null_empty(void)
{
    mw_codec c;
    unsigned char out[8];
    CHECK_INT(mw_dotstuff_init(&c, 0), MW_OK);
    c.next_in = NULL;
    c.avail_in = 0;
    c.next_out = NULL;
    c.avail_out = 0;
    CHECK_INT(mw_dotstuff_step(&c, 1), MW_CODEC_MORE); /* no room for the terminator */
    c.next_out = out;
    c.avail_out = sizeof out;
    CHECK_INT(mw_dotstuff_step(&c, 1), MW_CODEC_DONE);
    CHECK_MEM(out, c.total_out, ".\r\n", 3);
    CHECK_INT(mw_dotunstuff_init(&c, 0), MW_OK);
    c.next_in = NULL;
    c.avail_in = 0;
    c.next_out = NULL;
    c.avail_out = 0;
    CHECK_INT(mw_dotunstuff_step(&c, 0), MW_CODEC_MORE);
    CHECK_INT(mw_dotunstuff_step(&c, 1), MW_ERR_TRUNCATED);
}

int main(void)
{
    MW_RUN(test_stuff_rules);
    MW_RUN(test_stuff_misc);
    MW_RUN(test_null_empty);
    MW_RUN(test_unstuff_rules);
    MW_RUN(test_unstuff_smuggling);
    MW_RUN(test_unstuff_truncated);
    MW_RUN(test_roundtrip);
    MW_RUN(test_split);
    MW_RUN(test_unstuff_in_place);
    MW_RUN(test_exact_buffers);
    return mw_test_finish();
}
