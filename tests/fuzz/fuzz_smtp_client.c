/*
 * libFuzzer target for the SMTP client engine: arbitrary server bytes,
 * fed in pieces, while the harness drives a normal session (EHLO, a
 * pipelined envelope when offered, DATA with a body full of dots and bare
 * line ends, STARTTLS when offered, QUIT). Invariants (abort() on
 * violation): reply codes are 200..599 with a known command; slices lie in
 * the reply's lines; nothing comes after CLOSED; output lines end in CRLF
 * with no bare CR or LF.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/smtp.h>

#include <stdlib.h>
#include <string.h>

static void within(mw_slice outer, mw_slice inner)
{
    if (inner.len == 0) return;
    if (inner.base < outer.base || inner.base + inner.len > outer.base + outer.len) abort();
}

static void check_out(mw_smtp_client *c, unsigned char *prev)
{
    size_t n;
    const unsigned char *p;
    while ((p = mw_smtp_client_out_buf(c, &n)) != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '\n' && *prev != '\r') abort();
            if (*prev == '\r' && p[i] != '\n') abort();
            *prev = p[i];
        }
        mw_smtp_client_out_ack(c, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0];
    data++;
    size--;
    mw_smtp_client_opts *o = mw_smtp_client_opts_new(NULL);
    if (!o) return 0;
    if (sel & 1) mw_smtp_client_opts_set_flags(o, MW_SMTP_CLIENT_LMTP, 1);
    mw_smtp_client *c;
    int rc = mw_smtp_client_new(NULL, o, &c);
    mw_smtp_client_opts_free(o);
    if (rc) return 0;
    size_t cut = (size_t)(sel >> 1) % 13 + 1, off = 0;
    unsigned char prev = 0;
    int closed = 0;
    static const char body[] = ".a\r\n..\nb\rc\r\n.\r\n";
    for (int guard = 0; guard < 100000; guard++) {
        const mw_smtp_reply *r;
        int t = mw_smtp_client_next(c, &r);
        if (t == MW_SMTP_CEV_REPLY) {
            if (closed) abort();
            if (r->code < 200 || r->code > 599 || r->nlines < 1) abort();
            if (r->cmd > MW_SMTP_CMD_QUIT) abort();
            within(r->lines, r->text);
            within(r->lines, r->enhanced);
            within(r->lines, r->auth);
            switch (r->cmd) {
            case MW_SMTP_CMD_GREETING: mw_smtp_client_ehlo(c); break;
            case MW_SMTP_CMD_EHLO:
                if ((r->ext & MW_SMTP_EXT_STARTTLS) && (sel & 2)) {
                    mw_smtp_client_starttls(c);
                } else {
                    mw_smtp_client_mail(c, "a@b.example", "SIZE=10");
                    mw_smtp_client_rcpt(c, "c@d.example", NULL);
                    mw_smtp_client_rcpt(c, "e@d.example", NULL);
                    mw_smtp_client_data(c);
                }
                break;
            case MW_SMTP_CMD_MAIL:
                if (r->code >= 400) mw_smtp_client_quit(c);
                break;
            case MW_SMTP_CMD_DATA:
                if (r->code == 354) {
                    mw_smtp_client_body_write(c, body, sizeof body - 1);
                    mw_smtp_client_body_end(c);
                }
                break;
            case MW_SMTP_CMD_DATA_END: mw_smtp_client_quit(c); break;
            default: break;
            }
            if (r->code == 334) mw_smtp_client_auth_response(c, NULL, 0);
            check_out(c, &prev);
            continue;
        }
        check_out(c, &prev);
        if (t < 0) {
            if (t == MW_ERR_CLOSED) closed = 1;
            break;
        }
        unsigned st = mw_smtp_client_state(c);
        if (st & MW_TLS_HANDOFF) {
            if (mw_smtp_client_tls_started(c) != MW_OK) abort();
            mw_smtp_client_ehlo(c);
            continue;
        }
        if (off >= size) {
            mw_smtp_client_eof(c);
            if (mw_smtp_client_next(c, &r) == MW_SMTP_CEV_REPLY && closed) abort();
            break;
        }
        size_t k = size - off < cut ? size - off : cut;
        mw_ssize f = mw_smtp_client_feed(c, data + off, k);
        if (f < 0) break;
        off += (size_t)f;
    }
    mw_smtp_client_free(c);
    return 0;
}
