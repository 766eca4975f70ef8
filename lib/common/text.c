/*
 * Small text helpers the protocol engines share: ASCII case-insensitive
 * words, word lists, decimal numbers without overflow, option bit sets
 * and bounded sizes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "common/common_internal.h"

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static int ieq_n(const char *p, const char *q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)p[i]) != lower((unsigned char)q[i])) return 0;
    return 1;
}

int mw__ieq(const char *p, size_t len, const char *s)
{
    return strlen(s) == len && ieq_n(p, s, len);
}

int mw__in_list(const char *list, const char *word, size_t len)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if ((size_t)(e - p) == len && len > 0 && ieq_n(p, word, len)) return 1;
        p = e;
    }
    return 0;
}

int mw__parse_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9) return -1;
        if (v > (UINT64_MAX - d) / 10) return -1; /* "99999999999999999999" */
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int word_char(unsigned char c, unsigned flags)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           (c == '_' && (flags & MW__WORDS_UNDERSCORE));
}

/* Output length of list as copied, or (size_t)-1 when a word is bad. */
static size_t word_list_len(const char *list, size_t max_word, unsigned flags)
{
    size_t out = 0, word = 0;
    for (const char *p = list; *p; p++) {
        if (*p == ' ') {
            if (!(flags & MW__WORDS_TIDY)) out++;
            word = 0;
            continue;
        }
        if (!word_char((unsigned char)*p, flags) || ++word > max_word) return (size_t)-1;
        if ((flags & MW__WORDS_TIDY) && word == 1 && out) out++; /* the separator */
        out++;
    }
    return out;
}

int mw__word_list_copy(char *dst, size_t cap, const char *list, size_t max_word, unsigned flags)
{
    if (!list) list = "";
    size_t need = word_list_len(list, max_word, flags);
    if (need >= cap) return MW_ERR_INVALID; /* also a bad word: (size_t)-1 */
    size_t o = 0;
    int at_word = 0;
    for (const char *p = list; *p; p++) {
        char c = *p;
        if (c == ' ') {
            if (!(flags & MW__WORDS_TIDY)) dst[o++] = ' ';
            at_word = 0;
            continue;
        }
        if ((flags & MW__WORDS_TIDY) && !at_word && o) dst[o++] = ' ';
        at_word = 1;
        dst[o++] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    dst[o] = 0;
    return MW_OK;
}

int mw__set_bits(unsigned *field, unsigned bits, unsigned all, int on)
{
    if (bits & ~all) return MW_ERR_INVALID;
    if (on)
        *field |= bits;
    else
        *field &= ~bits;
    return MW_OK;
}

int mw__set_size(size_t *field, size_t v, size_t lo, size_t hi)
{
    if (v < lo || v > hi) return MW_ERR_INVALID;
    *field = v;
    return MW_OK;
}
