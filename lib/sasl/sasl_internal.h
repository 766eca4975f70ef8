/*
 * mailwire — SASL module internals: the hashes and MACs the mechanisms
 * need (SHA-256, HMAC-SHA-256, PBKDF2-HMAC-SHA-256, MD5, HMAC-MD5), and the
 * shared pieces of the client and server engines.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_SASL_INTERNAL_H
#define MW_SASL_INTERNAL_H

#include <mailwire/sasl.h>

#include "common/common_internal.h"

/* ---- crypto (crypto.c) --------------------------------------------- */

#define MW__SHA256_LEN 32
#define MW__MD5_LEN 16

/** Overwrite n bytes with zeros through a volatile pointer (never elided). */
void mw__wipe(void *p, size_t n);

typedef struct mw__sha256_ctx {
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    unsigned char buf[64];
    size_t fill;
} mw__sha256_ctx;

void mw__sha256_init(mw__sha256_ctx *s);
void mw__sha256_update(mw__sha256_ctx *s, const void *data, size_t len);
/** Write the digest and wipe the state. */
void mw__sha256_final(mw__sha256_ctx *s, unsigned char out[MW__SHA256_LEN]);
void mw__sha256(const void *data, size_t len, unsigned char out[MW__SHA256_LEN]);

typedef struct mw__md5_ctx {
    uint32_t h[4];
    uint64_t total;
    unsigned char buf[64];
    size_t fill;
} mw__md5_ctx;

void mw__md5_init(mw__md5_ctx *s);
void mw__md5_update(mw__md5_ctx *s, const void *data, size_t len);
void mw__md5_final(mw__md5_ctx *s, unsigned char out[MW__MD5_LEN]);
void mw__md5(const void *data, size_t len, unsigned char out[MW__MD5_LEN]);

/** HMAC-SHA-256 with a keyed state that may be copied (PBKDF2 reuses it). */
typedef struct mw__hmac_sha256_ctx {
    mw__sha256_ctx inner, outer;
} mw__hmac_sha256_ctx;

void mw__hmac_sha256_init(mw__hmac_sha256_ctx *h, const void *key, size_t key_len);
void mw__hmac_sha256_update(mw__hmac_sha256_ctx *h, const void *data, size_t len);
void mw__hmac_sha256_final(mw__hmac_sha256_ctx *h, unsigned char out[MW__SHA256_LEN]);
void mw__hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                     unsigned char out[MW__SHA256_LEN]);
void mw__hmac_md5(const void *key, size_t key_len, const void *data, size_t len,
                  unsigned char out[MW__MD5_LEN]);

/**
 * PBKDF2 with HMAC-SHA-256 as the PRF (RFC 8018 §5.2; SCRAM's Hi()).
 * @return MW_OK, or MW_ERR_INVALID for iterations 0, out_len 0 or a NULL
 *         pointer with a non-zero length.
 */
int mw__pbkdf2_sha256(const void *password, size_t password_len, const void *salt, size_t salt_len,
                      uint32_t iterations, unsigned char *out, size_t out_len);

#endif /* MW_SASL_INTERNAL_H */
