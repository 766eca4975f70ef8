/*
 * POP3 server and client options: plain structs behind setters, copied
 * whole into each session.
 *
 * SPDX-License-Identifier: MIT
 */
#include "pop3/pop3_internal.h"

#define DEFAULT_CAPA                                                                       \
    (MW_POP3_CAPA_TOP | MW_POP3_CAPA_UIDL | MW_POP3_CAPA_USER | MW_POP3_CAPA_SASL |         \
     MW_POP3_CAPA_RESP_CODES | MW_POP3_CAPA_AUTH_RESP_CODE | MW_POP3_CAPA_PIPELINING |      \
     MW_POP3_CAPA_STLS)
#define SERVER_FLAGS 0x1fu
#define CLIENT_FLAGS 0x3u

static const char default_greeting[] = "POP3 server ready";

mw_pop3_server_opts *mw_pop3_server_opts_new(const mw_mem *mem)
{
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_pop3_server_opts *o = mw__calloc(&m, 1, sizeof *o);
    if (!o) return NULL;
    o->mem = m;
    o->capa = DEFAULT_CAPA;
    o->max_cmd = 255;   /* RFC 2449 §4 */
    o->max_auth = 12288;
    o->max_bad = 10;
    o->inbuf_size = 16u * 1024u;
    o->max_msgs = 1000000;
    memcpy(o->greeting, default_greeting, sizeof default_greeting);
    return o;
}

void mw_pop3_server_opts_free(mw_pop3_server_opts *o)
{
    if (!o) return;
    mw_mem m = o->mem;
    mw__free(&m, o);
}

static int set_text(char *dst, size_t cap, const char *text, size_t min, int sp)
{
    size_t n = strlen(text);
    if (n < min || n >= cap || !mw__pop3_text_ok(text, n, sp)) return MW_ERR_INVALID;
    memcpy(dst, text, n + 1);
    return MW_OK;
}

int mw_pop3_server_opts_set_greeting(mw_pop3_server_opts *o, const char *text)
{
    if (!o || !text) return MW_ERR_INVALID;
    return set_text(o->greeting, sizeof o->greeting, text, 1, 1);
}

int mw_pop3_server_opts_set_apop_timestamp(mw_pop3_server_opts *o, const char *ts)
{
    if (!o) return MW_ERR_INVALID;
    if (!ts) {
        o->timestamp[0] = 0;
        return MW_OK;
    }
    size_t n = strlen(ts);
    /* RFC 1939 §7: the banner is a msg-id, "<" ... ">" */
    if (n < 3 || n > MW__POP3_TS_MAX || ts[0] != '<' || ts[n - 1] != '>') return MW_ERR_INVALID;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)ts[i];
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>') return MW_ERR_INVALID;
    }
    memcpy(o->timestamp, ts, n + 1);
    return MW_OK;
}

int mw_pop3_server_opts_set_capabilities(mw_pop3_server_opts *o, unsigned capa, int on)
{
    return o ? mw__set_bits(&o->capa, capa, MW_POP3_CAPA_ALL, on) : MW_ERR_INVALID;
}

int mw_pop3_server_opts_set_flags(mw_pop3_server_opts *o, unsigned flags, int on)
{
    return o ? mw__set_bits(&o->flags, flags, SERVER_FLAGS, on) : MW_ERR_INVALID;
}

int mw_pop3_server_opts_set_policy(mw_pop3_server_opts *o, const char *expire,
                                   const char *login_delay, const char *implementation)
{
    if (!o) return MW_ERR_INVALID;
    char e[MW__POP3_POLICY_MAX + 1], l[MW__POP3_POLICY_MAX + 1], im[MW__POP3_POLICY_MAX + 1];
    memcpy(e, o->expire, sizeof e);
    memcpy(l, o->login_delay, sizeof l);
    memcpy(im, o->implementation, sizeof im);
    if ((expire && set_text(e, sizeof e, expire, 1, 1)) ||
        (login_delay && set_text(l, sizeof l, login_delay, 1, 1)) ||
        (implementation && set_text(im, sizeof im, implementation, 1, 1)))
        return MW_ERR_INVALID;
    memcpy(o->expire, e, sizeof e);
    memcpy(o->login_delay, l, sizeof l);
    memcpy(o->implementation, im, sizeof im);
    return MW_OK;
}

int mw_pop3_server_opts_set_auth_mechanisms(mw_pop3_server_opts *o, const char *list)
{
    if (!o) return MW_ERR_INVALID;
    /* RFC 4422 §3.1: 1..20 of A-Z 0-9 - _ */
    return mw__word_list_copy(o->auth_mechs, sizeof o->auth_mechs, list, 20,
                              MW__WORDS_UNDERSCORE | MW__WORDS_TIDY);
}

int mw_pop3_server_opts_add_language(mw_pop3_server_opts *o, const char *tag,
                                     const char *description)
{
    if (!o || !tag || !description) return MW_ERR_INVALID;
    size_t tn = strlen(tag), dn = strlen(description);
    if (!mw__pop3_lang_tag_ok(tag, tn, 0) || dn == 0 || tn + 1 + dn > MW__POP3_LANG_LINE_MAX ||
        !mw__pop3_text_ok(description, dn, 1))
        return MW_ERR_INVALID;
    for (unsigned i = 0; i < o->nlangs; i++) {
        const char *l = o->langs[i];
        size_t ln = (size_t)(strchr(l, ' ') - l);
        if (mw__ieq(l, ln, tag) && ln == tn) return MW_ERR_INVALID;
    }
    if (o->nlangs >= MW_POP3_MAX_LANGUAGES) return MW_ERR_LIMIT;
    char *d = o->langs[o->nlangs++];
    memcpy(d, tag, tn);
    d[tn] = ' ';
    memcpy(d + tn + 1, description, dn + 1);
    return MW_OK;
}

void mw_pop3_server_opts_clear_languages(mw_pop3_server_opts *o)
{
    if (o) o->nlangs = 0;
}

int mw_pop3_server_opts_set_max_line(mw_pop3_server_opts *o, size_t command, size_t auth)
{
    if (!o || command < 255 || command > 65536 || auth < 255 || auth > 65536) return MW_ERR_INVALID;
    o->max_cmd = command;
    o->max_auth = auth;
    return MW_OK;
}

int mw_pop3_server_opts_set_max_bad_commands(mw_pop3_server_opts *o, unsigned max)
{
    if (!o || max < 1 || max > 100000) return MW_ERR_INVALID;
    o->max_bad = max;
    return MW_OK;
}

int mw_pop3_server_opts_set_input_buffer(mw_pop3_server_opts *o, size_t size)
{
    return o ? mw__set_size(&o->inbuf_size, size, MW__INBUF_MIN, MW__INBUF_MAX) : MW_ERR_INVALID;
}

int mw_pop3_server_opts_set_max_messages(mw_pop3_server_opts *o, size_t max)
{
    return o ? mw__set_size(&o->max_msgs, max, 1, 100000000) : MW_ERR_INVALID;
}

/* ---- client ---------------------------------------------------------- */

mw_pop3_client_opts *mw_pop3_client_opts_new(const mw_mem *mem)
{
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_pop3_client_opts *o = mw__calloc(&m, 1, sizeof *o);
    if (!o) return NULL;
    o->mem = m;
    o->tls = MW_POP3_TLS_OPPORTUNISTIC;
    o->max_line = 512; /* RFC 2449 §4 */
    o->max_queue = 32;
    o->inbuf = 16u * 1024u;
    return o;
}

void mw_pop3_client_opts_free(mw_pop3_client_opts *o)
{
    if (!o) return;
    mw_mem m = o->mem;
    mw__free(&m, o);
}

int mw_pop3_client_opts_set_tls(mw_pop3_client_opts *o, int policy)
{
    if (!o || policy < MW_POP3_TLS_NONE || policy > MW_POP3_TLS_REQUIRED) return MW_ERR_INVALID;
    o->tls = policy;
    return MW_OK;
}

int mw_pop3_client_opts_set_flags(mw_pop3_client_opts *o, unsigned flags, int on)
{
    return o ? mw__set_bits(&o->flags, flags, CLIENT_FLAGS, on) : MW_ERR_INVALID;
}

int mw_pop3_client_opts_set_limits(mw_pop3_client_opts *o, size_t max_line, size_t max_queue,
                                   size_t inbuf)
{
    if (!o || max_line < 512 || max_line > 65536 || max_queue < 1 || max_queue > 4096 ||
        inbuf < max_line || inbuf > 64u * 1024u * 1024u)
        return MW_ERR_INVALID;
    o->max_line = max_line;
    o->max_queue = max_queue;
    o->inbuf = inbuf;
    return MW_OK;
}
