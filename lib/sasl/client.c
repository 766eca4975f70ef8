/*
 * SASL client engine: builds the initial response, answers challenges and
 * checks the server's side of mutual authentication (SCRAM).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sasl/sasl_internal.h"

#include <string.h>

struct mw_sasl_client {
    mw__sasl_base b;
    int has_ir;      /* start produced an initial response */
    int ir_resent;   /* ... and an empty first challenge asked for it again */
    int stage;       /* challenges answered so far */
    int verified;    /* SCRAM: the ServerSignature matched */
    int oauth_failed;
    int has_err;
    mw__sasl_buf ir;
    mw__sasl_buf nonce;      /* SCRAM c-nonce */
    mw__sasl_buf gs2;        /* SCRAM GS2 header */
    mw__sasl_buf first_bare; /* SCRAM client-first-message-bare */
    mw__sasl_buf scratch;    /* copy of a challenge being parsed */
    mw__sasl_buf salt;
    unsigned char server_sig[32];
    mw_sasl_client_error err;
};

#define PROP(c, id) (&(c)->b.prop[(id)])
#define HAVE(c, id) (PROP(c, id)->p != NULL)

static const mw_sasl_client_error no_error;

MW_API int mw_sasl_client_new(mw_sasl_client **out, const mw_mem *mem, const char *mech,
                              const mw_sasl_options *opts)
{
    if (!out) return MW_ERR_INVALID;
    *out = NULL;
    if (!mech) return MW_ERR_INVALID;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_sasl_client *c = mw__calloc(&m, 1, sizeof *c);
    if (!c) return MW_ERR_NOMEM;
    int rc = mw__sasl_base_init(&c->b, mem, mech, opts);
    if (rc != MW_OK) {
        mw__free(&m, c);
        return rc;
    }
    *out = c;
    return MW_OK;
}

MW_API void mw_sasl_client_free(mw_sasl_client *c)
{
    if (!c) return;
    mw_mem m = c->b.mem;
    mw__sasl_buf *bufs[] = {&c->ir, &c->nonce, &c->gs2, &c->first_bare, &c->scratch, &c->salt};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) mw__sasl_buf_free(&m, bufs[i]);
    mw__sasl_base_free(&c->b);
    mw__wipe(c, sizeof *c);
    mw__free(&m, c);
}

MW_API int mw_sasl_client_set(mw_sasl_client *c, int prop, const void *value, size_t len)
{
    if (!c) return MW_ERR_INVALID;
    return mw__sasl_base_set(&c->b, prop, value, len);
}

MW_API const mw_sasl_client_error *mw_sasl_client_error_info(const mw_sasl_client *c)
{
    return c && c->has_err ? &c->err : NULL;
}

/* ---- initial responses ---------------------------------------------- */

static int add(mw_sasl_client *c, mw__sasl_buf *b, const void *p, size_t n)
{
    return mw__sasl_buf_add(&c->b.mem, b, p, n);
}

static int add_prop(mw_sasl_client *c, mw__sasl_buf *b, int id)
{
    return add(c, b, PROP(c, id)->p, PROP(c, id)->len);
}

static int identity_ok(const mw__sasl_buf *v)
{
    return mw__sasl_utf8_valid(v->p, v->len);
}

/* RFC 4616 §2: [authzid] NUL authcid NUL passwd */
static int ir_plain(mw_sasl_client *c)
{
    if (!HAVE(c, MW_SASL_PROP_AUTHCID) || !PROP(c, MW_SASL_PROP_AUTHCID)->len ||
        !HAVE(c, MW_SASL_PROP_PASSWORD) || !PROP(c, MW_SASL_PROP_PASSWORD)->len)
        return MW_ERR_AUTH;
    if (!identity_ok(PROP(c, MW_SASL_PROP_AUTHCID)) || !identity_ok(PROP(c, MW_SASL_PROP_AUTHZID)))
        return MW_ERR_SYNTAX;
    int rc = add_prop(c, &c->ir, MW_SASL_PROP_AUTHZID);
    if (rc == MW_OK) rc = add(c, &c->ir, "", 1);
    if (rc == MW_OK) rc = add_prop(c, &c->ir, MW_SASL_PROP_AUTHCID);
    if (rc == MW_OK) rc = add(c, &c->ir, "", 1);
    if (rc == MW_OK) rc = add_prop(c, &c->ir, MW_SASL_PROP_PASSWORD);
    return rc;
}

/* RFC 4422 Appendix A.1: the message is the authzid, possibly empty. */
static int ir_external(mw_sasl_client *c)
{
    if (!identity_ok(PROP(c, MW_SASL_PROP_AUTHZID))) return MW_ERR_SYNTAX;
    int rc = add(c, &c->ir, "", 0);
    return rc == MW_OK ? add_prop(c, &c->ir, MW_SASL_PROP_AUTHZID) : rc;
}

/* RFC 4505 §3: optional trace, up to 255 UTF-8 characters. */
static int ir_anonymous(mw_sasl_client *c)
{
    const mw__sasl_buf *t = PROP(c, MW_SASL_PROP_TRACE);
    if (!identity_ok(t) || mw__sasl_utf8_count(t->p, t->len) > 255) return MW_ERR_SYNTAX;
    int rc = add(c, &c->ir, "", 0);
    return rc == MW_OK ? add_prop(c, &c->ir, MW_SASL_PROP_TRACE) : rc;
}

static int oauth_value_ok(const mw__sasl_buf *v)
{
    return mw__sasl_oauth_value_ok(v->p, v->len);
}

static int ir_xoauth2(mw_sasl_client *c)
{
    const mw__sasl_buf *user = PROP(c, MW_SASL_PROP_AUTHCID), *tok = PROP(c, MW_SASL_PROP_TOKEN);
    if (!user->p || !user->len || !tok->p || !tok->len) return MW_ERR_AUTH;
    if (!oauth_value_ok(tok) || !oauth_value_ok(user))
        return MW_ERR_SYNTAX;
    int rc = add(c, &c->ir, "user=", 5);
    if (rc == MW_OK) rc = add_prop(c, &c->ir, MW_SASL_PROP_AUTHCID);
    if (rc == MW_OK) rc = add(c, &c->ir, "\001auth=Bearer ", 13);
    if (rc == MW_OK) rc = add_prop(c, &c->ir, MW_SASL_PROP_TOKEN);
    if (rc == MW_OK) rc = add(c, &c->ir, "\001\001", 2);
    return rc;
}

static int add_kv(mw_sasl_client *c, const char *key, int id)
{
    if (!HAVE(c, id)) return MW_OK;
    int rc = add(c, &c->ir, key, strlen(key));
    if (rc == MW_OK) rc = add_prop(c, &c->ir, id);
    if (rc == MW_OK) rc = add(c, &c->ir, "\001", 1);
    return rc;
}

/* RFC 7628 §3.1: gs2-header kvsep *kvpair kvsep */
static int ir_oauthbearer(mw_sasl_client *c)
{
    const mw__sasl_buf *tok = PROP(c, MW_SASL_PROP_TOKEN), *port = PROP(c, MW_SASL_PROP_PORT);
    if (!tok->p || !tok->len) return MW_ERR_AUTH;
    if (!oauth_value_ok(tok) || !oauth_value_ok(PROP(c, MW_SASL_PROP_HOST)) ||
        !identity_ok(PROP(c, MW_SASL_PROP_AUTHZID)))
        return MW_ERR_SYNTAX;
    for (size_t i = 0; i < port->len; i++)
        if (port->p[i] < '0' || port->p[i] > '9') return MW_ERR_SYNTAX;
    int rc = add(c, &c->ir, "n,", 2);
    if (rc == MW_OK && PROP(c, MW_SASL_PROP_AUTHZID)->len) {
        rc = add(c, &c->ir, "a=", 2);
        if (rc == MW_OK)
            rc = mw__scram_escape_add(&c->b.mem, &c->ir, PROP(c, MW_SASL_PROP_AUTHZID)->p,
                                      PROP(c, MW_SASL_PROP_AUTHZID)->len);
    }
    if (rc == MW_OK) rc = add(c, &c->ir, ",\001", 2);
    if (rc == MW_OK) rc = add_kv(c, "host=", MW_SASL_PROP_HOST);
    if (rc == MW_OK) rc = add_kv(c, "port=", MW_SASL_PROP_PORT);
    if (rc == MW_OK) rc = add(c, &c->ir, "auth=Bearer ", 12);
    if (rc == MW_OK) rc = add_prop(c, &c->ir, MW_SASL_PROP_TOKEN);
    if (rc == MW_OK) rc = add(c, &c->ir, "\001\001", 2);
    return rc;
}

/* printable = %x21-2B / %x2D-7E (RFC 5802 §7) */
static int scram_printable(const void *p, size_t len)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',') return 0;
    return len > 0;
}

/* cb-name = 1*(ALPHA / DIGIT / "." / "-") (RFC 5056 §7) */
static int cb_name_ok(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-'))
            return 0;
    }
    return len > 0;
}

static int scram_gs2(mw_sasl_client *c)
{
    const mw__sasl_buf *cbtype = PROP(c, MW_SASL_PROP_CB_TYPE);
    int rc;
    if (c->b.mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS) {
        if (!HAVE(c, MW_SASL_PROP_CB_DATA)) return MW_ERR_AUTH;
        if (cbtype->p && !cb_name_ok(cbtype->p, cbtype->len)) return MW_ERR_SYNTAX;
        rc = add(c, &c->gs2, "p=", 2);
        if (rc == MW_OK)
            rc = cbtype->p ? add(c, &c->gs2, cbtype->p, cbtype->len)
                           : mw__sasl_buf_adds(&c->b.mem, &c->gs2, "tls-exporter");
    } else {
        /* "y": the client could bind but the server did not offer -PLUS
         * (RFC 5802 §6), which lets a -PLUS server detect a downgrade. */
        rc = add(c, &c->gs2, HAVE(c, MW_SASL_PROP_CB_DATA) ? "y" : "n", 1);
    }
    if (rc == MW_OK) rc = add(c, &c->gs2, ",", 1);
    const mw__sasl_buf *authzid = PROP(c, MW_SASL_PROP_AUTHZID);
    if (rc == MW_OK && authzid->len) {
        rc = add(c, &c->gs2, "a=", 2);
        if (rc == MW_OK) rc = mw__scram_escape_add(&c->b.mem, &c->gs2, authzid->p, authzid->len);
    }
    if (rc == MW_OK) rc = add(c, &c->gs2, ",", 1);
    return rc;
}

/* RFC 5802 §7: gs2-header "n=" saslname ",r=" c-nonce */
static int ir_scram(mw_sasl_client *c)
{
    const mw__sasl_buf *user = PROP(c, MW_SASL_PROP_AUTHCID);
    if (!user->p || !user->len || !HAVE(c, MW_SASL_PROP_PASSWORD)) return MW_ERR_AUTH;
    if (!identity_ok(user) || !identity_ok(PROP(c, MW_SASL_PROP_AUTHZID))) return MW_ERR_SYNTAX;
    int rc = mw__sasl_nonce(&c->b, &c->nonce);
    if (rc != MW_OK) return rc;
    if (!scram_printable(c->nonce.p, c->nonce.len)) return MW_ERR_SYNTAX;
    rc = scram_gs2(c);
    if (rc == MW_OK) rc = add(c, &c->first_bare, "n=", 2);
    if (rc == MW_OK) rc = mw__scram_escape_add(&c->b.mem, &c->first_bare, user->p, user->len);
    if (rc == MW_OK) rc = add(c, &c->first_bare, ",r=", 3);
    if (rc == MW_OK) rc = add(c, &c->first_bare, c->nonce.p, c->nonce.len);
    if (rc == MW_OK) rc = add(c, &c->ir, c->gs2.p, c->gs2.len);
    if (rc == MW_OK) rc = add(c, &c->ir, c->first_bare.p, c->first_bare.len);
    return rc;
}

static int build_ir(mw_sasl_client *c)
{
    switch (c->b.mech) {
    case MW_SASL_MECH_PLAIN: return ir_plain(c);
    case MW_SASL_MECH_EXTERNAL: return ir_external(c);
    case MW_SASL_MECH_ANONYMOUS: return ir_anonymous(c);
    case MW_SASL_MECH_XOAUTH2: return ir_xoauth2(c);
    case MW_SASL_MECH_OAUTHBEARER: return ir_oauthbearer(c);
    case MW_SASL_MECH_SCRAM_SHA_256:
    case MW_SASL_MECH_SCRAM_SHA_256_PLUS: return ir_scram(c);
    default: return MW_OK; /* LOGIN, CRAM-MD5: the server speaks first */
    }
}

static int has_initial_response(int mech)
{
    return mech != MW_SASL_MECH_LOGIN && mech != MW_SASL_MECH_CRAM_MD5;
}

MW_API int mw_sasl_client_start(mw_sasl_client *c, mw_slice *out)
{
    if (!c || !out) return MW_ERR_INVALID;
    out->base = NULL;
    out->len = 0;
    int rc = mw__sasl_base_check(&c->b, MW__SASL_NEW);
    if (rc != MW_OK) return rc;
    c->b.state = MW__SASL_RUNNING;
    rc = build_ir(c);
    if (rc != MW_OK) return mw__sasl_base_result(&c->b, rc);
    if (!has_initial_response(c->b.mech)) return MW_SASL_CONTINUE;
    c->has_ir = 1;
    rc = mw__sasl_buf_set(&c->b.mem, &c->b.out, c->ir.p, c->ir.len);
    if (rc == MW_OK) rc = mw__sasl_base_emit(&c->b, out, MW_SASL_CONTINUE);
    return mw__sasl_base_result(&c->b, rc);
}

/* ---- challenges ------------------------------------------------------ */

static int out_add(mw_sasl_client *c, const void *p, size_t n)
{
    return mw__sasl_buf_add(&c->b.mem, &c->b.out, p, n);
}

/* RFC 2195 §2: user SP lowercase-hex(HMAC-MD5(password, challenge)) */
static int step_cram(mw_sasl_client *c, const unsigned char *in, size_t len)
{
    const mw__sasl_buf *user = PROP(c, MW_SASL_PROP_AUTHCID), *pw = PROP(c, MW_SASL_PROP_PASSWORD);
    if (!user->p || !user->len || !pw->p) return MW_ERR_AUTH;
    if (len == 0) return MW_ERR_SYNTAX;
    unsigned char mac[MW__MD5_LEN];
    char hex[2 * MW__MD5_LEN + 1];
    static const char digits[] = "0123456789abcdef";
    mw__hmac_md5(pw->p, pw->len, in, len, mac);
    for (size_t i = 0; i < sizeof mac; i++) {
        hex[2 * i] = digits[mac[i] >> 4];
        hex[2 * i + 1] = digits[mac[i] & 15];
    }
    int rc = out_add(c, user->p, user->len);
    if (rc == MW_OK) rc = out_add(c, " ", 1);
    if (rc == MW_OK) rc = out_add(c, hex, 2 * MW__MD5_LEN);
    mw__wipe(mac, sizeof mac);
    mw__wipe(hex, sizeof hex);
    return rc;
}

/* The LOGIN draft's challenges are fixed prompts ("Username:",
 * "Password:"); servers word them differently, so only the order counts. */
static int step_login(mw_sasl_client *c)
{
    int id = c->stage == 0 ? MW_SASL_PROP_AUTHCID : MW_SASL_PROP_PASSWORD;
    if (c->stage > 1) return MW_ERR_PROTOCOL;
    if (!HAVE(c, id) || (id == MW_SASL_PROP_AUTHCID && !PROP(c, id)->len)) return MW_ERR_AUTH;
    return out_add(c, PROP(c, id)->p, PROP(c, id)->len);
}

/* The server's error JSON (RFC 7628 §3.2.2); the client answers with the
 * dummy response so the server can finish (§3.2.3): ^A for OAUTHBEARER,
 * empty for XOAUTH2. */
static int step_oauth(mw_sasl_client *c, const unsigned char *in, size_t len)
{
    if (c->stage > 0) return MW_ERR_PROTOCOL;
    int rc = mw__sasl_buf_set(&c->b.mem, &c->scratch, in, len);
    if (rc != MW_OK) return rc;
    memset(&c->err, 0, sizeof c->err);
    rc = mw__sasl_oauth_error_parse((char *)c->scratch.p, c->scratch.len, &c->err);
    if (rc != MW_OK) {
        c->err = no_error;
        return rc;
    }
    c->has_err = 1;
    c->oauth_failed = 1;
    return c->b.mech == MW_SASL_MECH_OAUTHBEARER ? out_add(c, "\001", 1) : out_add(c, "", 0);
}

static int parse_iterations(mw_slice v, uint32_t *out)
{
    uint64_t n = 0;
    if (v.len == 0 || v.len > 10 || v.base[0] == '0') return MW_ERR_SYNTAX;
    for (size_t i = 0; i < v.len; i++) {
        if (v.base[i] < '0' || v.base[i] > '9') return MW_ERR_SYNTAX;
        n = n * 10 + (uint64_t)(v.base[i] - '0');
    }
    if (n > UINT32_MAX) return MW_ERR_SYNTAX;
    *out = (uint32_t)n;
    return MW_OK;
}

static void keep_server_error(mw_sasl_client *c, mw_slice v)
{
    memset(&c->err, 0, sizeof c->err);
    c->err.server_error = v;
    c->has_err = 1;
}

/* Compute the proof and the expected server signature (RFC 5802 §3). */
static int scram_proof(mw_sasl_client *c, uint32_t iterations, const mw__sasl_buf *final_wo,
                       unsigned char proof[32])
{
    const mw__sasl_buf *pw = PROP(c, MW_SASL_PROP_PASSWORD);
    unsigned char salted[32], client_key[32], stored_key[32], server_key[32], sig[32];
    int rc = mw__pbkdf2_sha256(pw->p, pw->len, c->salt.p, c->salt.len, iterations, salted, 32);
    if (rc != MW_OK) return rc;
    mw__scram_keys(salted, client_key, stored_key, server_key);
    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    mw__hmac_sha256_ctx h;
    mw__hmac_sha256_init(&h, stored_key, 32);
    mw__hmac_sha256_update(&h, c->first_bare.p, c->first_bare.len);
    mw__hmac_sha256_update(&h, ",", 1);
    mw__hmac_sha256_update(&h, c->scratch.p, c->scratch.len);
    mw__hmac_sha256_update(&h, ",", 1);
    mw__hmac_sha256_update(&h, final_wo->p, final_wo->len);
    mw__hmac_sha256_final(&h, sig);
    for (int i = 0; i < 32; i++) proof[i] = (unsigned char)(client_key[i] ^ sig[i]);
    mw__hmac_sha256_init(&h, server_key, 32);
    mw__hmac_sha256_update(&h, c->first_bare.p, c->first_bare.len);
    mw__hmac_sha256_update(&h, ",", 1);
    mw__hmac_sha256_update(&h, c->scratch.p, c->scratch.len);
    mw__hmac_sha256_update(&h, ",", 1);
    mw__hmac_sha256_update(&h, final_wo->p, final_wo->len);
    mw__hmac_sha256_final(&h, c->server_sig);
    mw__wipe(salted, 32);
    mw__wipe(client_key, 32);
    mw__wipe(stored_key, 32);
    mw__wipe(server_key, 32);
    mw__wipe(sig, 32);
    return MW_OK;
}

/* server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions] */
static int step_scram_first(mw_sasl_client *c, const unsigned char *in, size_t len)
{
    int rc = mw__sasl_buf_set(&c->b.mem, &c->scratch, in, len);
    if (rc != MW_OK) return rc;
    const char *msg = (const char *)c->scratch.p;
    size_t pos = 0;
    char name;
    mw_slice v, nonce = {NULL, 0}, salt = {NULL, 0}, iter = {NULL, 0};
    for (int idx = 0; (rc = mw__scram_attr(msg, len, &pos, &name, &v)) == 1; idx++) {
        if (idx == 0 && name == 'm') return MW_ERR_UNSUPPORTED;
        if (idx == 0 && name == 'e') {
            keep_server_error(c, v);
            return MW_ERR_AUTH;
        }
        if (idx == 0 && name == 'r') nonce = v;
        else if (idx == 1 && name == 's') salt = v;
        else if (idx == 2 && name == 'i') iter = v;
        else if (idx < 3) return MW_ERR_SYNTAX;
    }
    if (rc < 0) return rc;
    if (!iter.base) return MW_ERR_SYNTAX;
    /* The server's nonce must extend ours (RFC 5802 §5.1, "r"). */
    if (!scram_printable(nonce.base, nonce.len)) return MW_ERR_SYNTAX;
    if (nonce.len <= c->nonce.len || memcmp(nonce.base, c->nonce.p, c->nonce.len) != 0)
        return MW_ERR_AUTH;
    uint32_t iterations;
    rc = parse_iterations(iter, &iterations);
    if (rc != MW_OK) return rc;
    if (iterations < c->b.opt.min_iterations || iterations > c->b.opt.max_iterations)
        return MW_ERR_AUTH;
    rc = mw__sasl_b64_set(&c->b.mem, &c->salt, salt.base, salt.len);
    if (rc != MW_OK) return rc;
    if (c->salt.len == 0) return MW_ERR_SYNTAX;

    /* client-final-message-without-proof = "c=" base64(gs2-header [cbind-data]) ",r=" nonce */
    mw__sasl_buf *out = &c->b.out, cb = {NULL, 0, 0};
    rc = add(c, &cb, c->gs2.p, c->gs2.len);
    if (rc == MW_OK && c->b.mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS)
        rc = add_prop(c, &cb, MW_SASL_PROP_CB_DATA);
    if (rc == MW_OK) rc = out_add(c, "c=", 2);
    if (rc == MW_OK) rc = mw__sasl_b64_add(&c->b.mem, out, cb.p, cb.len);
    mw__sasl_buf_free(&c->b.mem, &cb);
    if (rc == MW_OK) rc = out_add(c, ",r=", 3);
    if (rc == MW_OK) rc = out_add(c, nonce.base, nonce.len);
    if (rc != MW_OK) return rc;
    unsigned char proof[32];
    rc = scram_proof(c, iterations, out, proof);
    if (rc == MW_OK) rc = out_add(c, ",p=", 3);
    if (rc == MW_OK) rc = mw__sasl_b64_add(&c->b.mem, out, proof, sizeof proof);
    mw__wipe(proof, sizeof proof);
    return rc;
}

/* server-final-message = (server-error / verifier) ["," extensions] */
static int scram_check_final(mw_sasl_client *c, const unsigned char *in, size_t len)
{
    int rc = mw__sasl_buf_set(&c->b.mem, &c->scratch, in, len);
    if (rc != MW_OK) return rc;
    size_t pos = 0;
    char name;
    mw_slice v;
    rc = mw__scram_attr((const char *)c->scratch.p, len, &pos, &name, &v);
    if (rc <= 0) return rc < 0 ? rc : MW_ERR_SYNTAX;
    if (name == 'e') {
        keep_server_error(c, v);
        return MW_ERR_AUTH;
    }
    if (name != 'v') return MW_ERR_SYNTAX;
    mw__sasl_buf sig = {NULL, 0, 0};
    rc = mw__sasl_b64_set(&c->b.mem, &sig, v.base, v.len);
    if (rc == MW_OK)
        rc = sig.len == 32 && mw__ct_memcmp(sig.p, c->server_sig, 32) == 0 ? MW_OK : MW_ERR_AUTH;
    mw__sasl_buf_free(&c->b.mem, &sig);
    if (rc == MW_OK) c->verified = 1;
    return rc;
}

static int step_scram(mw_sasl_client *c, const unsigned char *in, size_t len)
{
    if (c->stage == 0) return step_scram_first(c, in, len);
    if (c->stage == 1) {
        int rc = scram_check_final(c, in, len);
        return rc == MW_OK ? out_add(c, "", 0) : rc;
    }
    return MW_ERR_PROTOCOL;
}

static int dispatch(mw_sasl_client *c, const unsigned char *in, size_t len)
{
    switch (c->b.mech) {
    case MW_SASL_MECH_LOGIN: return step_login(c);
    case MW_SASL_MECH_CRAM_MD5: return c->stage == 0 ? step_cram(c, in, len) : MW_ERR_PROTOCOL;
    case MW_SASL_MECH_XOAUTH2:
    case MW_SASL_MECH_OAUTHBEARER: return step_oauth(c, in, len);
    case MW_SASL_MECH_SCRAM_SHA_256:
    case MW_SASL_MECH_SCRAM_SHA_256_PLUS: return step_scram(c, in, len);
    default: return MW_ERR_PROTOCOL; /* PLAIN, EXTERNAL, ANONYMOUS: one message only */
    }
}

MW_API int mw_sasl_client_step(mw_sasl_client *c, const void *in, size_t len, mw_slice *out)
{
    if (!c || !out || (!in && len)) return MW_ERR_INVALID;
    out->base = NULL;
    out->len = 0;
    int rc = mw__sasl_base_check(&c->b, MW__SASL_RUNNING);
    if (rc != MW_OK) return rc;
    if (len > c->b.opt.max_message) return mw__sasl_base_result(&c->b, MW_ERR_LIMIT);
    mw__sasl_buf_clear(&c->b.out);
    /* An empty first challenge after an initial response we produced means
     * the protocol could not carry it (no SASL-IR): send it now. */
    if (c->has_ir && !c->ir_resent && c->stage == 0 && len == 0) {
        c->ir_resent = 1;
        rc = mw__sasl_buf_set(&c->b.mem, &c->b.out, c->ir.p, c->ir.len);
        if (rc == MW_OK) rc = mw__sasl_base_emit(&c->b, out, MW_SASL_CONTINUE);
        return mw__sasl_base_result(&c->b, rc);
    }
    c->ir_resent = 1;
    rc = dispatch(c, in ? in : "", len);
    if (rc == MW_OK) {
        c->stage++;
        rc = mw__sasl_base_emit(&c->b, out, MW_SASL_CONTINUE);
    }
    return mw__sasl_base_result(&c->b, rc);
}

MW_API int mw_sasl_client_finish(mw_sasl_client *c, const void *in, size_t len)
{
    if (!c || (!in && len)) return MW_ERR_INVALID;
    int rc = mw__sasl_base_check(&c->b, MW__SASL_RUNNING);
    if (rc != MW_OK) return rc;
    if (len > c->b.opt.max_message) return mw__sasl_base_result(&c->b, MW_ERR_LIMIT);
    int scram = c->b.mech == MW_SASL_MECH_SCRAM_SHA_256 ||
                c->b.mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS;
    if (len) {
        /* Only SCRAM's server-final may ride on the success reply. */
        if (!scram || c->stage != 1) return mw__sasl_base_result(&c->b, MW_ERR_PROTOCOL);
        rc = scram_check_final(c, in, len);
        if (rc != MW_OK) return mw__sasl_base_result(&c->b, rc);
    }
    /* Success without mutual authentication is a server we cannot trust. */
    if ((scram && !c->verified) || c->oauth_failed)
        return mw__sasl_base_result(&c->b, MW_ERR_AUTH);
    c->b.state = MW__SASL_FINISHED;
    return MW_OK;
}
