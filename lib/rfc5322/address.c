/*
 * Address lists (RFC 5322 §3.4, obsolete forms §4.4, RFC 6532 UTF-8,
 * RFC 2047 §5(3) encoded words in display names).
 *
 * The parser runs twice over the input: the first run counts entries and
 * string bytes, the second fills one arena of exactly that size. Comments
 * nest by counter (no recursion), and every ambiguity is resolved the way
 * the grammar says and then flagged.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rfc5322/rfc5322_internal.h"

#include <mailwire/codec.h>

#define DEFAULT_MAX_ENTRIES 1000u
#define DEFAULT_MAX_DEPTH 32u

enum { T_END = 0, T_ATOM, T_QSTR, T_DLIT, T_SPEC, T_BAD };

typedef struct tok {
    int type;
    char c;          /* T_SPEC: the special character */
    int ws;          /* CFWS came before the token */
    const char *pre; /* where that CFWS started */
    const char *s, *e;
} tok;

typedef struct lexer {
    const char *p, *end;
    unsigned max_depth;
    int fatal;        /* MW_ERR_LIMIT from a comment nested too deep */
    unsigned flags;   /* MW_ADDR_F_* seen since the last reset */
    mw_slice comment; /* first comment since the last reset */
} lexer;

static int is_eol(char c)
{
    return c == '\r' || c == '\n';
}

/* Step over a line end at p: CRLF followed by WSP is a fold (§2.2.3);
 * a lone CR or LF, or a CRLF that folds nothing, is flagged. */
static size_t take_eol(lexer *lx, const char *p)
{
    if (*p == '\r' && p + 1 < lx->end && p[1] == '\n') {
        if (!(p + 2 < lx->end && (p[2] == ' ' || p[2] == '\t'))) lx->flags |= MW_ADDR_F_BARE_EOL;
        return 2;
    }
    lx->flags |= MW_ADDR_F_BARE_EOL;
    return 1;
}

/* Classify a byte >= 0x80 at p: RFC 6532 UTF-8, or 8-bit junk. */
static size_t take_8bit(lexer *lx, const char *p, const char *end)
{
    size_t u = mw__utf8_len((const unsigned char *)p, (size_t)(end - p));
    lx->flags |= u ? MW_ADDR_F_UTF8 : MW_ADDR_F_8BIT;
    return u ? u : 1;
}

/* Skip CFWS before a token. @return 0, or -1 for an unterminated comment
 * (lx->p then points at its '(' so the caller can make a T_BAD token). */
static int skip_cfws(lexer *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == ' ' || c == '\t') {
            lx->p++;
        } else if (is_eol(c)) {
            lx->p += take_eol(lx, lx->p);
        } else if (c == '(') {
            const char *start = lx->p;
            int rc = mw__skip_comment(&lx->p, lx->end, lx->max_depth);
            if (rc == MW_ERR_LIMIT) {
                lx->fatal = rc;
                lx->p = lx->end;
                return -1;
            }
            if (rc != MW_OK) {
                lx->p = start;
                return -1;
            }
            lx->flags |= MW_ADDR_F_COMMENT;
            if (!lx->comment.base) {
                lx->comment.base = start + 1;
                lx->comment.len = (size_t)(lx->p - start) - 2;
            }
        } else {
            break;
        }
    }
    return 0;
}

/* Body of a quoted string or domain literal after its opening byte, up to
 * and including the closing byte. Returns 0, or -1 when unterminated or
 * (literal) when a '[' appears inside. */
static int scan_quoted(lexer *lx, char close)
{
    const char *p = lx->p + 1, *end = lx->end;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == (unsigned char)close) {
            lx->p = p + 1;
            return 0;
        }
        if (c == '\\') {
            if (p + 1 == end) break;
            unsigned char q = (unsigned char)p[1];
            /* quoted-pair of VCHAR or WSP; anything else is obs-qp (§4.1),
             * and a quoted-pair in a domain literal is obsolete (§4.4). */
            if (close == ']' || !(mw__is(q, MW__C_VCHAR) || q == ' ' || q == '\t' || q >= 0x80))
                lx->flags |= MW_ADDR_F_OBS_QP;
            if (q >= 0x80) {
                p += 1 + take_8bit(lx, p + 1, end);
                continue;
            }
            p += 2;
        } else if (c >= 0x80) {
            p += take_8bit(lx, p, end);
        } else if (is_eol((char)c)) {
            p += take_eol(lx, p);
        } else if (close == ']' && c == '[') {
            break;
        } else {
            if (c == 0) break; /* NUL is never text, not even obsolete */
            p++;
        }
    }
    return -1;
}

static void lex_next(lexer *lx, tok *t)
{
    t->pre = lx->p;
    int bad = skip_cfws(lx);
    t->ws = lx->p != t->pre;
    t->s = lx->p;
    t->c = 0;
    if (bad || lx->fatal) {
        t->type = lx->fatal ? T_END : T_BAD;
        lx->p = lx->end;
        t->e = lx->p;
        return;
    }
    if (lx->p == lx->end) {
        t->type = T_END;
        t->e = lx->p;
        return;
    }
    unsigned char c = (unsigned char)*lx->p;
    if (c == '"' || c == '[') {
        t->type = c == '"' ? T_QSTR : T_DLIT;
        if (scan_quoted(lx, c == '"' ? '"' : ']')) {
            t->type = T_BAD;
            lx->p = lx->end;
        }
    } else if (mw__is(c, MW__C_ATEXT) || c >= 0x80) {
        t->type = T_ATOM;
        while (lx->p < lx->end) {
            unsigned char a = (unsigned char)*lx->p;
            if (mw__is(a, MW__C_ATEXT))
                lx->p++;
            else if (a >= 0x80)
                lx->p += take_8bit(lx, lx->p, lx->end);
            else
                break;
        }
    } else if (c == '<' || c == '>' || c == '@' || c == ',' || c == ';' || c == ':' || c == '.') {
        t->type = T_SPEC;
        t->c = (char)c;
        lx->p++;
    } else {
        t->type = T_BAD; /* ')', '\\', ']', controls */
        lx->p++;
    }
    t->e = lx->p;
}

/* ---- output: entries and the string arena ------------------------- */

typedef struct sink {
    char *buf; /* NULL while counting */
    size_t len, cap;
} sink;

typedef struct parser {
    lexer lx;
    tok cur;
    unsigned opt;
    size_t max_entries;
    mw_addr *items; /* NULL while counting */
    size_t count;
    sink out;
    unsigned list_flags;
    int err;
} parser;

static const char empty_str[1] = {0};

static void put(parser *ps, const void *data, size_t n)
{
    if (ps->out.buf) {
        if (n > ps->out.cap - ps->out.len) {
            ps->err = MW_ERR_STATE; /* sizing bug: never write past the arena */
            return;
        }
        memcpy(ps->out.buf + ps->out.len, data, n);
    }
    ps->out.len += n;
}

static void put_c(parser *ps, char c)
{
    put(ps, &c, 1);
}

/* Finish a string started at offset start: NUL-terminate it and return the
 * slice (only meaningful while writing). */
static mw_slice finish_str(parser *ps, size_t start)
{
    mw_slice s = {empty_str, 0};
    size_t len = ps->out.len - start;
    put_c(ps, 0);
    if (ps->out.buf && len) {
        s.base = ps->out.buf + start;
        s.len = len;
    }
    return s;
}

static void advance(parser *ps)
{
    lex_next(&ps->lx, &ps->cur);
}

static int is_spec(const tok *t, char c)
{
    return t->type == T_SPEC && t->c == c;
}

/* Copy a quoted string's content: quoted-pairs lose the backslash, folds
 * (CRLF before WSP) are removed (§3.2.4 and §2.2.3 semantics). */
static void put_unquoted(parser *ps, const char *s, const char *e)
{
    for (const char *p = s + 1; p < e - 1; p++) {
        if (*p == '\\' && p + 1 < e - 1) {
            p++;
        } else if (*p == '\r' && p + 1 < e - 1 && p[1] == '\n') {
            continue;
        } else if (*p == '\n' && p > s + 1 && p[-1] == '\r') {
            continue;
        }
        put_c(ps, *p);
    }
}

static int is_encoded_word(const tok *t)
{
    size_t n = (size_t)(t->e - t->s);
    return t->type == T_ATOM && n >= 8 && t->s[0] == '=' && t->s[1] == '?' && t->e[-2] == '?' &&
           t->e[-1] == '=';
}

static int only_wsp(const char *p, const char *e)
{
    for (; p < e; p++)
        if (*p != ' ' && *p != '\t' && !is_eol(*p)) return 0;
    return 1;
}

/* Decode a run of encoded words [s, e) into the arena; flag what came out. */
static void put_decoded(parser *ps, const char *s, const char *e, unsigned *flags)
{
    size_t n = (size_t)(e - s);
    *flags |= MW_ADDR_F_ENCODED;
    if (!ps->out.buf) {
        ps->out.len += 3 * n + 1; /* mw_2047_decode never needs more */
        return;
    }
    unsigned defects = 0;
    char *o = ps->out.buf + ps->out.len;
    mw_ssize got = mw_2047_decode(s, n, o, ps->out.cap - ps->out.len, 0, &defects);
    if (got < 0) {
        ps->err = MW_ERR_STATE;
        return;
    }
    if (defects) *flags |= MW_ADDR_F_ENCODED_DEFECT;
    /* CVE-2023-27043 class: decoded text is display text, never syntax. */
    for (mw_ssize i = 0; i < got; i++) {
        char c = o[i];
        if (c == '@' || c == '<' || c == '>' || c == ',' || c == ';' || c == ':' || c == '"')
            *flags |= MW_ADDR_F_ENCODED_SPECIALS;
    }
    ps->out.len += (size_t)got;
}

/* The display name: words joined by one space where the input had CFWS,
 * quoted strings unquoted, runs of encoded words decoded (§6.2: the space
 * between adjacent encoded words is dropped). */
static mw_slice render_phrase(parser *ps, const char *s, const char *e, unsigned *flags)
{
    size_t start = ps->out.len;
    lexer sub = {s, e, ps->lx.max_depth, 0, 0, {NULL, 0}};
    tok t;
    int first = 1;
    lex_next(&sub, &t);
    while (t.type != T_END && t.type != T_BAD) {
        if (!first && t.ws) put_c(ps, ' ');
        first = 0;
        if (is_encoded_word(&t) && !(ps->opt & MW_ADDR_NO_2047)) {
            const char *rs = t.s, *re = t.e;
            for (;;) {
                lexer save = sub;
                lex_next(&sub, &t);
                if (!is_encoded_word(&t) || !only_wsp(re, t.s)) {
                    sub = save;
                    break;
                }
                re = t.e;
            }
            put_decoded(ps, rs, re, flags);
        } else if (t.type == T_QSTR) {
            put_unquoted(ps, t.s, t.e);
        } else {
            put(ps, t.s, (size_t)(t.e - t.s));
        }
        lex_next(&sub, &t);
    }
    mw_slice r = finish_str(ps, start);
    for (size_t i = 0; i < r.len; i++) {
        unsigned char c = (unsigned char)r.base[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) *flags |= MW_ADDR_F_CTL;
    }
    return r;
}

/* Local part or domain: tokens concatenated, CFWS dropped; quoted strings
 * unquoted; domain literals copied without line ends. */
static mw_slice render_joined(parser *ps, const char *s, const char *e)
{
    size_t start = ps->out.len;
    lexer sub = {s, e, ps->lx.max_depth, 0, 0, {NULL, 0}};
    tok t;
    for (lex_next(&sub, &t); t.type != T_END && t.type != T_BAD; lex_next(&sub, &t)) {
        if (t.type == T_QSTR) {
            put_unquoted(ps, t.s, t.e);
        } else if (t.type == T_DLIT) {
            for (const char *p = t.s; p < t.e; p++)
                if (!is_eol(*p)) put_c(ps, *p);
        } else {
            put(ps, t.s, (size_t)(t.e - t.s));
        }
    }
    return finish_str(ps, start);
}

/* dot-atom-text (§3.2.3), with UTF-8 allowed (RFC 6532 §3.2). */
static int is_dot_atom(const char *p, size_t n)
{
    int after_atext = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '.') {
            if (!after_atext) return 0;
            after_atext = 0;
        } else if (mw__is(c, MW__C_ATEXT)) {
            after_atext = 1;
        } else if (c >= 0x80) {
            size_t u = mw__utf8_len((const unsigned char *)p + i, n - i);
            if (!u) return 0;
            i += u - 1;
            after_atext = 1;
        } else {
            return 0;
        }
    }
    return after_atext;
}

/* Write local, quoted with '"' and '\\' escaped when not a dot-atom. */
static void put_local_quoted(parser *ps, const char *p, size_t n)
{
    put_c(ps, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\' || c == '\r' || c == '\n' || c == 0 || (c < 0x20 && c != '\t') ||
            c == 0x7f)
            put_c(ps, '\\');
        put_c(ps, (char)c);
    }
    put_c(ps, '"');
}

/* The canonical addr-spec: "local@domain", quoting re-applied if needed. */
static mw_slice render_addr_spec(parser *ps, mw_slice local, size_t local_len, mw_slice domain,
                                 size_t domain_len, unsigned *flags)
{
    size_t start = ps->out.len;
    if (!ps->out.buf) {
        ps->out.len += 2 * local_len + 2 + 1 + domain_len + 1; /* worst case: all escaped */
        return local;
    }
    if (is_dot_atom(local.base, local.len)) {
        put(ps, local.base, local.len);
    } else {
        *flags |= MW_ADDR_F_QUOTED_LOCAL;
        if (memchr(local.base, '@', local.len)) *flags |= MW_ADDR_F_QUOTED_AT;
        put_local_quoted(ps, local.base, local.len);
    }
    put_c(ps, '@');
    put(ps, domain.base, domain.len);
    return finish_str(ps, start);
}

/* Bytes a render_joined string occupies before its NUL while counting. */
static size_t last_len(parser *ps, size_t start)
{
    return ps->out.len - start - 1;
}

static const char *trim_front(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || is_eol(*p)))
        p++;
    return p;
}

static const char *trim_back(const char *s, const char *e)
{
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || is_eol(e[-1])))
        e--;
    return e;
}

static void set_raw(mw_addr *a, const char *s, const char *e)
{
    s = trim_front(s, e);
    a->raw.base = s;
    a->raw.len = (size_t)(trim_back(s, e) - s);
}

static void reset_lexer_notes(parser *ps)
{
    ps->lx.flags = 0;
    ps->lx.comment.base = NULL;
    ps->lx.comment.len = 0;
}

static void take_lexer_notes(parser *ps, mw_addr *a)
{
    a->flags |= ps->lx.flags;
    if (!a->comment.len && ps->lx.comment.base) a->comment = ps->lx.comment;
}

static int emit(parser *ps, const mw_addr *a)
{
    if (ps->count >= ps->max_entries) {
        ps->err = MW_ERR_LIMIT;
        return -1;
    }
    if (a->kind == MW_ADDR_INVALID && (ps->opt & MW_ADDR_STRICT)) {
        ps->err = MW_ERR_SYNTAX;
        return -1;
    }
    if (ps->items) ps->items[ps->count] = *a;
    ps->count++;
    ps->list_flags |= a->flags;
    return 0;
}

static void init_entry(mw_addr *a, int kind, size_t group)
{
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->group = group;
    a->raw.base = a->display.base = a->local.base = a->domain.base = a->addr_spec.base =
        a->route.base = a->comment.base = empty_str;
}

/* A run of words and dots: display name, or local part, or group name. */
typedef struct phrase {
    const char *s, *e;
    size_t n;
    int bad_phrase; /* starts with '.' */
    int bad_local;  /* not word *("." word) */
    int has_dot, has_qstr, inner_ws;
} phrase;

static void collect_phrase(parser *ps, phrase *ph)
{
    int prev = 0; /* 0 nothing, 1 word, 2 dot */
    memset(ph, 0, sizeof *ph);
    ph->s = ph->e = ps->cur.s;
    while (ps->cur.type == T_ATOM || ps->cur.type == T_QSTR || is_spec(&ps->cur, '.')) {
        int dot = ps->cur.type == T_SPEC;
        if (ph->n && ps->cur.ws) ph->inner_ws = 1;
        if (dot) {
            ph->has_dot = 1;
            if (prev != 1) ph->bad_local = 1;
            if (ph->n == 0) ph->bad_phrase = 1;
        } else {
            if (prev == 1) ph->bad_local = 1;
            if (ps->cur.type == T_QSTR) ph->has_qstr = 1;
        }
        prev = dot ? 2 : 1;
        ph->n++;
        ph->e = ps->cur.e;
        advance(ps);
    }
    if (prev != 1) ph->bad_local = 1;
}

/* domain = dot-atom / domain-literal / obs-domain. Fills [s, e). */
static int parse_domain(parser *ps, const char **s, const char **e, unsigned *flags)
{
    *s = ps->cur.s;
    if (ps->cur.type == T_DLIT) {
        *flags |= MW_ADDR_F_DOMAIN_LITERAL;
        *e = ps->cur.e;
        advance(ps);
        return 0;
    }
    if (ps->cur.type != T_ATOM) return -1;
    for (;;) {
        *e = ps->cur.e;
        advance(ps);
        if (!is_spec(&ps->cur, '.')) return 0;
        if (ps->cur.ws) *flags |= MW_ADDR_F_OBS_DOMAIN;
        advance(ps);
        if (ps->cur.type != T_ATOM) return -1;
        if (ps->cur.ws) *flags |= MW_ADDR_F_OBS_DOMAIN;
    }
}

/* obs-route (§4.4): obs-domain-list ":" before the addr-spec in <>. */
static int parse_route(parser *ps, mw_addr *a)
{
    const char *s = ps->cur.s, *e = s, *ds, *de;
    unsigned ignored = 0;
    while (is_spec(&ps->cur, ','))
        advance(ps);
    if (!is_spec(&ps->cur, '@')) return -1;
    advance(ps);
    if (parse_domain(ps, &ds, &de, &ignored)) return -1;
    e = de;
    while (is_spec(&ps->cur, ',')) {
        advance(ps);
        if (is_spec(&ps->cur, '@')) {
            advance(ps);
            if (parse_domain(ps, &ds, &de, &ignored)) return -1;
            e = de;
        }
    }
    if (!is_spec(&ps->cur, ':')) return -1;
    advance(ps);
    a->route.base = s;
    a->route.len = (size_t)(e - s);
    a->flags |= MW_ADDR_F_OBS_ROUTE;
    return 0;
}

/* Render the strings of a mailbox from its spans. */
static void render_mailbox(parser *ps, mw_addr *a, const phrase *display, const phrase *local,
                           const char *ds, const char *de)
{
    if (display && display->n) {
        a->display = render_phrase(ps, display->s, display->e, &a->flags);
        if (display->has_dot) a->flags |= MW_ADDR_F_OBS_PHRASE;
    }
    size_t mark = ps->out.len;
    a->local = render_joined(ps, local->s, local->e);
    size_t local_len = last_len(ps, mark);
    mark = ps->out.len;
    a->domain = render_joined(ps, ds, de);
    size_t domain_len = last_len(ps, mark);
    if (local->n > 1 && (local->inner_ws || local->has_qstr)) a->flags |= MW_ADDR_F_OBS_LOCAL;
    a->addr_spec = render_addr_spec(ps, a->local, local_len, a->domain, domain_len, &a->flags);
}

/* The token after an entry must end it. */
static int at_entry_end(parser *ps, int in_group)
{
    return ps->cur.type == T_END || is_spec(&ps->cur, ',') || (in_group && is_spec(&ps->cur, ';'));
}

/* Parse a mailbox (name-addr or addr-spec) after its phrase; -1 if the
 * grammar does not match. */
static int parse_mailbox_rest(parser *ps, mw_addr *a, const phrase *ph, int in_group)
{
    const char *ds, *de;
    if (is_spec(&ps->cur, '<')) {
        if (ph->n && ph->bad_phrase) return -1;
        advance(ps);
        if ((is_spec(&ps->cur, '@') || is_spec(&ps->cur, ',')) && parse_route(ps, a)) return -1;
        phrase local;
        collect_phrase(ps, &local);
        if (!local.n || local.bad_local || !is_spec(&ps->cur, '@')) return -1;
        advance(ps);
        if (parse_domain(ps, &ds, &de, &a->flags) || !is_spec(&ps->cur, '>')) return -1;
        advance(ps);
        if (!at_entry_end(ps, in_group)) return -1;
        render_mailbox(ps, a, ph, &local, ds, de);
        return 0;
    }
    if (is_spec(&ps->cur, '@') && ph->n && !ph->bad_local) {
        advance(ps);
        if (parse_domain(ps, &ds, &de, &a->flags) || !at_entry_end(ps, in_group)) return -1;
        render_mailbox(ps, a, NULL, ph, ds, de);
        return 0;
    }
    return -1;
}

/* Skip to the end of a bad entry: the next ',' (or ';' inside a group). */
static void resync(parser *ps, int in_group)
{
    while (!at_entry_end(ps, in_group))
        advance(ps);
}

static void emit_invalid(parser *ps, const char *start, int in_group, size_t group)
{
    mw_addr a;
    resync(ps, in_group);
    init_entry(&a, MW_ADDR_INVALID, group);
    take_lexer_notes(ps, &a);
    set_raw(&a, start, ps->cur.s);
    emit(ps, &a);
}

static void parse_group(parser *ps, const char *start, const phrase *name, unsigned pending);

/* One address (or one group member when in_group). */
static void parse_address(parser *ps, int in_group, size_t group, unsigned pending)
{
    const char *start = ps->cur.pre;
    phrase ph;
    collect_phrase(ps, &ph);
    if (is_spec(&ps->cur, ':') && !in_group && ph.n && !ph.bad_phrase) {
        if (ps->opt & MW_ADDR_NO_GROUPS) {
            /* The whole group, members included, is one invalid entry. */
            while (ps->cur.type != T_END && !is_spec(&ps->cur, ';'))
                advance(ps);
            if (ps->cur.type != T_END) advance(ps);
            emit_invalid(ps, start, 0, group);
            return;
        }
        parse_group(ps, start, &ph, pending);
        return;
    }
    mw_addr a;
    init_entry(&a, MW_ADDR_MAILBOX, group);
    a.flags = pending;
    size_t mark = ps->out.len;
    if (parse_mailbox_rest(ps, &a, &ph, in_group)) {
        ps->out.len = mark; /* drop strings of the failed attempt */
        emit_invalid(ps, start, in_group, group);
        return;
    }
    take_lexer_notes(ps, &a);
    set_raw(&a, start, ps->cur.s);
    emit(ps, &a);
}

static void parse_group(parser *ps, const char *start, const phrase *name, unsigned pending)
{
    mw_addr g;
    init_entry(&g, MW_ADDR_GROUP, (size_t)-1);
    g.flags = pending;
    g.display = render_phrase(ps, name->s, name->e, &g.flags);
    if (name->has_dot) g.flags |= MW_ADDR_F_OBS_PHRASE;
    size_t gi = ps->count;
    take_lexer_notes(ps, &g);
    if (emit(ps, &g)) return;
    reset_lexer_notes(ps); /* CFWS after ':' goes with the first member */
    advance(ps);           /* ':' */
    size_t members = 0;
    int closed = 0;
    while (!ps->err && !ps->lx.fatal) {
        unsigned empty = 0;
        while (is_spec(&ps->cur, ',')) {
            empty = MW_ADDR_F_OBS_LIST; /* obs-group-list, obs-mbox-list (§4.4) */
            reset_lexer_notes(ps);
            advance(ps);
        }
        if (is_spec(&ps->cur, ';')) {
            g.flags |= empty;
            closed = 1;
            reset_lexer_notes(ps); /* what follows ';' is the group's again */
            advance(ps);
            break;
        }
        if (ps->cur.type == T_END) {
            g.flags |= empty;
            break;
        }
        parse_address(ps, 1, gi, empty);
        members++;
        if (is_spec(&ps->cur, ',')) {
            reset_lexer_notes(ps);
            advance(ps);
        }
    }
    if (!closed) g.flags |= MW_ADDR_F_NO_SEMICOLON;
    if (ps->items && gi < ps->count) {
        mw_addr *gp = &ps->items[gi];
        gp->members = members;
        gp->flags |= g.flags | (ps->lx.flags & (MW_ADDR_F_COMMENT | MW_ADDR_F_BARE_EOL));
        if (!gp->comment.len && ps->lx.comment.base) gp->comment = ps->lx.comment;
        set_raw(gp, start, ps->cur.s);
    }
    ps->list_flags |= g.flags;
    if (!closed && (ps->opt & MW_ADDR_STRICT) && !ps->err) ps->err = MW_ERR_SYNTAX;
    if (!at_entry_end(ps, 0)) emit_invalid(ps, ps->cur.pre, 0, (size_t)-1);
}

static void parse_list(parser *ps)
{
    unsigned pending = 0;
    advance(ps);
    while (!ps->err && !ps->lx.fatal) {
        while (is_spec(&ps->cur, ',')) {
            pending = MW_ADDR_F_OBS_LIST; /* obs-addr-list (§4.4) */
            reset_lexer_notes(ps);
            advance(ps);
        }
        if (ps->cur.type == T_END) break;
        parse_address(ps, 0, (size_t)-1, pending);
        pending = 0;
        if (is_spec(&ps->cur, ',')) {
            reset_lexer_notes(ps);
            advance(ps);
            if (ps->cur.type == T_END) ps->list_flags |= MW_ADDR_F_OBS_LIST;
        }
    }
    ps->list_flags |= pending;
    if (ps->lx.fatal && !ps->err) ps->err = ps->lx.fatal;
}

static void run(parser *ps, const char *in, size_t len, const mw_addr_opts *o, mw_addr *items,
                char *strings, size_t cap)
{
    memset(ps, 0, sizeof *ps);
    ps->lx.p = in;
    ps->lx.end = in + len;
    ps->lx.max_depth = o->max_comment_depth;
    ps->opt = o->flags;
    ps->max_entries = o->max_entries;
    ps->items = items;
    ps->out.buf = strings;
    ps->out.cap = cap;
    parse_list(ps);
}

int mw_addr_list_parse(const char *in, size_t len, const mw_addr_opts *opts, const mw_mem *mem,
                       mw_addr_list *list)
{
    if (!list) return MW_ERR_INVALID;
    memset(list, 0, sizeof *list);
    if (!in && len) return MW_ERR_INVALID;
    if (!in) in = empty_str;
    mw_addr_opts o = {DEFAULT_MAX_ENTRIES, DEFAULT_MAX_DEPTH, 0};
    if (opts) {
        if (opts->flags & ~(MW_ADDR_STRICT | MW_ADDR_NO_GROUPS | MW_ADDR_NO_2047))
            return MW_ERR_INVALID;
        if (opts->max_entries) o.max_entries = opts->max_entries;
        if (opts->max_comment_depth) o.max_comment_depth = opts->max_comment_depth;
        o.flags = opts->flags;
    }
    parser ps;
    run(&ps, in, len, &o, NULL, NULL, 0);
    if (ps.err) return ps.err;
    size_t count = ps.count, strings = ps.out.len;
    mw__mem_resolve(&list->mem_, mem);
    if (count == 0) return MW_OK;
    if (count > (SIZE_MAX - strings) / sizeof(mw_addr)) return MW_ERR_LIMIT;
    char *arena = mw__malloc(&list->mem_, count * sizeof(mw_addr) + strings);
    if (!arena) {
        memset(list, 0, sizeof *list);
        return MW_ERR_NOMEM;
    }
    mw_addr *items = (mw_addr *)(void *)arena;
    run(&ps, in, len, &o, items, arena + count * sizeof(mw_addr), strings);
    if (ps.err || ps.count != count) {
        mw__free(&list->mem_, arena);
        memset(list, 0, sizeof *list);
        return ps.err ? ps.err : MW_ERR_STATE;
    }
    list->items = items;
    list->count = count;
    list->flags = ps.list_flags;
    list->arena_ = arena;
    return MW_OK;
}

void mw_addr_list_free(mw_addr_list *list)
{
    if (!list) return;
    if (list->arena_) mw__free(&list->mem_, list->arena_);
    memset(list, 0, sizeof *list);
}
