/*
 * libFuzzer target for the SMTP/LMTP server engine. The first input octet
 * picks options (LMTP, quirks, AUTH, small buffers, size limit) and the
 * cut pattern; the rest is client bytes, fed in pieces. Every paused event
 * is accepted (or answered with a challenge/refusal chosen by the data),
 * output is drained in partial writes. Invariants checked (abort() on
 * violation): events are positive and known; slices are inside the
 * engine's buffers (input, xtext scratch, SASL data); no event after CLOSED; output only ever contains
 * CRLF-terminated lines with a three-digit code; memory stays within the
 * input buffer ceiling.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_internal.h"

#include <stdlib.h>

/* Every output line is "DDD" ... CRLF, short, without a stray CR or LF. */
static void check_output(const unsigned char *p, size_t n, size_t *col, unsigned char *prev)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (*col < 3 && (c < '0' || c > '9')) abort();
        if (c == '\n') {
            if (*prev != '\r') abort();
            *col = 0;
        } else {
            if (*prev == '\r') abort(); /* bare CR */
            if (++*col > 2000) abort();
        }
        *prev = c;
    }
}

static void in_buffers(const mw_smtp_server *s, mw_slice sl)
{
    if (sl.len == 0) return;
    const char *b = sl.base;
    const char *in0 = (const char *)s->io.in.buf, *sc = (const char *)s->scratch;
    int in_in = in0 && b >= in0 && b + sl.len <= in0 + s->io.in.cap;
    int in_sc = b >= sc && b + sl.len <= sc + s->o.max_cmd;
    const char *ab = (const char *)s->auth_buf;
    int in_auth = ab && b >= ab && b + sl.len <= ab + s->o.max_auth;
    if (!in_in && !in_sc && !in_auth) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0];
    data++;
    size--;
    mw_smtp_server_opts *o = mw_smtp_server_opts_new(NULL);
    if (!o) return 0;
    if (sel & 1) mw_smtp_server_opts_set_flags(o, MW_SMTP_SERVER_LMTP, 1);
    if (sel & 2) mw_smtp_server_opts_set_quirks(o, MW_SMTP_QUIRK_BARE_LF | MW_SMTP_QUIRK_SPACE_AFTER_COLON, 1);
    if (sel & 4) {
        mw_smtp_server_opts_set_auth_mechanisms(o, "PLAIN LOGIN CRAM-MD5");
        mw_smtp_server_opts_set_max_line(o, 512, 1000, 2048);
    }
    if (sel & 8) mw_smtp_server_opts_set_input_buffer(o, 2048);
    if (sel & 16) mw_smtp_server_opts_set_max_message_size(o, 64);
    if (sel & 32)
        mw_smtp_server_opts_set_flags(o, MW_SMTP_SERVER_PAUSE_VRFY | MW_SMTP_SERVER_REJECT_BARE_EOL |
                                             MW_SMTP_SERVER_MANUAL_GREETING | MW_SMTP_SERVER_PLAINTEXT_AUTH, 1);
    mw_smtp_server_opts_set_extensions(o, MW_SMTP_EXT_ALL, 1);
    mw_smtp_server_opts_set_max_bad_commands(o, 50);
    mw_smtp_server *s;
    int rc = mw_smtp_server_new(NULL, o, &s);
    mw_smtp_server_opts_free(o);
    if (rc) return 0;
    size_t cut = (size_t)(sel >> 6) * 7 + 1; /* 1, 8, 15, 22 octets per feed */
    size_t off = 0, ack = cut + 2;
    int closed = 0, zero_copy = (sel & 0x40) != 0;
    size_t col = 0;
    unsigned char prev = 0;
    unsigned answers = 0;
    for (int guard = 0; guard < 1000000; guard++) {
        const mw_smtp_event *ev;
        int t = mw_smtp_server_next(s, &ev);
        if (t > 0) {
            if (closed) abort();
            if (t > MW_SMTP_EV_AUTH_ABORT || !ev || ev->type != t) abort();
            in_buffers(s, ev->data);
            in_buffers(s, ev->path);
            in_buffers(s, ev->arg);
            in_buffers(s, ev->envid);
            in_buffers(s, ev->orcpt);
            if (ev->paused) {
                answers++;
                if ((t == MW_SMTP_EV_AUTH || t == MW_SMTP_EV_AUTH_RESPONSE) && (answers & 1))
                    rc = mw_smtp_server_auth_challenge(s, "chal", 4);
                else if (answers % 5 == 0 && t != MW_SMTP_EV_DATA && t != MW_SMTP_EV_CONNECT)
                    rc = mw_smtp_server_reply(s, 550, NULL, "no");
                else
                    rc = mw_smtp_server_accept(s);
                if (rc != MW_OK && rc != MW_ERR_LIMIT) abort();
            }
            continue;
        }
        if (t == MW_ERR_STATE) {
            if (mw_smtp_server_accept(s) != MW_OK) abort();
            continue;
        }
        size_t n;
        const unsigned char *p = mw_smtp_server_out_buf(s, &n);
        if (p) {
            size_t k = n < ack ? n : ack;
            check_output(p, k, &col, &prev);
            mw_smtp_server_out_ack(s, k);
            continue;
        }
        if (t == MW_ERR_CLOSED) {
            closed = 1;
            break;
        }
        if (t < 0) abort(); /* no other error without allocation failure */
        unsigned st = mw_smtp_server_state(s);
        if (st & MW_TLS_HANDOFF) {
            if (mw_smtp_server_tls_started(s) != MW_OK) abort();
            continue;
        }
        if (s->io.in.cap > s->io.in.max) abort();
        if (off >= size) {
            mw_smtp_server_eof(s);
            continue;
        }
        size_t k = size - off < cut ? size - off : cut;
        if (zero_copy) {
            size_t cap;
            unsigned char *w = mw_smtp_server_recv_buf(s, &cap);
            if (!w) break;
            if (k > cap) k = cap;
            memcpy(w, data + off, k);
            if (mw_smtp_server_recv_ack(s, k) != MW_OK) abort();
        } else {
            mw_ssize f = mw_smtp_server_feed(s, data + off, k);
            if (f < 0) break;
            if (f == 0 && (st & MW_WANT_READ)) abort();
            k = (size_t)f;
        }
        off += k;
    }
    mw_smtp_server_free(s);
    return 0;
}
