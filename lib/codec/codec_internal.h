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
#define MW__B64_AVX512 3 /* AVX-512 BW + VBMI */
#define MW__B64_LEVELS 4

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
 * - enc_wrapped (may be NULL): the one-shot MIME layout in one call: the
 *   len / 57 whole lines as enc_lines does, then the whole groups of the
 *   rest as characters (no CRLF); returns the bytes consumed.
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
    size_t (*enc_wrapped)(const unsigned char *in, size_t len, unsigned char *out, int url);
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
size_t mw__b64_enc_avx512(const unsigned char *in, size_t n, unsigned char *out, int url);
void mw__b64_enc_lines_avx512(const unsigned char *in, size_t nlines, unsigned char *out, int url);
size_t mw__b64_enc_wrapped_avx512(const unsigned char *in, size_t len, unsigned char *out, int url);
size_t mw__b64_dec_avx512(const unsigned char *in, size_t n, unsigned char *out, int url);
size_t mw__b64_dec_lines_avx512(const unsigned char *in, size_t n, unsigned char *out, size_t room,
                                size_t len, int url);
#endif

/* ---- quoted-printable ---- */

/* Encoder: input bytes whose encoding needs lookahead (trailing white space,
 * "From " at a line start, the 76th column) are held in hold[] until the
 * next bytes arrive; output that did not fit waits in pend[]. */
typedef struct mw__qp_enc_state {
    uint32_t col;        /* characters already on the current output line */
    uint8_t hold_len;    /* bytes in hold[] (already counted in total_in) */
    uint8_t pend_pos;    /* pend[pend_pos, pend_len) is still to be written */
    uint8_t pend_len;
    uint8_t level_force; /* 0: best for the CPU; else MW__QP_LEVEL_* + 1 */
    unsigned char hold[16];
    unsigned char pend[8];
} mw__qp_enc_state;
MW_CODEC_STATE_FITS(mw__qp_enc_state);

/* Longest run of white space the decoder holds back while it cannot yet
 * tell whether the run is trailing (RFC 2045 §6.7 rule 3). Longer runs are
 * written out in blocks of this size (deterministically, so the output does
 * not depend on how the input is cut). */
#define MW__QP_WS_CAP 128

/* Decoder: a small byte-level state machine for escapes and line ends, and
 * a bitmap of held white space (bit set = tab, clear = space). */
typedef struct mw__qp_dec_state {
    uint64_t mark;         /* input offset of the pending '=' or CR */
    uint8_t mode;          /* QP_D_* in qp.c */
    uint8_t hex1;          /* first digit of a pending "=X" */
    uint8_t pend_pos;
    uint8_t pend_len;
    uint8_t ws_len;        /* held white-space bytes */
    uint8_t ws_pos;        /* bytes of a released run already written */
    uint8_t ws_release;    /* the held run is literal data: write it out */
    uint8_t level_force;   /* 0: best for the CPU; else MW__QP_LEVEL_* + 1 */
    unsigned char pend[4];
    unsigned char ws_bits[MW__QP_WS_CAP / 8];
} mw__qp_dec_state;
MW_CODEC_STATE_FITS(mw__qp_dec_state);

/* From the CR, LF and white-space bit masks of a 16-byte block: the CRs
 * that start a clean hard line break inside the block (LF right after, no
 * white space right before, not the first byte, whose predecessor is
 * outside the block). Such a CRLF needs no attention from either QP codec. */
static inline unsigned mw__qp_clean_crs(unsigned cr, unsigned lf, unsigned ws)
{
    return cr & (lf >> 1) & ~(ws << 1) & ~1u;
}

#if defined(MW_HAVE_X86_SIMD) && (defined(__GNUC__) || defined(__clang__))
#define MW__QP_SSSE3 1
/* qp_ssse3.c: decode the 16-byte block at p into o (16 bytes of room),
 * when it holds only plain bytes, clean CRLFs, well-formed escapes and
 * "=" CRLF soft breaks.
 * @return input bytes used (14..16; *made output bytes, *run_off the
 *         offset just after the last escape or 0), or 0 when the block
 *         needs the scalar path. Call only when the CPU has SSSE3. */
size_t mw__qp_dec_block_ssse3(const unsigned char *p, unsigned char *o, int strict, size_t *made,
                              size_t *run_off);
#else
#define MW__QP_SSSE3 0
#endif

#if defined(MW_HAVE_X86_SIMD) && (defined(__GNUC__) || defined(__clang__))
#define MW__QP_AVX512 1
/* qp_avx512.c: decode 64-byte blocks of p[0..n) into o (n bytes of room,
 * not overlapping p) while each block holds only plain bytes, clean CRLFs,
 * well-formed escapes and "=" CRLF soft breaks; stops at the first block
 * that needs the narrower paths or when fewer than 64 bytes are left.
 * prev_ws: the byte before p is white space written as data (p[-1] is
 * never a CR whose LF is at p). Bare LFs are line ends as in the byte-level
 * machine; *bare_lf receives the offset of the first (SIZE_MAX if none),
 * for MW_CODEC_WARN_BARE_EOL.
 * @return input bytes used (*made output bytes). Call only when the CPU
 *         has AVX-512 BW, VBMI and VBMI2. */
size_t mw__qp_dec_run_avx512(const unsigned char *p, size_t n, unsigned char *o, int strict,
                             int prev_ws, size_t *made, size_t *bare_lf);
/* qp_enc_avx512.c: encode p[0..n) into o (room bytes, not overlapping p),
 * one output line segment per step, while at least 8 input bytes and 144
 * bytes of room are left; leaves the last two input bytes to the caller,
 * so no decision depends on where the data ends (trailing white space). *col is the
 * output column on entry and on return; flags are the encoder's.
 * @return input bytes used (*made output bytes). Call only when the CPU
 *         has AVX-512 BW, VBMI and VBMI2, and BMI2. */
size_t mw__qp_enc_run_avx512(const unsigned char *p, size_t n, unsigned char *o, size_t room,
                             unsigned *col, unsigned flags, size_t *made);
#else
#define MW__QP_AVX512 0
#endif

/* Decoder fast-path levels, highest first in preference. The decoder picks
 * the best one the CPU has; tests and the bench can force a lower one to
 * compare outputs and speeds. BYTE runs the byte-level machine alone (the
 * reference for the exact rules); BLOCK adds the 16-byte block loop (SSE2
 * where the build has it) and the escape-dense loop. */
#define MW__QP_LEVEL_BYTE 0
#define MW__QP_LEVEL_BLOCK 1
#define MW__QP_LEVEL_SSSE3 2
#define MW__QP_LEVEL_AVX512 3 /* AVX-512 BW + VBMI + VBMI2 */
#define MW__QP_LEVELS 4

/** 1 when the decoder can run level here, else 0. */
int mw__qp_dec_level_supported(int level);
/** Highest decoder level this build and CPU can run. */
int mw__qp_dec_level_best(void);
/** Make a freshly initialised QP decoder use level.
 * @return MW_OK, MW_ERR_UNSUPPORTED (not on this CPU), MW_ERR_INVALID. */
int mw__qp_dec_set_level(mw_codec *c, int level);

/* Encoder levels use the same numbers: BYTE is qp_enc_token alone, BLOCK
 * adds the 16-byte loop (SSE2 where the build has it), AVX512 the 64-byte
 * kernel in front of it. There is no SSSE3 encoder level. */
/** 1 when the encoder can run level here, else 0. */
int mw__qp_enc_level_supported(int level);
/** Highest encoder level this build and CPU can run. */
int mw__qp_enc_level_best(void);
/** Make a freshly initialised QP encoder use level.
 * @return MW_OK, MW_ERR_UNSUPPORTED (not here), MW_ERR_INVALID. */
int mw__qp_enc_set_level(mw_codec *c, int level);

/* ---- dot-stuffing ---- */

/* Shared by the stuffer and the unstuffer. */
typedef struct mw__dot_state {
    uint8_t line_start; /* at the start of data or just after CRLF */
    uint8_t prev_cr;    /* the last byte passed was CR */
    uint8_t stuffed;    /* stuffer: the extra '.' for the byte at next_in is written */
    uint8_t mode;       /* unstuffer: DOT_* in dotstuff.c */
    uint8_t term_kind;  /* stuffer: 0 none yet, 1 ".\r\n", 2 "\r\n.\r\n" */
    uint8_t term_pos;   /* stuffer: terminator bytes already written */
} mw__dot_state;
MW_CODEC_STATE_FITS(mw__dot_state);

/* ---- RFC 2047 and modified UTF-7 ---- */

/* UTF-8 scanning shared by the word codecs and the charset converter.
 * mw__utf8_next looks at p[0..n) (n >= 1) and returns the length (1..4) of
 * the valid character there, storing its code point in *cp; 0 when the bytes
 * are a valid but incomplete prefix (more input could complete them); or -k
 * where k >= 1 is the length of the maximal invalid subpart (the bytes one
 * U+FFFD replaces, Unicode §3.9 "U+FFFD substitution of maximal subparts").
 * Overlongs, surrogates and values above U+10FFFF are invalid. */
int mw__utf8_next(const unsigned char *p, size_t n, uint32_t *cp);
/** Length of the longest valid UTF-8 prefix of p[0..n). */
size_t mw__utf8_valid_len(const unsigned char *p, size_t n);

/* Replace every NUL, CR and LF in buf[0..len) by U+FFFD, in place (buf has
 * cap bytes). @return the new length, or MW_ERR_BUFFER when the result does
 * not fit (buf is then unchanged). *count receives the replacements made. */
mw_ssize mw__utf8_replace_controls(unsigned char *buf, size_t len, size_t cap, size_t *count);

/* ---- charset conversion to UTF-8 (charset.c), shared with MIME ---- */

#define MW__CS_NAME_MAX 64 /* longest charset name accepted, without NUL */
#define MW__CS_CARRY_MAX 16 /* longest incomplete multibyte tail kept between calls */

/* A streaming converter from one charset to UTF-8. UTF-8 and US-ASCII are
 * handled in-house (validated, malformed bytes become U+FFFD); every other
 * charset goes through the C library's iconv (which allocates with libc
 * malloc, outside the mw_mem hooks). Input may be cut anywhere: an
 * incomplete multibyte tail is kept until the next call, so text split
 * across RFC 2047 words or MIME chunks converts as if it were whole. The
 * output is always valid UTF-8. */
typedef struct mw__charset {
    int kind;            /* MW__CS_KIND_* (charset.c) */
    void *cd;            /* iconv_t, when kind is iconv */
    size_t ncarry;       /* bytes in carry */
    unsigned char carry[MW__CS_CARRY_MAX];
    int bad_pending;     /* iconv: the next byte (carry first) is malformed, replace it */
    int u7_mode;         /* UTF-7: direct, just after '+', or in base64 */
    int u7_imap;         /* UTF-7: the IMAP variant ('&' shifts, ',' for '/') */
    unsigned u7_bits;    /* UTF-7: bits waiting in u7_acc */
    uint32_t u7_acc, u7_high; /* UTF-7: base64 bits; a high surrogate waiting for its pair */
    uint64_t replaced;   /* U+FFFD substitutions made since open */
    char name[MW__CS_NAME_MAX + 1]; /* as given, NUL-terminated */
} mw__charset;

/* Open a converter from the charset called name[0..len) (case-insensitive;
 * "UTF-8", "UTF8", "US-ASCII" and "ASCII" need no iconv).
 * @return MW_OK; MW_ERR_CHARSET (unknown, or the name is empty, longer than
 *         MW__CS_NAME_MAX or contains bytes outside 0x21..0x7e); MW_ERR_NOMEM. */
int mw__charset_open(mw__charset *cs, const char *name, size_t len);
/* Release the converter (safe on a zeroed or closed struct). */
void mw__charset_close(mw__charset *cs);
/* Forget any carried tail and shift state, as if just opened. */
void mw__charset_reset(mw__charset *cs);
/* 1 when the converter was opened for name[0..len) (case-insensitive). */
int mw__charset_is(const mw__charset *cs, const char *name, size_t len);
/* Convert as much as fits, advancing in, inlen, out and outlen. Malformed
 * or unconvertible input becomes U+FFFD (counted in cs->replaced). Without
 * finish, an incomplete trailing sequence is consumed into the carry; with
 * finish, the carry is flushed (as U+FFFD) and the shift state reset.
 * Split-invariance: the output does not depend on how the input is cut
 * across calls, malformed input and stateful charsets included (an EILSEQ
 * is final, an incomplete tail of up to MW__CS_CARRY_MAX bytes waits for
 * more; UTF-7 is decoded in-house because glibc's decoder is not), provided
 * that iconv never runs out of output room inside a call: give at least 16
 * output bytes per input byte (glibc's TSCII turns one byte into up to 12
 * and answers differently after E2BIG). UTF-8, US-ASCII and UTF-7 are exact
 * with any room (MW_ERR_BUFFER, then resume).
 * @return MW_OK when all input was consumed (and, with finish, flushed);
 *         MW_ERR_BUFFER when the output space ran out first (what was done
 *         so far stays done: call again with more space). */
int mw__charset_convert(mw__charset *cs, const unsigned char **in, size_t *inlen,
                        unsigned char **out, size_t *outlen, int finish);

#endif
