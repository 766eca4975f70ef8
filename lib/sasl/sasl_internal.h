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


/* ---- shared engine pieces (sasl.c) --------------------------------- */

/** A growable byte buffer owned by a context; wiped before it is freed or
 *  overwritten, since it may hold secrets. */
typedef struct mw__sasl_buf {
    unsigned char *p;
    size_t len, cap;
} mw__sasl_buf;

struct mw_sasl_options {
    mw_mem mem;
    size_t max_message;
    uint32_t min_iterations, max_iterations;
    mw_sasl_random_fn random;
    void *random_ud;
    unsigned flags;
};

#define MW__SASL_NPROPS 11 /* property ids 1..10 */

/** Context lifecycle. */
enum { MW__SASL_NEW, MW__SASL_RUNNING, MW__SASL_PAUSED, MW__SASL_FINISHED, MW__SASL_FAILED };

/** What client and server contexts share. */
typedef struct mw__sasl_base {
    mw_mem mem;
    mw_sasl_options opt;
    int mech;
    int state;       /* MW__SASL_* */
    int fatal;       /* sticky fatal error, 0 when none */
    mw__sasl_buf prop[MW__SASL_NPROPS];
    mw__sasl_buf out; /* the bytes handed out by the last call */
} mw__sasl_base;

void mw__sasl_buf_free(const mw_mem *m, mw__sasl_buf *b);
/** Wipe the contents and set the length to 0 (keeps the memory). */
void mw__sasl_buf_clear(mw__sasl_buf *b);
/** Make room for extra more bytes. @return MW_OK, MW_ERR_NOMEM. */
int mw__sasl_buf_grow(const mw_mem *m, mw__sasl_buf *b, size_t extra);
/** Append; grows the buffer. @return MW_OK, MW_ERR_NOMEM. */
int mw__sasl_buf_add(const mw_mem *m, mw__sasl_buf *b, const void *data, size_t len);
int mw__sasl_buf_adds(const mw_mem *m, mw__sasl_buf *b, const char *s);
/** Replace the contents with data. @return MW_OK, MW_ERR_NOMEM. */
int mw__sasl_buf_set(const mw_mem *m, mw__sasl_buf *b, const void *data, size_t len);
static inline mw_slice mw__sasl_slice(const mw__sasl_buf *b)
{
    mw_slice s = {(const char *)b->p, b->len};
    return s;
}

/** Initialise a base from options (NULL: defaults) and a mechanism name.
 *  @return MW_OK, MW_ERR_UNSUPPORTED. */
int mw__sasl_base_init(mw__sasl_base *b, const mw_mem *mem, const char *mech,
                       const mw_sasl_options *opts);
void mw__sasl_base_free(mw__sasl_base *b);
/** Store a property after the generic checks. */
int mw__sasl_base_set(mw__sasl_base *b, int prop, const void *value, size_t len);
/** Check that a step may run; returns MW_OK or the error to give. */
int mw__sasl_base_check(const mw__sasl_base *b, int want_state);
/** Record the outcome of a call: errors move the context to FAILED (fatal
 *  ones are remembered). Returns rc. */
int mw__sasl_base_result(mw__sasl_base *b, int rc);
/** Hand the output buffer out as a slice (also for an empty output). */
int mw__sasl_base_emit(mw__sasl_base *b, mw_slice *out, int status);

/** Fill buf with len random bytes through the options' callback.
 *  @return MW_OK, MW_ERR_UNSUPPORTED (no callback or it failed). */
int mw__sasl_random(const mw__sasl_base *b, void *buf, size_t len);
/** A printable nonce: the NONCE property, or base64 of 18 random bytes. */
int mw__sasl_nonce(const mw__sasl_base *b, mw__sasl_buf *out);

/** 1 when p[0..len) is well-formed UTF-8 (no overlongs, surrogates, or
 *  code points above U+10FFFF). */
int mw__sasl_utf8_valid(const void *p, size_t len);
/** Number of code points in valid UTF-8. */
size_t mw__sasl_utf8_count(const void *p, size_t len);
/** An OAuth kvpair value: *(VCHAR / SP / HTAB / CR / LF) (RFC 7628 §3.1),
 *  widened to UTF-8 so that internationalised addresses (RFC 6531) fit. */
int mw__sasl_oauth_value_ok(const void *p, size_t len);
/** memchr for a byte value, 1 when found. */
int mw__sasl_has_byte(const void *p, size_t len, int byte);
/** ASCII case-insensitive comparison of n bytes: 1 when equal. */
int mw__sasl_ieq(const char *a, const char *b, size_t n);

/* ---- base64 for SCRAM (through the codec module) -------------------- */

/** Append base64 of data to b. @return MW_OK, MW_ERR_NOMEM. */
int mw__sasl_b64_add(const mw_mem *m, mw__sasl_buf *b, const void *data, size_t len);
/** Strict decode (padding required) of in into b's contents.
 *  @return MW_OK, MW_ERR_SYNTAX, MW_ERR_NOMEM. */
int mw__sasl_b64_set(const mw_mem *m, mw__sasl_buf *b, const char *in, size_t len);

/* ---- SCRAM helpers (scram.c) ---------------------------------------- */

/** Append a saslname with ',' and '=' escaped as "=2C" and "=3D" (RFC 5802 §5.1). */
int mw__scram_escape_add(const mw_mem *m, mw__sasl_buf *b, const void *name, size_t len);
/** Unescape a saslname in place; *len is updated.
 *  @return MW_OK, MW_ERR_SYNTAX (bad escape, stray ',' or '=', bad UTF-8). */
int mw__scram_unescape(char *name, size_t *len);
/** Derive ClientKey, StoredKey and ServerKey from a salted password. */
void mw__scram_keys(const unsigned char salted[32], unsigned char client_key[32],
                    unsigned char stored_key[32], unsigned char server_key[32]);
/** Parse the next "x=value" attribute at *pos in msg (comma separated).
 *  @return 1 with *name and *val set, 0 at the end, MW_ERR_SYNTAX. */
int mw__scram_attr(const char *msg, size_t len, size_t *pos, char *name, mw_slice *val);

/* ---- OAuth error JSON (json.c) -------------------------------------- */

/**
 * Parse a flat JSON object and decode (in place) the string values of
 * "status", "scope", "openid-configuration" and "schemes" into e. Nested
 * values are skipped with an explicit depth counter (capped at 32).
 * @return MW_OK, MW_ERR_SYNTAX.
 */
int mw__sasl_oauth_error_parse(char *json, size_t len, mw_sasl_client_error *e);

#endif /* MW_SASL_INTERNAL_H */
