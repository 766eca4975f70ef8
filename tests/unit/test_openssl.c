/*
 * OpenSSL adapter: a client session and a server session talk to each other
 * entirely in memory. The certificates are made at run time (a throwaway CA
 * and a leaf for localhost / 127.0.0.1); nothing touches the network or is
 * read from committed files. The socket loop of docs/tls.md is compiled
 * from the document itself and run over a socketpair.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/openssl.h>

#include "tls/tls_internal.h" /* white-box: reach the SSL_CTX for odd setups */

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- throwaway PKI --------------------------------------------------------- */

typedef struct pem {
    char *text;
    size_t len;
} pem;

typedef struct pki {
    pem ca, other_ca;   /* trust anchors: the right one and an unrelated one */
    pem leaf, leaf_key; /* CN=localhost, SAN DNS:localhost, IP:127.0.0.1 */
    unsigned char leaf_der_sha256[32];
} pki;

static pki g_pki;

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = e && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

/* A certificate for key, signed by issuer_key (NULL: self-signed). */
static const EVP_MD *g_sign_md; /* NULL: SHA-256; set for the odd test */

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long serial)
{
    X509 *x = X509_new();
    int ca = issuer == NULL;
    int ok = x && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(x), 86400) && X509_set_pubkey(x, key);
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    ok = ok && X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *signer = issuer ? issuer : x;
    ok = ok && add_ext(x, signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    ok = ok && add_ext(x, signer, NID_key_usage,
                       ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    ok = ok && add_ext(x, signer, NID_subject_key_identifier, "hash");
    if (!ca) {
        ok = ok && add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
        ok = ok && add_ext(x, signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
        ok = ok && add_ext(x, signer, NID_ext_key_usage, "serverAuth,clientAuth");
    }
    /* Ed25519 signs without a separate digest: X509_sign wants NULL then. */
    EVP_PKEY *signer_key = issuer_key ? issuer_key : key;
    const EVP_MD *md = EVP_PKEY_id(signer_key) == EVP_PKEY_ED25519 ? NULL
                       : g_sign_md                                  ? g_sign_md
                                                                    : EVP_sha256();
    ok = ok && X509_sign(x, signer_key, md) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static pem bio_to_pem(BIO *b)
{
    pem p = {NULL, 0};
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n > 0) {
        p.text = malloc((size_t)n + 1);
        memcpy(p.text, data, (size_t)n);
        p.text[n] = '\0';
        p.len = (size_t)n;
    }
    BIO_free(b);
    return p;
}

static pem cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    return bio_to_pem(b);
}

static pem key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    return bio_to_pem(b);
}

static int pki_make(void)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256");
    EVP_PKEY *other_key = EVP_EC_gen("P-256");
    EVP_PKEY *leaf_key = EVP_EC_gen("P-256");
    if (!ca_key || !other_key || !leaf_key) return 0;
    X509 *ca = make_cert(ca_key, "mailwire test CA", NULL, NULL, 1);
    X509 *other = make_cert(other_key, "mailwire other CA", NULL, NULL, 2);
    X509 *leaf = ca ? make_cert(leaf_key, "localhost", ca, ca_key, 3) : NULL;
    int ok = ca && other && leaf;
    if (ok) {
        g_pki.ca = cert_pem(ca);
        g_pki.other_ca = cert_pem(other);
        g_pki.leaf = cert_pem(leaf);
        g_pki.leaf_key = key_pem(leaf_key);
        unsigned n = 0;
        ok = X509_digest(leaf, EVP_sha256(), g_pki.leaf_der_sha256, &n) && n == 32;
    }
    X509_free(ca);
    X509_free(other);
    X509_free(leaf);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(other_key);
    EVP_PKEY_free(leaf_key);
    return ok && g_pki.ca.text && g_pki.leaf.text && g_pki.leaf_key.text;
}

static void pki_free(void)
{
    free(g_pki.ca.text);
    free(g_pki.other_ca.text);
    free(g_pki.leaf.text);
    free(g_pki.leaf_key.text);
}

/* ---- configurations and a connected pair ---------------------------------- */

static mw_tls_config *server_config(const mw_mem *mem)
{
    mw_tls_config *cfg = NULL;
    if (mw_tls_config_new(mem, MW_TLS_SERVER, &cfg) != MW_OK) return NULL;
    if (mw_tls_config_set_cert_mem(cfg, g_pki.leaf.text, g_pki.leaf.len, g_pki.leaf_key.text,
                                   g_pki.leaf_key.len) != MW_OK) {
        fprintf(stderr, "server cert: %s\n", mw_tls_config_last_error(cfg));
        mw_tls_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* A verifying client trusting our CA and expecting host (NULL: none). */
static mw_tls_config *client_config(const mw_mem *mem, const char *host)
{
    mw_tls_config *cfg = NULL;
    if (mw_tls_config_new(mem, MW_TLS_CLIENT, &cfg) != MW_OK) return NULL;
    if (mw_tls_config_set_ca_mem(cfg, g_pki.ca.text, g_pki.ca.len) != MW_OK ||
        (host && mw_tls_config_set_host_name(cfg, host) != MW_OK)) {
        mw_tls_config_free(cfg);
        return NULL;
    }
    return cfg;
}

typedef struct pair {
    mw_tls_session *c, *s;
    uint64_t rng;
    size_t chunk; /* 0: a random size per move, from 1..8 or large */
} pair;

static int pair_open(pair *p, const mw_tls_config *ccfg, const mw_tls_config *scfg, size_t chunk,
                     const mw_mem *mem)
{
    memset(p, 0, sizeof *p);
    p->rng = 0x5eed + chunk;
    p->chunk = chunk;
    int rc = mw_tls_new(mem, ccfg, &p->c);
    if (rc == MW_OK) rc = mw_tls_new(mem, scfg, &p->s);
    return rc;
}

static void pair_close(pair *p)
{
    mw_tls_free(p->c);
    mw_tls_free(p->s);
    p->c = p->s = NULL;
}

static size_t next_chunk(pair *p)
{
    if (p->chunk) return p->chunk;
    uint64_t r = mw_test_rand(&p->rng);
    return (r & 3) == 0 ? 100000 : (size_t)(r % 8) + 1;
}

/* The sticky error of a session (a zero-length feed reports it), or 0. */
static int sticky(mw_tls_session *s)
{
    mw_ssize rc = mw_tls_feed_cipher(s, "", 0);
    return rc < 0 && rc != MW_ERR_CLOSED ? (int)rc : 0;
}

/* Move pending ciphertext from one side to the other, in chunks.
 * @return a negative error from the receiver, else 1 if anything moved. */
static int move(pair *p, mw_tls_session *from, mw_tls_session *to)
{
    int moved = 0;
    size_t len;
    const unsigned char *data;
    while ((data = mw_tls_out_buf(from, &len)) != NULL) {
        size_t n = next_chunk(p);
        if (n > len) n = len;
        mw_ssize took = mw_tls_feed_cipher(to, data, n);
        if (took < 0) return (int)took;
        if (took == 0) break; /* receiver full: it must read first */
        mw_tls_out_ack(from, (size_t)took);
        moved = 1;
    }
    return moved;
}

/* Run the handshake to the end. @return 0 or the first error either side hit. */
static int handshake(pair *p)
{
    for (int round = 0; round < 1000000; round++) {
        int a = move(p, p->c, p->s);
        if (a < 0) return a;
        int b = move(p, p->s, p->c);
        if (b < 0) return b;
        unsigned cs = mw_tls_state(p->c), ss = mw_tls_state(p->s);
        if ((cs & ss & MW_TLS_READY) && !((cs | ss) & MW_WANT_WRITE)) return 0;
        if (!a && !b) {
            int e = sticky(p->c);
            if (!e) e = sticky(p->s);
            return e ? e : MW_ERR_STATE; /* stalled */
        }
    }
    return MW_ERR_STATE;
}

/* Send len bytes from one side and check the other receives exactly them. */
static int transfer(pair *p, mw_tls_session *from, mw_tls_session *to, const unsigned char *data,
                    size_t len)
{
    static unsigned char buf[20000];
    size_t sent = 0, got = 0;
    for (long round = 0; got < len; round++) {
        if (round > 10000000) return MW_ERR_STATE;
        if (sent < len) {
            mw_ssize w = mw_tls_write_plain(from, data + sent, len - sent);
            if (w < 0) return (int)w;
            sent += (size_t)w;
        }
        int m = move(p, from, to);
        if (m < 0) return m;
        mw_ssize r;
        size_t cap = 1 + (size_t)(mw_test_rand(&p->rng) % sizeof buf);
        while ((r = mw_tls_read_plain(to, buf, cap)) > 0) {
            if ((size_t)r > len - got || memcmp(buf, data + got, (size_t)r) != 0) return MW_ERR_SYNTAX;
            got += (size_t)r;
        }
        if (r < 0) return (int)r;
        (void)move(p, to, from); /* tickets, key updates */
    }
    return MW_OK;
}

static int transfer_str(pair *p, mw_tls_session *from, mw_tls_session *to, const char *s)
{
    return transfer(p, from, to, (const unsigned char *)s, strlen(s));
}

/* ---- tests ------------------------------------------------------------- */

static void test_handshake_chunks(void)
{
    static const size_t chunks[] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 1000, SIZE_MAX};
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    CHECK(scfg && ccfg);
    if (!scfg || !ccfg) goto out;
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        pair p;
        CHECK_INT(pair_open(&p, ccfg, scfg, chunks[i], NULL), MW_OK);
        CHECK_INT(mw_tls_state(p.s) & (MW_TLS_READY | MW_WANT_WRITE), 0);
        CHECK(mw_tls_state(p.c) & MW_WANT_WRITE); /* ClientHello */
        int rc = handshake(&p);
        CHECK_INT(rc, 0);
        if (rc) fprintf(stderr, "chunk %zu: %s / %s\n", chunks[i], mw_tls_last_error(p.c),
                        mw_tls_last_error(p.s));
        CHECK_INT(mw_tls_protocol_version(p.c), MW_TLS_VERSION_1_3);
        CHECK_INT(mw_tls_protocol_version(p.s), MW_TLS_VERSION_1_3);
        const char *cc = mw_tls_cipher_name(p.c), *sc = mw_tls_cipher_name(p.s);
        CHECK(cc && sc && strcmp(cc, sc) == 0 && strncmp(cc, "TLS_", 4) == 0);
        const char *why = NULL;
        CHECK_INT(mw_tls_peer_verify_result(p.c, &why), 1);
        CHECK(why && strcmp(why, "ok") == 0);
        CHECK_INT(mw_tls_peer_verify_result(p.s, &why), 0);
        CHECK(why && strcmp(why, "no peer certificate") == 0);
        char subject[128];
        mw_ssize n = mw_tls_peer_subject(p.c, subject, sizeof subject);
        CHECK_STR(subject, n > 0 ? (size_t)n : 0, "CN=localhost");
        CHECK_INT(mw_tls_peer_subject(p.c, subject, 5), MW_ERR_BUFFER);
        CHECK_INT(mw_tls_peer_subject(p.s, subject, sizeof subject), MW_ERR_STATE);
        const char *sni = mw_tls_server_name(p.s);
        CHECK(sni && strcmp(sni, "localhost") == 0);
        sni = mw_tls_server_name(p.c);
        CHECK(sni && strcmp(sni, "localhost") == 0);
        CHECK_INT(transfer_str(&p, p.c, p.s, "EHLO client.example\r\n"), MW_OK);
        CHECK_INT(transfer_str(&p, p.s, p.c, "250-localhost\r\n250 STARTTLS\r\n"), MW_OK);
        CHECK_INT(mw_tls_state(p.c) & (MW_TLS_READY | MW_WANT_READ | MW_CLOSED | MW_TLS_FAILED),
                  MW_TLS_READY | MW_WANT_READ);
        CHECK(strcmp(mw_tls_last_error(p.c), "") == 0);
        pair_close(&p);
    }
out:
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

/* Before the handshake has finished nothing comes out as plaintext and
 * nothing goes in. */
static void test_no_plaintext_before_handshake(void)
{
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 5, NULL), MW_OK);
    unsigned char buf[64];
    CHECK_INT(mw_tls_read_plain(p.s, buf, sizeof buf), 0);
    CHECK_INT(mw_tls_write_plain(p.s, "x", 1), 0);
    CHECK_INT(mw_tls_write_plain(p.c, "EHLO x\r\n", 8), 0);
    CHECK_INT(mw_tls_shutdown(p.c), MW_ERR_STATE);
    CHECK_INT(mw_tls_protocol_version(p.c), MW_ERR_STATE);
    CHECK(mw_tls_cipher_name(p.c) == NULL);
    unsigned char cb[64];
    CHECK_INT(mw_tls_channel_binding(p.c, MW_TLS_CB_EXPORTER, cb, sizeof cb), MW_ERR_STATE);
    /* Half a ClientHello: still nothing to read. */
    size_t len;
    const unsigned char *hello = mw_tls_out_buf(p.c, &len);
    CHECK(hello && len > 40);
    if (hello) {
        CHECK_INT(mw_tls_feed_cipher(p.s, hello, len / 2), (mw_ssize)(len / 2));
        mw_tls_out_ack(p.c, len / 2);
    }
    CHECK_INT(mw_tls_read_plain(p.s, buf, sizeof buf), 0);
    CHECK_INT(handshake(&p), 0);
    /* After it, the data that follows the client's Finished flows. */
    CHECK_INT(transfer_str(&p, p.c, p.s, "EHLO x\r\n"), MW_OK);
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

static void test_tls12(void)
{
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    CHECK_INT(mw_tls_config_set_max_version(ccfg, MW_TLS_VERSION_1_2), MW_OK);
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    CHECK_INT(mw_tls_protocol_version(p.c), MW_TLS_VERSION_1_2);
    CHECK_INT(mw_tls_protocol_version(p.s), MW_TLS_VERSION_1_2);
    unsigned char a[64], b[64];
    CHECK_INT(mw_tls_channel_binding(p.c, MW_TLS_CB_EXPORTER, a, sizeof a), 32);
    CHECK_INT(mw_tls_channel_binding(p.s, MW_TLS_CB_EXPORTER, b, sizeof b), 32);
    CHECK_MEM(a, 32, b, 32);
    CHECK_INT(transfer_str(&p, p.c, p.s, "a1 LOGIN\r\n"), MW_OK);
    CHECK_INT(transfer_str(&p, p.s, p.c, "a1 OK\r\n"), MW_OK);
    pair_close(&p);
    /* A server that insists on TLS 1.3 turns the 1.2-only client away. */
    CHECK_INT(mw_tls_config_set_min_version(scfg, MW_TLS_VERSION_1_3), MW_OK);
    CHECK_INT(pair_open(&p, ccfg, scfg, SIZE_MAX, NULL), MW_OK);
    CHECK_INT(handshake(&p), MW_ERR_TLS);
    CHECK(strstr(mw_tls_last_error(p.s), "protocol") != NULL);
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

static void test_channel_binding(void)
{
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    unsigned char first[32];
    for (int round = 0; round < 2; round++) {
        pair p;
        CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
        CHECK_INT(handshake(&p), 0);
        unsigned char a[64], b[64];
        CHECK_INT(mw_tls_channel_binding(p.c, MW_TLS_CB_EXPORTER, a, sizeof a), 32);
        CHECK_INT(mw_tls_channel_binding(p.s, MW_TLS_CB_EXPORTER, b, sizeof b), 32);
        CHECK_MEM(a, 32, b, 32);
        if (round == 0) memcpy(first, a, 32);
        else CHECK(memcmp(first, a, 32) != 0); /* unique per connection */
        /* tls-server-end-point: SHA-256 of the leaf (ECDSA-with-SHA256). */
        CHECK_INT(mw_tls_channel_binding(p.c, MW_TLS_CB_SERVER_END_POINT, a, sizeof a), 32);
        CHECK_INT(mw_tls_channel_binding(p.s, MW_TLS_CB_SERVER_END_POINT, b, sizeof b), 32);
        CHECK_MEM(a, 32, g_pki.leaf_der_sha256, 32);
        CHECK_MEM(b, 32, g_pki.leaf_der_sha256, 32);
        CHECK_INT(mw_tls_channel_binding(p.c, MW_TLS_CB_EXPORTER, a, 31), MW_ERR_BUFFER);
        CHECK_INT(mw_tls_channel_binding(p.c, MW_TLS_CB_SERVER_END_POINT, a, 31), MW_ERR_BUFFER);
        CHECK_INT(mw_tls_channel_binding(p.c, 99, a, sizeof a), MW_ERR_INVALID);
        pair_close(&p);
    }
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

/* tls-server-end-point follows the certificate's signature hash; an
 * Ed25519 certificate has none. tls-exporter under TLS 1.2 needs the
 * extended master secret. */
static void test_channel_binding_variants(void)
{
    static const struct {
        const char *kind;
        int expect;
    } cases[] = {{"P-384/SHA-384", 48}, {"Ed25519", MW_ERR_UNSUPPORTED}};
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY *k = i == 0 ? EVP_EC_gen("P-384") : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        g_sign_md = EVP_sha384();
        X509 *x = k ? make_cert(k, "localhost", NULL, NULL, 10) : NULL;
        g_sign_md = NULL;
        CHECK(x != NULL);
        if (!x) {
            EVP_PKEY_free(k);
            continue;
        }
        pem cert = cert_pem(x), key = key_pem(k);
        unsigned char want[64];
        unsigned wlen = 0;
        X509_digest(x, EVP_sha384(), want, &wlen);
        mw_tls_config *scfg = NULL, *ccfg = client_config(NULL, "localhost");
        CHECK_INT(mw_tls_config_new(NULL, MW_TLS_SERVER, &scfg), MW_OK);
        CHECK_INT(mw_tls_config_set_cert_mem(scfg, cert.text, cert.len, key.text, key.len), MW_OK);
        CHECK_INT(mw_tls_config_set_verify_peer(ccfg, 0), MW_OK);
        pair p;
        CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
        CHECK_INT(handshake(&p), 0);
        unsigned char a[64], b[64];
        mw_ssize na = mw_tls_channel_binding(p.c, MW_TLS_CB_SERVER_END_POINT, a, sizeof a);
        mw_ssize nb = mw_tls_channel_binding(p.s, MW_TLS_CB_SERVER_END_POINT, b, sizeof b);
        if (na != cases[i].expect || nb != cases[i].expect)
            mw_test_fail(__FILE__, __LINE__, "%s: end-point binding %ld/%ld, expected %d",
                         cases[i].kind, (long)na, (long)nb, cases[i].expect);
        if (cases[i].expect > 0) {
            CHECK_MEM(a, (size_t)cases[i].expect, want, wlen);
            CHECK_MEM(b, (size_t)cases[i].expect, want, wlen);
        }
        pair_close(&p);
        mw_tls_config_free(scfg);
        mw_tls_config_free(ccfg);
        free(cert.text);
        free(key.text);
        X509_free(x);
        EVP_PKEY_free(k);
    }
    /* TLS 1.2 without the extended master secret: no tls-exporter. */
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    CHECK_INT(mw_tls_config_set_max_version(ccfg, MW_TLS_VERSION_1_2), MW_OK);
    SSL_CTX_set_options(ccfg->ctx, SSL_OP_NO_EXTENDED_MASTER_SECRET);
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    unsigned char a[64];
    CHECK_INT(mw_tls_channel_binding(p.c, MW_TLS_CB_EXPORTER, a, sizeof a), MW_ERR_UNSUPPORTED);
    CHECK_INT(mw_tls_channel_binding(p.s, MW_TLS_CB_EXPORTER, a, sizeof a), MW_ERR_UNSUPPORTED);
    CHECK_INT(mw_tls_channel_binding(p.c, MW_TLS_CB_SERVER_END_POINT, a, sizeof a), 32);
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

static int expect_handshake_failure(const mw_tls_config *ccfg, const mw_tls_config *scfg,
                                    const char *client_text, const char *server_text)
{
    pair p;
    int ok = pair_open(&p, ccfg, scfg, 0, NULL) == MW_OK;
    int rc = ok ? handshake(&p) : MW_ERR_STATE;
    CHECK_INT(rc, MW_ERR_TLS);
    /* Deliver the failing side's alert: the other side fails with a reason. */
    (void)move(&p, p.c, p.s);
    (void)move(&p, p.s, p.c);
    const char *ct = p.c ? mw_tls_last_error(p.c) : "";
    if (client_text && !strstr(ct, client_text)) {
        mw_test_fail(__FILE__, __LINE__, "client error \"%s\" lacks \"%s\"", ct, client_text);
        ok = 0;
    }
    const char *st = p.s ? mw_tls_last_error(p.s) : "";
    if (server_text && !strstr(st, server_text)) {
        mw_test_fail(__FILE__, __LINE__, "server error \"%s\" lacks \"%s\"", st, server_text);
        ok = 0;
    }
    if (p.c && client_text) {
        CHECK(mw_tls_state(p.c) & MW_TLS_FAILED);
        CHECK(mw_tls_state(p.c) & MW_CLOSED);
        CHECK_INT(mw_tls_write_plain(p.c, "x", 1), MW_ERR_TLS);
        unsigned char buf[8];
        CHECK_INT(mw_tls_read_plain(p.c, buf, sizeof buf), MW_ERR_TLS);
    }
    pair_close(&p);
    return ok;
}

static void test_verify(void)
{
    mw_tls_config *scfg = server_config(NULL);
    /* Wrong host name: the client aborts and tells the server why. */
    mw_tls_config *ccfg = client_config(NULL, "mail.example.org");
    CHECK(expect_handshake_failure(ccfg, scfg, "hostname mismatch", "bad certificate"));
    mw_tls_config_free(ccfg);
    /* IP literals are checked against iPAddress names. */
    ccfg = client_config(NULL, "127.0.0.1");
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    CHECK(mw_tls_server_name(p.s) == NULL); /* no SNI for an IP literal */
    CHECK_INT(mw_tls_peer_verify_result(p.c, NULL), 1);
    pair_close(&p);
    mw_tls_config_free(ccfg);
    ccfg = client_config(NULL, "127.0.0.2");
    CHECK(expect_handshake_failure(ccfg, scfg, "IP address mismatch", NULL));
    mw_tls_config_free(ccfg);
    /* Unknown CA. */
    mw_tls_config_new(NULL, MW_TLS_CLIENT, &ccfg);
    CHECK_INT(mw_tls_config_set_ca_mem(ccfg, g_pki.other_ca.text, g_pki.other_ca.len), MW_OK);
    CHECK_INT(mw_tls_config_set_host_name(ccfg, "localhost"), MW_OK);
    CHECK(expect_handshake_failure(ccfg, scfg, "unable to get local issuer certificate", "unknown ca"));
    /* Verification off: the handshake goes on, the result still tells. */
    CHECK_INT(mw_tls_config_set_verify_peer(ccfg, 0), MW_OK);
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    const char *why = NULL;
    CHECK_INT(mw_tls_peer_verify_result(p.c, &why), 0);
    CHECK(why && strcmp(why, "unable to get local issuer certificate") == 0);
    pair_close(&p);
    mw_tls_config_free(ccfg);
    /* A session can override the config's name before it starts. */
    ccfg = client_config(NULL, "mail.example.org");
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(mw_tls_set_host_name(p.c, "localhost"), MW_OK);
    CHECK_INT(mw_tls_set_host_name(p.s, "localhost"), MW_ERR_STATE);
    CHECK_INT(handshake(&p), 0);
    CHECK_INT(mw_tls_peer_verify_result(p.c, &why), 1);
    CHECK_INT(mw_tls_set_host_name(p.c, "localhost"), MW_ERR_STATE);
    pair_close(&p);
    mw_tls_config_free(ccfg);
    mw_tls_config_free(scfg);
}

static void test_client_certificates(void)
{
    mw_tls_config *scfg = server_config(NULL);
    CHECK_INT(mw_tls_config_set_verify_peer(scfg, 1), MW_OK);
    CHECK_INT(mw_tls_config_set_ca_mem(scfg, g_pki.ca.text, g_pki.ca.len), MW_OK);
    mw_tls_config *ccfg = client_config(NULL, "localhost");
    /* No client certificate: refused. TLS 1.3 clients finish first, so the
     * server's verdict arrives as an alert when the client reads. */
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), MW_ERR_TLS);
    CHECK(strstr(mw_tls_last_error(p.s), "certificate") != NULL);
    pair_close(&p);
    /* With one: accepted, and the server sees who it is. */
    CHECK_INT(mw_tls_config_set_cert_mem(ccfg, g_pki.leaf.text, g_pki.leaf.len, g_pki.leaf_key.text,
                                         g_pki.leaf_key.len),
              MW_OK);
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    CHECK_INT(transfer_str(&p, p.c, p.s, "AUTH EXTERNAL =\r\n"), MW_OK);
    const char *why = NULL;
    CHECK_INT(mw_tls_peer_verify_result(p.s, &why), 1);
    char subject[64];
    mw_ssize n = mw_tls_peer_subject(p.s, subject, sizeof subject);
    CHECK_STR(subject, n > 0 ? (size_t)n : 0, "CN=localhost");
    pair_close(&p);
    mw_tls_config_free(ccfg);
    mw_tls_config_free(scfg);
}

static void test_alpn(void)
{
    static const char *const client_list[] = {"imap", "smtp"};
    static const char *const server_list[] = {"smtp"};
    static const char *const other_list[] = {"pop3"};
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    CHECK_INT(mw_tls_config_set_alpn(ccfg, client_list, 2), MW_OK);
    CHECK_INT(mw_tls_config_set_alpn(scfg, server_list, 1), MW_OK);
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 3, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    mw_slice a, b;
    CHECK_INT(mw_tls_alpn_selected(p.c, &a), 1);
    CHECK_INT(mw_tls_alpn_selected(p.s, &b), 1);
    CHECK_STR(a.base, a.len, "smtp");
    CHECK_STR(b.base, b.len, "smtp");
    pair_close(&p);
    /* No protocol in common: RFC 7301 §3.2 fails the handshake. */
    CHECK_INT(mw_tls_config_set_alpn(scfg, other_list, 1), MW_OK);
    CHECK(expect_handshake_failure(ccfg, scfg, "no application protocol", NULL));
    /* A client that offers nothing is accepted without ALPN. */
    CHECK_INT(mw_tls_config_set_alpn(ccfg, NULL, 0), MW_OK);
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    CHECK_INT(mw_tls_alpn_selected(p.s, &b), 0);
    CHECK(b.base == NULL && b.len == 0);
    pair_close(&p);
    static const char *const bad[] = {""};
    CHECK_INT(mw_tls_config_set_alpn(ccfg, bad, 1), MW_ERR_INVALID);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

static void test_close_notify(void)
{
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    CHECK_INT(transfer_str(&p, p.s, p.c, "221 bye\r\n"), MW_OK);
    /* Data written before close_notify still arrives; then the close. */
    CHECK_INT(mw_tls_write_plain(p.c, "QUIT\r\n", 6), 6);
    CHECK_INT(mw_tls_shutdown(p.c), MW_OK);
    CHECK_INT(mw_tls_shutdown(p.c), MW_OK);
    CHECK(mw_tls_state(p.c) & MW_TLS_CLOSE_SENT);
    CHECK_INT(mw_tls_write_plain(p.c, "x", 1), MW_ERR_CLOSED);
    CHECK(move(&p, p.c, p.s) == 1);
    char buf[64];
    CHECK_INT(mw_tls_read_plain(p.s, buf, sizeof buf), 6);
    CHECK_MEM(buf, 6, "QUIT\r\n", 6);
    CHECK_INT(mw_tls_read_plain(p.s, buf, sizeof buf), MW_ERR_CLOSED);
    CHECK_INT(mw_tls_read_plain(p.s, buf, sizeof buf), MW_ERR_CLOSED);
    unsigned ss = mw_tls_state(p.s);
    CHECK(ss & MW_TLS_PEER_CLOSED);
    CHECK(!(ss & (MW_CLOSED | MW_WANT_READ | MW_TLS_FAILED)));
    CHECK_INT(mw_tls_feed_cipher(p.s, "x", 1), MW_ERR_CLOSED);
    CHECK_INT(mw_tls_shutdown(p.s), MW_OK);
    CHECK(mw_tls_state(p.s) & MW_CLOSED);
    CHECK(move(&p, p.s, p.c) == 1);
    CHECK_INT(mw_tls_read_plain(p.c, buf, sizeof buf), MW_ERR_CLOSED);
    unsigned cs = mw_tls_state(p.c);
    CHECK_INT(cs & (MW_CLOSED | MW_TLS_PEER_CLOSED | MW_TLS_CLOSE_SENT | MW_TLS_FAILED | MW_WANT_WRITE),
              MW_CLOSED | MW_TLS_PEER_CLOSED | MW_TLS_CLOSE_SENT);
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

/* The transport closing without close_notify is a truncation, not a close. */
static void test_truncation(void)
{
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    CHECK_INT(mw_tls_write_plain(p.s, "* OK", 4), 4);
    CHECK(move(&p, p.s, p.c) == 1);
    CHECK_INT(mw_tls_eof(p.c), MW_OK);
    CHECK(!(mw_tls_state(p.c) & MW_WANT_READ));
    char buf[64];
    mw_ssize r = mw_tls_read_plain(p.c, buf, sizeof buf);
    CHECK_INT(r, 4);
    CHECK_INT(mw_tls_read_plain(p.c, buf, sizeof buf), MW_ERR_TLS);
    CHECK(strstr(mw_tls_last_error(p.c), "unexpected eof") != NULL);
    CHECK(mw_tls_state(p.c) & MW_TLS_FAILED);
    pair_close(&p);
    /* EOF in the middle of the handshake fails at once. */
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK(move(&p, p.c, p.s) == 1);
    CHECK_INT(mw_tls_eof(p.c), MW_OK);
    CHECK(mw_tls_state(p.c) & MW_TLS_FAILED);
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

static void test_garbage(void)
{
    static const char plain[] = "EHLO attacker.example\r\nMAIL FROM:<a@b>\r\n";
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    pair p;
    /* Plaintext where a ClientHello should be. */
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(mw_tls_feed_cipher(p.s, plain, sizeof plain - 1), MW_ERR_TLS);
    CHECK(strlen(mw_tls_last_error(p.s)) > 10);
    CHECK(strncmp(mw_tls_last_error(p.s), "handshake: ", 11) == 0);
    CHECK_INT(mw_tls_feed_cipher(p.s, plain, 4), MW_ERR_TLS); /* sticky */
    unsigned char buf[64];
    CHECK_INT(mw_tls_read_plain(p.s, buf, sizeof buf), MW_ERR_TLS);
    CHECK_INT(mw_tls_state(p.s) & (MW_TLS_FAILED | MW_CLOSED | MW_WANT_READ), MW_TLS_FAILED | MW_CLOSED);
    if (getenv("MW_TEST_VERBOSE")) fprintf(stderr, "plaintext to a server: %s\n", mw_tls_last_error(p.s));
    pair_close(&p);
    /* Random bytes after an established handshake: a bad record. */
    uint64_t rng = 7;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    unsigned char junk[300];
    junk[0] = 23; /* application_data */
    junk[1] = 3;
    junk[2] = 3;
    junk[3] = 1;
    junk[4] = 0x20;
    for (size_t i = 5; i < sizeof junk; i++) junk[i] = (unsigned char)mw_test_rand(&rng);
    CHECK_INT(mw_tls_feed_cipher(p.s, junk, sizeof junk), (mw_ssize)sizeof junk);
    CHECK_INT(mw_tls_read_plain(p.s, buf, sizeof buf), MW_ERR_TLS);
    CHECK(strstr(mw_tls_last_error(p.s), "read: ") != NULL);
    CHECK(mw_is_fatal(MW_ERR_TLS));
    pair_close(&p);
    /* And to a client waiting for the ServerHello. */
    size_t len;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    (void)mw_tls_out_buf(p.c, &len);
    mw_tls_out_ack(p.c, len);
    CHECK_INT(mw_tls_feed_cipher(p.c, junk + 5, 100), MW_ERR_TLS);
    CHECK(mw_tls_last_error(p.c)[0] != '\0');
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

/* An unprotected application_data record slipped in before the handshake
 * finished (what a STARTTLS man-in-the-middle would try) is an error, and
 * its bytes never come out as plaintext — for TLS 1.2 and 1.3, either side. */
static void test_injected_record(void)
{
    static const unsigned char fake[] = {23, 3, 3, 0, 6, 'R', 'S', 'E', 'T', '\r', '\n'};
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    for (int v = 0; v < 2; v++) {
        CHECK_INT(mw_tls_config_set_max_version(ccfg, v ? MW_TLS_VERSION_1_2 : 0), MW_OK);
        for (int victim = 0; victim < 2; victim++) {
            pair p;
            CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
            if (victim == 1) CHECK(move(&p, p.c, p.s) == 1); /* ClientHello delivered */
            mw_tls_session *target = victim ? p.c : p.s;
            mw_ssize rc = mw_tls_feed_cipher(target, fake, sizeof fake);
            unsigned char buf[64];
            if (rc >= 0) rc = handshake(&p);
            if (rc >= 0) rc = mw_tls_read_plain(target, buf, sizeof buf);
            CHECK_INT(rc, MW_ERR_TLS);
            CHECK(mw_tls_state(target) & MW_TLS_FAILED);
            CHECK(!(mw_tls_state(target) & MW_TLS_READY));
            if (getenv("MW_TEST_VERBOSE"))
                fprintf(stderr, "injected record, TLS 1.%d, %s: %s\n", v ? 2 : 3,
                        victim ? "client" : "server", mw_tls_last_error(target));
            pair_close(&p);
        }
    }
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

/* A flipped bit anywhere in a protected record is caught (AEAD). */
static void test_tampering(void)
{
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    uint64_t rng = 99;
    for (int round = 0; round < 40; round++) {
        pair p;
        CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
        CHECK_INT(handshake(&p), 0);
        CHECK_INT(mw_tls_write_plain(p.c, "MAIL FROM:<a@example.org>\r\n", 27), 27);
        size_t len;
        const unsigned char *rec = mw_tls_out_buf(p.c, &len);
        CHECK(rec && len > 27);
        if (!rec) {
            pair_close(&p);
            break;
        }
        unsigned char copy[256];
        CHECK(len <= sizeof copy);
        memcpy(copy, rec, len);
        size_t at = 5 + (size_t)(mw_test_rand(&rng) % (len - 5)); /* past the header */
        copy[at] ^= (unsigned char)(1u << (mw_test_rand(&rng) % 8));
        CHECK_INT(mw_tls_feed_cipher(p.s, copy, len), (mw_ssize)len);
        unsigned char buf[64];
        CHECK_INT(mw_tls_read_plain(p.s, buf, sizeof buf), MW_ERR_TLS);
        CHECK(strncmp(mw_tls_last_error(p.s), "read: ", 6) == 0);
        pair_close(&p);
    }
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

/* Mutated handshakes: every outcome is progress or MW_ERR_TLS with a text,
 * never a crash, never plaintext. */
static void test_mutated_handshakes(void)
{
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    uint64_t rng = 2024;
    int failures = 0;
    for (int round = 0; round < 300; round++) {
        pair p;
        CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
        p.rng = mw_test_rand(&rng);
        int rc = 0;
        for (int step = 0; step < 8 && rc == 0; step++) {
            mw_tls_session *from = (step & 1) ? p.s : p.c, *to = (step & 1) ? p.c : p.s;
            size_t len;
            const unsigned char *out = mw_tls_out_buf(from, &len);
            if (!out) continue;
            unsigned char *copy = malloc(len);
            memcpy(copy, out, len);
            mw_tls_out_ack(from, len);
            int flips = 1 + (int)(mw_test_rand(&rng) % 3);
            for (int f = 0; f < flips && step == (int)(p.rng % 3); f++)
                copy[mw_test_rand(&rng) % len] ^= (unsigned char)(1 + mw_test_rand(&rng) % 255);
            size_t off = 0;
            while (off < len && rc == 0) {
                size_t n = 1 + (size_t)(mw_test_rand(&rng) % 700);
                if (n > len - off) n = len - off;
                mw_ssize took = mw_tls_feed_cipher(to, copy + off, n);
                if (took < 0) rc = (int)took;
                else if (took == 0) break;
                else off += (size_t)took;
            }
            free(copy);
            unsigned char buf[64];
            mw_ssize r = mw_tls_read_plain(to, buf, sizeof buf);
            if (r > 0) mw_test_fail(__FILE__, __LINE__, "plaintext out of a handshake");
            if (r < 0 && rc == 0) rc = (int)r;
        }
        if (rc != 0) {
            failures++;
            CHECK_INT(rc, MW_ERR_TLS);
            const char *e1 = mw_tls_last_error(p.c), *e2 = mw_tls_last_error(p.s);
            CHECK(e1[0] != '\0' || e2[0] != '\0');
        }
        pair_close(&p);
    }
    CHECK(failures > 100); /* the mutations really hit something */
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

/* 16 MiB each way at once, ciphertext moved in varying chunks. */
static void test_bulk(void)
{
    const size_t total = 16u << 20;
    unsigned char *up = malloc(total), *down = malloc(total);
    static unsigned char buf[2][40000];
    CHECK(up && down);
    if (!up || !down) goto out;
    uint64_t rng = 42;
    for (size_t i = 0; i < total; i += 8) {
        uint64_t r = mw_test_rand(&rng);
        memcpy(up + i, &r, 8);
        r = mw_test_rand(&rng);
        memcpy(down + i, &r, 8);
    }
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    size_t sent[2] = {0, 0}, got[2] = {0, 0};
    mw_tls_session *from[2] = {p.c, p.s}, *to[2] = {p.s, p.c};
    const unsigned char *data[2] = {up, down};
    long rounds = 0;
    int bad = 0;
    while (!bad && (got[0] < total || got[1] < total) && rounds++ < 1000000) {
        for (int d = 0; d < 2; d++) {
            if (sent[d] < total) {
                mw_ssize w = mw_tls_write_plain(from[d], data[d] + sent[d], total - sent[d]);
                if (w < 0) bad = 1;
                else sent[d] += (size_t)w;
            }
            /* Big moves here, with the odd tiny one. */
            p.chunk = (rounds % 7 == 0) ? 1 + (size_t)(rounds % 8) : 20000 + (size_t)(rounds % 5000);
            if (move(&p, from[d], to[d]) < 0) bad = 1;
            mw_ssize r;
            while ((r = mw_tls_read_plain(to[d], buf[d], sizeof buf[d])) > 0) {
                if ((size_t)r > total - got[d] || memcmp(buf[d], data[d] + got[d], (size_t)r) != 0) {
                    bad = 1;
                    break;
                }
                got[d] += (size_t)r;
            }
            if (r < 0) bad = 1;
        }
    }
    CHECK(!bad);
    CHECK_INT(got[0], total);
    CHECK_INT(got[1], total);
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
out:
    free(up);
    free(down);
}

/* write_plain stops at the output limit; feed stops at the input limit. */
static void test_limits(void)
{
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    CHECK_INT(mw_tls_config_set_buffer_limits(ccfg, 100, 4096), MW_ERR_INVALID);
    CHECK_INT(mw_tls_config_set_buffer_limits(ccfg, 4096, 600), MW_OK);
    CHECK_INT(mw_tls_config_set_buffer_limits(scfg, 600, 4096), MW_OK);
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    static unsigned char big[100000];
    memset(big, 'a', sizeof big);
    mw_ssize w = mw_tls_write_plain(p.c, big, sizeof big);
    CHECK(w > 0 && w <= 16384); /* one record, then the queue is over 600 */
    CHECK_INT(mw_tls_write_plain(p.c, big, sizeof big), 0);
    size_t len;
    const unsigned char *c = mw_tls_out_buf(p.c, &len);
    CHECK(c && len > 600);
    if (c) {
        CHECK_INT(mw_tls_feed_cipher(p.s, c, len), 600); /* the server's limit */
        mw_tls_out_ack(p.c, 600);
        CHECK(!(mw_tls_state(p.s) & MW_WANT_READ));
        CHECK_INT(mw_tls_feed_cipher(p.s, c, 1), 0);
    }
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

/* The zero-copy input path gives the same result. */
static void test_recv_buf(void)
{
    mw_tls_config *scfg = server_config(NULL), *ccfg = client_config(NULL, "localhost");
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    mw_tls_session *side[2] = {p.c, p.s};
    int done = 0;
    for (int round = 0; round < 100 && !done; round++) {
        for (int d = 0; d < 2; d++) {
            size_t len, room;
            const unsigned char *out;
            while ((out = mw_tls_out_buf(side[d], &len)) != NULL) {
                unsigned char *in = mw_tls_recv_buf(side[1 - d], &room);
                CHECK(in != NULL && room > 0);
                if (!in) break;
                size_t n = len < room ? len : room;
                if (n > 7) n -= 7; /* odd pieces */
                memcpy(in, out, n);
                CHECK_INT(mw_tls_recv_ack(side[1 - d], n), MW_OK);
                mw_tls_out_ack(side[d], n);
            }
        }
        done = (mw_tls_state(p.c) & mw_tls_state(p.s) & MW_TLS_READY) != 0;
    }
    CHECK(done);
    size_t room;
    CHECK(mw_tls_recv_buf(p.s, &room) != NULL);
    CHECK_INT(mw_tls_recv_ack(p.s, room + 1), MW_ERR_INVALID);
    CHECK_INT(transfer_str(&p, p.c, p.s, "A001 CAPABILITY\r\n"), MW_OK);
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
}

static int write_file(char *path, const pem *a, const pem *b)
{
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    int ok = write(fd, a->text, a->len) == (ssize_t)a->len;
    if (b) ok = ok && write(fd, b->text, b->len) == (ssize_t)b->len;
    close(fd);
    return ok;
}

static void test_files(void)
{
    char chain[] = "/tmp/mw-tls-chain-XXXXXX", key[] = "/tmp/mw-tls-key-XXXXXX",
         ca[] = "/tmp/mw-tls-ca-XXXXXX", both[] = "/tmp/mw-tls-both-XXXXXX";
    CHECK(write_file(chain, &g_pki.leaf, NULL));
    CHECK(write_file(key, &g_pki.leaf_key, NULL));
    CHECK(write_file(ca, &g_pki.ca, NULL));
    CHECK(write_file(both, &g_pki.leaf, &g_pki.leaf_key));
    mw_tls_config *scfg = NULL, *ccfg = NULL;
    CHECK_INT(mw_tls_config_new(NULL, MW_TLS_SERVER, &scfg), MW_OK);
    CHECK_INT(mw_tls_config_new(NULL, MW_TLS_CLIENT, &ccfg), MW_OK);
    CHECK_INT(mw_tls_config_set_cert_file(scfg, "/nonexistent/chain.pem", key), MW_ERR_TLS);
    CHECK(strstr(mw_tls_config_last_error(scfg), "certificate chain file") != NULL);
    CHECK_INT(mw_tls_config_set_cert_file(scfg, chain, key), MW_OK);
    CHECK_INT(mw_tls_config_set_cert_file(scfg, both, NULL), MW_OK);
    CHECK_INT(mw_tls_config_set_ca_file(ccfg, "/nonexistent/ca.pem", NULL), MW_ERR_TLS);
    CHECK_INT(mw_tls_config_set_ca_file(ccfg, ca, NULL), MW_OK);
    CHECK_INT(mw_tls_config_set_host_name(ccfg, "localhost"), MW_OK);
    pair p;
    CHECK_INT(pair_open(&p, ccfg, scfg, 0, NULL), MW_OK);
    CHECK_INT(handshake(&p), 0);
    CHECK_INT(mw_tls_peer_verify_result(p.c, NULL), 1);
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
    unlink(chain);
    unlink(key);
    unlink(ca);
    unlink(both);
}

static void test_config_errors(void)
{
    mw_tls_config *cfg = NULL;
    CHECK_INT(mw_tls_config_new(NULL, 3, &cfg), MW_ERR_INVALID);
    CHECK(cfg == NULL);
    CHECK_INT(mw_tls_config_new(NULL, MW_TLS_CLIENT, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_tls_config_new(NULL, MW_TLS_SERVER, &cfg), MW_OK);
    CHECK_INT(mw_tls_config_set_host_name(cfg, "localhost"), MW_ERR_STATE);
    CHECK_INT(mw_tls_config_set_min_version(cfg, 0x0301), MW_ERR_UNSUPPORTED);
    CHECK_INT(mw_tls_config_set_max_version(cfg, 0x0302), MW_ERR_UNSUPPORTED);
    CHECK_INT(mw_tls_config_set_max_version(cfg, 0), MW_OK);
    CHECK_INT(mw_tls_config_set_ca_mem(cfg, "junk", 4), MW_ERR_TLS);
    CHECK(mw_tls_config_last_error(cfg)[0] != '\0');
    CHECK_INT(mw_tls_config_set_ca_file(cfg, NULL, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_tls_config_set_cert_mem(cfg, g_pki.leaf.text, g_pki.leaf.len, "junk", 4), MW_ERR_TLS);
    /* A key that is not the certificate's. */
    EVP_PKEY *k = EVP_EC_gen("P-256");
    pem wrong = key_pem(k);
    EVP_PKEY_free(k);
    CHECK_INT(mw_tls_config_set_cert_mem(cfg, g_pki.leaf.text, g_pki.leaf.len, wrong.text, wrong.len),
              MW_ERR_TLS);
    CHECK(strstr(mw_tls_config_last_error(cfg), "private key") != NULL);
    free(wrong.text);
    CHECK_INT(mw_tls_config_set_ca_system(cfg), MW_OK);
    /* A server without a usable certificate fails every handshake. */
    mw_tls_config *ccfg = client_config(NULL, "localhost");
    CHECK(expect_handshake_failure(ccfg, cfg, "alert", "no shared cipher"));
    mw_tls_config_free(ccfg);
    mw_tls_config_free(cfg);
    CHECK_INT(mw_tls_config_new(NULL, MW_TLS_CLIENT, &cfg), MW_OK);
    CHECK_INT(mw_tls_config_set_host_name(cfg, "bad host"), MW_ERR_INVALID);
    CHECK_INT(mw_tls_config_set_host_name(cfg, "evil\r\nhost"), MW_ERR_INVALID);
    CHECK_INT(mw_tls_config_set_host_name(cfg, ""), MW_ERR_INVALID);
    CHECK_INT(mw_tls_config_set_host_name(cfg, "::1"), MW_OK);
    CHECK_INT(mw_tls_config_set_host_name(cfg, NULL), MW_OK);
    mw_tls_session *s = NULL;
    CHECK_INT(mw_tls_new(NULL, NULL, &s), MW_ERR_INVALID);
    CHECK_INT(mw_tls_new(NULL, cfg, &s), MW_OK);
    CHECK_INT(mw_tls_set_host_name(s, "bad host"), MW_ERR_INVALID);
    mw_tls_config_free(cfg); /* the session keeps working without it */
    CHECK(mw_tls_state(s) & MW_WANT_WRITE);
    CHECK_INT(mw_tls_feed_cipher(s, NULL, 1), MW_ERR_INVALID);
    unsigned char buf[4];
    CHECK_INT(mw_tls_read_plain(s, NULL, 4), MW_ERR_INVALID);
    CHECK_INT(mw_tls_read_plain(s, buf, 0), MW_ERR_INVALID);
    mw_tls_free(s);
    mw_tls_free(NULL);
    mw_tls_config_free(NULL);
    CHECK_INT(mw_tls_state(NULL), MW_CLOSED);
    CHECK(strcmp(mw_tls_last_error(NULL), "") == 0);
}

/* ---- the loop of docs/tls.md, run for real ------------------------------- */

/* A toy line engine with the SMTP server engine's shape, so the loop from
 * docs/tls.md (extracted at configure time into tls_doc_loop.c) runs
 * unchanged over a socketpair against a client in a child process.
 * Greeting "220 toy"; "STARTTLS" -> "220 go" and MW_TLS_HANDOFF (the rest
 * of the input is dropped and counted); "QUIT" -> "221 bye" and closed;
 * any other line L -> "250 L". */
typedef struct toy_engine {
    unsigned char in[512], out[4096];
    size_t in_len, out_head, out_tail;
    int handoff, closed, tls;
    size_t discarded;
} toy_engine;

static void toy_queue(toy_engine *e, const char *a, const void *b, size_t blen)
{
    size_t alen = strlen(a);
    if (e->out_tail + alen + blen + 2 > sizeof e->out) return;
    memcpy(e->out + e->out_tail, a, alen);
    memcpy(e->out + e->out_tail + alen, b, blen);
    memcpy(e->out + e->out_tail + alen + blen, "\r\n", 2);
    e->out_tail += alen + blen + 2;
}

static unsigned char *toy_recv_buf(toy_engine *e, size_t *len)
{
    *len = e->closed || e->handoff ? 0 : sizeof e->in - e->in_len;
    return *len ? e->in + e->in_len : NULL;
}

static int toy_recv_ack(toy_engine *e, size_t n)
{
    e->in_len += n;
    unsigned char *line = e->in, *end;
    while (!e->closed && (end = memchr(line, '\n', e->in_len - (size_t)(line - e->in))) != NULL) {
        size_t len = (size_t)(end - line) - 1;
        if (len == 8 && memcmp(line, "STARTTLS", 8) == 0 && !e->tls) {
            toy_queue(e, "220 go", "", 0);
            e->handoff = 1;
            e->discarded = e->in_len - (size_t)(end + 1 - e->in);
            e->in_len = 0;
            return MW_OK;
        }
        if (len == 4 && memcmp(line, "QUIT", 4) == 0) {
            toy_queue(e, "221 bye", "", 0);
            e->closed = 1;
        } else {
            toy_queue(e, "250 ", line, len);
        }
        line = end + 1;
    }
    e->in_len -= (size_t)(line - e->in);
    memmove(e->in, line, e->in_len);
    return MW_OK;
}

static int toy_eof(toy_engine *e)
{
    e->closed = 1;
    return MW_OK;
}

static unsigned toy_state(const toy_engine *e)
{
    unsigned st = e->out_tail > e->out_head ? MW_WANT_WRITE : 0;
    if (e->handoff) st |= MW_TLS_HANDOFF;
    else if (e->closed) st |= MW_CLOSED;
    else if (e->in_len < sizeof e->in) st |= MW_WANT_READ;
    return st;
}

static const unsigned char *toy_out_buf(toy_engine *e, size_t *len)
{
    *len = e->out_tail - e->out_head;
    return *len ? e->out + e->out_head : NULL;
}

static void toy_out_ack(toy_engine *e, size_t n)
{
    e->out_head += n;
    if (e->out_head >= e->out_tail) e->out_head = e->out_tail = 0;
}

static int toy_tls_started(toy_engine *e)
{
    if (!e->handoff) return MW_ERR_STATE;
    e->handoff = 0;
    e->tls = 1;
    return MW_OK;
}

static toy_engine *g_toy_freed;
static void toy_free(toy_engine *e)
{
    g_toy_freed = e; /* the test inspects it afterwards */
}

#define mw_smtp_server toy_engine
#define mw_smtp_server_recv_buf toy_recv_buf
#define mw_smtp_server_recv_ack toy_recv_ack
#define mw_smtp_server_eof toy_eof
#define mw_smtp_server_state toy_state
#define mw_smtp_server_out_buf toy_out_buf
#define mw_smtp_server_out_ack toy_out_ack
#define mw_smtp_server_tls_started toy_tls_started
#define mw_smtp_server_free toy_free

struct conn;
void conn_run(struct conn *c);
#include "tls_doc_loop.c"

int handle_events(struct conn *c)
{
    (void)c;
    return 0; /* the toy answers inside recv_ack */
}

/* ---- the client: plain blocking code in a child process ---- */

static int child_send_plain(int fd, const char *s)
{
    size_t len = strlen(s);
    return write(fd, s, len) == (ssize_t)len ? 0 : -1;
}

/* Read one CRLF line byte by byte (never past it: TLS may follow). */
static int child_expect_plain(int fd, const char *want)
{
    char line[256];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        if (read(fd, line + n, 1) != 1) return -1;
        if (line[n++] == '\n') break;
    }
    return n == strlen(want) && memcmp(line, want, n) == 0 ? 0 : -1;
}

static int child_flush(int fd, mw_tls_session *t)
{
    size_t len;
    const unsigned char *p;
    while ((p = mw_tls_out_buf(t, &len)) != NULL) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) return -1;
        mw_tls_out_ack(t, (size_t)n);
    }
    return 0;
}

static int child_fill(int fd, mw_tls_session *t)
{
    unsigned char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return mw_tls_eof(t) == MW_OK && n == 0 ? 0 : -1;
    return mw_tls_feed_cipher(t, buf, (size_t)n) == n ? 0 : -1;
}

/* Read plaintext until exactly `want` arrived; want NULL: until close_notify. */
static int child_expect_tls(int fd, mw_tls_session *t, const char *want)
{
    char got[256];
    size_t n = 0, wlen = want ? strlen(want) : 0;
    for (int i = 0; i < 1000; i++) {
        mw_ssize r = mw_tls_read_plain(t, got + n, sizeof got - n);
        if (r == MW_ERR_CLOSED) return want ? -1 : 0;
        if (r < 0) return -1;
        n += (size_t)r;
        if (want && n >= wlen) return n == wlen && memcmp(got, want, n) == 0 ? 0 : -1;
        if (r == 0 && (child_flush(fd, t) || child_fill(fd, t))) return -1;
    }
    return -1;
}

static int child_client(int fd, int implicit)
{
    mw_tls_config *cfg = client_config(NULL, "localhost");
    mw_tls_session *t = NULL;
    if (!cfg) return 10;
    if (!implicit) {
        if (child_expect_plain(fd, "220 toy\r\n")) return 11;
        /* "RSET" pipelined after STARTTLS stands for injected plaintext. */
        if (child_send_plain(fd, "STARTTLS\r\nRSET\r\n")) return 12;
        if (child_expect_plain(fd, "220 go\r\n")) return 13;
    }
    if (mw_tls_new(NULL, cfg, &t) != MW_OK) return 14;
    while (!(mw_tls_state(t) & MW_TLS_READY))
        if (child_flush(fd, t) || child_fill(fd, t)) return 15;
    if (implicit && child_expect_tls(fd, t, "220 toy\r\n")) return 16;
    if (mw_tls_write_plain(t, "HELLO\r\n", 7) != 7 || child_flush(fd, t)) return 17;
    if (child_expect_tls(fd, t, "250 HELLO\r\n")) return 18; /* no "250 RSET" first */
    if (mw_tls_write_plain(t, "QUIT\r\n", 6) != 6 || child_flush(fd, t)) return 19;
    if (child_expect_tls(fd, t, "221 bye\r\n")) return 20;
    if (child_expect_tls(fd, t, NULL)) return 21; /* the server's close_notify */
    /* Answer in kind; the server may already be gone (it need not wait). */
    if (mw_tls_shutdown(t) != MW_OK) return 22;
    (void)child_flush(fd, t);
    mw_tls_free(t);
    mw_tls_config_free(cfg);
    return 0;
}

static void run_doc_loop(int implicit)
{
    int sv[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        close(sv[0]);
        _exit(child_client(sv[1], implicit));
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    mw_tls_config *scfg = server_config(NULL);
    toy_engine engine;
    memset(&engine, 0, sizeof engine);
    toy_queue(&engine, "220 toy", "", 0);
    struct conn c = {sv[0], &engine, NULL, scfg, 0};
    if (implicit) CHECK_INT(conn_start_implicit_tls(&c), MW_OK);
    conn_run(&c); /* closes the socket, frees the session */
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status))
        mw_test_fail(__FILE__, __LINE__, "client died: status %d", status);
    else if (WEXITSTATUS(status) != 0)
        mw_test_fail(__FILE__, __LINE__, "client step %d failed", WEXITSTATUS(status));
    CHECK(g_toy_freed == &engine);
    CHECK_INT(engine.closed, 1);
    if (!implicit) {
        CHECK_INT(engine.tls, 1);
        CHECK_INT(engine.discarded, 6); /* "RSET\r\n" never reached TLS */
    }
    mw_tls_config_free(scfg);
}

static void test_doc_loop_starttls(void)
{
    run_doc_loop(0);
}

static void test_doc_loop_implicit(void)
{
    run_doc_loop(1);
}

/* ---- allocation failures -------------------------------------------------- */

static int alloc_run(const mw_mem *mem, void *arg)
{
    (void)arg;
    static const char *const alpn[] = {"smtp"};
    mw_tls_config *scfg = NULL, *ccfg = NULL;
    pair p;
    memset(&p, 0, sizeof p);
    int rc = mw_tls_config_new(mem, MW_TLS_SERVER, &scfg);
    if (rc == MW_OK)
        rc = mw_tls_config_set_cert_mem(scfg, g_pki.leaf.text, g_pki.leaf.len, g_pki.leaf_key.text,
                                        g_pki.leaf_key.len);
    if (rc == MW_OK) rc = mw_tls_config_set_alpn(scfg, alpn, 1);
    if (rc == MW_OK) rc = mw_tls_config_new(mem, MW_TLS_CLIENT, &ccfg);
    if (rc == MW_OK) rc = mw_tls_config_set_ca_mem(ccfg, g_pki.ca.text, g_pki.ca.len);
    if (rc == MW_OK) rc = mw_tls_config_set_host_name(ccfg, "localhost");
    if (rc == MW_OK) rc = mw_tls_config_set_alpn(ccfg, alpn, 1);
    if (rc == MW_OK) rc = pair_open(&p, ccfg, scfg, 0, mem);
    if (rc == MW_OK) rc = handshake(&p);
    if (rc == MW_OK) rc = transfer_str(&p, p.c, p.s, "EHLO a\r\n");
    if (rc == MW_OK) rc = transfer_str(&p, p.s, p.c, "250 b\r\n");
    if (rc == MW_OK) rc = mw_tls_shutdown(p.c);
    pair_close(&p);
    mw_tls_config_free(scfg);
    mw_tls_config_free(ccfg);
    return rc;
}

static void test_alloc_failures(void)
{
    long runs = mw_test_alloc_loop("tls session pair", alloc_run, NULL);
    if (getenv("MW_TEST_VERBOSE")) fprintf(stderr, "allocation loop: %ld runs\n", runs);
    CHECK(runs > 5);
}

int main(void)
{
    if (!pki_make()) {
        fprintf(stderr, "cannot make test certificates\n");
        return 1;
    }
    MW_RUN(test_handshake_chunks);
    MW_RUN(test_no_plaintext_before_handshake);
    MW_RUN(test_tls12);
    MW_RUN(test_channel_binding);
    MW_RUN(test_channel_binding_variants);
    MW_RUN(test_verify);
    MW_RUN(test_client_certificates);
    MW_RUN(test_alpn);
    MW_RUN(test_close_notify);
    MW_RUN(test_truncation);
    MW_RUN(test_garbage);
    MW_RUN(test_injected_record);
    MW_RUN(test_tampering);
    MW_RUN(test_mutated_handshakes);
    MW_RUN(test_bulk);
    MW_RUN(test_limits);
    MW_RUN(test_recv_buf);
    MW_RUN(test_files);
    MW_RUN(test_config_errors);
    MW_RUN(test_doc_loop_starttls);
    MW_RUN(test_doc_loop_implicit);
    MW_RUN(test_alloc_failures);
    pki_free();
    return mw_test_finish();
}
