/*
 * The SMTP client engine against the SMTP server engine, in memory: both
 * engines in one process, bytes pumped between them in pseudo-random
 * pieces. Several messages per session (random bodies with lines starting
 * with ".", bare CR and LF, no final CRLF), one refused recipient each;
 * the server's received bodies must equal what the client wrote, byte for
 * byte. Runs for DATA with and without PIPELINING, BDAT, LMTP, and across
 * a (pretend) STARTTLS. Also the client's allocation-failure loop.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/sasl.h>
#include <mailwire/smtp_client.h>

#include <stdlib.h>
#include <string.h>

#define NMSG 4

typedef struct body {
    unsigned char *p;
    size_t len, cap;
} body;

static void body_add(body *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
}

typedef struct config {
    const char *name;
    unsigned server_ext_off; /* MW_SMTP_EXT_* turned off on the server */
    unsigned server_flags;
    unsigned client_flags;
    int tls;                 /* STARTTLS required by the client */
    int auth;
} config;

typedef struct loop {
    const config *cfg;
    mw_smtp_server *s;
    mw_smtp_client *c;
    uint64_t rnd;
    body sent[NMSG];      /* what the client wrote */
    body got[NMSG];       /* what the server received */
    size_t got_n;         /* messages the server completed */
    size_t msg;           /* client: current message */
    size_t off;           /* client: body octets written */
    int writing, ending, authed, quit_seen, failed;
    size_t delivered;
    mw_sasl_client *sasl;
    mw_smtp_client_rcpt rcpts[3];
    mw_smtp_client_envelope env;
} loop;

static void make_body(loop *l, body *b)
{
    static const char *const tok[] = {"Subject: x\r\n", ".", "..", "\r\n", "word ", "\r", "\n", ".\r\n",
                                      "text", "\r\n.", "\xC3\xA9"};
    size_t n = mw_test_rand(&l->rnd) % 60;
    for (size_t i = 0; i < n; i++) {
        const char *t = tok[mw_test_rand(&l->rnd) % (sizeof tok / sizeof tok[0])];
        body_add(b, t, strlen(t));
    }
}

/* Move bytes from one engine's output to the other's input in random pieces. */
static void transfer_c2s(loop *l)
{
    size_t len;
    const unsigned char *p;
    while ((p = mw_smtp_client_out_buf(l->c, &len)) != NULL) {
        if (mw_smtp_server_state(l->s) & (MW_TLS_HANDOFF | MW_CLOSED)) return;
        size_t n = 1 + mw_test_rand(&l->rnd) % 700;
        if (n > len) n = len;
        mw_ssize t = mw_smtp_server_feed(l->s, p, n);
        if (t <= 0) return;
        mw_smtp_client_out_ack(l->c, (size_t)t);
    }
}

static void transfer_s2c(loop *l)
{
    size_t len;
    const unsigned char *p;
    while ((p = mw_smtp_server_out_buf(l->s, &len)) != NULL) {
        if (mw_smtp_client_state(l->c) & (MW_TLS_HANDOFF | MW_CLOSED)) return;
        size_t n = 1 + mw_test_rand(&l->rnd) % 300;
        if (n > len) n = len;
        mw_ssize t = mw_smtp_client_feed(l->c, p, n);
        if (t <= 0) return;
        mw_smtp_server_out_ack(l->s, (size_t)t);
    }
}

static void server_events(loop *l)
{
    for (;;) {
        const mw_smtp_event *ev;
        int rc = mw_smtp_server_next(l->s, &ev);
        if (rc == MW_ERR_STATE) { /* LMTP: still replies due */
            CHECK_INT(mw_smtp_server_accept(l->s), MW_OK);
            continue;
        }
        if (rc <= 0) return;
        if (ev->type == MW_SMTP_EV_BODY && l->got_n < NMSG) body_add(&l->got[l->got_n], ev->data.base, ev->data.len);
        if (ev->type == MW_SMTP_EV_BODY_END) l->got_n++;
        if (!ev->paused) continue;
        if (ev->type == MW_SMTP_EV_RCPT && ev->path.len >= 6 && !memcmp(ev->path.base, "nobody", 6))
            CHECK_INT(mw_smtp_server_reply(l->s, 550, "5.1.1", "No such user"), MW_OK);
        else if (ev->type == MW_SMTP_EV_AUTH)
            CHECK_INT(mw_smtp_server_accept(l->s), MW_OK);
        else
            CHECK_INT(mw_smtp_server_accept(l->s), MW_OK);
    }
}

static void start_message(loop *l)
{
    static const char *const names[] = {"one@mx.example.org", "nobody@mx.example.org", "two@mx.example.org"};
    memset(&l->env, 0, sizeof l->env);
    for (int i = 0; i < 3; i++) {
        memset(&l->rcpts[i], 0, sizeof l->rcpts[i]);
        l->rcpts[i].address = names[i];
    }
    l->env.from = l->msg % 2 ? "" : "sender@client.example";
    l->env.rcpts = l->rcpts;
    l->env.nrcpts = 3;
    l->env.body = MW_SMTP_BODY_8BITMIME;
    l->env.flags = MW_SMTP_F_SIZE;
    l->env.size = l->sent[l->msg].len;
    CHECK_INT(mw_smtp_client_send(l->c, &l->env), MW_OK);
}

static void client_events(loop *l)
{
    for (;;) {
        const mw_smtp_client_event *ev;
        int rc = mw_smtp_client_next(l->c, &ev);
        if (rc <= 0) {
            if (rc < 0 && rc != MW_ERR_CLOSED) {
                mw_test_fail(__FILE__, __LINE__, "%s: client next: %s", l->cfg->name, mw_strerror(rc));
                l->failed = 1;
            }
            return;
        }
        switch (ev->type) {
        case MW_SMTP_CLIENT_EV_READY:
            if (l->cfg->tls) CHECK(ev->flags & MW_SMTP_CLIENT_F_TLS);
            if (l->cfg->auth && !l->authed) {
                int mech = mw_smtp_client_auth_choose(l->c, MW_SASL_BIT(MW_SASL_MECH_PLAIN));
                CHECK_INT(mech, MW_SASL_MECH_PLAIN);
                CHECK_INT(mw_sasl_client_new(&l->sasl, NULL, "PLAIN", NULL), MW_OK);
                mw_sasl_client_set(l->sasl, MW_SASL_PROP_AUTHCID, "tim", 3);
                mw_sasl_client_set(l->sasl, MW_SASL_PROP_PASSWORD, "pw", 2);
                CHECK_INT(mw_smtp_client_auth(l->c, l->sasl, mech), MW_OK);
            } else {
                start_message(l);
            }
            break;
        case MW_SMTP_CLIENT_EV_AUTH:
            CHECK_INT(ev->error, MW_OK);
            CHECK_INT(ev->code, 235);
            l->authed = 1;
            start_message(l);
            break;
        case MW_SMTP_CLIENT_EV_RCPT:
            CHECK_INT(ev->code, ev->rcpt_index == 1 ? 550 : 250);
            break;
        case MW_SMTP_CLIENT_EV_SEND_BODY:
            CHECK_INT(ev->accepted, 2);
            l->writing = 1;
            l->off = 0;
            break;
        case MW_SMTP_CLIENT_EV_MESSAGE: CHECK_INT(ev->code, 250); break;
        case MW_SMTP_CLIENT_EV_DONE:
            l->delivered += ev->delivered;
            if (++l->msg < NMSG) start_message(l);
            else CHECK_INT(mw_smtp_client_quit(l->c), MW_OK);
            break;
        case MW_SMTP_CLIENT_EV_QUIT: l->quit_seen = 1; break;
        default: break;
        }
    }
}

static void write_some(loop *l)
{
    if (!l->writing) return;
    body *b = &l->sent[l->msg];
    while (l->off < b->len) {
        size_t n = 1 + mw_test_rand(&l->rnd) % 40;
        if (n > b->len - l->off) n = b->len - l->off;
        mw_ssize w = mw_smtp_client_body_write(l->c, b->p + l->off, n);
        CHECK(w >= 0);
        if (w <= 0) return;
        l->off += (size_t)w;
    }
    int rc = mw_smtp_client_body_end(l->c);
    if (rc == MW_ERR_LIMIT) return;
    CHECK_INT(rc, MW_OK);
    l->writing = 0;
}

static void run_config(const config *cfg, uint64_t seed)
{
    loop *l = calloc(1, sizeof *l);
    if (!l) abort();
    l->cfg = cfg;
    l->rnd = seed;
    for (size_t i = 0; i < NMSG; i++) make_body(l, &l->sent[i]);

    mw_smtp_server_opts *so = mw_smtp_server_opts_new(NULL);
    mw_smtp_server_opts_set_hostname(so, "mx.example.org");
    if (cfg->server_ext_off) mw_smtp_server_opts_set_extensions(so, cfg->server_ext_off, 0);
    if (cfg->server_flags) mw_smtp_server_opts_set_flags(so, cfg->server_flags, 1);
    mw_smtp_server_opts_set_auth_mechanisms(so, "PLAIN");
    CHECK_INT(mw_smtp_server_new(NULL, so, &l->s), MW_OK);
    mw_smtp_server_opts_free(so);

    mw_smtp_client_opts *co = mw_smtp_client_opts_new(NULL);
    mw_smtp_client_opts_set_hostname(co, "client.example");
    mw_smtp_client_opts_set_starttls(co, cfg->tls ? MW_SMTP_TLS_REQUIRED : MW_SMTP_TLS_NONE);
    if (cfg->client_flags) mw_smtp_client_opts_set_flags(co, cfg->client_flags, 1);
    mw_smtp_client_opts_set_limits(co, 10, 4096, 600); /* small: exercise back-pressure */
    CHECK_INT(mw_smtp_client_new(NULL, co, &l->c), MW_OK);
    mw_smtp_client_opts_free(co);

    for (int guard = 0; guard < 200000 && !l->failed; guard++) {
        transfer_s2c(l);
        client_events(l);
        write_some(l);
        transfer_c2s(l);
        server_events(l);
        if ((mw_smtp_client_state(l->c) & MW_TLS_HANDOFF) && (mw_smtp_server_state(l->s) & MW_TLS_HANDOFF) &&
            !mw_smtp_server_out_buf(l->s, NULL)) {
            CHECK_INT(mw_smtp_server_tls_started(l->s), MW_OK);
            CHECK_INT(mw_smtp_client_tls_started(l->c), MW_OK);
        }
        if (l->quit_seen) break;
    }
    CHECK(l->quit_seen);
    CHECK_INT(l->got_n, NMSG);
    int lmtp = (cfg->client_flags & MW_SMTP_CLIENT_LMTP) != 0;
    CHECK_INT(l->delivered, lmtp ? 2 * NMSG : NMSG);
    int bdat = !(cfg->server_ext_off & MW_SMTP_EXT_CHUNKING) && !(cfg->client_flags & MW_SMTP_CLIENT_NO_CHUNKING);
    for (size_t i = 0; i < NMSG && i < l->got_n; i++) {
        body want = {0};
        const unsigned char *sp = l->sent[i].p;
        for (size_t k = 0; k < l->sent[i].len; k++) {
            /* DATA: a bare CR or LF goes out as CRLF; BDAT sends octets as they are */
            if (!bdat && sp[k] == '\r' && k + 1 < l->sent[i].len && sp[k + 1] == '\n') {
                body_add(&want, "\r\n", 2);
                k++;
            } else if (!bdat && (sp[k] == '\r' || sp[k] == '\n')) {
                body_add(&want, "\r\n", 2);
            } else {
                body_add(&want, sp + k, 1);
            }
        }
        /* DATA completes a last line without CRLF (RFC 5321 §4.1.1.4). */
        if (!bdat && want.len && (want.len < 2 || memcmp(want.p + want.len - 2, "\r\n", 2))) body_add(&want, "\r\n", 2);
        if (l->got[i].len != want.len || (want.len && memcmp(l->got[i].p, want.p, want.len))) {
            mw_test_fail(__FILE__, __LINE__, "%s seed %llu: message %zu differs", cfg->name,
                         (unsigned long long)seed, i);
            mw_test_dump("  got ", l->got[i].p ? (const char *)l->got[i].p : "", l->got[i].len);
            mw_test_dump("  want", want.p ? (const char *)want.p : "", want.len);
        }
        free(want.p);
    }
    for (size_t i = 0; i < NMSG; i++) {
        free(l->sent[i].p);
        free(l->got[i].p);
    }
    mw_sasl_client_free(l->sasl);
    mw_smtp_client_free(l->c);
    mw_smtp_server_free(l->s);
    free(l);
}

static void test_loopback(void)
{
    static const config cfgs[] = {
        {"data+pipelining", MW_SMTP_EXT_CHUNKING | MW_SMTP_EXT_BINARYMIME, 0, 0, 0, 0},
        {"data, one at a time", MW_SMTP_EXT_CHUNKING | MW_SMTP_EXT_BINARYMIME | MW_SMTP_EXT_PIPELINING, 0, 0, 0, 0},
        {"bdat+pipelining", 0, 0, 0, 0, 0},
        {"bdat, one at a time", MW_SMTP_EXT_PIPELINING, 0, 0, 0, 0},
        {"starttls+auth+data", 0, 0, MW_SMTP_CLIENT_NO_CHUNKING, 1, 1},
        {"lmtp", MW_SMTP_EXT_CHUNKING | MW_SMTP_EXT_BINARYMIME, MW_SMTP_SERVER_LMTP, MW_SMTP_CLIENT_LMTP, 0, 0},
        {"lmtp+bdat", 0, MW_SMTP_SERVER_LMTP, MW_SMTP_CLIENT_LMTP, 0, 0},
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++)
        for (uint64_t seed = 1; seed <= 12; seed++) run_config(&cfgs[i], seed * 7919 + i);
}

/* ---- allocation failures ------------------------------------------- */

static int session_under_alloc(const mw_mem *mem, void *arg)
{
    (void)arg;
    mw_smtp_client_opts *o = mw_smtp_client_opts_new(mem);
    if (!o) return MW_ERR_NOMEM;
    mw_smtp_client_opts_set_starttls(o, MW_SMTP_TLS_NONE);
    mw_smtp_client_opts_set_limits(o, 10, 4096, 512);
    mw_smtp_client *c;
    int rc = mw_smtp_client_new(mem, o, &c);
    mw_smtp_client_opts_free(o);
    if (rc) return rc;
    static const char server[] =
        "220 mx ESMTP\r\n250-mx\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250 CHUNKING\r\n"
        "250 ok\r\n250 ok\r\n550 no\r\n250 chunk\r\n250-multi\r\n250 line\r\n250 done\r\n"
        "250 ok\r\n250 ok\r\n550 no\r\n250 chunk\r\n250-multi\r\n250 line\r\n250 done\r\n221 bye\r\n";
    mw_smtp_client_rcpt r[2] = {{"a@x.example", 0, NULL, NULL}, {"b@x.example", 0, NULL, NULL}};
    mw_smtp_client_envelope env;
    memset(&env, 0, sizeof env);
    env.from = "s@y.example";
    env.rcpts = r;
    env.nrcpts = 2;
    static char big[1500];
    memset(big, 'x', sizeof big);
    size_t off = 0;
    int msgs = 0, quit = 0;
    for (int guard = 0; guard < 10000 && rc == MW_OK && !quit; guard++) {
        const mw_smtp_client_event *ev;
        int t = mw_smtp_client_next(c, &ev);
        size_t n;
        if (mw_smtp_client_out_buf(c, &n)) mw_smtp_client_out_ack(c, n);
        if (t < 0) {
            rc = t;
            break;
        }
        if (t == 0) {
            if (off == sizeof server - 1) break;
            size_t k = sizeof server - 1 - off < 9 ? sizeof server - 1 - off : 9;
            mw_ssize f = mw_smtp_client_feed(c, server + off, k);
            if (f < 0) rc = (int)f;
            else off += (size_t)f;
            continue;
        }
        if (t == MW_SMTP_CLIENT_EV_READY || (t == MW_SMTP_CLIENT_EV_DONE && msgs < 2)) {
            msgs++;
            rc = mw_smtp_client_send(c, &env);
        } else if (t == MW_SMTP_CLIENT_EV_SEND_BODY) {
            size_t w = 0;
            while (rc == MW_OK && w < sizeof big) {
                mw_ssize k = mw_smtp_client_body_write(c, big + w, sizeof big - w);
                if (k < 0) rc = (int)k;
                else w += (size_t)k;
                if (mw_smtp_client_out_buf(c, &n)) mw_smtp_client_out_ack(c, n);
            }
            if (rc == MW_OK) rc = mw_smtp_client_body_end(c);
        } else if (t == MW_SMTP_CLIENT_EV_DONE) {
            rc = mw_smtp_client_quit(c);
        } else if (t == MW_SMTP_CLIENT_EV_QUIT) {
            quit = 1;
        }
    }
    if (rc == MW_OK && !quit) rc = MW_ERR_STATE;
    mw_smtp_client_free(c);
    return rc;
}

static void test_alloc_failures(void)
{
    long runs = mw_test_alloc_loop("smtp client session", session_under_alloc, NULL);
    CHECK(runs >= 5);
}

int main(void)
{
    MW_RUN(test_loopback);
    MW_RUN(test_alloc_failures);
    return mw_test_finish();
}
