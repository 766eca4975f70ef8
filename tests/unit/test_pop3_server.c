/*
 * POP3 server engine: dialog vectors (tests/vectors/pop3/server_*.txt)
 * replayed whole, at chunk sizes 1..8 and through the zero-copy path, plus
 * API, streaming, bounded-memory and allocation-failure tests.
 *
 * Answers (A:) to paused events, in order:
 *   accept | reply ok|err CODE|- [TEXT] | challenge ESCAPED
 *   secret PW                 check_secret(PW): accept on match, else reply err AUTH
 *   maildrop SIZE:UID ...     add the messages, then accept
 *   body ESCAPED              accept a RETR/TOP and stream the message
 *   lang TAG [TEXT]           mw_pop3_server_lang_select(TAG, TEXT)
 * Options (O:) include "lang TAG DESCRIPTION" (add_language). Events show
 * " [lang=TAG]" once a language was chosen.
 * Expectations (X:): closed | open | handoff | discarded N | deleted 1,3
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_vectors.h"

#include <stdlib.h>

#include "pop3/pop3_internal.h"

static unsigned capa_bit(const char *n)
{
    static const struct { const char *name; unsigned bit; } t[] = {
        {"TOP", MW_POP3_CAPA_TOP}, {"UIDL", MW_POP3_CAPA_UIDL}, {"USER", MW_POP3_CAPA_USER},
        {"SASL", MW_POP3_CAPA_SASL}, {"RESP-CODES", MW_POP3_CAPA_RESP_CODES},
        {"AUTH-RESP-CODE", MW_POP3_CAPA_AUTH_RESP_CODE}, {"PIPELINING", MW_POP3_CAPA_PIPELINING},
        {"EXPIRE", MW_POP3_CAPA_EXPIRE}, {"LOGIN-DELAY", MW_POP3_CAPA_LOGIN_DELAY},
        {"IMPLEMENTATION", MW_POP3_CAPA_IMPLEMENTATION}, {"UTF8", MW_POP3_CAPA_UTF8},
        {"STLS", MW_POP3_CAPA_STLS}, {"APOP", MW_POP3_CAPA_APOP}, {"LANG", MW_POP3_CAPA_LANG},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].name, n)) return t[i].bit;
    fprintf(stderr, "unknown capability %s\n", n);
    abort();
}

static unsigned flag_bit(const char *n)
{
    if (!strcmp(n, "IMPLICIT_TLS")) return MW_POP3_SERVER_IMPLICIT_TLS;
    if (!strcmp(n, "PLAINTEXT_AUTH")) return MW_POP3_SERVER_PLAINTEXT_AUTH;
    if (!strcmp(n, "TLS_INJECTION_CLOSE")) return MW_POP3_SERVER_TLS_INJECTION_CLOSE;
    if (!strcmp(n, "LF_TO_CRLF")) return MW_POP3_SERVER_LF_TO_CRLF;
    if (!strcmp(n, "BARE_LF")) return MW_POP3_SERVER_BARE_LF;
    fprintf(stderr, "unknown flag %s\n", n);
    abort();
}

static void apply_option(mw_pop3_server_opts *o, const char *opt)
{
    char key[64], a[256] = "", b[64] = "";
    int rc = MW_OK;
    if (sscanf(opt, "%63s %255s %63s", key, a, b) < 1) abort();
    const char *rest = opt + strlen(key) + (opt[strlen(key)] ? 1 : 0);
    if (!strcmp(key, "capa")) rc = mw_pop3_server_opts_set_capabilities(o, capa_bit(a + 1), a[0] == '+');
    else if (!strcmp(key, "flag")) rc = mw_pop3_server_opts_set_flags(o, flag_bit(a), 1);
    else if (!strcmp(key, "greeting")) rc = mw_pop3_server_opts_set_greeting(o, rest);
    else if (!strcmp(key, "timestamp")) rc = mw_pop3_server_opts_set_apop_timestamp(o, a);
    else if (!strcmp(key, "auth")) rc = mw_pop3_server_opts_set_auth_mechanisms(o, rest);
    else if (!strcmp(key, "max-bad")) rc = mw_pop3_server_opts_set_max_bad_commands(o, (unsigned)strtoul(a, NULL, 10));
    else if (!strcmp(key, "lines")) rc = mw_pop3_server_opts_set_max_line(o, strtoul(a, NULL, 10), strtoul(b, NULL, 10));
    else if (!strcmp(key, "expire")) rc = mw_pop3_server_opts_set_policy(o, rest, NULL, NULL);
    else if (!strcmp(key, "login-delay")) rc = mw_pop3_server_opts_set_policy(o, NULL, rest, NULL);
    else if (!strcmp(key, "implementation")) rc = mw_pop3_server_opts_set_policy(o, NULL, NULL, rest);
    else if (!strcmp(key, "lang")) {
        const char *desc = strchr(rest, ' ');
        mw_vbuf d = {0};
        mw_vbuf_unescape(&d, desc ? desc + 1 : "");
        rc = mw_pop3_server_opts_add_language(o, a, d.p ? d.p : "");
        free(d.p);
    }
    else if (!strcmp(key, "max-msgs")) rc = mw_pop3_server_opts_set_max_messages(o, strtoul(a, NULL, 10));
    else rc = MW_VEC_UNKNOWN_OPTION;
    mw_vector_option_check(opt, rc);
}

typedef struct run {
    mw_replay base; /* first: the hooks get &run.base */
    mw_pop3_server *s;
} run;

MW_REPLAY_SERVER_IO(server_io, mw_pop3_server);

static void log_event(run *r, const mw_pop3_event *ev)
{
    mw_vbuf b = {0};
    char t[128];
    switch (ev->type) {
    case MW_POP3_EV_PASS:
        mw_vbuf_slice(&b, "pass ", ev->user);
        mw_vbuf_slice(&b, " ", ev->secret);
        break;
    case MW_POP3_EV_APOP:
        mw_vbuf_slice(&b, "apop ", ev->user);
        mw_vbuf_slice(&b, " ", ev->secret);
        break;
    case MW_POP3_EV_AUTH:
        mw_vbuf_slice(&b, "auth ", ev->arg);
        if (ev->flags & MW_POP3_F_INITIAL) mw_vbuf_slice(&b, " ir=", ev->data);
        break;
    case MW_POP3_EV_AUTH_RESPONSE: mw_vbuf_slice(&b, "auth-response ", ev->data); break;
    case MW_POP3_EV_AUTH_ABORT: mw_vbuf_puts(&b, "auth-abort"); break;
    case MW_POP3_EV_MAILDROP: mw_vbuf_slice(&b, "maildrop ", ev->user); break;
    case MW_POP3_EV_RETR:
    case MW_POP3_EV_TOP:
        snprintf(t, sizeof t, "%s %lu size=%llu", ev->type == MW_POP3_EV_RETR ? "retr" : "top",
                 (unsigned long)ev->msg, (unsigned long long)ev->size);
        mw_vbuf_puts(&b, t);
        if (ev->type == MW_POP3_EV_TOP) {
            snprintf(t, sizeof t, " lines=%llu", (unsigned long long)ev->lines);
            mw_vbuf_puts(&b, t);
        }
        if (ev->uid.len) mw_vbuf_slice(&b, " uid=", ev->uid);
        break;
    case MW_POP3_EV_COMMIT: {
        snprintf(t, sizeof t, "commit count=%zu size=%llu deleted=", ev->count, (unsigned long long)ev->size);
        mw_vbuf_puts(&b, t);
        uint32_t m = 0;
        int first = 1;
        while ((m = mw_pop3_server_next_deleted(r->s, m)) != 0) {
            snprintf(t, sizeof t, "%s%lu", first ? "" : ",", (unsigned long)m);
            mw_vbuf_puts(&b, t);
            first = 0;
        }
        break;
    }
    case MW_POP3_EV_QUIT: mw_vbuf_puts(&b, "quit"); break;
    case MW_POP3_EV_STLS:
        mw_vbuf_puts(&b, "stls"); /* the count depends on the cut: see X: discarded */
        break;
    case MW_POP3_EV_LANG: mw_vbuf_slice(&b, "lang ", ev->arg); break;
    default: snprintf(t, sizeof t, "event %d", ev->type); mw_vbuf_puts(&b, t);
    }
    if (ev->flags & MW_POP3_F_TLS) mw_vbuf_puts(&b, " [tls]");
    if (ev->flags & MW_POP3_F_UTF8) mw_vbuf_puts(&b, " [utf8]");
    if (ev->flags & MW_POP3_F_AUTHENTICATED) mw_vbuf_puts(&b, " [tx]");
    if (*mw_pop3_server_language(r->s)) {
        mw_vbuf_puts(&b, " [lang=");
        mw_vbuf_puts(&b, mw_pop3_server_language(r->s));
        mw_vbuf_puts(&b, "]");
    }
    mw_replay_log(&r->base, b.p);
    free(b.p);
}

/* Stream a message through body_write in chunks, draining when full. */
static int stream_body(run *r, const mw_vbuf *msg)
{
    size_t off = 0;
    int guard = 0;
    while (off < msg->len && mw_pop3_server_body_wanted(r->s)) {
        size_t n = msg->len - off < r->base.chunk ? msg->len - off : r->base.chunk;
        mw_ssize t = mw_pop3_server_body_write(r->s, msg->p + off, n);
        if (t < 0) return (int)t;
        if (t == 0) {
            mw_replay_drain(&r->base);
            if (++guard > 1000) return MW_ERR_LIMIT;
            continue;
        }
        guard = 0;
        off += (size_t)t;
    }
    int rc;
    while ((rc = mw_pop3_server_body_end(r->s)) == MW_ERR_LIMIT) mw_replay_drain(&r->base);
    return rc;
}

static void answer(run *r)
{
    const char *a = mw_replay_next_answer(&r->base);
    int rc;
    if (!a) {
        mw_pop3_server_reply(r->s, 0, NULL, NULL);
        return;
    }
    if (!strcmp(a, "accept")) {
        rc = mw_pop3_server_accept(r->s);
    } else if (!strncmp(a, "reply ", 6)) {
        int ok = !strncmp(a + 6, "ok", 2);
        char code[64];
        const char *text = mw_replay_answer_word(a + 6, code, sizeof code);
        rc = mw_pop3_server_reply(r->s, ok, strcmp(code, "-") && code[0] ? code : NULL, text);
    } else if (!strncmp(a, "challenge", 9)) {
        mw_vbuf b = {0};
        mw_vbuf_unescape(&b, a[9] ? a + 10 : "");
        rc = mw_pop3_server_auth_challenge(r->s, b.p ? b.p : "", b.len);
        free(b.p);
    } else if (!strncmp(a, "secret ", 7)) {
        int m = mw_pop3_server_check_secret(r->s, a + 7, strlen(a + 7));
        rc = m == 1 ? mw_pop3_server_accept(r->s) : mw_pop3_server_reply(r->s, 0, "AUTH", NULL);
    } else if (!strncmp(a, "maildrop", 8)) {
        const char *p = a + 8;
        rc = MW_OK;
        while (*p == ' ') p++;
        while (*p && rc == MW_OK) {
            char *end;
            unsigned long long size = strtoull(p, &end, 10);
            const char *uid = *end == ':' ? end + 1 : end;
            const char *ue = uid;
            while (*ue && *ue != ' ') ue++;
            rc = mw_pop3_server_maildrop_add(r->s, size, uid, (size_t)(ue - uid));
            p = ue;
            while (*p == ' ') p++;
        }
        if (rc == MW_OK) rc = mw_pop3_server_accept(r->s);
    } else if (!strncmp(a, "lang ", 5)) {
        char tag[64];
        const char *text = mw_replay_answer_word(a, tag, sizeof tag);
        mw_vbuf t = {0};
        if (text) mw_vbuf_unescape(&t, text);
        rc = mw_pop3_server_lang_select(r->s, tag, text ? t.p : NULL);
        free(t.p);
    } else if (!strncmp(a, "body ", 5)) {
        mw_vbuf b = {0};
        mw_vbuf_unescape(&b, a + 5);
        rc = mw_pop3_server_accept(r->s);
        if (rc == MW_OK) rc = stream_body(r, &b);
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
    const mw_pop3_event *ev;
    int rc = mw_pop3_server_next(r->s, &ev);
    if (rc > 0) {
        log_event(r, ev);
        if (ev->paused) answer(r);
    }
    return rc;
}

static int replay(const mw_vector *v, size_t chunk, int zero_copy, int verbose)
{
    mw_pop3_server_opts *o = mw_pop3_server_opts_new(NULL);
    CHECK(o != NULL);
    CHECK_INT(mw_pop3_server_opts_set_greeting(o, "POP3 ready"), MW_OK);
    for (size_t i = 0; i < v->nopts; i++) apply_option(o, v->opts[i]);
    run r;
    memset(&r, 0, sizeof r);
    CHECK_INT(mw_pop3_server_new(NULL, o, &r.s), MW_OK);
    mw_pop3_server_opts_free(o);
    mw_replay_init(&r.base, v, &server_io, r.s, chunk, zero_copy);
    int ok = mw_replay_server(&r.base, step, verbose);
    mw_pop3_server_free(r.s);
    return ok;
}

static void test_vectors(void)
{
    int count = mw_vectors_run_dir(MW_TEST_VECTORS_DIR "/pop3", "server_", "MW_POP3_VECTOR", 0, replay, NULL);
    CHECK(count >= 10 || getenv("MW_POP3_VECTOR"));
}


/* ---- API and bounded-memory tests ------------------------------------ */

static void test_options(void)
{
    mw_pop3_server_opts *o = mw_pop3_server_opts_new(NULL);
    CHECK(o != NULL);
    CHECK_INT(mw_pop3_server_opts_set_greeting(o, "bad\r\ntext"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_greeting(o, ""), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_apop_timestamp(o, "no-brackets"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_apop_timestamp(o, "<a b@c>"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_apop_timestamp(o, "<>"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_capabilities(o, 0x80000000u, 1), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_flags(o, 0x80000000u, 1), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_max_line(o, 254, 1000), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_max_line(o, 255, 100000), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_auth_mechanisms(o, "PLAIN LOG\rIN"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_auth_mechanisms(o, "A23456789012345678901"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_max_bad_commands(o, 0), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_input_buffer(o, 100), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_max_messages(o, 0), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_policy(o, "NEVER", "bad\n", NULL), MW_ERR_INVALID);
    /* APOP needs a timestamp; an input buffer must hold an AUTH line */
    mw_pop3_server *s = NULL;
    CHECK_INT(mw_pop3_server_opts_set_capabilities(o, MW_POP3_CAPA_APOP, 1), MW_OK);
    CHECK_INT(mw_pop3_server_new(NULL, o, &s), MW_ERR_INVALID);
    CHECK(s == NULL);
    CHECK_INT(mw_pop3_server_opts_set_capabilities(o, MW_POP3_CAPA_APOP, 0), MW_OK);
    CHECK_INT(mw_pop3_server_opts_set_auth_mechanisms(o, "plain"), MW_OK);
    CHECK_INT(mw_pop3_server_opts_set_input_buffer(o, 4096), MW_OK);
    CHECK_INT(mw_pop3_server_new(NULL, o, &s), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_set_max_line(o, 255, 4096), MW_OK);
    CHECK_INT(mw_pop3_server_new(NULL, o, &s), MW_OK);
    mw_pop3_server_free(s);
    mw_pop3_server_opts_free(o);
    CHECK_INT(mw_pop3_server_new(NULL, NULL, NULL), MW_ERR_INVALID);
}

/* A logged-in session with n messages of the given sizes. */
static mw_pop3_server *login(uint32_t n, size_t max_msgs)
{
    mw_pop3_server_opts *o = mw_pop3_server_opts_new(NULL);
    mw_pop3_server_opts_set_flags(o, MW_POP3_SERVER_PLAINTEXT_AUTH, 1);
    if (max_msgs) mw_pop3_server_opts_set_max_messages(o, max_msgs);
    mw_pop3_server *s = NULL;
    CHECK_INT(mw_pop3_server_new(NULL, o, &s), MW_OK);
    mw_pop3_server_opts_free(o);
    const char *cmds = "USER u\r\nPASS p\r\n";
    CHECK_INT(mw_pop3_server_feed(s, cmds, strlen(cmds)), (mw_ssize)strlen(cmds));
    const mw_pop3_event *ev;
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_PASS);
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_ERR_STATE); /* paused */
    CHECK_INT(mw_pop3_server_maildrop_add(s, 1, "a", 1), MW_ERR_STATE);
    CHECK_INT(mw_pop3_server_check_secret(s, "p", 1), 1);
    CHECK_INT(mw_pop3_server_check_secret(s, "q", 1), 0);
    CHECK_INT(mw_pop3_server_check_secret(s, "pp", 2), 0);
    CHECK_INT(mw_pop3_server_accept(s), MW_OK);
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_MAILDROP);
    CHECK_INT(mw_pop3_server_maildrop_add(s, 1, "bad uid", 7), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_maildrop_add(s, 1, "", 0), MW_ERR_INVALID);
    char uid[80];
    memset(uid, 'u', sizeof uid);
    CHECK_INT(mw_pop3_server_maildrop_add(s, 1, uid, 71), MW_ERR_INVALID);
    for (uint32_t i = 0; i < n; i++) {
        snprintf(uid, sizeof uid, "m%lu", (unsigned long)i);
        int rc = mw_pop3_server_maildrop_add(s, 1000 + i, uid, strlen(uid));
        if (rc != MW_OK) {
            CHECK_INT(rc, max_msgs && i >= max_msgs ? MW_ERR_LIMIT : MW_OK);
            break;
        }
    }
    CHECK_INT(mw_pop3_server_accept(s), MW_OK);
    size_t len;
    mw_pop3_server_out_buf(s, &len);
    mw_pop3_server_out_ack(s, len);
    return s;
}

static void test_maildrop_limit(void)
{
    mw_pop3_server *s = login(20, 10);
    const char *cmd = "STAT\r\n";
    const mw_pop3_event *ev;
    mw_pop3_server_feed(s, cmd, strlen(cmd));
    CHECK_INT(mw_pop3_server_next(s, &ev), 0);
    size_t len;
    const unsigned char *p = mw_pop3_server_out_buf(s, &len);
    CHECK_STR(p, len, "+OK 10 10045\r\n");
    mw_pop3_server_free(s);
}

/* LIST and UIDL of 200000 messages: the output never passes the queue
 * ceiling however slowly the caller drains. */
static void test_big_listing(void)
{
    const uint32_t n = 200000;
    mw_pop3_server *s = login(n, 0);
    const char *cmds = "LIST\r\nUIDL\r\nNOOP\r\n";
    mw_pop3_server_feed(s, cmds, strlen(cmds));
    size_t lines = 0, max_pending = 0, total = 0;
    int noop_seen = 0;
    char last[64] = "";
    size_t lastn = 0;
    for (int guard = 0; guard < 10000000; guard++) {
        const mw_pop3_event *ev;
        int rc = mw_pop3_server_next(s, &ev);
        CHECK(rc == 0);
        size_t len;
        const unsigned char *p = mw_pop3_server_out_buf(s, &len);
        if (!p) break;
        if (len > max_pending) max_pending = len;
        size_t take = len < 1000 ? len : 1000;
        for (size_t i = 0; i < take; i++) {
            if (lastn < sizeof last - 1) last[lastn++] = (char)p[i];
            if (p[i] == '\n') {
                lines++;
                last[lastn] = 0;
                if (!strcmp(last, "+OK\r\n")) noop_seen = 1;
                lastn = 0;
            }
        }
        total += take;
        mw_pop3_server_out_ack(s, take);
    }
    CHECK_INT(lines, 2 * ((size_t)n + 2) + 1);
    CHECK(noop_seen);
    CHECK(max_pending <= MW__POP3_OUT_MAX);
    CHECK(max_pending < 64 * 1024);
    CHECK(total > 4000000);
    mw_pop3_server_free(s);
}

/* RETR of a large message of dot lines: body_write takes only what fits,
 * the output stays bounded, and every line comes out stuffed. */
static void test_body_backpressure(void)
{
    mw_pop3_server *s = login(1, 0);
    const char *cmd = "RETR 1\r\n";
    const mw_pop3_event *ev;
    CHECK_INT(mw_pop3_server_body_write(s, "x", 1), MW_ERR_STATE);
    mw_pop3_server_feed(s, cmd, strlen(cmd));
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_RETR);
    CHECK_INT(mw_pop3_server_body_end(s), MW_ERR_STATE);
    CHECK_INT(mw_pop3_server_accept(s), MW_OK);
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_ERR_STATE); /* streaming */
    size_t hl;
    const unsigned char *hp = mw_pop3_server_out_buf(s, &hl);
    CHECK_STR(hp, hl, "+OK 1000 octets\r\n");
    mw_pop3_server_out_ack(s, hl);
    const size_t lines = 500000;
    static const char unit[] = ".\r\n";
    size_t fed = 0, out_total = 0, max_pending = 0, zero_writes = 0;
    char *chunk = malloc(3 * 1000);
    if (!chunk) abort();
    for (size_t i = 0; i < 1000; i++) memcpy(chunk + 3 * i, unit, 3);
    size_t pos = 0;
    while (fed < lines * 3) {
        size_t want = lines * 3 - fed < 3000 - pos ? lines * 3 - fed : 3000 - pos;
        mw_ssize t = mw_pop3_server_body_write(s, chunk + pos, want);
        CHECK(t >= 0);
        if (t <= 0) {
            zero_writes++;
            size_t len;
            const unsigned char *p = mw_pop3_server_out_buf(s, &len);
            if (len > max_pending) max_pending = len;
            if (p) {
                for (size_t i = 0; i < len; i++)
                    if (p[i] != "..\r\n"[(out_total + i) % 4]) {
                        CHECK(0);
                        break;
                    }
            }
            out_total += len;
            mw_pop3_server_out_ack(s, len);
            continue;
        }
        fed += (size_t)t;
        pos = (pos + (size_t)t) % 3000;
    }
    CHECK_INT(mw_pop3_server_body_end(s), MW_OK);
    size_t len;
    mw_pop3_server_out_buf(s, &len);
    out_total += len;
    CHECK_INT(out_total, lines * 4 + 3);
    CHECK(zero_writes > 10);
    CHECK(max_pending <= 2 * MW__POP3_OUT_HIGH);
    free(chunk);
    mw_pop3_server_free(s);
}

static void test_reply_checks(void)
{
    mw_pop3_server *s = login(2, 0);
    const mw_pop3_event *ev;
    CHECK_INT(mw_pop3_server_accept(s), MW_ERR_STATE);
    CHECK_INT(mw_pop3_server_auth_challenge(s, "x", 1), MW_ERR_STATE);
    mw_pop3_server_feed(s, "RETR 2\r\n", 8);
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_RETR);
    CHECK_INT(ev->msg, 2);
    CHECK_INT(ev->size, 1001);
    CHECK_STR(ev->uid.base, ev->uid.len, "m1");
    CHECK_INT(mw_pop3_server_reply(s, 0, "in-use", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_reply(s, 0, "IN-USE/", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_reply(s, 0, NULL, "a\r\nb"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_reply(s, 0, "SYS/TEMP", "later"), MW_OK);
    size_t len;
    const unsigned char *p = mw_pop3_server_out_buf(s, &len);
    CHECK_STR(p, len, "-ERR [SYS/TEMP] later\r\n");
    mw_pop3_server_free(s);
}

static void test_apop_digest(void)
{
    char hex[33];
    const char *ts = "<1896.697170952@dbc.mtview.ca.us>";
    CHECK_INT(mw_pop3_apop_digest(ts, strlen(ts), "tanstaaf", 8, hex), MW_OK);
    CHECK_STR(hex, 32, "c4c9334bac560ecc979e58001b3e22fb"); /* RFC 1939 §7 */
    CHECK_INT(mw_pop3_apop_digest(NULL, 1, "x", 1, hex), MW_ERR_INVALID);
}

/* body_write/body_end against the codec's dot-stuffer as an oracle, over
 * random CRLF/dot-heavy messages written in random pieces. */
static void test_body_oracle(void)
{
    static const char *tok[] = {".", "x", "\r\n", "..", "\r"};
    uint64_t rng = 77;
    for (int iter = 0; iter < 300; iter++) {
        char content[600];
        size_t n = 0, parts = (size_t)(mw_test_rand(&rng) % 150);
        for (size_t i = 0; i < parts; i++) {
            const char *t = tok[mw_test_rand(&rng) % 5];
            memcpy(content + n, t, strlen(t));
            n += strlen(t);
        }
        mw_codec cd;
        unsigned char want[1400];
        CHECK_INT(mw_dotstuff_init(&cd, 0), MW_OK);
        cd.next_in = (const unsigned char *)content;
        cd.avail_in = n;
        cd.next_out = want;
        cd.avail_out = sizeof want;
        CHECK_INT(mw_dotstuff_step(&cd, 1), MW_CODEC_DONE);
        mw_pop3_server *s = login(1, 0);
        const mw_pop3_event *ev;
        mw_pop3_server_feed(s, "RETR 1\r\n", 8);
        CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_RETR);
        CHECK_INT(mw_pop3_server_reply(s, 1, NULL, "go"), MW_OK);
        size_t off = 0;
        while (off < n) {
            size_t k = 1 + (size_t)(mw_test_rand(&rng) % 7);
            if (k > n - off) k = n - off;
            mw_ssize t = mw_pop3_server_body_write(s, content + off, k);
            CHECK_INT(t, (mw_ssize)k);
            if (t <= 0) break;
            off += k;
        }
        CHECK_INT(mw_pop3_server_body_end(s), MW_OK);
        size_t len;
        const unsigned char *p = mw_pop3_server_out_buf(s, &len);
        CHECK(len >= 7 && p && !memcmp(p, "+OK go\r\n", 8));
        if (len >= 8) CHECK_MEM(p + 8, len - 8, want, (size_t)cd.total_out);
        mw_pop3_server_free(s);
    }
}

/* add_language: tag syntax, description, line length, duplicates, count. */
static void test_lang_options(void)
{
    mw_pop3_server_opts *o = mw_pop3_server_opts_new(NULL);
    CHECK(o != NULL);
    static const char *bad_tags[] = {"", "*", "-en", "en-", "a--b", "en_US", "en us", "\xc3\xa9",
                                     "abcdefghij-abcdefghij-abcdefghij-abc"};
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++)
        CHECK_INT(mw_pop3_server_opts_add_language(o, bad_tags[i], "x"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_add_language(o, "en", ""), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_add_language(o, "en", "a\r\nb"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_add_language(o, "en", "tab\there"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_add_language(o, NULL, "x"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_add_language(o, "en", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_add_language(NULL, "en", "x"), MW_ERR_INVALID);
    /* "tag SP description" fits 200 octets exactly, not 201 */
    char desc[256];
    memset(desc, 'd', sizeof desc);
    desc[200 - 3] = 0;
    CHECK_INT(mw_pop3_server_opts_add_language(o, "en", desc), MW_OK);
    CHECK_INT(mw_pop3_server_opts_add_language(o, "EN", "again"), MW_ERR_INVALID); /* duplicate */
    desc[200 - 3] = 'd';
    desc[200 - 2] = 0;
    CHECK_INT(mw_pop3_server_opts_add_language(o, "de", desc), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_opts_add_language(o, "abcdefghij-abcdefghij-abcdefghij-ab", "35"), MW_OK);
    CHECK_INT(mw_pop3_server_opts_add_language(o, "x-klingon", "tlhIngan Hol \xc3\xa9"), MW_OK);
    for (int i = 3; i < MW_POP3_MAX_LANGUAGES; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "l%d", i);
        CHECK_INT(mw_pop3_server_opts_add_language(o, tag, "lang"), MW_OK);
    }
    CHECK_INT(mw_pop3_server_opts_add_language(o, "zz", "one too many"), MW_ERR_LIMIT);
    mw_pop3_server_opts_clear_languages(o);
    mw_pop3_server_opts_clear_languages(NULL);
    CHECK_INT(mw_pop3_server_opts_add_language(o, "zz", "room again"), MW_OK);
    CHECK_INT(mw_pop3_server_opts_add_language(o, "en", "no longer a duplicate"), MW_OK);
    mw_pop3_server_opts_free(o);
}

static mw_pop3_server *lang_server(const mw_mem *mem, unsigned flags)
{
    mw_pop3_server_opts *o = mw_pop3_server_opts_new(mem);
    if (!o) return NULL;
    mw_pop3_server_opts_set_capabilities(o, MW_POP3_CAPA_LANG, 1);
    mw_pop3_server_opts_set_flags(o, flags, 1);
    mw_pop3_server_opts_add_language(o, "en", "English");
    mw_pop3_server_opts_add_language(o, "fr", "Fran\xc3\xa7" "ais");
    mw_pop3_server *s = NULL;
    mw_pop3_server_new(mem, o, &s);
    mw_pop3_server_opts_free(o);
    return s;
}

static void drain(mw_pop3_server *s, char *buf, size_t cap)
{
    size_t len;
    const unsigned char *p = mw_pop3_server_out_buf(s, &len);
    size_t n = len < cap - 1 ? len : cap - 1;
    if (p) memcpy(buf, p, n);
    buf[n] = 0;
    mw_pop3_server_out_ack(s, len);
}

/* lang_select: state and argument checks; the language survives a refused
 * LANG and is forgotten with the rest of the clear-text state at STLS. */
static void test_lang_select(void)
{
    mw_pop3_server *s = lang_server(NULL, 0);
    CHECK(s != NULL);
    char out[512];
    const mw_pop3_event *ev;
    drain(s, out, sizeof out);
    CHECK_STR(mw_pop3_server_language(s), strlen(mw_pop3_server_language(s)), "");
    CHECK_STR(mw_pop3_server_language(NULL), 0, "");
    CHECK_INT(mw_pop3_server_lang_select(s, "fr", NULL), MW_ERR_STATE);
    CHECK_INT(mw_pop3_server_lang_select(NULL, "fr", NULL), MW_ERR_INVALID);
    const char *cmd = "LANG fr-CA\r\n";
    mw_pop3_server_feed(s, cmd, strlen(cmd));
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_LANG);
    CHECK(ev->paused);
    CHECK_STR(ev->arg.base, ev->arg.len, "fr-CA");
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_ERR_STATE);
    CHECK_INT(mw_pop3_server_lang_select(s, NULL, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_lang_select(s, "*", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_lang_select(s, "fr_CA", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_server_lang_select(s, "fr", "bad\r\n"), MW_ERR_INVALID);
    char longtext[260];
    memset(longtext, 'x', sizeof longtext);
    longtext[201] = 0;
    CHECK_INT(mw_pop3_server_lang_select(s, "fr", longtext), MW_ERR_INVALID);
    longtext[200] = 0;
    /* the longest tag with the longest text and a code still fit one line */
    CHECK_INT(mw_pop3_server_lang_select(s, "fr", "Langue chang\xc3\xa9" "e"), MW_OK); /* prefix match */
    CHECK_INT(mw_pop3_server_lang_select(s, "fr", NULL), MW_ERR_STATE);
    drain(s, out, sizeof out);
    CHECK_STR(out, strlen(out), "+OK fr Langue chang\xc3\xa9" "e\r\n");
    CHECK_STR(mw_pop3_server_language(s), strlen(mw_pop3_server_language(s)), "fr");
    cmd = "LANG abcdefghij-abcdefghij-abcdefghij-ab\r\nLANG de\r\n";
    mw_pop3_server_feed(s, cmd, strlen(cmd));
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_LANG);
    CHECK_INT(mw_pop3_server_lang_select(s, "abcdefghij-abcdefghij-abcdefghij-ab", longtext), MW_OK);
    drain(s, out, sizeof out);
    CHECK_INT(strlen(out), 4 + 35 + 1 + 200 + 2);
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_LANG);
    CHECK_INT(mw_pop3_server_reply(s, 0, NULL, NULL), MW_OK);
    drain(s, out, sizeof out);
    CHECK_STR(out, strlen(out), "-ERR Language not available\r\n");
    CHECK_STR(mw_pop3_server_language(s), strlen(mw_pop3_server_language(s)),
              "abcdefghij-abcdefghij-abcdefghij-ab");
    /* RFC 2595 §4: STLS starts over; the language is forgotten too */
    cmd = "STLS\r\n";
    mw_pop3_server_feed(s, cmd, strlen(cmd));
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_STLS);
    CHECK_INT(mw_pop3_server_tls_started(s), MW_OK);
    CHECK_STR(mw_pop3_server_language(s), strlen(mw_pop3_server_language(s)), "");
    mw_pop3_server_free(s);
}

/* The paused LANG's argument stays valid while more input is fed (the
 * buffer may move), and accept() uses it as asked. */
static void test_lang_arg_survives_feed(void)
{
    mw_pop3_server *s = lang_server(NULL, 0);
    char out[512];
    const mw_pop3_event *ev;
    drain(s, out, sizeof out);
    mw_pop3_server_feed(s, "LANG fr-BE\r\n", 12);
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_POP3_EV_LANG);
    for (int i = 0; i < 200; i++) mw_pop3_server_feed(s, "NOOP\r\n", 6);
    CHECK_STR(ev->arg.base, ev->arg.len, "fr-BE");
    CHECK_INT(mw_pop3_server_accept(s), MW_OK);
    drain(s, out, sizeof out);
    CHECK_STR(out, strlen(out), "+OK fr-BE Language changed\r\n");
    CHECK_STR(mw_pop3_server_language(s), 5, "fr-BE");
    mw_pop3_server_free(s);
}

/* Too many bad LANG arguments end the session like any bad command. */
static void test_lang_bad_limit(void)
{
    mw_pop3_server *s = lang_server(NULL, 0);
    const mw_pop3_event *ev;
    char out[2048];
    drain(s, out, sizeof out);
    for (int i = 0; i < 11; i++) mw_pop3_server_feed(s, "LANG e!\r\n", 9);
    CHECK_INT(mw_pop3_server_next(s, &ev), MW_ERR_CLOSED);
    drain(s, out, sizeof out);
    const char *last = strstr(out, "-ERR Too many bad commands");
    CHECK(last != NULL);
    mw_pop3_server_free(s);
}

/* Allocation failures during a LANG dialog: only the session and its
 * output queue allocate; every failure is MW_ERR_NOMEM and leaks nothing. */
static int alloc_lang(const mw_mem *mem, void *arg)
{
    (void)arg;
    mw_pop3_server *s = lang_server(mem, 0);
    if (!s) return MW_ERR_NOMEM;
    const char *cmds = "CAPA\r\nLANG\r\nLANG *\r\nQUIT\r\n";
    int rc = MW_OK;
    mw_ssize fed = mw_pop3_server_feed(s, cmds, strlen(cmds));
    if (fed < 0) rc = (int)fed;
    const mw_pop3_event *ev;
    int quit = 0;
    for (int guard = 0; rc == MW_OK && guard < 100 && !quit; guard++) {
        int e = mw_pop3_server_next(s, &ev);
        if (e == MW_POP3_EV_LANG) rc = mw_pop3_server_accept(s);
        else if (e == MW_POP3_EV_QUIT) quit = 1;
        else if (e < 0) rc = e;
        else if (e == 0) break;
    }
    if (rc == MW_OK) {
        CHECK(quit);
        CHECK_STR(mw_pop3_server_language(s), 2, "en");
    }
    mw_pop3_server_free(s);
    return rc;
}

static void test_lang_alloc_failures(void)
{
    long runs = mw_test_alloc_loop("pop3 lang", alloc_lang, NULL);
    CHECK(runs >= 2);
}

int main(void)
{
    MW_RUN(test_vectors);
    MW_RUN(test_options);
    MW_RUN(test_maildrop_limit);
    MW_RUN(test_big_listing);
    MW_RUN(test_body_backpressure);
    MW_RUN(test_reply_checks);
    MW_RUN(test_apop_digest);
    MW_RUN(test_body_oracle);
    MW_RUN(test_lang_options);
    MW_RUN(test_lang_select);
    MW_RUN(test_lang_arg_survives_feed);
    MW_RUN(test_lang_bad_limit);
    MW_RUN(test_lang_alloc_failures);
    return mw_test_finish();
}
