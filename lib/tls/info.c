/*
 * OpenSSL adapter: what a finished handshake tells — version, cipher,
 * ALPN, peer verification and subject, channel-binding data.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tls/tls_internal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string.h>

static int finished(const mw_tls_session *s)
{
    if (!s) return MW_ERR_INVALID;
    return s->ready ? MW_OK : MW_ERR_STATE;
}

int mw_tls_protocol_version(const mw_tls_session *s)
{
    int rc = finished(s);
    return rc != MW_OK ? rc : SSL_version(s->ssl);
}

const char *mw_tls_cipher_name(const mw_tls_session *s)
{
    if (finished(s) != MW_OK) return NULL;
    const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
    return c ? SSL_CIPHER_get_name(c) : NULL;
}

int mw_tls_alpn_selected(const mw_tls_session *s, mw_slice *proto)
{
    if (!proto) return MW_ERR_INVALID;
    proto->base = NULL;
    proto->len = 0;
    int rc = finished(s);
    if (rc != MW_OK) return rc;
    const unsigned char *p = NULL;
    unsigned n = 0;
    SSL_get0_alpn_selected(s->ssl, &p, &n);
    if (!p || !n) return 0;
    proto->base = (const char *)p;
    proto->len = n;
    return 1;
}

const char *mw_tls_server_name(const mw_tls_session *s)
{
    if (finished(s) != MW_OK) return NULL;
    return SSL_get_servername(s->ssl, TLSEXT_NAMETYPE_host_name);
}

int mw_tls_peer_verify_result(const mw_tls_session *s, const char **text)
{
    if (text) *text = "";
    int rc = finished(s);
    if (rc != MW_OK) return rc;
    if (!SSL_get0_peer_certificate(s->ssl)) {
        if (text) *text = "no peer certificate";
        return 0;
    }
    long vr = SSL_get_verify_result(s->ssl);
    if (text) *text = X509_verify_cert_error_string(vr);
    return vr == X509_V_OK;
}

mw_ssize mw_tls_peer_subject(const mw_tls_session *s, char *buf, size_t cap)
{
    if (!buf || !cap) return MW_ERR_INVALID;
    buf[0] = '\0';
    int rc = finished(s);
    if (rc != MW_OK) return rc;
    X509 *cert = SSL_get0_peer_certificate(s->ssl);
    if (!cert) return MW_ERR_STATE;
    BIO *mem = BIO_new(BIO_s_mem());
    if (!mem) {
        ERR_clear_error();
        return MW_ERR_NOMEM;
    }
    mw_ssize out = MW_ERR_TLS;
    if (X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(mem, &p);
        if (n >= 0 && (size_t)n < cap) {
            if (n) memcpy(buf, p, (size_t)n);
            buf[n] = '\0';
            out = (mw_ssize)n;
        } else {
            out = MW_ERR_BUFFER;
        }
    }
    BIO_free(mem);
    ERR_clear_error();
    return out;
}

/* RFC 5929 §4.1: the certificate's own signature hash, SHA-256 instead of
 * MD5 or SHA-1; no single hash (e.g. Ed25519) leaves the binding undefined. */
static mw_ssize server_end_point(const mw_tls_session *s, unsigned char *buf, size_t cap)
{
    X509 *cert = s->role == MW_TLS_CLIENT ? SSL_get0_peer_certificate(s->ssl)
                                          : SSL_get_certificate(s->ssl);
    if (!cert) return MW_ERR_STATE;
    int md_nid = NID_undef;
    if (!X509_get_signature_info(cert, &md_nid, NULL, NULL, NULL) || md_nid == NID_undef) {
        ERR_clear_error();
        return MW_ERR_UNSUPPORTED;
    }
    if (md_nid == NID_md5 || md_nid == NID_sha1) md_nid = NID_sha256;
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    if (!md) return MW_ERR_UNSUPPORTED;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!X509_digest(cert, md, digest, &n)) {
        ERR_clear_error();
        return MW_ERR_TLS;
    }
    if (n > cap) return MW_ERR_BUFFER;
    memcpy(buf, digest, n);
    return (mw_ssize)n;
}

/* RFC 9266 §2: 32 octets, label "EXPORTER-Channel-Binding", no context
 * (the same as an empty one in TLS 1.3, RFC 8446 §7.5). RFC 9266 allows
 * TLS 1.2 only when the extended master secret (RFC 7627) made the exporter
 * unique to the connection. */
static mw_ssize exporter(const mw_tls_session *s, unsigned char *buf, size_t cap)
{
    static const char label[] = "EXPORTER-Channel-Binding";
    if (SSL_version(s->ssl) < TLS1_3_VERSION && SSL_get_extms_support(s->ssl) != 1)
        return MW_ERR_UNSUPPORTED;
    if (cap < 32) return MW_ERR_BUFFER;
    if (SSL_export_keying_material(s->ssl, buf, 32, label, sizeof label - 1, NULL, 0, 0) != 1) {
        ERR_clear_error();
        return MW_ERR_TLS;
    }
    return 32;
}

mw_ssize mw_tls_channel_binding(const mw_tls_session *s, int type, unsigned char *buf, size_t cap)
{
    if (!buf) return MW_ERR_INVALID;
    int rc = finished(s);
    if (rc != MW_OK) return rc;
    switch (type) {
    case MW_TLS_CB_EXPORTER: return exporter(s, buf, cap);
    case MW_TLS_CB_SERVER_END_POINT: return server_end_point(s, buf, cap);
    default: return MW_ERR_INVALID;
    }
}
