/*
 * Fuzz RFC 2047 decoding and encoding. Invariants: decoding never needs
 * more than 3 * len + 1 bytes and never adds NUL, CR or LF; valid UTF-8
 * encodes within mw_2047_encoded_max into words of at most 75 characters
 * on lines of at most 76, and decodes back to the same text.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/codec.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t count_controls(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += p[i] == 0 || p[i] == '\r' || p[i] == '\n';
    return c;
}

static void check_layout(const char *s, size_t n, size_t column)
{
    size_t col = column, i = 0;
    if (n >= 3 && memcmp(s, "\r\n ", 3) == 0) i = 3, col = 1;
    while (i < n) {
        const char *end = memchr(s + i, '\r', n - i);
        size_t w = end ? (size_t)(end - (s + i)) : n - i;
        if (w > 75 || col + w > 76 || s[i] != '=' || s[i + w - 1] != '=') abort();
        i += w;
        if (i == n) break;
        if (i + 3 > n || memcmp(s + i, "\r\n ", 3)) abort();
        i += 3, col = 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    const char *in = (const char *)data;
    char *out = malloc(3 * size + 1);
    unsigned defects;
    for (unsigned flags = 0; flags <= (MW_2047_STRICT | MW_2047_PHRASE); flags++) {
        mw_ssize n = mw_2047_decode(in, size, out, 3 * size + 1, flags, &defects);
        if (n < 0 || out[n] != '\0') abort();
        if (count_controls(out, (size_t)n) > count_controls(in, size)) abort();
        if (n > 0 && mw_2047_decode(in, size, out, (size_t)n, flags, &defects) != MW_ERR_BUFFER)
            abort();
    }
    free(out);

    size_t max = mw_2047_encoded_max(size);
    char *enc = malloc(max + 1), *back = malloc(3 * max + 1);
    size_t column = size ? data[0] % 80 : 0;
    static const unsigned modes[] = {0, MW_2047_FORCE_B, MW_2047_FORCE_Q, MW_2047_PHRASE};
    for (size_t m = 0; m < 4; m++) {
        mw_ssize e = mw_2047_encode(in, size, column, enc, max, modes[m]);
        if (e == MW_ERR_SYNTAX) break; /* not UTF-8 */
        if (e < 0) abort();
        check_layout(enc, (size_t)e, column);
        mw_ssize d = mw_2047_decode(enc, (size_t)e, back, 3 * max + 1, MW_2047_STRICT, &defects);
        size_t lead = (e >= 3 && memcmp(enc, "\r\n ", 3) == 0) ? 1 : 0;
        if (d < 0) abort();
        if (!count_controls(in, size) &&
            ((size_t)d != size + lead || memcmp(back + lead, in, size) || defects))
            abort();
    }
    free(enc);
    free(back);
    return 0;
}
