/*
 * base64 kernels against the scalar path: every level this CPU runs, at
 * every buffer alignment 0..63 and every length 0..200 (and longer inputs
 * that reach the four-block and four-line paths), the bulk decoders called
 * directly with one bad character at every place, corrupted MIME lines at
 * every place, and the streaming-store paths at every output alignment.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include "codec/codec_internal.h"

#include <stdlib.h>

static uint64_t g_seed = 0x6b65726eu;

static size_t rnd(size_t n) { return n ? (size_t)(mw_test_rand(&g_seed) % n) : 0; }


/* Encode at level and at the scalar level, compare; then decode the text at
 * both levels (strict, or MIME for wrapped text) and compare output, return
 * value and error offset. Buffers start at the given alignments. */
static void compare_one(int level, const unsigned char *data, size_t len, unsigned eflags,
                        unsigned char *ibuf, unsigned char *obuf, unsigned char *ref, size_t ia,
                        size_t oa)
{
    unsigned dflags = (eflags & MW_B64_URL) | ((eflags & MW_B64_WRAP) ? MW_B64_MIME : 0);
    size_t elen = mw_b64_encoded_len(len, eflags);
    unsigned char *in = ibuf + ia, *out = obuf + oa;
    memcpy(in, data, len);
    mw_ssize r0 = mw__b64_encode_level(MW__B64_SCALAR, in, len, (char *)ref, elen, eflags);
    mw_ssize r1 = mw__b64_encode_level(level, in, len, (char *)out, elen, eflags);
    if (r0 != (mw_ssize)elen || r1 != r0 || memcmp(out, ref, elen) != 0) {
        mw_test_fail(__FILE__, __LINE__, "encode level %d len %zu flags %u align %zu/%zu", level, len,
                     eflags, ia, oa);
        return;
    }
    memcpy(in, ref, elen);
    size_t o0 = 0, o1 = 0;
    r0 = mw__b64_decode_level(MW__B64_SCALAR, (const char *)in, elen, ref, len, dflags, &o0);
    r1 = mw__b64_decode_level(level, (const char *)in, elen, out, len, dflags, &o1);
    if (r0 != (mw_ssize)len || r1 != r0 || o0 != o1 || memcmp(out, data, len) != 0)
        mw_test_fail(__FILE__, __LINE__, "decode level %d len %zu flags %u align %zu/%zu: %td %td",
                     level, len, dflags, ia, oa, r0, r1);
}

static void test_alignments_and_lengths(void)
{
    size_t maxlen = 1500;
    unsigned char *data = mw_test_xmalloc(maxlen), *ibuf = mw_test_xmalloc(2 * maxlen + 128);
    unsigned char *obuf = mw_test_xmalloc(2 * maxlen + 128), *ref = mw_test_xmalloc(2 * maxlen + 128);
    static const unsigned flag_sets[] = {0, MW_B64_WRAP, MW_B64_URL, MW_B64_URL | MW_B64_WRAP};
    mw_test_fill(data, maxlen, &g_seed);
    for (int level = 1; level < MW__B64_LEVELS; level++) {
        if (!mw__b64_level_supported(level)) continue;
        for (size_t ia = 0; ia < 64; ia++) {
            size_t oa = (ia * 37 + 5) % 64; /* in and out at different alignments */
            for (size_t len = 0; len <= 200; len++)
                for (size_t f = 0; f < 4; f++)
                    compare_one(level, data, len, flag_sets[f], ibuf, obuf, ref, ia, oa);
            for (size_t len = 201; len <= maxlen; len += 29 + ia)
                for (size_t f = 0; f < 4; f++)
                    compare_one(level, data, len, flag_sets[f], ibuf, obuf, ref, ia, oa);
        }
    }
    free(data);
    free(ibuf);
    free(obuf);
    free(ref);
}

#if defined(MW_HAVE_X86_SIMD)
typedef size_t (*dec_fn)(const unsigned char *in, size_t n, unsigned char *out, int url);

/* The bulk decoders called directly: with one character outside the
 * alphabet at place p, a kernel stops at a multiple of 4 no later than the
 * quad holding p, its output matches the scalar kernel's, and nothing is
 * written past what it reports. */
static void test_dec_kernels_direct(void)
{
    static const struct {
        int level;
        dec_fn fn;
    } kernels[] = {
        {MW__B64_SSSE3, mw__b64_dec_ssse3},
        {MW__B64_AVX2, mw__b64_dec_avx2},
        {MW__B64_AVX512, mw__b64_dec_avx512},
    };
    static const unsigned char bad[] = {'*', '=', '\r', '\n', ' ', 0x80, 0xff, 0x00, '-', '_'};
    unsigned char data[450], text[600], out[500], ref[500];
    mw_test_fill(data, sizeof data, &g_seed);
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        if (!mw__b64_level_supported(kernels[k].level)) continue;
        for (int url = 0; url <= 1; url++) {
            mw_ssize n = mw_b64_encode(data, sizeof data, (char *)text, sizeof text, url ? MW_B64_URL : 0);
            CHECK_INT(n, 600);
            for (size_t len = 596; len >= 500; len -= 4) { /* ends at every place in a 64-char block */
                for (size_t p = 0; p < len; p += 1 + rnd(3)) {
                    unsigned char saved = text[p], b = bad[rnd(sizeof bad)];
                    if ((b == '-' || b == '_') && url) b = '*';
                    text[p] = b;
                    memset(out, 0xA5, sizeof out);
                    size_t want = mw__b64_dec_scalar(text, len, ref, url);
                    size_t got = kernels[k].fn(text, len, out, url);
                    size_t wrote = sizeof out;
                    while (wrote > 0 && out[wrote - 1] == 0xA5) wrote--;
                    if (got % 4 || got > want || got / 4 * 3 < wrote ||
                        memcmp(out, ref, got / 4 * 3) != 0)
                        mw_test_fail(__FILE__, __LINE__, "level %d url %d len %zu bad %02x at %zu: got %zu",
                                     kernels[k].level, url, len, b, p, got);
                    text[p] = saved;
                }
                /* No bad character: the whole length is taken. */
                memset(out, 0xA5, sizeof out);
                CHECK_INT((mw_ssize)kernels[k].fn(text, len, out, url), (mw_ssize)len);
                CHECK_MEM(out, len / 4 * 3, data, len / 4 * 3);
                CHECK_INT(out[len / 4 * 3], 0xA5);
            }
        }
    }
}
#else
static void test_dec_kernels_direct(void) {}
#endif

/* The wrapped-line encoders called directly, for every line count up to
 * three of the AVX-512 kernel's 32-line periods and more: output equal to
 * the scalar kernel's, nothing written past the last line, and input read
 * only from a buffer of exactly the lines' size (the sanitizer build sees
 * any read past it). */
static void test_enc_lines_direct(void)
{
    typedef void (*lines_fn)(const unsigned char *in, size_t nlines, unsigned char *out, int url);
    static const struct {
        int level;
        lines_fn fn;
    } kernels[] = {
#if defined(MW_HAVE_X86_SIMD)
        {MW__B64_SSSE3, mw__b64_enc_lines_ssse3},
        {MW__B64_AVX2, mw__b64_enc_lines_avx2},
        {MW__B64_AVX512, mw__b64_enc_lines_avx512},
#endif
        {MW__B64_SCALAR, NULL},
    };
    size_t maxlines = 140;
    unsigned char *data = mw_test_xmalloc(maxlines * MW__B64_LINE_IN);
    unsigned char *ref = mw_test_xmalloc(maxlines * MW__B64_LINE_OUT);
    unsigned char *out = mw_test_xmalloc(maxlines * MW__B64_LINE_OUT + 64);
    mw_test_fill(data, maxlines * MW__B64_LINE_IN, &g_seed);
    for (size_t k = 0; kernels[k].fn; k++) {
        if (!mw__b64_level_supported(kernels[k].level)) continue;
        for (int url = 0; url <= 1; url++)
            for (size_t n = 0; n <= maxlines; n++) {
                size_t in_len = n * MW__B64_LINE_IN, out_len = n * MW__B64_LINE_OUT;
                unsigned char *in = mw_test_xmalloc(in_len + 1);
                memcpy(in, data, in_len);
                for (size_t l = 0; l < n; l++) {
                    mw__b64_enc_scalar(in + l * MW__B64_LINE_IN, MW__B64_LINE_IN,
                                       ref + l * MW__B64_LINE_OUT, url);
                    ref[l * MW__B64_LINE_OUT + 76] = '\r';
                    ref[l * MW__B64_LINE_OUT + 77] = '\n';
                }
                memset(out, 0xA5, out_len + 64);
                kernels[k].fn(in, n, out + (n % 7), url);
                size_t tail = 0;
                while (tail < 64 && out[(n % 7) + out_len + tail] == 0xA5) tail++;
                if (memcmp(out + (n % 7), ref, out_len) != 0 || tail != 64 - (n % 7))
                    mw_test_fail(__FILE__, __LINE__, "level %d url %d lines %zu", kernels[k].level,
                                 url, n);
                free(in);
            }
    }
    free(data);
    free(ref);
    free(out);
}

/* MIME text of 76-character lines with one byte replaced at every place
 * (characters, CR, LF): every level gives the scalar level's output, return
 * value, warnings and defect offset, one-shot and in a stepper with small
 * output space. */
static void test_mime_lines_corrupted(void)
{
    unsigned char data[57 * 9 + 20], back0[700], back1[700];
    char text[800];
    mw_test_fill(data, sizeof data, &g_seed);
    mw_ssize n = mw_b64_encode(data, sizeof data, text, sizeof text, MW_B64_WRAP);
    CHECK(n > 0);
    static const char bad[] = {'*', '=', '\r', '\n', ' ', 'A', '\t'};
    static const unsigned modes[] = {MW_B64_MIME, MW_B64_MIME | MW_B64_SKIP_GARBAGE};
    for (size_t m = 0; m < 2; m++) {
        for (size_t p = 0; p < (size_t)n; p++) {
            char saved = text[p], b = bad[(p * 5 + m) % sizeof bad];
            if (b == saved) b = '*';
            text[p] = b;
            size_t o0 = 0, o1 = 0;
            mw_ssize d0 = mw__b64_decode_level(MW__B64_SCALAR, text, (size_t)n, back0, sizeof back0,
                                               modes[m], &o0);
            for (int level = 1; level < MW__B64_LEVELS; level++) {
                if (!mw__b64_level_supported(level)) continue;
                mw_ssize d1 = mw__b64_decode_level(level, text, (size_t)n, back1, sizeof back1, modes[m], &o1);
                if (d0 != d1 || o0 != o1 || (d0 > 0 && memcmp(back0, back1, (size_t)d0) != 0))
                    mw_test_fail(__FILE__, __LINE__, "mode %u level %d byte %02x at %zu: %td/%td off %zu/%zu",
                                 modes[m], level, (unsigned char)b, p, d0, d1, o0, o1);
                /* Stepper with 100 bytes of output space per call. */
                mw_codec c;
                CHECK_INT(mw_b64_decode_init(&c, modes[m]), MW_OK);
                CHECK_INT(mw__b64_codec_set_level(&c, level), MW_OK);
                c.next_in = (const unsigned char *)text;
                c.avail_in = (size_t)n;
                int rc = MW_CODEC_MORE;
                size_t made = 0;
                while (rc == MW_CODEC_MORE && made < sizeof back1) {
                    c.next_out = back1 + made;
                    c.avail_out = sizeof back1 - made < 100 ? sizeof back1 - made : 100;
                    size_t room = c.avail_out;
                    rc = mw_b64_decode_step(&c, 1);
                    made += room - c.avail_out;
                }
                if (d0 >= 0 && (rc != MW_CODEC_DONE || made != (size_t)d0 ||
                                memcmp(back0, back1, made) != 0))
                    mw_test_fail(__FILE__, __LINE__, "stepper mode %u level %d at %zu", modes[m], level, p);
                if (d0 < 0 && rc != d0)
                    mw_test_fail(__FILE__, __LINE__, "stepper mode %u level %d at %zu: rc %d", modes[m],
                                 level, p, rc);
            }
            text[p] = saved;
        }
    }
}

/* Outputs of 4 MiB and more take the streaming-store paths, which first
 * step to an aligned output address: every output alignment 0..63 must give
 * the scalar result, and a bad character right after the aligning prologue
 * or deep inside must be found at its exact offset. */
static void test_streaming_alignments(void)
{
    size_t len = ((size_t)4 << 20) + 999, elen = mw_b64_encoded_len(len, 0);
    unsigned char *data = mw_test_xmalloc(len), *back = mw_test_xmalloc(len + 64);
    char *text = mw_test_xmalloc(elen), *enc = mw_test_xmalloc(elen + 64);
    mw_test_fill(data, len, &g_seed);
    CHECK_INT(mw__b64_encode_level(MW__B64_SCALAR, data, len, text, elen, 0), (mw_ssize)elen);
    for (size_t a = 0; a < 64; a++) {
        CHECK_INT(mw_b64_decode(text, elen, back + a, len, 0, NULL), (mw_ssize)len);
        if (memcmp(back + a, data, len) != 0) mw_test_fail(__FILE__, __LINE__, "decode align %zu", a);
        if (a % 4 == 0 || a % 9 == 1) {
            CHECK_INT(mw_b64_encode(data, len, enc + a, elen, 0), (mw_ssize)elen);
            if (memcmp(enc + a, text, elen) != 0) mw_test_fail(__FILE__, __LINE__, "encode align %zu", a);
        }
    }
    /* Wrapped: groups of 64 lines through a staging area; the line count
     * is no multiple of 64 or 4, and the last line is short. */
    size_t wlen = mw_b64_encoded_len(len, MW_B64_WRAP);
    char *wref = mw_test_xmalloc(wlen), *wenc = mw_test_xmalloc(wlen + 64);
    CHECK_INT(mw__b64_encode_level(MW__B64_SCALAR, data, len, wref, wlen, MW_B64_WRAP), (mw_ssize)wlen);
    for (size_t a = 0; a < 64; a += 1 + a / 4) {
        CHECK_INT(mw_b64_encode(data, len, wenc + a, wlen, MW_B64_WRAP), (mw_ssize)wlen);
        if (memcmp(wenc + a, wref, wlen) != 0) mw_test_fail(__FILE__, __LINE__, "wrapped align %zu", a);
        size_t lines = (len - a * 57 * 3) / 57, wl = mw_b64_encoded_len(lines * 57, MW_B64_WRAP);
        CHECK_INT(mw_b64_encode(data, lines * 57, wenc + a, wl, MW_B64_WRAP), (mw_ssize)wl);
        if (memcmp(wenc + a, wref, wl) != 0) mw_test_fail(__FILE__, __LINE__, "%zu whole lines", lines);
    }
    CHECK_INT(mw_b64_decode(wref, wlen, back, len, MW_B64_MIME, NULL), (mw_ssize)len);
    CHECK(memcmp(back, data, len) == 0);
    free(wref);
    free(wenc);
    static const size_t places[] = {0, 3, 4, 85, 100, 255, 256, 1000, 77777};
    for (size_t i = 0; i < sizeof places / sizeof places[0] + 1; i++) {
        size_t pos = i < sizeof places / sizeof places[0] ? places[i] : elen - 1 - rnd(100000);
        char saved = text[pos];
        text[pos] = '*';
        size_t off = 0;
        CHECK_INT(mw_b64_decode(text, elen, back + i, len, 0, &off), MW_ERR_SYNTAX);
        CHECK_INT((mw_ssize)off, (mw_ssize)pos);
        text[pos] = saved;
    }
    free(data);
    free(back);
    free(text);
    free(enc);
}

/* Reference: the stepper in one call with all input and the given space. */
static mw_ssize stepper_decode(int level, const char *in, size_t len, unsigned char *out, size_t cap,
                               unsigned flags, size_t *off)
{
    mw_codec c;
    *off = len;
    if (mw_b64_decode_init(&c, flags) != MW_OK || mw__b64_codec_set_level(&c, level) != MW_OK)
        return -1000;
    c.next_in = (const unsigned char *)in;
    c.avail_in = len;
    c.next_out = out;
    c.avail_out = cap;
    int rc = mw_b64_decode_step(&c, 1);
    if (rc < 0 || c.warnings) *off = (size_t)c.error_offset;
    if (rc < 0) return rc;
    return rc == MW_CODEC_DONE ? (mw_ssize)c.total_out : MW_ERR_BUFFER;
}

/* The one-shot call against the stepper at every level, with output space
 * of exactly enough, one byte short and half: same result, error offset
 * and output. `what` names the case in a failure. */
static void check_oneshot_levels(const char *text, size_t tlen, unsigned flags, const char *what)
{
    static unsigned char a[512], b[512];
    size_t want = mw_b64_decoded_max(tlen);
    const size_t caps[] = {want, want ? want - 1 : 0, want / 2};
    for (size_t ci = 0; ci < 3; ci++) {
        for (int level = 0; level < MW__B64_LEVELS; level++) {
            if (!mw__b64_level_supported(level)) continue;
            size_t o1 = 0, o2 = 0;
            memset(a, 0x5A, sizeof a);
            memset(b, 0x5A, sizeof b);
            mw_ssize r1 = mw__b64_decode_level(level, text, tlen, a, caps[ci], flags, &o1);
            mw_ssize r2 = stepper_decode(level, text, tlen, b, caps[ci], flags, &o2);
            if (r1 != r2 || o1 != o2 || (r1 > 0 && memcmp(a, b, (size_t)r1) != 0))
                mw_test_fail(__FILE__, __LINE__, "%s flags %u cap %zu level %d: %td/%td off %zu/%zu",
                             what, flags, caps[ci], level, r1, r2, o1, o2);
        }
    }
}

/* The one-shot decoder runs the kernels itself and checks a padded last
 * quad inline: with every byte value in each of the last four places (and
 * one character dropped or added), every flag set and output space exactly
 * enough, one byte short and a few bytes, it must give the stepper's
 * result, error offset and output. */
static void test_oneshot_matches_stepper(void)
{
    static const unsigned flag_sets[] = {0, MW_B64_URL, MW_B64_NOPAD, MW_B64_URL | MW_B64_NOPAD};
    unsigned char data[300];
    char text[420], what[96];
    mw_test_fill(data, sizeof data, &g_seed);
    for (size_t len = 0; len <= 300; len += len < 70 ? 1 : 23) {
        for (size_t f = 0; f < 4; f++) {
            unsigned flags = flag_sets[f];
            mw_ssize n = mw_b64_encode(data, len, text, sizeof text - 1, flags);
            CHECK(n >= 0);
            if (n < 0) return;
            for (size_t place = 1; place <= 4 && place <= (size_t)n; place++) {
                for (int byte = 0; byte < 256; byte += (len % 3 == 1 ? 1 : 5)) {
                    char saved = text[(size_t)n - place];
                    text[(size_t)n - place] = (char)byte;
                    for (int extra = -1; extra <= 1; extra++) {
                        size_t tlen = (size_t)((mw_ssize)n + extra);
                        if (extra > 0) text[n] = "=A"[byte & 1];
                        snprintf(what, sizeof what, "len %zu byte %02x at -%zu extra %d", len, byte,
                                 place, extra);
                        check_oneshot_levels(text, tlen, flags, what);
                    }
                    text[(size_t)n - place] = saved;
                }
            }
        }
    }
}

/* MIME text: the base64 of data[0..len) in lines of `line` characters
 * ending in CRLF, the last one with its CRLF only when final_crlf. */
static size_t mime_text(const unsigned char *data, size_t len, unsigned flags, size_t line,
                        int final_crlf, char *text)
{
    char plain[600];
    mw_ssize n = mw_b64_encode(data, len, plain, sizeof plain, flags & MW_B64_URL);
    size_t t = 0;
    for (size_t i = 0; i < (size_t)n; i += line) {
        size_t k = (size_t)n - i < line ? (size_t)n - i : line;
        memcpy(text + t, plain + i, k);
        t += k;
        if (i + k < (size_t)n || final_crlf) {
            text[t++] = '\r';
            text[t++] = '\n';
        }
    }
    return t;
}

/* The one-shot MIME decoder takes regular lines through the line kernel
 * and a clean last line through the strict code, and leaves everything
 * else to the stepper: for line lengths the kernel takes and others, with
 * and without a final CRLF, one byte replaced anywhere by a character that
 * matters (line ends, space, padding, garbage, bytes >= 0x80), characters
 * dropped at the end, every MIME flag set and too little room, it must give
 * the stepper's result, error offset and output. */
static void test_mime_oneshot_matches_stepper(void)
{
    static const unsigned flag_sets[] = {MW_B64_MIME, MW_B64_MIME | MW_B64_URL, MW_B64_MIME | MW_B64_NOPAD,
                                         MW_B64_MIME | MW_B64_SKIP_GARBAGE};
    static const size_t lines[] = {76, 64, 16, 40, 72, 80, 75};
    static const unsigned char swaps[] = {'\r', '\n', ' ', '=', 'A', '*', '-', '_', 0x80, 0xff};
    unsigned char data[400];
    char text[700], what[96];
    mw_test_fill(data, sizeof data, &g_seed);
    for (size_t len = 0; len <= 400; len += len < 60 ? 1 : 37) {
        for (size_t f = 0; f < 4; f++) {
            for (size_t li = 0; li < sizeof lines / sizeof lines[0]; li++) {
                unsigned flags = flag_sets[f];
                size_t n = mime_text(data, len, flags, lines[li], (int)((len + li) % 2), text);
                for (size_t trial = 0; trial < 12; trial++) {
                    size_t tlen = n, pos = 0;
                    unsigned char saved = 0;
                    if (trial >= 2 && n) { /* one byte replaced; the last ones more often */
                        pos = trial < 7 ? n - 1 - rnd(n < 8 ? n : 8) : rnd(n);
                        saved = (unsigned char)text[pos];
                        text[pos] = (char)swaps[rnd(sizeof swaps)];
                    } else if (trial == 1) {
                        tlen = n > 3 ? n - 1 - rnd(3) : n;
                    }
                    snprintf(what, sizeof what, "len %zu line %zu trial %zu pos %zu", len, lines[li],
                             trial, pos);
                    check_oneshot_levels(text, tlen, flags, what);
                    if (trial >= 2 && n) text[pos] = (char)saved;
                }
            }
        }
    }
}

/* One-shot encoding (kernels called directly, last group and CRLF written
 * inline) against the stepper fed one byte at a time, every length 0..700
 * and every flag set, at every level. */
static void test_oneshot_encode_matches_stepper(void)
{
    static const unsigned flag_sets[] = {0,
                                         MW_B64_URL,
                                         MW_B64_NOPAD,
                                         MW_B64_WRAP,
                                         MW_B64_WRAP | MW_B64_NOPAD,
                                         MW_B64_WRAP | MW_B64_URL | MW_B64_NOPAD};
    unsigned char data[700], a[1000], b[1000];
    mw_test_fill(data, sizeof data, &g_seed);
    for (size_t len = 0; len <= sizeof data; len++) {
        for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
            for (int level = 0; level < MW__B64_LEVELS; level++) {
                if (!mw__b64_level_supported(level)) continue;
                mw_ssize r1 = mw__b64_encode_level(level, data, len, (char *)a, sizeof a, flag_sets[f]);
                mw_codec c;
                CHECK_INT(mw_b64_encode_init(&c, flag_sets[f]), MW_OK);
                CHECK_INT(mw__b64_codec_set_level(&c, level), MW_OK);
                c.next_out = b;
                c.avail_out = sizeof b;
                int rc = MW_CODEC_MORE;
                for (size_t i = 0; i <= len && rc == MW_CODEC_MORE; i++) {
                    c.next_in = data + i;
                    c.avail_in = i < len ? 1 : 0;
                    rc = mw_b64_encode_step(&c, i == len);
                }
                if (rc != MW_CODEC_DONE || r1 != (mw_ssize)c.total_out ||
                    r1 != (mw_ssize)mw_b64_encoded_len(len, flag_sets[f]) || memcmp(a, b, (size_t)r1) != 0)
                    mw_test_fail(__FILE__, __LINE__, "len %zu flags %u level %d: %td/%llu", len,
                                 flag_sets[f], level, r1, (unsigned long long)c.total_out);
            }
        }
    }
}

int main(void)
{
    MW_RUN(test_alignments_and_lengths);
    MW_RUN(test_enc_lines_direct);
    MW_RUN(test_dec_kernels_direct);
    MW_RUN(test_mime_lines_corrupted);
    MW_RUN(test_streaming_alignments);
    MW_RUN(test_oneshot_matches_stepper);
    MW_RUN(test_mime_oneshot_matches_stepper);
    MW_RUN(test_oneshot_encode_matches_stepper);
    return mw_test_finish();
}
