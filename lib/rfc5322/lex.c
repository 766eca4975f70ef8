/*
 * RFC 5322 lexical helpers shared by the module: the character class
 * table, UTF-8 validation and the comment skipper.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rfc5322/rfc5322_internal.h"

#define A MW__C_ATEXT
#define W MW__C_WSP
#define C MW__C_CTEXT
#define Q MW__C_QTEXT
#define D MW__C_DTEXT
#define F MW__C_FTEXT
#define V MW__C_VCHAR

/* Built from the ABNF of §3.2.2 (ctext), §3.2.3 (atext), §3.2.4 (qtext),
 * §3.4.1 (dtext) and §3.6.8 (ftext). */
/* clang-format off */
const unsigned char mw__rfc5322_class[256] = {
    ['\t'] = W,
    [' '] = W,
    ['!'] = A | C | Q | D | F | V,
    ['"'] = C | D | F | V,
    ['#'] = A | C | Q | D | F | V,
    ['$'] = A | C | Q | D | F | V,
    ['%'] = A | C | Q | D | F | V,
    ['&'] = A | C | Q | D | F | V,
    ['\''] = A | C | Q | D | F | V,
    ['('] = Q | D | F | V,
    [')'] = Q | D | F | V,
    ['*'] = A | C | Q | D | F | V,
    ['+'] = A | C | Q | D | F | V,
    [','] = C | Q | D | F | V,
    ['-'] = A | C | Q | D | F | V,
    ['.'] = C | Q | D | F | V,
    ['/'] = A | C | Q | D | F | V,
    ['0'] = A | C | Q | D | F | V, ['1'] = A | C | Q | D | F | V,
    ['2'] = A | C | Q | D | F | V, ['3'] = A | C | Q | D | F | V,
    ['4'] = A | C | Q | D | F | V, ['5'] = A | C | Q | D | F | V,
    ['6'] = A | C | Q | D | F | V, ['7'] = A | C | Q | D | F | V,
    ['8'] = A | C | Q | D | F | V, ['9'] = A | C | Q | D | F | V,
    [':'] = C | Q | D | V,
    [';'] = C | Q | D | F | V,
    ['<'] = C | Q | D | F | V,
    ['='] = A | C | Q | D | F | V,
    ['>'] = C | Q | D | F | V,
    ['?'] = A | C | Q | D | F | V,
    ['@'] = C | Q | D | F | V,
    ['A'] = A | C | Q | D | F | V, ['B'] = A | C | Q | D | F | V,
    ['C'] = A | C | Q | D | F | V, ['D'] = A | C | Q | D | F | V,
    ['E'] = A | C | Q | D | F | V, ['F'] = A | C | Q | D | F | V,
    ['G'] = A | C | Q | D | F | V, ['H'] = A | C | Q | D | F | V,
    ['I'] = A | C | Q | D | F | V, ['J'] = A | C | Q | D | F | V,
    ['K'] = A | C | Q | D | F | V, ['L'] = A | C | Q | D | F | V,
    ['M'] = A | C | Q | D | F | V, ['N'] = A | C | Q | D | F | V,
    ['O'] = A | C | Q | D | F | V, ['P'] = A | C | Q | D | F | V,
    ['Q'] = A | C | Q | D | F | V, ['R'] = A | C | Q | D | F | V,
    ['S'] = A | C | Q | D | F | V, ['T'] = A | C | Q | D | F | V,
    ['U'] = A | C | Q | D | F | V, ['V'] = A | C | Q | D | F | V,
    ['W'] = A | C | Q | D | F | V, ['X'] = A | C | Q | D | F | V,
    ['Y'] = A | C | Q | D | F | V, ['Z'] = A | C | Q | D | F | V,
    ['['] = C | Q | F | V,
    ['\\'] = F | V,
    [']'] = C | Q | F | V,
    ['^'] = A | C | Q | D | F | V,
    ['_'] = A | C | Q | D | F | V,
    ['`'] = A | C | Q | D | F | V,
    ['a'] = A | C | Q | D | F | V, ['b'] = A | C | Q | D | F | V,
    ['c'] = A | C | Q | D | F | V, ['d'] = A | C | Q | D | F | V,
    ['e'] = A | C | Q | D | F | V, ['f'] = A | C | Q | D | F | V,
    ['g'] = A | C | Q | D | F | V, ['h'] = A | C | Q | D | F | V,
    ['i'] = A | C | Q | D | F | V, ['j'] = A | C | Q | D | F | V,
    ['k'] = A | C | Q | D | F | V, ['l'] = A | C | Q | D | F | V,
    ['m'] = A | C | Q | D | F | V, ['n'] = A | C | Q | D | F | V,
    ['o'] = A | C | Q | D | F | V, ['p'] = A | C | Q | D | F | V,
    ['q'] = A | C | Q | D | F | V, ['r'] = A | C | Q | D | F | V,
    ['s'] = A | C | Q | D | F | V, ['t'] = A | C | Q | D | F | V,
    ['u'] = A | C | Q | D | F | V, ['v'] = A | C | Q | D | F | V,
    ['w'] = A | C | Q | D | F | V, ['x'] = A | C | Q | D | F | V,
    ['y'] = A | C | Q | D | F | V, ['z'] = A | C | Q | D | F | V,
    ['{'] = A | C | Q | D | F | V,
    ['|'] = A | C | Q | D | F | V,
    ['}'] = A | C | Q | D | F | V,
    ['~'] = A | C | Q | D | F | V,
};
/* clang-format on */

size_t mw__utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0xc2 || c > 0xf4) return 0;
    if (c < 0xe0) return (n >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
    if (c < 0xf0) {
        if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) return 0;
        if (c == 0xe0 && p[1] < 0xa0) return 0;  /* overlong */
        if (c == 0xed && p[1] >= 0xa0) return 0; /* surrogate */
        return 3;
    }
    if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) return 0;
    if (c == 0xf0 && p[1] < 0x90) return 0;  /* overlong */
    if (c == 0xf4 && p[1] >= 0x90) return 0; /* above U+10FFFF */
    return 4;
}

int mw__skip_comment(const char **pp, const char *end, unsigned max_depth)
{
    const char *p = *pp + 1;
    unsigned depth = 1;
    if (max_depth == 0) return MW_ERR_LIMIT;
    while (p < end) {
        char c = *p++;
        if (c == '\\') {
            if (p == end) break;
            p++;
        } else if (c == '(') {
            if (++depth > max_depth) return MW_ERR_LIMIT;
        } else if (c == ')') {
            if (--depth == 0) {
                *pp = p;
                return MW_OK;
            }
        }
    }
    *pp = end;
    return MW_ERR_SYNTAX;
}

int64_t mw__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Shift the year to start in March so the leap day is the last day. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (int64_t)(m > 2 ? m - 3 : m + 9);
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
