/*
 * libFuzzer target for the SMTP/LMTP client engine. The first input octet
 * picks options (LMTP, STARTTLS policy, no pipelining / chunking, small
 * limits) and the cut pattern; the rest is server bytes, fed in pieces.
 * The driver acts like a sending MTA: on READY it sends an envelope (or
 * authenticates first), on SEND_BODY it writes a body with lines starting
 * with "." (and, for DATA, bare CR and LF that must go out as CRLF) and ends it, on DONE it starts the next message or quits, at a
 * TLS handoff it "starts TLS". Invariants (abort() on violation): events
 * are known types; reply codes are 200..559 or 0; slices lie inside the
 * engine's buffers; fatal errors are sticky; the output is only ever
 * CRLF-terminated lines (the body written is CRLF-clean, so a bare CR or
 * LF on the wire would be an engine bug); nothing is sent after
 * MW_TLS_HANDOFF until tls_started.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_client_internal.h"

#include <stdlib.h>

typedef struct out_check {
    unsigned char prev;
    size_t col;
} out_check;

static void check_output(out_check *oc, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (ch == '\n') {
            if (oc->prev != '\r') abort();
            oc->col = 0;
        } else {
            if (oc->prev == '\r') abort(); /* bare CR */
            oc->col++;
        }
        oc->prev = ch;
    }
}

static void in_buffers(const mw_smtp_client *c, mw_slice sl)
{
    if (sl.len == 0) return;
    const char *b = sl.base;
    const char *r = (const char *)c->rbuf, *st = c->store;
    int in_r = r && b >= r && b + sl.len <= r + c->rcap;
    int in_s = st && b >= st && b + sl.len <= st + c->store_cap;
    if (!in_r && !in_s) abort();
}

static void drain(mw_smtp_client *c, out_check *oc, size_t piece)
{
    size_t len;
    const unsigned char *p;
    while ((p = mw_smtp_client_out_buf(c, &len)) != NULL) {
        size_t n = len < piece ? len : piece;
        check_output(oc, p, n);
        mw_smtp_client_out_ack(c, n);
    }
}

static const char body[] = "From: a@b.example\r\nSubject: fuzz\r\n\r\n.line\r\n..\r\n.\r\nend";
/* For DATA: bare line ends, which the engine must turn into CRLF. */
static const char dirty[] = "a\n.\nb\r.\r\n\r\r\n.\rend\r";

static void act(mw_smtp_client *c, const mw_smtp_client_event *ev, int *msgs, mw_sasl_client **sasl,
                int want_auth)
{
    static const mw_smtp_client_rcpt rcpts[3] = {
        {"x@mx.example", MW_SMTP_NOTIFY_FAILURE, "x+y@mx.example", NULL},
        {"y@mx.example", 0, NULL, NULL},
        {"z@mx.example", MW_SMTP_NOTIFY_NEVER, NULL, NULL}};
    mw_smtp_client_envelope env;
    memset(&env, 0, sizeof env);
    env.from = "s@c.example";
    env.rcpts = rcpts;
    env.nrcpts = 3;
    env.flags = MW_SMTP_F_SIZE;
    env.size = sizeof body;
    if (ev->type == MW_SMTP_CLIENT_EV_READY && want_auth && !*sasl) {
        int mech = mw_smtp_client_auth_choose(c, MW_SASL_PASSWORD_MECHS);
        if (mech > 0 && mw_sasl_client_new(sasl, NULL, mw_sasl_mech_name(mech), NULL) == MW_OK) {
            mw_sasl_client_set(*sasl, MW_SASL_PROP_AUTHCID, "user", 4);
            mw_sasl_client_set(*sasl, MW_SASL_PROP_PASSWORD, "pencil", 6);
            mw_sasl_client_set(*sasl, MW_SASL_PROP_NONCE, "rOprNGfwEbeRWgbNEkqO", 20);
            if (mw_smtp_client_auth(c, *sasl, mech) == MW_OK) return;
        }
    }
    if (ev->type == MW_SMTP_CLIENT_EV_READY || ev->type == MW_SMTP_CLIENT_EV_AUTH ||
        (ev->type == MW_SMTP_CLIENT_EV_DONE && *msgs < 3)) {
        ++*msgs;
        if (mw_smtp_client_send(c, &env) != MW_OK) {
            env.flags = 0;
            mw_smtp_client_envelope plain = env;
            static const mw_smtp_client_rcpt one = {"y@mx.example", 0, NULL, NULL};
            plain.rcpts = &one;
            plain.nrcpts = 1;
            mw_smtp_client_send(c, &plain);
        }
    } else if (ev->type == MW_SMTP_CLIENT_EV_SEND_BODY) {
        const char *b = c->bdat ? body : dirty;
        size_t blen = c->bdat ? sizeof body - 1 : sizeof dirty - 1;
        size_t off = 0;
        for (int guard = 0; off < blen && guard < 64; guard++) {
            size_t piece = blen - off < 5 ? blen - off : 5; /* cut often, also inside CRLF */
            mw_ssize w = mw_smtp_client_body_write(c, b + off, piece);
            if (w <= 0) break;
            off += (size_t)w;
        }
        mw_smtp_client_body_end(c);
    } else if (ev->type == MW_SMTP_CLIENT_EV_DONE) {
        mw_smtp_client_quit(c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned cfg = data[0];
    data++;
    size--;
    mw_smtp_client_opts *o = mw_smtp_client_opts_new(NULL);
    if (!o) return 0;
    unsigned flags = 0;
    if (cfg & 1) flags |= MW_SMTP_CLIENT_LMTP;
    if (cfg & 2) flags |= MW_SMTP_CLIENT_NO_PIPELINING;
    if (cfg & 4) flags |= MW_SMTP_CLIENT_NO_CHUNKING;
    if (cfg & 8) flags |= MW_SMTP_CLIENT_PLAINTEXT_AUTH;
    mw_smtp_client_opts_set_flags(o, flags, 1);
    mw_smtp_client_opts_set_starttls(o, (int)((cfg >> 4) % 3));
    if (cfg & 64) mw_smtp_client_opts_set_limits(o, 3, 4096, 512);
    if (cfg & 64) mw_smtp_client_opts_set_reply_limits(o, 512, 1024);
    mw_smtp_client *c;
    if (mw_smtp_client_new(NULL, o, &c) != MW_OK) {
        mw_smtp_client_opts_free(o);
        return 0;
    }
    mw_smtp_client_opts_free(o);
    out_check oc = {0, 0};
    size_t piece = 1 + (cfg >> 5);
    size_t off = 0;
    int msgs = 0, fatal = 0, eof_sent = 0;
    mw_sasl_client *sasl = NULL;
    for (int guard = 0; guard < 100000; guard++) {
        const mw_smtp_client_event *ev;
        int rc = mw_smtp_client_next(c, &ev);
        if (rc > 0) {
            if (fatal || rc > MW_SMTP_CLIENT_EV_UNSOLICITED || !ev || ev->type != rc) abort();
            if (ev->code && (ev->code < 200 || ev->code > 559)) abort();
            in_buffers(c, ev->text);
            in_buffers(c, ev->rcpt);
            in_buffers(c, ev->enhanced);
            act(c, ev, &msgs, &sasl, (cfg & 128) != 0);
            if (mw_smtp_client_state(c) & MW_TLS_HANDOFF) {
                /* nothing may be sent in plaintext after the 220 but what was queued before */
                drain(c, &oc, (size_t)-1);
                if (mw_smtp_client_tls_started(c) != MW_OK) abort();
            }
            drain(c, &oc, piece);
            continue;
        }
        drain(c, &oc, piece);
        if (rc < 0) {
            if (fatal && rc != fatal) abort();
            if (fatal) break;
            fatal = rc;
            if (mw_smtp_client_next(c, &ev) != rc) abort(); /* sticky */
            break;
        }
        if (off < size) {
            size_t n = size - off < piece ? size - off : piece;
            mw_ssize t = mw_smtp_client_feed(c, data + off, n);
            if (t < 0) {
                if (mw_smtp_client_feed(c, data + off, n) != t) abort();
                break;
            }
            off += (size_t)t;
            if (t == 0 && !(mw_smtp_client_state(c) & MW_WANT_READ)) break;
        } else if (!eof_sent) {
            mw_smtp_client_eof(c);
            eof_sent = 1;
        } else {
            break;
        }
    }
    mw_smtp_client_free(c);
    mw_sasl_client_free(sasl);
    return 0;
}
