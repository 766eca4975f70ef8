/*
 * RFC 2047 encoded words: decoding of header text into UTF-8 (B and Q,
 * charset conversion through charset.c) and encoding of UTF-8 text as
 * "=?UTF-8?B|Q?...?=" words folded at 76 columns.
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

/* ==================================================================== */
/* decoding                                                              */
/* ==================================================================== */

#define WORD_MAX 75 /* RFC 2047 §2: an encoded word is at most 75 characters */
#define CS_SLOTS 4  /* distinct charsets kept open during one decode call */
#define CHUNK 256   /* payload bytes decoded before each conversion step */

/* One "=?charset[*lang]?enc?text?=" found in the input (RFC 2047 §2, RFC 2231 §5). */
typedef struct ew {
    size_t len;     /* whole word */
    const char *cs; /* charset, without the language suffix */
    size_t cs_len;
    char enc; /* as written */
    const unsigned char *text;
    size_t text_len;
} ew;

typedef struct dec {
    const char *in;
    size_t len;
    unsigned char *out;
    size_t cap; /* usable bytes, the final NUL excluded */
    size_t o;   /* bytes written */
    unsigned flags;
    unsigned defects;
    int cur;                 /* slot whose run of words is open, or -1 */
    size_t run_o;            /* output offset where the open run started */
    size_t run_i, run_end_i; /* input span of the open run's words */
    int nopen;
    unsigned evict;
    mw__charset cs[CS_SLOTS];
} dec;

/* RFC 2047 §2 token: any CHAR except SPACE, CTLs and especials. */
static int is_token_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f) return 0;
    return !strchr("()<>@,;:\"/[]?.=", c);
}

static int is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Parse a word starting at p[0] == '=' and p[1] == '?'; 1 when the shape is
 * right (the payload is checked later). */
static int parse_word(const char *in, size_t n, ew *w)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 2, cs_start = 2, cs_end;
    while (i < n && is_token_char(p[i]) && p[i] != '*')
        i++;
    cs_end = i;
    if (cs_end == cs_start) return 0;
    if (i < n && p[i] == '*') { /* RFC 2231 §5 language suffix, ignored */
        i++;
        size_t lang = i;
        while (i < n && is_token_char(p[i]) && p[i] != '*')
            i++;
        if (i == lang) return 0;
    }
    if (i + 2 >= n || p[i] != '?' || p[i + 2] != '?') return 0;
    char enc = (char)p[i + 1];
    if (!is_token_char((unsigned char)enc)) return 0;
    i += 3;
    size_t text = i;
    while (i < n && p[i] > 0x20 && p[i] < 0x7f && p[i] != '?')
        i++;
    if (i + 1 >= n || p[i] != '?' || p[i + 1] != '=') return 0;
    w->len = i + 2;
    w->cs = in + cs_start;
    w->cs_len = cs_end - cs_start;
    w->enc = enc;
    w->text = p + text;
    w->text_len = i - text;
    return 1;
}

/* RFC 5322 §3.2.3 atext, plus 8-bit bytes (RFC 6532 UTF-8 atoms). */
static int is_atext(unsigned char c)
{
    if (c >= 0x80) return 1;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c > 0x20 && c < 0x7f && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 2047 §5: in strict mode a word must stand alone between linear
 * white space (or the parentheses of a comment) and be at most 75 long.
 * In phrase mode (§5 (2), (3)) it must be a whole atom: no atext glued to
 * either side. */
static int placement_ok(const dec *d, size_t at, size_t wlen)
{
    if (d->flags & MW_2047_PHRASE) {
        if (at > 0 && is_atext((unsigned char)d->in[at - 1])) return 0;
        if (at + wlen < d->len && is_atext((unsigned char)d->in[at + wlen])) return 0;
    }
    if (!(d->flags & MW_2047_STRICT)) return 1;
    if (wlen > WORD_MAX) return 0;
    if (at > 0) {
        unsigned char b = (unsigned char)d->in[at - 1];
        if (!is_wsp(b) && b != '\n' && b != '(') return 0;
    }
    if (at + wlen < d->len) {
        unsigned char a = (unsigned char)d->in[at + wlen];
        if (!is_wsp(a) && a != '\r' && a != '\n' && a != ')') return 0;
    }
    return 1;
}

static const signed char b64_value[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
}; /* value + 1; 0 = not in the alphabet */

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Number of base64 data characters in a B payload, or (size_t)-1 when the
 * payload is malformed. Strict: padded to a multiple of 4 with zero
 * trailing bits. Lenient: padding may be missing or short; trailing bits
 * are ignored. */
static size_t b_payload_chars(const ew *w, unsigned flags)
{
    const unsigned char *t = w->text;
    size_t n = w->text_len, pads = 0;
    while (pads < n && t[n - 1 - pads] == '=')
        pads++;
    size_t m = n - pads;
    for (size_t i = 0; i < m; i++)
        if (!b64_value[t[i]]) return (size_t)-1;
    if (m % 4 == 1 || pads > 2) return (size_t)-1;
    if (flags & MW_2047_STRICT) {
        if ((m + pads) % 4 || (m % 4 == 0 && pads)) return (size_t)-1;
        unsigned last = m ? (unsigned)(b64_value[t[m - 1]] - 1) : 0;
        if ((m % 4 == 2 && (last & 0xF)) || (m % 4 == 3 && (last & 0x3))) return (size_t)-1;
    }
    return m;
}

static int q_payload_ok(const ew *w)
{
    const unsigned char *t = w->text;
    for (size_t i = 0; i < w->text_len; i++) {
        if (t[i] != '=') continue;
        if (i + 2 >= w->text_len || hex_value(t[i + 1]) < 0 || hex_value(t[i + 2]) < 0) return 0;
        i += 2;
    }
    return 1;
}

/* ---- output ---- */

static int emit_text(dec *d, size_t from, size_t to);

#define RUN_DROPPED 1 /* run_feed: the run was given up and copied as text */

/* Convert bytes of the open run into the output; NUL, CR and LF that come
 * out of a decoded word are replaced so they cannot forge header lines.
 * A run may produce at most 3 bytes per input byte of its words (which
 * keeps the documented 3 * len + 1 bound): real charsets stay far below,
 * but a few (TSCII) turn one byte into several characters. Such a run is
 * taken back and its words kept as written, like an unsupported charset. */
static int run_feed(dec *d, const unsigned char *p, size_t n, int finish)
{
    unsigned char *start = d->out + d->o, *op = start;
    size_t made = d->o - d->run_o, allowed = 3 * (d->run_end_i - d->run_i);
    size_t limit = made < allowed ? allowed - made : 0;
    size_t room = d->cap - d->o < limit ? d->cap - d->o : limit;
    int rc = mw__charset_convert(&d->cs[d->cur], &p, &n, &op, &room, finish);
    size_t count = 0, made_now = (size_t)(op - start);
    mw_ssize r = rc ? rc : mw__utf8_replace_controls(start, made_now, room + made_now, &count);
    if (r == MW_ERR_BUFFER && limit <= d->cap - d->o) {
        mw__charset_reset(&d->cs[d->cur]);
        d->cur = -1;
        d->o = d->run_o;
        d->defects |= MW_2047_DEFECT_CHARSET;
        rc = emit_text(d, d->run_i, d->run_end_i);
        return rc ? rc : RUN_DROPPED;
    }
    if (r < 0) return (int)r;
    if (count) d->defects |= MW_2047_DEFECT_INVALID;
    d->o += (size_t)r;
    return MW_OK;
}

static int run_end(dec *d)
{
    if (d->cur < 0) return MW_OK;
    int rc = run_feed(d, NULL, 0, 1);
    d->cur = -1;
    return rc;
}

/* Copy ordinary text, unfolding: CRLF (or LF) before a space or tab goes. */
static int emit_text(dec *d, size_t from, size_t to)
{
    const char *in = d->in;
    for (size_t i = from; i < to; i++) {
        char c = in[i];
        if (c == '\r' && i + 2 < d->len && in[i + 1] == '\n' && is_wsp((unsigned char)in[i + 2])) {
            i++;
            continue;
        }
        if (c == '\n' && i + 1 < d->len && is_wsp((unsigned char)in[i + 1])) continue;
        if (d->o >= d->cap) return MW_ERR_BUFFER;
        d->out[d->o++] = (unsigned char)c;
    }
    return MW_OK;
}

/* End of folding white space starting at i (equal to i when there is none). */
static size_t skip_fws(const char *in, size_t len, size_t i)
{
    while (i < len) {
        if (is_wsp((unsigned char)in[i]))
            i++;
        else if (in[i] == '\r' && i + 2 < len && in[i + 1] == '\n' &&
                 is_wsp((unsigned char)in[i + 2]))
            i += 3;
        else if (in[i] == '\n' && i + 1 < len && is_wsp((unsigned char)in[i + 1]))
            i += 2;
        else
            break;
    }
    return i;
}

/* Find or open the converter for a charset. */
static int slot_for(dec *d, const ew *w, int *slot)
{
    for (int s = 0; s < d->nopen; s++) {
        if (mw__charset_is(&d->cs[s], w->cs, w->cs_len)) {
            *slot = s;
            return MW_OK;
        }
    }
    int s;
    if (d->nopen < CS_SLOTS) {
        s = d->nopen;
    } else { /* reuse a slot, never the one whose run is still open */
        s = (int)(d->evict++ % CS_SLOTS);
        if (s == d->cur) s = (s + 1) % CS_SLOTS;
        if (d->cs[s].replaced) d->defects |= MW_2047_DEFECT_INVALID;
        mw__charset_close(&d->cs[s]);
    }
    int rc = mw__charset_open(&d->cs[s], w->cs, w->cs_len);
    if (rc) {
        if (s < d->nopen) { /* keep slots [0, nopen) open: move the last one here */
            d->nopen--;
            if (s != d->nopen) {
                d->cs[s] = d->cs[d->nopen];
                if (d->cur == d->nopen) d->cur = s;
            }
        }
        return rc;
    }
    if (s == d->nopen) d->nopen++;
    *slot = s;
    return MW_OK;
}

static int decode_b(dec *d, const ew *w, size_t chars)
{
    unsigned char buf[CHUNK];
    size_t n = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < chars; i++) {
        acc = (acc << 6) | (uint32_t)(b64_value[w->text[i]] - 1);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (unsigned char)(acc >> bits);
            if (n == CHUNK) {
                int rc = run_feed(d, buf, n, 0);
                if (rc) return rc;
                n = 0;
            }
        }
    }
    return run_feed(d, buf, n, 0);
}

static int decode_q(dec *d, const ew *w)
{
    unsigned char buf[CHUNK];
    size_t n = 0;
    const unsigned char *t = w->text;
    for (size_t i = 0; i < w->text_len; i++) {
        unsigned char c = t[i];
        if (c == '_') {
            c = ' '; /* §4.2(2): always 0x20, whatever the charset */
        } else if (c == '=') {
            c = (unsigned char)(hex_value(t[i + 1]) << 4 | hex_value(t[i + 2]));
            i += 2;
        }
        buf[n++] = c;
        if (n == CHUNK) {
            int rc = run_feed(d, buf, n, 0);
            if (rc) return rc;
            n = 0;
        }
    }
    return run_feed(d, buf, n, 0);
}

/* Check a word's payload and charset. @return 0 (decodable), a defect bit,
 * or a negative error. */
static int word_check(dec *d, const ew *w, size_t *bchars, int *slot)
{
    if (w->enc == 'B' || w->enc == 'b') {
        *bchars = b_payload_chars(w, d->flags);
        if (*bchars == (size_t)-1) return MW_2047_DEFECT_ENCODING;
    } else if (w->enc == 'Q' || w->enc == 'q') {
        if (!q_payload_ok(w)) return MW_2047_DEFECT_ENCODING;
    } else {
        return MW_2047_DEFECT_ENCODING;
    }
    int rc = slot_for(d, w, slot);
    if (rc == MW_ERR_CHARSET) return MW_2047_DEFECT_CHARSET;
    return rc;
}

static size_t start_of(const dec *d, const ew *w)
{
    return (size_t)(w->cs - d->in) - 2; /* the word starts with "=?" before its charset */
}

/* Decode one word; after_word says an encoded word came just before it
 * (only white space between), so the run of that charset continues. */
static int decode_word(dec *d, const ew *w, size_t bchars, int slot, int after_word)
{
    if (!after_word || slot != d->cur) {
        int rc = run_end(d);
        if (rc < 0) return rc;
        d->run_o = d->o;
        d->run_i = start_of(d, w);
    }
    d->cur = slot;
    d->run_end_i = start_of(d, w) + w->len;
    return (w->enc == 'B' || w->enc == 'b') ? decode_b(d, w, bchars) : decode_q(d, w);
}

/* The next place where a word may start; in phrase mode also the next
 * character that changes the quoting state. */
static size_t next_candidate(const char *in, size_t len, size_t from, int phrase)
{
    for (size_t i = from; i < len; i++) {
        if (in[i] == '=' && i + 1 < len && in[i + 1] == '?') return i;
        if (phrase && (in[i] == '"' || in[i] == '\\' || in[i] == '(' || in[i] == ')')) return i;
    }
    return len;
}

/* End of the quoted string opening at in[i] (just past its closing quote,
 * or len when it is unterminated); quoted pairs are skipped. */
static size_t quoted_end(const char *in, size_t len, size_t i)
{
    for (i++; i < len && in[i] != '"'; i++)
        if (in[i] == '\\') i++;
    return i < len ? i + 1 : len;
}

/* Phrase mode: the quoting state at in[i]. Returns the end of a span that
 * is copied as text without looking for words in it (a quoted string, a
 * quoted pair), or 0 when in[i] starts nothing of the kind; parentheses
 * only move the comment depth (words in comments are decoded, §5 (2)). */
static size_t phrase_literal(const char *in, size_t len, size_t i, size_t *depth)
{
    switch (in[i]) {
    case '"':
        /* §5 (3): an encoded word MUST NOT appear within a quoted-string */
        return *depth ? 0 : quoted_end(in, len, i);
    case '\\':
        return i + 2 < len ? i + 2 : len;
    case '(':
        ++*depth;
        return 0;
    case ')':
        if (*depth) --*depth;
        return 0;
    default:
        return 0;
    }
}

static int decode_all(dec *d)
{
    const char *in = d->in;
    size_t len = d->len, i = 0, ws_from = 0, ws_to = 0, depth = 0;
    int after_word = 0, rc = MW_OK, phrase = (d->flags & MW_2047_PHRASE) != 0;
    while (i < len) {
        if (after_word && ws_from == ws_to) {
            size_t e = skip_fws(in, len, i);
            if (e > i) {
                ws_from = i, ws_to = e, i = e;
                continue;
            }
        }
        ew w;
        size_t j = phrase ? phrase_literal(in, len, i, &depth) : 0;
        if (j) {
            /* copied as written, folds removed (below) */
        } else if (in[i] == '=' && i + 1 < len && in[i + 1] == '?' &&
                   parse_word(in + i, len - i, &w) && placement_ok(d, i, w.len)) {
            size_t bchars = 0;
            int slot = -1, c = word_check(d, &w, &bchars, &slot);
            if (c < 0) return c;
            if (c == 0) {
                /* white space between two encoded words is dropped (§6.2) */
                rc = decode_word(d, &w, bchars, slot, after_word);
                if (rc < 0) return rc;
                after_word = rc != RUN_DROPPED;
                ws_from = ws_to = 0;
                i += w.len;
                continue;
            }
            d->defects |= (unsigned)c;
            j = i + w.len; /* kept as-is, like ordinary text */
        } else {
            j = next_candidate(in, len, i + 1, phrase);
        }
        if ((rc = run_end(d)) < 0 || (rc = emit_text(d, ws_from, ws_to)) != MW_OK ||
            (rc = emit_text(d, i, j)) != MW_OK)
            return rc;
        after_word = 0;
        ws_from = ws_to = 0;
        i = j;
    }
    if ((rc = run_end(d)) < 0) return rc;
    return emit_text(d, ws_from, ws_to);
}

mw_ssize mw_2047_decode(const char *in, size_t len, char *out, size_t cap, unsigned flags,
                        unsigned *defects)
{
    if (defects) *defects = 0;
    if ((!in && len) || !out || (flags & ~(MW_2047_STRICT | MW_2047_PHRASE))) return MW_ERR_INVALID;
    if (cap == 0) return MW_ERR_BUFFER;
    dec d;
    memset(&d, 0, sizeof d);
    d.in = in;
    d.len = len;
    d.out = (unsigned char *)out;
    d.cap = cap - 1;
    d.flags = flags;
    d.cur = -1;
    int rc = decode_all(&d);
    for (int s = 0; s < d.nopen; s++) {
        if (d.cs[s].replaced) d.defects |= MW_2047_DEFECT_INVALID;
        mw__charset_close(&d.cs[s]);
    }
    if (defects) *defects = d.defects;
    if (rc) {
        out[0] = '\0';
        return rc;
    }
    out[d.o] = '\0';
    return (mw_ssize)d.o;
}

/* ==================================================================== */
/* encoding                                                              */
/* ==================================================================== */

#define LINE_MAX_COLS 76 /* RFC 2047 §2: lines with encoded words at most 76 */
#define WORD_OVERHEAD 12 /* "=?UTF-8?Q?" + "?=" */

typedef struct enc {
    char *out;
    int count_only; /* measure only, write nothing */
    size_t cap, o;
    int overflow;
} enc;

static void put(enc *e, const char *s, size_t n)
{
    if (!e->count_only) {
        if (e->overflow || n > e->cap - e->o) {
            e->overflow = 1;
        } else {
            memcpy(e->out + e->o, s, n);
        }
    }
    e->o += n;
}

/* Q characters written as themselves: §5(3) for phrases; for other text
 * the printable ASCII minus "=", "?", "_" (§4.2(3)) and the comment
 * specials "(", ")", "\"" and "\\" (§5(2)), so the word is safe anywhere. */
static int q_plain(unsigned char c, unsigned flags)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return 1;
    if (flags & MW_2047_PHRASE) return c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
    return c > 0x20 && c < 0x7f && !strchr("=?_()\"\\", c);
}

static size_t q_cost(const unsigned char *p, size_t n, unsigned flags)
{
    size_t cost = 0;
    for (size_t i = 0; i < n; i++)
        cost += (p[i] == ' ' || q_plain(p[i], flags)) ? 1 : 3;
    return cost;
}

static void put_q(enc *e, const unsigned char *p, size_t n, unsigned flags)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        char t[3];
        if (p[i] == ' ') {
            put(e, "_", 1);
        } else if (q_plain(p[i], flags)) {
            t[0] = (char)p[i];
            put(e, t, 1);
        } else {
            t[0] = '=', t[1] = hex[p[i] >> 4], t[2] = hex[p[i] & 15];
            put(e, t, 3);
        }
    }
}

static void put_b(enc *e, const unsigned char *p, size_t n)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        char t[4] = {alpha[v >> 18], alpha[(v >> 12) & 63], '=', '='};
        if (i + 1 < n) t[2] = alpha[(v >> 6) & 63];
        if (i + 2 < n) t[3] = alpha[v & 63];
        put(e, t, 4);
    }
}

static size_t b_cost(size_t n)
{
    return (n + 2) / 3 * 4;
}

static size_t char_len(const unsigned char *p)
{
    return p[0] < 0x80 ? 1 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
}

/* Bytes of whole characters from p[0..n) whose encoding fits in budget. */
static size_t take_chars(const unsigned char *p, size_t n, size_t budget, int b, unsigned flags)
{
    size_t used = 0, cost = 0;
    while (used < n) {
        size_t cl = char_len(p + used);
        if (b) {
            if (b_cost(used + cl) > budget) break;
        } else {
            size_t c = q_cost(p + used, cl, flags);
            if (cost + c > budget) break;
            cost += c;
        }
        used += cl;
    }
    return used;
}

/* Write (or count, with e->out NULL) the whole encoding in one mode. */
static void encode_words(enc *e, const unsigned char *p, size_t n, size_t column, int b,
                         unsigned flags)
{
    size_t col = column, i = 0;
    int first = 1;
    while (i < n) {
        if (!first) {
            put(e, "\r\n ", 3);
            col = 1;
        }
        size_t room = col < LINE_MAX_COLS ? LINE_MAX_COLS - col : 0;
        size_t word_max = room < WORD_MAX ? room : WORD_MAX;
        size_t budget = word_max > WORD_OVERHEAD ? word_max - WORD_OVERHEAD : 0;
        size_t take = take_chars(p + i, n - i, budget, b, flags);
        if (take == 0) { /* not even one character fits after the column: fold first */
            put(e, "\r\n ", 3);
            col = 1;
            first = 1;
            budget = WORD_MAX - WORD_OVERHEAD;
            take = take_chars(p + i, n - i, budget, b, flags);
        }
        put(e, b ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10);
        size_t before = e->o;
        if (b)
            put_b(e, p + i, take);
        else
            put_q(e, p + i, take, flags);
        put(e, "?=", 2);
        col += WORD_OVERHEAD + (e->o - before - 2);
        i += take;
        first = 0;
    }
}

size_t mw_2047_encoded_max(size_t len)
{
    /* Each word carries at least one character and every word but the
     * first and last at least 18 bytes (Q: 52 of 63 payload columns used,
     * 3 per byte at most; B does better). A word costs 12 columns plus 3
     * for CRLF SP; the payload is at most 3 per byte, and B adds at most
     * 4 per word for its last partial group; 3 more for a leading fold. */
    if (len > (SIZE_MAX - 64) / 5) return 0;
    return 3 * len + 19 * (len / 16 + 2) + 3;
}

mw_ssize mw_2047_encode(const char *in, size_t len, size_t column, char *out, size_t cap,
                        unsigned flags)
{
    const unsigned known = MW_2047_PHRASE | MW_2047_FORCE_B | MW_2047_FORCE_Q;
    if ((!in && len) || (!out && cap) || (flags & ~known) ||
        (flags & (MW_2047_FORCE_B | MW_2047_FORCE_Q)) == (MW_2047_FORCE_B | MW_2047_FORCE_Q))
        return MW_ERR_INVALID;
    const unsigned char *p = (const unsigned char *)in;
    if (mw__utf8_valid_len(p, len) != len) return MW_ERR_SYNTAX;
    int b;
    if (flags & MW_2047_FORCE_B) {
        b = 1;
    } else if (flags & MW_2047_FORCE_Q) {
        b = 0;
    } else { /* the shorter result; Q on a tie, as it stays readable */
        enc cb = {NULL, 1, 0, 0, 0}, cq = {NULL, 1, 0, 0, 0};
        encode_words(&cb, p, len, column, 1, flags);
        encode_words(&cq, p, len, column, 0, flags);
        b = cb.o < cq.o;
    }
    enc e = {out, 0, cap, 0, 0};
    encode_words(&e, p, len, column, b, flags);
    if (e.overflow) return MW_ERR_BUFFER;
    return (mw_ssize)e.o;
}
