/*
 * libFuzzer target for base64. The first input byte picks flags and a cut
 * size; the rest is the data. Checked invariants (abort on violation):
 * - strict decoding that succeeds re-encodes to the same text (canonical);
 * - every kernel level gives the same result (bytes, code, offset, warnings);
 * - the stepper cut into small pieces of input and output gives the same
 *   result as the one-shot call, and writes nothing past what it produced;
 * - encode then decode gives the input back, for every flag set.
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct result {
    mw_ssize rc;
    size_t off, made;
    unsigned warnings;
} result;

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_base64: %s\n", what);
        abort();
    }
}

/* Decode through the stepper with at most `cut` input and output bytes per call. */
static result step_decode(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
                          unsigned flags, size_t cut)
{
    mw_codec c;
    result r = {0, 0, 0, 0};
    must(mw_b64_decode_init(&c, flags) == MW_OK, "init");
    size_t pos = 0, made = 0;
    for (;;) {
        size_t ni = len - pos < cut ? len - pos : cut, no = cap - made < cut ? cap - made : cut;
        c.next_in = in + pos;
        c.avail_in = ni;
        c.next_out = out + made;
        c.avail_out = no;
        int rc = mw_b64_decode_step(&c, pos + ni == len);
        pos += ni - c.avail_in;
        made += no - c.avail_out;
        if (rc < 0 || rc == MW_CODEC_DONE) {
            r.rc = rc < 0 ? rc : (mw_ssize)made;
            break;
        }
        if (made == cap && ni == c.avail_in) {
            r.rc = MW_ERR_BUFFER;
            break;
        }
    }
    r.off = (size_t)c.error_offset;
    r.made = made;
    r.warnings = c.warnings;
    return r;
}

static void check_decode(const unsigned char *in, size_t len, unsigned flags, size_t cut)
{
    size_t cap = mw_b64_decoded_max(len) + 1, off0, off;
    unsigned char *ref = malloc(cap), *got = malloc(cap);
    must(ref && got, "malloc");
    mw_ssize r0 = mw__b64_decode_level(MW__B64_SCALAR, (const char *)in, len, ref, cap, flags, &off0);
    for (int level = 1; level < MW__B64_LEVELS; level++) {
        if (!mw__b64_level_supported(level)) continue;
        mw_ssize r = mw__b64_decode_level(level, (const char *)in, len, got, cap, flags, &off);
        must(r == r0 && off == off0, "levels disagree on result");
        must(r < 0 || memcmp(ref, got, (size_t)r) == 0, "levels disagree on bytes");
    }
    memset(got, 0xA5, cap);
    result s = step_decode(in, len, got, cap, flags, cut);
    must(s.rc == r0, "stepper and one-shot disagree on result");
    for (size_t k = s.made; k < cap; k++) must(got[k] == 0xA5, "output written past the produced bytes");
    must(r0 < 0 || memcmp(ref, got, (size_t)r0) == 0, "stepper and one-shot disagree on bytes");
    if (r0 < 0 || s.warnings) must(s.off == off0, "stepper and one-shot disagree on offset");
    if (r0 >= 0 && !(flags & MW_B64_MIME)) {
        /* Strict success means canonical text: encoding gives it back
         * (padding aside when it was optional). */
        size_t elen = mw_b64_encoded_len((size_t)r0, flags & MW_B64_URL);
        char *enc = malloc(elen + 1);
        must(enc != NULL, "malloc");
        mw_ssize e = mw_b64_encode(ref, (size_t)r0, enc, elen, flags & MW_B64_URL);
        must(e >= 0, "re-encode failed");
        size_t tl = len, el = (size_t)e;
        if (flags & MW_B64_NOPAD) {
            while (tl && in[tl - 1] == '=') tl--;
            while (el && enc[el - 1] == '=') el--;
        }
        must(tl == el && memcmp(in, enc, el) == 0, "strict decode not canonical");
        free(enc);
    }
    free(ref);
    free(got);
}

static void check_round_trip(const unsigned char *data, size_t len, unsigned flags)
{
    size_t elen = mw_b64_encoded_len(len, flags);
    char *enc = malloc(elen + 1);
    unsigned char *back = malloc(len + 1);
    must(enc && back, "malloc");
    mw_ssize e = mw_b64_encode(data, len, enc, elen, flags);
    must(e == (mw_ssize)elen, "encoded length");
    unsigned dflags = (flags & (MW_B64_URL | MW_B64_NOPAD)) | ((flags & MW_B64_WRAP) ? MW_B64_MIME : 0);
    size_t off;
    mw_ssize d = mw_b64_decode(enc, elen, back, len, dflags, &off);
    must(d == (mw_ssize)len && off == elen && memcmp(back, data, len) == 0, "round trip");
    free(enc);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0];
    data++;
    size--;
    size_t cut = 1 + (sel >> 5);
    unsigned url = sel & 1 ? MW_B64_URL : 0, nopad = sel & 2 ? MW_B64_NOPAD : 0;
    check_decode(data, size, url | nopad, cut);
    check_decode(data, size, url | nopad | MW_B64_MIME, cut);
    check_decode(data, size, url | nopad | MW_B64_MIME | MW_B64_SKIP_GARBAGE, cut);
    check_round_trip(data, size, url | nopad);
    check_round_trip(data, size, url | nopad | MW_B64_WRAP);
    return 0;
}
