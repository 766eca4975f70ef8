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

/* ---- quoted-printable ---- */

/* Encoder: input bytes whose encoding needs lookahead (trailing white space,
 * "From " at a line start, the 76th column) are held in hold[] until the
 * next bytes arrive; output that did not fit waits in pend[]. */
typedef struct mw__qp_enc_state {
    uint32_t col;        /* characters already on the current output line */
    uint8_t hold_len;    /* bytes in hold[] (already counted in total_in) */
    uint8_t pend_pos;    /* pend[pend_pos, pend_len) is still to be written */
    uint8_t pend_len;
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

#endif
