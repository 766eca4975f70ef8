/*
 * Fuzz modified UTF-7. Invariants: whatever the decoder accepts is
 * canonical (encoding the result gives the input back), a rejection names
 * an offset inside the input, and valid UTF-8 without NUL round-trips.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/codec.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    const char *in = (const char *)data;
    char *a = malloc(5 * size + 1), *b = malloc(5 * size + 1);
    size_t off;
    /* the documented bounds: decode len + len / 8 + 1, encode 5 * len + 1 */
    mw_ssize d = mw_mutf7_decode(in, size, a, size + size / 8 + 1, &off);
    if (d >= 0) {
        if (off != size) abort();
        mw_ssize e = mw_mutf7_encode(a, (size_t)d, b, 5 * size + 1);
        if (e != (mw_ssize)size || memcmp(b, in, size)) abort();
    } else if (d != MW_ERR_SYNTAX || off > size) {
        abort();
    }
    mw_ssize e = mw_mutf7_encode(in, size, a, 5 * size + 1);
    if (e >= 0) {
        for (mw_ssize i = 0; i < e; i++)
            if (a[i] < 0x20 || a[i] > 0x7e) abort();
        d = mw_mutf7_decode(a, (size_t)e, b, size + 1, &off);
        if (d != (mw_ssize)size || memcmp(b, in, size)) abort();
    } else if (e != MW_ERR_SYNTAX) {
        abort();
    }
    free(a);
    free(b);
    return 0;
}
