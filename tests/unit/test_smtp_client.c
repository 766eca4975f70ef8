/*
 * SMTP/LMTP client engine: reply parsing (multi-line, enhanced codes,
 * malformed input, split-invariance), command building and injection
 * refusal, pipelining rules, the body writer, STARTTLS, and whole sessions
 * against the server engine (loopback, no sockets).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/smtp.h>

#include <stdlib.h>

/* ---- loopback ---------------------------------------------------------- */

typedef struct loop {
    mw_smtp_server *s;
    mw_smtp_client *c;
    char body[8192];
    size_t body_len;
    int refuse_rcpt; /* RCPT paths starting with "no" are refused */
    int codes[64];
    int cmds[64];
    size_t idx[64];
    size_t n;
} loop;

static void server_events(loop *L)
{
    const mw_smtp_event *ev;
    int t;
    while ((t = mw_smtp_server_next(L->s, &ev)) > 0 || t == MW_ERR_STATE) {
        if (t == MW_ERR_STATE) {
            CHECK_INT(mw_smtp_server_accept(L->s), MW_OK);
            continue;
        }
        if (t == MW_SMTP_EV_BODY) {
            if (L->body_len + ev->data.len <= sizeof L->body) {
                memcpy(L->body + L->body_len, ev->data.base, ev->data.len);
                L->body_len += ev->data.len;
            }
            continue;
        }
        if (!ev->paused) continue;
        if (t == MW_SMTP_EV_RCPT && L->refuse_rcpt && ev->path.len >= 2 && !memcmp(ev->path.base, "no", 2))
            CHECK_INT(mw_smtp_server_reply(L->s, 550, "5.1.1", "No such user"), MW_OK);
        else
            CHECK_INT(mw_smtp_server_accept(L->s), MW_OK);
    }
}

/* Move bytes both ways until nothing moves; collect client replies. */
static void run(loop *L)
{
    for (int round = 0; round < 1000; round++) {
        int moved = 0;
        size_t n;
        const unsigned char *p;
        while ((p = mw_smtp_client_out_buf(L->c, &n)) != NULL) {
            mw_ssize t = mw_smtp_server_feed(L->s, p, n);
            if (t <= 0) break;
            mw_smtp_client_out_ack(L->c, (size_t)t);
            moved = 1;
            server_events(L);
        }
        server_events(L);
        while ((p = mw_smtp_server_out_buf(L->s, &n)) != NULL) {
            mw_ssize t = mw_smtp_client_feed(L->c, p, n);
            if (t <= 0) break;
            mw_smtp_server_out_ack(L->s, (size_t)t);
            moved = 1;
        }
        const mw_smtp_reply *r;
        while (mw_smtp_client_next(L->c, &r) == MW_SMTP_CEV_REPLY) {
            if (L->n < 64) {
                L->codes[L->n] = r->code;
                L->cmds[L->n] = r->cmd;
                L->idx[L->n] = r->rcpt_index;
                L->n++;
            }
            moved = 1;
        }
        if (!moved) return;
    }
}

static void loop_init(loop *L, int lmtp)
{
    memset(L, 0, sizeof *L);
    mw_smtp_server_opts *so = mw_smtp_server_opts_new(NULL);
    mw_smtp_server_opts_set_hostname(so, "mx.example.org");
    mw_smtp_server_opts_set_max_message_size(so, 100000);
    if (lmtp) mw_smtp_server_opts_set_flags(so, MW_SMTP_SERVER_LMTP, 1);
    CHECK_INT(mw_smtp_server_new(NULL, so, &L->s), MW_OK);
    mw_smtp_server_opts_free(so);
    mw_smtp_client_opts *co = mw_smtp_client_opts_new(NULL);
    CHECK_INT(mw_smtp_client_opts_set_hostname(co, "client.example.net"), MW_OK);
    if (lmtp) mw_smtp_client_opts_set_flags(co, MW_SMTP_CLIENT_LMTP, 1);
    CHECK_INT(mw_smtp_client_new(NULL, co, &L->c), MW_OK);
    mw_smtp_client_opts_free(co);
    L->refuse_rcpt = 1;
}

static void loop_free(loop *L)
{
    mw_smtp_client_free(L->c);
    mw_smtp_server_free(L->s);
}

static void test_loopback_session(void)
{
    loop L;
    loop_init(&L, 0);
    CHECK_INT(mw_smtp_client_ehlo(L.c), MW_ERR_STATE); /* before the greeting */
    run(&L);
    CHECK_INT(L.n, 1);
    CHECK_INT(L.cmds[0], MW_SMTP_CMD_GREETING);
    CHECK_INT(L.codes[0], 220);
    CHECK_INT(mw_smtp_client_ehlo(L.c), MW_OK);
    CHECK_INT(mw_smtp_client_mail(L.c, "a@c.example", NULL), MW_ERR_STATE); /* EHLO ends a group */
    run(&L);
    CHECK_INT(L.codes[1], 250);
    /* The whole envelope in one flight (RFC 2920). */
    CHECK_INT(mw_smtp_client_mail(L.c, "a@c.example", "BODY=8BITMIME SIZE=200"), MW_OK);
    CHECK_INT(mw_smtp_client_rcpt(L.c, "x@mx.example.org", NULL), MW_OK);
    CHECK_INT(mw_smtp_client_rcpt(L.c, "nobody@mx.example.org", NULL), MW_OK);
    CHECK_INT(mw_smtp_client_rcpt(L.c, "y@mx.example.org", "NOTIFY=NEVER"), MW_OK);
    CHECK_INT(mw_smtp_client_data(L.c), MW_OK);
    CHECK_INT(mw_smtp_client_noop(L.c), MW_ERR_STATE); /* DATA ends the group */
    size_t pending;
    mw_smtp_client_out_buf(L.c, &pending);
    CHECK(pending > 100); /* all queued before any reply */
    run(&L);
    CHECK_INT(L.n, 7);
    int want_codes[] = {250, 250, 550, 250, 354};
    int want_cmds[] = {MW_SMTP_CMD_MAIL, MW_SMTP_CMD_RCPT, MW_SMTP_CMD_RCPT, MW_SMTP_CMD_RCPT, MW_SMTP_CMD_DATA};
    for (int i = 0; i < 5; i++) {
        CHECK_INT(L.codes[2 + i], want_codes[i]);
        CHECK_INT(L.cmds[2 + i], want_cmds[i]);
    }
    CHECK_INT(L.idx[4], 1);
    /* Dots at line starts, a bare LF, a bare CR, no final CRLF. */
    static const char body[] = "Subject: t\r\n\r\n.hidden\r\n..two\nbare lf\rbare cr\r\n.\r\nend";
    size_t off = 0;
    while (off < sizeof body - 1) {
        mw_ssize t = mw_smtp_client_body_write(L.c, body + off, 5 < sizeof body - 1 - off ? 5 : sizeof body - 1 - off);
        CHECK(t > 0);
        if (t <= 0) break;
        off += (size_t)t;
        run(&L);
    }
    CHECK_INT(mw_smtp_client_body_end(L.c), MW_OK);
    run(&L);
    CHECK_INT(L.n, 8);
    CHECK_INT(L.cmds[7], MW_SMTP_CMD_DATA_END);
    CHECK_INT(L.codes[7], 250);
    CHECK_STR(L.body, L.body_len,
              "Subject: t\r\n\r\n.hidden\r\n..two\r\nbare lf\r\nbare cr\r\n.\r\nend\r\n");
    CHECK_INT(mw_smtp_client_quit(L.c), MW_OK);
    run(&L);
    CHECK_INT(L.codes[8], 221);
    CHECK(mw_smtp_client_state(L.c) & MW_CLOSED);
    CHECK(mw_smtp_server_state(L.s) & MW_CLOSED);
    CHECK_INT(mw_smtp_client_noop(L.c), MW_ERR_STATE);
    loop_free(&L);
}

static void test_loopback_lmtp_and_bdat(void)
{
    loop L;
    loop_init(&L, 1);
    run(&L);
    CHECK_INT(mw_smtp_client_ehlo(L.c), MW_OK);
    run(&L);
    CHECK_INT(L.codes[1], 250);
    CHECK_INT(mw_smtp_client_mail(L.c, "", NULL), MW_OK);
    CHECK_INT(mw_smtp_client_rcpt(L.c, "a@mx.example.org", NULL), MW_OK);
    CHECK_INT(mw_smtp_client_rcpt(L.c, "no@mx.example.org", NULL), MW_OK);
    CHECK_INT(mw_smtp_client_rcpt(L.c, "b@mx.example.org", NULL), MW_OK);
    CHECK_INT(mw_smtp_client_data(L.c), MW_OK);
    run(&L);
    CHECK_INT(L.codes[6], 354);
    CHECK_INT(mw_smtp_client_body_write(L.c, "hi\r\n", 4), 4);
    CHECK_INT(mw_smtp_client_body_end(L.c), MW_OK);
    run(&L);
    CHECK_INT(L.n, 9); /* one reply per accepted recipient (RFC 2033 §4.2) */
    CHECK_INT(L.cmds[7], MW_SMTP_CMD_DATA_END);
    CHECK_INT(L.cmds[8], MW_SMTP_CMD_DATA_END);
    CHECK_INT(L.idx[7], 0);
    CHECK_INT(L.idx[8], 1);
    /* BDAT: two chunks, pipelined behind the envelope. */
    L.body_len = 0;
    CHECK_INT(mw_smtp_client_mail(L.c, "a@c.example", "BODY=BINARYMIME"), MW_OK);
    CHECK_INT(mw_smtp_client_rcpt(L.c, "a@mx.example.org", NULL), MW_OK);
    CHECK_INT(mw_smtp_client_bdat(L.c, 5, 0), MW_OK);
    CHECK_INT(mw_smtp_client_noop(L.c), MW_ERR_STATE); /* chunk octets owed */
    CHECK_INT(mw_smtp_client_body_write(L.c, ".\r\n\0x", 6), MW_ERR_STATE); /* more than the size */
    CHECK_INT(mw_smtp_client_body_write(L.c, ".\r\n\0x", 5), 5);
    CHECK_INT(mw_smtp_client_bdat(L.c, 0, 1), MW_OK);
    run(&L);
    CHECK_INT(L.n, 13);
    CHECK_INT(L.cmds[11], MW_SMTP_CMD_BDAT);
    CHECK_INT(L.codes[11], 250);
    CHECK_INT(L.codes[12], 250);
    CHECK_MEM(L.body, L.body_len, ".\r\n\0x", 5);
    loop_free(&L);
}

static void test_loopback_starttls(void)
{
    loop L;
    loop_init(&L, 0);
    run(&L);
    CHECK_INT(mw_smtp_client_ehlo(L.c), MW_OK);
    run(&L);
    CHECK_INT(mw_smtp_client_starttls(L.c), MW_OK);
    run(&L);
    CHECK_INT(L.codes[2], 220);
    CHECK(mw_smtp_client_state(L.c) & MW_TLS_HANDOFF);
    CHECK(mw_smtp_server_state(L.s) & MW_TLS_HANDOFF);
    CHECK_INT(mw_smtp_client_mail(L.c, "a@b", NULL), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_tls_started(L.c), MW_OK);
    CHECK_INT(mw_smtp_server_tls_started(L.s), MW_OK);
    CHECK_INT(mw_smtp_client_tls_started(L.c), MW_ERR_STATE);
    /* capabilities forgotten: no pipelining until EHLO again */
    CHECK_INT(mw_smtp_client_ehlo(L.c), MW_OK);
    const mw_smtp_reply *r = NULL;
    run(&L);
    CHECK_INT(L.codes[3], 250);
    CHECK_INT(mw_smtp_client_starttls(L.c), MW_OK);
    run(&L);
    CHECK_INT(L.codes[4], 503); /* TLS already active */
    (void)r;
    loop_free(&L);
}

/* ---- reply parser -------------------------------------------------------- */

static mw_smtp_client *greeted_client(const char *ehlo_reply)
{
    mw_smtp_client *c;
    CHECK_INT(mw_smtp_client_new(NULL, NULL, &c), MW_OK);
    const mw_smtp_reply *r;
    mw_smtp_client_feed(c, "220 hi\r\n", 8);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    if (ehlo_reply) {
        CHECK_INT(mw_smtp_client_ehlo(c), MW_OK);
        mw_smtp_client_feed(c, ehlo_reply, strlen(ehlo_reply));
        CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    }
    size_t n;
    mw_smtp_client_out_buf(c, &n);
    mw_smtp_client_out_ack(c, n);
    return c;
}

static void test_reply_parsing_split(void)
{
    static const char ehlo[] = "250-mx.example.org hello\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n"
                               "250-AUTH PLAIN LOGIN\r\n250-8bitmime\r\n250 STARTTLS\r\n";
    for (size_t chunk = 1; chunk <= 9; chunk++) {
        mw_smtp_client *c = greeted_client(NULL);
        CHECK_INT(mw_smtp_client_ehlo(c), MW_OK);
        const mw_smtp_reply *r = NULL;
        size_t off = 0;
        int got = 0;
        while (off < sizeof ehlo - 1) {
            size_t n = chunk == 9 ? sizeof ehlo - 1 : chunk;
            if (n > sizeof ehlo - 1 - off) n = sizeof ehlo - 1 - off;
            CHECK_INT(mw_smtp_client_feed(c, ehlo + off, n), (mw_ssize)n);
            off += n;
            int t = mw_smtp_client_next(c, &r);
            if (t == MW_SMTP_CEV_REPLY) {
                got++;
                CHECK_INT(off, sizeof ehlo - 1);
                CHECK_INT(r->cmd, MW_SMTP_CMD_EHLO);
                CHECK_INT(r->code, 250);
                CHECK_INT(r->nlines, 6);
                CHECK_STR(r->text.base, r->text.len, "mx.example.org hello");
                CHECK_INT(r->size, 35882577);
                CHECK_INT(r->ext, MW_SMTP_EXT_PIPELINING | MW_SMTP_EXT_SIZE | MW_SMTP_EXT_AUTH |
                                      MW_SMTP_EXT_8BITMIME | MW_SMTP_EXT_STARTTLS);
                CHECK_STR(r->auth.base, r->auth.len, "PLAIN LOGIN");
                CHECK_INT(r->lines.len, sizeof ehlo - 1);
            } else {
                CHECK_INT(t, 0);
            }
        }
        CHECK_INT(got, 1);
        mw_smtp_client_free(c);
    }
}

static void test_reply_enhanced_and_errors(void)
{
    mw_smtp_client *c = greeted_client("250 ok\r\n");
    const mw_smtp_reply *r;
    CHECK_INT(mw_smtp_client_noop(c), MW_OK);
    mw_smtp_client_feed(c, "250 2.0.0 Fine thanks\r\n", 23);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    CHECK_STR(r->enhanced.base, r->enhanced.len, "2.0.0");
    CHECK_STR(r->text.base, r->text.len, "Fine thanks");
    CHECK_INT(mw_smtp_client_noop(c), MW_OK);
    mw_smtp_client_feed(c, "550 2.0.0 class mismatch\r\n", 26);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    CHECK_INT(r->enhanced.len, 0);
    CHECK_STR(r->text.base, r->text.len, "2.0.0 class mismatch");
    CHECK_INT(mw_smtp_client_noop(c), MW_OK);
    mw_smtp_client_feed(c, "250\r\n", 5);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    CHECK_INT(r->text.len, 0);
    mw_smtp_client_free(c);

    static const char *const bad[] = {
        "250-a\r\n251 b\r\n", /* codes differ */
        "25\r\n",             /* short */
        "250 ok\n",           /* bare LF */
        "250xok\r\n",         /* bad separator */
        "650 ok\r\n",         /* no such class */
        "250 a\rb\r\n",       /* bare CR inside */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = greeted_client("250 ok\r\n");
        CHECK_INT(mw_smtp_client_noop(c), MW_OK);
        mw_smtp_client_feed(c, bad[i], strlen(bad[i]));
        CHECK_INT(mw_smtp_client_next(c, &r), MW_ERR_PROTOCOL);
        CHECK_INT(mw_smtp_client_next(c, &r), MW_ERR_PROTOCOL); /* sticky */
        CHECK(mw_smtp_client_state(c) & MW_CLOSED);
        mw_smtp_client_free(c);
    }
    /* A reply nobody asked for is a protocol error; an unsolicited 421 closes. */
    c = greeted_client("250 ok\r\n");
    mw_smtp_client_feed(c, "250 surprise\r\n", 14);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_ERR_PROTOCOL);
    mw_smtp_client_free(c);
    c = greeted_client("250 ok\r\n");
    mw_smtp_client_feed(c, "421 4.3.2 shutting down\r\n", 25);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    CHECK_INT(r->code, 421);
    CHECK(mw_smtp_client_state(c) & MW_CLOSED);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_ERR_CLOSED);
    mw_smtp_client_free(c);
    /* An endless reply line: a clear error, bounded memory. */
    c = greeted_client("250 ok\r\n");
    CHECK_INT(mw_smtp_client_noop(c), MW_OK);
    char junk[1000];
    memset(junk, 'x', sizeof junk);
    memcpy(junk, "250 ", 4);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) {
        mw_smtp_client_feed(c, junk, sizeof junk);
        rc = mw_smtp_client_next(c, &r);
    }
    CHECK_INT(rc, MW_ERR_PROTOCOL);
    mw_smtp_client_free(c);
}

static void test_starttls_injection(void)
{
    mw_smtp_client *c = greeted_client("250-x\r\n250 STARTTLS\r\n");
    const mw_smtp_reply *r;
    CHECK_INT(mw_smtp_client_starttls(c), MW_OK);
    static const char evil[] = "220 go ahead\r\n250 injected\r\n";
    mw_smtp_client_feed(c, evil, sizeof evil - 1);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_ERR_TLS_INJECTION);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_ERR_TLS_INJECTION);
    mw_smtp_client_free(c);
    /* Clean 220, then plaintext fed during the handoff: also fatal. */
    c = greeted_client("250-x\r\n250 STARTTLS\r\n");
    CHECK_INT(mw_smtp_client_starttls(c), MW_OK);
    mw_smtp_client_feed(c, "220 go\r\n", 8);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    CHECK(mw_smtp_client_state(c) & MW_TLS_HANDOFF);
    CHECK_INT(mw_smtp_client_next(c, &r), 0);
    CHECK_INT(mw_smtp_client_feed(c, "250 x\r\n", 7), MW_ERR_TLS_INJECTION);
    mw_smtp_client_free(c);
}

static void test_command_injection_refused(void)
{
    mw_smtp_client *c = greeted_client("250-x\r\n250 PIPELINING\r\n");
    CHECK_INT(mw_smtp_client_mail(c, "a@b>\r\nRCPT TO:<evil", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_mail(c, "a@b", "SIZE=1\r\nRSET"), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_mail(c, "a>b@c", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_rcpt(c, "", NULL), MW_ERR_INVALID);
    CHECK_INT(mw_smtp_client_auth(c, "PLAIN\r\nX", NULL, 0), MW_ERR_INVALID);
    char longaddr[300];
    memset(longaddr, 'a', sizeof longaddr - 1);
    longaddr[sizeof longaddr - 1] = 0;
    CHECK_INT(mw_smtp_client_mail(c, longaddr, NULL), MW_ERR_INVALID);
    size_t n;
    CHECK(mw_smtp_client_out_buf(c, &n) == NULL); /* nothing was emitted */
    CHECK_INT(mw_smtp_client_mail(c, "a@b", NULL), MW_OK);
    CHECK_INT(mw_smtp_client_auth_response(c, "x", 1), MW_ERR_STATE);
    const unsigned char *p = mw_smtp_client_out_buf(c, &n);
    CHECK_STR(p, n, "MAIL FROM:<a@b>\r\n");
    mw_smtp_client_free(c);
    /* No PIPELINING offered: one command at a time. */
    c = greeted_client("250 x\r\n");
    CHECK_INT(mw_smtp_client_mail(c, "a@b", NULL), MW_OK);
    CHECK_INT(mw_smtp_client_rcpt(c, "c@d", NULL), MW_ERR_STATE);
    CHECK_INT(mw_smtp_client_bdat(c, 3, 1), MW_ERR_UNSUPPORTED); /* no CHUNKING offered */
    mw_smtp_client_free(c);
}

static void test_auth_commands(void)
{
    mw_smtp_client *c = greeted_client("250-x\r\n250 AUTH PLAIN LOGIN\r\n");
    const mw_smtp_reply *r;
    size_t n;
    const unsigned char *p;
    CHECK_INT(mw_smtp_client_auth(c, "PLAIN", "\0tim\0pw", 7), MW_OK);
    p = mw_smtp_client_out_buf(c, &n);
    CHECK_STR(p, n, "AUTH PLAIN AHRpbQBwdw==\r\n");
    mw_smtp_client_out_ack(c, n);
    mw_smtp_client_feed(c, "535 5.7.8 no\r\n", 14);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    CHECK_INT(r->cmd, MW_SMTP_CMD_AUTH);
    CHECK_INT(mw_smtp_client_auth(c, "LOGIN", NULL, 0), MW_OK);
    mw_smtp_client_feed(c, "334 VXNlcm5hbWU6\r\n", 18);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    CHECK_INT(r->code, 334);
    CHECK_INT(mw_smtp_client_mail(c, "a@b", NULL), MW_ERR_STATE); /* inside the exchange */
    CHECK_INT(mw_smtp_client_auth_response(c, "tim", 3), MW_OK);
    mw_smtp_client_feed(c, "334 UGFzc3dvcmQ6\r\n", 18);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    CHECK_INT(mw_smtp_client_auth_response(c, NULL, 0), MW_OK); /* cancel */
    p = mw_smtp_client_out_buf(c, &n);
    CHECK_STR(p, n, "AUTH LOGIN\r\ndGlt\r\n*\r\n");
    mw_smtp_client_out_ack(c, n);
    mw_smtp_client_feed(c, "501 5.7.0 cancelled\r\n", 21);
    CHECK_INT(mw_smtp_client_next(c, &r), MW_SMTP_CEV_REPLY);
    CHECK_INT(mw_smtp_client_auth(c, "XTEST", "", 0), MW_OK);
    p = mw_smtp_client_out_buf(c, &n);
    CHECK_STR(p, n, "AUTH XTEST =\r\n");
    mw_smtp_client_free(c);
}

static int client_session_alloc(const mw_mem *mem, void *arg)
{
    (void)arg;
    mw_smtp_client_opts *o = mw_smtp_client_opts_new(mem);
    if (!o) return MW_ERR_NOMEM;
    mw_smtp_client *c;
    int rc = mw_smtp_client_new(mem, o, &c);
    mw_smtp_client_opts_free(o);
    if (rc) return rc;
    static const char *const replies[] = {"220 hi\r\n", "250-x\r\n250 PIPELINING\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", "250 done\r\n"};
    const mw_smtp_reply *r;
    for (int step = 0; step < 4 && rc == MW_OK; step++) {
        mw_ssize f = mw_smtp_client_feed(c, replies[step], strlen(replies[step]));
        if (f < 0) rc = (int)f;
        int t;
        while (rc == MW_OK && (t = mw_smtp_client_next(c, &r)) == MW_SMTP_CEV_REPLY) {}
        if (rc == MW_OK && t < 0) rc = t;
        if (rc) break;
        if (step == 0) rc = mw_smtp_client_ehlo(c);
        if (step == 1) {
            rc = mw_smtp_client_mail(c, "a@b", NULL);
            if (!rc) rc = mw_smtp_client_rcpt(c, "c@d", NULL);
            if (!rc) rc = mw_smtp_client_data(c);
        }
        if (step == 2) {
            mw_ssize w = mw_smtp_client_body_write(c, ".x\r\n", 4);
            rc = w < 0 ? (int)w : mw_smtp_client_body_end(c);
        }
        size_t n;
        if (mw_smtp_client_out_buf(c, &n)) mw_smtp_client_out_ack(c, n);
    }
    mw_smtp_client_free(c);
    return rc;
}

static void test_client_alloc_failures(void)
{
    CHECK(mw_test_alloc_loop("smtp client", client_session_alloc, NULL) >= 3);
}

int main(void)
{
    MW_RUN(test_loopback_session);
    MW_RUN(test_loopback_lmtp_and_bdat);
    MW_RUN(test_loopback_starttls);
    MW_RUN(test_reply_parsing_split);
    MW_RUN(test_reply_enhanced_and_errors);
    MW_RUN(test_starttls_injection);
    MW_RUN(test_command_injection_refused);
    MW_RUN(test_auth_commands);
    MW_RUN(test_client_alloc_failures);
    return mw_test_finish();
}
