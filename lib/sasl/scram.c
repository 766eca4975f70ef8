/*
 * SCRAM helpers shared by the client and server (RFC 5802, RFC 7677):
 * saslname escaping, attribute parsing and key derivation.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sasl/sasl_internal.h"

#include <string.h>

int mw__scram_escape_add(const mw_mem *m, mw__sasl_buf *b, const void *name, size_t len)
{
    /* RFC 5802 §5.1: ',' and '=' inside a saslname become "=2C" and "=3D". */
    const unsigned char *s = name;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ',' && s[i] != '=') continue;
        int rc = mw__sasl_buf_add(m, b, s + run, i - run);
        if (rc == MW_OK) rc = mw__sasl_buf_adds(m, b, s[i] == ',' ? "=2C" : "=3D");
        if (rc != MW_OK) return rc;
        run = i + 1;
    }
    return mw__sasl_buf_add(m, b, s + run, len - run);
}

int mw__scram_unescape(char *name, size_t *len)
{
    size_t w = 0, n = *len;
    for (size_t r = 0; r < n; r++) {
        char ch = name[r];
        if (ch == ',' || ch == '\0') return MW_ERR_SYNTAX;
        if (ch == '=') {
            if (n - r < 3) return MW_ERR_SYNTAX;
            if (name[r + 1] == '2' && name[r + 2] == 'C')
                ch = ',';
            else if (name[r + 1] == '3' && name[r + 2] == 'D')
                ch = '=';
            else
                return MW_ERR_SYNTAX;
            r += 2;
        }
        name[w++] = ch;
    }
    *len = w;
    return mw__sasl_utf8_valid(name, w) ? MW_OK : MW_ERR_SYNTAX;
}

void mw__scram_keys(const unsigned char salted[32], unsigned char client_key[32],
                    unsigned char stored_key[32], unsigned char server_key[32])
{
    mw__hmac_sha256(salted, 32, "Client Key", 10, client_key);
    mw__sha256(client_key, 32, stored_key);
    mw__hmac_sha256(salted, 32, "Server Key", 10, server_key);
}

int mw__scram_attr(const char *msg, size_t len, size_t *pos, char *name, mw_slice *val)
{
    size_t i = *pos;
    if (i >= len) return 0;
    /* attr-val = ALPHA "=" value (RFC 5802 §7) */
    unsigned char a = (unsigned char)msg[i];
    if (len - i < 2 || !((a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z')) || msg[i + 1] != '=')
        return MW_ERR_SYNTAX;
    size_t start = i + 2, end = start;
    while (end < len && msg[end] != ',') end++;
    *name = (char)a;
    val->base = msg + start;
    val->len = end - start;
    if (end < len) {
        end++;
        if (end == len) return MW_ERR_SYNTAX; /* a trailing comma */
    }
    *pos = end;
    return 1;
}

MW_API int mw_sasl_scram_derive(const void *password, size_t len, mw_sasl_scram_creds *creds)
{
    if (!creds || (!password && len) || !creds->salt || !creds->salt_len || !creds->iterations)
        return MW_ERR_INVALID;
    unsigned char salted[32], client_key[32];
    int rc = mw__pbkdf2_sha256(password, len, creds->salt, creds->salt_len, creds->iterations,
                               salted, sizeof salted);
    if (rc == MW_OK) mw__scram_keys(salted, client_key, creds->stored_key, creds->server_key);
    mw__wipe(salted, sizeof salted);
    mw__wipe(client_key, sizeof client_key);
    return rc;
}
