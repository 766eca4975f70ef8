/*
 * OpenSSL adapter: configurations (one SSL_CTX each) and the helpers they
 * share with sessions: allocator defaults, error texts, host names, ALPN.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tls/tls_internal.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- error texts --------------------------------------------------------- */

void mw__tls_error_text(char *dst, size_t cap, const char *what, const char *fallback,
                        const SSL *ssl)
{
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (!reason) reason = fallback;
    /* A failed chain check only says "certificate verify failed"; the
     * verification result says why. */
    const char *why = NULL;
    if (ssl && e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
        ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        long vr = SSL_get_verify_result(ssl);
        if (vr != X509_V_OK) why = X509_verify_cert_error_string(vr);
    }
    if (why)
        snprintf(dst, cap, "%s: %s (%s)", what, reason, why);
    else
        snprintf(dst, cap, "%s: %s", what, reason);
    ERR_clear_error();
}

static int cfg_fail(mw_tls_config *cfg, int code, const char *what, const char *fallback)
{
    mw__tls_error_text(cfg->err, sizeof cfg->err, what, fallback, NULL);
    return code;
}

/* ---- host names and ALPN ------------------------------------------------ */

int mw__tls_host_name_ok(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        unsigned char c = (unsigned char)name[n];
        if (c <= 0x20 || c >= 0x7f) return 0;
    }
    return n >= 1 && n <= 253;
}

int mw__tls_apply_host_name(SSL *ssl, const char *name)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    /* Start from a clean slate so an override replaces the config's name. */
    if (!SSL_set1_host(ssl, NULL) || !X509_VERIFY_PARAM_set1_ip(param, NULL, 0) ||
        !SSL_set_tlsext_host_name(ssl, NULL)) {
        ERR_clear_error();
        return MW_ERR_TLS;
    }
    if (!name) return MW_OK;
    if (!mw__tls_host_name_ok(name)) return MW_ERR_INVALID;
    /* An IP literal is matched against iPAddress subjectAltNames and never
     * sent as SNI: RFC 6066 §3 allows only DNS host names there. */
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name)) return MW_OK;
    ERR_clear_error();
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    /* SSL_set_tlsext_host_name() is a macro that casts const away; the
     * call it stands for copies the name. */
    void *sni = (void *)(uintptr_t)name;
    if (!SSL_set1_host(ssl, name) ||
        !SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, sni)) {
        ERR_clear_error();
        return MW_ERR_TLS;
    }
    return MW_OK;
}

int mw__tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                        const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)arg;
    const mw_tls_session *s = SSL_get_app_data(ssl);
    if (!s || !s->alpn_len) return SSL_TLSEXT_ERR_NOACK;
    /* Our own order wins (RFC 7301 §3.2 lets the server choose). */
    for (size_t i = 0; i < s->alpn_len; i += 1u + s->alpn[i]) {
        const unsigned char *mine = s->alpn + i;
        for (unsigned j = 0; j < inlen; j += 1u + in[j]) {
            if (j + 1u + in[j] > inlen) break;
            if (in[j] == mine[0] && memcmp(in + j + 1, mine + 1, mine[0]) == 0) {
                *out = in + j + 1;
                *outlen = in[j];
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
}

/* ---- configuration ----------------------------------------------------- */

/* Never prompt on a terminal for a key passphrase: keys must be clear. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static void set_verify_mode(mw_tls_config *cfg, int on)
{
    int mode = SSL_VERIFY_NONE;
    if (on) mode = SSL_VERIFY_PEER | (cfg->role == MW_TLS_SERVER ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(cfg->ctx, mode, NULL);
}

int mw_tls_config_new(const mw_mem *mem, int role, mw_tls_config **out)
{
    if (!out) return MW_ERR_INVALID;
    *out = NULL;
    if (role != MW_TLS_CLIENT && role != MW_TLS_SERVER) return MW_ERR_INVALID;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_tls_config *cfg = m.calloc(1, sizeof *cfg, m.user_data);
    if (!cfg) return MW_ERR_NOMEM;
    cfg->mem = m;
    cfg->role = role;
    cfg->in_max = MW_TLS_DEFAULT_CIPHER_IN_MAX;
    cfg->out_max = MW_TLS_DEFAULT_CIPHER_OUT_MAX;
    cfg->ctx = SSL_CTX_new(TLS_method());
    if (!cfg->ctx) {
        ERR_clear_error();
        m.free(cfg, m.user_data);
        return MW_ERR_TLS;
    }
    SSL_CTX *ctx = cfg->ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Renegotiation would let a peer interleave a second handshake with
     * application data (the TLS 1.2 prefix-injection attack, RFC 5746 §1). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* No 0-RTT: early data is replayable and arrives before the handshake
     * has authenticated anything. */
    SSL_CTX_set_max_early_data(ctx, 0);
    SSL_CTX_set_recv_max_early_data(ctx, 0);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (role == MW_TLS_SERVER) {
        SSL_CTX_set_alpn_select_cb(ctx, mw__tls_alpn_select, NULL);
        /* Needed for resumption once client certificates are verified. */
        SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"mailwire", 8);
    }
    set_verify_mode(cfg, role == MW_TLS_CLIENT);
    *out = cfg;
    return MW_OK;
}

void mw_tls_config_free(mw_tls_config *cfg)
{
    if (!cfg) return;
    SSL_CTX_free(cfg->ctx);
    cfg->mem.free(cfg->host_name, cfg->mem.user_data);
    cfg->mem.free(cfg->alpn, cfg->mem.user_data);
    cfg->mem.free(cfg, cfg->mem.user_data);
}

static int check_key(mw_tls_config *cfg)
{
    if (!SSL_CTX_check_private_key(cfg->ctx))
        return cfg_fail(cfg, MW_ERR_TLS, "private key", "does not match the certificate");
    return MW_OK;
}

int mw_tls_config_set_cert_file(mw_tls_config *cfg, const char *chain_path, const char *key_path)
{
    if (!cfg || !chain_path) return MW_ERR_INVALID;
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(cfg->ctx, chain_path) != 1)
        return cfg_fail(cfg, MW_ERR_TLS, "certificate chain file", "cannot be loaded");
    if (SSL_CTX_use_PrivateKey_file(cfg->ctx, key_path ? key_path : chain_path, SSL_FILETYPE_PEM) != 1)
        return cfg_fail(cfg, MW_ERR_TLS, "private key file", "cannot be loaded");
    return check_key(cfg);
}

/* A read-only memory BIO over caller bytes (not copied). */
static BIO *mem_bio(const char *pem, size_t len)
{
    if (!pem || len == 0 || len > INT_MAX) return NULL;
    return BIO_new_mem_buf(pem, (int)len);
}

static int load_chain_mem(mw_tls_config *cfg, const char *pem, size_t len)
{
    BIO *bio = mem_bio(pem, len);
    if (!bio) return cfg_fail(cfg, MW_ERR_TLS, "certificate chain", "cannot read");
    X509 *leaf = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
    int ok = leaf && SSL_CTX_use_certificate(cfg->ctx, leaf) == 1 &&
             SSL_CTX_clear_chain_certs(cfg->ctx) == 1;
    X509_free(leaf);
    X509 *x;
    while (ok && (x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
        if (!SSL_CTX_add0_chain_cert(cfg->ctx, x)) {
            X509_free(x);
            ok = 0;
        }
    }
    BIO_free(bio);
    if (!ok) return cfg_fail(cfg, MW_ERR_TLS, "certificate chain", "no certificate");
    ERR_clear_error(); /* the end of the PEM text is reported as an error */
    return MW_OK;
}

int mw_tls_config_set_cert_mem(mw_tls_config *cfg, const char *chain_pem, size_t chain_len,
                               const char *key_pem, size_t key_len)
{
    if (!cfg || !chain_pem || !key_pem || !chain_len || !key_len || chain_len > INT_MAX ||
        key_len > INT_MAX)
        return MW_ERR_INVALID;
    ERR_clear_error();
    int rc = load_chain_mem(cfg, chain_pem, chain_len);
    if (rc != MW_OK) return rc;
    BIO *bio = mem_bio(key_pem, key_len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    int ok = key && SSL_CTX_use_PrivateKey(cfg->ctx, key) == 1;
    EVP_PKEY_free(key);
    if (!ok) return cfg_fail(cfg, MW_ERR_TLS, "private key", "cannot be loaded");
    return check_key(cfg);
}

int mw_tls_config_set_ca_file(mw_tls_config *cfg, const char *file, const char *dir)
{
    if (!cfg || (!file && !dir)) return MW_ERR_INVALID;
    ERR_clear_error();
    if (file && !SSL_CTX_load_verify_file(cfg->ctx, file))
        return cfg_fail(cfg, MW_ERR_TLS, "CA file", "cannot be loaded");
    if (dir && !SSL_CTX_load_verify_dir(cfg->ctx, dir))
        return cfg_fail(cfg, MW_ERR_TLS, "CA directory", "cannot be used");
    return MW_OK;
}

int mw_tls_config_set_ca_mem(mw_tls_config *cfg, const char *pem, size_t len)
{
    if (!cfg || !pem || !len || len > INT_MAX) return MW_ERR_INVALID;
    ERR_clear_error();
    BIO *bio = mem_bio(pem, len);
    if (!bio) return cfg_fail(cfg, MW_ERR_TLS, "CA certificates", "cannot read");
    X509_STORE *store = SSL_CTX_get_cert_store(cfg->ctx);
    size_t added = 0;
    int ok = 1;
    X509 *x;
    while (ok && (x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
        ok = X509_STORE_add_cert(store, x) == 1;
        X509_free(x);
        added++;
    }
    BIO_free(bio);
    if (!ok || !added) return cfg_fail(cfg, MW_ERR_TLS, "CA certificates", "no certificate found");
    ERR_clear_error();
    return MW_OK;
}

int mw_tls_config_set_ca_system(mw_tls_config *cfg)
{
    if (!cfg) return MW_ERR_INVALID;
    ERR_clear_error();
    if (!SSL_CTX_set_default_verify_paths(cfg->ctx))
        return cfg_fail(cfg, MW_ERR_TLS, "system CA", "cannot be loaded");
    return MW_OK;
}

int mw_tls_config_set_verify_peer(mw_tls_config *cfg, int on)
{
    if (!cfg) return MW_ERR_INVALID;
    set_verify_mode(cfg, on != 0);
    return MW_OK;
}

int mw_tls_config_set_host_name(mw_tls_config *cfg, const char *name)
{
    if (!cfg) return MW_ERR_INVALID;
    if (cfg->role != MW_TLS_CLIENT) return MW_ERR_STATE;
    char *copy = NULL;
    if (name) {
        if (!mw__tls_host_name_ok(name)) return MW_ERR_INVALID;
        size_t n = strlen(name) + 1;
        copy = cfg->mem.malloc(n, cfg->mem.user_data);
        if (!copy) return MW_ERR_NOMEM;
        memcpy(copy, name, n);
    }
    cfg->mem.free(cfg->host_name, cfg->mem.user_data);
    cfg->host_name = copy;
    return MW_OK;
}

static int version_ok(int v)
{
    return v == MW_TLS_VERSION_1_2 || v == MW_TLS_VERSION_1_3;
}

int mw_tls_config_set_min_version(mw_tls_config *cfg, int version)
{
    if (!cfg) return MW_ERR_INVALID;
    if (!version_ok(version)) return MW_ERR_UNSUPPORTED;
    if (!SSL_CTX_set_min_proto_version(cfg->ctx, version))
        return cfg_fail(cfg, MW_ERR_UNSUPPORTED, "minimum version", "not supported");
    return MW_OK;
}

int mw_tls_config_set_max_version(mw_tls_config *cfg, int version)
{
    if (!cfg) return MW_ERR_INVALID;
    if (version != 0 && !version_ok(version)) return MW_ERR_UNSUPPORTED;
    if (!SSL_CTX_set_max_proto_version(cfg->ctx, version))
        return cfg_fail(cfg, MW_ERR_UNSUPPORTED, "maximum version", "not supported");
    return MW_OK;
}

int mw_tls_config_set_alpn(mw_tls_config *cfg, const char *const *protos, size_t count)
{
    if (!cfg || (count && !protos)) return MW_ERR_INVALID;
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = protos[i] ? strlen(protos[i]) : 0;
        if (n == 0 || n > 255) return MW_ERR_INVALID;
        total += 1 + n;
        if (total > 65535) return MW_ERR_INVALID; /* RFC 7301 §3.1: a 16-bit list */
    }
    unsigned char *wire = NULL;
    if (total) {
        wire = cfg->mem.malloc(total, cfg->mem.user_data);
        if (!wire) return MW_ERR_NOMEM;
        size_t at = 0;
        for (size_t i = 0; i < count; i++) {
            size_t n = strlen(protos[i]);
            wire[at] = (unsigned char)n;
            memcpy(wire + at + 1, protos[i], n);
            at += 1 + n;
        }
    }
    /* A client offers the list in its ClientHello; a server keeps it for
     * mw__tls_alpn_select (copied into each session). */
    if (cfg->role == MW_TLS_CLIENT &&
        SSL_CTX_set_alpn_protos(cfg->ctx, wire, (unsigned)total) != 0) {
        cfg->mem.free(wire, cfg->mem.user_data);
        return cfg_fail(cfg, MW_ERR_NOMEM, "ALPN", "cannot be set");
    }
    cfg->mem.free(cfg->alpn, cfg->mem.user_data);
    cfg->alpn = wire;
    cfg->alpn_len = total;
    return MW_OK;
}

int mw_tls_config_set_buffer_limits(mw_tls_config *cfg, size_t cipher_in_max, size_t cipher_out_max)
{
    if (!cfg || cipher_in_max < MW_TLS_MIN_BUFFER || cipher_out_max < MW_TLS_MIN_BUFFER ||
        cipher_out_max > SIZE_MAX / 8)
        return MW_ERR_INVALID;
    cfg->in_max = cipher_in_max;
    cfg->out_max = cipher_out_max;
    return MW_OK;
}

const char *mw_tls_config_last_error(const mw_tls_config *cfg)
{
    return cfg ? cfg->err : "";
}
