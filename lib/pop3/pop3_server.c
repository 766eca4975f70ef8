/*
 * POP3 server engine (RFC 1939) with CAPA and response codes (RFC 2449),
 * STLS (RFC 2595), AUTH (RFC 5034), UTF8 and LANG (RFC 6856).
 *
 * Control flow follows the SMTP server: next() runs steps until one yields
 * an event. Commands the engine can answer from what it knows (STAT, LIST,
 * UIDL, DELE, RSET, NOOP, CAPA, errors) are answered at once; the ones
 * that need the caller (credentials, the maildrop, a message, the commit
 * at QUIT) set `pending` and return a paused event. Pipelined commands wait
 * in the input buffer, so replies go out in order.
 *
 * The maildrop is only a listing the caller gives (size and unique-id of
 * each message); deletions are marks applied by the caller at COMMIT
 * (RFC 1939 §6: only in the UPDATE state).
 *
 * SPDX-License-Identifier: MIT
 */
#include "pop3/pop3_internal.h"

#include <mailwire/codec.h>

#include <stdio.h>

#define AGAIN (-1000)

/* ---- replies ------------------------------------------------------- */

static int set_fatal(mw_pop3_server *s, int rc)
{
    if (mw_is_fatal(rc)) mw__io_fail(&s->io, rc);
    return rc;
}

static int code_shown(const mw_pop3_server *s, const char *code)
{
    if (!code) return 0;
    if (!strcmp(code, "AUTH")) return (s->o.capa & MW_POP3_CAPA_AUTH_RESP_CODE) != 0; /* RFC 3206 */
    return (s->o.capa & MW_POP3_CAPA_RESP_CODES) != 0; /* RFC 2449 §8 */
}

/* Queue "+OK text" or "-ERR [code] text". */
static int put_status(mw_pop3_server *s, int ok, const char *code, const char *text)
{
    char line[MW__POP3_TEXT_MAX + 64 + 16 + MW__POP3_LANG_TAG_MAX + 1]; /* LANG: "tag text" */
    int n;
    if (!text) text = "";
    if (code_shown(s, code))
        n = snprintf(line, sizeof line, "%s [%s]%s%s\r\n", ok ? "+OK" : "-ERR", code, *text ? " " : "", text);
    else
        n = snprintf(line, sizeof line, "%s%s%s\r\n", ok ? "+OK" : "-ERR", *text ? " " : "", text);
    if (n < 0 || (size_t)n >= sizeof line) return MW_ERR_INVALID;
    int rc = mw__outq_append(&s->io.out, line, (size_t)n);
    return rc == MW_ERR_NOMEM ? set_fatal(s, rc) : rc;
}

static void close_session(mw_pop3_server *s)
{
    s->phase = MW__POP3_PH_CLOSED;
    s->pending = MW__POP3_P_NONE;
}

/* An engine-answered error: counted; past the limit the session ends. */
static int bad(mw_pop3_server *s, const char *code, const char *text)
{
    if (++s->bad > s->o.max_bad) {
        int rc = put_status(s, 0, NULL, "Too many bad commands, closing connection");
        close_session(s);
        return rc ? rc : AGAIN;
    }
    int rc = put_status(s, 0, code, text);
    return rc ? rc : AGAIN;
}

static int ok_again(mw_pop3_server *s, const char *text)
{
    int rc = put_status(s, 1, NULL, text);
    return rc ? rc : AGAIN;
}

static int paused(mw_pop3_server *s, int pending, int type)
{
    s->pending = pending;
    s->ev.paused = 1;
    return type;
}

/* ---- life cycle ----------------------------------------------------- */

static int greet(mw_pop3_server *s)
{
    char line[MW__POP3_TEXT_MAX + MW__POP3_TS_MAX + 2];
    if ((s->o.capa & MW_POP3_CAPA_APOP) && s->o.timestamp[0])
        snprintf(line, sizeof line, "%s %s", s->o.greeting, s->o.timestamp);
    else
        snprintf(line, sizeof line, "%s", s->o.greeting);
    char out[sizeof line + 8];
    int n = snprintf(out, sizeof out, "+OK %s\r\n", line);
    return mw__outq_append(&s->io.out, out, (size_t)n);
}

int mw_pop3_server_new(const mw_mem *mem, const mw_pop3_server_opts *opts, mw_pop3_server **out)
{
    if (!out) return MW_ERR_INVALID;
    *out = NULL;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_pop3_server_opts defaults;
    if (!opts) {
        mw_pop3_server_opts *d = mw_pop3_server_opts_new(&m);
        if (!d) return MW_ERR_NOMEM;
        defaults = *d;
        mw_pop3_server_opts_free(d);
        opts = &defaults;
    }
    size_t need = opts->max_cmd;
    if ((opts->capa & MW_POP3_CAPA_SASL) && opts->auth_mechs[0] && opts->max_auth > need) need = opts->max_auth;
    if (opts->inbuf_size < need) return MW_ERR_INVALID;
    if ((opts->capa & MW_POP3_CAPA_APOP) && !opts->timestamp[0]) return MW_ERR_INVALID;
    mw_pop3_server *s = mw__calloc(&m, 1, sizeof *s);
    if (!s) return MW_ERR_NOMEM;
    s->mem = m;
    s->o = *opts;
    s->o.mem = m;
    mw__io_init(&s->io, &s->mem, s->o.inbuf_size, MW__POP3_OUT_MAX);
    unsigned io_flags = MW__IO_SERVER;
    if (s->o.flags & MW_POP3_SERVER_TLS_INJECTION_CLOSE) io_flags |= MW__IO_INJECTION_CLOSES;
    mw__io_bind(&s->io, &s->phase, MW__POP3_PH_HANDOFF, MW__POP3_PH_CLOSED, io_flags);
    s->tls = (s->o.flags & MW_POP3_SERVER_IMPLICIT_TLS) != 0;
    s->phase = MW__POP3_PH_CMD;
    if (greet(s) != MW_OK) {
        mw_pop3_server_free(s);
        return MW_ERR_NOMEM;
    }
    *out = s;
    return MW_OK;
}

static void maildrop_clear(mw_pop3_server *s)
{
    mw__free(&s->mem, s->sizes);
    mw__free(&s->mem, s->deleted);
    mw__free(&s->mem, s->uid_off);
    mw__free(&s->mem, s->uids);
    s->sizes = NULL;
    s->deleted = NULL;
    s->uid_off = NULL;
    s->uids = NULL;
    s->nmsgs = s->cap_msgs = s->ndeleted = 0;
    s->total_octets = s->deleted_octets = 0;
    s->uids_len = s->uids_cap = 0;
}

void mw_pop3_server_free(mw_pop3_server *s)
{
    if (!s) return;
    mw_mem m = s->mem;
    maildrop_clear(s);
    mw__io_free(&s->io);
    mw__wipe(s->user, sizeof s->user);
    mw__free(&m, s);
}

/* ---- input and output ----------------------------------------------- */

/* mw_pop3_server_feed, _recv_buf, _recv_ack, _eof, _out_buf and _out_ack:
 * the transport glue every engine shares (lib/common/engine_io.c).
 * Plaintext pipelined after the TLS handoff is counted and dropped, or ends
 * the session under TLS_INJECTION_CLOSE (DESIGN rule 1, CVE-2011-0411). */
MW__ENGINE_IO_API(mw_pop3_server, mw_pop3_server)

unsigned mw_pop3_server_state(const mw_pop3_server *s)
{
    if (!s) return 0;
    unsigned st = 0;
    if (mw__outq_len(&s->io.out)) st |= MW_WANT_WRITE;
    if (s->io.fatal || s->phase == MW__POP3_PH_CLOSED) return st | MW_CLOSED;
    if (s->phase == MW__POP3_PH_HANDOFF) return st | MW_TLS_HANDOFF;
    if (!s->io.eof && mw__inbuf_len(&s->io.in) < s->io.in.max) st |= MW_WANT_READ;
    return st;
}

uint64_t mw_pop3_server_tls_discarded(const mw_pop3_server *s)
{
    return s ? s->io.tls_discarded : 0;
}

int mw_pop3_server_tls_started(mw_pop3_server *s)
{
    if (!s) return MW_ERR_INVALID;
    if (s->phase != MW__POP3_PH_HANDOFF) return MW_ERR_STATE;
    /* RFC 2595 §4: forget what was learnt in clear; AUTHORIZATION again. */
    s->phase = MW__POP3_PH_CMD;
    s->tls = 1;
    s->have_user = 0;
    s->utf8 = 0;
    s->lang[0] = 0;
    s->bad = 0;
    mw__io_drop_input(&s->io);
    return MW_OK;
}

/* ---- maildrop --------------------------------------------------------- */

/* Messages not marked deleted, and their octets: kept as running totals
 * so STAT and LIST cost nothing on a huge maildrop. */
static uint32_t live_count(const mw_pop3_server *s, uint64_t *octets)
{
    if (octets) *octets = s->total_octets - s->deleted_octets;
    return s->nmsgs - s->ndeleted;
}

static int grow_msgs(mw_pop3_server *s)
{
    uint32_t cap = s->cap_msgs ? s->cap_msgs * 2 : 64;
    if (cap > s->o.max_msgs) cap = (uint32_t)s->o.max_msgs;
    uint64_t *sz = mw__realloc(&s->mem, s->sizes, cap * sizeof *sz);
    if (!sz) return MW_ERR_NOMEM;
    s->sizes = sz;
    unsigned char *del = mw__realloc(&s->mem, s->deleted, cap);
    if (!del) return MW_ERR_NOMEM;
    s->deleted = del;
    size_t *off = mw__realloc(&s->mem, s->uid_off, ((size_t)cap + 1) * sizeof *off);
    if (!off) return MW_ERR_NOMEM;
    s->uid_off = off;
    if (s->cap_msgs == 0) off[0] = 0;
    s->cap_msgs = cap;
    return MW_OK;
}

int mw_pop3_server_maildrop_add(mw_pop3_server *s, uint64_t size, const char *uid, size_t uid_len)
{
    if (!s || (!uid && uid_len)) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (s->pending != MW__POP3_P_MAILDROP) return MW_ERR_STATE;
    if (s->o.capa & MW_POP3_CAPA_UIDL) {
        /* RFC 1939 §7: 1 to 70 characters in 0x21..0x7E */
        if (uid_len < 1 || uid_len > MW__POP3_UID_MAX) return MW_ERR_INVALID;
        for (size_t i = 0; i < uid_len; i++)
            if ((unsigned char)uid[i] < 0x21 || (unsigned char)uid[i] > 0x7e) return MW_ERR_INVALID;
    } else {
        uid_len = 0;
    }
    if (s->nmsgs >= s->o.max_msgs) return MW_ERR_LIMIT;
    if (s->nmsgs == s->cap_msgs && grow_msgs(s)) return MW_ERR_NOMEM;
    if (s->uids_len + uid_len > s->uids_cap) {
        size_t cap = s->uids_cap ? s->uids_cap * 2 : 1024;
        while (cap < s->uids_len + uid_len) cap *= 2;
        char *nu = mw__realloc(&s->mem, s->uids, cap);
        if (!nu) return MW_ERR_NOMEM;
        s->uids = nu;
        s->uids_cap = cap;
    }
    if (uid_len) memcpy(s->uids + s->uids_len, uid, uid_len);
    s->uids_len += uid_len;
    s->sizes[s->nmsgs] = size;
    s->deleted[s->nmsgs] = 0;
    s->total_octets += size;
    s->nmsgs++;
    s->uid_off[s->nmsgs] = s->uids_len;
    return MW_OK;
}

uint32_t mw_pop3_server_next_deleted(const mw_pop3_server *s, uint32_t after)
{
    if (!s) return 0;
    for (uint32_t i = after; i < s->nmsgs; i++)
        if (s->deleted[i]) return i + 1;
    return 0;
}

static mw_slice uid_of(const mw_pop3_server *s, uint32_t i)
{
    mw_slice u = {s->uids ? s->uids + s->uid_off[i] : "", s->uid_off[i + 1] - s->uid_off[i]};
    return u;
}

/* ---- LIST / UIDL streaming -------------------------------------------- */

/* Write listing lines while the output has room: a maildrop of a million
 * messages never needs more than the output ceiling. */
static int listing_step(mw_pop3_server *s)
{
    while (s->list_next < s->nmsgs) {
        if (mw__outq_len(&s->io.out) > MW__POP3_OUT_HIGH) return 0;
        uint32_t i = s->list_next++;
        if (s->deleted[i]) continue;
        char line[128];
        int n;
        if (s->list_uidl) {
            mw_slice u = uid_of(s, i);
            n = snprintf(line, sizeof line, "%lu %.*s\r\n", (unsigned long)i + 1, (int)u.len, u.base);
        } else {
            n = snprintf(line, sizeof line, "%lu %llu\r\n", (unsigned long)i + 1, (unsigned long long)s->sizes[i]);
        }
        int rc = mw__outq_append(&s->io.out, line, (size_t)n);
        if (rc) return set_fatal(s, rc);
    }
    s->phase = MW__POP3_PH_CMD;
    int rc = mw__outq_append(&s->io.out, ".\r\n", 3);
    return rc ? set_fatal(s, rc) : AGAIN;
}

/* ---- commands ---------------------------------------------------------- */

static int plaintext_ok(const mw_pop3_server *s)
{
    return s->tls || (s->o.flags & MW_POP3_SERVER_PLAINTEXT_AUTH);
}

static int is_plaintext_mech(const char *p, size_t n)
{
    return mw__ieq(p, n, "PLAIN") || mw__ieq(p, n, "LOGIN");
}

static int has_capa(const mw_pop3_server *s, unsigned c) { return (s->o.capa & c) != 0; }

static int sasl_on(const mw_pop3_server *s)
{
    return has_capa(s, MW_POP3_CAPA_SASL) && s->o.auth_mechs[0];
}

/* Write the offered mechanisms (hidden in clear: PLAIN, LOGIN) into buf,
 * each preceded by sep. @return bytes written (0: none offered). */
static size_t offered_mechs(const mw_pop3_server *s, char *buf, const char *sep)
{
    size_t o = 0, sl = strlen(sep);
    const char *p = s->o.auth_mechs;
    while (*p) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if (e > p && (plaintext_ok(s) || !is_plaintext_mech(p, (size_t)(e - p)))) {
            memcpy(buf + o, sep, sl);
            o += sl;
            memcpy(buf + o, p, (size_t)(e - p));
            o += (size_t)(e - p);
        }
        p = e;
    }
    buf[o] = 0;
    return o;
}

static int lang_on(const mw_pop3_server *s)
{
    return has_capa(s, MW_POP3_CAPA_LANG) && s->o.nlangs > 0;
}

/* RFC 6856 §3: "LANG" lists the languages (multi-line, "tag SP
 * description"); "LANG range" pauses so the caller picks one. */
static int cmd_lang(mw_pop3_server *s, const char *arg, size_t alen)
{
    if (!lang_on(s)) return bad(s, NULL, "Unknown command");
    if (alen) {
        if (!mw__pop3_lang_tag_ok(arg, alen, 1)) return bad(s, NULL, "Syntax: LANG [language-tag]");
        memcpy(s->lang_req, arg, alen);
        s->lang_req[alen] = 0;
        s->ev.arg.base = s->lang_req;
        s->ev.arg.len = alen;
        return paused(s, MW__POP3_P_LANG, MW_POP3_EV_LANG);
    }
    int rc = put_status(s, 1, NULL, "Language listing follows");
    if (rc) return rc;
    for (unsigned i = 0; i < s->o.nlangs; i++) {
        /* A description starting with '.' cannot reach column 1, since
         * the tag comes first: no dot-stuffing needed. */
        if ((rc = mw__outq_puts(&s->io.out, s->o.langs[i])) || (rc = mw__outq_append(&s->io.out, "\r\n", 2)))
            return set_fatal(s, rc);
    }
    rc = mw__outq_append(&s->io.out, ".\r\n", 3);
    return rc ? set_fatal(s, rc) : AGAIN;
}

static int cmd_capa(mw_pop3_server *s)
{
    char buf[MW__POP3_LIST_MAX + 64];
    mw__outq *q = &s->io.out;
    int rc = put_status(s, 1, NULL, "Capability list follows");
    if (rc) return rc;
#define LINE(str) do { if ((rc = mw__outq_puts(q, str))) return set_fatal(s, rc); } while (0)
    LINE("CAPA\r\n");
    if (has_capa(s, MW_POP3_CAPA_TOP)) LINE("TOP\r\n");
    if (has_capa(s, MW_POP3_CAPA_UIDL)) LINE("UIDL\r\n");
    if (!s->authed && has_capa(s, MW_POP3_CAPA_USER) && plaintext_ok(s)) LINE("USER\r\n");
    if (!s->authed && sasl_on(s)) {
        /* RFC 2595 §6 and RFC 5034: hide mechanisms not allowed in clear. */
        memcpy(buf, "SASL", 4);
        size_t o = 4 + offered_mechs(s, buf + 4, " ");
        memcpy(buf + o, "\r\n", 3);
        if (o > 4) LINE(buf);
    }
    if (has_capa(s, MW_POP3_CAPA_RESP_CODES)) LINE("RESP-CODES\r\n");
    if (has_capa(s, MW_POP3_CAPA_AUTH_RESP_CODE)) LINE("AUTH-RESP-CODE\r\n");
    if (has_capa(s, MW_POP3_CAPA_PIPELINING)) LINE("PIPELINING\r\n");
    if (has_capa(s, MW_POP3_CAPA_EXPIRE) && s->o.expire[0]) {
        snprintf(buf, sizeof buf, "EXPIRE %s\r\n", s->o.expire);
        LINE(buf);
    }
    if (has_capa(s, MW_POP3_CAPA_LOGIN_DELAY) && s->o.login_delay[0]) {
        snprintf(buf, sizeof buf, "LOGIN-DELAY %s\r\n", s->o.login_delay);
        LINE(buf);
    }
    if (has_capa(s, MW_POP3_CAPA_IMPLEMENTATION) && s->o.implementation[0]) {
        snprintf(buf, sizeof buf, "IMPLEMENTATION %s\r\n", s->o.implementation);
        LINE(buf);
    }
    if (has_capa(s, MW_POP3_CAPA_UTF8)) LINE("UTF8\r\n");
    if (lang_on(s)) LINE("LANG\r\n");
    if (!s->authed && !s->tls && has_capa(s, MW_POP3_CAPA_STLS)) LINE("STLS\r\n");
    LINE(".\r\n");
#undef LINE
    return AGAIN;
}

static int cmd_stls(mw_pop3_server *s, size_t alen)
{
    if (!has_capa(s, MW_POP3_CAPA_STLS)) return bad(s, NULL, "Unknown command");
    if (alen) return bad(s, NULL, "Syntax: STLS");
    if (s->tls) return bad(s, NULL, "TLS already active");
    if (s->authed) return bad(s, NULL, "Not in AUTHORIZATION state"); /* RFC 2595 §4 */
    /* DESIGN rule 1 (CVE-2011-0411 class): bytes after STLS are attacker
     * plaintext and are never read as commands. */
    size_t extra = mw__io_handoff_discard(&s->io);
    s->ev.discarded = extra;
    if (extra && (s->o.flags & MW_POP3_SERVER_TLS_INJECTION_CLOSE)) {
        int rc = put_status(s, 0, NULL, "Commands pipelined after STLS; closing connection");
        close_session(s);
        return rc ? rc : MW_POP3_EV_STLS;
    }
    int rc = put_status(s, 1, NULL, "Begin TLS negotiation");
    if (rc) return rc;
    s->phase = MW__POP3_PH_HANDOFF;
    return MW_POP3_EV_STLS;
}

static int refuse_plaintext(mw_pop3_server *s)
{
    return bad(s, "AUTH", "Plaintext authentication disallowed without TLS");
}

static int cmd_user(mw_pop3_server *s, const char *arg, size_t alen)
{
    if (!has_capa(s, MW_POP3_CAPA_USER)) return bad(s, NULL, "Unknown command");
    if (!plaintext_ok(s)) return refuse_plaintext(s);
    if (alen == 0 || alen > MW__POP3_USER_MAX) return bad(s, NULL, "Syntax: USER name");
    memcpy(s->user, arg, alen);
    s->user_len = alen;
    s->have_user = 1;
    /* The same answer for every name: no user enumeration. */
    return ok_again(s, "Send PASS");
}

static int cmd_pass(mw_pop3_server *s, const char *arg, size_t alen)
{
    if (!has_capa(s, MW_POP3_CAPA_USER)) return bad(s, NULL, "Unknown command");
    if (!s->have_user) return bad(s, NULL, "Send USER first");
    if (!plaintext_ok(s)) return refuse_plaintext(s);
    s->have_user = 0; /* RFC 1939 §7: a failed PASS needs USER again */
    s->ev.user.base = s->user;
    s->ev.user.len = s->user_len;
    s->ev.secret.base = arg;
    s->ev.secret.len = alen;
    return paused(s, MW__POP3_P_PASS, MW_POP3_EV_PASS);
}

static int cmd_apop(mw_pop3_server *s, char *arg, size_t alen)
{
    if (!has_capa(s, MW_POP3_CAPA_APOP)) return bad(s, NULL, "Unknown command");
    /* RFC 1939 §7: APOP name digest; the digest is 32 hex digits. */
    char *sp = memchr(arg, ' ', alen);
    if (!sp || sp == arg) return bad(s, NULL, "Syntax: APOP name digest");
    size_t nlen = (size_t)(sp - arg), dlen = alen - nlen - 1;
    char *d = sp + 1;
    if (dlen != 32 || nlen > MW__POP3_USER_MAX) return bad(s, NULL, "Syntax: APOP name digest");
    for (size_t i = 0; i < 32; i++) {
        char c = d[i];
        if (c >= 'A' && c <= 'F') d[i] = c = (char)(c | 0x20);
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad(s, NULL, "Syntax: APOP name digest");
    }
    memcpy(s->user, arg, nlen);
    s->user_len = nlen;
    s->have_user = 0;
    s->ev.user.base = s->user;
    s->ev.user.len = nlen;
    s->ev.secret.base = d;
    s->ev.secret.len = 32;
    return paused(s, MW__POP3_P_APOP, MW_POP3_EV_APOP);
}

static int cmd_auth(mw_pop3_server *s, char *arg, size_t alen)
{
    if (!sasl_on(s)) return bad(s, NULL, "Unknown command");
    if (alen == 0) {
        /* "AUTH" alone lists the mechanisms (the RFC 1734 habit some
         * clients still probe with when CAPA is missing). */
        char buf[2 * MW__POP3_LIST_MAX + 8];
        size_t n = offered_mechs(s, buf, "\r\n");
        int rc = put_status(s, 1, NULL, NULL);
        if (!rc && n) rc = mw__outq_append(&s->io.out, buf + 2, n - 2);
        if (!rc) rc = mw__outq_puts(&s->io.out, n ? "\r\n.\r\n" : ".\r\n");
        return rc ? set_fatal(s, rc) : AGAIN;
    }
    char *sp = memchr(arg, ' ', alen);
    size_t mlen = sp ? (size_t)(sp - arg) : alen;
    if (mlen == 0) return bad(s, NULL, "Syntax: AUTH mechanism [initial-response]");
    for (size_t i = 0; i < mlen; i++)
        if (arg[i] >= 'a' && arg[i] <= 'z') arg[i] = (char)(arg[i] - 32);
    if (!mw__in_list(s->o.auth_mechs, arg, mlen))
        return bad(s, NULL, "Unrecognized authentication type");
    if (is_plaintext_mech(arg, mlen) && !plaintext_ok(s)) return refuse_plaintext(s);
    s->ev.arg.base = arg;
    s->ev.arg.len = mlen;
    s->user_len = 0; /* the SASL identity is the caller's to know: MAILDROP names no user */
    s->have_user = 0;
    if (sp) {
        unsigned char *ir = (unsigned char *)sp + 1;
        size_t ilen = alen - mlen - 1;
        mw_ssize n = 0;
        if (!(ilen == 1 && ir[0] == '=')) { /* "=" is an empty response (RFC 5034 §4) */
            n = ilen ? mw__pop3_b64_decode_inplace(ir, ilen) : -1;
            if (n < 0) return bad(s, NULL, "Cannot decode initial response");
        }
        s->ev.data.base = (const char *)ir;
        s->ev.data.len = (size_t)n;
        s->ev.flags |= MW_POP3_F_INITIAL;
    }
    return paused(s, MW__POP3_P_AUTH, MW_POP3_EV_AUTH);
}

static int auth_response(mw_pop3_server *s, char *line, size_t len)
{
    s->phase = MW__POP3_PH_CMD;
    if (len == 1 && line[0] == '*') {
        int rc = put_status(s, 0, NULL, "Authentication cancelled"); /* RFC 5034 §4 */
        return rc ? rc : MW_POP3_EV_AUTH_ABORT;
    }
    mw_ssize n = len ? mw__pop3_b64_decode_inplace((unsigned char *)line, len) : 0;
    if (n < 0) {
        int rc = put_status(s, 0, NULL, "Cannot decode response");
        return rc ? rc : MW_POP3_EV_AUTH_ABORT;
    }
    s->ev.data.base = line;
    s->ev.data.len = (size_t)n;
    s->phase = MW__POP3_PH_AUTH; /* inside the exchange until answered */
    return paused(s, MW__POP3_P_AUTH, MW_POP3_EV_AUTH_RESPONSE);
}

/* Split "n" or "n m" arguments. @return count of numbers parsed, or -1. */
static int parse_numbers(const char *arg, size_t alen, uint64_t *a, uint64_t *b)
{
    if (alen == 0) return 0;
    const char *sp = memchr(arg, ' ', alen);
    size_t n1 = sp ? (size_t)(sp - arg) : alen;
    if (mw__parse_u64(arg, n1, a)) return -1;
    if (!sp) return 1;
    if (mw__parse_u64(sp + 1, alen - n1 - 1, b)) return -1;
    return 2;
}

/* Resolve message number a (1-based) to an index, or answer -ERR. */
static int message(mw_pop3_server *s, uint64_t a, uint32_t *idx)
{
    if (a < 1 || a > s->nmsgs) return bad(s, NULL, "No such message");
    if (s->deleted[a - 1]) return bad(s, NULL, "Message already deleted");
    *idx = (uint32_t)(a - 1);
    return 0;
}

static int maildrop_status(mw_pop3_server *s, int rset)
{
    uint64_t octets;
    uint32_t n = live_count(s, &octets);
    char t[96];
    snprintf(t, sizeof t, "maildrop has %lu message%s (%llu octets)", (unsigned long)n, n == 1 ? "" : "s",
             (unsigned long long)octets);
    (void)rset;
    return put_status(s, 1, NULL, t);
}

static int cmd_list(mw_pop3_server *s, const char *arg, size_t alen, int uidl)
{
    uint64_t a = 0, b;
    int k = parse_numbers(arg, alen, &a, &b);
    if (k < 0 || k > 1) return bad(s, NULL, uidl ? "Syntax: UIDL [msg]" : "Syntax: LIST [msg]");
    char t[128];
    if (k == 1) {
        uint32_t i = 0; /* set by message() whenever it returns 0 */
        int rc = message(s, a, &i);
        if (rc) return rc;
        if (uidl) {
            mw_slice u = uid_of(s, i);
            snprintf(t, sizeof t, "%lu %.*s", (unsigned long)i + 1, (int)u.len, u.base);
        } else {
            snprintf(t, sizeof t, "%lu %llu", (unsigned long)i + 1, (unsigned long long)s->sizes[i]);
        }
        return ok_again(s, t);
    }
    int rc;
    if (uidl) {
        rc = put_status(s, 1, NULL, "Unique-ID listing follows");
    } else {
        uint64_t octets;
        uint32_t n = live_count(s, &octets);
        snprintf(t, sizeof t, "%lu message%s (%llu octets)", (unsigned long)n, n == 1 ? "" : "s",
                 (unsigned long long)octets);
        rc = put_status(s, 1, NULL, t);
    }
    if (rc) return rc;
    s->list_next = 0;
    s->list_uidl = uidl;
    s->phase = MW__POP3_PH_LISTING;
    return AGAIN;
}

static int cmd_retr(mw_pop3_server *s, const char *arg, size_t alen, int top)
{
    uint64_t a = 0, b = 0;
    int k = parse_numbers(arg, alen, &a, &b);
    if (k != (top ? 2 : 1)) return bad(s, NULL, top ? "Syntax: TOP msg lines" : "Syntax: RETR msg");
    uint32_t i = 0; /* set by message() whenever it returns 0 */
    int rc = message(s, a, &i);
    if (rc) return rc;
    s->ev.msg = i + 1;
    s->ev.size = s->sizes[i];
    s->ev.uid = uid_of(s, i);
    s->ev.lines = b;
    s->body_top = top;
    s->body_lines = b;
    return paused(s, MW__POP3_P_RETR, top ? MW_POP3_EV_TOP : MW_POP3_EV_RETR);
}

static int cmd_dele(mw_pop3_server *s, const char *arg, size_t alen)
{
    uint64_t a = 0, b;
    if (parse_numbers(arg, alen, &a, &b) != 1) return bad(s, NULL, "Syntax: DELE msg");
    uint32_t i = 0; /* set by message() whenever it returns 0 */
    int rc = message(s, a, &i);
    if (rc) return rc;
    s->deleted[i] = 1;
    s->ndeleted++;
    s->deleted_octets += s->sizes[i];
    char t[64];
    snprintf(t, sizeof t, "message %lu deleted", (unsigned long)i + 1);
    return ok_again(s, t);
}

static int cmd_quit(mw_pop3_server *s, size_t alen)
{
    (void)alen; /* RFC 1939 gives QUIT no argument; ignore one rather than linger */
    if (s->authed) {
        /* RFC 1939 §6: the UPDATE state; the caller removes the marked messages. */
        s->ev.count = s->ndeleted;
        s->ev.size = s->deleted_octets;
        return paused(s, MW__POP3_P_COMMIT, MW_POP3_EV_COMMIT);
    }
    int rc = put_status(s, 1, NULL, "POP3 server signing off");
    close_session(s);
    return rc ? rc : MW_POP3_EV_QUIT;
}

static int has_control(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 32 && c != '\t') || c == 127) return 1;
    }
    return 0;
}

static int command(mw_pop3_server *s, char *line, size_t len)
{
    if (has_control(line, len)) return bad(s, NULL, "Invalid character in command");
    size_t v = 0;
    while (v < len && v < 8 && ((((unsigned char)line[v] | 0x20) >= 'a' && ((unsigned char)line[v] | 0x20) <= 'z') ||
                                (line[v] >= '0' && line[v] <= '9')))
        v++;
    if (v == 0 || (v < len && line[v] != ' ')) return bad(s, NULL, "Unknown command");
    char *arg = line + v + (v < len ? 1 : 0);
    size_t alen = len - (size_t)(arg - line);
    int tx = s->authed;
    /* PASS keeps its spaces (RFC 1939 §7 allows them in passwords);
     * other arguments lose trailing blanks. */
    int is_pass = mw__ieq(line, v, "PASS");
    if (!is_pass)
        while (alen && (arg[alen - 1] == ' ' || arg[alen - 1] == '\t')) alen--;
#define VERB(name) mw__ieq(line, v, name)
    if (VERB("QUIT")) return cmd_quit(s, alen);
    if (VERB("CAPA")) return alen ? bad(s, NULL, "Syntax: CAPA") : cmd_capa(s);
    if (VERB("LANG")) return cmd_lang(s, arg, alen); /* AUTHORIZATION and TRANSACTION */
    if (!tx) {
        if (VERB("USER")) return cmd_user(s, arg, alen);
        if (is_pass) return cmd_pass(s, arg, alen);
        if (VERB("APOP")) return cmd_apop(s, arg, alen);
        if (VERB("AUTH")) return cmd_auth(s, arg, alen);
        if (VERB("STLS")) return cmd_stls(s, alen);
        if (VERB("UTF8") && has_capa(s, MW_POP3_CAPA_UTF8)) {
            if (alen) return bad(s, NULL, "Syntax: UTF8");
            s->utf8 = 1; /* RFC 6856 §2 */
            return ok_again(s, "UTF8 enabled");
        }
        if (VERB("STAT") || VERB("LIST") || VERB("RETR") || VERB("DELE") || VERB("NOOP") || VERB("RSET") ||
            VERB("TOP") || VERB("UIDL"))
            return bad(s, NULL, "Not in TRANSACTION state");
        return bad(s, NULL, "Unknown command");
    }
    if (VERB("STAT")) {
        if (alen) return bad(s, NULL, "Syntax: STAT");
        uint64_t octets;
        uint32_t n = live_count(s, &octets);
        char t[64];
        snprintf(t, sizeof t, "%lu %llu", (unsigned long)n, (unsigned long long)octets);
        return ok_again(s, t);
    }
    if (VERB("LIST")) return cmd_list(s, arg, alen, 0);
    if (VERB("UIDL") && has_capa(s, MW_POP3_CAPA_UIDL)) return cmd_list(s, arg, alen, 1);
    if (VERB("RETR")) return cmd_retr(s, arg, alen, 0);
    if (VERB("TOP") && has_capa(s, MW_POP3_CAPA_TOP)) return cmd_retr(s, arg, alen, 1);
    if (VERB("DELE")) return cmd_dele(s, arg, alen);
    if (VERB("NOOP")) return alen ? bad(s, NULL, "Syntax: NOOP") : ok_again(s, NULL);
    if (VERB("RSET")) {
        if (alen) return bad(s, NULL, "Syntax: RSET");
        if (s->ndeleted) memset(s->deleted, 0, s->nmsgs);
        s->ndeleted = 0;
        s->deleted_octets = 0;
        int rc = maildrop_status(s, 1);
        return rc ? rc : AGAIN;
    }
    if (VERB("USER") || is_pass || VERB("APOP") || VERB("AUTH") || VERB("STLS") || VERB("UTF8"))
        return bad(s, NULL, "Not in AUTHORIZATION state");
#undef VERB
    return bad(s, NULL, "Unknown command");
}

static int line_step(mw_pop3_server *s)
{
    int in_auth = s->phase == MW__POP3_PH_AUTH;
    size_t lim = in_auth ? s->o.max_auth : s->o.max_cmd;
    unsigned lf = (s->o.flags & MW_POP3_SERVER_BARE_LF) ? MW__LINE_LENIENT_LF : 0u;
    mw_slice line;
    if (mw__inbuf_len(&s->io.in) == 0)
        return 0; /* nothing buffered (the buffer may not exist yet) */
    int rc = mw__inbuf_line(&s->io.in, lim, lf, &line);
    if (rc == 0) return 0;
    if (rc == MW_ERR_LINE_TOO_LONG) {
        if (in_auth) {
            s->phase = MW__POP3_PH_CMD;
            rc = put_status(s, 0, NULL, "Authentication line too long");
            return rc ? rc : MW_POP3_EV_AUTH_ABORT;
        }
        return bad(s, NULL, "Line too long");
    }
    if (rc < 0) return rc;
    char *p = (char *)(uintptr_t)line.base; /* our own buffer: decoded in place */
    if (in_auth) return auth_response(s, p, line.len);
    return command(s, p, line.len);
}

/* ---- next -------------------------------------------------------------- */

int mw_pop3_server_next(mw_pop3_server *s, const mw_pop3_event **evp)
{
    if (evp) *evp = NULL;
    if (!s || !evp) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (s->pending || s->phase == MW__POP3_PH_BODY) return MW_ERR_STATE;
    for (;;) {
        if (s->phase == MW__POP3_PH_CLOSED) return MW_ERR_CLOSED;
        memset(&s->ev, 0, sizeof s->ev);
        int rc;
        if (s->maildrop_due) {
            s->maildrop_due = 0;
            maildrop_clear(s);
            s->ev.user.base = s->user;
            s->ev.user.len = s->user_len;
            rc = paused(s, MW__POP3_P_MAILDROP, MW_POP3_EV_MAILDROP);
        } else if (s->phase == MW__POP3_PH_HANDOFF ||
                   mw__outq_len(&s->io.out) > MW__POP3_OUT_HIGH) {
            return 0;
        } else if (s->phase == MW__POP3_PH_LISTING) {
            rc = listing_step(s);
        } else {
            rc = line_step(s);
        }
        if (rc == AGAIN) continue;
        if (rc > 0) {
            s->ev.type = rc;
            if (s->tls) s->ev.flags |= MW_POP3_F_TLS;
            if (s->utf8) s->ev.flags |= MW_POP3_F_UTF8;
            if (s->authed) s->ev.flags |= MW_POP3_F_AUTHENTICATED;
            *evp = &s->ev;
            return rc;
        }
        if (rc < 0) return set_fatal(s, rc);
        if (s->phase == MW__POP3_PH_LISTING) return 0; /* wait for the output to drain */
        if (s->io.eof) {
            close_session(s);
            return MW_ERR_CLOSED;
        }
        return 0;
    }
}

/* ---- decisions --------------------------------------------------------- */

static int code_ok(const char *c)
{
    /* RFC 2449 §8: resp-level *("/" resp-level), resp-level = 1*(A-Z / "-") */
    if (!c) return 1;
    size_t n = strlen(c), lvl = 0;
    if (n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        if (ch == '/') {
            if (lvl == 0) return 0;
            lvl = 0;
        } else if ((ch >= 'A' && ch <= 'Z') || ch == '-') {
            lvl++;
        } else {
            return 0;
        }
    }
    return lvl > 0;
}

static void begin_body(mw_pop3_server *s)
{
    s->phase = MW__POP3_PH_BODY;
    s->body_in_header = 1;
    s->body_done = 0;
    s->b_bol = 1;
    s->b_cr = 0;
    s->b_crlf = 1; /* the status line ended with CRLF */
    s->b_linelen = 0;
}

/* "+OK tag text" (RFC 6856 §3 example: the tag leads the text) and the
 * session's language becomes tag. */
static int lang_answer(mw_pop3_server *s, const char *code, const char *tag, const char *text)
{
    char t[MW__POP3_LANG_TAG_MAX + 1 + MW__POP3_TEXT_MAX + 1];
    snprintf(t, sizeof t, "%s %s", tag, text ? text : "Language changed");
    int rc = put_status(s, 1, code, t);
    if (rc) return rc;
    memcpy(s->lang, tag, strlen(tag) + 1);
    s->pending = MW__POP3_P_NONE;
    return MW_OK;
}

int mw_pop3_server_lang_select(mw_pop3_server *s, const char *tag, const char *text)
{
    if (!s || !tag) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (s->pending != MW__POP3_P_LANG) return MW_ERR_STATE;
    if (!mw__pop3_lang_tag_ok(tag, strlen(tag), 0)) return MW_ERR_INVALID;
    if (text && (strlen(text) > MW__POP3_TEXT_MAX || !mw__pop3_text_ok(text, strlen(text), 1)))
        return MW_ERR_INVALID;
    return lang_answer(s, NULL, tag, text);
}

const char *mw_pop3_server_language(const mw_pop3_server *s)
{
    return s ? s->lang : "";
}

int mw_pop3_server_reply(mw_pop3_server *s, int ok, const char *code, const char *text)
{
    if (!s) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (!s->pending) return MW_ERR_STATE;
    if (!code_ok(code)) return MW_ERR_INVALID;
    if (text && (strlen(text) > MW__POP3_TEXT_MAX || !mw__pop3_text_ok(text, strlen(text), 1)))
        return MW_ERR_INVALID;
    int p = s->pending;
    char t[96];
    if (ok) {
        switch (p) {
        case MW__POP3_P_PASS:
        case MW__POP3_P_APOP:
        case MW__POP3_P_AUTH:
            /* Credentials good: the maildrop comes next, the +OK after it. */
            s->pending = MW__POP3_P_NONE;
            s->phase = MW__POP3_PH_CMD;
            s->maildrop_due = 1;
            return MW_OK;
        case MW__POP3_P_MAILDROP: {
            uint64_t octets;
            uint32_t n = live_count(s, &octets);
            if (!text) {
                snprintf(t, sizeof t, "maildrop has %lu message%s (%llu octets)", (unsigned long)n,
                         n == 1 ? "" : "s", (unsigned long long)octets);
                text = t;
            }
            int rc = put_status(s, 1, code, text);
            if (rc) return rc;
            s->authed = 1;
            break;
        }
        case MW__POP3_P_RETR: {
            if (!text && !s->body_top) {
                snprintf(t, sizeof t, "%llu octets", (unsigned long long)s->sizes[s->ev.msg - 1]);
                text = t;
            }
            int rc = put_status(s, 1, code, text);
            if (rc) return rc;
            s->pending = MW__POP3_P_NONE;
            begin_body(s);
            return MW_OK;
        }
        case MW__POP3_P_LANG: {
            /* Take the requested tag; "*" leaves the choice to the list. */
            char tag[MW__POP3_LANG_TAG_MAX + 1];
            if (!strcmp(s->lang_req, "*")) {
                const char *first = s->o.langs[0];
                size_t n = (size_t)(strchr(first, ' ') - first);
                memcpy(tag, first, n);
                tag[n] = 0;
            } else {
                memcpy(tag, s->lang_req, sizeof tag);
            }
            return lang_answer(s, code, tag, text);
        }
        case MW__POP3_P_COMMIT: {
            uint32_t left = live_count(s, NULL);
            if (!text) {
                snprintf(t, sizeof t, "POP3 server signing off (%lu message%s left)", (unsigned long)left,
                         left == 1 ? "" : "s");
                text = t;
            }
            int rc = put_status(s, 1, code, text);
            if (rc) return rc;
            close_session(s);
            return MW_OK;
        }
        default: break;
        }
        s->pending = MW__POP3_P_NONE;
        return MW_OK;
    }
    const char *def = "Refused";
    switch (p) {
    case MW__POP3_P_PASS:
    case MW__POP3_P_APOP:
    case MW__POP3_P_AUTH: def = "Authentication failed"; break;
    case MW__POP3_P_MAILDROP: def = "Unable to lock maildrop"; break;
    case MW__POP3_P_RETR: def = "Message unavailable"; break;
    case MW__POP3_P_COMMIT: def = "Some deleted messages not removed"; break;
    case MW__POP3_P_LANG: def = "Language not available"; break;
    default: break;
    }
    int rc = put_status(s, 0, code, text ? text : def);
    if (rc) return rc;
    s->pending = MW__POP3_P_NONE;
    if (p == MW__POP3_P_AUTH) s->phase = MW__POP3_PH_CMD;
    if (p == MW__POP3_P_MAILDROP) maildrop_clear(s);
    if (p == MW__POP3_P_COMMIT) close_session(s); /* RFC 1939 §6 */
    return MW_OK;
}

int mw_pop3_server_accept(mw_pop3_server *s)
{
    return mw_pop3_server_reply(s, 1, NULL, NULL);
}

int mw_pop3_server_auth_challenge(mw_pop3_server *s, const void *data, size_t len)
{
    if (!s || (!data && len)) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (s->pending != MW__POP3_P_AUTH) return MW_ERR_STATE;
    size_t enc = mw_b64_encoded_len(len, 0);
    if (enc + 4 > s->o.max_auth) return MW_ERR_INVALID;
    if (enc + 4 > mw__outq_room(&s->io.out)) return MW_ERR_LIMIT;
    size_t got;
    unsigned char *w = mw__outq_reserve(&s->io.out, enc + 4, &got);
    if (!w) return set_fatal(s, MW_ERR_NOMEM);
    w[0] = '+';
    w[1] = ' '; /* RFC 5034 §4: an empty challenge is "+ " */
    mw_ssize n = mw_b64_encode(data, len, (char *)w + 2, enc, 0);
    if (n < 0) return MW_ERR_INVALID;
    w[2 + n] = '\r';
    w[3 + n] = '\n';
    mw__outq_commit(&s->io.out, (size_t)n + 4);
    s->pending = MW__POP3_P_NONE;
    s->phase = MW__POP3_PH_AUTH;
    return MW_OK;
}

int mw_pop3_server_check_secret(const mw_pop3_server *s, const char *secret, size_t len)
{
    if (!s || (!secret && len)) return MW_ERR_INVALID;
    if (s->pending == MW__POP3_P_PASS) {
        if (len != s->ev.secret.len) return 0;
        return len == 0 || mw__ct_memcmp(secret, s->ev.secret.base, len) == 0;
    }
    if (s->pending == MW__POP3_P_APOP) {
        char hex[33];
        mw_pop3_apop_digest(s->o.timestamp, strlen(s->o.timestamp), secret, len, hex);
        int eq = mw__ct_memcmp(hex, s->ev.secret.base, 32) == 0;
        mw__wipe(hex, sizeof hex);
        return eq;
    }
    return MW_ERR_STATE;
}
