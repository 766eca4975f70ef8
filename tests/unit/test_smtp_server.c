/*
 * SMTP/LMTP server engine: dialog vectors (tests/vectors/smtp/NAME.txt)
 * replayed whole, at chunk sizes 1..8 and through the zero-copy path, plus
 * API, pipelining, body and allocation-failure tests.
 *
 * Vector format, one directive per line ("#" starts a comment line):
 *   O: option          engine option (see apply_option)
 *   C: text            client bytes, escapes \r \n \t \0 \\ \xHH, CRLF appended
 *   c: text            client bytes without the CRLF
 *   S: text            expected server bytes, CRLF appended
 *   E: text            expected event log line (see log_event)
 *   A: answer          answer to the next paused event, in order:
 *                      accept | reply CODE ENH|- [TEXT] | lines CODE ENH|- T1|T2..
 *                      | challenge ESCAPED
 *   T: tls | eof       transport step after the client bytes above it
 *   X: expectation     checked at the end: closed | open | discarded N | handoff
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_vectors.h"

#include "smtp/smtp_internal.h"

#include <stdlib.h>

/* ---- options ---------------------------------------------------------- */

static unsigned name_bit(const char *n)
{
    static const struct { const char *name; unsigned bit; } t[] = {
        {"PIPELINING", MW_SMTP_EXT_PIPELINING}, {"SIZE", MW_SMTP_EXT_SIZE},
        {"8BITMIME", MW_SMTP_EXT_8BITMIME}, {"SMTPUTF8", MW_SMTP_EXT_SMTPUTF8},
        {"CHUNKING", MW_SMTP_EXT_CHUNKING}, {"BINARYMIME", MW_SMTP_EXT_BINARYMIME},
        {"ENHANCEDSTATUSCODES", MW_SMTP_EXT_ENHANCEDSTATUSCODES}, {"DSN", MW_SMTP_EXT_DSN},
        {"STARTTLS", MW_SMTP_EXT_STARTTLS}, {"AUTH", MW_SMTP_EXT_AUTH},
        {"REQUIRETLS", MW_SMTP_EXT_REQUIRETLS}, {"MT-PRIORITY", MW_SMTP_EXT_MT_PRIORITY},
        {"LMTP", MW_SMTP_SERVER_LMTP}, {"IMPLICIT_TLS", MW_SMTP_SERVER_IMPLICIT_TLS},
        {"PLAINTEXT_AUTH", MW_SMTP_SERVER_PLAINTEXT_AUTH},
        {"MANUAL_GREETING", MW_SMTP_SERVER_MANUAL_GREETING},
        {"PAUSE_VRFY", MW_SMTP_SERVER_PAUSE_VRFY},
        {"TLS_INJECTION_CLOSE", MW_SMTP_SERVER_TLS_INJECTION_CLOSE},
        {"REJECT_BARE_EOL", MW_SMTP_SERVER_REJECT_BARE_EOL},
        {"BARE_LF", MW_SMTP_QUIRK_BARE_LF}, {"SPACE_AFTER_COLON", MW_SMTP_QUIRK_SPACE_AFTER_COLON},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, n) == 0) return t[i].bit;
    fprintf(stderr, "unknown option name %s\n", n);
    abort();
}

static void apply_option(mw_smtp_server_opts *o, const char *opt)
{
    char key[64], a[256] = "", b[64] = "", c[64] = "";
    int k = sscanf(opt, "%63s %255s %63s %63s", key, a, b, c);
    int rc = MW_OK;
    if (k < 1) abort();
    if (!strcmp(key, "ext")) rc = mw_smtp_server_opts_set_extensions(o, name_bit(a + 1), a[0] == '+');
    else if (!strcmp(key, "flag")) rc = mw_smtp_server_opts_set_flags(o, name_bit(a), 1);
    else if (!strcmp(key, "quirk")) rc = mw_smtp_server_opts_set_quirks(o, name_bit(a), 1);
    else if (!strcmp(key, "host")) rc = mw_smtp_server_opts_set_hostname(o, a);
    else if (!strcmp(key, "max-size")) rc = mw_smtp_server_opts_set_max_message_size(o, strtoull(a, NULL, 10));
    else if (!strcmp(key, "max-rcpt")) rc = mw_smtp_server_opts_set_max_recipients(o, strtoul(a, NULL, 10));
    else if (!strcmp(key, "max-bad")) rc = mw_smtp_server_opts_set_max_bad_commands(o, (unsigned)strtoul(a, NULL, 10));
    else if (!strcmp(key, "inbuf")) rc = mw_smtp_server_opts_set_input_buffer(o, strtoul(a, NULL, 10));
    else if (!strcmp(key, "lines"))
        rc = mw_smtp_server_opts_set_max_line(o, strtoul(a, NULL, 10), strtoul(b, NULL, 10), strtoul(c, NULL, 10));
    else if (!strcmp(key, "auth")) rc = mw_smtp_server_opts_set_auth_mechanisms(o, opt + 5);
    else if (!strcmp(key, "mail-params")) rc = mw_smtp_server_opts_declare_params(o, 0, a, b[0] ? opt + strlen(key) + strlen(a) + 2 : NULL);
    else if (!strcmp(key, "rcpt-params")) rc = mw_smtp_server_opts_declare_params(o, 1, a, NULL);
    else rc = MW_VEC_UNKNOWN_OPTION;
    mw_vector_option_check(opt, rc);
}

/* ---- event log -------------------------------------------------------- */

typedef struct run {
    mw_replay base; /* first: the hooks get &run.base */
    mw_smtp_server *s;
} run;

MW_REPLAY_SERVER_IO(server_io, mw_smtp_server);

static void log_event(run *r, const mw_smtp_event *ev)
{
    if (ev->type == MW_SMTP_EV_BODY) {
        mw_replay_body(&r->base, ev->data);
        return;
    }
    mw_replay_flush_body(&r->base);
    mw_vbuf b = {0};
    char t[64];
    switch (ev->type) {
    case MW_SMTP_EV_CONNECT: mw_vbuf_puts(&b, "connect"); break;
    case MW_SMTP_EV_HELO:
        for (size_t i = 0; i < ev->verb.len; i++) {
            char c = (char)(ev->verb.base[i] | 0x20);
            mw_vbuf_add(&b, &c, 1);
        }
        mw_vbuf_slice(&b, " ", ev->arg);
        break;
    case MW_SMTP_EV_MAIL:
    case MW_SMTP_EV_RCPT:
        mw_vbuf_puts(&b, ev->type == MW_SMTP_EV_MAIL ? "mail <" : "rcpt <");
        mw_vbuf_escape(&b, ev->path.base, ev->path.len);
        mw_vbuf_puts(&b, ">");
        if (ev->flags & MW_SMTP_F_SIZE) {
            snprintf(t, sizeof t, " size=%llu", (unsigned long long)ev->size);
            mw_vbuf_puts(&b, t);
        }
        if (ev->body) mw_vbuf_puts(&b, ev->body == 1 ? " body=7BIT" : ev->body == 2 ? " body=8BITMIME" : " body=BINARYMIME");
        if (ev->flags & MW_SMTP_F_SMTPUTF8) mw_vbuf_puts(&b, " smtputf8");
        if (ev->ret) mw_vbuf_puts(&b, ev->ret == 1 ? " ret=FULL" : " ret=HDRS");
        if (ev->flags & MW_SMTP_F_ENVID) mw_vbuf_slice(&b, " envid=", ev->envid);
        if (ev->flags & MW_SMTP_F_AUTH) mw_vbuf_slice(&b, " auth=", ev->auth);
        if (ev->flags & MW_SMTP_F_REQUIRETLS) mw_vbuf_puts(&b, " requiretls");
        if (ev->flags & MW_SMTP_F_MT_PRIORITY) {
            snprintf(t, sizeof t, " mt-priority=%d", ev->mt_priority);
            mw_vbuf_puts(&b, t);
        }
        if (ev->flags & MW_SMTP_F_POSTMASTER) mw_vbuf_puts(&b, " postmaster");
        if (ev->notify) {
            mw_vbuf_puts(&b, " notify=");
            if (ev->notify & MW_SMTP_NOTIFY_NEVER) mw_vbuf_puts(&b, "NEVER");
            if (ev->notify & MW_SMTP_NOTIFY_SUCCESS) mw_vbuf_puts(&b, "S");
            if (ev->notify & MW_SMTP_NOTIFY_FAILURE) mw_vbuf_puts(&b, "F");
            if (ev->notify & MW_SMTP_NOTIFY_DELAY) mw_vbuf_puts(&b, "D");
        }
        if (ev->flags & MW_SMTP_F_ORCPT) {
            mw_vbuf_slice(&b, " orcpt=", ev->orcpt_type);
            mw_vbuf_slice(&b, ";", ev->orcpt);
        }
        if (ev->params.len) mw_vbuf_slice(&b, " params=", ev->params);
        break;
    case MW_SMTP_EV_DATA:
        snprintf(t, sizeof t, "data rcpts=%zu", ev->rcpt_count);
        mw_vbuf_puts(&b, t);
        break;
    case MW_SMTP_EV_BDAT:
        snprintf(t, sizeof t, "bdat %llu%s", (unsigned long long)ev->size, (ev->flags & MW_SMTP_F_LAST) ? " last" : "");
        mw_vbuf_puts(&b, t);
        break;
    case MW_SMTP_EV_BODY_END:
        snprintf(t, sizeof t, "end size=%llu rcpts=%zu", (unsigned long long)ev->size, ev->rcpt_count);
        mw_vbuf_puts(&b, t);
        if (ev->reject_code) {
            snprintf(t, sizeof t, " reject=%d", ev->reject_code);
            mw_vbuf_puts(&b, t);
        }
        break;
    case MW_SMTP_EV_RSET: mw_vbuf_puts(&b, "rset"); break;
    case MW_SMTP_EV_VRFY: mw_vbuf_slice(&b, "vrfy ", ev->arg); break;
    case MW_SMTP_EV_EXPN: mw_vbuf_slice(&b, "expn ", ev->arg); break;
    case MW_SMTP_EV_QUIT: mw_vbuf_puts(&b, "quit"); break;
    case MW_SMTP_EV_STARTTLS: mw_vbuf_puts(&b, "starttls"); break;
    case MW_SMTP_EV_AUTH:
        mw_vbuf_slice(&b, "auth ", ev->arg);
        if (ev->flags & MW_SMTP_F_INITIAL) mw_vbuf_slice(&b, " ir=", ev->data);
        break;
    case MW_SMTP_EV_AUTH_RESPONSE: mw_vbuf_slice(&b, "auth-response ", ev->data); break;
    case MW_SMTP_EV_AUTH_ABORT:
        snprintf(t, sizeof t, "auth-abort %d", ev->reject_code);
        mw_vbuf_puts(&b, t);
        break;
    default: snprintf(t, sizeof t, "event %d", ev->type); mw_vbuf_puts(&b, t);
    }
    if (ev->flags & MW_SMTP_F_TLS) mw_vbuf_puts(&b, " [tls]");
    if (ev->flags & MW_SMTP_F_AUTHENTICATED) mw_vbuf_puts(&b, " [authed]");
    mw_replay_log(&r->base, b.p);
    free(b.p);
}

static void answer(run *r)
{
    const char *a = mw_replay_next_answer(&r->base);
    int rc;
    if (!a) {
        mw_smtp_server_accept(r->s);
        return;
    }
    if (!strcmp(a, "accept")) {
        rc = mw_smtp_server_accept(r->s);
    } else if (!strncmp(a, "reply ", 6) || !strncmp(a, "lines ", 6)) {
        int code = atoi(a + 6);
        char enh[32];
        const char *text = mw_replay_answer_word(a + 6, enh, sizeof enh);
        const char *enhp = strcmp(enh, "-") ? enh : NULL;
        if (a[0] == 'r') {
            rc = mw_smtp_server_reply(r->s, code, enhp, text);
        } else {
            char tmp[1024];
            const char *lines[16];
            size_t n = 0;
            snprintf(tmp, sizeof tmp, "%s", text ? text : "");
            char *tok = tmp;
            for (;;) {
                char *bar = strchr(tok, '|');
                lines[n++] = tok;
                if (!bar || n == 16) break;
                *bar = 0;
                tok = bar + 1;
            }
            rc = mw_smtp_server_reply_lines(r->s, code, enhp, lines, n);
        }
    } else if (!strncmp(a, "challenge", 9)) {
        mw_vbuf b = {0};
        mw_vbuf_unescape(&b, a[9] ? a + 10 : "");
        rc = mw_smtp_server_auth_challenge(r->s, b.p ? b.p : "", b.len);
        free(b.p);
    } else {
        rc = MW_ERR_INVALID;
    }
    mw_replay_answered(&r->base, a, rc);
}

/* One event for mw_replay_pump_server. */
static int step(mw_replay *base)
{
    run *r = (run *)base;
    const mw_smtp_event *ev;
    int rc = mw_smtp_server_next(r->s, &ev);
    if (rc == MW_ERR_STATE) { /* still paused: LMTP wants one reply per recipient */
        answer(r);
        return 1;
    }
    if (rc > 0) {
        log_event(r, ev);
        if (ev->paused) answer(r);
    }
    return rc;
}

static int replay_buf(const mw_vector *v, size_t chunk, int zero_copy, int verbose, size_t inbuf)
{
    mw_smtp_server_opts *o = mw_smtp_server_opts_new(NULL);
    CHECK(o != NULL);
    CHECK_INT(mw_smtp_server_opts_set_hostname(o, "mx.example.org"), MW_OK);
    for (size_t i = 0; i < v->nopts; i++) apply_option(o, v->opts[i]);
    if (inbuf) mw_smtp_server_opts_set_input_buffer(o, inbuf);
    run r;
    memset(&r, 0, sizeof r);
    CHECK_INT(mw_smtp_server_new(NULL, o, &r.s), MW_OK);
    mw_smtp_server_opts_free(o);
    mw_replay_init(&r.base, v, &server_io, r.s, chunk, zero_copy);
    int ok = mw_replay_server(&r.base, step, verbose);
    mw_smtp_server_free(r.s);
    return ok;
}

static int replay(const mw_vector *v, size_t chunk, int zero_copy, int verbose)
{
    return replay_buf(v, chunk, zero_copy, verbose, 0);
}

/* The smallest input buffer (1 KiB) exercises the buffer-full paths;
 * vectors with AUTH mechanisms need room for an AUTH line. */
static int replay_small_buffer(const mw_vector *v)
{
    int ok = 1;
    for (size_t i = 0; i < v->nopts; i++)
        if (!strncmp(v->opts[i], "auth ", 5)) return ok;
    for (size_t chunk = 1; ok && chunk <= 9; chunk += 4)
        ok = replay_buf(v, chunk == 9 ? (size_t)-1 : chunk, (int)(chunk / 4 % 2), 0, 1024);
    return ok;
}

static void test_vectors(void)
{
    int count = mw_vectors_run_dir(MW_TEST_VECTORS_DIR "/smtp", "", "MW_SMTP_VECTOR", 0, replay,
                                   replay_small_buffer);
    CHECK(count >= 20 || getenv("MW_SMTP_VECTOR"));
}

int main(void)
{
    MW_RUN(test_vectors);
    return mw_test_finish();
}
