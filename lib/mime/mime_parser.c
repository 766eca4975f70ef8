/*
 * Streaming MIME parser: a pull state machine over a bounded input buffer.
 *
 * Entities (the root message and every body part) live on an explicit
 * stack, never in recursion. A multipart frame owns a boundary while it is
 * in its preamble or between children; every such boundary is "active" and
 * is looked for at each line start of whatever body is being scanned
 * (RFC 2046 §5.1.1: the CRLF before "--boundary" belongs to the delimiter,
 * so body bytes are released only up to a line end that could still start a
 * delimiter). Bodies are handed out as views into the input buffer.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mime/mime_internal.h"

#include "codec/codec_internal.h"

#define DECODE_CHUNK 16384u /* decoded bytes per BODY event in MW_MIME_DECODE mode */
/* Input per conversion step: the converter's output room (cbuf) is always
 * at least 16 times its input, so iconv never stops on E2BIG in the middle
 * of a character (glibc's TSCII then answers differently, which would make
 * the output depend on how the input was cut; codec_internal.h). */
#define CONVERT_IN_MAX (DECODE_CHUNK / 4u)

/* ---- state --------------------------------------------------------- */

enum { S_HEADERS, S_BODY, S_UNWIND, S_END, S_CLOSED };
enum { MS_NONE, MS_PREAMBLE, MS_CHILDREN, MS_EPILOGUE };
enum { ACT_CHILD, ACT_EPILOGUE, ACT_END };
enum { M_NO, M_YES, M_MORE };

/* Per-entity header bookkeeping flags. */
#define HF_8BIT 0x1u
#define HF_LONG 0x2u
#define HF_HAVE_CT 0x4u
#define HF_HAVE_CTE 0x8u
#define HF_HAVE_CD 0x10u

#define DEFECT_QUEUE 16

typedef struct frame {
    uint32_t part;
    uint32_t children;
    size_t path_len;
    size_t boff, blen;
    unsigned char kind;   /* mw_mime_kind; 0 while headers are read */
    unsigned char mstate; /* multipart only */
    unsigned char cte;
    unsigned char digest; /* multipart/digest: children default to message/rfc822 */
    unsigned char close_reported;
    unsigned char encoded_defect; /* BOUNDARY_IN_ENCODED reported */
} frame;

typedef struct defect_item {
    int code;
    uint64_t offset;
} defect_item;

typedef struct delim_match {
    size_t level;   /* frame index of the multipart */
    size_t linelen; /* bytes of the delimiter line including its line end */
    int close;
} delim_match;

struct mw_mime_parser {
    mw_mem mem;
    mw_mime_options opt;
    mw__inbuf in;
    int sticky;
    int state;
    int eof;
    uint64_t base_off; /* input offset of the first unconsumed byte */

    frame *frames;
    size_t nframes, frames_cap;
    char *path;
    size_t path_cap;
    char *bnd; /* boundaries of multipart frames, in stack order */
    size_t bnd_len, bnd_cap;
    size_t nactive; /* multipart frames whose boundary is active */
    uint32_t parts;
    int bol;       /* the unconsumed body starts at a line start */
    int exhausted; /* parts limit hit: boundary detection is off */
    int lf_reported;
    int pending_child; /* a message/rfc822 was announced: push its child next */
    int mbox_checked;  /* the input's first line was looked at for an mbox From_ line */

    /* unwinding after a delimiter or at the end */
    size_t keep;
    int action;
    uint64_t unwind_off; /* where the delimiter (or the end) that started it is */

    /* header block of the entity on top */
    size_t hs_pos, hs_scan; /* resume point of an incomplete field (line start, LF search) */
    int hs_bare, hs_long;
    /* a candidate delimiter line waiting for its line end: its input
     * offset and how many of its bytes hold no LF (input only grows) */
    uint64_t cand_off;
    size_t cand_scanned;
    int cand_valid;
    size_t hbytes, hfields;
    unsigned hflags;
    char *hstore;
    size_t hstore_len, hstore_cap;
    size_t foff[3], flen[3]; /* Content-Type, -Transfer-Encoding, -Disposition in hstore */
    char *ubuf;
    size_t ubuf_cap;

    /* PART_BEGIN storage */
    mw__arena arena;
    mw_mime_param *params;
    mw__raw_param *raw;

    /* body transformation of the leaf on top (MW_MIME_DECODE / MW_MIME_UTF8) */
    int xform;      /* a transformation is active */
    int decoding;   /* 0, or the mw_mime_cte being decoded */
    int converting; /* charset conversion to UTF-8 active */
    int flushed;    /* the end-of-part flush was emitted */
    int enc_reported;
    int dec_finished;  /* the decoder has been run with finish */
    int xpending;      /* the converter has output left for the next event */
    size_t dpos, dlen; /* decoded bytes in dbuf[dpos, dlen) not yet converted */
    uint64_t body_off; /* input offset where the transformed body starts */
    mw_codec codec;
    mw__charset cs;
    unsigned char *dbuf; /* DECODE_CHUNK decoded bytes */
    unsigned char *cbuf; /* 4 * DECODE_CHUNK + 16 converted bytes */

    defect_item dq[DEFECT_QUEUE];
    unsigned dq_head, dq_len;
};

/* ---- options ------------------------------------------------------- */

static void options_defaults(mw_mime_options *o)
{
    o->buffer = 256u * 1024u;
    o->depth = 100;
    o->parts = 10000;
    o->header_bytes = 64u * 1024u;
    o->header_fields = 1000;
    o->params = 64;
    o->segments = 128;
    o->line = 998;
    o->flags = 0;
}

MW_API mw_mime_options *mw_mime_options_new(const mw_mem *mem)
{
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_mime_options *o = mw__malloc(&m, sizeof *o);
    if (!o) return NULL;
    memset(o, 0, sizeof *o);
    o->mem = m;
    options_defaults(o);
    return o;
}

MW_API void mw_mime_options_free(mw_mime_options *opt)
{
    if (!opt) return;
    mw_mem m = opt->mem;
    mw__free(&m, opt);
}

MW_API int mw_mime_options_set_limit(mw_mime_options *o, int which, size_t value)
{
    if (!o || value < 1 || value > ((size_t)1 << 30)) return MW_ERR_INVALID;
    switch (which) {
    case MW_MIME_LIMIT_BUFFER:
        if (value < 4096) return MW_ERR_INVALID;
        o->buffer = value;
        break;
    case MW_MIME_LIMIT_DEPTH:
        o->depth = value;
        break;
    case MW_MIME_LIMIT_PARTS:
        o->parts = value;
        break;
    case MW_MIME_LIMIT_HEADER_BYTES:
        o->header_bytes = value;
        break;
    case MW_MIME_LIMIT_HEADER_FIELDS:
        o->header_fields = value;
        break;
    case MW_MIME_LIMIT_PARAMS:
        o->params = value;
        break;
    case MW_MIME_LIMIT_SEGMENTS:
        o->segments = value;
        break;
    case MW_MIME_LIMIT_LINE:
        if (value < 78) return MW_ERR_INVALID;
        o->line = value;
        break;
    default:
        return MW_ERR_INVALID;
    }
    return MW_OK;
}

MW_API int mw_mime_options_set_flags(mw_mime_options *o, unsigned flags)
{
    if (!o || (flags & ~(MW_MIME_DECODE | MW_MIME_UTF8))) return MW_ERR_INVALID;
    o->flags = flags;
    return MW_OK;
}

MW_API const char *mw_mime_defect_str(int d)
{
    switch (d) {
    case MW_MIME_DEFECT_MISSING_CLOSE_BOUNDARY:
        return "multipart without a close delimiter";
    case MW_MIME_DEFECT_MISSING_BOUNDARY:
        return "multipart without a usable boundary";
    case MW_MIME_DEFECT_BOUNDARY_IN_ENCODED:
        return "boundary-like line inside an encoded body";
    case MW_MIME_DEFECT_BAD_CTE:
        return "bad Content-Transfer-Encoding";
    case MW_MIME_DEFECT_8BIT_HEADER:
        return "8-bit bytes in a header field";
    case MW_MIME_DEFECT_BARE_LF:
        return "line ended with LF alone";
    case MW_MIME_DEFECT_LONG_HEADER_LINE:
        return "header line too long";
    case MW_MIME_DEFECT_TOO_MANY_PARTS:
        return "too many parts";
    case MW_MIME_DEFECT_TOO_DEEP:
        return "nesting too deep";
    case MW_MIME_DEFECT_TOO_MANY_PARAMS:
        return "too many parameters or segments";
    case MW_MIME_DEFECT_HEADER_TOO_LARGE:
        return "header block too large";
    case MW_MIME_DEFECT_UNTERMINATED_HEADERS:
        return "header block not ended by a blank line";
    case MW_MIME_DEFECT_BAD_HEADER_LINE:
        return "line is not a header field";
    case MW_MIME_DEFECT_BAD_CONTENT_TYPE:
        return "unparsable Content-Type";
    case MW_MIME_DEFECT_BAD_PARAM:
        return "malformed parameter";
    case MW_MIME_DEFECT_BAD_CHARSET:
        return "unconvertible charset";
    case MW_MIME_DEFECT_DUPLICATE_FIELD:
        return "duplicate MIME header field";
    case MW_MIME_DEFECT_BAD_ENCODING:
        return "errors in encoded body data";
    case MW_MIME_DEFECT_MBOX_FROM:
        return "mbox From_ line skipped";
    case MW_MIME_DEFECT_2047_PARAM:
        return "RFC 2047 encoded word in a parameter";
    default:
        return "unknown defect";
    }
}

/* ---- small helpers ------------------------------------------------- */

static int grow(const mw_mem *m, void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return MW_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *nb = mw__realloc(m, *buf, n * elem);
    if (!nb) return MW_ERR_NOMEM;
    *buf = nb;
    *cap = n;
    return MW_OK;
}

static frame *top(mw_mime_parser *p)
{
    return &p->frames[p->nframes - 1];
}

static int is_active(const frame *f)
{
    return f->kind == MW_MIME_KIND_MULTIPART &&
           (f->mstate == MS_PREAMBLE || f->mstate == MS_CHILDREN);
}

static void defect_at(mw_mime_parser *p, int code, uint64_t off)
{
    if (p->dq_len == DEFECT_QUEUE) return; /* a flood of defects: later ones are dropped */
    p->dq[(p->dq_head + p->dq_len) % DEFECT_QUEUE] = (defect_item){code, off};
    p->dq_len++;
}

static void defect(mw_mime_parser *p, int code)
{
    defect_at(p, code, p->base_off);
}

static void ev_frame(const mw_mime_parser *p, mw_mime_event *ev, int type, const frame *f,
                     size_t depth)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->depth = (unsigned)depth;
    ev->part = f->part;
    ev->path.base = p->path;
    ev->path.len = f->path_len;
    ev->offset = p->base_off;
}

static void consume(mw_mime_parser *p, size_t n)
{
    mw__inbuf_consume(&p->in, n);
    p->base_off += n;
    /* An incomplete header field is never partly consumed: any consume
     * ends the resume state of step_headers. */
    p->hs_pos = p->hs_scan = 0;
    p->hs_bare = p->hs_long = 0;
}

static void bare_lf(mw_mime_parser *p, uint64_t off)
{
    if (p->lf_reported) return;
    p->lf_reported = 1;
    defect_at(p, MW_MIME_DEFECT_BARE_LF, off);
}

/* Push the frame for a new entity: child number childno of the top frame
 * (or the root when the stack is empty). */
static int push_frame(mw_mime_parser *p, uint32_t childno)
{
    int rc = grow(&p->mem, (void **)&p->frames, &p->frames_cap, p->nframes + 1, sizeof(frame));
    if (rc) return rc;
    size_t plen = 0;
    char digits[12];
    size_t nd = 0;
    if (p->nframes > 0) {
        plen = top(p)->path_len;
        for (uint32_t v = childno; nd == 0 || v; v /= 10)
            digits[nd++] = (char)('0' + v % 10);
    }
    size_t need = plen + 1 + nd + 1;
    rc = grow(&p->mem, (void **)&p->path, &p->path_cap, need, 1);
    if (rc) return rc;
    size_t at = plen;
    if (plen) p->path[at++] = '.';
    while (nd)
        p->path[at++] = digits[--nd];
    frame *f = &p->frames[p->nframes++];
    memset(f, 0, sizeof *f);
    f->part = p->parts++;
    f->path_len = at;
    /* new header block */
    p->hbytes = p->hfields = 0;
    p->hflags = 0;
    p->hstore_len = 0;
    return MW_OK;
}

/* ---- delimiter recognition ----------------------------------------- */

/* s points at a line start holding "--" (avail >= 2 bytes). Decide whether
 * the line is a delimiter of an active boundary, innermost first. A
 * delimiter is "--" boundary ["--"] *LWSP line-end (RFC 2046 §5.1.1:
 * transport padding); the end of input ends the line too. */
static int match_delim(mw_mime_parser *p, const unsigned char *s, size_t avail, uint64_t off,
                       delim_match *m)
{
    size_t lim = p->opt.line + 2, upto = avail < lim ? avail : lim;
    size_t skip =
        p->cand_valid && p->cand_off == off && p->cand_scanned <= upto ? p->cand_scanned : 0;
    const unsigned char *lf = memchr(s + skip, '\n', upto - skip);
    size_t content, linelen;
    if (lf) {
        linelen = (size_t)(lf - s) + 1;
        content = linelen - 1;
        if (content && s[content - 1] == '\r') content--;
    } else if (p->eof && avail < lim) {
        linelen = content = avail;
    } else if (avail >= lim) {
        return M_NO; /* too long to be a delimiter */
    } else {
        /* Incomplete line: wait only if some boundary could still match. */
        for (size_t i = p->nframes; i-- > 0;) {
            const frame *f = &p->frames[i];
            if (!is_active(f)) continue;
            size_t n = avail - 2 < f->blen ? avail - 2 : f->blen;
            if (memcmp(s + 2, p->bnd + f->boff, n) == 0) {
                p->cand_valid = 1; /* resume the LF search here next time */
                p->cand_off = off;
                p->cand_scanned = avail;
                return M_MORE;
            }
        }
        return M_NO;
    }
    for (size_t i = p->nframes; i-- > 0;) {
        const frame *f = &p->frames[i];
        if (!is_active(f) || content < 2 + f->blen) continue;
        if (memcmp(s + 2, p->bnd + f->boff, f->blen) != 0) continue;
        size_t j = 2 + f->blen;
        int close = content - j >= 2 && s[j] == '-' && s[j + 1] == '-';
        if (close) j += 2;
        while (j < content && (s[j] == ' ' || s[j] == '\t'))
            j++;
        if (j != content) continue;
        m->level = i;
        m->linelen = linelen;
        m->close = close;
        if (lf && (lf == s || lf[-1] != '\r')) bare_lf(p, off + (size_t)(lf - s));
        return M_YES;
    }
    return M_NO;
}

/* ---- header block -------------------------------------------------- */

enum { F_CT, F_CTE, F_CD };

/* Keep a copy of a MIME field's unfolded value for PART_BEGIN (HEADER
 * views die at the next call; the first occurrence wins). */
static int store_field(mw_mime_parser *p, int which, mw_slice v)
{
    unsigned have = HF_HAVE_CT << which;
    if (p->hflags & have) {
        defect(p, MW_MIME_DEFECT_DUPLICATE_FIELD);
        return MW_OK;
    }
    int rc = grow(&p->mem, (void **)&p->hstore, &p->hstore_cap, p->hstore_len + v.len, 1);
    if (rc) return rc;
    if (v.len) memcpy(p->hstore + p->hstore_len, v.base, v.len);
    p->foff[which] = p->hstore_len;
    p->flen[which] = v.len;
    p->hstore_len += v.len;
    p->hflags |= have;
    return MW_OK;
}

/* Remove folding line ends (CRLF or bare LF before WSP) from a value. */
static int unfold(mw_mime_parser *p, mw_slice v, mw_slice *out)
{
    if (!memchr(v.base, '\n', v.len)) {
        *out = v;
        return MW_OK;
    }
    int rc = grow(&p->mem, (void **)&p->ubuf, &p->ubuf_cap, v.len, 1);
    if (rc) return rc;
    size_t o = 0;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.base[i];
        if (c == '\r' && i + 1 < v.len && v.base[i + 1] == '\n') continue;
        if (c == '\n') continue;
        p->ubuf[o++] = c;
    }
    out->base = p->ubuf;
    out->len = o;
    return MW_OK;
}

static int valid_field_name(const unsigned char *s, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 33 || s[i] > 126) return 0; /* RFC 5322 §3.6.8 ftext */
    return 1;
}

static int finish_headers(mw_mime_parser *p, mw_mime_event *ev);

enum { MBOX_NO = -1 };

/* An mbox "From " envelope line (RFC 4155) as the first line of the input
 * is no header field: skip it and hand it out as a DEFECT event with the
 * line in ev->value, as mature readers do. "From :" (obs-ftext WSP before
 * the colon, RFC 5322 §4.5) stays a header field. Returns MW_MIME_DEFECT,
 * 0 (need more input) or MBOX_NO. */
static int step_mbox_from(mw_mime_parser *p, mw_mime_event *ev, const unsigned char *d,
                          size_t len)
{
    static const char from[] = "From ";
    size_t pre = len < 5 ? len : 5;
    if (memcmp(d, from, pre) != 0) return MBOX_NO;
    if (pre < 5) return p->eof ? MBOX_NO : 0;
    size_t lim = p->opt.line + 2, upto = len < lim ? len : lim;
    const unsigned char *lf = memchr(d, '\n', upto);
    if (!lf) {
        if (len >= lim) return MBOX_NO; /* too long for an envelope line: a bad header line */
        if (!p->eof) return 0;
    }
    size_t linelen = lf ? (size_t)(lf - d) + 1 : len, content = lf ? (size_t)(lf - d) : len;
    size_t i = 4;
    while (i < content && (d[i] == ' ' || d[i] == '\t'))
        i++;
    if (i < content && d[i] == ':') return MBOX_NO;
    if (lf && (lf == d || lf[-1] != '\r')) bare_lf(p, (uint64_t)(lf - d));
    if (content && d[content - 1] == '\r') content--;
    ev_frame(p, ev, MW_MIME_DEFECT, top(p), 0);
    ev->defect = MW_MIME_DEFECT_MBOX_FROM;
    ev->value = (mw_slice){(const char *)d, content};
    consume(p, linelen);
    return MW_MIME_DEFECT;
}

/* Look at the field at the start of the buffer. Returns an event type,
 * 0 for need-more, or < 0; *ended is set when the header block is over
 * (finish_headers must run). */
static int step_headers(mw_mime_parser *p, mw_mime_event *ev)
{
    size_t len = mw__inbuf_len(&p->in);
    /* no pointer arithmetic on the buffer before it exists */
    const unsigned char *d = len ? mw__inbuf_data(&p->in) : (const unsigned char *)"";
    if (len == 0) {
        if (!p->eof) return 0;
        defect(p, MW_MIME_DEFECT_UNTERMINATED_HEADERS);
        return finish_headers(p, ev);
    }
    /* Blank line: end of the header block. */
    if (d[0] == '\n' || (d[0] == '\r' && len >= 2 && d[1] == '\n')) {
        if (d[0] == '\n') bare_lf(p, p->base_off);
        consume(p, d[0] == '\n' ? 1 : 2);
        return finish_headers(p, ev);
    }
    if (d[0] == '\r' && len < 2 && !p->eof) return 0;
    if (!p->mbox_checked) {
        int r = p->nframes == 1 && p->base_off == 0 ? step_mbox_from(p, ev, d, len) : MBOX_NO;
        if (r == 0) return 0;
        p->mbox_checked = 1;
        if (r != MBOX_NO) return r;
    }
    /* A delimiter line ends an unterminated header block (the part is cut). */
    if (d[0] == '-' && p->nactive && !p->exhausted) {
        if (len < 2 && !p->eof) return 0;
        if (len >= 2 && d[1] == '-') {
            delim_match m;
            int r = match_delim(p, d, len, p->base_off, &m);
            if (r == M_MORE) return 0;
            if (r == M_YES) {
                defect(p, MW_MIME_DEFECT_UNTERMINATED_HEADERS);
                return finish_headers(p, ev);
            }
        }
    }
    /* Find the end of the field: its last line end not followed by WSP. */
    size_t budget = p->opt.header_bytes - p->hbytes;
    /* Resume where the last call stopped, so a field arriving byte by byte
     * is not rescanned from its start each time. */
    size_t pos = p->hs_pos, from = p->hs_scan, end = 0;
    int bare = p->hs_bare, longline = p->hs_long;
    for (;;) {
        const unsigned char *lf = from < len ? memchr(d + from, '\n', len - from) : NULL;
        if (!lf) {
            if (!p->eof) {
                if (len > budget) goto too_large;
                p->hs_pos = pos;
                p->hs_scan = len;
                p->hs_bare = bare;
                p->hs_long = longline;
                return 0;
            }
            if (len - pos > p->opt.line) longline = 1;
            end = len;
            break;
        }
        size_t e = (size_t)(lf - d);
        if (e == 0 || d[e - 1] != '\r') bare = 1;
        if (e - pos > p->opt.line + 1) longline = 1;
        if (e + 1 > budget) goto too_large;
        if (e + 1 == len && !p->eof) { /* is the next line a continuation? */
            p->hs_pos = pos;
            p->hs_scan = e;
            p->hs_bare = bare;
            p->hs_long = longline;
            return 0;
        }
        if (e + 1 < len && (d[e + 1] == ' ' || d[e + 1] == '\t')) {
            pos = from = e + 1;
            continue;
        }
        end = e + 1;
        break;
    }
    if (end > budget) goto too_large;
    if (p->hfields >= p->opt.header_fields) goto too_large;
    /* name ":" value */
    size_t first_line = end; /* the colon must be on the first line */
    const unsigned char *lf0 = memchr(d, '\n', end);
    if (lf0) first_line = (size_t)(lf0 - d);
    const unsigned char *colon = memchr(d, ':', first_line);
    size_t nlen = colon ? (size_t)(colon - d) : 0;
    while (nlen && (d[nlen - 1] == ' ' || d[nlen - 1] == '\t'))
        nlen--; /* obs-ftext WSP */
    if (!colon || !valid_field_name(d, nlen)) {
        defect(p, MW_MIME_DEFECT_BAD_HEADER_LINE);
        return finish_headers(p, ev);
    }
    if (bare) bare_lf(p, p->base_off);
    if (longline && !(p->hflags & HF_LONG)) {
        p->hflags |= HF_LONG;
        defect(p, MW_MIME_DEFECT_LONG_HEADER_LINE);
    }
    if (!(p->hflags & HF_8BIT)) {
        for (size_t i = 0; i < end; i++)
            if (d[i] >= 0x80) {
                p->hflags |= HF_8BIT;
                defect_at(p, MW_MIME_DEFECT_8BIT_HEADER, p->base_off + i);
                break;
            }
    }
    size_t vs = (size_t)(colon - d) + 1;
    while (vs < end && (d[vs] == ' ' || d[vs] == '\t'))
        vs++;
    size_t ve = end;
    if (ve > vs && d[ve - 1] == '\n') ve--;
    if (ve > vs && d[ve - 1] == '\r') ve--;
    if (ve < vs) ve = vs;
    mw_slice name = {(const char *)d, nlen};
    mw_slice value = {(const char *)d + vs, ve - vs};
    mw_slice unf;
    int rc = unfold(p, value, &unf);
    if (rc) return rc;
    if (mw__mime_ieq(name.base, name.len, "content-type"))
        rc = store_field(p, F_CT, unf);
    else if (mw__mime_ieq(name.base, name.len, "content-transfer-encoding"))
        rc = store_field(p, F_CTE, unf);
    else if (mw__mime_ieq(name.base, name.len, "content-disposition"))
        rc = store_field(p, F_CD, unf);
    if (rc) return rc;
    ev_frame(p, ev, MW_MIME_HEADER, top(p), p->nframes - 1);
    ev->name = name;
    ev->value = value;
    ev->unfolded = unf;
    p->hbytes += end;
    p->hfields++;
    consume(p, end);
    return MW_MIME_HEADER;

too_large:
    /* Dovecot-like degradation: the header block ends here and the rest
     * of the entity, this field included, is its body. */
    defect(p, MW_MIME_DEFECT_HEADER_TOO_LARGE);
    return finish_headers(p, ev);
}

/* ---- body transformation (MW_MIME_DECODE, MW_MIME_UTF8) ------------ */

static void xform_stop(mw_mime_parser *p)
{
    if (p->converting) mw__charset_close(&p->cs);
    p->xform = p->decoding = p->converting = 0;
    p->dec_finished = p->xpending = 0;
    p->dpos = p->dlen = 0;
}

/* Set up decoding and charset conversion for a leaf about to stream. */
static int xform_start(mw_mime_parser *p, int cte, int is_text, mw_slice charset)
{
    xform_stop(p);
    p->flushed = 0;
    p->enc_reported = 0;
    p->body_off = p->base_off;
    unsigned fl = p->opt.flags;
    if ((fl & MW_MIME_DECODE) && cte == MW_MIME_CTE_QP) {
        if (mw_qp_decode_init(&p->codec, 0) != MW_OK) return MW_ERR_INVALID;
        p->decoding = cte;
    } else if ((fl & MW_MIME_DECODE) && cte == MW_MIME_CTE_BASE64) {
        /* RFC 2045 §6.8: line breaks and other non-alphabet bytes are ignored. */
        if (mw_b64_decode_init(&p->codec, MW_B64_MIME | MW_B64_SKIP_GARBAGE) != MW_OK)
            return MW_ERR_INVALID;
        p->decoding = cte;
    }
    int encoded = cte == MW_MIME_CTE_QP || cte == MW_MIME_CTE_BASE64;
    if ((fl & MW_MIME_UTF8) && is_text && charset.len && (!encoded || p->decoding) &&
        !mw__mime_ieq(charset.base, charset.len, "utf-8") &&
        !mw__mime_ieq(charset.base, charset.len, "us-ascii")) {
        int rc = mw__charset_open(&p->cs, charset.base, charset.len);
        if (rc == MW_ERR_NOMEM) return rc;
        if (rc == MW_OK)
            p->converting = 1;
        else
            defect(p, MW_MIME_DEFECT_BAD_CHARSET);
    }
    if (!p->decoding && !p->converting) return MW_OK;
    /* Each buffer only when its stage runs: a decode-only parser never
     * touches the 64 KiB conversion buffer (docs/performance.md, RSS). */
    if (p->decoding && !p->dbuf) p->dbuf = mw__malloc(&p->mem, DECODE_CHUNK);
    if (p->converting && !p->cbuf) p->cbuf = mw__malloc(&p->mem, 4 * DECODE_CHUNK + 16);
    if ((p->decoding && !p->dbuf) || (p->converting && !p->cbuf)) {
        xform_stop(p);
        return MW_ERR_NOMEM;
    }
    p->xform = 1;
    return MW_OK;
}

static void codec_warnings(mw_mime_parser *p)
{
    const unsigned serious = MW_CODEC_WARN_BAD_CHAR | MW_CODEC_WARN_BAD_ESCAPE |
                             MW_CODEC_WARN_BAD_PADDING | MW_CODEC_WARN_TRAILING;
    if (!p->enc_reported && (p->codec.warnings & serious)) {
        p->enc_reported = 1;
        /* error_offset is the codec's first warning, in body terms */
        defect_at(p, MW_MIME_DEFECT_BAD_ENCODING, p->body_off + p->codec.error_offset);
    }
}

static int codec_step(mw_mime_parser *p, int finish)
{
    switch (p->decoding) {
    case MW_MIME_CTE_QP:
        return mw_qp_decode_step(&p->codec, finish);
    case MW_MIME_CTE_BASE64:
        return mw_b64_decode_step(&p->codec, finish);
    default:
        return MW_ERR_INVALID;
    }
}

/* Run raw bytes d[0..n) (n may be 0 with finish) through the decoder and
 * the converter. *took receives the raw bytes consumed; the result is in
 * *out (a parser buffer). The converter may not take everything when a
 * charset expands more than the output buffer allows (TSCII: one byte to
 * twelve): decoded bytes it left wait in dbuf[dpos, dlen), raw ones stay in
 * the input, and p->xpending says that another call has output to give, so
 * nothing is dropped and the result does not depend on how input was cut. */
static void xform_run(mw_mime_parser *p, const unsigned char *d, size_t n, int finish, size_t *took,
                      mw_slice *out)
{
    static const unsigned char empty[1];
    if (!d) d = empty; /* the flush at the end of a part has no input */
    const unsigned char *src = d;
    size_t max = p->converting ? CONVERT_IN_MAX : DECODE_CHUNK;
    size_t srclen = n < max ? n : max;
    *took = srclen;
    if (p->decoding) {
        *took = 0;
        if (p->dpos == p->dlen && !p->dec_finished) {
            p->codec.next_in = d;
            p->codec.avail_in = n;
            p->codec.next_out = p->dbuf;
            p->codec.avail_out = max;
            if (codec_step(p, finish) < 0) { /* lenient decoders do not fail; be safe */
                p->codec.warnings |= MW_CODEC_WARN_BAD_CHAR;
            }
            /* Reported at the end of the part: a later warning can point
             * earlier (trailing bits at the last data byte), so the first
             * offset is only known once the decoder has seen everything. */
            if (finish) {
                codec_warnings(p);
                p->dec_finished = 1;
            }
            *took = n - p->codec.avail_in;
            p->dpos = 0;
            p->dlen = max - p->codec.avail_out;
        }
        src = p->dbuf + p->dpos;
        srclen = p->dlen - p->dpos;
        p->dpos = p->dlen; /* all handed out, unless the converter leaves some */
    }
    p->xpending = 0;
    if (p->converting) {
        const unsigned char *in = src;
        size_t inlen = srclen, outlen = 4 * DECODE_CHUNK + 16;
        unsigned char *o = p->cbuf;
        /* the converter's end comes after the decoder's last bytes */
        int last = finish && (!p->decoding || p->dec_finished);
        int rc = mw__charset_convert(&p->cs, &in, &inlen, &o, &outlen, last);
        if (p->decoding)
            p->dpos -= inlen;
        else
            *took = srclen - inlen;
        p->xpending = rc == MW_ERR_BUFFER;
        src = p->cbuf;
        srclen = 4 * DECODE_CHUNK + 16 - outlen;
    }
    out->base = (const char *)src;
    out->len = srclen;
}

/* ---- PART_BEGIN ---------------------------------------------------- */

#define AGAIN (-1000) /* internal: the state changed, run the loop again */

static const mw_mime_param *find_param(const mw_mime_param *ps, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (mw__mime_ieq(ps[i].name.base, ps[i].name.len, name)) return &ps[i];
    return NULL;
}

static mw_slice lit(const char *s)
{
    return (mw_slice){s, strlen(s)};
}

static int parse_cte(mw_mime_parser *p, mw_slice *name)
{
    const char *s = p->hstore ? p->hstore + p->foff[F_CTE] : "";
    size_t n = p->flen[F_CTE], i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t e = i;
    while (e < n && s[e] != ' ' && s[e] != '\t' && s[e] != ';' && s[e] != '(')
        e++;
    char *out = mw__arena_push(&p->arena, s + i, e - i);
    if (!out) return MW_ERR_NOMEM;
    for (size_t k = 0; k < e - i; k++)
        if (out[k] >= 'A' && out[k] <= 'Z') out[k] = (char)(out[k] + 32);
    *name = (mw_slice){out, e - i};
    static const char *const names[] = {"7bit", "8bit", "binary", "quoted-printable", "base64"};
    for (int k = 0; k < 5; k++)
        if (mw__mime_ieq(out, e - i, names[k])) return k;
    return MW_MIME_CTE_UNKNOWN;
}

static void report_bits(mw_mime_parser *p, unsigned bits)
{
    for (int d = 1; d < 32; d++)
        if (bits & (1u << d)) defect(p, d);
}

/* A stored field's bytes; hstore is NULL while only empty values were stored. */
static const char *field_ptr(const mw_mime_parser *p, int which)
{
    return p->hstore ? p->hstore + p->foff[which] : "";
}

static int finish_headers(mw_mime_parser *p, mw_mime_event *ev)
{
    frame *f = top(p);
    size_t depth = p->nframes - 1;
    const frame *parent = p->nframes > 1 ? &p->frames[p->nframes - 2] : NULL;
    size_t ctl = (p->hflags & HF_HAVE_CT) ? p->flen[F_CT] : 0;
    size_t cdl = (p->hflags & HF_HAVE_CD) ? p->flen[F_CD] : 0;
    size_t ctel = (p->hflags & HF_HAVE_CTE) ? p->flen[F_CTE] : 0;
    p->arena.len = 0;
    if (!mw__arena_reserve(&p->arena, (ctl + cdl) * 11 + ctel + 512)) return MW_ERR_NOMEM;
    mw__mime_pctx ctx = {&p->arena,       p->params, p->opt.params,
                         p->opt.segments, p->raw,    p->opt.params + p->opt.segments};
    mw__mime_ctype ct, cd;
    memset(&ct, 0, sizeof ct);
    memset(&cd, 0, sizeof cd);
    int rc;
    if (ctl || (p->hflags & HF_HAVE_CT)) {
        rc = mw__mime_parse_ctype(&ctx, field_ptr(p, F_CT), ctl, 1, &ct);
        if (rc) return MW_ERR_NOMEM;
    }
    if (p->hflags & HF_HAVE_CD) {
        ctx.params = p->params + p->opt.params;
        rc = mw__mime_parse_ctype(&ctx, field_ptr(p, F_CD), cdl, 0, &cd);
        if (rc) return MW_ERR_NOMEM;
    }
    report_bits(p, ct.defects | cd.defects);
    if (ct.type.len == 0) {
        /* RFC 2045 §5.2 default; RFC 2046 §5.1.5 for digest children. */
        int digest = parent && parent->digest;
        ct.type = lit(digest ? "message" : "text");
        ct.subtype = lit(digest ? "rfc822" : "plain");
    }
    int cte = MW_MIME_CTE_7BIT;
    mw_slice cte_name = {NULL, 0};
    if (p->hflags & HF_HAVE_CTE) {
        cte = parse_cte(p, &cte_name);
        if (cte < 0) return cte;
        if (cte == MW_MIME_CTE_UNKNOWN) defect(p, MW_MIME_DEFECT_BAD_CTE);
    }
    int identity = cte <= MW_MIME_CTE_BINARY;
    const mw_mime_param *bp = find_param(ct.params, ct.nparams, "boundary");
    const mw_mime_param *csp = find_param(ct.params, ct.nparams, "charset");
    int kind = MW_MIME_KIND_LEAF;
    int is_text = mw__mime_ieq(ct.type.base, ct.type.len, "text");
    if (mw__mime_ieq(ct.type.base, ct.type.len, "multipart")) {
        if (!bp || bp->value.len == 0 || bp->value.len + 4 > p->opt.line) {
            defect(p, MW_MIME_DEFECT_MISSING_BOUNDARY);
        } else if (depth + 1 > p->opt.depth) {
            defect(p, MW_MIME_DEFECT_TOO_DEEP);
        } else {
            kind = MW_MIME_KIND_MULTIPART;
            /* RFC 2045 §6.4: no encoding on composites; mature readers ignore it. */
            if (!identity) defect(p, MW_MIME_DEFECT_BAD_CTE);
        }
    } else if (mw__mime_ieq(ct.type.base, ct.type.len, "message") &&
               (mw__mime_ieq(ct.subtype.base, ct.subtype.len, "rfc822") ||
                mw__mime_ieq(ct.subtype.base, ct.subtype.len, "global"))) {
        int global = mw__mime_ieq(ct.subtype.base, ct.subtype.len, "global");
        if (!identity) {
            /* RFC 2046 §5.2.1 forbids encoding message/rfc822; RFC 6532 §3.5
             * allows it for message/global. Either way the body stays a leaf. */
            if (!global) defect(p, MW_MIME_DEFECT_BAD_CTE);
        } else if (depth + 1 > p->opt.depth) {
            defect(p, MW_MIME_DEFECT_TOO_DEEP);
        } else if (p->parts >= p->opt.parts) {
            defect(p, MW_MIME_DEFECT_TOO_MANY_PARTS);
        } else {
            kind = MW_MIME_KIND_MESSAGE;
        }
    }
    if (kind == MW_MIME_KIND_MULTIPART) {
        rc = grow(&p->mem, (void **)&p->bnd, &p->bnd_cap, p->bnd_len + bp->value.len, 1);
        if (rc) return rc;
        memcpy(p->bnd + p->bnd_len, bp->value.base, bp->value.len);
        f->boff = p->bnd_len;
        f->blen = bp->value.len;
        p->bnd_len += bp->value.len;
        f->mstate = MS_PREAMBLE;
        f->digest = (unsigned char)mw__mime_ieq(ct.subtype.base, ct.subtype.len, "digest");
        p->nactive++;
    }
    f->kind = (unsigned char)kind;
    f->cte = (unsigned char)cte;

    ev_frame(p, ev, MW_MIME_PART_BEGIN, f, depth);
    ev->kind = kind;
    ev->subtype = ct.subtype;
    ev->params = ct.params;
    ev->nparams = ct.nparams;
    if (kind == MW_MIME_KIND_MULTIPART) ev->boundary = bp->value;
    if (csp) {
        char *lc = mw__arena_push(&p->arena, csp->value.base, csp->value.len);
        if (!lc) return MW_ERR_NOMEM;
        for (size_t k = 0; k < csp->value.len; k++)
            if (lc[k] >= 'A' && lc[k] <= 'Z') lc[k] = (char)(lc[k] + 32);
        ev->charset = (mw_slice){lc, csp->value.len};
    } else if (is_text) {
        ev->charset = lit("us-ascii");
    }
    ev->cte = cte;
    ev->cte_name = cte_name;
    ev->disposition = cd.type;
    ev->disp_params = cd.params;
    ev->ndisp_params = cd.nparams;
    const mw_mime_param *fn = find_param(cd.params, cd.nparams, "filename");
    if (!fn) fn = find_param(ct.params, ct.nparams, "name");
    if (fn) ev->filename = fn->value; /* RFC 2047 words already decoded (mime_params.c) */
    if (kind == MW_MIME_KIND_LEAF && p->opt.flags) {
        rc = xform_start(p, cte, is_text, ev->charset);
        if (rc) return rc;
    } else {
        xform_stop(p);
    }
    ev->media_type = ct.type;
    if (kind == MW_MIME_KIND_MESSAGE) {
        p->pending_child = 1;
    } else {
        p->state = S_BODY;
        p->bol = 1;
    }
    return MW_MIME_PART_BEGIN;
}

/* ---- bodies -------------------------------------------------------- */

static void start_unwind(mw_mime_parser *p, size_t keep, int action)
{
    p->keep = keep;
    p->action = action;
    p->state = S_UNWIND;
}

/* A delimiter line starts at offset nl (its leading line end included)
 * and the match covers the line after it. */
static int take_delim(mw_mime_parser *p, const delim_match *m, size_t line_start)
{
    if (!m->close && p->parts >= p->opt.parts) {
        /* Graceful degradation: boundary detection stops and the rest of
         * the input is the body of the entity being read. */
        defect_at(p, MW_MIME_DEFECT_TOO_MANY_PARTS, p->base_off + line_start);
        p->exhausted = 1;
        return AGAIN;
    }
    p->unwind_off = p->base_off + line_start;
    consume(p, line_start + m->linelen);
    start_unwind(p, m->level + 1, m->close ? ACT_EPILOGUE : ACT_CHILD);
    return AGAIN;
}

/* A "--" line that is no delimiter cannot occur in base64 (RFC 2045 §6.8
 * alphabet): it hints at a broken or foreign boundary. */
static void check_encoded(mw_mime_parser *p, frame *f, size_t at)
{
    if (f->kind == MW_MIME_KIND_LEAF && f->cte == MW_MIME_CTE_BASE64 && !f->encoded_defect) {
        f->encoded_defect = 1;
        defect_at(p, MW_MIME_DEFECT_BOUNDARY_IN_ENCODED, p->base_off + at);
    }
}

static int step_body(mw_mime_parser *p, mw_mime_event *ev)
{
    frame *f = top(p);
    int type = MW_MIME_BODY;
    if (f->kind == MW_MIME_KIND_MULTIPART)
        type = f->mstate == MS_EPILOGUE ? MW_MIME_EPILOGUE : MW_MIME_PREAMBLE;
    size_t len = mw__inbuf_len(&p->in);
    /* no pointer arithmetic on the buffer before it exists */
    const unsigned char *d = len ? mw__inbuf_data(&p->in) : (const unsigned char *)"";
    if (len == 0) {
        if (!p->eof) return 0;
        p->unwind_off = p->base_off;
        start_unwind(p, 0, ACT_END);
        return AGAIN;
    }
    size_t emit = len;
    delim_match m;
    if (p->nactive && !p->exhausted) {
        if (p->bol && d[0] == '-') {
            if (len < 2 && !p->eof) return 0;
            if (len >= 2 && d[1] == '-') {
                int r = match_delim(p, d, len, p->base_off, &m);
                if (r == M_MORE) return 0;
                if (r == M_YES) return take_delim(p, &m, 0);
                check_encoded(p, f, 0);
            }
        }
        size_t i = 0;
        for (;;) {
            const unsigned char *lf = i < len ? memchr(d + i, '\n', len - i) : NULL;
            if (!lf) {
                emit = len;
                if (!p->eof && d[len - 1] == '\r') emit--; /* may start a CRLF */
                break;
            }
            size_t n = (size_t)(lf - d), ls = n + 1;
            size_t nlb = n > 0 && d[n - 1] == '\r' ? n - 1 : n;
            if (ls + 2 > len) {
                if (p->eof) {
                    i = ls;
                    continue;
                }
                emit = nlb;
                break;
            }
            if (d[ls] != '-' || d[ls + 1] != '-') {
                i = ls;
                continue;
            }
            int r = match_delim(p, d + ls, len - ls, p->base_off + ls, &m);
            if (r == M_NO) {
                check_encoded(p, f, ls);
                i = ls;
                continue;
            }
            if (nlb > 0) {
                emit = nlb; /* release the body, the delimiter comes next call */
                break;
            }
            if (r == M_MORE) return 0;
            if (n == 0 || d[n - 1] != '\r') bare_lf(p, p->base_off + n);
            return take_delim(p, &m, ls);
        }
        if (emit == 0) return 0;
    }
    ev_frame(p, ev, type, f, p->nframes - 1);
    if (type == MW_MIME_BODY && p->xform) {
        size_t took;
        xform_run(p, d, emit, 0, &took, &ev->data);
        consume(p, took);
        p->bol = 0;
        if (ev->data.len == 0) return took ? AGAIN : 0;
        return type;
    }
    ev->data.base = (const char *)d;
    ev->data.len = emit;
    consume(p, emit);
    p->bol = 0;
    return type;
}

static int step_unwind(mw_mime_parser *p, mw_mime_event *ev)
{
    if (p->nframes > p->keep) {
        frame *f = top(p);
        if (is_active(f) && !f->close_reported && !p->exhausted) {
            f->close_reported = 1;
            ev_frame(p, ev, MW_MIME_DEFECT, f, p->nframes - 1);
            ev->defect = MW_MIME_DEFECT_MISSING_CLOSE_BOUNDARY;
            ev->offset = p->unwind_off;
            return MW_MIME_DEFECT;
        }
        if (f->kind == MW_MIME_KIND_LEAF && p->xform && !p->flushed) {
            /* End of a transformed body: flush the decoder and converter
             * (in several events when the converter has more to give). */
            size_t took;
            ev_frame(p, ev, MW_MIME_BODY, f, p->nframes - 1);
            xform_run(p, NULL, 0, 1, &took, &ev->data);
            if (!p->xpending && p->dpos == p->dlen && (!p->decoding || p->dec_finished))
                p->flushed = 1;
            if (ev->data.len) return MW_MIME_BODY;
            if (!p->flushed) return AGAIN;
            if (p->dq_len) return AGAIN; /* the part's defects before its PART_END */
        }
        if (f->kind == MW_MIME_KIND_LEAF) xform_stop(p);
        if (f->kind == MW_MIME_KIND_MULTIPART) {
            if (is_active(f)) p->nactive--;
            p->bnd_len = f->boff;
        }
        p->nframes--;
        ev_frame(p, ev, MW_MIME_PART_END, f, p->nframes);
        return MW_MIME_PART_END;
    }
    frame *m = p->nframes ? top(p) : NULL;
    switch (p->action) {
    case ACT_CHILD: {
        m->mstate = MS_CHILDREN;
        m->children++;
        int rc = push_frame(p, m->children);
        if (rc) return rc;
        p->state = S_HEADERS;
        return AGAIN;
    }
    case ACT_EPILOGUE:
        if (is_active(m)) p->nactive--;
        m->mstate = MS_EPILOGUE;
        p->state = S_BODY;
        p->bol = 1;
        return AGAIN;
    default:
        p->state = S_END;
        return AGAIN;
    }
}

/* ---- public API ---------------------------------------------------- */

static void parser_reset_state(mw_mime_parser *p)
{
    p->in.start = p->in.end = p->in.scanned = 0;
    p->in.discarding = 0;
    p->sticky = 0;
    p->state = S_HEADERS;
    p->eof = 0;
    p->base_off = 0;
    p->nframes = 0;
    p->bnd_len = 0;
    p->nactive = 0;
    p->parts = 0;
    p->bol = 0;
    p->exhausted = 0;
    p->lf_reported = 0;
    p->pending_child = 0;
    p->mbox_checked = 0;
    p->dq_head = p->dq_len = 0;
    p->hs_pos = p->hs_scan = 0;
    p->hs_bare = p->hs_long = 0;
    p->cand_valid = 0;
    xform_stop(p);
}

MW_API mw_mime_parser *mw_mime_parser_new(const mw_mem *mem, const mw_mime_options *opt)
{
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_mime_parser *p = mw__malloc(&m, sizeof *p);
    if (!p) return NULL;
    memset(p, 0, sizeof *p);
    p->mem = m;
    if (opt)
        p->opt = *opt;
    else
        options_defaults(&p->opt);
    size_t minbuf = p->opt.header_bytes + 2 * p->opt.line + 64;
    mw__inbuf_init(&p->in, &p->mem, p->opt.buffer > minbuf ? p->opt.buffer : minbuf);
    p->arena.mem = &p->mem;
    p->arena.max = p->opt.header_bytes * 12 + 1024;
    p->params = mw__calloc(&p->mem, 2 * p->opt.params, sizeof *p->params);
    p->raw = mw__calloc(&p->mem, p->opt.params + p->opt.segments, sizeof *p->raw);
    if (!p->params || !p->raw) {
        mw_mime_parser_free(p);
        return NULL;
    }
    parser_reset_state(p);
    if (push_frame(p, 0) != MW_OK) {
        mw_mime_parser_free(p);
        return NULL;
    }
    return p;
}

MW_API void mw_mime_parser_free(mw_mime_parser *p)
{
    if (!p) return;
    mw_mem m = p->mem;
    mw__inbuf_free(&p->in);
    mw__free(&m, p->frames);
    mw__free(&m, p->path);
    mw__free(&m, p->bnd);
    mw__free(&m, p->hstore);
    mw__free(&m, p->ubuf);
    mw__free(&m, p->arena.buf);
    mw__free(&m, p->params);
    mw__free(&m, p->raw);
    xform_stop(p);
    mw__free(&m, p->dbuf);
    mw__free(&m, p->cbuf);
    mw__free(&m, p);
}

MW_API int mw_mime_parser_reset(mw_mime_parser *p)
{
    if (!p) return MW_ERR_INVALID;
    parser_reset_state(p);
    int rc = push_frame(p, 0);
    if (rc) p->sticky = rc;
    return rc;
}

MW_API mw_ssize mw_mime_feed(mw_mime_parser *p, const void *data, size_t len)
{
    if (!p || (!data && len)) return MW_ERR_INVALID;
    if (p->sticky) return p->sticky;
    if (p->eof) return MW_ERR_STATE;
    if (len == 0) return 0;
    return mw__inbuf_feed(&p->in, data, len);
}

MW_API int mw_mime_recv_buf(mw_mime_parser *p, unsigned char **buf, size_t *len)
{
    if (!p || !buf || !len) return MW_ERR_INVALID;
    *buf = NULL;
    *len = 0;
    if (p->sticky) return p->sticky;
    if (p->eof) return MW_ERR_STATE;
    return mw__inbuf_reserve(&p->in, buf, len);
}

MW_API int mw_mime_recv_ack(mw_mime_parser *p, size_t n)
{
    if (!p) return MW_ERR_INVALID;
    if (p->eof) return MW_ERR_STATE;
    if (n > p->in.cap - p->in.end) return MW_ERR_INVALID;
    mw__inbuf_recv_ack(&p->in, n);
    return MW_OK;
}

MW_API int mw_mime_eof(mw_mime_parser *p)
{
    if (!p) return MW_ERR_INVALID;
    p->eof = 1;
    return MW_OK;
}

MW_API int mw_mime_next(mw_mime_parser *p, mw_mime_event *ev)
{
    if (!p || !ev) return MW_ERR_INVALID;
    if (p->sticky) return p->sticky;
    for (;;) {
        if (p->dq_len) {
            defect_item it = p->dq[p->dq_head];
            p->dq_head = (p->dq_head + 1) % DEFECT_QUEUE;
            p->dq_len--;
            static const frame root;
            const frame *f = p->nframes ? top(p) : &root;
            ev_frame(p, ev, MW_MIME_DEFECT, f, p->nframes ? p->nframes - 1 : 0);
            ev->defect = it.code;
            ev->offset = it.offset;
            return MW_MIME_DEFECT;
        }
        if (p->pending_child) {
            int rc = push_frame(p, 1);
            if (rc) return p->sticky = rc;
            p->frames[p->nframes - 2].children = 1;
            p->pending_child = 0;
            p->state = S_HEADERS;
        }
        int rc;
        switch (p->state) {
        case S_HEADERS:
            rc = step_headers(p, ev);
            break;
        case S_BODY:
            rc = step_body(p, ev);
            break;
        case S_UNWIND:
            rc = step_unwind(p, ev);
            break;
        case S_END: {
            static const frame root;
            ev_frame(p, ev, MW_MIME_MESSAGE_END, &root, 0);
            p->state = S_CLOSED;
            return MW_MIME_MESSAGE_END;
        }
        default:
            return MW_ERR_CLOSED;
        }
        if (rc == AGAIN) continue;
        if (rc < 0) return p->sticky = rc;
        if (rc == 0 && p->dq_len) continue;
        return rc;
    }
}
