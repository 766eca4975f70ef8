/*
 * Hashes and MACs used by the SASL mechanisms: SHA-256 (FIPS 180-4),
 * HMAC (RFC 2104), PBKDF2-HMAC-SHA-256 (RFC 8018 §5.2, "Hi()" in RFC 5802)
 * and MD5 (RFC 1321, only for CRAM-MD5). Plain C, no tables beyond the
 * round constants, nothing allocated.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sasl/sasl_internal.h"

#include <string.h>

void mw__wipe(void *p, size_t n)
{
    /* A volatile pointer keeps the compiler from dropping the stores to
     * memory that is about to be freed. */
    volatile unsigned char *v = p;
    while (n--) *v++ = 0;
}

static uint32_t rotr32(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }
static uint32_t rotl32(uint32_t x, unsigned n) { return (x << n) | (x >> (32u - n)); }

static uint32_t load_be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void store_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* ---- what SHA-256 and MD5 share (both Merkle-Damgard, 64-byte blocks) */

typedef void md_block_fn(uint32_t *h, const unsigned char *p);

/* Top up the partial block in buf, compress whole blocks straight from the
 * input, keep the tail. Static with a constant block function at each call
 * site, so the compiler specialises it (bench/bench_sasl.c: no slowdown). */
static void md_update(uint32_t *h, unsigned char buf[64], size_t *fill, uint64_t *total,
                      const unsigned char *p, size_t len, md_block_fn *block)
{
    *total += len;
    if (*fill) {
        size_t take = 64 - *fill < len ? 64 - *fill : len;
        memcpy(buf + *fill, p, take);
        *fill += take;
        p += take;
        len -= take;
        if (*fill < 64) return;
        block(h, buf);
        *fill = 0;
    }
    for (; len >= 64; p += 64, len -= 64) block(h, p);
    if (len) memcpy(buf, p, len);
    *fill = len;
}

/* The final padding: 0x80, zeros up to 56 mod 64, the message length in
 * bits as 64 bits (big-endian for SHA-256, FIPS 180-4 §5.1.1; little-endian
 * for MD5, RFC 1321 §3.2). @return how many bytes of pad to hash. */
static size_t md_pad(unsigned char pad[72], size_t fill, uint64_t total, int big_endian)
{
    uint64_t bits = total * 8u;
    size_t padlen = (fill < 56 ? 56 : 120) - fill;
    memset(pad, 0, 72);
    pad[0] = 0x80;
    for (unsigned i = 0; i < 8; i++)
        pad[padlen + i] = (unsigned char)(bits >> (big_endian ? 56 - 8 * i : 8 * i));
    return padlen + 8;
}

/* ---- SHA-256 (FIPS 180-4 §6.2) ------------------------------------ */

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (unsigned i = 0; i < 16; i++) w[i] = load_be32(p + 4 * i);
    for (unsigned i = 16; i < 64; i++) {
        uint32_t s0 = rotr32(w[i - 15], 7) ^ rotr32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr32(w[i - 2], 17) ^ rotr32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t t1 = k + (rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[i] + w[i];
        uint32_t t2 = (rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void mw__sha256_init(mw__sha256_ctx *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->total = 0;
    s->fill = 0;
}

void mw__sha256_update(mw__sha256_ctx *s, const void *data, size_t len)
{
    md_update(s->h, s->buf, &s->fill, &s->total, data, len, sha256_block);
}

void mw__sha256_final(mw__sha256_ctx *s, unsigned char out[MW__SHA256_LEN])
{
    unsigned char pad[72];
    mw__sha256_update(s, pad, md_pad(pad, s->fill, s->total, 1));
    for (unsigned i = 0; i < 8; i++) store_be32(out + 4 * i, s->h[i]);
    mw__wipe(s, sizeof *s);
}

void mw__sha256(const void *data, size_t len, unsigned char out[MW__SHA256_LEN])
{
    mw__sha256_ctx s;
    mw__sha256_init(&s);
    mw__sha256_update(&s, data, len);
    mw__sha256_final(&s, out);
}

/* ---- MD5 (RFC 1321 §3.4) ------------------------------------------ */

static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

static const unsigned char md5_shift[16] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};

static void md5_block(uint32_t h[4], const unsigned char *p)
{
    uint32_t x[16];
    for (unsigned i = 0; i < 16; i++) x[i] = load_le32(p + 4 * i);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t f;
        unsigned g, round = i / 16;
        if (round == 0) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (round == 1) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) & 15;
        } else if (round == 2) {
            f = b ^ c ^ d;
            g = (3 * i + 5) & 15;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) & 15;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl32(a + f + md5_t[i] + x[g], md5_shift[round * 4 + (i & 3)]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

void mw__md5_init(mw__md5_ctx *s)
{
    s->h[0] = 0x67452301;
    s->h[1] = 0xefcdab89;
    s->h[2] = 0x98badcfe;
    s->h[3] = 0x10325476;
    s->total = 0;
    s->fill = 0;
}

void mw__md5_update(mw__md5_ctx *s, const void *data, size_t len)
{
    md_update(s->h, s->buf, &s->fill, &s->total, data, len, md5_block);
}

void mw__md5_final(mw__md5_ctx *s, unsigned char out[MW__MD5_LEN])
{
    unsigned char pad[72];
    mw__md5_update(s, pad, md_pad(pad, s->fill, s->total, 0));
    for (unsigned i = 0; i < 4; i++) store_le32(out + 4 * i, s->h[i]);
    mw__wipe(s, sizeof *s);
}

void mw__md5(const void *data, size_t len, unsigned char out[MW__MD5_LEN])
{
    mw__md5_ctx s;
    mw__md5_init(&s);
    mw__md5_update(&s, data, len);
    mw__md5_final(&s, out);
}

/* ---- HMAC (RFC 2104 §2): H(K ^ opad, H(K ^ ipad, text)) ------------- */

/* The key as one 64-byte block: hashed first when longer, zero-padded. */
static void hmac_key_block(unsigned char k[64], const void *key, size_t key_len,
                           void (*hash)(const void *, size_t, unsigned char *))
{
    memset(k, 0, 64);
    if (key_len > 64)
        hash(key, key_len, k);
    else if (key_len)
        memcpy(k, key, key_len);
}

/* ipad (0x36) or opad (0x5c) XOR the key block. */
static void hmac_pad(unsigned char pad[64], const unsigned char k[64], unsigned char x)
{
    for (unsigned i = 0; i < 64; i++) pad[i] = (unsigned char)(k[i] ^ x);
}

void mw__hmac_sha256_init(mw__hmac_sha256_ctx *h, const void *key, size_t key_len)
{
    unsigned char k[64], pad[64];
    hmac_key_block(k, key, key_len, mw__sha256);
    hmac_pad(pad, k, 0x36);
    mw__sha256_init(&h->inner);
    mw__sha256_update(&h->inner, pad, 64);
    hmac_pad(pad, k, 0x5c);
    mw__sha256_init(&h->outer);
    mw__sha256_update(&h->outer, pad, 64);
    mw__wipe(k, sizeof k);
    mw__wipe(pad, sizeof pad);
}

void mw__hmac_sha256_update(mw__hmac_sha256_ctx *h, const void *data, size_t len)
{
    mw__sha256_update(&h->inner, data, len);
}

void mw__hmac_sha256_final(mw__hmac_sha256_ctx *h, unsigned char out[MW__SHA256_LEN])
{
    unsigned char inner[MW__SHA256_LEN];
    mw__sha256_final(&h->inner, inner);
    mw__sha256_update(&h->outer, inner, sizeof inner);
    mw__sha256_final(&h->outer, out);
    mw__wipe(inner, sizeof inner);
}

void mw__hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                     unsigned char out[MW__SHA256_LEN])
{
    mw__hmac_sha256_ctx h;
    mw__hmac_sha256_init(&h, key, key_len);
    mw__hmac_sha256_update(&h, data, len);
    mw__hmac_sha256_final(&h, out);
}

void mw__hmac_md5(const void *key, size_t key_len, const void *data, size_t len,
                  unsigned char out[MW__MD5_LEN])
{
    unsigned char k[64], pad[64], inner[MW__MD5_LEN];
    mw__md5_ctx s;
    hmac_key_block(k, key, key_len, mw__md5);
    hmac_pad(pad, k, 0x36);
    mw__md5_init(&s);
    mw__md5_update(&s, pad, 64);
    mw__md5_update(&s, data, len);
    mw__md5_final(&s, inner);
    hmac_pad(pad, k, 0x5c);
    mw__md5_init(&s);
    mw__md5_update(&s, pad, 64);
    mw__md5_update(&s, inner, sizeof inner);
    mw__md5_final(&s, out);
    mw__wipe(k, sizeof k);
    mw__wipe(pad, sizeof pad);
    mw__wipe(inner, sizeof inner);
}

/* ---- PBKDF2-HMAC-SHA-256 (RFC 8018 §5.2) ---------------------------- */

/* Each PBKDF2 round is HMAC over a 32-byte value. With the keyed inner and
 * outer states computed once, both hashes are a single compression of a
 * block whose padding never changes, so the rounds skip the generic
 * update/final path and work on words directly. */
static void pad_block_32(unsigned char blk[64])
{
    memset(blk + 32, 0, 32);
    blk[32] = 0x80;
    blk[62] = 0x03; /* (64 + 32) * 8 = 768 bits, big-endian */
}

static void words_to_block(unsigned char blk[64], const uint32_t w[8])
{
    for (unsigned i = 0; i < 8; i++) store_be32(blk + 4 * i, w[i]);
}

int mw__pbkdf2_sha256(const void *password, size_t password_len, const void *salt, size_t salt_len,
                      uint32_t iterations, unsigned char *out, size_t out_len)
{
    if (iterations == 0 || (out_len == 0) || (!salt && salt_len) || (!password && password_len))
        return MW_ERR_INVALID;
    mw__hmac_sha256_ctx keyed, h;
    mw__hmac_sha256_init(&keyed, password, password_len);
    unsigned char u[MW__SHA256_LEN], ctr[4], blk[64];
    uint32_t w[8], tw[8], st[8];
    uint32_t block = 1;
    pad_block_32(blk);
    for (size_t done = 0; done < out_len; block++) {
        /* U1 = HMAC(P, S || INT(block)) through the generic path */
        store_be32(ctr, block);
        h = keyed;
        mw__hmac_sha256_update(&h, salt, salt_len);
        mw__hmac_sha256_update(&h, ctr, 4);
        mw__hmac_sha256_final(&h, u);
        for (unsigned j = 0; j < 8; j++) tw[j] = w[j] = load_be32(u + 4 * j);
        for (uint32_t i = 1; i < iterations; i++) {
            words_to_block(blk, w);
            memcpy(st, keyed.inner.h, sizeof st);
            sha256_block(st, blk);
            words_to_block(blk, st);
            memcpy(w, keyed.outer.h, sizeof w);
            sha256_block(w, blk);
            for (unsigned j = 0; j < 8; j++) tw[j] ^= w[j];
        }
        words_to_block(blk, tw);
        size_t take = out_len - done < MW__SHA256_LEN ? out_len - done : MW__SHA256_LEN;
        memcpy(out + done, blk, take);
        pad_block_32(blk);
        done += take;
    }
    mw__wipe(&keyed, sizeof keyed);
    mw__wipe(&h, sizeof h);
    mw__wipe(u, sizeof u);
    mw__wipe(st, sizeof st);
    mw__wipe(blk, sizeof blk);
    mw__wipe(w, sizeof w);
    mw__wipe(tw, sizeof tw);
    return MW_OK;
}
