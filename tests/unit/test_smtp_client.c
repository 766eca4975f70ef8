/*
 * SMTP/LMTP client engine: dialog vectors (tests/vectors/smtp_client/NAME.txt)
 * replayed whole, at chunk sizes 1..8 and through the zero-copy path, plus
 * API checks and an allocation-failure loop.
 *
 * Vector format, one directive per line ("#" starts a comment line):
 *   O: option        client option: flag NAME | tls none|opportunistic|required
 *                    | reply-limits LINE REPLY | limits RCPTS OUT CHUNK
 *   S: text          server bytes, escapes \r \n \t \0 \\ \xHH, CRLF appended
 *   s: text          server bytes without the CRLF
 *   C: text          expected client bytes, CRLF appended
 *   c: text          expected client bytes without the CRLF
 *   E: text          expected event log line (see log_event)
 *   A: action        run right after the event logged by the E: line above
 *                    it (A: lines before any E: run at the start):
 *                    from ADDR [size=N body=7BIT|8BITMIME|BINARYMIME smtputf8
 *                      ret=FULL|HDRS envid=X auth=X requiretls mtp=N]
 *                    | rcpt ADDR [notify=S,F,D|NEVER orcpt=X orcpt-type=T]
 *                    | send | body ESCAPED | end | rset | noop | vrfy X | quit
 *                    | auth MECH USER PASS [NONCE] | choose MECH,MECH...
 *                    Any result other than MW_OK is logged as "! ACTION rc=NAME".
 *   T: tls | eof     transport step after the server bytes above it
 *   X: closed | open | handoff   checked at the end
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_vectors.h"

#include <mailwire/sasl.h>
#include <mailwire/smtp_client.h>

#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------ */

static const char *err_name(int rc)
{
    switch (rc) {
    case MW_OK: return "OK";
    case MW_ERR_INVALID: return "INVALID";
    case MW_ERR_NOMEM: return "NOMEM";
    case MW_ERR_STATE: return "STATE";
    case MW_ERR_LIMIT: return "LIMIT";
    case MW_ERR_SYNTAX: return "SYNTAX";
    case MW_ERR_PROTOCOL: return "PROTOCOL";
    case MW_ERR_TLS_INJECTION: return "TLS_INJECTION";
    case MW_ERR_CLOSED: return "CLOSED";
    case MW_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case MW_ERR_AUTH: return "AUTH";
    default: return "OTHER";
    }
}

static const struct {
    const char *name;
    unsigned bit;
} ext_names[] = {
    {"PIPELINING", MW_SMTP_EXT_PIPELINING}, {"SIZE", MW_SMTP_EXT_SIZE},
    {"8BITMIME", MW_SMTP_EXT_8BITMIME}, {"SMTPUTF8", MW_SMTP_EXT_SMTPUTF8},
    {"CHUNKING", MW_SMTP_EXT_CHUNKING}, {"BINARYMIME", MW_SMTP_EXT_BINARYMIME},
    {"ENHANCEDSTATUSCODES", MW_SMTP_EXT_ENHANCEDSTATUSCODES}, {"DSN", MW_SMTP_EXT_DSN},
    {"STARTTLS", MW_SMTP_EXT_STARTTLS}, {"AUTH", MW_SMTP_EXT_AUTH},
    {"REQUIRETLS", MW_SMTP_EXT_REQUIRETLS}, {"MT-PRIORITY", MW_SMTP_EXT_MT_PRIORITY},
};

static const char *type_name(int t)
{
    static const char *const names[] = {"?", "greeting", "ehlo", "starttls", "ready", "auth", "mail",
                                        "rcpt", "data", "send-body", "bdat", "message", "done", "rset",
                                        "noop", "vrfy", "quit", "unsolicited"};
    return t > 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t] : "?";
}

/* ---- a run ------------------------------------------------------------ */

typedef struct run {
    mw_replay base; /* first: the hooks get &run.base */
    mw_smtp_client *c;
    mw_smtp_client_envelope env;
    mw_smtp_client_rcpt rcpts[16];
    char strs[64][128];
    size_t nstrs;
    mw_sasl_client *sasl;
} run;

MW_REPLAY_CLIENT_IO(client_io, mw_smtp_client);

static void log_event(run *r, const mw_smtp_client_event *ev)
{
    mw_vbuf b = {0};
    char t[160];
    mw_vbuf_puts(&b, type_name(ev->type));
    if (ev->code) {
        snprintf(t, sizeof t, " %d", ev->code);
        mw_vbuf_puts(&b, t);
    }
    if (ev->type == MW_SMTP_CLIENT_EV_RCPT || (ev->type == MW_SMTP_CLIENT_EV_MESSAGE && ev->rcpt.len)) {
        snprintf(t, sizeof t, " #%zu <", ev->rcpt_index);
        mw_vbuf_puts(&b, t);
        mw_vbuf_escape(&b, ev->rcpt.base, ev->rcpt.len);
        mw_vbuf_puts(&b, ">");
    }
    if (ev->enhanced.len) {
        mw_vbuf_puts(&b, " enh=");
        mw_vbuf_add(&b, ev->enhanced.base, ev->enhanced.len);
    }
    if (ev->type == MW_SMTP_CLIENT_EV_EHLO || ev->type == MW_SMTP_CLIENT_EV_READY) {
        if (ev->type == MW_SMTP_CLIENT_EV_EHLO && ev->code / 100 == 2) {
            mw_vbuf_puts(&b, " ext=");
            const char *sep = "";
            for (size_t i = 0; i < sizeof ext_names / sizeof ext_names[0]; i++)
                if (ev->extensions & ext_names[i].bit) {
                    mw_vbuf_puts(&b, sep);
                    mw_vbuf_puts(&b, ext_names[i].name);
                    sep = ",";
                }
            if (ev->size) {
                snprintf(t, sizeof t, " size=%llu", (unsigned long long)ev->size);
                mw_vbuf_puts(&b, t);
            }
            mw_slice auth;
            mw_smtp_client_extensions(r->c, NULL, &auth);
            if (auth.len) {
                mw_vbuf_puts(&b, " auth=");
                mw_vbuf_add(&b, auth.base, auth.len);
            }
        }
    }
    if (ev->type == MW_SMTP_CLIENT_EV_AUTH) {
        mw_vbuf_puts(&b, " ");
        mw_vbuf_puts(&b, err_name(ev->error));
    }
    if (ev->type == MW_SMTP_CLIENT_EV_BDAT) {
        snprintf(t, sizeof t, " size=%llu", (unsigned long long)ev->size);
        mw_vbuf_puts(&b, t);
    }
    if (ev->type == MW_SMTP_CLIENT_EV_SEND_BODY || ev->type == MW_SMTP_CLIENT_EV_DONE) {
        snprintf(t, sizeof t, " accepted=%zu", ev->accepted);
        mw_vbuf_puts(&b, t);
    }
    if (ev->type == MW_SMTP_CLIENT_EV_DONE) {
        snprintf(t, sizeof t, " delivered=%zu", ev->delivered);
        mw_vbuf_puts(&b, t);
    }
    if (ev->code && ev->type != MW_SMTP_CLIENT_EV_EHLO) {
        mw_vbuf_puts(&b, " \"");
        mw_vbuf_escape(&b, ev->text.base, ev->text.len);
        mw_vbuf_puts(&b, "\"");
    }
    if (ev->flags & MW_SMTP_CLIENT_F_HELO) mw_vbuf_puts(&b, " [helo]");
    if (ev->flags & MW_SMTP_CLIENT_F_BDAT) mw_vbuf_puts(&b, " [bdat]");
    if (ev->flags & MW_SMTP_CLIENT_F_EMPTY_BODY) mw_vbuf_puts(&b, " [empty]");
    if (ev->flags & MW_SMTP_CLIENT_F_LAST) mw_vbuf_puts(&b, " [last]");
    if (ev->flags & MW_SMTP_CLIENT_F_CLOSED) mw_vbuf_puts(&b, " [closed]");
    if (ev->flags & MW_SMTP_CLIENT_F_TLS) mw_vbuf_puts(&b, " [tls]");
    if (ev->flags & MW_SMTP_CLIENT_F_AUTHED) mw_vbuf_puts(&b, " [authed]");
    mw_replay_log(&r->base, b.p);
    free(b.p);
}

static char *keep(run *r, const char *s)
{
    if (r->nstrs == 64) abort();
    snprintf(r->strs[r->nstrs], sizeof r->strs[0], "%s", s);
    return r->strs[r->nstrs++];
}

static void result(run *r, const char *what, int rc)
{
    if (rc == MW_OK) return;
    char t[160];
    snprintf(t, sizeof t, "! %s rc=%s", what, err_name(rc));
    mw_replay_log(&r->base, t);
}

static void envelope_param(run *r, mw_smtp_client_rcpt *rc, char *word)
{
    mw_smtp_client_envelope *e = &r->env;
    char *eq = strchr(word, '=');
    char *val = eq ? eq + 1 : NULL;
    if (eq) *eq = 0;
    if (!rc && !strcmp(word, "size")) {
        e->flags |= MW_SMTP_F_SIZE;
        e->size = strtoull(val, NULL, 10);
    } else if (!rc && !strcmp(word, "body")) {
        e->body = !strcmp(val, "7BIT") ? MW_SMTP_BODY_7BIT
                  : !strcmp(val, "8BITMIME") ? MW_SMTP_BODY_8BITMIME
                                             : MW_SMTP_BODY_BINARYMIME;
    } else if (!rc && !strcmp(word, "smtputf8")) {
        e->flags |= MW_SMTP_F_SMTPUTF8;
    } else if (!rc && !strcmp(word, "ret")) {
        e->ret = !strcmp(val, "FULL") ? MW_SMTP_RET_FULL : MW_SMTP_RET_HDRS;
    } else if (!rc && !strcmp(word, "envid")) {
        mw_vbuf b = {0};
        mw_vbuf_unescape(&b, val);
        e->envid = keep(r, b.p);
        free(b.p);
    } else if (!rc && !strcmp(word, "auth")) {
        e->auth = keep(r, val);
    } else if (!rc && !strcmp(word, "requiretls")) {
        e->flags |= MW_SMTP_F_REQUIRETLS;
    } else if (!rc && !strcmp(word, "mtp")) {
        e->flags |= MW_SMTP_F_MT_PRIORITY;
        e->mt_priority = atoi(val);
    } else if (rc && !strcmp(word, "notify")) {
        if (strstr(val, "NEVER")) rc->notify = MW_SMTP_NOTIFY_NEVER;
        if (strchr(val, 'S')) rc->notify |= MW_SMTP_NOTIFY_SUCCESS;
        if (strchr(val, 'F')) rc->notify |= MW_SMTP_NOTIFY_FAILURE;
        if (strchr(val, 'D')) rc->notify |= MW_SMTP_NOTIFY_DELAY;
    } else if (rc && !strcmp(word, "orcpt")) {
        mw_vbuf b = {0};
        mw_vbuf_unescape(&b, val);
        rc->orcpt = keep(r, b.p);
        free(b.p);
    } else if (rc && !strcmp(word, "orcpt-type")) {
        rc->orcpt_type = keep(r, val);
    } else {
        fprintf(stderr, "unknown envelope word %s\n", word);
        abort();
    }
}

static void write_body(run *r, const char *escaped)
{
    mw_vbuf b = {0};
    mw_vbuf_unescape(&b, escaped);
    size_t off = 0;
    int stuck = 0;
    while (off < b.len && stuck < 3) {
        size_t n = b.len - off < r->base.chunk ? b.len - off : r->base.chunk;
        mw_ssize w = mw_smtp_client_body_write(r->c, b.p + off, n);
        if (w < 0) {
            result(r, "body", (int)w);
            break;
        }
        off += (size_t)w;
        stuck = w ? 0 : stuck + 1;
        mw_replay_drain(&r->base);
    }
    if (stuck) mw_replay_log(&r->base, "! body stuck");
    free(b.p);
}

static int run_auth(run *r, char *args)
{
    char mech[32] = "", user[64] = "", pass[600] = "", nonce[64] = "";
    if (sscanf(args, "%31s %63s %599s %63s", mech, user, pass, nonce) < 3) abort();
    mw_sasl_client_free(r->sasl);
    r->sasl = NULL;
    int rc = mw_sasl_client_new(&r->sasl, NULL, mech, NULL);
    if (rc) return rc;
    mw_sasl_client_set(r->sasl, MW_SASL_PROP_AUTHCID, user, strlen(user));
    mw_sasl_client_set(r->sasl, MW_SASL_PROP_PASSWORD, pass, strlen(pass));
    if (nonce[0]) mw_sasl_client_set(r->sasl, MW_SASL_PROP_NONCE, nonce, strlen(nonce));
    return mw_smtp_client_auth(r->c, r->sasl, mw_sasl_mech_from_name(mech, strlen(mech)));
}

static void do_action(run *r, const char *text)
{
    char *tmp = mw_vstrdup(text);
    char *sp = strchr(tmp, ' ');
    char *args = sp ? sp + 1 : tmp + strlen(tmp);
    if (sp) *sp = 0;
    if (!strcmp(tmp, "from") || !strcmp(tmp, "rcpt")) {
        mw_smtp_client_rcpt *rc = NULL;
        char *save = NULL;
        char *addr = strtok_r(args, " ", &save);
        if (!addr) addr = tmp + strlen(tmp);
        if (!strcmp(addr, "-")) addr = tmp + strlen(tmp); /* the null path */
        mw_vbuf b = {0};
        mw_vbuf_unescape(&b, addr);
        if (tmp[0] == 'f') {
            memset(&r->env, 0, sizeof r->env);
            r->env.from = keep(r, b.p ? b.p : "");
            r->env.rcpts = r->rcpts;
        } else {
            rc = &r->rcpts[r->env.nrcpts++];
            memset(rc, 0, sizeof *rc);
            rc->address = keep(r, b.p ? b.p : "");
        }
        free(b.p);
        for (char *w = strtok_r(NULL, " ", &save); w; w = strtok_r(NULL, " ", &save)) envelope_param(r, rc, w);
    } else if (!strcmp(tmp, "send")) {
        result(r, "send", mw_smtp_client_send(r->c, &r->env));
    } else if (!strcmp(tmp, "body")) {
        write_body(r, args);
    } else if (!strcmp(tmp, "end")) {
        int rc;
        while ((rc = mw_smtp_client_body_end(r->c)) == MW_ERR_LIMIT && mw_smtp_client_out_buf(r->c, NULL)) mw_replay_drain(&r->base);
        result(r, "end", rc);
    } else if (!strcmp(tmp, "rset")) {
        result(r, "rset", mw_smtp_client_rset(r->c));
    } else if (!strcmp(tmp, "noop")) {
        result(r, "noop", mw_smtp_client_noop(r->c));
    } else if (!strcmp(tmp, "vrfy")) {
        mw_vbuf b = {0};
        mw_vbuf_unescape(&b, args);
        result(r, "vrfy", mw_smtp_client_vrfy(r->c, b.p ? b.p : ""));
        free(b.p);
    } else if (!strcmp(tmp, "quit")) {
        result(r, "quit", mw_smtp_client_quit(r->c));
    } else if (!strcmp(tmp, "auth")) {
        result(r, "auth", run_auth(r, args));
    } else if (!strcmp(tmp, "choose")) {
        unsigned mask = 0;
        char *save = NULL;
        for (char *w = strtok_r(args, ",", &save); w; w = strtok_r(NULL, ",", &save))
            mask |= MW_SASL_BIT(mw_sasl_mech_from_name(w, strlen(w)));
        int m = mw_smtp_client_auth_choose(r->c, mask);
        char t[96];
        snprintf(t, sizeof t, "chose %s", m > 0 ? mw_sasl_mech_name(m) : err_name(m));
        mw_replay_log(&r->base, t);
    } else {
        fprintf(stderr, "unknown action %s\n", text);
        abort();
    }
    free(tmp);
}

static void run_actions(run *r)
{
    const mw_vector *v = r->base.v;
    while (r->base.next_answer < v->nanswers && v->answer_after[r->base.next_answer] <= r->base.nlog) {
        do_action(r, v->answers[r->base.next_answer++]);
        mw_replay_drain(&r->base);
    }
}

static void pump(mw_replay *base)
{
    run *r = (run *)base;
    run_actions(r);
    for (int guard = 0; !r->base.stop && guard < 100000; guard++) {
        const mw_smtp_client_event *ev;
        int rc = mw_smtp_client_next(r->c, &ev);
        mw_replay_drain(&r->base);
        if (rc > 0) {
            log_event(r, ev);
            run_actions(r);
            continue;
        }
        if (rc == 0) return;
        char t[64];
        snprintf(t, sizeof t, rc == MW_ERR_CLOSED ? "closed" : "error %s", err_name(rc));
        mw_replay_log(&r->base, t);
        r->base.stop = 1;
        return;
    }
}

static void fail_feed(mw_replay *base, int rc)
{
    char t[64];
    snprintf(t, sizeof t, rc == MW_ERR_CLOSED ? "closed" : "error %s", err_name(rc));
    mw_replay_log(base, t);
    base->stop = 1;
}

static void tls_failed(mw_replay *base, int rc)
{
    result((run *)base, "tls_started", rc);
}

static void apply_option(mw_smtp_client_opts *o, const mw_vector *v, const char *opt)
{
    char key[32], a[64] = "", b[32] = "", c3[32] = "";
    sscanf(opt, "%31s %63s %31s %31s", key, a, b, c3);
    int rc = MW_ERR_INVALID;
    if (!strcmp(key, "flag")) {
        unsigned bit = !strcmp(a, "LMTP") ? MW_SMTP_CLIENT_LMTP
                       : !strcmp(a, "IMPLICIT_TLS") ? MW_SMTP_CLIENT_IMPLICIT_TLS
                       : !strcmp(a, "PLAINTEXT_AUTH") ? MW_SMTP_CLIENT_PLAINTEXT_AUTH
                       : !strcmp(a, "NO_PIPELINING") ? MW_SMTP_CLIENT_NO_PIPELINING
                       : !strcmp(a, "NO_CHUNKING") ? MW_SMTP_CLIENT_NO_CHUNKING
                       : !strcmp(a, "RAW_BODY") ? MW_SMTP_CLIENT_RAW_BODY
                                                   : 0x8000u;
        rc = mw_smtp_client_opts_set_flags(o, bit, 1);
    } else if (!strcmp(key, "tls")) {
        rc = mw_smtp_client_opts_set_starttls(o, !strcmp(a, "none") ? MW_SMTP_TLS_NONE
                                                 : !strcmp(a, "required") ? MW_SMTP_TLS_REQUIRED
                                                                          : MW_SMTP_TLS_OPPORTUNISTIC);
    } else if (!strcmp(key, "reply-limits")) {
        rc = mw_smtp_client_opts_set_reply_limits(o, strtoul(a, NULL, 10), strtoul(b, NULL, 10));
    } else if (!strcmp(key, "limits")) {
        rc = mw_smtp_client_opts_set_limits(o, strtoul(a, NULL, 10), strtoul(b, NULL, 10), strtoul(c3, NULL, 10));
    }
    if (rc != MW_OK) {
        fprintf(stderr, "%s: option %s failed\n", v->name, opt);
        abort();
    }
}

static int replay(const mw_vector *v, size_t chunk, int zero_copy, int verbose)
{
    mw_smtp_client_opts *o = mw_smtp_client_opts_new(NULL);
    CHECK(o != NULL);
    CHECK_INT(mw_smtp_client_opts_set_hostname(o, "client.example"), MW_OK);
    for (size_t i = 0; i < v->nopts; i++) apply_option(o, v, v->opts[i]);
    run *r = calloc(1, sizeof *r);
    if (!r) abort();
    CHECK_INT(mw_smtp_client_new(NULL, o, &r->c), MW_OK);
    mw_smtp_client_opts_free(o);
    mw_replay_init(&r->base, v, &client_io, r->c, chunk, zero_copy);
    r->base.pump = pump;
    r->base.input_error = fail_feed;
    r->base.tls_error = tls_failed;
    mw_replay_segments(&r->base);
    int ok = mw_replay_finish(&r->base, 1, verbose, 0);
    mw_smtp_client_free(r->c);
    mw_sasl_client_free(r->sasl);
    free(r);
    return ok;
}

static void test_vectors(void)
{
    int count = mw_vectors_run_dir(MW_TEST_VECTORS_DIR "/smtp_client", "", "MW_SMTPC_VECTOR", MW_VEC_INPUT_S,
                                   replay, NULL);
    CHECK(count >= 15 || getenv("MW_SMTPC_VECTOR"));
}

/* ---- API checks -------------------------------------------------------- */

static int feed_str(mw_smtp_client *c, const char *s)
{
    return (int)mw_smtp_client_feed(c, s, strlen(s));
}

static int next_type(mw_smtp_client *c)
{
    const mw_smtp_client_event *ev;
    return mw_smtp_client_next(c, &ev);
}

static void test_options(void)
{
    mw_smtp_client_opts *o = mw_smtp_client_opts_new(NULL);
    CHECK(o != NULL);
    CHECK_INT(mw_smtp_client_opts_set_hostname(o, ""), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_opts_set_hostname(o, "a b"), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_opts_set_hostname(o, "a\r\nMAIL"), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_opts_set_hostname(o, "[192.0.2.1]"), MW_OK);
    CHECK_INT(mw_smtp_client_opts_set_flags(o, 0x100u, 1), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_opts_set_starttls(o, 3), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_opts_set_reply_limits(o, 511, 4096), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_opts_set_reply_limits(o, 1024, 512), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_opts_set_reply_limits(o, 1000, 100000), MW_OK);
    CHECK_INT(mw_smtp_client_opts_set_limits(o, 0, 4096, 512), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_opts_set_limits(o, 5, 4096, 4096), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_opts_set_limits(o, 5, 8192, 4096), MW_OK);
    mw_smtp_client *c = NULL;
    CHECK_INT(mw_smtp_client_new(NULL, o, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_new(NULL, o, &c), MW_OK);
    mw_smtp_client_opts_free(o);
    CHECK_INT(feed_str(c, "220 x\r\n"), 7);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_GREETING);
    size_t n;
    const unsigned char *p = mw_smtp_client_out_buf(c, &n);
    CHECK_STR((const char *)p, n, "EHLO [192.0.2.1]\r\n");
    mw_smtp_client_free(c);
    mw_smtp_client_opts_free(NULL);
    mw_smtp_client_free(NULL);
}

static void test_states(void)
{
    mw_smtp_client *c;
    CHECK_INT(mw_smtp_client_new(NULL, NULL, &c), MW_OK);
    const mw_smtp_client_event *ev;
    CHECK_INT(mw_smtp_client_next(c, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_next(c, &ev), 0);
    CHECK(mw_smtp_client_state(c) & MW_WANT_READ);
    CHECK_INT(mw_smtp_client_timeout(c), MW_SMTP_TIMEOUT_GREETING);
    CHECK_INT(mw_smtp_client_quit(c), MW_ERR_STATE); /* the greeting is awaited */
    CHECK_INT(mw_smtp_client_noop(c), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_body_write(c, "x", 1), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_body_end(c), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_recv_ack(c, 1), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_tls_started(c), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_auth_choose(c, ~0u), MW_ERR_UNSUPPORTED);
    size_t cap;
    unsigned char *p = mw_smtp_client_recv_buf(c, &cap);
    CHECK(p != NULL && cap >= 64);
    memcpy(p, "220 mx\r\n", 8);
    CHECK_INT(mw_smtp_client_recv_ack(c, cap + 1), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_recv_ack(c, 8), MW_OK);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_GREETING);
    CHECK_INT(mw_smtp_client_timeout(c), MW_SMTP_TIMEOUT_MAIL);
    mw_smtp_client_envelope env;
    memset(&env, 0, sizeof env);
    mw_smtp_client_rcpt r = {"b@x.example", 0, NULL, NULL};
    env.from = "a@x.example";
    env.rcpts = &r;
    env.nrcpts = 1;
    CHECK_INT(mw_smtp_client_send(c, &env), MW_ERR_STATE); /* no EHLO reply yet */
    CHECK_INT(feed_str(c, "250-mx\r\n250-SIZE 5000\r\n250-PIPELINING\r\n250 STARTTLS\r\n"), 53);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_EHLO); /* then STARTTLS (opportunistic) */
    uint64_t size = 0;
    CHECK_INT(mw_smtp_client_extensions(c, &size, NULL), MW_SMTP_EXT_SIZE | MW_SMTP_EXT_PIPELINING | MW_SMTP_EXT_STARTTLS);
    CHECK_INT(size, 5000);
    CHECK_INT(feed_str(c, "220 go\r\n"), 8);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_STARTTLS);
    CHECK(mw_smtp_client_state(c) & MW_TLS_HANDOFF);
    CHECK_INT(feed_str(c, ""), 0);
    CHECK_INT(mw_smtp_client_tls_started(c), MW_OK);
    CHECK_INT(mw_smtp_client_extensions(c, &size, NULL), 0); /* forgotten (RFC 3207 §4.2) */
    CHECK_INT(feed_str(c, "250-mx\r\n250 PIPELINING\r\n"), 24);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_EHLO);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_READY);
    CHECK_INT(mw_smtp_client_timeout(c), 0);
    CHECK_INT(mw_smtp_client_send(c, NULL), MW_ERR_INVALID);
    env.nrcpts = 0;
    CHECK_INT(mw_smtp_client_send(c, &env), MW_ERR_INVALID);
    env.nrcpts = 1;
    env.flags = 0x8000u;
    CHECK_INT(mw_smtp_client_send(c, &env), MW_ERR_INVALID);
    env.flags = 0;
    CHECK_INT(mw_smtp_client_send(c, &env), MW_OK);
    CHECK_INT(mw_smtp_client_send(c, &env), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_timeout(c), MW_SMTP_TIMEOUT_MAIL);
    CHECK_INT(feed_str(c, "250 ok\r\n250 ok\r\n354 go\r\n"), 24);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_MAIL);
    CHECK_INT(mw_smtp_client_timeout(c), MW_SMTP_TIMEOUT_RCPT);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_RCPT);
    CHECK_INT(mw_smtp_client_timeout(c), MW_SMTP_TIMEOUT_DATA_INIT);
    CHECK_INT(mw_smtp_client_body_write(c, "x", 1), MW_ERR_STATE); /* before SEND_BODY */
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_DATA);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_SEND_BODY);
    CHECK_INT(mw_smtp_client_timeout(c), MW_SMTP_TIMEOUT_DATA_BLOCK);
    CHECK_INT(mw_smtp_client_quit(c), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_body_write(c, NULL, 1), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_body_write(c, "x", 1), 1);
    CHECK_INT(mw_smtp_client_body_end(c), MW_OK);
    CHECK_INT(mw_smtp_client_body_end(c), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_timeout(c), MW_SMTP_TIMEOUT_DATA_TERM);
    CHECK_INT(feed_str(c, "250 ok\r\n"), 8);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_MESSAGE);
    CHECK_INT(next_type(c), MW_SMTP_CLIENT_EV_DONE);
    CHECK(mw_smtp_client_state(c) & MW_WANT_READ); /* idle, but a 421 may come */
    CHECK_INT(mw_smtp_client_eof(c), MW_OK);
    CHECK_INT(next_type(c), MW_ERR_CLOSED); /* nothing outstanding: a quiet close */
    CHECK_INT(mw_smtp_client_quit(c), MW_ERR_STATE);
    CHECK_INT(next_type(c), MW_ERR_CLOSED);
    CHECK(mw_smtp_client_state(c) & MW_CLOSED);
    mw_smtp_client_free(c);
}

/* The body writer consumes only what fits and never more: a huge write
 * against a small output queue comes back in pieces, and the bytes on the
 * wire are the dot-stuffed input whatever the pieces. */
static void body_backpressure(int raw, uint64_t seed)
{
    mw_smtp_client_opts *o = mw_smtp_client_opts_new(NULL);
    mw_smtp_client_opts_set_limits(o, 1, 4096, 512);
    if (raw) mw_smtp_client_opts_set_flags(o, MW_SMTP_CLIENT_RAW_BODY, 1);
    mw_smtp_client_opts_set_starttls(o, MW_SMTP_TLS_NONE);
    mw_smtp_client *c;
    CHECK_INT(mw_smtp_client_new(NULL, o, &c), MW_OK);
    mw_smtp_client_opts_free(o);
    CHECK(feed_str(c, "220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n") > 0);
    mw_smtp_client_envelope env;
    memset(&env, 0, sizeof env);
    mw_smtp_client_rcpt r = {"b@x.example", 0, NULL, NULL};
    env.from = "a@x.example";
    env.rcpts = &r;
    env.nrcpts = 1;
    int t;
    const mw_smtp_client_event *ev;
    while ((t = mw_smtp_client_next(c, &ev)) > 0)
        if (t == MW_SMTP_CLIENT_EV_READY) CHECK_INT(mw_smtp_client_send(c, &env), MW_OK);
    CHECK(t == 0);
    size_t n;
    const unsigned char *p = mw_smtp_client_out_buf(c, &n);
    mw_smtp_client_out_ack(c, n);
    (void)p;
    uint64_t rnd = seed;
    size_t total = 20000;
    char *in = malloc(total);
    mw_vbuf want = {0}, got = {0}, norm = {0};
    int bol = 1;
    for (size_t i = 0; i < total; i++) {
        uint64_t k = mw_test_rand(&rnd) % 8;
        in[i] = k == 0 ? '.' : k == 1 ? '\r' : k == 2 ? '\n' : (char)('a' + k);
        if (seed > 4 && k > 2) in[i] = i % 2 ? '\n' : '\r'; /* mostly CRLF: cuts fall inside pairs */
    }
    if (raw) in[total - 1] = '\r'; /* a CR at the very end */
    for (size_t i = 0; i < total; i++) { /* reference line-end repair: bare CR/LF -> CRLF */
        if (!raw && in[i] == '\r' && i + 1 < total && in[i + 1] == '\n') {
            mw_vbuf_add(&norm, "\r\n", 2);
            i++;
        } else if (!raw && (in[i] == '\r' || in[i] == '\n')) {
            mw_vbuf_add(&norm, "\r\n", 2);
        } else {
            mw_vbuf_add(&norm, in + i, 1);
        }
    }
    for (size_t i = 0; i < norm.len; i++) { /* reference stuffing: "." after CRLF or at the start */
        if (norm.p[i] == '.' && bol) mw_vbuf_add(&want, ".", 1);
        mw_vbuf_add(&want, norm.p + i, 1);
        bol = norm.p[i] == '\n' && i > 0 && norm.p[i - 1] == '\r';
    }
    if (!(norm.len >= 2 && norm.p[norm.len - 2] == '\r' && norm.p[norm.len - 1] == '\n')) mw_vbuf_add(&want, "\r\n", 2);
    mw_vbuf_add(&want, ".\r\n", 3);
    size_t off = 0;
    int zero = 0;
    while (off < total) {
        size_t piece = seed % 2 ? total - off : 1 + (size_t)(mw_test_rand(&rnd) % 9000);
        if (piece > total - off) piece = total - off;
        mw_ssize w = mw_smtp_client_body_write(c, in + off, piece);
        CHECK(w >= 0);
        if (w < 0) break;
        if (w == 0) zero++;
        off += (size_t)w;
        p = mw_smtp_client_out_buf(c, &n);
        if (p) {
            CHECK(n <= 4096);
            mw_vbuf_add(&got, p, n / 2 + 1 < n ? n / 2 + 1 : n); /* partial writes */
            mw_smtp_client_out_ack(c, n / 2 + 1 < n ? n / 2 + 1 : n);
        }
    }
    CHECK_INT(mw_smtp_client_body_end(c), MW_OK);
    while ((p = mw_smtp_client_out_buf(c, &n)) != NULL) {
        mw_vbuf_add(&got, p, n);
        mw_smtp_client_out_ack(c, n);
    }
    CHECK_MEM(got.p, got.len, want.p, want.len);
    free(in);
    free(norm.p);
    free(want.p);
    free(got.p);
    mw_smtp_client_free(c);
}

static void test_body_backpressure(void)
{
    for (uint64_t seed = 1; seed <= 8; seed++) {
        body_backpressure(0, seed);
        body_backpressure(1, seed);
    }
}

int main(void)
{
    MW_RUN(test_vectors);
    MW_RUN(test_options);
    MW_RUN(test_states);
    MW_RUN(test_body_backpressure);
    return mw_test_finish();
}
