/*
 * POP3 helpers shared by the server and client engines: 32-bit numbers,
 * text checks, in-place base64, the APOP digest. (Words and 64-bit numbers
 * are lib/common/text.c.)
 *
 * SPDX-License-Identifier: MIT
 */
#include "pop3/pop3_internal.h"

#include <mailwire/codec.h>

int mw__pop3_parse_u32(const char *p, size_t n, uint32_t *out)
{
    uint64_t v;
    if (mw__parse_u64(p, n, &v) || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

int mw__pop3_text_ok(const char *t, size_t n, int sp)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x20 || c == 0x7f || (c == ' ' && !sp)) return 0;
    }
    return 1;
}

mw_ssize mw__pop3_b64_decode_inplace(unsigned char *p, size_t len)
{
    /* Strict (RFC 5034 §4): alphabet only, padding only at the end. The
     * decoder writes behind its read position, so in place is safe with a
     * small bounce: decode 4 characters at a time through a stack buffer. */
    size_t w = 0;
    if (len % 4) return -1;
    for (size_t r = 0; r < len; r += 4) {
        unsigned char tmp[3];
        mw_ssize n = mw_b64_decode((const char *)p + r, 4, tmp, sizeof tmp, 0, NULL);
        if (n < 0) return -1;
        if (n < 3 && r + 4 < len) return -1; /* padding before the end */
        memcpy(p + w, tmp, (size_t)n);
        w += (size_t)n;
    }
    return (mw_ssize)w;
}

int mw_pop3_apop_digest(const char *timestamp, size_t ts_len, const char *secret, size_t len,
                        char out[33])
{
    if (!out || (!timestamp && ts_len) || (!secret && len)) return MW_ERR_INVALID;
    mw__md5_ctx m;
    unsigned char d[MW__MD5_LEN];
    static const char hex[] = "0123456789abcdef";
    mw__md5_init(&m);
    if (ts_len) mw__md5_update(&m, timestamp, ts_len);
    if (len) mw__md5_update(&m, secret, len);
    mw__md5_final(&m, d);
    for (int i = 0; i < MW__MD5_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[32] = 0;
    mw__wipe(d, sizeof d);
    return MW_OK;
}

int mw__pop3_lang_tag_ok(const char *t, size_t n, int star)
{
    if (star && n == 1 && t[0] == '*') return 1; /* RFC 6856 §3: "LANG *" */
    if (n < 1 || n > MW__POP3_LANG_TAG_MAX) return 0;
    /* RFC 5646 §2.1 in simple form: subtags of letters and digits joined
     * by single hyphens (the registry is the caller's business). */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        int alnum = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
        if (alnum) continue;
        if (c != '-' || i == 0 || i + 1 == n || t[i - 1] == '-') return 0;
    }
    return 1;
}
