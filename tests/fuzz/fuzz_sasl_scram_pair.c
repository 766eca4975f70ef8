/*
 * libFuzzer target: a real SCRAM-SHA-256(-PLUS) client and server talk to
 * each other while the fuzzer flips or truncates bytes of their messages
 * in transit. Invariants: untouched, the exchange always succeeds on both
 * sides; with any message altered, it never does (every byte of the
 * transcript is bound by the proof, the signature or the nonce check).
 * Input: byte 0 = mode bits (-PLUS, success data, plaintext password on the
 * server), then up to four 4-byte edits: message index (0 client-first,
 * 1 server-first, 2 client-final, 3 server-final), position (2 bytes),
 * xor value (0 = truncate at the position instead).
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/sasl.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct edit {
    unsigned msg;
    size_t pos;
    unsigned char x;
} edit;

static int fake_random(void *buf, size_t len, void *ud)
{
    unsigned *ctr = ud;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)(++*ctr * 167u);
    return 0;
}

/* Apply the edits aimed at message idx; returns 1 when the bytes differ
 * from what was sent (two flips of one byte cancel out). */
static int tamper(const edit *e, size_t ne, unsigned idx, unsigned char *buf, size_t *len)
{
    unsigned char orig[1024];
    size_t orig_len = *len;
    memcpy(orig, buf, orig_len);
    for (size_t i = 0; i < ne; i++) {
        if (e[i].msg != idx || *len == 0) continue;
        size_t pos = e[i].pos % *len;
        if (e[i].x)
            buf[pos] ^= e[i].x;
        else
            *len = pos;
    }
    return *len != orig_len || memcmp(orig, buf, orig_len) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned mode = data[0];
    edit edits[4];
    size_t ne = 0;
    for (size_t off = 1; off + 4 <= size && ne < 4; off += 4) {
        edits[ne].msg = data[off] & 3u;
        edits[ne].pos = ((size_t)data[off + 1] << 8) | data[off + 2];
        edits[ne].x = data[off + 3];
        ne++;
    }
    const char *mech = (mode & 1) ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-256";
    unsigned ctr = 0;
    mw_sasl_options *o = mw_sasl_options_new(NULL);
    if (!o) return 0;
    mw_sasl_options_set_random(o, fake_random, &ctr);
    mw_sasl_options_set_iterations(o, 1, 64);
    mw_sasl_options_set_flags(o, (mode & 2) ? MW_SASL_OPT_SUCCESS_DATA : 0);
    mw_sasl_client *c = NULL;
    mw_sasl_server *s = NULL;
    if (mw_sasl_client_new(&c, NULL, mech, o) != MW_OK || mw_sasl_server_new(&s, NULL, mech, o) != MW_OK)
        abort();
    mw_sasl_options_free(o);
    mw_sasl_client_set(c, MW_SASL_PROP_AUTHCID, "user", 4);
    mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, "pencil", 6);
    if (mode & 1) {
        mw_sasl_client_set(c, MW_SASL_PROP_CB_DATA, "cbdata", 6);
        mw_sasl_server_set(s, MW_SASL_PROP_CB_DATA, "cbdata", 6);
    }
    unsigned char buf[1024];
    size_t len;
    int tampered = 0;
    mw_slice a, b;
    int ok = 0, rc = mw_sasl_client_start(c, &a);
    if (rc != MW_SASL_CONTINUE || a.len > sizeof buf) abort();
    memcpy(buf, a.base, a.len);
    len = a.len;
    tampered |= tamper(edits, ne, 0, buf, &len);
    rc = mw_sasl_server_start(s, buf, len, &b);
    if (rc == MW_SASL_VERIFY) {
        if (mode & 4) {
            rc = mw_sasl_server_supply_password(s, "pencil", 6, &b);
        } else {
            mw_sasl_scram_creds sc;
            memset(&sc, 0, sizeof sc);
            sc.salt = "NaCl";
            sc.salt_len = 4;
            sc.iterations = 2;
            mw_sasl_scram_derive("pencil", 6, &sc);
            rc = mw_sasl_server_supply_scram(s, &sc, &b);
        }
    }
    for (unsigned idx = 1; rc == MW_SASL_CONTINUE || rc == MW_SASL_DONE; idx += 2) {
        /* server -> client */
        if (b.len > sizeof buf) abort();
        memcpy(buf, b.base, b.len);
        len = b.len;
        tampered |= tamper(edits, ne, idx, buf, &len);
        if (rc == MW_SASL_DONE) {
            ok = mw_sasl_client_finish(c, len ? buf : NULL, len) == MW_OK;
            break;
        }
        rc = mw_sasl_client_step(c, buf, len, &a);
        if (rc != MW_SASL_CONTINUE) break;
        /* client -> server */
        if (a.len > sizeof buf) abort();
        memcpy(buf, a.base, a.len);
        len = a.len;
        tampered |= tamper(edits, ne, idx + 1, buf, &len);
        rc = mw_sasl_server_step(s, buf, len, &b);
        if (rc == MW_SASL_DONE && b.len == 0) {
            ok = mw_sasl_client_finish(c, NULL, 0) == MW_OK;
            break;
        }
    }
    if (!tampered && !ok) abort();
    if (tampered && ok) abort();
    mw_sasl_client_free(c);
    mw_sasl_server_free(s);
    return 0;
}
