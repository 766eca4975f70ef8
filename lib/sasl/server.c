/*
 * SASL server engine: parses client responses, pauses for the caller's
 * decision or credentials (MW_SASL_VERIFY), and checks secrets itself only
 * when the caller hands them over (always in constant time).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sasl/sasl_internal.h"

#include <string.h>

struct mw_sasl_server {
    mw__sasl_base b;
    int stage;        /* client messages parsed so far */
    int oauth_refused; /* error JSON sent, waiting for the dummy response */
    int final_sent;   /* SCRAM server-final sent as a challenge */
    int has_info;
    mw_sasl_server_info info;
    mw__sasl_buf msg;       /* copy of the client message the info points into */
    mw__sasl_buf user;      /* LOGIN: the user name from the first response */
    mw__sasl_buf challenge; /* CRAM-MD5 challenge */
    mw__sasl_buf oauth_error;
    unsigned char cram_digest[MW__MD5_LEN];
    /* SCRAM transcript and credentials */
    mw__sasl_buf gs2, first_bare, server_first, nonce, salt;
    uint32_t iterations;
    unsigned char stored_key[32], server_key[32];
};

#define SPROP(s, id) (&(s)->b.prop[(id)])

static int is_scram(int mech)
{
    return mech == MW_SASL_MECH_SCRAM_SHA_256 || mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS;
}

static int is_oauth(int mech)
{
    return mech == MW_SASL_MECH_XOAUTH2 || mech == MW_SASL_MECH_OAUTHBEARER;
}

MW_API int mw_sasl_server_new(mw_sasl_server **out, const mw_mem *mem, const char *mech,
                              const mw_sasl_options *opts)
{
    if (!out) return MW_ERR_INVALID;
    *out = NULL;
    if (!mech) return MW_ERR_INVALID;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_sasl_server *s = mw__calloc(&m, 1, sizeof *s);
    if (!s) return MW_ERR_NOMEM;
    int rc = mw__sasl_base_init(&s->b, mem, mech, opts);
    if (rc != MW_OK) {
        mw__free(&m, s);
        return rc;
    }
    *out = s;
    return MW_OK;
}

MW_API void mw_sasl_server_free(mw_sasl_server *s)
{
    if (!s) return;
    mw_mem m = s->b.mem;
    mw__sasl_buf *bufs[] = {&s->msg,   &s->user,       &s->challenge,    &s->oauth_error,
                            &s->gs2,   &s->first_bare, &s->server_first, &s->nonce,
                            &s->salt};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) mw__sasl_buf_free(&m, bufs[i]);
    mw__sasl_base_free(&s->b);
    mw__wipe(s, sizeof *s);
    mw__free(&m, s);
}

MW_API int mw_sasl_server_set(mw_sasl_server *s, int prop, const void *value, size_t len)
{
    if (!s) return MW_ERR_INVALID;
    if (prop != MW_SASL_PROP_HOST && prop != MW_SASL_PROP_NONCE && prop != MW_SASL_PROP_CB_TYPE &&
        prop != MW_SASL_PROP_CB_DATA)
        return MW_ERR_INVALID;
    return mw__sasl_base_set(&s->b, prop, value, len);
}

MW_API int mw_sasl_server_set_oauth_error(mw_sasl_server *s, const char *json, size_t len)
{
    if (!s || (!json && len)) return MW_ERR_INVALID;
    if (len > s->b.opt.max_message) return MW_ERR_LIMIT;
    return mw__sasl_buf_set(&s->b.mem, &s->oauth_error, json, len);
}

MW_API const mw_sasl_server_info *mw_sasl_server_info_get(const mw_sasl_server *s)
{
    return s && s->has_info ? &s->info : NULL;
}

/* ---- helpers -------------------------------------------------------- */

static int out_add(mw_sasl_server *s, const void *p, size_t n)
{
    return mw__sasl_buf_add(&s->b.mem, &s->b.out, p, n);
}

static mw_slice slice(const unsigned char *p, size_t n)
{
    mw_slice v = {(const char *)p, n};
    return v;
}

static void pause_for(mw_sasl_server *s, unsigned need)
{
    s->info.mech = s->b.mech;
    s->info.need = need;
    s->has_info = 1;
    s->b.state = MW__SASL_PAUSED;
}

static int text_ok(mw_slice v)
{
    return !mw__sasl_has_byte(v.base, v.len, 0) && mw__sasl_utf8_valid(v.base, v.len);
}

/* ---- PLAIN (RFC 4616 §2) --------------------------------------------- */

static int parse_plain(mw_sasl_server *s)
{
    const unsigned char *p = s->msg.p, *end = p + s->msg.len;
    const unsigned char *nul1 = s->msg.len ? memchr(p, 0, s->msg.len) : NULL;
    if (!nul1) return MW_ERR_SYNTAX;
    const unsigned char *nul2 = memchr(nul1 + 1, 0, (size_t)(end - nul1 - 1));
    if (!nul2 || memchr(nul2 + 1, 0, (size_t)(end - nul2 - 1))) return MW_ERR_SYNTAX;
    s->info.authzid = slice(p, (size_t)(nul1 - p));
    s->info.authcid = slice(nul1 + 1, (size_t)(nul2 - nul1 - 1));
    s->info.password = slice(nul2 + 1, (size_t)(end - nul2 - 1));
    /* authcid and passwd are 1*SAFE; identities must be UTF-8. The password
     * is not checked for UTF-8: real clients send legacy charsets. */
    if (!s->info.authcid.len || !s->info.password.len) return MW_ERR_SYNTAX;
    if (!text_ok(s->info.authzid) || !text_ok(s->info.authcid)) return MW_ERR_SYNTAX;
    pause_for(s, MW_SASL_NEED_VERDICT | MW_SASL_NEED_PASSWORD);
    return MW_SASL_VERIFY;
}

/* ---- LOGIN ----------------------------------------------------------- */

static int step_login(mw_sasl_server *s)
{
    if (mw__sasl_has_byte(s->msg.p, s->msg.len, 0)) return MW_ERR_SYNTAX;
    if (s->stage == 0) {
        if (!s->msg.len || !mw__sasl_utf8_valid(s->msg.p, s->msg.len)) return MW_ERR_SYNTAX;
        int rc = mw__sasl_buf_set(&s->b.mem, &s->user, s->msg.p, s->msg.len);
        if (rc == MW_OK) rc = mw__sasl_buf_adds(&s->b.mem, &s->b.out, "Password:");
        return rc == MW_OK ? MW_SASL_CONTINUE : rc;
    }
    s->info.authcid = mw__sasl_slice(&s->user);
    s->info.password = mw__sasl_slice(&s->msg);
    pause_for(s, MW_SASL_NEED_VERDICT | MW_SASL_NEED_PASSWORD);
    return MW_SASL_VERIFY;
}

/* ---- CRAM-MD5 (RFC 2195) -------------------------------------------- */

static int cram_challenge(mw_sasl_server *s)
{
    const mw__sasl_buf *fixed = SPROP(s, MW_SASL_PROP_NONCE), *host = SPROP(s, MW_SASL_PROP_HOST);
    int rc;
    if (fixed->p) {
        rc = mw__sasl_buf_set(&s->b.mem, &s->challenge, fixed->p, fixed->len);
    } else {
        /* A msg-id style challenge (RFC 2195 §2); no clock here, so the
         * uniqueness comes from the random part alone. */
        mw__sasl_buf nonce = {NULL, 0, 0};
        rc = mw__sasl_nonce(&s->b, &nonce);
        if (rc == MW_OK) rc = mw__sasl_buf_set(&s->b.mem, &s->challenge, "<", 1);
        if (rc == MW_OK) rc = mw__sasl_buf_add(&s->b.mem, &s->challenge, nonce.p, nonce.len);
        if (rc == MW_OK) rc = mw__sasl_buf_add(&s->b.mem, &s->challenge, "@", 1);
        if (rc == MW_OK)
            rc = host->p ? mw__sasl_buf_add(&s->b.mem, &s->challenge, host->p, host->len)
                         : mw__sasl_buf_adds(&s->b.mem, &s->challenge, "localhost");
        if (rc == MW_OK) rc = mw__sasl_buf_add(&s->b.mem, &s->challenge, ">", 1);
        mw__sasl_buf_free(&s->b.mem, &nonce);
    }
    if (rc == MW_OK) rc = out_add(s, s->challenge.p, s->challenge.len);
    return rc == MW_OK ? MW_SASL_CONTINUE : rc;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_cram(mw_sasl_server *s)
{
    /* user SP digest; the user name may itself hold spaces, the digest is
     * the last 32 characters. */
    size_t n = s->msg.len;
    if (n < 34 || s->msg.p[n - 33] != ' ') return MW_ERR_SYNTAX;
    const unsigned char *hex = s->msg.p + n - 32;
    for (int i = 0; i < MW__MD5_LEN; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return MW_ERR_SYNTAX;
        s->cram_digest[i] = (unsigned char)(hi * 16 + lo);
    }
    s->info.authcid = slice(s->msg.p, n - 33);
    s->info.digest = slice(hex, 32);
    s->info.challenge = mw__sasl_slice(&s->challenge);
    if (!text_ok(s->info.authcid)) return MW_ERR_SYNTAX;
    pause_for(s, MW_SASL_NEED_VERDICT | MW_SASL_NEED_PASSWORD);
    return MW_SASL_VERIFY;
}

/* ---- EXTERNAL and ANONYMOUS ----------------------------------------- */

static int parse_external(mw_sasl_server *s)
{
    s->info.authzid = mw__sasl_slice(&s->msg);
    if (!text_ok(s->info.authzid)) return MW_ERR_SYNTAX;
    pause_for(s, MW_SASL_NEED_VERDICT);
    return MW_SASL_VERIFY;
}

static int parse_anonymous(mw_sasl_server *s)
{
    /* RFC 4505 §3: trace of at most 255 UTF-8 characters. */
    s->info.trace = mw__sasl_slice(&s->msg);
    if (!text_ok(s->info.trace) || mw__sasl_utf8_count(s->msg.p, s->msg.len) > 255)
        return MW_ERR_SYNTAX;
    pause_for(s, MW_SASL_NEED_VERDICT);
    return MW_SASL_VERIFY;
}

/* ---- XOAUTH2 and OAUTHBEARER ---------------------------------------- */

/* The auth value is "Bearer <token>" (RFC 6750 §2.1; scheme is
 * case-insensitive). Other schemes leave token empty. */
static void take_auth(mw_sasl_server *s, mw_slice auth)
{
    s->info.auth = auth;
    s->info.token = slice(NULL, 0);
    if (auth.len > 7 && mw__sasl_ieq(auth.base, "Bearer ", 7))
        s->info.token = slice((const unsigned char *)auth.base + 7, auth.len - 7);
}

/* Parse key=value ^A pairs from p up to the final ^A that ends the message.
 * RFC 7628 §3.1: key = 1*ALPHA, value = *(VCHAR / SP / HTAB / CR / LF),
 * plus UTF-8 (see mw__sasl_oauth_value_ok). */
static int parse_kvpairs(mw_sasl_server *s, size_t pos, mw_slice *user)
{
    const unsigned char *p = s->msg.p;
    size_t n = s->msg.len;
    int have_auth = 0;
    for (;;) {
        if (pos >= n) return MW_ERR_SYNTAX;
        if (p[pos] == 1) { /* the closing kvsep */
            if (pos + 1 != n) return MW_ERR_SYNTAX;
            break;
        }
        size_t k = pos;
        while (k < n && ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z'))) k++;
        if (k == pos || k >= n || p[k] != '=') return MW_ERR_SYNTAX;
        size_t v = k + 1, e = v;
        while (e < n && p[e] != 1) e++;
        if (e >= n || !mw__sasl_oauth_value_ok(p + v, e - v)) return MW_ERR_SYNTAX;
        mw_slice key = slice(p + pos, k - pos), val = slice(p + v, e - v);
        if (key.len == 4 && memcmp(key.base, "auth", 4) == 0) {
            take_auth(s, val);
            have_auth = 1;
        } else if (key.len == 4 && memcmp(key.base, "host", 4) == 0) {
            s->info.host = val;
        } else if (key.len == 4 && memcmp(key.base, "port", 4) == 0) {
            s->info.port = val;
        } else if (user && key.len == 4 && memcmp(key.base, "user", 4) == 0) {
            *user = val;
        } /* unknown keys are ignored (RFC 7628 §3.1) */
        pos = e + 1;
    }
    return have_auth ? MW_OK : MW_ERR_SYNTAX;
}

static int parse_xoauth2(mw_sasl_server *s)
{
    mw_slice user = {NULL, 0};
    int rc = parse_kvpairs(s, 0, &user);
    if (rc != MW_OK) return rc;
    if (!user.base || !user.len || !text_ok(user)) return MW_ERR_SYNTAX;
    s->info.authcid = user;
    pause_for(s, MW_SASL_NEED_VERDICT);
    return MW_SASL_VERIFY;
}

/* gs2-header = gs2-cbind-flag "," [ "a=" saslname ] "," (RFC 5801 §4) */
static int parse_gs2(mw_sasl_server *s, size_t *pos, char *flag, mw_slice *cbname,
                     mw_slice *authzid)
{
    const char *p = (const char *)s->msg.p;
    size_t n = s->msg.len, i = 0;
    if (n < 3) return MW_ERR_SYNTAX;
    if (p[0] == 'n' || p[0] == 'y') {
        *flag = p[0];
        i = 1;
    } else if (p[0] == 'p' && p[1] == '=') {
        *flag = 'p';
        i = 2;
        while (i < n && p[i] != ',') i++;
        *cbname = slice((const unsigned char *)p + 2, i - 2);
    } else {
        return MW_ERR_SYNTAX;
    }
    if (i >= n || p[i] != ',') return MW_ERR_SYNTAX;
    i++;
    size_t a = i;
    while (i < n && p[i] != ',') i++;
    if (i >= n) return MW_ERR_SYNTAX;
    if (i > a) {
        if (i - a < 3 || p[a] != 'a' || p[a + 1] != '=') return MW_ERR_SYNTAX;
        *authzid = slice((const unsigned char *)p + a + 2, i - a - 2);
    }
    *pos = i + 1;
    return MW_OK;
}

/* Unescape a saslname that lives inside s->msg (in place). */
static int unescape_in_msg(mw_slice *v)
{
    if (!v->base) return MW_OK;
    size_t len = v->len;
    int rc = mw__scram_unescape((char *)(uintptr_t)v->base, &len);
    v->len = len;
    return rc;
}

static int parse_oauthbearer(mw_sasl_server *s)
{
    size_t pos;
    char flag;
    mw_slice cbname = {NULL, 0}, authzid = {NULL, 0};
    int rc = parse_gs2(s, &pos, &flag, &cbname, &authzid);
    if (rc != MW_OK) return rc;
    if (flag == 'p') return MW_ERR_UNSUPPORTED; /* no channel binding in RFC 7628 */
    if (pos >= s->msg.len || s->msg.p[pos] != 1) return MW_ERR_SYNTAX;
    rc = parse_kvpairs(s, pos + 1, NULL);
    if (rc == MW_OK) rc = unescape_in_msg(&authzid);
    if (rc != MW_OK) return rc;
    s->info.authzid = authzid;
    pause_for(s, MW_SASL_NEED_VERDICT);
    return MW_SASL_VERIFY;
}

static int oauth_refuse(mw_sasl_server *s)
{
    static const char dflt[] = "{\"status\":\"invalid_token\"}";
    s->oauth_refused = 1;
    s->b.state = MW__SASL_RUNNING;
    int rc = s->oauth_error.p ? out_add(s, s->oauth_error.p, s->oauth_error.len)
                              : out_add(s, dflt, sizeof dflt - 1);
    return rc == MW_OK ? MW_SASL_CONTINUE : rc;
}

/* ---- SCRAM (RFC 5802 §5, §7) ---------------------------------------- */

static int cb_type_matches(const mw_sasl_server *s, mw_slice name)
{
    const mw__sasl_buf *t = SPROP(s, MW_SASL_PROP_CB_TYPE);
    if (t->p) return name.len == t->len && memcmp(name.base, t->p, t->len) == 0;
    const char *dflt = "tls-exporter";
    return name.len == strlen(dflt) && memcmp(name.base, dflt, name.len) == 0;
}

static int scram_printable(mw_slice v)
{
    for (size_t i = 0; i < v.len; i++) {
        unsigned char ch = (unsigned char)v.base[i];
        if (ch < 0x21 || ch > 0x7e || ch == ',') return 0;
    }
    return v.len > 0;
}

static int parse_scram_first(mw_sasl_server *s)
{
    size_t pos;
    char flag;
    mw_slice cbname = {NULL, 0}, authzid = {NULL, 0};
    int rc = parse_gs2(s, &pos, &flag, &cbname, &authzid);
    if (rc != MW_OK) return rc;
    int plus = s->b.mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS;
    int server_binds = SPROP(s, MW_SASL_PROP_CB_DATA)->p != NULL;
    if (plus && flag != 'p') return MW_ERR_PROTOCOL;
    if (!plus && flag == 'p') return MW_ERR_PROTOCOL;
    /* "y" while this server offers -PLUS: someone removed it from the
     * mechanism list on the way (RFC 5802 §6). */
    if (flag == 'y' && server_binds) return MW_ERR_AUTH;
    if (flag == 'p' && !cb_type_matches(s, cbname)) return MW_ERR_UNSUPPORTED;

    /* Keep the header and the bare message verbatim for the proof. */
    rc = mw__sasl_buf_set(&s->b.mem, &s->gs2, s->msg.p, pos);
    if (rc == MW_OK) rc = mw__sasl_buf_set(&s->b.mem, &s->first_bare, s->msg.p + pos, s->msg.len - pos);
    if (rc != MW_OK) return rc;

    const char *msg = (const char *)s->msg.p;
    char name;
    mw_slice v, user = {NULL, 0}, nonce = {NULL, 0};
    for (int idx = 0; (rc = mw__scram_attr(msg, s->msg.len, &pos, &name, &v)) == 1; idx++) {
        if (idx == 0 && name == 'm') return MW_ERR_UNSUPPORTED;
        if (idx == 0 && name == 'n') user = v;
        else if (idx == 1 && name == 'r') nonce = v;
        else if (idx < 2) return MW_ERR_SYNTAX;
    }
    if (rc < 0) return rc;
    if (!nonce.base || !user.len || !scram_printable(nonce)) return MW_ERR_SYNTAX;
    rc = unescape_in_msg(&user);
    if (rc == MW_OK) rc = unescape_in_msg(&authzid);
    if (rc != MW_OK) return rc;
    if (!user.len) return MW_ERR_SYNTAX;
    rc = mw__sasl_buf_set(&s->b.mem, &s->nonce, nonce.base, nonce.len);
    /* The identities outlive this message (the info stays valid through
     * client-final and after DONE), so they move to their own buffer. */
    if (rc == MW_OK) rc = mw__sasl_buf_set(&s->b.mem, &s->user, user.base, user.len);
    if (rc == MW_OK) rc = mw__sasl_buf_add(&s->b.mem, &s->user, authzid.base, authzid.len);
    if (rc != MW_OK) return rc;
    s->info.authcid = slice(s->user.p, user.len);
    s->info.authzid = slice(s->user.p + user.len, authzid.len);
    pause_for(s, MW_SASL_NEED_PASSWORD | MW_SASL_NEED_SCRAM);
    return MW_SASL_VERIFY;
}

/* server-first-message = nonce "," salt "," iteration-count */
static int scram_server_first(mw_sasl_server *s)
{
    mw__sasl_buf snonce = {NULL, 0, 0};
    int rc = mw__sasl_nonce(&s->b, &snonce);
    if (rc == MW_OK) {
        mw_slice v = mw__sasl_slice(&snonce);
        if (!scram_printable(v)) rc = MW_ERR_SYNTAX;
    }
    if (rc == MW_OK) rc = mw__sasl_buf_add(&s->b.mem, &s->nonce, snonce.p, snonce.len);
    mw__sasl_buf_free(&s->b.mem, &snonce);
    char iter[10];
    size_t n = 0;
    for (uint32_t v = s->iterations; v; v /= 10) iter[sizeof iter - ++n] = (char)('0' + v % 10);
    mw__sasl_buf *sf = &s->server_first;
    mw__sasl_buf_clear(sf);
    if (rc == MW_OK) rc = mw__sasl_buf_adds(&s->b.mem, sf, "r=");
    if (rc == MW_OK) rc = mw__sasl_buf_add(&s->b.mem, sf, s->nonce.p, s->nonce.len);
    if (rc == MW_OK) rc = mw__sasl_buf_adds(&s->b.mem, sf, ",s=");
    if (rc == MW_OK) rc = mw__sasl_b64_add(&s->b.mem, sf, s->salt.p, s->salt.len);
    if (rc == MW_OK) rc = mw__sasl_buf_adds(&s->b.mem, sf, ",i=");
    if (rc == MW_OK) rc = mw__sasl_buf_add(&s->b.mem, sf, iter + sizeof iter - n, n);
    if (rc == MW_OK) rc = out_add(s, sf->p, sf->len);
    if (rc != MW_OK) return rc;
    s->b.state = MW__SASL_RUNNING;
    return MW_SASL_CONTINUE;
}

static void auth_message_mac(const mw_sasl_server *s, const unsigned char key[32],
                             const unsigned char *final_wo, size_t final_len,
                             unsigned char out[32])
{
    mw__hmac_sha256_ctx h;
    mw__hmac_sha256_init(&h, key, 32);
    mw__hmac_sha256_update(&h, s->first_bare.p, s->first_bare.len);
    mw__hmac_sha256_update(&h, ",", 1);
    mw__hmac_sha256_update(&h, s->server_first.p, s->server_first.len);
    mw__hmac_sha256_update(&h, ",", 1);
    mw__hmac_sha256_update(&h, final_wo, final_len);
    mw__hmac_sha256_final(&h, out);
}

/* c= must carry the GS2 header again, plus the channel-binding data for
 * -PLUS (RFC 5802 §5.1 "c"). */
static int scram_check_cbind(mw_sasl_server *s, mw_slice c)
{
    mw__sasl_buf got = {NULL, 0, 0}, want = {NULL, 0, 0};
    int rc = mw__sasl_b64_set(&s->b.mem, &got, c.base, c.len);
    if (rc == MW_OK) rc = mw__sasl_buf_add(&s->b.mem, &want, s->gs2.p, s->gs2.len);
    if (rc == MW_OK && s->b.mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS)
        rc = mw__sasl_buf_add(&s->b.mem, &want, SPROP(s, MW_SASL_PROP_CB_DATA)->p,
                              SPROP(s, MW_SASL_PROP_CB_DATA)->len);
    if (rc == MW_OK && (got.len != want.len || mw__ct_memcmp(got.p, want.p, got.len) != 0))
        rc = MW_ERR_AUTH;
    mw__sasl_buf_free(&s->b.mem, &got);
    mw__sasl_buf_free(&s->b.mem, &want);
    return rc;
}

/* client-final-message = channel-binding "," nonce ["," extensions] "," proof */
static int parse_scram_final(mw_sasl_server *s)
{
    const char *msg = (const char *)s->msg.p;
    size_t pos = 0, proof_at = 0;
    char name;
    mw_slice v, cb = {NULL, 0}, nonce = {NULL, 0}, proof = {NULL, 0};
    int rc;
    for (int idx = 0; (rc = mw__scram_attr(msg, s->msg.len, &pos, &name, &v)) == 1; idx++) {
        if (proof.base) return MW_ERR_SYNTAX; /* the proof must come last */
        if (idx == 0 && name == 'c') cb = v;
        else if (idx == 1 && name == 'r') nonce = v;
        else if (idx < 2) return MW_ERR_SYNTAX;
        else if (name == 'p') {
            proof = v;
            proof_at = (size_t)(v.base - msg) - 3; /* the "," before "p=" */
        }
    }
    if (rc < 0) return rc;
    if (!proof.base) return MW_ERR_SYNTAX;
    rc = scram_check_cbind(s, cb);
    if (rc != MW_OK) return rc;
    if (nonce.len != s->nonce.len || memcmp(nonce.base, s->nonce.p, nonce.len) != 0)
        return MW_ERR_AUTH;
    mw__sasl_buf p = {NULL, 0, 0};
    rc = mw__sasl_b64_set(&s->b.mem, &p, proof.base, proof.len);
    if (rc == MW_OK && p.len != 32) rc = MW_ERR_SYNTAX;
    unsigned char sig[32], client_key[32], stored[32];
    if (rc == MW_OK) {
        /* ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the
         * proof is good when H(ClientKey) is the StoredKey. */
        auth_message_mac(s, s->stored_key, s->msg.p, proof_at, sig);
        for (int i = 0; i < 32; i++) client_key[i] = (unsigned char)(p.p[i] ^ sig[i]);
        mw__sha256(client_key, 32, stored);
        if (mw__ct_memcmp(stored, s->stored_key, 32) != 0) rc = MW_ERR_AUTH;
    }
    mw__sasl_buf_free(&s->b.mem, &p);
    if (rc == MW_OK) {
        auth_message_mac(s, s->server_key, s->msg.p, proof_at, sig);
        rc = out_add(s, "v=", 2);
        if (rc == MW_OK) rc = mw__sasl_b64_add(&s->b.mem, &s->b.out, sig, 32);
    }
    mw__wipe(sig, 32);
    mw__wipe(client_key, 32);
    mw__wipe(stored, 32);
    if (rc != MW_OK) return rc;
    if (s->b.opt.flags & MW_SASL_OPT_SUCCESS_DATA) return MW_SASL_DONE;
    s->final_sent = 1;
    return MW_SASL_CONTINUE;
}

static int step_scram(mw_sasl_server *s)
{
    if (s->final_sent) return s->msg.len == 0 ? MW_SASL_DONE : MW_ERR_PROTOCOL;
    if (s->stage == 0) return parse_scram_first(s);
    return parse_scram_final(s);
}

/* ---- dispatch ------------------------------------------------------- */

static int first_challenge(mw_sasl_server *s)
{
    switch (s->b.mech) {
    case MW_SASL_MECH_LOGIN: /* the draft's prompt */
        return mw__sasl_buf_adds(&s->b.mem, &s->b.out, "Username:") == MW_OK ? MW_SASL_CONTINUE
                                                                             : MW_ERR_NOMEM;
    case MW_SASL_MECH_CRAM_MD5: return cram_challenge(s);
    default: return MW_SASL_CONTINUE; /* an empty challenge asks for the initial response */
    }
}

static int dispatch(mw_sasl_server *s)
{
    if (s->oauth_refused) return MW_ERR_AUTH; /* the dummy response ends it (RFC 7628 §3.2.3) */
    switch (s->b.mech) {
    case MW_SASL_MECH_PLAIN: return s->stage == 0 ? parse_plain(s) : MW_ERR_PROTOCOL;
    case MW_SASL_MECH_LOGIN: return s->stage < 2 ? step_login(s) : MW_ERR_PROTOCOL;
    case MW_SASL_MECH_CRAM_MD5: return s->stage == 0 ? parse_cram(s) : MW_ERR_PROTOCOL;
    case MW_SASL_MECH_EXTERNAL: return s->stage == 0 ? parse_external(s) : MW_ERR_PROTOCOL;
    case MW_SASL_MECH_ANONYMOUS: return s->stage == 0 ? parse_anonymous(s) : MW_ERR_PROTOCOL;
    case MW_SASL_MECH_XOAUTH2: return s->stage == 0 ? parse_xoauth2(s) : MW_ERR_PROTOCOL;
    case MW_SASL_MECH_OAUTHBEARER: return s->stage == 0 ? parse_oauthbearer(s) : MW_ERR_PROTOCOL;
    default: return step_scram(s);
    }
}

/* Map a status to the context's state and hand the output out. */
static int finish_call(mw_sasl_server *s, int rc, mw_slice *out)
{
    if (rc == MW_SASL_DONE) s->b.state = MW__SASL_FINISHED;
    if (rc > 0) {
        if (rc != MW_SASL_VERIFY) {
            int e = mw__sasl_base_emit(&s->b, out, rc);
            if (e < 0) return mw__sasl_base_result(&s->b, e);
        }
        return rc;
    }
    return mw__sasl_base_result(&s->b, rc);
}

static int take_message(mw_sasl_server *s, const void *in, size_t len)
{
    if (len > s->b.opt.max_message) return MW_ERR_LIMIT;
    /* The info points into the message buffer about to be replaced; only
     * SCRAM keeps its (separately stored) identities across messages. */
    if (!is_scram(s->b.mech)) {
        memset(&s->info, 0, sizeof s->info);
        s->has_info = 0;
    }
    int rc = mw__sasl_buf_set(&s->b.mem, &s->msg, in, len);
    if (rc == MW_OK && !s->msg.p) rc = mw__sasl_buf_grow(&s->b.mem, &s->msg, 1);
    return rc;
}

MW_API int mw_sasl_server_start(mw_sasl_server *s, const void *in, size_t len, mw_slice *out)
{
    if (!s || !out || (!in && len)) return MW_ERR_INVALID;
    out->base = NULL;
    out->len = 0;
    int rc = mw__sasl_base_check(&s->b, MW__SASL_NEW);
    if (rc != MW_OK) return rc;
    s->b.state = MW__SASL_RUNNING;
    mw__sasl_buf_clear(&s->b.out);
    if (s->b.mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS && !SPROP(s, MW_SASL_PROP_CB_DATA)->p)
        return finish_call(s, MW_ERR_UNSUPPORTED, out);
    if (!in) return finish_call(s, first_challenge(s), out);
    /* CRAM-MD5 has no initial response (RFC 2195 §2: the server speaks first). */
    if (s->b.mech == MW_SASL_MECH_CRAM_MD5) return finish_call(s, MW_ERR_PROTOCOL, out);
    rc = take_message(s, in, len);
    if (rc == MW_OK) {
        rc = dispatch(s);
        s->stage++;
    }
    return finish_call(s, rc, out);
}

MW_API int mw_sasl_server_step(mw_sasl_server *s, const void *in, size_t len, mw_slice *out)
{
    if (!s || !out || (!in && len)) return MW_ERR_INVALID;
    out->base = NULL;
    out->len = 0;
    int rc = mw__sasl_base_check(&s->b, MW__SASL_RUNNING);
    if (rc != MW_OK) return rc;
    mw__sasl_buf_clear(&s->b.out);
    rc = take_message(s, in ? in : "", len);
    if (rc == MW_OK) {
        rc = dispatch(s);
        s->stage++;
    }
    return finish_call(s, rc, out);
}

/* ---- resolving a pause ---------------------------------------------- */

static int check_paused(mw_sasl_server *s, mw_slice *out, unsigned need)
{
    if (!s || !out) return MW_ERR_INVALID;
    out->base = NULL;
    out->len = 0;
    int rc = mw__sasl_base_check(&s->b, MW__SASL_PAUSED);
    if (rc != MW_OK) return rc;
    if (need && !(s->info.need & need)) return MW_ERR_STATE;
    mw__sasl_buf_clear(&s->b.out);
    return MW_OK;
}

/* Leave the pause; SCRAM and a refused OAuth exchange continue. */
static int accepted(mw_sasl_server *s)
{
    s->b.state = MW__SASL_RUNNING;
    return MW_SASL_DONE;
}

MW_API int mw_sasl_server_verdict(mw_sasl_server *s, int ok, mw_slice *out)
{
    int rc = check_paused(s, out, ok ? MW_SASL_NEED_VERDICT : 0);
    if (rc != MW_OK) return rc;
    if (ok) return finish_call(s, accepted(s), out);
    if (is_oauth(s->b.mech)) return finish_call(s, oauth_refuse(s), out);
    return finish_call(s, MW_ERR_AUTH, out);
}

/* Compare two secrets of any lengths in constant time: equal-length
 * digests are compared instead of the secrets themselves. */
static int secrets_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    unsigned char da[32], db[32];
    mw__sha256(a, alen, da);
    mw__sha256(b, blen, db);
    int eq = mw__ct_memcmp(da, db, 32) == 0;
    mw__wipe(da, 32);
    mw__wipe(db, 32);
    return eq;
}

static int scram_install(mw_sasl_server *s, const mw_sasl_scram_creds *creds)
{
    int rc = mw__sasl_buf_set(&s->b.mem, &s->salt, creds->salt, creds->salt_len);
    if (rc != MW_OK) return rc;
    s->iterations = creds->iterations;
    memcpy(s->stored_key, creds->stored_key, 32);
    memcpy(s->server_key, creds->server_key, 32);
    return scram_server_first(s);
}

/* Without stored credentials, derive them now with a fresh salt. */
static int scram_use_password(mw_sasl_server *s, const void *pw, size_t len)
{
    unsigned char salt[16];
    int rc = mw__sasl_random(&s->b, salt, sizeof salt);
    mw_sasl_scram_creds creds;
    memset(&creds, 0, sizeof creds);
    creds.salt = salt;
    creds.salt_len = sizeof salt;
    creds.iterations = s->b.opt.min_iterations;
    if (rc == MW_OK) rc = mw_sasl_scram_derive(pw, len, &creds);
    if (rc == MW_OK) rc = scram_install(s, &creds);
    mw__wipe(&creds, sizeof creds);
    mw__wipe(salt, sizeof salt);
    return rc;
}

MW_API int mw_sasl_server_supply_password(mw_sasl_server *s, const void *password, size_t len,
                                          mw_slice *out)
{
    if (s && !password && len) return MW_ERR_INVALID;
    int rc = check_paused(s, out, MW_SASL_NEED_PASSWORD);
    if (rc != MW_OK) return rc;
    if (!password) password = "";
    if (is_scram(s->b.mech)) return finish_call(s, scram_use_password(s, password, len), out);
    int ok;
    if (s->b.mech == MW_SASL_MECH_CRAM_MD5) {
        unsigned char mac[MW__MD5_LEN];
        mw__hmac_md5(password, len, s->challenge.p, s->challenge.len, mac);
        ok = mw__ct_memcmp(mac, s->cram_digest, MW__MD5_LEN) == 0;
        mw__wipe(mac, sizeof mac);
    } else {
        ok = secrets_equal(password, len, s->info.password.base, s->info.password.len);
    }
    return finish_call(s, ok ? accepted(s) : MW_ERR_AUTH, out);
}

MW_API int mw_sasl_server_supply_scram(mw_sasl_server *s, const mw_sasl_scram_creds *creds,
                                       mw_slice *out)
{
    if (s && (!creds || !creds->salt || !creds->salt_len || !creds->iterations))
        return MW_ERR_INVALID;
    int rc = check_paused(s, out, MW_SASL_NEED_SCRAM);
    if (rc != MW_OK) return rc;
    return finish_call(s, scram_install(s, creds), out);
}
