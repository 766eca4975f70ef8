/*
 * mailwire — RFC 5322 module internals: character classes, UTF-8 checks
 * and the CFWS/comment skipper shared by the address, date and msg-id
 * parsers.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_RFC5322_INTERNAL_H
#define MW_RFC5322_INTERNAL_H

#include <mailwire/rfc5322.h>

#include "common/common_internal.h"

/* Character classes of RFC 5322 §3.2 (ASCII only; bytes >= 0x80 have none). */
#define MW__C_ATEXT 0x01u /* §3.2.3 atext */
#define MW__C_WSP 0x02u   /* SP, HTAB */
#define MW__C_CTEXT 0x04u /* §3.2.2 ctext (without obs-ctext) */
#define MW__C_QTEXT 0x08u /* §3.2.4 qtext */
#define MW__C_DTEXT 0x10u /* §3.4.1 dtext */
#define MW__C_FTEXT 0x20u /* §3.6.8 ftext: field-name characters */
#define MW__C_VCHAR 0x40u /* %x21-7E */

extern const unsigned char mw__rfc5322_class[256];

static inline int mw__is(unsigned char c, unsigned cls)
{
    return (mw__rfc5322_class[c] & cls) != 0;
}

/* Length of the valid UTF-8 sequence (2..4 bytes, no overlongs, no
 * surrogates) starting at p with n bytes available; 0 when invalid. */
size_t mw__utf8_len(const unsigned char *p, size_t n);

/* Nesting cap used by the date and msg-id parsers (no option there). */
#define MW__DEFAULT_COMMENT_DEPTH 32u

/* Skip a comment starting at *p (which points at '('), with nesting counted
 * by a counter, never by recursion (§3.2.2). *p ends just past the closing
 * ')'. @return MW_OK, MW_ERR_SYNTAX (unterminated), MW_ERR_LIMIT (too deep). */
int mw__skip_comment(const char **p, const char *end, unsigned max_depth);

/* Day number (days since 1970-01-01) of a proleptic Gregorian date. */
int64_t mw__days_from_civil(int64_t y, unsigned m, unsigned d);

#endif /* MW_RFC5322_INTERNAL_H */
