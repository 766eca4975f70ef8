/*
 * libFuzzer target for the POP3 server engine. The "application" answers
 * every paused event (credentials good, a three-message maildrop, a fixed
 * message full of dot lines for RETR/TOP, commit at QUIT, one challenge per
 * AUTH step) and drains output, so the reply and streaming paths are
 * fuzzed too. The input is replayed whole and one byte at a time; the
 * output must be identical (split-invariance) unless an STLS handoff
 * happened (what was buffered then depends on the cut).
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/pop3.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char message[] = "From: a@b\r\n.Dot: h\r\n\r\n.\r\n..\r\nline\r\n.x\nno end";

typedef struct out {
    unsigned char *p;
    size_t len, cap;
} out;

static void grab(mw_pop3_server *s, out *o)
{
    size_t len;
    const unsigned char *p;
    while ((p = mw_pop3_server_out_buf(s, &len)) != NULL) {
        if (o->len + len > o->cap) {
            o->cap = (o->len + len) * 2;
            o->p = realloc(o->p, o->cap);
            if (!o->p) abort();
        }
        memcpy(o->p + o->len, p, len);
        o->len += len;
        mw_pop3_server_out_ack(s, len);
    }
}

static void answer(mw_pop3_server *s, const mw_pop3_event *ev, out *o)
{
    int rc = MW_OK;
    switch (ev->type) {
    case MW_POP3_EV_PASS:
    case MW_POP3_EV_APOP:
        /* short names get in, so that TRANSACTION is reached */
        rc = mw_pop3_server_check_secret(s, "secret", 6) == 1 || ev->user.len == 1
                 ? mw_pop3_server_accept(s)
                 : mw_pop3_server_reply(s, 0, "AUTH", NULL);
        break;
    case MW_POP3_EV_AUTH:
        rc = mw_pop3_server_auth_challenge(s, "challenge", 9);
        break;
    case MW_POP3_EV_AUTH_RESPONSE:
        rc = ev->data.len & 1 ? mw_pop3_server_accept(s) : mw_pop3_server_reply(s, 0, "AUTH", "no");
        break;
    case MW_POP3_EV_MAILDROP:
        mw_pop3_server_maildrop_add(s, sizeof message - 1, "uid-1", 5);
        mw_pop3_server_maildrop_add(s, 10, "uid-2", 5);
        mw_pop3_server_maildrop_add(s, 0, "uid-3", 5);
        rc = mw_pop3_server_accept(s);
        break;
    case MW_POP3_EV_RETR:
    case MW_POP3_EV_TOP: {
        if (ev->msg == 2) {
            rc = mw_pop3_server_reply(s, 0, "SYS/PERM", "gone");
            break;
        }
        rc = mw_pop3_server_accept(s);
        size_t off = 0, len = ev->msg == 1 ? sizeof message - 1 : 0;
        while (rc == MW_OK && off < len && mw_pop3_server_body_wanted(s)) {
            mw_ssize t = mw_pop3_server_body_write(s, message + off, len - off);
            if (t < 0) abort();
            if (t == 0) grab(s, o);
            off += (size_t)t;
        }
        while (rc == MW_OK && (rc = mw_pop3_server_body_end(s)) == MW_ERR_LIMIT) grab(s, o);
        break;
    }
    case MW_POP3_EV_LANG: {
        /* "*" takes the first listed; tags starting with 'x' are refused;
         * any other (already checked by the engine) is taken as asked. */
        char tag[64];
        if (ev->arg.len == 0 || ev->arg.len >= sizeof tag) abort();
        memcpy(tag, ev->arg.base, ev->arg.len);
        tag[ev->arg.len] = 0;
        if (!strcmp(tag, "*")) {
            rc = mw_pop3_server_accept(s);
            if (rc == MW_OK && strcmp(mw_pop3_server_language(s), "en")) abort();
        } else if (tag[0] == 'x' || tag[0] == 'X') {
            rc = mw_pop3_server_reply(s, 0, "SYS/PERM", NULL);
        } else {
            rc = mw_pop3_server_lang_select(s, tag, "Sprache ge\xc3\xa4ndert");
            if (rc == MW_OK && strcmp(mw_pop3_server_language(s), tag)) abort();
        }
        break;
    }
    case MW_POP3_EV_COMMIT: {
        uint32_t m = 0, prev = 0;
        while ((m = mw_pop3_server_next_deleted(s, m)) != 0) {
            if (m <= prev || m > 3) abort();
            prev = m;
        }
        rc = mw_pop3_server_accept(s);
        break;
    }
    default: break;
    }
    if (rc != MW_OK && rc != MW_ERR_NOMEM) abort();
}

static void pump(mw_pop3_server *s, out *o)
{
    for (;;) {
        const mw_pop3_event *ev;
        int rc = mw_pop3_server_next(s, &ev);
        grab(s, o);
        if (rc > 0) {
            if (ev->paused) answer(s, ev, o);
            continue;
        }
        if (rc == 0 && mw_pop3_server_out_buf(s, &(size_t){0})) continue;
        if (rc == MW_ERR_STATE) abort(); /* every pause was answered */
        return;
    }
}

static int replay(const uint8_t *data, size_t size, size_t chunk, out *o)
{
    mw_pop3_server_opts *opts = mw_pop3_server_opts_new(NULL);
    if (!opts) abort();
    mw_pop3_server_opts_set_flags(opts, MW_POP3_SERVER_PLAINTEXT_AUTH, 1);
    mw_pop3_server_opts_set_capabilities(opts, MW_POP3_CAPA_ALL, 1);
    mw_pop3_server_opts_set_apop_timestamp(opts, "<1.2@x>");
    mw_pop3_server_opts_set_auth_mechanisms(opts, "PLAIN LOGIN SCRAM-SHA-256");
    mw_pop3_server_opts_set_policy(opts, "NEVER", "0", "fuzz");
    mw_pop3_server_opts_set_max_bad_commands(opts, 1000);
    if (mw_pop3_server_opts_add_language(opts, "en", "English") ||
        mw_pop3_server_opts_add_language(opts, "de-CH", "Schwiizerd\xc3\xbctsch"))
        abort();
    mw_pop3_server *s = NULL;
    if (mw_pop3_server_new(NULL, opts, &s) != MW_OK) abort();
    mw_pop3_server_opts_free(opts);
    int handoff = 0;
    size_t off = 0;
    pump(s, o);
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        mw_ssize t = mw_pop3_server_feed(s, data + off, n);
        if (t < 0) break;
        off += (size_t)t;
        pump(s, o);
        if (mw_pop3_server_state(s) & MW_TLS_HANDOFF) {
            handoff = 1;
            mw_pop3_server_tls_started(s);
            pump(s, o);
        }
        if (t == 0 && (mw_pop3_server_state(s) & MW_WANT_READ)) abort(); /* stuck */
    }
    mw_pop3_server_eof(s);
    pump(s, o);
    mw_pop3_server_free(s);
    return handoff;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    out a = {0}, b = {0};
    int h1 = replay(data, size, size ? size : 1, &a);
    int h2 = replay(data, size, 1, &b);
    if (!h1 && !h2 && (a.len != b.len || (a.len && memcmp(a.p, b.p, a.len)))) abort();
    free(a.p);
    free(b.p);
    return 0;
}
