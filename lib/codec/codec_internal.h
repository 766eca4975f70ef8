/*
 * mailwire — codec module internals: the private state of each stepper
 * lives in mw_codec.state_, viewed through these structs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_CODEC_INTERNAL_H
#define MW_CODEC_INTERNAL_H

#include <mailwire/codec.h>

#include "common/common_internal.h"

/* View the private area of a stepper as the codec's own state struct; each
 * state struct must fit in sizeof(mw_codec.state_) (checked statically next
 * to its definition with MW_CODEC_STATE_FITS). */
#define MW_CODEC_STATE(c, type) ((type *)(void *)(c)->state_.bytes_)
#define MW_CODEC_STATE_FITS(type)                                                          \
    typedef char mw__state_fits_##type[sizeof(type) <= sizeof(((mw_codec *)0)->state_) ? 1 : -1]

/* ---- base64 ---- */

/* Kernel levels. The public API always runs the best level the CPU
 * supports; tests and the bench force a lower one to compare outputs and
 * speeds (mw__b64_codec_set_level, mw__b64_encode_level, ...). */
#define MW__B64_SCALAR 0
#define MW__B64_SSSE3 1
#define MW__B64_AVX2 2
#define MW__B64_LEVELS 3

/** Highest level this build and CPU can run (a cpuid-based check, cheap). */
int mw__b64_level_best(void);
/** 1 when level can run here, else 0. */
int mw__b64_level_supported(int level);
/** Make a freshly initialised stepper use level. @return MW_OK, MW_ERR_UNSUPPORTED, MW_ERR_INVALID. */
int mw__b64_codec_set_level(mw_codec *c, int level);
/** The one-shot helpers at a given level (same results as the public ones). */
mw_ssize mw__b64_encode_level(int level, const void *in, size_t len, char *out, size_t cap,
                              unsigned flags);
mw_ssize mw__b64_decode_level(int level, const char *in, size_t len, void *out, size_t cap,
                              unsigned flags, size_t *error_offset);

/*
 * Bulk kernels, one set per level. All four work on whole units only and
 * never read or write outside the ranges they are given:
 * - enc: encode the longest multiple of 3 of in[0..n) that it handles;
 *   returns the bytes consumed (a multiple of 3); writes 4/3 as many chars.
 * - enc_lines: encode nlines lines of 57 bytes, each into 76 chars + CRLF.
 * - dec: decode a prefix of in[0..n) made of whole quads of alphabet
 *   characters; stops before the first block holding anything else (or at
 *   the end); returns the chars consumed (a multiple of 4) and writes 3/4 as
 *   many bytes.
 * - dec_lines: decode lines of exactly len chars (a multiple of 4, 16..96)
 *   each followed by CRLF, while a whole line fits in n input bytes and
 *   room output bytes and is made only of alphabet characters; a line is
 *   checked before any of its bytes is written. Returns the input consumed
 *   (lines * (len + 2)).
 * url selects the RFC 4648 §5 alphabet.
 */
typedef struct mw__b64_kernel {
    size_t (*enc)(const unsigned char *in, size_t n, unsigned char *out, int url);
    void (*enc_lines)(const unsigned char *in, size_t nlines, unsigned char *out, int url);
    size_t (*dec)(const unsigned char *in, size_t n, unsigned char *out, int url);
    size_t (*dec_lines)(const unsigned char *in, size_t n, unsigned char *out, size_t room,
                        size_t len, int url);
} mw__b64_kernel;

#define MW__B64_LINE_IN 57u   /* bytes per wrapped line (RFC 2045 §6.8: 76 chars) */
#define MW__B64_LINE_OUT 78u  /* 76 chars + CRLF */

size_t mw__b64_enc_scalar(const unsigned char *in, size_t n, unsigned char *out, int url);
size_t mw__b64_dec_scalar(const unsigned char *in, size_t n, unsigned char *out, int url);
#if defined(MW_HAVE_X86_SIMD)
size_t mw__b64_enc_ssse3(const unsigned char *in, size_t n, unsigned char *out, int url);
void mw__b64_enc_lines_ssse3(const unsigned char *in, size_t nlines, unsigned char *out, int url);
size_t mw__b64_dec_ssse3(const unsigned char *in, size_t n, unsigned char *out, int url);
size_t mw__b64_dec_lines_ssse3(const unsigned char *in, size_t n, unsigned char *out, size_t room,
                               size_t len, int url);
size_t mw__b64_enc_avx2(const unsigned char *in, size_t n, unsigned char *out, int url);
void mw__b64_enc_lines_avx2(const unsigned char *in, size_t nlines, unsigned char *out, int url);
size_t mw__b64_dec_avx2(const unsigned char *in, size_t n, unsigned char *out, int url);
size_t mw__b64_dec_lines_avx2(const unsigned char *in, size_t n, unsigned char *out, size_t room,
                              size_t len, int url);
#endif

/* ---- quoted-printable ---- */

/* ---- dot-stuffing ---- */

/* ---- RFC 2047 and modified UTF-7 ---- */

#endif
