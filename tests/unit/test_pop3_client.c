/*
 * POP3 client engine: dialog vectors (tests/vectors/pop3/client_*.txt)
 * against scripted server bytes, replayed whole, at chunk sizes 1..8 and
 * through the zero-copy path; API and allocation-failure tests.
 *
 * In client vectors C: lines are the server's bytes, S: the client's
 * output, and A: caller calls made right after the client is created
 * (commands wait until READY):
 *   user_pass U P | apop U SECRET | auth MECHS USER SECRET | stat | list [N]
 *   | uidl [N] | retr N | top N L | dele N | rset | noop | quit | utf8
 *   | lang [TAG]
 * Options (O:): tls none|opportunistic|required | flag IMPLICIT_TLS |
 *   flag ALLOW_PLAINTEXT | limits LINE QUEUE INBUF | nonce N (SASL nonce)
 * Expectations (X:): closed | open | handoff | error NAME (next()'s error)
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_vectors.h"

#include <stdlib.h>

#include "pop3/pop3_internal.h"

typedef struct crun {
    mw_replay base; /* first: the hooks get &crun.base */
    mw_pop3_client *c;
    int err; /* the error next() or the input ended with, 0 if none */
} crun;

MW_REPLAY_CLIENT_IO(client_io, mw_pop3_client);

static const char *cmd_name(int cmd)
{
    static const char *n[] = {"greeting", "CAPA", "STLS", "USER", "PASS", "APOP", "AUTH", "STAT", "LIST",
                              "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP", "QUIT", "UTF8", "LANG"};
    return cmd >= 0 && cmd < (int)(sizeof n / sizeof n[0]) ? n[cmd] : "?";
}

static void log_cevent(crun *r, const mw_pop3_client_event *ev)
{
    if (ev->type == MW_POP3_CLIENT_EV_BODY) {
        mw_replay_body(&r->base, ev->data);
        return;
    }
    mw_replay_flush_body(&r->base);
    mw_vbuf b = {0};
    char t[128];
    switch (ev->type) {
    case MW_POP3_CLIENT_EV_GREETING:
        mw_vbuf_puts(&b, ev->ok ? "greeting ok " : "greeting err ");
        mw_vbuf_escape(&b, ev->text.base, ev->text.len);
        if (ev->arg.len) {
            mw_vbuf_puts(&b, " ts=");
            mw_vbuf_escape(&b, ev->arg.base, ev->arg.len);
        }
        break;
    case MW_POP3_CLIENT_EV_CAPA:
        mw_vbuf_puts(&b, "capa ");
        mw_vbuf_escape(&b, ev->text.base, ev->text.len);
        if (ev->arg.len) {
            mw_vbuf_puts(&b, " ");
            mw_vbuf_escape(&b, ev->arg.base, ev->arg.len);
        }
        break;
    case MW_POP3_CLIENT_EV_READY: mw_vbuf_puts(&b, "ready"); break;
    case MW_POP3_CLIENT_EV_REPLY:
        snprintf(t, sizeof t, "reply %s %s", cmd_name(ev->cmd), ev->ok ? "ok" : "err");
        mw_vbuf_puts(&b, t);
        if (ev->code.len) {
            mw_vbuf_puts(&b, " [");
            mw_vbuf_escape(&b, ev->code.base, ev->code.len);
            mw_vbuf_puts(&b, "]");
        }
        if (ev->cmd == MW_POP3_CMD_STAT && ev->ok) {
            snprintf(t, sizeof t, " count=%llu size=%llu", (unsigned long long)ev->count, (unsigned long long)ev->size);
            mw_vbuf_puts(&b, t);
        }
        if (ev->cmd == MW_POP3_CMD_LIST && ev->ok && ev->msg) {
            snprintf(t, sizeof t, " size=%llu", (unsigned long long)ev->size);
            mw_vbuf_puts(&b, t);
        }
        if (ev->cmd == MW_POP3_CMD_UIDL && ev->ok && ev->msg) {
            mw_vbuf_puts(&b, " uid=");
            mw_vbuf_escape(&b, ev->arg.base, ev->arg.len);
        }
        if (ev->local) mw_vbuf_puts(&b, " local");
        mw_vbuf_puts(&b, ": ");
        mw_vbuf_escape(&b, ev->text.base, ev->text.len);
        if (ev->id) {
            snprintf(t, sizeof t, " #%llu", (unsigned long long)ev->id);
            mw_vbuf_puts(&b, t);
        }
        break;
    case MW_POP3_CLIENT_EV_LIST:
        snprintf(t, sizeof t, "list %lu %llu", (unsigned long)ev->msg, (unsigned long long)ev->size);
        mw_vbuf_puts(&b, t);
        break;
    case MW_POP3_CLIENT_EV_UIDL:
        snprintf(t, sizeof t, "uidl %lu ", (unsigned long)ev->msg);
        mw_vbuf_puts(&b, t);
        mw_vbuf_escape(&b, ev->arg.base, ev->arg.len);
        break;
    case MW_POP3_CLIENT_EV_LANG:
        mw_vbuf_puts(&b, "lang ");
        mw_vbuf_escape(&b, ev->text.base, ev->text.len);
        mw_vbuf_puts(&b, " = ");
        mw_vbuf_escape(&b, ev->arg.base, ev->arg.len);
        break;
    case MW_POP3_CLIENT_EV_END:
        snprintf(t, sizeof t, "end %s", cmd_name(ev->cmd));
        mw_vbuf_puts(&b, t);
        break;
    default: snprintf(t, sizeof t, "event %d", ev->type); mw_vbuf_puts(&b, t);
    }
    mw_replay_log(&r->base, b.p);
    free(b.p);
}

/* The first error ends the replay's input. */
static void stop(mw_replay *base, int rc)
{
    ((crun *)base)->err = rc;
    base->stop = 1;
}

static void cpump(mw_replay *base)
{
    crun *r = (crun *)base;
    for (int guard = 0; guard < 1000000 && !r->err; guard++) {
        const mw_pop3_client_event *ev;
        int rc = mw_pop3_client_next(r->c, &ev);
        mw_replay_drain(&r->base);
        if (rc > 0) {
            log_cevent(r, ev);
            continue;
        }
        if (rc < 0) stop(base, rc);
        return;
    }
}

static int do_action(mw_pop3_client *c, const char *a)
{
    char w[5][400] = {{0}};
    int n = sscanf(a, "%399s %399s %399s %399s %399s", w[0], w[1], w[2], w[3], w[4]);
    uint32_t x = n > 1 ? (uint32_t)strtoul(w[1], NULL, 10) : 0;
    mw_ssize rc;
    if (!strcmp(w[0], "user_pass")) rc = mw_pop3_client_user_pass(c, w[1], w[2]);
    else if (!strcmp(w[0], "apop")) rc = mw_pop3_client_apop(c, w[1], w[2]);
    else if (!strcmp(w[0], "auth")) {
        unsigned mask = 0;
        char *save = NULL;
        for (char *m = strtok_r(w[1], ",", &save); m; m = strtok_r(NULL, ",", &save))
            mask |= MW_SASL_BIT(mw_sasl_mech_from_name(m, strlen(m)));
        rc = mw_pop3_client_auth(c, mask, NULL, w[2], w[3]);
    } else if (!strcmp(w[0], "stat")) rc = mw_pop3_client_stat(c);
    else if (!strcmp(w[0], "list")) rc = mw_pop3_client_list(c, x);
    else if (!strcmp(w[0], "uidl")) rc = mw_pop3_client_uidl(c, x);
    else if (!strcmp(w[0], "retr")) rc = mw_pop3_client_retr(c, x);
    else if (!strcmp(w[0], "top")) rc = mw_pop3_client_top(c, x, (uint32_t)strtoul(w[2], NULL, 10));
    else if (!strcmp(w[0], "dele")) rc = mw_pop3_client_dele(c, x);
    else if (!strcmp(w[0], "rset")) rc = mw_pop3_client_rset(c);
    else if (!strcmp(w[0], "noop")) rc = mw_pop3_client_noop(c);
    else if (!strcmp(w[0], "quit")) rc = mw_pop3_client_quit(c);
    else if (!strcmp(w[0], "utf8")) rc = mw_pop3_client_utf8(c);
    else if (!strcmp(w[0], "lang")) rc = mw_pop3_client_lang(c, n > 1 ? w[1] : NULL);
    else rc = MW_ERR_INVALID;
    return rc < 0 ? (int)rc : 0;
}

static const char *err_name(int e)
{
    switch (e) {
    case MW_ERR_CLOSED: return "CLOSED";
    case MW_ERR_PROTOCOL: return "PROTOCOL";
    case MW_ERR_TLS_INJECTION: return "TLS_INJECTION";
    case MW_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case MW_ERR_AUTH: return "AUTH";
    case MW_ERR_TRUNCATED: return "TRUNCATED";
    case MW_ERR_NOMEM: return "NOMEM";
    default: return "OTHER";
    }
}

static mw_pop3_client *make_client(const mw_vector *v)
{
    mw_pop3_client_opts *o = mw_pop3_client_opts_new(NULL);
    mw_sasl_options *so = mw_sasl_options_new(NULL);
    if (!o || !so) abort();
    const char *nonce = NULL;
    for (size_t i = 0; i < v->nopts; i++) {
        char k[64], a[128] = "", b[64] = "", c3[64] = "";
        sscanf(v->opts[i], "%63s %127s %63s %63s", k, a, b, c3);
        int rc = MW_OK;
        if (!strcmp(k, "tls"))
            rc = mw_pop3_client_opts_set_tls(o, !strcmp(a, "none") ? MW_POP3_TLS_NONE
                                                : !strcmp(a, "required") ? MW_POP3_TLS_REQUIRED
                                                                          : MW_POP3_TLS_OPPORTUNISTIC);
        else if (!strcmp(k, "flag"))
            rc = mw_pop3_client_opts_set_flags(o, !strcmp(a, "IMPLICIT_TLS") ? MW_POP3_CLIENT_IMPLICIT_TLS
                                                                              : MW_POP3_CLIENT_ALLOW_PLAINTEXT, 1);
        else if (!strcmp(k, "limits"))
            rc = mw_pop3_client_opts_set_limits(o, strtoul(a, NULL, 10), strtoul(b, NULL, 10), strtoul(c3, NULL, 10));
        else if (!strcmp(k, "nonce"))
            nonce = v->opts[i] + 6;
        else
            rc = MW_ERR_INVALID;
        if (rc) {
            fprintf(stderr, "option %s failed\n", v->opts[i]);
            abort();
        }
    }
    (void)nonce;
    mw_pop3_client *c = NULL;
    CHECK_INT(mw_pop3_client_new(NULL, o, so, &c), MW_OK);
    mw_pop3_client_opts_free(o);
    mw_sasl_options_free(so);
    return c;
}

static int creplay(const mw_vector *v, size_t chunk, int zero_copy, int verbose)
{
    crun r;
    memset(&r, 0, sizeof r);
    r.c = make_client(v);
    mw_replay_init(&r.base, v, &client_io, r.c, chunk, zero_copy);
    r.base.pump = cpump;
    r.base.input_error = stop;
    for (size_t i = 0; i < v->nanswers; i++) {
        int rc = do_action(r.c, v->answers[i]);
        if (rc) {
            char t[200];
            snprintf(t, sizeof t, "!! action '%.100s' failed: %d", v->answers[i], rc);
            mw_replay_fail(&r.base, t);
        }
    }
    mw_replay_segments(&r.base);
    mw_replay_drain(&r.base);
    int ok = 1, want_err = 0;
    for (size_t i = 0; i < v->nexpect; i++) {
        if (strncmp(v->expect[i], "error ", 6)) continue;
        want_err = 1;
        if (strcmp(err_name(r.err), v->expect[i] + 6)) ok = 0;
    }
    if (!want_err && r.err && r.err != MW_ERR_CLOSED) ok = 0;
    if (!ok || verbose) fprintf(stderr, "vector %s: error %s\n", v->name, r.err ? err_name(r.err) : "none");
    ok = mw_replay_finish(&r.base, ok, verbose, 1);
    mw_pop3_client_free(r.c);
    return ok;
}

static void test_vectors(void)
{
    int count = mw_vectors_run_dir(MW_TEST_VECTORS_DIR "/pop3", "client_", "MW_POP3_VECTOR", 0, creplay, NULL);
    CHECK(count >= 8 || getenv("MW_POP3_VECTOR"));
}


/* ---- API tests -------------------------------------------------------- */

static mw_pop3_client *plain_client(int policy)
{
    mw_pop3_client_opts *o = mw_pop3_client_opts_new(NULL);
    mw_pop3_client_opts_set_tls(o, policy);
    mw_pop3_client *c = NULL;
    CHECK_INT(mw_pop3_client_new(NULL, o, NULL, &c), MW_OK);
    mw_pop3_client_opts_free(o);
    return c;
}

static int feed_str(mw_pop3_client *c, const char *s)
{
    return (int)mw_pop3_client_feed(c, s, strlen(s));
}

static void test_client_options(void)
{
    mw_pop3_client_opts *o = mw_pop3_client_opts_new(NULL);
    CHECK_INT(mw_pop3_client_opts_set_tls(o, 7), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_opts_set_flags(o, 0x100u, 1), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_opts_set_limits(o, 100, 4, 4096), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_opts_set_limits(o, 512, 0, 4096), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_opts_set_limits(o, 1024, 4, 512), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_opts_set_limits(o, 512, 2, 4096), MW_OK);
    mw_pop3_client *c = NULL;
    CHECK_INT(mw_pop3_client_new(NULL, o, NULL, &c), MW_OK);
    mw_pop3_client_opts_free(o);
    /* builders refuse injection (DESIGN rule 5) */
    CHECK_INT(mw_pop3_client_user_pass(c, "u\r\nDELE 1", "p"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_user_pass(c, "u", "p\n"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_user_pass(c, "", "p"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_apop(c, "a b", "s"), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_retr(c, 0), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_dele(c, 0), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_top(c, 0, 1), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_auth(c, 0, NULL, "u", "p"), MW_ERR_INVALID);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_INT(mw_pop3_client_user_pass(c, longname, "p"), MW_ERR_INVALID);
    /* LANG: a tag (RFC 5646 simple form) or "*"; nothing that could
     * smuggle a second command */
    static const char *bad_tags[] = {"", "**", "en\r\nDELE 1", "en us", "-en", "en-", "a--b", "en_US",
                                     "abcdefghij-abcdefghij-abcdefghij-abc"};
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++)
        CHECK_INT(mw_pop3_client_lang(c, bad_tags[i]), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_lang(NULL, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_pop3_client_lang(NULL, "en"), MW_ERR_INVALID);
    /* queue bound: two slots */
    CHECK_INT(mw_pop3_client_noop(c), 1);
    CHECK_INT(mw_pop3_client_user_pass(c, "u", "p"), MW_ERR_LIMIT); /* the pair does not fit */
    CHECK_INT(mw_pop3_client_noop(c), 2);
    CHECK_INT(mw_pop3_client_stat(c), MW_ERR_LIMIT);
    mw_pop3_client_free(c);
    c = plain_client(MW_POP3_TLS_NONE);
    CHECK_INT(mw_pop3_client_quit(c), 1);
    CHECK_INT(mw_pop3_client_noop(c), MW_ERR_STATE); /* nothing after QUIT */
    mw_pop3_client_free(c);
}

static void test_client_apop_without_timestamp(void)
{
    mw_pop3_client *c = plain_client(MW_POP3_TLS_NONE);
    const mw_pop3_client_event *ev;
    feed_str(c, "+OK no banner here\r\n");
    CHECK_INT(mw_pop3_client_next(c, &ev), MW_POP3_CLIENT_EV_GREETING);
    CHECK_INT(ev->arg.len, 0);
    CHECK_INT(mw_pop3_client_apop(c, "u", "s"), MW_ERR_UNSUPPORTED);
    mw_pop3_client_free(c);
}

static void test_client_long_line(void)
{
    mw_pop3_client *c = plain_client(MW_POP3_TLS_NONE);
    const mw_pop3_client_event *ev;
    char line[700];
    memset(line, 'x', sizeof line);
    memcpy(line, "+OK ", 4);
    CHECK_INT(mw_pop3_client_feed(c, line, sizeof line), (mw_ssize)sizeof line);
    CHECK_INT(mw_pop3_client_next(c, &ev), MW_ERR_PROTOCOL);
    CHECK_INT(mw_pop3_client_next(c, &ev), MW_ERR_PROTOCOL); /* sticky */
    CHECK(mw_pop3_client_state(c) & MW_CLOSED);
    mw_pop3_client_free(c);
}

static void test_client_auth_no_mechanism(void)
{
    mw_pop3_client *c = plain_client(MW_POP3_TLS_NONE);
    const mw_pop3_client_event *ev;
    CHECK_INT(mw_pop3_client_auth(c, MW_SASL_BIT(MW_SASL_MECH_SCRAM_SHA_256), NULL, "u", "p"), 1);
    feed_str(c, "+OK hi\r\n+OK\r\nSASL PLAIN\r\n.\r\n");
    int types[8], n = 0, rc;
    while ((rc = mw_pop3_client_next(c, &ev)) > 0 && n < 8) {
        types[n++] = rc;
        if (rc == MW_POP3_CLIENT_EV_REPLY && ev->cmd == MW_POP3_CMD_AUTH) {
            CHECK_INT(ev->ok, 0);
            CHECK_INT(ev->local, 1);
        }
    }
    CHECK_INT(n, 6); /* greeting, CAPA reply, capa, end, ready, local AUTH refusal */
    size_t len;
    const unsigned char *p = mw_pop3_client_out_buf(c, &len);
    CHECK_STR(p, len, "CAPA\r\n"); /* no AUTH went out */
    (void)types;
    mw_pop3_client_free(c);
}

/* The client's in-place unstuffer against the codec's dot-unstuffer as an
 * oracle, over random dot/CR/LF-heavy bodies cut at random places. */
static void test_client_body_oracle(void)
{
    static const char alphabet[] = ".\r\n.x\r\n";
    uint64_t rng = 2026;
    for (int iter = 0; iter < 300; iter++) {
        size_t n = (size_t)(mw_test_rand(&rng) % 300);
        char content[300], wire[700];
        for (size_t i = 0; i < n; i++) content[i] = alphabet[mw_test_rand(&rng) % (sizeof alphabet - 1)];
        /* what a server sends: the codec's stuffer adds the terminator */
        mw_codec cd;
        CHECK_INT(mw_dotstuff_init(&cd, 0), MW_OK);
        cd.next_in = (const unsigned char *)content;
        cd.avail_in = n;
        cd.next_out = (unsigned char *)wire;
        cd.avail_out = sizeof wire;
        CHECK_INT(mw_dotstuff_step(&cd, 1), MW_CODEC_DONE);
        size_t w = (size_t)cd.total_out;
        /* oracle */
        unsigned char want[700];
        CHECK_INT(mw_dotunstuff_init(&cd, 0), MW_OK);
        cd.next_in = (const unsigned char *)wire;
        cd.avail_in = w;
        cd.next_out = want;
        cd.avail_out = sizeof want;
        int rc = mw_dotunstuff_step(&cd, 1);
        CHECK_INT(rc, MW_CODEC_DONE);
        size_t want_len = (size_t)cd.total_out, used = (size_t)cd.total_in;
        /* client */
        mw_pop3_client *c = plain_client(MW_POP3_TLS_NONE);
        CHECK(mw_pop3_client_retr(c, 1) > 0);
        CHECK(mw_pop3_client_noop(c) > 0);
        feed_str(c, "+OK\r\n-ERR\r\n+OK\r\n");
        mw_vbuf got = {0};
        int ended = 0, noop = 0;
        const mw_pop3_client_event *ev;
        size_t off = 0;
        char tail[700];
        memcpy(tail, wire, w);
        memcpy(tail + w, "+OK\r\n", 5);
        size_t total = w + 5;
        while (off < total) {
            size_t k = 1 + (size_t)(mw_test_rand(&rng) % 9);
            if (k > total - off) k = total - off;
            CHECK_INT(mw_pop3_client_feed(c, tail + off, k), (mw_ssize)k);
            off += k;
            while ((rc = mw_pop3_client_next(c, &ev)) > 0) {
                if (rc == MW_POP3_CLIENT_EV_BODY) mw_vbuf_add(&got, ev->data.base, ev->data.len);
                if (rc == MW_POP3_CLIENT_EV_END) ended = 1;
                if (rc == MW_POP3_CLIENT_EV_REPLY && ev->cmd == MW_POP3_CMD_NOOP) noop = 1;
            }
            CHECK_INT(rc, 0);
        }
        CHECK(ended && noop);
        CHECK_MEM(got.p ? got.p : "", got.len, want, want_len);
        CHECK_INT(used, w); /* the oracle stopped at the same terminator */
        free(got.p);
        mw_pop3_client_free(c);
    }
}

int main(void)
{
    MW_RUN(test_vectors);
    MW_RUN(test_client_options);
    MW_RUN(test_client_apop_without_timestamp);
    MW_RUN(test_client_long_line);
    MW_RUN(test_client_auth_no_mechanism);
    MW_RUN(test_client_body_oracle);
    return mw_test_finish();
}
