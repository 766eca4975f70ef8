/*
 * SASL engine tests: every mechanism client <-> server through the public
 * API, the RFC example exchanges byte for byte (RFC 4616, RFC 2195,
 * RFC 7628, RFC 7677), malformed input for each server mechanism, hostile
 * challenges for the client, limits, secret wiping and allocation failures.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/sasl.h>

#include <stdlib.h>

/* ---- helpers --------------------------------------------------------- */

/* Deterministic "random" bytes so the exchanges are reproducible. */
static int fake_random(void *buf, size_t len, void *ud)
{
    uint64_t *state = ud;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)mw_test_rand(state);
    return 0;
}

static int failing_random(void *buf, size_t len, void *ud)
{
    (void)buf;
    (void)len;
    (void)ud;
    return -1;
}

static uint64_t rand_state = 42;

static mw_sasl_options *test_options(const mw_mem *mem)
{
    mw_sasl_options *o = mw_sasl_options_new(mem);
    if (o) mw_sasl_options_set_random(o, fake_random, &rand_state);
    return o;
}

/* Credentials of one test run. NULL fields are not set. */
typedef struct creds {
    const char *authzid, *authcid, *password, *token, *trace, *host, *port;
    const char *cb_data;        /* client channel-binding data */
    const char *server_cb_data; /* server channel-binding data */
    const char *server_password; /* what the server's user database holds */
    const char *server_token;    /* the token the server accepts */
    int no_ir;                   /* the protocol cannot carry an initial response */
    int use_scram_creds;         /* SCRAM server: supply stored keys, not the password */
    unsigned opt_flags;
} creds;

static int set_str(mw_sasl_client *c, int prop, const char *v)
{
    return v ? mw_sasl_client_set(c, prop, v, strlen(v)) : MW_OK;
}

static int client_setup(mw_sasl_client *c, const creds *cr)
{
    int rc = set_str(c, MW_SASL_PROP_AUTHZID, cr->authzid);
    if (rc == MW_OK) rc = set_str(c, MW_SASL_PROP_AUTHCID, cr->authcid);
    if (rc == MW_OK) rc = set_str(c, MW_SASL_PROP_PASSWORD, cr->password);
    if (rc == MW_OK) rc = set_str(c, MW_SASL_PROP_TOKEN, cr->token);
    if (rc == MW_OK) rc = set_str(c, MW_SASL_PROP_TRACE, cr->trace);
    if (rc == MW_OK) rc = set_str(c, MW_SASL_PROP_HOST, cr->host);
    if (rc == MW_OK) rc = set_str(c, MW_SASL_PROP_PORT, cr->port);
    if (rc == MW_OK) rc = set_str(c, MW_SASL_PROP_CB_DATA, cr->cb_data);
    return rc;
}

static int slice_is(mw_slice s, const char *want)
{
    return s.len == strlen(want) && (s.len == 0 || memcmp(s.base, want, s.len) == 0);
}

/* The server's answer to a pause: what a real application would do. */
static int server_decide(mw_sasl_server *s, const creds *cr, mw_slice *out)
{
    const mw_sasl_server_info *info = mw_sasl_server_info_get(s);
    if (!info) return MW_ERR_INVALID;
    const char *pw = cr->server_password ? cr->server_password : "";
    /* the server must report exactly the identities the client sent */
    int has_user = info->mech != MW_SASL_MECH_OAUTHBEARER && info->mech != MW_SASL_MECH_EXTERNAL &&
                   info->mech != MW_SASL_MECH_ANONYMOUS;
    if (has_user && cr->authcid && !slice_is(info->authcid, cr->authcid)) return MW_ERR_INVALID;
    if (info->mech != MW_SASL_MECH_XOAUTH2 && info->mech != MW_SASL_MECH_LOGIN &&
        info->mech != MW_SASL_MECH_CRAM_MD5 && info->mech != MW_SASL_MECH_ANONYMOUS &&
        !slice_is(info->authzid, cr->authzid ? cr->authzid : ""))
        return MW_ERR_INVALID;
    if (info->mech == MW_SASL_MECH_ANONYMOUS && !slice_is(info->trace, cr->trace ? cr->trace : ""))
        return MW_ERR_INVALID;
    if ((info->need & MW_SASL_NEED_SCRAM) && cr->use_scram_creds) {
        mw_sasl_scram_creds sc;
        memset(&sc, 0, sizeof sc);
        sc.salt = "pepper-salt";
        sc.salt_len = 11;
        sc.iterations = 4096;
        int rc = mw_sasl_scram_derive(pw, strlen(pw), &sc);
        if (rc != MW_OK) return rc;
        return mw_sasl_server_supply_scram(s, &sc, out);
    }
    if (info->need & MW_SASL_NEED_PASSWORD) return mw_sasl_server_supply_password(s, pw, strlen(pw), out);
    if (info->mech == MW_SASL_MECH_XOAUTH2 || info->mech == MW_SASL_MECH_OAUTHBEARER)
        return mw_sasl_server_verdict(s, cr->server_token && slice_is(info->token, cr->server_token), out);
    return mw_sasl_server_verdict(s, 1, out);
}

/* Run one whole exchange. Returns MW_OK when both sides agree on success,
 * otherwise the first error (server errors are what a protocol would see). */
static int run_exchange(const mw_mem *mem, const char *mech, const creds *cr)
{
    mw_sasl_options *o = test_options(mem);
    if (!o) return MW_ERR_NOMEM;
    mw_sasl_options_set_flags(o, cr->opt_flags);
    mw_sasl_client *c = NULL;
    mw_sasl_server *s = NULL;
    int rc = mw_sasl_client_new(&c, mem, mech, o);
    if (rc == MW_OK) rc = mw_sasl_server_new(&s, mem, mech, o);
    mw_sasl_options_free(o);
    if (rc == MW_OK) rc = client_setup(c, cr);
    if (rc == MW_OK && cr->server_cb_data)
        rc = mw_sasl_server_set(s, MW_SASL_PROP_CB_DATA, cr->server_cb_data, strlen(cr->server_cb_data));
    mw_slice cout, sout;
    if (rc == MW_OK) rc = mw_sasl_client_start(c, &cout);
    if (rc == MW_SASL_CONTINUE) rc = mw_sasl_server_start(s, cr->no_ir ? NULL : cout.base, cr->no_ir ? 0 : cout.len, &sout);
    for (int rounds = 0; rc > 0 && rounds < 10; rounds++) {
        if (rc == MW_SASL_VERIFY) {
            rc = server_decide(s, cr, &sout);
        } else if (rc == MW_SASL_CONTINUE) {
            rc = mw_sasl_client_step(c, sout.base, sout.len, &cout);
            if (rc == MW_SASL_CONTINUE) rc = mw_sasl_server_step(s, cout.base, cout.len, &sout);
        } else if (rc == MW_SASL_DONE) {
            rc = mw_sasl_client_finish(c, sout.len ? sout.base : NULL, sout.len);
            break;
        }
    }
    if (rc > 0) rc = MW_ERR_PROTOCOL; /* did not converge */
    mw_sasl_client_free(c);
    mw_sasl_server_free(s);
    return rc;
}

typedef struct loop_case {
    const char *mech;
    creds cr;
} loop_case;

static int run_case(const mw_mem *mem, void *arg)
{
    const loop_case *lc = arg;
    return run_exchange(mem, lc->mech, &lc->cr);
}

static const loop_case good_cases[] = {
    {"PLAIN", {.authcid = "tim", .password = "tanstaaftanstaaf", .server_password = "tanstaaftanstaaf"}},
    {"PLAIN", {.authzid = "Ursel", .authcid = "Kurt", .password = "xipj3plmq", .server_password = "xipj3plmq", .no_ir = 1}},
    {"LOGIN", {.authcid = "alice", .password = "s3cret", .server_password = "s3cret"}},
    {"CRAM-MD5", {.authcid = "tim", .password = "tanstaaftanstaaf", .server_password = "tanstaaftanstaaf"}},
    {"XOAUTH2", {.authcid = "someuser@example.com", .token = "ya29.tok", .server_token = "ya29.tok"}},
    {"OAUTHBEARER", {.authzid = "user@example.com", .token = "vF9dft4q", .host = "server.example.com", .port = "143", .server_token = "vF9dft4q"}},
    {"OAUTHBEARER", {.token = "vF9dft4q", .server_token = "vF9dft4q", .no_ir = 1}},
    {"SCRAM-SHA-256", {.authcid = "user", .password = "pencil", .server_password = "pencil"}},
    {"SCRAM-SHA-256", {.authcid = "us,er=x", .authzid = "a=b,c", .password = "pencil", .server_password = "pencil", .use_scram_creds = 1}},
    {"SCRAM-SHA-256", {.authcid = "user", .password = "pencil", .server_password = "pencil", .opt_flags = MW_SASL_OPT_SUCCESS_DATA, .no_ir = 1}},
    {"SCRAM-SHA-256-PLUS", {.authcid = "user", .password = "pencil", .server_password = "pencil", .cb_data = "EKM-bytes", .server_cb_data = "EKM-bytes"}},
    /* the client could bind but the server does not offer -PLUS: "y" is fine */
    {"SCRAM-SHA-256", {.authcid = "user", .password = "pencil", .server_password = "pencil", .cb_data = "EKM"}},
    {"EXTERNAL", {.authzid = ""}},
    {"EXTERNAL", {.authzid = "admin", .no_ir = 1}},
    {"ANONYMOUS", {.trace = "sirhc@example.com"}},
    {"ANONYMOUS", {.trace = ""}},
};

static void test_loops_succeed(void)
{
    for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
        int rc = run_exchange(NULL, good_cases[i].mech, &good_cases[i].cr);
        if (rc != MW_OK) mw_test_fail(__FILE__, __LINE__, "case %zu (%s): %d", i, good_cases[i].mech, rc);
    }
}

static void test_loops_wrong_secret(void)
{
    static const loop_case bad[] = {
        {"PLAIN", {.authcid = "tim", .password = "wrong", .server_password = "tanstaaftanstaaf"}},
        {"LOGIN", {.authcid = "alice", .password = "s3cret", .server_password = "s3cret!"}},
        {"CRAM-MD5", {.authcid = "tim", .password = "tanstaaf", .server_password = "tanstaaftanstaaf"}},
        {"XOAUTH2", {.authcid = "u@example.com", .token = "old", .server_token = "new"}},
        {"OAUTHBEARER", {.token = "old", .server_token = "new"}},
        {"SCRAM-SHA-256", {.authcid = "user", .password = "pencil", .server_password = "Pencil"}},
        {"SCRAM-SHA-256", {.authcid = "user", .password = "pencil", .server_password = "Pencil", .use_scram_creds = 1}},
        /* channel-binding data differs: someone is in the middle */
        {"SCRAM-SHA-256-PLUS", {.authcid = "user", .password = "pencil", .server_password = "pencil", .cb_data = "EKM-A", .server_cb_data = "EKM-B"}},
        /* the client could bind, the server offers -PLUS, yet "y" arrives: a downgrade */
        {"SCRAM-SHA-256", {.authcid = "user", .password = "pencil", .server_password = "pencil", .cb_data = "EKM", .server_cb_data = "EKM"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = run_exchange(NULL, bad[i].mech, &bad[i].cr);
        if (rc != MW_ERR_AUTH) mw_test_fail(__FILE__, __LINE__, "case %zu (%s): %d", i, bad[i].mech, rc);
    }
}

static void test_alloc_failures(void)
{
    for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++)
        mw_test_alloc_loop(good_cases[i].mech, run_case, (void *)(uintptr_t)&good_cases[i]);
}

/* Random identities and secrets, including the characters SCRAM must
 * escape and multi-byte UTF-8, survive every mechanism's round trip. */
static void random_text(uint64_t *st, char *out, size_t max, int allow_empty)
{
    static const char *const pieces[] = {"a", "Z", "0", ",", "=", " ", "=2C", "@", ".", "\xc3\xa9",
                                         "\xe2\x82\xac", "\xf0\x9f\x98\x80", "+", "/", "~"};
    size_t n = 0, want = (size_t)(mw_test_rand(st) % 12) + (allow_empty ? 0 : 1);
    for (size_t i = 0; i < want; i++) {
        const char *p = pieces[mw_test_rand(st) % (sizeof pieces / sizeof pieces[0])];
        size_t l = strlen(p);
        if (n + l >= max) break;
        memcpy(out + n, p, l);
        n += l;
    }
    if (n == 0 && !allow_empty) out[n++] = 'x';
    out[n] = 0;
}

static void test_random_roundtrips(void)
{
    static const char *const mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER"};
    uint64_t st = 2024;
    for (int round = 0; round < 60; round++) {
        char user[64], authz[64], pw[64], other[70];
        random_text(&st, user, sizeof user, 0);
        random_text(&st, authz, sizeof authz, 1);
        random_text(&st, pw, sizeof pw, 0);
        const char *mech = mechs[round % 6];
        int with_authz = (mech[0] == 'P' || mech[0] == 'S' || mech[0] == 'O') && (round & 8);
        creds cr = {.authcid = user, .authzid = with_authz ? authz : NULL, .password = pw,
                    .token = "tok", .server_password = pw, .server_token = "tok",
                    .no_ir = round & 1, .use_scram_creds = round & 2};
        int rc = run_exchange(NULL, mech, &cr);
        if (rc != MW_OK) mw_test_fail(__FILE__, __LINE__, "round %d (%s): %d", round, mech, rc);
        snprintf(other, sizeof other, "%s!", pw);
        cr.server_password = other;
        cr.server_token = "tok2";
        rc = run_exchange(NULL, mech, &cr);
        if (rc != MW_ERR_AUTH) mw_test_fail(__FILE__, __LINE__, "round %d (%s) wrong: %d", round, mech, rc);
    }
}

/* ---- names, choosing, formatting ------------------------------------ */

static void test_mech_names(void)
{
    CHECK_INT(mw_sasl_mech_from_name("scram-sha-256", 13), MW_SASL_MECH_SCRAM_SHA_256);
    CHECK_INT(mw_sasl_mech_from_name("SCRAM-SHA-256-PLUS", 18), MW_SASL_MECH_SCRAM_SHA_256_PLUS);
    CHECK_INT(mw_sasl_mech_from_name("PLAINX", 6), MW_ERR_UNSUPPORTED);
    CHECK_INT(mw_sasl_mech_from_name("", 0), MW_ERR_UNSUPPORTED);
    CHECK_INT(mw_sasl_mech_from_name(NULL, 3), MW_ERR_INVALID);
    CHECK(strcmp(mw_sasl_mech_name(MW_SASL_MECH_CRAM_MD5), "CRAM-MD5") == 0);
    CHECK(mw_sasl_mech_name(0) == NULL);
    CHECK(mw_sasl_mech_name(99) == NULL);
    mw_sasl_client *c = (mw_sasl_client *)1;
    CHECK_INT(mw_sasl_client_new(&c, NULL, "GSSAPI", NULL), MW_ERR_UNSUPPORTED);
    CHECK(c == NULL);
    mw_sasl_server *s = NULL;
    CHECK_INT(mw_sasl_server_new(&s, NULL, NULL, NULL), MW_ERR_INVALID);
}

static void test_choose(void)
{
    unsigned pw = MW_SASL_PASSWORD_MECHS, tok = MW_SASL_TOKEN_MECHS;
    const char *smtp = "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 XOAUTH2";
    CHECK_INT(mw_sasl_choose(smtp, strlen(smtp), pw, MW_SASL_TLS_ACTIVE), MW_SASL_MECH_SCRAM_SHA_256);
    CHECK_INT(mw_sasl_choose(smtp, strlen(smtp), tok, MW_SASL_TLS_ACTIVE), MW_SASL_MECH_XOAUTH2);
    /* no TLS: the plaintext mechanisms are off limits */
    const char *weak = "PLAIN LOGIN";
    CHECK_INT(mw_sasl_choose(weak, strlen(weak), pw, 0), MW_ERR_UNSUPPORTED);
    CHECK_INT(mw_sasl_choose(weak, strlen(weak), pw, MW_SASL_ALLOW_PLAINTEXT), MW_SASL_MECH_PLAIN);
    const char *cram = "PLAIN,CRAM-MD5";
    CHECK_INT(mw_sasl_choose(cram, strlen(cram), pw, 0), MW_SASL_MECH_CRAM_MD5);
    /* IMAP capability tokens */
    const char *imap = "IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256";
    unsigned plus = pw | MW_SASL_BIT(MW_SASL_MECH_SCRAM_SHA_256_PLUS);
    CHECK_INT(mw_sasl_choose(imap, strlen(imap), plus, MW_SASL_TLS_ACTIVE), MW_SASL_MECH_SCRAM_SHA_256_PLUS);
    CHECK_INT(mw_sasl_choose(imap, strlen(imap), plus, 0), MW_SASL_MECH_SCRAM_SHA_256);
    CHECK_INT(mw_sasl_choose(imap, strlen(imap), pw, MW_SASL_TLS_ACTIVE), MW_SASL_MECH_SCRAM_SHA_256);
    /* EXTERNAL and ANONYMOUS only on request */
    const char *ext = "EXTERNAL ANONYMOUS PLAIN";
    CHECK_INT(mw_sasl_choose(ext, strlen(ext), pw, MW_SASL_TLS_ACTIVE), MW_SASL_MECH_PLAIN);
    CHECK_INT(mw_sasl_choose(ext, strlen(ext), pw | MW_SASL_BIT(MW_SASL_MECH_EXTERNAL), MW_SASL_TLS_ACTIVE),
              MW_SASL_MECH_EXTERNAL);
    CHECK_INT(mw_sasl_choose(ext, strlen(ext), MW_SASL_BIT(MW_SASL_MECH_ANONYMOUS), 0), MW_SASL_MECH_ANONYMOUS);
    CHECK_INT(mw_sasl_choose("", 0, pw, 0), MW_ERR_UNSUPPORTED);
    CHECK_INT(mw_sasl_choose(NULL, 1, pw, 0), MW_ERR_INVALID);
}

static void test_mechs_format(void)
{
    char buf[128];
    unsigned all = MW_SASL_PASSWORD_MECHS | MW_SASL_TOKEN_MECHS;
    mw_ssize n = mw_sasl_mechs_format(all, MW_SASL_TLS_ACTIVE, buf, sizeof buf);
    CHECK_STR(buf, n > 0 ? (size_t)n : 0, "SCRAM-SHA-256 OAUTHBEARER XOAUTH2 CRAM-MD5 PLAIN LOGIN");
    n = mw_sasl_mechs_format(all, 0, buf, sizeof buf);
    CHECK_STR(buf, n > 0 ? (size_t)n : 0, "SCRAM-SHA-256 CRAM-MD5");
    CHECK_INT(mw_sasl_mechs_format(all, 0, buf, 10), MW_ERR_BUFFER);
    n = mw_sasl_mechs_format(0, 0, buf, 1);
    CHECK_INT(n, 0);
    CHECK_INT(buf[0], 0);
}

/* ---- RFC examples, byte for byte ------------------------------------ */

static void test_rfc4616_plain(void)
{
    mw_sasl_client *c;
    mw_slice out;
    CHECK_INT(mw_sasl_client_new(&c, NULL, "PLAIN", NULL), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_AUTHZID, "Ursel", 5), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_AUTHCID, "Kurt", 4), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, "xipj3plmq", 9), MW_OK);
    CHECK_INT(mw_sasl_client_start(c, &out), MW_SASL_CONTINUE);
    CHECK_MEM(out.base, out.len, "Ursel\0Kurt\0xipj3plmq", 20);
    /* properties are frozen once started */
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, "x", 1), MW_ERR_STATE);
    /* a second challenge is not part of PLAIN */
    CHECK_INT(mw_sasl_client_step(c, "x", 1, &out), MW_ERR_PROTOCOL);
    CHECK_INT(mw_sasl_client_step(c, "", 0, &out), MW_ERR_PROTOCOL); /* fatal: sticky */
    mw_sasl_client_free(c);

    mw_sasl_server *s;
    CHECK_INT(mw_sasl_server_new(&s, NULL, "plain", NULL), MW_OK);
    CHECK_INT(mw_sasl_server_start(s, "\0tim\0tanstaaftanstaaf", 21, &out), MW_SASL_VERIFY);
    const mw_sasl_server_info *info = mw_sasl_server_info_get(s);
    CHECK(info != NULL);
    if (info) {
        CHECK_INT(info->mech, MW_SASL_MECH_PLAIN);
        CHECK_INT(info->need, MW_SASL_NEED_VERDICT | MW_SASL_NEED_PASSWORD);
        CHECK_STR(info->authzid.base, info->authzid.len, "");
        CHECK_STR(info->authcid.base, info->authcid.len, "tim");
        CHECK_STR(info->password.base, info->password.len, "tanstaaftanstaaf");
    }
    /* paused: only a decision moves it on */
    CHECK_INT(mw_sasl_server_step(s, "", 0, &out), MW_ERR_STATE);
    CHECK_INT(mw_sasl_server_supply_scram(s, &(mw_sasl_scram_creds){"s", 1, 4096, {0}, {0}}, &out), MW_ERR_STATE);
    CHECK_INT(mw_sasl_server_verdict(s, 1, &out), MW_SASL_DONE);
    CHECK_INT(out.len, 0);
    CHECK_INT(mw_sasl_server_verdict(s, 1, &out), MW_ERR_STATE);
    mw_sasl_server_free(s);
}

static void test_rfc2195_cram_md5(void)
{
    static const char chal[] = "<1896.697170952@postoffice.reston.mci.net>";
    static const char resp[] = "tim b913a602c7eda7a495b4e6e7334d3890";
    mw_sasl_client *c;
    mw_slice out;
    CHECK_INT(mw_sasl_client_new(&c, NULL, "CRAM-MD5", NULL), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_AUTHCID, "tim", 3), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, "tanstaaftanstaaf", 16), MW_OK);
    CHECK_INT(mw_sasl_client_start(c, &out), MW_SASL_CONTINUE);
    CHECK(out.base == NULL); /* no initial response */
    CHECK_INT(mw_sasl_client_step(c, chal, strlen(chal), &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, resp);
    CHECK_INT(mw_sasl_client_finish(c, NULL, 0), MW_OK);
    mw_sasl_client_free(c);

    mw_sasl_server *s;
    CHECK_INT(mw_sasl_server_new(&s, NULL, "CRAM-MD5", NULL), MW_OK);
    CHECK_INT(mw_sasl_server_set(s, MW_SASL_PROP_NONCE, chal, strlen(chal)), MW_OK);
    CHECK_INT(mw_sasl_server_start(s, NULL, 0, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, chal);
    CHECK_INT(mw_sasl_server_step(s, resp, strlen(resp), &out), MW_SASL_VERIFY);
    const mw_sasl_server_info *info = mw_sasl_server_info_get(s);
    if (info) {
        CHECK_STR(info->authcid.base, info->authcid.len, "tim");
        CHECK_STR(info->digest.base, info->digest.len, "b913a602c7eda7a495b4e6e7334d3890");
        CHECK_STR(info->challenge.base, info->challenge.len, chal);
    }
    CHECK_INT(mw_sasl_server_supply_password(s, "tanstaaftanstaaf", 16, &out), MW_SASL_DONE);
    mw_sasl_server_free(s);

    /* the random challenge: msg-id shaped, host from the property */
    mw_sasl_options *o = test_options(NULL);
    CHECK_INT(mw_sasl_server_new(&s, NULL, "CRAM-MD5", o), MW_OK);
    CHECK_INT(mw_sasl_server_set(s, MW_SASL_PROP_HOST, "mx.example.org", 14), MW_OK);
    CHECK_INT(mw_sasl_server_start(s, NULL, 0, &out), MW_SASL_CONTINUE);
    CHECK(out.len == 1 + 24 + 1 + 14 + 1 && out.base[0] == '<' && out.base[out.len - 1] == '>');
    CHECK(out.len > 16 && memcmp(out.base + 25, "@mx.example.org>", 16) == 0);
    mw_sasl_server_free(s);
    /* no nonce source at all */
    mw_sasl_options_set_random(o, NULL, NULL);
    CHECK_INT(mw_sasl_server_new(&s, NULL, "CRAM-MD5", o), MW_OK);
    CHECK_INT(mw_sasl_server_start(s, NULL, 0, &out), MW_ERR_UNSUPPORTED);
    mw_sasl_server_free(s);
    mw_sasl_options_free(o);
}

static const char rfc7677_client_first[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
static const char rfc7677_server_first[] =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
static const char rfc7677_client_final[] =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
static const char rfc7677_server_final[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

static mw_sasl_client *rfc7677_client(void)
{
    mw_sasl_client *c = NULL;
    mw_slice out;
    CHECK_INT(mw_sasl_client_new(&c, NULL, "SCRAM-SHA-256", NULL), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_AUTHCID, "user", 4), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, "pencil", 6), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_NONCE, "rOprNGfwEbeRWgbNEkqO", 20), MW_OK);
    CHECK_INT(mw_sasl_client_start(c, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, rfc7677_client_first);
    return c;
}

static void test_rfc7677_client(void)
{
    mw_slice out;
    mw_sasl_client *c = rfc7677_client();
    CHECK_INT(mw_sasl_client_step(c, rfc7677_server_first, strlen(rfc7677_server_first), &out),
              MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, rfc7677_client_final);
    CHECK_INT(mw_sasl_client_step(c, rfc7677_server_final, strlen(rfc7677_server_final), &out),
              MW_SASL_CONTINUE);
    CHECK_INT(out.len, 0);
    CHECK_INT(mw_sasl_client_finish(c, NULL, 0), MW_OK);
    mw_sasl_client_free(c);

    /* server-final as additional data with success */
    c = rfc7677_client();
    mw_sasl_client_step(c, rfc7677_server_first, strlen(rfc7677_server_first), &out);
    CHECK_INT(mw_sasl_client_finish(c, rfc7677_server_final, strlen(rfc7677_server_final)), MW_OK);
    mw_sasl_client_free(c);

    /* success claimed without the server's proof */
    c = rfc7677_client();
    mw_sasl_client_step(c, rfc7677_server_first, strlen(rfc7677_server_first), &out);
    CHECK_INT(mw_sasl_client_finish(c, NULL, 0), MW_ERR_AUTH);
    mw_sasl_client_free(c);

    /* a forged server signature */
    c = rfc7677_client();
    mw_sasl_client_step(c, rfc7677_server_first, strlen(rfc7677_server_first), &out);
    const char *forged = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=";
    CHECK_INT(mw_sasl_client_step(c, forged, strlen(forged), &out), MW_ERR_SYNTAX);
    mw_sasl_client_free(c);
    c = rfc7677_client();
    mw_sasl_client_step(c, rfc7677_server_first, strlen(rfc7677_server_first), &out);
    forged = "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    CHECK_INT(mw_sasl_client_step(c, forged, strlen(forged), &out), MW_ERR_AUTH);
    CHECK_INT(mw_sasl_client_finish(c, NULL, 0), MW_ERR_STATE);
    mw_sasl_client_free(c);

    /* the server's error message */
    c = rfc7677_client();
    mw_sasl_client_step(c, rfc7677_server_first, strlen(rfc7677_server_first), &out);
    CHECK_INT(mw_sasl_client_step(c, "e=invalid-proof", 15, &out), MW_ERR_AUTH);
    const mw_sasl_client_error *e = mw_sasl_client_error_info(c);
    CHECK(e != NULL);
    if (e) CHECK_STR(e->server_error.base, e->server_error.len, "invalid-proof");
    mw_sasl_client_free(c);
}

static void rfc7677_creds(mw_sasl_scram_creds *sc, unsigned char salt[16])
{
    /* base64 "W22ZaJ0SNY7soEsUEjb6gQ==" */
    static const unsigned char raw[16] = {0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
                                          0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81};
    memcpy(salt, raw, 16);
    memset(sc, 0, sizeof *sc);
    sc->salt = salt;
    sc->salt_len = 16;
    sc->iterations = 4096;
    CHECK_INT(mw_sasl_scram_derive("pencil", 6, sc), MW_OK);
}

static void test_rfc7677_server(void)
{
    static const char snonce[] = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    for (int success_data = 0; success_data <= 1; success_data++) {
        mw_sasl_options *o = mw_sasl_options_new(NULL);
        mw_sasl_options_set_flags(o, success_data ? MW_SASL_OPT_SUCCESS_DATA : 0);
        mw_sasl_server *s;
        mw_slice out;
        CHECK_INT(mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256", o), MW_OK);
        mw_sasl_options_free(o);
        CHECK_INT(mw_sasl_server_set(s, MW_SASL_PROP_NONCE, snonce, strlen(snonce)), MW_OK);
        CHECK_INT(mw_sasl_server_start(s, rfc7677_client_first, strlen(rfc7677_client_first), &out),
                  MW_SASL_VERIFY);
        const mw_sasl_server_info *info = mw_sasl_server_info_get(s);
        if (info) {
            CHECK_STR(info->authcid.base, info->authcid.len, "user");
            CHECK_INT(info->authzid.len, 0);
            CHECK_INT(info->need, MW_SASL_NEED_PASSWORD | MW_SASL_NEED_SCRAM);
        }
        CHECK_INT(mw_sasl_server_verdict(s, 1, &out), MW_ERR_STATE); /* a secret is needed */
        mw_sasl_scram_creds sc;
        unsigned char salt[16];
        rfc7677_creds(&sc, salt);
        CHECK_INT(mw_sasl_server_supply_scram(s, &sc, &out), MW_SASL_CONTINUE);
        CHECK_STR(out.base, out.len, rfc7677_server_first);
        int rc = mw_sasl_server_step(s, rfc7677_client_final, strlen(rfc7677_client_final), &out);
        CHECK_INT(rc, success_data ? MW_SASL_DONE : MW_SASL_CONTINUE);
        CHECK_STR(out.base, out.len, rfc7677_server_final);
        if (!success_data) {
            CHECK_INT(mw_sasl_server_step(s, "", 0, &out), MW_SASL_DONE);
            CHECK_INT(out.len, 0);
        }
        /* who logged in stays readable after DONE */
        info = mw_sasl_server_info_get(s);
        CHECK(info != NULL);
        if (info) CHECK_STR(info->authcid.base, info->authcid.len, "user");
        mw_sasl_server_free(s);
    }
}

static void test_rfc7677_server_rejects(void)
{
    static const char snonce[] = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static const struct {
        const char *final;
        int rc;
    } v[] = {
        /* wrong proof (one character changed) */
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", MW_ERR_AUTH},
        /* the nonce does not match */
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", MW_ERR_AUTH},
        /* the channel binding does not repeat the GS2 header ("y,,") */
        {"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", MW_ERR_AUTH},
        /* no proof */
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", MW_ERR_SYNTAX},
        /* proof not last */
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1", MW_ERR_SYNTAX},
        /* proof of the wrong size */
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzb", MW_ERR_SYNTAX},
        /* not base64 */
        {"c=b!ws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", MW_ERR_SYNTAX},
        /* attributes out of order */
        {"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", MW_ERR_SYNTAX},
        {"", MW_ERR_SYNTAX},
        {"c=biws,", MW_ERR_SYNTAX},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        mw_sasl_server *s;
        mw_slice out;
        mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256", NULL);
        mw_sasl_server_set(s, MW_SASL_PROP_NONCE, snonce, strlen(snonce));
        mw_sasl_server_start(s, rfc7677_client_first, strlen(rfc7677_client_first), &out);
        mw_sasl_scram_creds sc;
        unsigned char salt[16];
        rfc7677_creds(&sc, salt);
        mw_sasl_server_supply_scram(s, &sc, &out);
        int rc = mw_sasl_server_step(s, v[i].final, strlen(v[i].final), &out);
        if (rc != v[i].rc) mw_test_fail(__FILE__, __LINE__, "case %zu: %d, expected %d", i, rc, v[i].rc);
        CHECK_INT(mw_sasl_server_step(s, "", 0, &out), MW_ERR_STATE);
        mw_sasl_server_free(s);
    }
}

static const char oauth_ir[] = "n,a=user@example.com,\001host=server.example.com\001port=143\001"
                               "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\001\001";
static const char oauth_err[] =
    "{\"status\":\"invalid_token\",\"scope\":\"example_scope\","
    "\"openid-configuration\":\"https://example.com/.well-known/openid-configuration\"}";

static void test_rfc7628_oauthbearer(void)
{
    mw_sasl_client *c;
    mw_slice out;
    CHECK_INT(mw_sasl_client_new(&c, NULL, "OAUTHBEARER", NULL), MW_OK);
    set_str(c, MW_SASL_PROP_AUTHZID, "user@example.com");
    set_str(c, MW_SASL_PROP_HOST, "server.example.com");
    set_str(c, MW_SASL_PROP_PORT, "143");
    set_str(c, MW_SASL_PROP_TOKEN, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
    CHECK_INT(mw_sasl_client_start(c, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, oauth_ir);
    CHECK(mw_sasl_client_error_info(c) == NULL);
    CHECK_INT(mw_sasl_client_step(c, oauth_err, strlen(oauth_err), &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, "\001");
    const mw_sasl_client_error *e = mw_sasl_client_error_info(c);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->status.base, e->status.len, "invalid_token");
        CHECK_STR(e->scope.base, e->scope.len, "example_scope");
        CHECK_STR(e->openid_configuration.base, e->openid_configuration.len,
                  "https://example.com/.well-known/openid-configuration");
    }
    CHECK_INT(mw_sasl_client_finish(c, NULL, 0), MW_ERR_AUTH);
    mw_sasl_client_free(c);

    mw_sasl_server *s;
    CHECK_INT(mw_sasl_server_new(&s, NULL, "OAUTHBEARER", NULL), MW_OK);
    CHECK_INT(mw_sasl_server_start(s, oauth_ir, strlen(oauth_ir), &out), MW_SASL_VERIFY);
    const mw_sasl_server_info *info = mw_sasl_server_info_get(s);
    if (info) {
        CHECK_STR(info->authzid.base, info->authzid.len, "user@example.com");
        CHECK_STR(info->host.base, info->host.len, "server.example.com");
        CHECK_STR(info->port.base, info->port.len, "143");
        CHECK_STR(info->token.base, info->token.len, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
        CHECK_STR(info->auth.base, info->auth.len, "Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
    }
    CHECK_INT(mw_sasl_server_set_oauth_error(s, oauth_err, strlen(oauth_err)), MW_OK);
    CHECK_INT(mw_sasl_server_verdict(s, 0, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, oauth_err);
    CHECK_INT(mw_sasl_server_step(s, "\001", 1, &out), MW_ERR_AUTH);
    mw_sasl_server_free(s);

    /* RFC 7628 §4.3: an empty auth value is still a well-formed response */
    static const char empty_auth[] = "n,a=user@example.com,\001host=server.example.com\001port=143\001auth=\001\001";
    CHECK_INT(mw_sasl_server_new(&s, NULL, "OAUTHBEARER", NULL), MW_OK);
    CHECK_INT(mw_sasl_server_start(s, empty_auth, strlen(empty_auth), &out), MW_SASL_VERIFY);
    info = mw_sasl_server_info_get(s);
    if (info) CHECK_INT(info->token.len, 0);
    CHECK_INT(mw_sasl_server_verdict(s, 0, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, "{\"status\":\"invalid_token\"}");
    mw_sasl_server_free(s);
}

static void test_xoauth2(void)
{
    static const char ir[] = "user=someuser@example.com\001auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001";
    static const char err[] = "{\"status\":\"invalid_token\",\"schemes\":\"bearer mac\",\"scope\":\"https://mail.example.com/\"}";
    mw_sasl_client *c;
    mw_slice out;
    CHECK_INT(mw_sasl_client_new(&c, NULL, "XOAUTH2", NULL), MW_OK);
    set_str(c, MW_SASL_PROP_AUTHCID, "someuser@example.com");
    set_str(c, MW_SASL_PROP_TOKEN, "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
    CHECK_INT(mw_sasl_client_start(c, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, ir);
    CHECK_INT(mw_sasl_client_step(c, err, strlen(err), &out), MW_SASL_CONTINUE);
    CHECK_INT(out.len, 0);
    CHECK(out.base != NULL);
    const mw_sasl_client_error *e = mw_sasl_client_error_info(c);
    if (e) {
        CHECK_STR(e->schemes.base, e->schemes.len, "bearer mac");
        CHECK_STR(e->scope.base, e->scope.len, "https://mail.example.com/");
    }
    CHECK_INT(mw_sasl_client_step(c, err, strlen(err), &out), MW_ERR_PROTOCOL);
    mw_sasl_client_free(c);

    mw_sasl_server *s;
    CHECK_INT(mw_sasl_server_new(&s, NULL, "XOAUTH2", NULL), MW_OK);
    CHECK_INT(mw_sasl_server_start(s, ir, strlen(ir), &out), MW_SASL_VERIFY);
    const mw_sasl_server_info *info = mw_sasl_server_info_get(s);
    if (info) {
        CHECK_STR(info->authcid.base, info->authcid.len, "someuser@example.com");
        CHECK_STR(info->token.base, info->token.len, "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
    }
    CHECK_INT(mw_sasl_server_verdict(s, 1, &out), MW_SASL_DONE);
    mw_sasl_server_free(s);
}

static void test_oauth_refusals(void)
{
    /* XOAUTH2: refused with a custom JSON; the empty dummy answer ends it */
    static const char ir[] = "user=u@example.com\001auth=Bearer t\001\001";
    static const char err[] = "{\"status\":\"401\",\"schemes\":\"Bearer\",\"scope\":\"https://mail.google.com/\"}";
    mw_sasl_server *s;
    mw_slice out;
    mw_sasl_server_new(&s, NULL, "XOAUTH2", NULL);
    CHECK_INT(mw_sasl_server_start(s, ir, strlen(ir), &out), MW_SASL_VERIFY);
    CHECK_INT(mw_sasl_server_set_oauth_error(s, err, strlen(err)), MW_OK);
    CHECK_INT(mw_sasl_server_verdict(s, 0, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, err);
    CHECK(mw_sasl_server_info_get(s) != NULL);
    CHECK_INT(mw_sasl_server_step(s, "", 0, &out), MW_ERR_AUTH);
    CHECK(mw_sasl_server_info_get(s) == NULL); /* the message it pointed into is gone */
    mw_sasl_server_free(s);
    /* the client parses it and answers with the empty dummy */
    mw_sasl_client *c;
    mw_sasl_client_new(&c, NULL, "XOAUTH2", NULL);
    set_str(c, MW_SASL_PROP_AUTHCID, "u@example.com");
    set_str(c, MW_SASL_PROP_TOKEN, "t");
    mw_sasl_client_start(c, &out);
    CHECK_INT(mw_sasl_client_step(c, err, strlen(err), &out), MW_SASL_CONTINUE);
    CHECK_INT(out.len, 0);
    const mw_sasl_client_error *e = mw_sasl_client_error_info(c);
    if (e) {
        CHECK_STR(e->status.base, e->status.len, "401");
        CHECK_STR(e->schemes.base, e->schemes.len, "Bearer");
    }
    CHECK_INT(mw_sasl_client_finish(c, NULL, 0), MW_ERR_AUTH);
    mw_sasl_client_free(c);
    /* an oversized error JSON is refused up front */
    mw_sasl_options *o = mw_sasl_options_new(NULL);
    mw_sasl_options_set_max_message(o, 256);
    mw_sasl_server_new(&s, NULL, "OAUTHBEARER", o);
    mw_sasl_options_free(o);
    char big[300];
    memset(big, ' ', sizeof big);
    CHECK_INT(mw_sasl_server_set_oauth_error(s, big, sizeof big), MW_ERR_LIMIT);
    CHECK_INT(mw_sasl_server_set_oauth_error(s, NULL, 1), MW_ERR_INVALID);
    mw_sasl_server_free(s);
}

static void test_channel_binding_types(void)
{
    mw_sasl_client *c;
    mw_sasl_server *s;
    mw_slice a, b;
    /* the client binds to tls-server-end-point, the server only knows its default */
    mw_sasl_client_new(&c, NULL, "SCRAM-SHA-256-PLUS", NULL);
    set_str(c, MW_SASL_PROP_AUTHCID, "u");
    set_str(c, MW_SASL_PROP_PASSWORD, "p");
    set_str(c, MW_SASL_PROP_NONCE, "N");
    set_str(c, MW_SASL_PROP_CB_DATA, "cert-hash");
    set_str(c, MW_SASL_PROP_CB_TYPE, "tls-server-end-point");
    CHECK_INT(mw_sasl_client_start(c, &a), MW_SASL_CONTINUE);
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256-PLUS", NULL);
    mw_sasl_server_set(s, MW_SASL_PROP_CB_DATA, "cert-hash", 9);
    CHECK_INT(mw_sasl_server_start(s, a.base, a.len, &b), MW_ERR_UNSUPPORTED);
    mw_sasl_server_free(s);
    /* with the same type configured it goes through, and c= carries the data */
    mw_sasl_options *o = test_options(NULL);
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256-PLUS", o);
    mw_sasl_options_free(o);
    mw_sasl_server_set(s, MW_SASL_PROP_CB_DATA, "cert-hash", 9);
    mw_sasl_server_set(s, MW_SASL_PROP_CB_TYPE, "tls-server-end-point", 20);
    CHECK_INT(mw_sasl_server_start(s, a.base, a.len, &b), MW_SASL_VERIFY);
    CHECK_INT(mw_sasl_server_supply_password(s, "p", 1, &b), MW_SASL_CONTINUE);
    CHECK_INT(mw_sasl_client_step(c, b.base, b.len, &a), MW_SASL_CONTINUE);
    /* base64("p=tls-server-end-point,," "cert-hash") */
    CHECK(a.len > 50 && memcmp(a.base, "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsY2VydC1oYXNo,", 47) == 0);
    CHECK_INT(mw_sasl_server_step(s, a.base, a.len, &b), MW_SASL_CONTINUE);
    CHECK_INT(mw_sasl_client_step(c, b.base, b.len, &a), MW_SASL_CONTINUE);
    CHECK_INT(mw_sasl_server_step(s, a.base, a.len, &b), MW_SASL_DONE);
    CHECK_INT(mw_sasl_client_finish(c, NULL, 0), MW_OK);
    mw_sasl_server_free(s);
    mw_sasl_client_free(c);
    /* a -PLUS client without data, and a bad type name */
    mw_sasl_client_new(&c, NULL, "SCRAM-SHA-256-PLUS", NULL);
    set_str(c, MW_SASL_PROP_AUTHCID, "u");
    set_str(c, MW_SASL_PROP_PASSWORD, "p");
    set_str(c, MW_SASL_PROP_NONCE, "N");
    set_str(c, MW_SASL_PROP_CB_TYPE, "tls exporter");
    CHECK_INT(mw_sasl_client_start(c, &a), MW_ERR_AUTH);
    mw_sasl_client_free(c);
    mw_sasl_client_new(&c, NULL, "SCRAM-SHA-256-PLUS", NULL);
    set_str(c, MW_SASL_PROP_AUTHCID, "u");
    set_str(c, MW_SASL_PROP_PASSWORD, "p");
    set_str(c, MW_SASL_PROP_NONCE, "N");
    set_str(c, MW_SASL_PROP_CB_DATA, "x");
    set_str(c, MW_SASL_PROP_CB_TYPE, "tls exporter");
    CHECK_INT(mw_sasl_client_start(c, &a), MW_ERR_SYNTAX);
    mw_sasl_client_free(c);
}

static void test_json_escapes(void)
{
    static const char err[] = " { \"status\" : \"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\" , \"x\":[1,{\"y\":null}],"
                              " \"n\": -1.5e3, \"t\": true, \"scope\":\"s\\/t\" } ";
    mw_sasl_client *c;
    mw_slice out;
    mw_sasl_client_new(&c, NULL, "OAUTHBEARER", NULL);
    set_str(c, MW_SASL_PROP_TOKEN, "t");
    mw_sasl_client_start(c, &out);
    CHECK_INT(mw_sasl_client_step(c, err, strlen(err), &out), MW_SASL_CONTINUE);
    const mw_sasl_client_error *e = mw_sasl_client_error_info(c);
    if (e) {
        CHECK_STR(e->status.base, e->status.len, "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80");
        CHECK_STR(e->scope.base, e->scope.len, "s/t");
    }
    mw_sasl_client_free(c);

    static const char *const bad[] = {
        "", "{", "[]", "{\"status\":\"x\"", "{\"status\" \"x\"}", "{\"status\":\"\\ud800\"}",
        "{\"status\":\"\\udc00x\"}", "{\"a\":\"\\q\"}", "{\"a\":tru}", "{\"a\":1,}", "{} x",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
        "{\"a\":\"\x01\"}", "{\"a\":]}", "{\"a\":\"\xff\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mw_sasl_client_new(&c, NULL, "XOAUTH2", NULL);
        set_str(c, MW_SASL_PROP_AUTHCID, "u");
        set_str(c, MW_SASL_PROP_TOKEN, "t");
        mw_sasl_client_start(c, &out);
        int rc = mw_sasl_client_step(c, bad[i], strlen(bad[i]), &out);
        /* an empty challenge re-sends the initial response instead */
        int want = i == 0 ? MW_SASL_CONTINUE : MW_ERR_SYNTAX;
        if (rc != want) mw_test_fail(__FILE__, __LINE__, "json %zu: %d", i, rc);
        mw_sasl_client_free(c);
    }
}

/* ---- malformed client messages, per server mechanism ----------------- */

typedef struct bad_msg {
    const char *mech;
    const char *msg;
    size_t len; /* 0: strlen */
    int rc;
} bad_msg;

#define B(m, s, r) {m, s, sizeof(s) - 1, r}

static const bad_msg bad_initial[] = {
    B("PLAIN", "tim", MW_ERR_SYNTAX),
    B("PLAIN", "\0tim", MW_ERR_SYNTAX),
    B("PLAIN", "\0tim\0", MW_ERR_SYNTAX),            /* empty password */
    B("PLAIN", "\0\0pw", MW_ERR_SYNTAX),             /* empty authcid */
    B("PLAIN", "\0tim\0pw\0", MW_ERR_SYNTAX),        /* a third NUL */
    B("PLAIN", "\0t\xc3(m\0pw", MW_ERR_SYNTAX),      /* bad UTF-8 */
    B("PLAIN", "\xed\xa0\x80\0tim\0pw", MW_ERR_SYNTAX), /* surrogate in authzid */
    B("PLAIN", "", MW_ERR_SYNTAX),
    B("LOGIN", "", MW_ERR_SYNTAX),
    B("LOGIN", "a\0b", MW_ERR_SYNTAX),
    B("CRAM-MD5", "tim b913a602c7eda7a495b4e6e7334d3890", MW_ERR_PROTOCOL), /* no IR allowed */
    B("EXTERNAL", "ad\0min", MW_ERR_SYNTAX),
    B("EXTERNAL", "\xc0\xaf", MW_ERR_SYNTAX), /* overlong */
    B("ANONYMOUS", "\xf5\x80\x80\x80", MW_ERR_SYNTAX),
    B("XOAUTH2", "user=a\001auth=Bearer t\001", MW_ERR_SYNTAX), /* one ^A short */
    B("XOAUTH2", "auth=Bearer t\001\001", MW_ERR_SYNTAX),       /* no user */
    B("XOAUTH2", "user=a\001\001", MW_ERR_SYNTAX),              /* no auth */
    B("XOAUTH2", "user=a\001auth=Bearer t\001\001x", MW_ERR_SYNTAX),
    B("XOAUTH2", "user=a\001=x\001auth=Bearer t\001\001", MW_ERR_SYNTAX),
    B("XOAUTH2", "user=a\001auth=Bearer \x7f\001\001", MW_ERR_SYNTAX),
    B("OAUTHBEARER", "\001", MW_ERR_SYNTAX),
    B("OAUTHBEARER", "n,,auth=Bearer t\001\001", MW_ERR_SYNTAX), /* kvsep missing */
    B("OAUTHBEARER", "x,,\001auth=Bearer t\001\001", MW_ERR_SYNTAX),
    B("OAUTHBEARER", "p=tls-unique,,\001auth=Bearer t\001\001", MW_ERR_UNSUPPORTED),
    B("OAUTHBEARER", "n,b=x,\001auth=Bearer t\001\001", MW_ERR_SYNTAX),
    B("OAUTHBEARER", "n,a=x=2,\001auth=Bearer t\001\001", MW_ERR_SYNTAX), /* bad escape */
    B("OAUTHBEARER", "n,,\001host=h\001\001", MW_ERR_SYNTAX),            /* no auth */
    B("OAUTHBEARER", "n,,\001auth=Bearer t\001", MW_ERR_SYNTAX),
    B("OAUTHBEARER", "n,,\001k1=v\001auth=Bearer t\001\001", MW_ERR_SYNTAX), /* key not ALPHA */
    B("SCRAM-SHA-256", "n,,n=user", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,,r=abc,n=user", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,,n=,r=abc", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,,n=us=2Xr,r=abc", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,,n=user,r=a b", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,,n=user,r=", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,,n=user,r=abc,", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,,m=ext,n=user,r=abc", MW_ERR_UNSUPPORTED),
    B("SCRAM-SHA-256", "p=tls-exporter,,n=user,r=abc", MW_ERR_PROTOCOL),
    B("SCRAM-SHA-256", "q,,n=user,r=abc", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,x=y,n=user,r=abc", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,,", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n", MW_ERR_SYNTAX),
    B("SCRAM-SHA-256", "n,,n=u\0er,r=abc", MW_ERR_SYNTAX),
};

static void test_server_malformed(void)
{
    for (size_t i = 0; i < sizeof bad_initial / sizeof bad_initial[0]; i++) {
        const bad_msg *b = &bad_initial[i];
        mw_sasl_server *s;
        mw_slice out;
        CHECK_INT(mw_sasl_server_new(&s, NULL, b->mech, NULL), MW_OK);
        int rc = mw_sasl_server_start(s, b->msg, b->len, &out);
        if (rc != b->rc)
            mw_test_fail(__FILE__, __LINE__, "case %zu (%s): %d (%s), expected %d", i, b->mech, rc,
                         mw_strerror(rc), b->rc);
        /* the context is finished after an error; fatal ones repeat */
        CHECK_INT(mw_sasl_server_step(s, "x", 1, &out), mw_is_fatal(rc) ? rc : MW_ERR_STATE);
        mw_sasl_server_free(s);
    }
}

static void test_server_multi_step_malformed(void)
{
    mw_sasl_server *s;
    mw_slice out;
    /* CRAM-MD5 responses */
    static const char *const cram_bad[] = {
        "tim", "tim b913a602c7eda7a495b4e6e7334d389", "tim b913a602c7eda7a495b4e6e7334d389g",
        " b913a602c7eda7a495b4e6e7334d3890x", "timb913a602c7eda7a495b4e6e7334d3890",
        "b913a602c7eda7a495b4e6e7334d3890",
    };
    for (size_t i = 0; i < sizeof cram_bad / sizeof cram_bad[0]; i++) {
        mw_sasl_server_new(&s, NULL, "CRAM-MD5", NULL);
        mw_sasl_server_set(s, MW_SASL_PROP_NONCE, "<1.2@h>", 7);
        CHECK_INT(mw_sasl_server_start(s, NULL, 0, &out), MW_SASL_CONTINUE);
        int rc = mw_sasl_server_step(s, cram_bad[i], strlen(cram_bad[i]), &out);
        if (rc != MW_ERR_SYNTAX) mw_test_fail(__FILE__, __LINE__, "cram %zu: %d", i, rc);
        mw_sasl_server_free(s);
    }
    /* uppercase hex is accepted, and the user name may hold spaces */
    mw_sasl_server_new(&s, NULL, "CRAM-MD5", NULL);
    mw_sasl_server_set(s, MW_SASL_PROP_NONCE, "<1896.697170952@postoffice.reston.mci.net>", 42);
    mw_sasl_server_start(s, NULL, 0, &out);
    CHECK_INT(mw_sasl_server_step(s, "t m B913A602C7EDA7A495B4E6E7334D3890", 36, &out), MW_SASL_VERIFY);
    const mw_sasl_server_info *info = mw_sasl_server_info_get(s);
    if (info) CHECK_STR(info->authcid.base, info->authcid.len, "t m");
    /* the digest covers only the challenge, so it verifies under any name */
    CHECK_INT(mw_sasl_server_supply_password(s, "tanstaaftanstaaf", 16, &out), MW_SASL_DONE);
    mw_sasl_server_free(s);

    /* LOGIN: prompts, then the pause */
    mw_sasl_server_new(&s, NULL, "LOGIN", NULL);
    CHECK_INT(mw_sasl_server_start(s, NULL, 0, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, "Username:");
    CHECK_INT(mw_sasl_server_step(s, "bob", 3, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, "Password:");
    CHECK_INT(mw_sasl_server_step(s, "pw\0x", 4, &out), MW_ERR_SYNTAX);
    mw_sasl_server_free(s);
    mw_sasl_server_new(&s, NULL, "LOGIN", NULL);
    CHECK_INT(mw_sasl_server_start(s, "bob", 3, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, "Password:");
    CHECK_INT(mw_sasl_server_step(s, "hunter2", 7, &out), MW_SASL_VERIFY);
    info = mw_sasl_server_info_get(s);
    if (info) {
        CHECK_STR(info->authcid.base, info->authcid.len, "bob");
        CHECK_STR(info->password.base, info->password.len, "hunter2");
    }
    CHECK_INT(mw_sasl_server_verdict(s, 0, &out), MW_ERR_AUTH);
    mw_sasl_server_free(s);

    /* PLAIN: a second message */
    mw_sasl_server_new(&s, NULL, "PLAIN", NULL);
    CHECK_INT(mw_sasl_server_start(s, NULL, 0, &out), MW_SASL_CONTINUE);
    CHECK_INT(out.len, 0);
    CHECK(out.base != NULL);
    CHECK_INT(mw_sasl_server_step(s, "\0a\0b", 4, &out), MW_SASL_VERIFY);
    CHECK_INT(mw_sasl_server_supply_password(s, "c", 1, &out), MW_ERR_AUTH);
    mw_sasl_server_free(s);

    /* SCRAM: a non-empty answer to server-final */
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256", NULL);
    mw_sasl_server_set(s, MW_SASL_PROP_NONCE, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", 30);
    mw_sasl_server_start(s, rfc7677_client_first, strlen(rfc7677_client_first), &out);
    mw_sasl_scram_creds sc;
    unsigned char salt[16];
    rfc7677_creds(&sc, salt);
    mw_sasl_server_supply_scram(s, &sc, &out);
    CHECK_INT(mw_sasl_server_step(s, rfc7677_client_final, strlen(rfc7677_client_final), &out), MW_SASL_CONTINUE);
    CHECK_INT(mw_sasl_server_step(s, "x", 1, &out), MW_ERR_PROTOCOL);
    mw_sasl_server_free(s);

    /* SCRAM-PLUS without channel-binding data on the server */
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256-PLUS", NULL);
    CHECK_INT(mw_sasl_server_start(s, NULL, 0, &out), MW_ERR_UNSUPPORTED);
    mw_sasl_server_free(s);
    /* ... and with a type the server does not have */
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256-PLUS", NULL);
    mw_sasl_server_set(s, MW_SASL_PROP_CB_DATA, "x", 1);
    const char *cf = "p=tls-unique,,n=user,r=abc";
    CHECK_INT(mw_sasl_server_start(s, cf, strlen(cf), &out), MW_ERR_UNSUPPORTED);
    mw_sasl_server_free(s);
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256-PLUS", NULL);
    mw_sasl_server_set(s, MW_SASL_PROP_CB_DATA, "x", 1);
    cf = "n,,n=user,r=abc";
    CHECK_INT(mw_sasl_server_start(s, cf, strlen(cf), &out), MW_ERR_PROTOCOL);
    mw_sasl_server_free(s);

    /* saslnames are unescaped for the caller */
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256", NULL);
    cf = "n,a==3D=2C,n=a=2Cb=3Dc,r=N";
    CHECK_INT(mw_sasl_server_start(s, cf, strlen(cf), &out), MW_SASL_VERIFY);
    info = mw_sasl_server_info_get(s);
    if (info) {
        CHECK_STR(info->authzid.base, info->authzid.len, "=,");
        CHECK_STR(info->authcid.base, info->authcid.len, "a,b=c");
    }
    mw_sasl_server_free(s);

    /* a client-only property on a server */
    mw_sasl_server_new(&s, NULL, "PLAIN", NULL);
    CHECK_INT(mw_sasl_server_set(s, MW_SASL_PROP_PASSWORD, "x", 1), MW_ERR_INVALID);
    mw_sasl_server_free(s);
}

/* ---- hostile challenges for the SCRAM client ------------------------- */

static void test_scram_client_hostile(void)
{
    static const struct {
        const char *first;
        int rc;
    } v[] = {
        {"r=XXXXNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", MW_ERR_AUTH}, /* not our nonce */
        {"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", MW_ERR_AUTH},     /* not extended */
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095", MW_ERR_AUTH},    /* too few rounds */
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4000000000", MW_ERR_AUTH},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999", MW_ERR_SYNTAX},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=04096", MW_ERR_SYNTAX},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=", MW_ERR_SYNTAX},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==", MW_ERR_SYNTAX},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=,i=4096", MW_ERR_SYNTAX},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ,i=4096", MW_ERR_SYNTAX},
        {"s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOx,i=4096", MW_ERR_SYNTAX},
        {"m=x,r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", MW_ERR_UNSUPPORTED},
        {"e=unknown-user", MW_ERR_AUTH},
        {"r=rOprNGfwEbeRWgbNEkqO\x01,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", MW_ERR_SYNTAX},
        {",", MW_ERR_SYNTAX},
        {"r", MW_ERR_SYNTAX},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        mw_slice out;
        mw_sasl_client *c = rfc7677_client();
        int rc = mw_sasl_client_step(c, v[i].first, strlen(v[i].first), &out);
        if (rc != v[i].rc) mw_test_fail(__FILE__, __LINE__, "case %zu: %d, expected %d", i, rc, v[i].rc);
        mw_sasl_client_free(c);
    }
    /* an iteration window set by the caller */
    mw_sasl_options *o = mw_sasl_options_new(NULL);
    CHECK_INT(mw_sasl_options_set_iterations(o, 10000, 20000), MW_OK);
    CHECK_INT(mw_sasl_options_set_iterations(o, 0, 1), MW_ERR_INVALID);
    CHECK_INT(mw_sasl_options_set_iterations(o, 5, 4), MW_ERR_INVALID);
    mw_sasl_client *c;
    mw_slice out;
    mw_sasl_client_new(&c, NULL, "SCRAM-SHA-256", o);
    mw_sasl_options_free(o);
    set_str(c, MW_SASL_PROP_AUTHCID, "user");
    set_str(c, MW_SASL_PROP_PASSWORD, "pencil");
    set_str(c, MW_SASL_PROP_NONCE, "rOprNGfwEbeRWgbNEkqO");
    mw_sasl_client_start(c, &out);
    CHECK_INT(mw_sasl_client_step(c, rfc7677_server_first, strlen(rfc7677_server_first), &out), MW_ERR_AUTH);
    mw_sasl_client_free(c);
}

/* A client for mech with props set (up to the first without a value) and
 * started: the result, and the first message when out is given. */
typedef struct start_case {
    const char *mech;
    struct {
        int prop;
        const char *value;
    } props[6];
    int rc;
    const char *out;
} start_case;

static void check_client_start(const start_case *t)
{
    mw_sasl_client *c;
    mw_slice out;
    CHECK_INT(mw_sasl_client_new(&c, NULL, t->mech, NULL), MW_OK);
    for (size_t i = 0; i < 6 && t->props[i].value; i++)
        CHECK_INT(set_str(c, t->props[i].prop, t->props[i].value), MW_OK);
    CHECK_INT(mw_sasl_client_start(c, &out), t->rc);
    if (t->out) CHECK_STR(out.base, out.len, t->out);
    mw_sasl_client_free(c);
}

static void test_client_credentials(void)
{
    mw_sasl_client *c;
    mw_slice out;
    /* missing credentials */
    static const char *const mechs[] = {"PLAIN", "XOAUTH2", "OAUTHBEARER", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"};
    for (size_t i = 0; i < sizeof mechs / sizeof mechs[0]; i++) {
        mw_sasl_client_new(&c, NULL, mechs[i], NULL);
        set_str(c, MW_SASL_PROP_NONCE, "abc");
        if (i != 2) set_str(c, MW_SASL_PROP_AUTHCID, "u");
        CHECK_INT(mw_sasl_client_start(c, &out), MW_ERR_AUTH);
        mw_sasl_client_free(c);
    }
    /* NUL is refused at set time, except for channel-binding data */
    mw_sasl_client_new(&c, NULL, "PLAIN", NULL);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, "a\0b", 3), MW_ERR_SYNTAX);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_CB_DATA, "a\0b", 3), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, 0, "a", 1), MW_ERR_INVALID);
    CHECK_INT(mw_sasl_client_set(c, 11, "a", 1), MW_ERR_INVALID);
    mw_sasl_client_free(c);
    /* values the mechanisms cannot carry, and what SCRAM's first message
     * makes of the names */
    static const start_case cases[] = {
        {"XOAUTH2", /* ^A cannot be carried in an OAuth value */
         {{MW_SASL_PROP_AUTHCID, "u\001x"}, {MW_SASL_PROP_TOKEN, "t"}},
         MW_ERR_SYNTAX,
         NULL},
        {"OAUTHBEARER",
         {{MW_SASL_PROP_PORT, "14x"}, {MW_SASL_PROP_TOKEN, "t"}},
         MW_ERR_SYNTAX,
         NULL},
        {"SCRAM-SHA-256", /* a nonce with a comma */
         {{MW_SASL_PROP_AUTHCID, "u"}, {MW_SASL_PROP_PASSWORD, "p"}, {MW_SASL_PROP_NONCE, "a,b"}},
         MW_ERR_SYNTAX,
         NULL},
        {"SCRAM-SHA-256", /* saslname escaping and the "y" flag */
         {{MW_SASL_PROP_AUTHCID, "a,b=c"},
          {MW_SASL_PROP_AUTHZID, "=,"},
          {MW_SASL_PROP_PASSWORD, "p"},
          {MW_SASL_PROP_NONCE, "N"},
          {MW_SASL_PROP_CB_DATA, "cb"}},
         MW_SASL_CONTINUE,
         "y,a==3D=2C,n=a=2Cb=3Dc,r=N"},
        {"SCRAM-SHA-256-PLUS", /* -PLUS names the binding type */
         {{MW_SASL_PROP_AUTHCID, "u"},
          {MW_SASL_PROP_PASSWORD, "p"},
          {MW_SASL_PROP_NONCE, "N"},
          {MW_SASL_PROP_CB_DATA, "cb"},
          {MW_SASL_PROP_CB_TYPE, "tls-server-end-point"}},
         MW_SASL_CONTINUE,
         "p=tls-server-end-point,,n=u,r=N"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_client_start(&cases[i]);
    /* SCRAM with no nonce source (the client keeps its own copy of o) */
    mw_sasl_options *o = mw_sasl_options_new(NULL);
    mw_sasl_options_set_random(o, failing_random, NULL);
    mw_sasl_client_new(&c, NULL, "SCRAM-SHA-256", o);
    mw_sasl_options_free(o);
    set_str(c, MW_SASL_PROP_AUTHCID, "u");
    set_str(c, MW_SASL_PROP_PASSWORD, "p");
    CHECK_INT(mw_sasl_client_start(c, &out), MW_ERR_UNSUPPORTED);
    mw_sasl_client_free(c);
    /* a 256-character trace is too long for ANONYMOUS */
    static char trace[257];
    memset(trace, 'x', 256);
    start_case anonymous = {"ANONYMOUS", {{MW_SASL_PROP_TRACE, trace}}, MW_ERR_SYNTAX, NULL};
    check_client_start(&anonymous);
    /* LOGIN: answers by order; a third challenge is wrong */
    mw_sasl_client_new(&c, NULL, "LOGIN", NULL);
    set_str(c, MW_SASL_PROP_AUTHCID, "bob");
    set_str(c, MW_SASL_PROP_PASSWORD, "pw");
    CHECK_INT(mw_sasl_client_start(c, &out), MW_SASL_CONTINUE);
    CHECK(out.base == NULL);
    CHECK_INT(mw_sasl_client_step(c, "User Name", 9, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, "bob");
    CHECK_INT(mw_sasl_client_step(c, "Password:", 9, &out), MW_SASL_CONTINUE);
    CHECK_STR(out.base, out.len, "pw");
    CHECK_INT(mw_sasl_client_step(c, "Again:", 6, &out), MW_ERR_PROTOCOL);
    mw_sasl_client_free(c);
    /* the initial response again on an empty challenge, once */
    mw_sasl_client_new(&c, NULL, "EXTERNAL", NULL);
    CHECK_INT(mw_sasl_client_start(c, &out), MW_SASL_CONTINUE);
    CHECK(out.base != NULL && out.len == 0);
    CHECK_INT(mw_sasl_client_step(c, "", 0, &out), MW_SASL_CONTINUE);
    CHECK_INT(mw_sasl_client_step(c, "", 0, &out), MW_ERR_PROTOCOL);
    mw_sasl_client_free(c);
    /* start twice */
    mw_sasl_client_new(&c, NULL, "EXTERNAL", NULL);
    mw_sasl_client_start(c, &out);
    CHECK_INT(mw_sasl_client_start(c, &out), MW_ERR_STATE);
    CHECK_INT(mw_sasl_client_finish(c, "x", 1), MW_ERR_PROTOCOL);
    mw_sasl_client_free(c);
}

/* ---- limits ---------------------------------------------------------- */

static void test_limits(void)
{
    mw_sasl_options *o = mw_sasl_options_new(NULL);
    CHECK_INT(mw_sasl_options_set_max_message(o, 255), MW_ERR_INVALID);
    CHECK_INT(mw_sasl_options_set_max_message(o, 300), MW_OK);
    CHECK_INT(mw_sasl_options_set_flags(o, 0x80), MW_ERR_INVALID);
    char big[301];
    memset(big, 'a', sizeof big);
    mw_sasl_server *s;
    mw_slice out;
    mw_sasl_server_new(&s, NULL, "EXTERNAL", o);
    CHECK_INT(mw_sasl_server_start(s, big, 301, &out), MW_ERR_LIMIT);
    CHECK_INT(mw_sasl_server_step(s, "", 0, &out), MW_ERR_LIMIT); /* sticky */
    mw_sasl_server_free(s);
    mw_sasl_server_new(&s, NULL, "EXTERNAL", o);
    CHECK_INT(mw_sasl_server_start(s, big, 300, &out), MW_SASL_VERIFY);
    mw_sasl_server_free(s);
    mw_sasl_client *c;
    mw_sasl_client_new(&c, NULL, "CRAM-MD5", o);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, big, 301), MW_ERR_LIMIT);
    set_str(c, MW_SASL_PROP_AUTHCID, "u");
    set_str(c, MW_SASL_PROP_PASSWORD, "p");
    mw_sasl_client_start(c, &out);
    CHECK_INT(mw_sasl_client_step(c, big, 301, &out), MW_ERR_LIMIT);
    CHECK_INT(mw_sasl_client_step(c, "x", 1, &out), MW_ERR_LIMIT);
    mw_sasl_client_free(c);
    /* an output over the cap is refused too */
    mw_sasl_client_new(&c, NULL, "PLAIN", o);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_AUTHCID, big, 200), MW_OK);
    CHECK_INT(mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, big, 200), MW_OK);
    CHECK_INT(mw_sasl_client_start(c, &out), MW_ERR_LIMIT);
    mw_sasl_client_free(c);
    mw_sasl_options_free(o);
}

/* ---- secrets are wiped before memory goes back ---------------------- */

typedef struct wipe_check {
    mw_mem mem;
    int leaks;
} wipe_check;

static const char secret[] = "Sup3r-Secr3t-Passw0rd";

static void *wc_malloc(size_t n, void *ud)
{
    (void)ud;
    size_t *p = malloc(sizeof(size_t) * 2 + n);
    if (!p) return NULL;
    p[0] = n;
    return p + 2;
}

static void wc_free(void *ptr, void *ud)
{
    wipe_check *w = ud;
    if (!ptr) return;
    size_t *p = (size_t *)ptr - 2;
    const unsigned char *b = ptr;
    for (size_t i = 0; i + 8 <= p[0]; i++)
        if (memcmp(b + i, secret, 8) == 0) w->leaks++;
    free(p);
}

static void *wc_calloc(size_t n, size_t m, void *ud)
{
    void *p = wc_malloc(n * m, ud);
    if (p) memset(p, 0, n * m);
    return p;
}

static void test_secrets_wiped(void)
{
    wipe_check w = {{NULL, wc_malloc, wc_free, wc_calloc, NULL}, 0};
    w.mem.user_data = &w;
    static const char *const mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "XOAUTH2"};
    for (size_t i = 0; i < sizeof mechs / sizeof mechs[0]; i++) {
        creds cr = {.authcid = "user", .password = secret, .token = secret, .server_password = secret,
                    .server_token = secret};
        CHECK_INT(run_exchange(&w.mem, mechs[i], &cr), MW_OK);
        cr.server_password = "other";
        cr.server_token = "other";
        CHECK_INT(run_exchange(&w.mem, mechs[i], &cr), MW_ERR_AUTH);
    }
    CHECK_INT(w.leaks, 0);
}

/* ---- the SCRAM server with a plaintext password and no random source -- */

static void test_scram_server_password(void)
{
    mw_sasl_server *s;
    mw_slice out;
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256", NULL); /* no random callback */
    mw_sasl_server_set(s, MW_SASL_PROP_NONCE, "S", 1);
    CHECK_INT(mw_sasl_server_start(s, rfc7677_client_first, strlen(rfc7677_client_first), &out), MW_SASL_VERIFY);
    CHECK_INT(mw_sasl_server_supply_password(s, "pencil", 6, &out), MW_ERR_UNSUPPORTED);
    mw_sasl_server_free(s);
    /* refusing an unknown user */
    mw_sasl_server_new(&s, NULL, "SCRAM-SHA-256", NULL);
    CHECK_INT(mw_sasl_server_start(s, rfc7677_client_first, strlen(rfc7677_client_first), &out), MW_SASL_VERIFY);
    CHECK_INT(mw_sasl_server_verdict(s, 0, &out), MW_ERR_AUTH);
    mw_sasl_server_free(s);
    CHECK_INT(mw_sasl_scram_derive("p", 1, &(mw_sasl_scram_creds){NULL, 0, 4096, {0}, {0}}), MW_ERR_INVALID);
}

int main(void)
{
    MW_RUN(test_mech_names);
    MW_RUN(test_choose);
    MW_RUN(test_mechs_format);
    MW_RUN(test_rfc4616_plain);
    MW_RUN(test_rfc2195_cram_md5);
    MW_RUN(test_rfc7677_client);
    MW_RUN(test_rfc7677_server);
    MW_RUN(test_rfc7677_server_rejects);
    MW_RUN(test_rfc7628_oauthbearer);
    MW_RUN(test_xoauth2);
    MW_RUN(test_oauth_refusals);
    MW_RUN(test_channel_binding_types);
    MW_RUN(test_json_escapes);
    MW_RUN(test_server_malformed);
    MW_RUN(test_server_multi_step_malformed);
    MW_RUN(test_scram_client_hostile);
    MW_RUN(test_client_credentials);
    MW_RUN(test_limits);
    MW_RUN(test_loops_succeed);
    MW_RUN(test_loops_wrong_secret);
    MW_RUN(test_random_roundtrips);
    MW_RUN(test_secrets_wiped);
    MW_RUN(test_scram_server_password);
    MW_RUN(test_alloc_failures);
    return mw_test_finish();
}
