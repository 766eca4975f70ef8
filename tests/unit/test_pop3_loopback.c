/*
 * POP3 client talking to the POP3 server engine in memory: STLS (both
 * sides hand off and resume), AUTH with SCRAM-SHA-256 and PLAIN through the
 * SASL engines, USER/PASS, APOP, LIST/UIDL/STAT, RETR/TOP of random
 * messages full of dot lines (byte-exact round trip through stuffing and
 * unstuffing), DELE and the commit at QUIT, LANG listing and selection
 * (RFC 6856 §3) in both states. Transfers are cut at random
 * sizes; allocation-failure loops run a whole session on each side.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include "pop3/pop3_internal.h"

#include <stdlib.h>

#define NMSG 6

typedef struct mailbox {
    char *msg[NMSG];
    size_t len[NMSG];
    int deleted[NMSG];
    int committed;
} mailbox;

typedef struct peer_srv {
    mw_pop3_server *s;
    mw_sasl_server *sasl;
    const mw_mem *mem;
    mailbox *box;
    int err;
} peer_srv;

static int fixed_random(void *buf, size_t len, void *ud)
{
    uint64_t *st = ud;
    for (size_t i = 0; i < len; i++) ((unsigned char *)buf)[i] = (unsigned char)mw_test_rand(st);
    return 0;
}

static int sasl_result(peer_srv *p, int rc, mw_slice out)
{
    for (;;) {
        if (rc == MW_SASL_CONTINUE) return mw_pop3_server_auth_challenge(p->s, out.base, out.len);
        if (rc == MW_SASL_DONE) return mw_pop3_server_accept(p->s);
        if (rc == MW_SASL_VERIFY) {
            const mw_sasl_server_info *in = mw_sasl_server_info_get(p->sasl);
            if (!mw__ieq(in->authcid.base, in->authcid.len, "tim")) {
                rc = mw_sasl_server_verdict(p->sasl, 0, &out);
                continue;
            }
            rc = mw_sasl_server_supply_password(p->sasl, "tanstaaf", 8, &out);
            continue;
        }
        if (rc == MW_ERR_NOMEM) return rc;
        return mw_pop3_server_reply(p->s, 0, "AUTH", NULL);
    }
}

/* The server application: answer every paused event. */
static int serve_event(peer_srv *p, const mw_pop3_event *ev)
{
    mw_slice out = {NULL, 0};
    int rc;
    switch (ev->type) {
    case MW_POP3_EV_PASS:
    case MW_POP3_EV_APOP:
        if (mw__ieq(ev->user.base, ev->user.len, "tim") && mw_pop3_server_check_secret(p->s, "tanstaaf", 8) == 1)
            return mw_pop3_server_accept(p->s);
        return mw_pop3_server_reply(p->s, 0, "AUTH", NULL);
    case MW_POP3_EV_AUTH: {
        char mech[32];
        snprintf(mech, sizeof mech, "%.*s", (int)ev->arg.len, ev->arg.base);
        mw_sasl_server_free(p->sasl);
        p->sasl = NULL;
        mw_sasl_options *so = mw_sasl_options_new(p->mem);
        if (!so) return MW_ERR_NOMEM;
        static uint64_t seed = 99;
        mw_sasl_options_set_random(so, fixed_random, &seed);
        rc = mw_sasl_server_new(&p->sasl, p->mem, mech, so);
        mw_sasl_options_free(so);
        if (rc) return rc == MW_ERR_NOMEM ? rc : mw_pop3_server_reply(p->s, 0, NULL, NULL);
        rc = mw_sasl_server_start(p->sasl, (ev->flags & MW_POP3_F_INITIAL) ? (ev->data.base ? ev->data.base : "") : NULL,
                                  ev->data.len, &out);
        return sasl_result(p, rc, out);
    }
    case MW_POP3_EV_AUTH_RESPONSE:
        rc = mw_sasl_server_step(p->sasl, ev->data.base ? ev->data.base : "", ev->data.len, &out);
        return sasl_result(p, rc, out);
    case MW_POP3_EV_MAILDROP:
        for (int i = 0; i < NMSG; i++) {
            char uid[32];
            snprintf(uid, sizeof uid, "uid-%d", i + 1);
            rc = mw_pop3_server_maildrop_add(p->s, p->box->len[i], uid, strlen(uid));
            if (rc) return rc;
        }
        return mw_pop3_server_accept(p->s);
    case MW_POP3_EV_RETR:
    case MW_POP3_EV_TOP:
        return mw_pop3_server_accept(p->s); /* the body is streamed by the transfer loop */
    case MW_POP3_EV_LANG:
        /* the application's matching: a prefix of a listed tag */
        if (ev->arg.len >= 2 && mw__ieq(ev->arg.base, 2, "es")) return mw_pop3_server_lang_select(p->s, "es", "Idioma cambiado");
        return mw_pop3_server_accept(p->s);
    case MW_POP3_EV_COMMIT: {
        uint32_t m = 0;
        while ((m = mw_pop3_server_next_deleted(p->s, m)) != 0) p->box->deleted[m - 1] = 1;
        p->box->committed = 1;
        return mw_pop3_server_accept(p->s);
    }
    default: return MW_OK;
    }
}

typedef struct session {
    const mw_mem *mem;
    uint64_t rng;
    mailbox box;
    int tls_policy;
    int use; /* 0 AUTH SCRAM, 1 AUTH PLAIN, 2 USER/PASS, 3 APOP */
    /* results on the client side */
    char *got[NMSG];
    size_t got_len[NMSG];
    char *top0; size_t top0_len;
    int replies_ok, replies_err, lists, uidls, ready, tls_done;
    int langs;              /* LANG listing lines: "en English|es Español|" */
    char lang_lines[128];
    char lang_replies[128]; /* texts of the LANG selection replies, '|'-ended */
    int client_err;
} session;

static void add_bytes(char **p, size_t *len, const char *d, size_t n)
{
    char *np = realloc(*p, *len + n + 1);
    if (!np) abort();
    memcpy(np + *len, d, n);
    *p = np;
    *len += n;
}

/* Move up to n bytes from one engine's output into the other's input. */
static int pass_bytes(session *ss, const unsigned char *p, size_t len, int to_client, mw_pop3_client *c,
                      mw_pop3_server *s, size_t *moved)
{
    size_t n = 1 + (size_t)(mw_test_rand(&ss->rng) % 700);
    if (n > len) n = len;
    mw_ssize t = to_client ? mw_pop3_client_feed(c, p, n) : mw_pop3_server_feed(s, p, n);
    if (t < 0) return (int)t;
    *moved = (size_t)t;
    return MW_OK;
}

static int run_session(const mw_mem *mem, void *arg)
{
    session *ss = arg;
    const int rand_seed = 7;
    ss->rng = (uint64_t)rand_seed;
    mw_pop3_server_opts *so = mw_pop3_server_opts_new(mem);
    mw_pop3_client_opts *co = mw_pop3_client_opts_new(mem);
    mw_sasl_options *sas = mw_sasl_options_new(mem);
    mw_pop3_server *s = NULL;
    mw_pop3_client *c = NULL;
    peer_srv p = {NULL, NULL, mem, &ss->box, 0};
    int rc = MW_ERR_NOMEM;
    uint64_t seed = 1234;
    if (!so || !co || !sas) goto out;
    mw_pop3_server_opts_set_auth_mechanisms(so, "SCRAM-SHA-256 PLAIN");
    mw_pop3_server_opts_set_capabilities(so, MW_POP3_CAPA_APOP, 1);
    mw_pop3_server_opts_set_apop_timestamp(so, "<1896.697170952@dbc.mtview.ca.us>");
    mw_pop3_client_opts_set_tls(co, ss->tls_policy);
    mw_pop3_server_opts_set_capabilities(so, MW_POP3_CAPA_LANG, 1);
    if ((rc = mw_pop3_server_opts_add_language(so, "en", "English")) ||
        (rc = mw_pop3_server_opts_add_language(so, "es", "Espa\xc3\xb1ol")))
        goto out;
    mw_sasl_options_set_random(sas, fixed_random, &seed);
    if ((rc = mw_pop3_server_new(mem, so, &s)) != MW_OK) goto out;
    if ((rc = mw_pop3_client_new(mem, co, sas, &c)) != MW_OK) goto out;
    p.s = s;
    mw_ssize q = 0;
    unsigned both = MW_SASL_BIT(MW_SASL_MECH_SCRAM_SHA_256) | MW_SASL_BIT(MW_SASL_MECH_PLAIN);
    q = mw_pop3_client_lang(c, "*"); /* AUTHORIZATION */
    if (q < 0) {
        rc = (int)q;
        goto out;
    }
    switch (ss->use) {
    case 0: q = mw_pop3_client_auth(c, both, NULL, "tim", "tanstaaf"); break;
    case 1: q = mw_pop3_client_auth(c, MW_SASL_BIT(MW_SASL_MECH_PLAIN), NULL, "tim", "tanstaaf"); break;
    case 2: q = mw_pop3_client_user_pass(c, "tim", "tanstaaf"); break;
    default: q = mw_pop3_client_apop(c, "tim", "tanstaaf"); break;
    }
    if (q >= 0) q = mw_pop3_client_lang(c, "es-MX"); /* TRANSACTION */
    if (q >= 0) q = mw_pop3_client_lang(c, NULL);
    if (q >= 0) q = mw_pop3_client_stat(c);
    if (q >= 0) q = mw_pop3_client_list(c, 0);
    if (q >= 0) q = mw_pop3_client_uidl(c, 0);
    for (uint32_t i = 1; i <= NMSG && q >= 0; i++) q = mw_pop3_client_retr(c, i);
    if (q >= 0) q = mw_pop3_client_top(c, 1, 0);
    if (q >= 0) q = mw_pop3_client_dele(c, 2);
    if (q >= 0) q = mw_pop3_client_dele(c, 5);
    if (q >= 0) q = mw_pop3_client_quit(c);
    if (q < 0) {
        rc = (int)q;
        goto out;
    }
    int cur_body = -1, cur_top = 0;
    size_t body_off = 0;
    const char *body_src = NULL;
    size_t body_len = 0;
    for (int round = 0; round < 200000; round++) {
        int progress = 0;
        /* server events */
        const mw_pop3_event *sev;
        int r;
        while ((r = mw_pop3_server_next(s, &sev)) > 0) {
            progress = 1;
            if (sev->type == MW_POP3_EV_RETR || sev->type == MW_POP3_EV_TOP) {
                body_src = ss->box.msg[sev->msg - 1];
                body_len = ss->box.len[sev->msg - 1];
                body_off = 0;
            }
            if (sev->paused && (rc = serve_event(&p, sev)) != MW_OK) goto out;
        }
        if (r < 0 && r != MW_ERR_STATE && r != MW_ERR_CLOSED) {
            rc = r;
            goto out;
        }
        /* stream a message being sent */
        if (body_src) {
            if (body_off < body_len && mw_pop3_server_body_wanted(s)) {
                size_t n = 1 + (size_t)(mw_test_rand(&ss->rng) % 3000);
                if (n > body_len - body_off) n = body_len - body_off;
                mw_ssize t = mw_pop3_server_body_write(s, body_src + body_off, n);
                if (t < 0) {
                    rc = (int)t;
                    goto out;
                }
                body_off += (size_t)t;
                progress |= t > 0;
            } else {
                int e = mw_pop3_server_body_end(s);
                if (e == MW_OK) {
                    body_src = NULL;
                    progress = 1;
                } else if (e != MW_ERR_LIMIT) {
                    rc = e;
                    goto out;
                }
            }
        }
        /* client events */
        const mw_pop3_client_event *cev;
        while ((r = mw_pop3_client_next(c, &cev)) > 0) {
            progress = 1;
            switch (cev->type) {
            case MW_POP3_CLIENT_EV_READY: ss->ready++; break;
            case MW_POP3_CLIENT_EV_REPLY:
                if (cev->ok) ss->replies_ok++;
                else ss->replies_err++;
                /* the selections' replies; the listing's is "Language listing follows" */
                if (cev->cmd == MW_POP3_CMD_LANG && cev->text.len && cev->text.base[0] != 'L') {
                    size_t at = strlen(ss->lang_replies);
                    snprintf(ss->lang_replies + at, sizeof ss->lang_replies - at, "%.*s|", (int)cev->text.len,
                             cev->text.base);
                }
                if (cev->ok && (cev->cmd == MW_POP3_CMD_RETR || cev->cmd == MW_POP3_CMD_TOP)) {
                    cur_body = (int)cev->msg - 1;
                    cur_top = cev->cmd == MW_POP3_CMD_TOP;
                }
                break;
            case MW_POP3_CLIENT_EV_LIST: ss->lists++; break;
            case MW_POP3_CLIENT_EV_LANG: {
                ss->langs++;
                size_t at = strlen(ss->lang_lines);
                snprintf(ss->lang_lines + at, sizeof ss->lang_lines - at, "%.*s %.*s|", (int)cev->text.len,
                         cev->text.base, (int)cev->arg.len, cev->arg.base);
                break;
            }
            case MW_POP3_CLIENT_EV_UIDL: ss->uidls++; break;
            case MW_POP3_CLIENT_EV_BODY:
                if (cur_top)
                    add_bytes(&ss->top0, &ss->top0_len, cev->data.base, cev->data.len);
                else if (cur_body >= 0)
                    add_bytes(&ss->got[cur_body], &ss->got_len[cur_body], cev->data.base, cev->data.len);
                break;
            default: break;
            }
        }
        if (r < 0 && r != MW_ERR_CLOSED) {
            ss->client_err = r;
            rc = r == MW_ERR_NOMEM ? r : MW_OK;
            goto out;
        }
        /* TLS handoff on both sides */
        if ((mw_pop3_client_state(c) & MW_TLS_HANDOFF) && (mw_pop3_server_state(s) & MW_TLS_HANDOFF) &&
            !mw_pop3_server_out_buf(s, &(size_t){0})) {
            if ((rc = mw_pop3_server_tls_started(s)) != MW_OK) goto out;
            if ((rc = mw_pop3_client_tls_started(c)) != MW_OK) goto out;
            ss->tls_done = 1;
            progress = 1;
        }
        /* wires */
        size_t len, moved = 0;
        const unsigned char *o;
        if ((o = mw_pop3_server_out_buf(s, &len)) != NULL && !(mw_pop3_client_state(c) & MW_CLOSED)) {
            if ((rc = pass_bytes(ss, o, len, 1, c, s, &moved)) != MW_OK) goto out;
            mw_pop3_server_out_ack(s, moved);
            progress |= moved > 0;
        }
        if ((o = mw_pop3_client_out_buf(c, &len)) != NULL && !(mw_pop3_server_state(s) & MW_CLOSED)) {
            if ((rc = pass_bytes(ss, o, len, 0, c, s, &moved)) != MW_OK) goto out;
            mw_pop3_client_out_ack(c, moved);
            progress |= moved > 0;
        }
        if ((mw_pop3_client_state(c) & MW_CLOSED) && (mw_pop3_server_state(s) & MW_CLOSED) &&
            !mw_pop3_server_out_buf(s, &len)) {
            rc = MW_OK;
            goto out;
        }
        if (!progress) break;
    }
    rc = MW_ERR_PROTOCOL; /* stalled */
out:
    mw_sasl_server_free(p.sasl);
    mw_pop3_client_free(c);
    mw_pop3_server_free(s);
    mw_pop3_server_opts_free(so);
    mw_pop3_client_opts_free(co);
    mw_sasl_options_free(sas);
    return rc;
}

static void make_box(mailbox *b, uint64_t seed)
{
    static const char *pieces[] = {"From: a@b\r\n", "Subject: dots\r\n", "\r\n", ".\r\n", "..\r\n", ".x\r\n",
                                   "text line\r\n", "\n", ".\n", "\r", "x", "\r\n.\r\n", " .\r\n"};
    for (int i = 0; i < NMSG; i++) {
        {
            size_t cap = 64, n = 0;
            char *m = malloc(cap);
            if (!m) abort();
            int parts = i == 3 ? 0 : (int)(mw_test_rand(&seed) % 400);
            for (int k = 0; k < parts; k++) {
                const char *pc = k < 2 ? pieces[k] : pieces[mw_test_rand(&seed) % (sizeof pieces / sizeof pieces[0])];
                size_t l = strlen(pc);
                while (n + l + 1 > cap) cap *= 2;
                m = realloc(m, cap);
                if (!m) abort();
                memcpy(m + n, pc, l);
                n += l;
            }
            /* make line ends CRLF so the round trip is exact (bare LF is sent as stored) */
            size_t w = 0;
            char *clean = malloc(n * 2 + 3);
            if (!clean) abort();
            for (size_t r = 0; r < n; r++) {
                if (m[r] == '\n' && (r == 0 || m[r - 1] != '\r')) clean[w++] = '\r';
                if (m[r] == '\r' && (r + 1 >= n || m[r + 1] != '\n')) continue;
                clean[w++] = m[r];
            }
            free(m);
            b->msg[i] = clean;
            b->len[i] = w;
        }
    }
}

static void free_session(session *ss)
{
    for (int i = 0; i < NMSG; i++) free(ss->got[i]);
    free(ss->top0);
    for (int i = 0; i < NMSG; i++) free(ss->box.msg[i]);
}

static void check_session(int use, int tls_policy)
{
    session ss;
    memset(&ss, 0, sizeof ss);
    ss.use = use;
    ss.tls_policy = tls_policy;
    make_box(&ss.box, 42 + (uint64_t)use);
    CHECK_INT(run_session(NULL, &ss), MW_OK);
    CHECK_INT(ss.client_err, 0);
    CHECK_INT(ss.ready, 1);
    CHECK_INT(ss.tls_done, tls_policy != MW_POP3_TLS_NONE);
    CHECK_INT(ss.replies_err, 0);
    CHECK_INT(ss.lists, NMSG);
    CHECK_INT(ss.uidls, NMSG);
    CHECK_INT(ss.langs, 2);
    CHECK_STR(ss.lang_lines, strlen(ss.lang_lines), "en English|es Espa\xc3\xb1" "ol|");
    CHECK_STR(ss.lang_replies, strlen(ss.lang_replies), "en Language changed|es Idioma cambiado|");
    for (int i = 0; i < NMSG; i++) {
        /* a last line without CRLF is completed by the server (RFC 1939 §3) */
        const char *m = ss.box.msg[i];
        size_t n = ss.box.len[i];
        int completed = n && !(n >= 2 && m[n - 2] == '\r' && m[n - 1] == '\n');
        CHECK_INT(ss.got_len[i], n + (completed ? 2 : 0));
        CHECK_MEM(ss.got[i] ? ss.got[i] : "", n, m, n);
        if (completed && ss.got_len[i] == n + 2) CHECK_MEM(ss.got[i] + n, 2, "\r\n", 2);
    }
    /* TOP 1 0: the header block and its blank line */
    const char *hdr_end = ss.box.len[0] ? strstr(ss.box.msg[0], "\r\n\r\n") : NULL;
    if (hdr_end) CHECK_MEM(ss.top0, ss.top0_len, ss.box.msg[0], (size_t)(hdr_end - ss.box.msg[0]) + 4);
    CHECK(ss.box.committed);
    CHECK(ss.box.deleted[1] && ss.box.deleted[4] && !ss.box.deleted[0]);
    free_session(&ss);
}

static void test_loopback_scram_stls(void) { check_session(0, MW_POP3_TLS_REQUIRED); }
static void test_loopback_plain_stls(void) { check_session(1, MW_POP3_TLS_OPPORTUNISTIC); }
static void test_loopback_user_pass(void) { check_session(2, MW_POP3_TLS_REQUIRED); }
static void test_loopback_apop_clear(void) { check_session(3, MW_POP3_TLS_NONE); }

static int alloc_session(const mw_mem *mem, void *arg)
{
    session ss;
    memset(&ss, 0, sizeof ss);
    ss.use = *(int *)arg;
    ss.tls_policy = MW_POP3_TLS_OPPORTUNISTIC;
    make_box(&ss.box, 5);
    for (int i = 0; i < NMSG; i++) ss.box.len[i] = ss.box.len[i] > 300 ? 300 : ss.box.len[i];
    int rc = run_session(mem, &ss);
    if (rc == MW_OK && ss.client_err) rc = ss.client_err;
    for (int i = 0; i < NMSG; i++) free(ss.got[i]);
    free(ss.top0);
    for (int i = 0; i < NMSG; i++) free(ss.box.msg[i]);
    memset(ss.got, 0, sizeof ss.got);
    return rc;
}

static void test_alloc_failures(void)
{
    for (int use = 0; use < 4; use++) {
        long runs = mw_test_alloc_loop("pop3 loopback", alloc_session, &use);
        CHECK(runs > 10);
    }
}

int main(void)
{
    MW_RUN(test_loopback_scram_stls);
    MW_RUN(test_loopback_plain_stls);
    MW_RUN(test_loopback_user_pass);
    MW_RUN(test_loopback_apop_clear);
    MW_RUN(test_alloc_failures);
    return mw_test_finish();
}
