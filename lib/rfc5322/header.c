/*
 * Header fields: the block iterator, one-field classification and
 * unfolding (RFC 5322 §2.2, §3.6.8, obsolete syntax §4.5; RFC 6532).
 *
 * Defects never stop the iterator: a field is always delivered with the
 * bytes as found, and what was wrong with it is in its defect bits.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rfc5322/rfc5322_internal.h"

/* §2.1.1: a line must be no more than 998 characters without the CRLF. */
#define MAX_LINE 998u

/* A line: content [start, cend), then eol bytes of line end (0, 1 or 2). */
typedef struct line {
    size_t start, cend, eol;
} line;

static line next_line(const char *buf, size_t len, size_t pos, unsigned *defects)
{
    line l = {pos, len, 0};
    const char *nl = memchr(buf + pos, '\n', len - pos);
    if (nl) {
        size_t i = (size_t)(nl - buf);
        if (i > pos && buf[i - 1] == '\r') {
            l.cend = i - 1;
            l.eol = 2;
        } else {
            l.cend = i;
            l.eol = 1;
            *defects |= MW_HDR_DEFECT_BARE_LF;
        }
    } else {
        *defects |= MW_HDR_DEFECT_NO_EOL;
    }
    return l;
}

/* Does any byte of the word need a closer look: < 0x20, or >= 0x7f? */
static int word_suspicious(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t low = (x - ones * 0x20) & ~x & highs;                              /* bytes < 0x20 */
    uint64_t del = ((x ^ (ones * 0x7f)) - ones) & ~(x ^ (ones * 0x7f)) & highs; /* == 0x7f */
    return ((x & highs) | low | del) != 0;
}

/* Check line content for NUL, bare CR, other controls, 8-bit bytes and
 * length. Whole 8-byte words of plain text are skipped at once. */
static unsigned check_content(const unsigned char *p, size_t n)
{
    unsigned d = n > MAX_LINE ? MW_HDR_DEFECT_LONG_LINE : 0;
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!word_suspicious(w)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f) {
            i++;
        } else if (c == '\t') {
            i++;
        } else if (c >= 0x80) {
            size_t u = mw__utf8_len(p + i, n - i);
            if (u) {
                d |= MW_HDR_UTF8;
                i += u;
            } else {
                d |= MW_HDR_DEFECT_8BIT;
                i++;
            }
        } else {
            d |= c == 0 ? MW_HDR_DEFECT_NUL : c == '\r' ? MW_HDR_DEFECT_BARE_CR : MW_HDR_DEFECT_CTL;
            i++;
        }
    }
    return d;
}

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Name and colon on the first line [s, e): fill field->name and return the
 * offset of the value start, or s with NO_COLON. */
static size_t split_name(const char *buf, size_t s, size_t e, mw_hdr_field *f)
{
    const char *colon = memchr(buf + s, ':', e - s);
    if (!colon || (s < e && is_wsp(buf[s]))) {
        f->defects |=
            (s < e && is_wsp(buf[s])) ? MW_HDR_DEFECT_CONTINUATION : MW_HDR_DEFECT_NO_COLON;
        f->name.base = buf + s;
        f->name.len = 0;
        return s;
    }
    size_t c = (size_t)(colon - buf), ne = c;
    while (ne > s && is_wsp(buf[ne - 1]))
        ne--;
    if (ne != c) f->defects |= MW_HDR_DEFECT_WSP_COLON; /* §4.5 obs-optional */
    f->name.base = buf + s;
    f->name.len = ne - s;
    if (ne == s) f->defects |= MW_HDR_DEFECT_BAD_NAME;
    for (size_t i = s; i < ne; i++)
        if (!mw__is((unsigned char)buf[i], MW__C_FTEXT)) {
            f->defects |= MW_HDR_DEFECT_BAD_NAME;
            break;
        }
    return c + 1;
}

static int only_wsp(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_wsp(p[i])) return 0;
    return 1;
}

/* Parse the field starting at pos. With whole set, every line up to len
 * belongs to it; otherwise it ends before the first line not starting with
 * WSP. Returns the offset just past the field (its final line end). */
static size_t parse_field(const char *buf, size_t len, size_t pos, int whole, mw_hdr_field *f)
{
    unsigned d = 0;
    line l = next_line(buf, len, pos, &d);
    f->defects = 0;
    size_t vstart = split_name(buf, l.start, l.cend, f);
    d |= check_content((const unsigned char *)buf + l.start, l.cend - l.start);
    for (;;) {
        size_t next = l.cend + l.eol;
        if (next >= len || l.eol == 0) break;
        if (!whole && !is_wsp(buf[next])) break;
        unsigned ld = 0;
        line n = next_line(buf, len, next, &ld);
        /* A line of only WSP is a fold in the obsolete grammar (§4.2). */
        if (only_wsp(buf + n.start, n.cend - n.start)) ld |= MW_HDR_DEFECT_WSP_LINE;
        if (!is_wsp(buf[next])) ld |= MW_HDR_DEFECT_NO_COLON; /* whole: a line that is no fold */
        ld |= check_content((const unsigned char *)buf + n.start, n.cend - n.start);
        d |= ld;
        l = n;
    }
    size_t end = l.cend + l.eol;
    f->value.base = buf + vstart;
    f->value.len = l.cend - vstart;
    f->raw.base = buf + pos;
    f->raw.len = end - pos;
    f->defects |= d;
    return end;
}

int mw_hdr_iter_init(mw_hdr_iter *it, const char *buf, size_t len)
{
    if (!it || (!buf && len)) return MW_ERR_INVALID;
    memset(it, 0, sizeof *it);
    it->buf_ = buf ? buf : ""; /* no arithmetic on a null pointer */
    it->len_ = len;
    return MW_OK;
}

int mw_hdr_iter_next(mw_hdr_iter *it, mw_hdr_field *field)
{
    if (!it || !field) return MW_ERR_INVALID;
    if (it->done_) return 0;
    const char *b = it->buf_;
    size_t pos = it->pos_, len = it->len_;
    if (pos >= len) {
        it->done_ = 1;
        it->body_ = len;
        it->block_defects_ |= MW_HDR_BLOCK_NO_BODY;
        return 0;
    }
    /* The empty line ends the header section (§2.1). */
    size_t eol = b[pos] == '\n'                                            ? 1
                 : (b[pos] == '\r' && pos + 1 < len && b[pos + 1] == '\n') ? 2
                                                                           : 0;
    if (eol) {
        it->done_ = 1;
        it->body_ = pos + eol;
        return 0;
    }
    it->pos_ = parse_field(b, len, pos, 0, field);
    return 1;
}

size_t mw_hdr_iter_body(const mw_hdr_iter *it, unsigned *block_defects)
{
    if (block_defects) *block_defects = it ? it->block_defects_ : 0;
    if (!it || !it->done_) return (size_t)-1;
    return it->body_;
}

int mw_hdr_field_parse(const char *in, size_t len, mw_hdr_field *field)
{
    if (!field || (!in && len)) return MW_ERR_INVALID;
    if (len == 0) {
        static const char empty[1] = {0};
        memset(field, 0, sizeof *field);
        field->name.base = field->value.base = field->raw.base = in ? in : empty;
        field->defects = MW_HDR_DEFECT_NO_COLON | MW_HDR_DEFECT_NO_EOL;
        return MW_OK;
    }
    /* Drop one final line end so it does not count as a line of its own. */
    size_t body = len;
    if (in[body - 1] == '\n') body -= (body >= 2 && in[body - 2] == '\r') ? 2 : 1;
    parse_field(in, body, 0, 1, field);
    if (body != len) {
        field->defects &= ~MW_HDR_DEFECT_NO_EOL;
        if (len - body == 1) field->defects |= MW_HDR_DEFECT_BARE_LF;
    }
    field->raw.len = len;
    return MW_OK;
}

mw_ssize mw_hdr_unfold(const char *in, size_t len, char *out, size_t cap, unsigned flags)
{
    if ((!in && len) || (!out && cap) || (flags & ~MW_HDR_UNFOLD_TRIM)) return MW_ERR_INVALID;
    mw_slice rest = {in, len}, piece;
    size_t n = 0;
    int first = 1;
    while (mw_hdr_unfold_next(&rest, &piece) == 1) {
        const char *p = piece.base;
        size_t pl = piece.len;
        if (first && (flags & MW_HDR_UNFOLD_TRIM))
            while (pl && is_wsp(*p))
                p++, pl--;
        if (pl) first = 0;
        if (pl > cap - n) return MW_ERR_BUFFER;
        if (pl) memmove(out + n, p, pl); /* in place: out + n never passes p */
        n += pl;
    }
    if (flags & MW_HDR_UNFOLD_TRIM)
        while (n && is_wsp(out[n - 1]))
            n--;
    return (mw_ssize)n;
}

int mw_hdr_unfold_next(mw_slice *rest, mw_slice *piece)
{
    if (!rest || !piece || (!rest->base && rest->len)) return MW_ERR_INVALID;
    if (rest->len == 0) return 0;
    const char *p = rest->base, *end = p + rest->len;
    const char *s = p;
    for (;;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) {
            piece->base = p;
            piece->len = (size_t)(end - p);
            rest->base = end;
            rest->len = 0;
            return 1;
        }
        if (nl + 1 < end && is_wsp(nl[1])) {
            /* A fold: the piece ends before its CRLF (or bare LF). */
            const char *pe = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
            piece->base = p;
            piece->len = (size_t)(pe - p);
            rest->base = nl + 1;
            rest->len = (size_t)(end - (nl + 1));
            if (piece->len == 0) {
                /* Nothing before the fold: go on with the next piece. */
                p = s = nl + 1;
                continue;
            }
            return 1;
        }
        s = nl + 1; /* a line end that is no fold stays in the value */
    }
}

int mw_hdr_name_eq(mw_slice name, const char *expected)
{
    if (!expected || (!name.base && name.len)) return 0;
    size_t i = 0;
    for (; i < name.len; i++) {
        unsigned char a = (unsigned char)name.base[i], b = (unsigned char)expected[i];
        if (b == 0) return 0;
        if (a >= 'A' && a <= 'Z') a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z') b = (unsigned char)(b + 32);
        if (a != b) return 0;
    }
    return expected[i] == 0;
}
