/*
 * libFuzzer target for quoted-printable. The first byte picks flags and a
 * chunk size; the rest is data. Checks, aborting on any violation:
 *  - decoding (lenient and strict) never fails except strict MW_ERR_SYNTAX,
 *    output is never longer than input, and cutting the input and output
 *    into small pieces gives the same result;
 *  - every decoder level (SIMD fast paths) gives the same bytes, result,
 *    warnings and error offset as the byte-level machine alone, whole and
 *    cut into pieces of about a 64-byte block;
 *  - every encoder level gives the same bytes as the byte-level machine,
 *    whole and cut into pieces;
 *  - encoding gives lines of at most 76 characters ending only in CRLF,
 *    and strict decoding of it gives the data back (a bare LF as CRLF
 *    with MW_QP_LF_EOL).
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/codec.h>

#include "codec/codec_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*init_fn)(mw_codec *c, unsigned flags);
typedef int (*step_fn)(mw_codec *c, int finish);

/* Run a stepper with at most chunk bytes of input and output per call;
 * a QP encoder or decoder at a forced level when level >= 0. */
static int run_at(int level, init_fn init, step_fn step, unsigned flags, const uint8_t *in,
                  size_t len, uint8_t *out, size_t cap, size_t chunk, size_t *out_len,
                  mw_codec *state)
{
    mw_codec c;
    if (init(&c, flags) != MW_OK) abort();
    if (level >= 0) {
        int set = init == mw_qp_encode_init ? mw__qp_enc_set_level(&c, level)
                                            : mw__qp_dec_set_level(&c, level);
        if (set != MW_OK) abort();
    }
    size_t used = 0, made = 0;
    int rc, idle = 0;
    for (;;) {
        size_t ia = len - used < chunk ? len - used : chunk;
        size_t oa = cap - made < chunk ? cap - made : chunk;
        c.next_in = in + used;
        c.avail_in = ia;
        c.next_out = out + made;
        c.avail_out = oa;
        rc = step(&c, used + ia == len);
        used += ia - c.avail_in;
        made += oa - c.avail_out;
        if (rc < 0 || rc == MW_CODEC_DONE) break;
        idle = (ia - c.avail_in || oa - c.avail_out) ? 0 : idle + 1;
        if (idle > 3) abort(); /* no progress with room on both sides */
    }
    *out_len = made;
    if (state) *state = c;
    return rc;
}

static int run(init_fn init, step_fn step, unsigned flags, const uint8_t *in, size_t len,
               uint8_t *out, size_t cap, size_t chunk, size_t *out_len, mw_codec *state)
{
    return run_at(-1, init, step, flags, in, len, out, cap, chunk, out_len, state);
}

static void check_encoded(const uint8_t *p, size_t n)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r') {
            if (i + 1 >= n || p[i + 1] != '\n') abort();
            i++;
            col = 0;
        } else if (p[i] == '\n' || ++col > 76) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    unsigned sel = data[0];
    const uint8_t *in = data + 1;
    size_t len = size - 1, chunk = 1 + (sel >> 5);
    size_t cap = 4 * len + 64;
    uint8_t *a = malloc(cap), *b = malloc(cap), *back = malloc(2 * len + 64);
    if (!a || !b || !back) abort();

    /* decoder: whole vs pieces, lenient and strict */
    for (unsigned strict = 0; strict < 2; strict++) {
        unsigned flags = strict ? MW_QP_STRICT : 0;
        size_t na, nb;
        mw_codec ca, cb;
        int ra = run(mw_qp_decode_init, mw_qp_decode_step, flags, in, len, a, cap, cap, &na, &ca);
        int rb = run(mw_qp_decode_init, mw_qp_decode_step, flags, in, len, b, cap, chunk, &nb, &cb);
        if (ra != rb || na != nb || memcmp(a, b, na) != 0) abort();
        if (ca.warnings != cb.warnings || ca.error_offset != cb.error_offset) abort();
        if (ra != MW_CODEC_DONE && !(strict && ra == MW_ERR_SYNTAX)) abort();
        if (na > len) abort();
        /* every level against the byte-level machine */
        size_t block = 60 + (sel & 7);
        for (int level = MW__QP_LEVEL_BLOCK; level < MW__QP_LEVELS; level++) {
            if (!mw__qp_dec_level_supported(level)) continue;
            for (int cut = 0; cut < 2; cut++) {
                size_t piece = cut ? block : cap;
                int r0 = run_at(MW__QP_LEVEL_BYTE, mw_qp_decode_init, mw_qp_decode_step, flags,
                                in, len, a, cap, piece, &na, &ca);
                int r1 = run_at(level, mw_qp_decode_init, mw_qp_decode_step, flags, in, len, b,
                                cap, piece, &nb, &cb);
                if (r0 != r1 || na != nb || memcmp(a, b, na) != 0) abort();
                if (ca.warnings != cb.warnings || ca.error_offset != cb.error_offset) abort();
                if (ca.total_in != cb.total_in) abort();
            }
        }
    }

    /* encoder: form, split-invariance, round trip */
    unsigned flags = sel & (MW_QP_BINARY | MW_QP_DOT | MW_QP_FROM | MW_QP_LF_EOL);
    if ((flags & MW_QP_BINARY) && (flags & MW_QP_LF_EOL)) flags &= ~MW_QP_LF_EOL;
    size_t na, nb, nback;
    if (run(mw_qp_encode_init, mw_qp_encode_step, flags, in, len, a, cap, cap, &na, NULL) !=
        MW_CODEC_DONE)
        abort();
    if (run(mw_qp_encode_init, mw_qp_encode_step, flags, in, len, b, cap, chunk, &nb, NULL) !=
            MW_CODEC_DONE ||
        na != nb || memcmp(a, b, na) != 0)
        abort();
    if (na > mw_qp_encoded_max(len, flags)) abort();
    check_encoded(a, na);
    /* every encoder level against the byte-level machine: whole, in pieces
     * just above the AVX-512 kernel's output margin, and in small pieces */
    size_t pieces[3] = {cap, 144 + (sel & 31), 1 + (sel & 63)};
    for (int level = MW__QP_LEVEL_BLOCK; level < MW__QP_LEVELS; level++) {
        if (!mw__qp_enc_level_supported(level)) continue;
        for (int cut = 0; cut < 3; cut++) {
            size_t n0, n1;
            int r0 = run_at(MW__QP_LEVEL_BYTE, mw_qp_encode_init, mw_qp_encode_step, flags, in,
                            len, a, cap, pieces[cut], &n0, NULL);
            int r1 = run_at(level, mw_qp_encode_init, mw_qp_encode_step, flags, in, len, b, cap,
                            pieces[cut], &n1, NULL);
            if (r0 != MW_CODEC_DONE || r1 != r0 || n0 != n1 || memcmp(a, b, n0) != 0) abort();
        }
    }
    mw_codec cd;
    if (run(mw_qp_decode_init, mw_qp_decode_step, MW_QP_STRICT, a, na, back, 2 * len + 64, 2 * len + 64,
            &nback, &cd) != MW_CODEC_DONE || cd.warnings)
        abort();
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if ((flags & MW_QP_LF_EOL) && in[i] == '\n' && !(i && in[i - 1] == '\r')) {
            if (j >= nback || back[j++] != '\r') abort();
        }
        if (j >= nback || back[j++] != in[i]) abort();
    }
    if (j != nback) abort();
    free(a);
    free(b);
    free(back);
    return 0;
}
