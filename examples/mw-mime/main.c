/*
 * mw-mime: look into MIME messages and compose them, on the command line.
 *
 *   mw-mime show [--json] FILE|-        the part tree, one line per part
 *   mw-mime extract [--all] FILE|- DIR  attachments (or every leaf) to DIR
 *   mw-mime cat [--html] [--crlf] FILE|- the text body, decoded, as UTF-8
 *   mw-mime headers FILE|-              top-level header fields, decoded
 *   mw-mime build --from A --to B ...   compose a message to stdout
 *
 * All MIME logic is in the library (mailwire/mime.h, rfc5322.h, codec.h);
 * this file streams input through the parser in fixed blocks (constant
 * memory whatever the message size, apart from one small record per part
 * for `show`) and formats what the events say. See docs/mw-mime.md.
 *
 * Exit status: 0 ok, 1 bad input or parse failure, 2 usage, 3 I/O error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "compose.h"

#include <mailwire/codec.h>
#include <mailwire/mime.h>
#include <mailwire/rfc5322.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_DATA 1
#define EXIT_USAGE 2
#define EXIT_IO 3

#define READ_BLOCK 65536
#define NAME_MAX_BYTES 200 /* extracted file names are cut to this many bytes */

static const char usage_text[] =
    "usage: mw-mime COMMAND [options] ...\n"
    "\n"
    "  show [--json] FILE|-\n"
    "      the part tree: one line per part, tab-separated: path kind type charset\n"
    "      cte disposition filename size defects (see docs/mw-mime.md)\n"
    "  extract [--all] FILE|- DIR\n"
    "      write attachments (with --all: every leaf part) decoded into DIR, with\n"
    "      safe, de-duplicated names; prints path, file name and size per file\n"
    "  cat [--html] [--crlf] FILE|-\n"
    "      print the text body (first text/plain, else text/html; --html: first\n"
    "      text/html) decoded and converted to UTF-8; --crlf keeps CRLF line ends\n"
    "  headers FILE|-\n"
    "      top-level header fields with RFC 2047 words decoded; address fields\n"
    "      (From, To, Cc, ...) are followed by their parsed entries\n"
    "  build --from A --to B [--to B2]... [--cc C]... --subject S [--text FILE|-]\n"
    "        [--html FILE] [--attach FILE[:type]]... [--date D] [--message-id M]\n"
    "        [--boundary PREFIX]\n"
    "      compose a message (UTF-8 inputs) to stdout\n"
    "  --help\n"
    "\n"
    "Exit status: 0 ok, 1 bad input or parse failure, 2 usage error, 3 I/O error.\n";

static int usage_error(const char *what, const char *why)
{
    fprintf(stderr, "mw-mime: %s%s\ntry 'mw-mime --help'\n", what, why);
    return EXIT_USAGE;
}

static int io_error(const char *what, const char *path)
{
    fprintf(stderr, "mw-mime: %s%s%s: %s\n", path ? path : "", path ? ": " : "", what,
            strerror(errno));
    return EXIT_IO;
}

static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        b += w, n -= (size_t)w;
    }
    return 0;
}

static int sink_fd(void *ctx, const void *data, size_t len)
{
    return write_all(*(int *)ctx, data, len);
}

static int open_input(const char *path)
{
    return strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
}

/* ---- the parse loop ---------------------------------------------------- */

/* Called for every event; returns 0 to go on, 1 to stop early, or an exit code + 1
 * (so EXIT_IO is 4) to abort. */
typedef int (*event_fn)(void *ctx, const mw_mime_event *ev);

/* Stream fd through a parser, reading straight into its buffer
 * (mw_mime_recv_buf), and hand every event to fn. */
static int parse_fd(int fd, const char *path, unsigned flags, event_fn fn, void *ctx)
{
    mw_mime_options *opt = mw_mime_options_new(NULL);
    if (!opt || mw_mime_options_set_flags(opt, flags) != MW_OK) {
        mw_mime_options_free(opt);
        fprintf(stderr, "mw-mime: out of memory\n");
        return EXIT_DATA;
    }
    mw_mime_parser *p = mw_mime_parser_new(NULL, opt);
    mw_mime_options_free(opt);
    if (!p) {
        fprintf(stderr, "mw-mime: out of memory\n");
        return EXIT_DATA;
    }
    int status = 0, at_eof = 0;
    for (;;) {
        mw_mime_event ev;
        int rc;
        while ((rc = mw_mime_next(p, &ev)) > 0) {
            int r = fn(ctx, &ev);
            if (r || rc == MW_MIME_MESSAGE_END) {
                status = r > 1 ? r - 1 : 0;
                goto done;
            }
        }
        if (rc < 0 || at_eof) {
            fprintf(stderr, "mw-mime: %s: parse failure: %s\n", path,
                    rc < 0 ? mw_strerror(rc) : "no end of message");
            status = EXIT_DATA;
            goto done;
        }
        unsigned char *space;
        size_t room;
        if (mw_mime_recv_buf(p, &space, &room) != MW_OK || room == 0) {
            fprintf(stderr, "mw-mime: %s: parser buffer stuck\n", path);
            status = EXIT_DATA;
            goto done;
        }
        ssize_t n = read(fd, space, room < READ_BLOCK ? room : READ_BLOCK);
        if (n < 0) {
            if (errno == EINTR) continue;
            status = io_error("read error", path);
            goto done;
        }
        if (n == 0) {
            mw_mime_eof(p);
            at_eof = 1;
        } else {
            mw_mime_recv_ack(p, (size_t)n);
        }
    }
done:
    mw_mime_parser_free(p);
    return status;
}

/* ---- output escaping --------------------------------------------------- */

/* One field of the tab-separated formats: "-" when empty; backslash, TAB,
 * CR, LF and other control bytes escaped; a lone "-" written as \x2d. */
static void put_field(FILE *f, const char *s, size_t len)
{
    if (len == 0) {
        fputc('-', f);
        return;
    }
    if (len == 1 && s[0] == '-') {
        fputs("\\x2d", f);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\\')
            fputs("\\\\", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\r')
            fputs("\\r", f);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2, cp = c & 0x1fu;
    else if (c >= 0xe0 && c <= 0xef)
        need = 3, cp = c & 0x0fu;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 4, cp = c & 0x07u;
    else
        return 0;
    if (n < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return need;
}

/* Text for a terminal, always valid UTF-8: control bytes other than TAB as
 * \xHH, bytes that are not UTF-8 (raw Latin-1 in a header, say) as U+FFFD. */
static void put_text(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char ch = (unsigned char)s[i];
        size_t n = utf8_len((const unsigned char *)s + i, len - i);
        if (n == 0)
            fputs("\xef\xbf\xbd", f), n = 1;
        else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            fprintf(f, "\\x%02x", ch);
        else
            fwrite(s + i, 1, n, f);
        i += n;
    }
}

/* A JSON string; invalid UTF-8 bytes become U+FFFD. */
static void put_json(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len;) {
        unsigned char ch = (unsigned char)s[i];
        size_t n = utf8_len((const unsigned char *)s + i, len - i);
        if (n == 0) {
            fputs("\\ufffd", f);
            i++;
            continue;
        }
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fwrite(s + i, 1, n, f);
        i += n;
    }
    fputc('"', f);
}

static const char *cte_str(int cte)
{
    switch (cte) {
    case MW_MIME_CTE_7BIT:
        return "7bit";
    case MW_MIME_CTE_8BIT:
        return "8bit";
    case MW_MIME_CTE_BINARY:
        return "binary";
    case MW_MIME_CTE_QP:
        return "quoted-printable";
    case MW_MIME_CTE_BASE64:
        return "base64";
    default:
        return NULL;
    }
}

static const char *kind_str(int kind)
{
    return kind == MW_MIME_KIND_MULTIPART ? "multipart"
           : kind == MW_MIME_KIND_MESSAGE ? "message"
                                          : "leaf";
}

static char *dup_slice(mw_slice s)
{
    char *p = malloc(s.len + 1);
    if (p) {
        if (s.len) memcpy(p, s.base, s.len);
        p[s.len] = '\0';
    }
    return p;
}

/* ---- show ---------------------------------------------------------------- */

typedef struct part_rec {
    int seen; /* PART_BEGIN arrived */
    char *path, *type, *charset, *cte, *disposition, *filename;
    int kind;
    uint64_t size;
    uint32_t defects;                 /* bit n: defect code n (codes are 1..31) */
    unsigned long long extra_defects; /* codes beyond 31, counted */
} part_rec;

typedef struct show_ctx {
    part_rec *recs;
    size_t nrecs, cap;
    int oom;
} show_ctx;

static part_rec *rec_at(show_ctx *s, uint32_t part)
{
    if (part >= s->nrecs) {
        if (part >= s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 64;
            while (cap <= part)
                cap *= 2;
            part_rec *r = realloc(s->recs, cap * sizeof *r);
            if (!r) return NULL;
            s->recs = r;
            s->cap = cap;
        }
        memset(s->recs + s->nrecs, 0, (part + 1 - s->nrecs) * sizeof *s->recs);
        s->nrecs = part + 1;
    }
    return &s->recs[part];
}

static int show_event(void *vctx, const mw_mime_event *ev)
{
    show_ctx *s = vctx;
    if (ev->type == MW_MIME_MESSAGE_END || ev->type == MW_MIME_HEADER) return 0;
    if (ev->type == MW_MIME_PREAMBLE || ev->type == MW_MIME_EPILOGUE ||
        ev->type == MW_MIME_PART_END)
        return 0;
    part_rec *r = rec_at(s, ev->part);
    if (!r) goto oom;
    if (ev->type == MW_MIME_DEFECT) {
        if (ev->defect > 0 && ev->defect < 32)
            r->defects |= 1u << ev->defect;
        else
            r->extra_defects++;
    } else if (ev->type == MW_MIME_BODY) {
        r->size += ev->data.len;
    } else if (ev->type == MW_MIME_PART_BEGIN) {
        char type[256];
        snprintf(type, sizeof type, "%.*s/%.*s", (int)ev->media_type.len, ev->media_type.base,
                 (int)ev->subtype.len, ev->subtype.base);
        const char *cte = cte_str(ev->cte);
        mw_slice cte_s = {cte ? cte : ev->cte_name.base, cte ? strlen(cte) : ev->cte_name.len};
        mw_slice type_s = {type, strlen(type)};
        r->seen = 1;
        r->kind = ev->kind;
        r->path = dup_slice(ev->path);
        r->type = dup_slice(type_s);
        r->charset = dup_slice(ev->charset);
        r->cte = dup_slice(cte_s);
        r->disposition = dup_slice(ev->disposition);
        r->filename = dup_slice(ev->filename);
        if (!r->path || !r->type || !r->charset || !r->cte || !r->disposition || !r->filename)
            goto oom;
    }
    return 0;
oom:
    fprintf(stderr, "mw-mime: out of memory\n");
    return EXIT_DATA + 1;
}

static void print_defects(FILE *f, const part_rec *r, int json)
{
    int first = 1;
    for (int d = 1; d < 32; d++) {
        if (!(r->defects & (1u << d))) continue;
        const char *text = mw_mime_defect_str(d);
        if (json)
            fprintf(f, "%s{\"code\":%d,\"text\":", first ? "" : ",", d),
                put_json(f, text, strlen(text)), fputc('}', f);
        else
            fprintf(f, "%s%s", first ? "" : ",", text);
        first = 0;
    }
    if (r->extra_defects && !json) fprintf(f, "%sunknown defect", first ? "" : ","), first = 0;
    if (first && !json) fputc('-', f);
}

static void print_rec_text(FILE *f, const part_rec *r)
{
    const char *path = r->path[0] ? r->path : "0";
    put_field(f, path, strlen(path));
    fprintf(f, "\t%s\t", kind_str(r->kind));
    put_field(f, r->type, strlen(r->type));
    fputc('\t', f);
    put_field(f, r->charset, strlen(r->charset));
    fputc('\t', f);
    put_field(f, r->cte, strlen(r->cte));
    fputc('\t', f);
    put_field(f, r->disposition, strlen(r->disposition));
    fputc('\t', f);
    put_field(f, r->filename, strlen(r->filename));
    if (r->kind == MW_MIME_KIND_LEAF)
        fprintf(f, "\t%llu\t", (unsigned long long)r->size);
    else
        fputs("\t-\t", f);
    print_defects(f, r, 0);
    fputc('\n', f);
}

static void print_rec_json(FILE *f, const part_rec *r, int first)
{
    fputs(first ? "\n  {\"path\":" : ",\n  {\"path\":", f);
    put_json(f, r->path, strlen(r->path));
    fprintf(f, ",\"kind\":\"%s\",\"type\":", kind_str(r->kind));
    put_json(f, r->type, strlen(r->type));
    const char *names[4] = {"charset", "cte", "disposition", "filename"};
    const char *vals[4] = {r->charset, r->cte, r->disposition, r->filename};
    for (int i = 0; i < 4; i++) {
        fprintf(f, ",\"%s\":", names[i]);
        if (vals[i][0])
            put_json(f, vals[i], strlen(vals[i]));
        else
            fputs("null", f);
    }
    if (r->kind == MW_MIME_KIND_LEAF)
        fprintf(f, ",\"size\":%llu", (unsigned long long)r->size);
    else
        fputs(",\"size\":null", f);
    fputs(",\"defects\":[", f);
    print_defects(f, r, 1);
    fputs("]}", f);
}

static int cmd_show(int argc, char **argv)
{
    int json = 0;
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage_error(argv[i], ": unknown option");
        else if (!path)
            path = argv[i];
        else
            return usage_error("show", ": too many arguments");
    }
    if (!path) return usage_error("show", ": FILE missing");
    int fd = open_input(path);
    if (fd < 0) return io_error("cannot open", path);
    show_ctx s = {NULL, 0, 0, 0};
    int rc = parse_fd(fd, path, MW_MIME_DECODE, show_event, &s);
    close(fd);
    if (rc == 0) {
        int first = 1;
        if (json) fputs("[", stdout);
        for (size_t i = 0; i < s.nrecs; i++) {
            if (!s.recs[i].seen) continue;
            if (json)
                print_rec_json(stdout, &s.recs[i], first);
            else
                print_rec_text(stdout, &s.recs[i]);
            first = 0;
        }
        if (json) fputs("\n]\n", stdout);
        if (fflush(stdout) || ferror(stdout)) rc = io_error("write error", "stdout");
    }
    for (size_t i = 0; i < s.nrecs; i++) {
        part_rec *r = &s.recs[i];
        free(r->path), free(r->type), free(r->charset), free(r->cte);
        free(r->disposition), free(r->filename);
    }
    free(s.recs);
    return rc;
}

/* ---- extract ------------------------------------------------------------- */

typedef struct extract_ctx {
    const char *dir;
    int dirfd;
    int all;
    int fd;        /* the file being written, -1 when none */
    uint32_t part; /* its part number */
    char name[NAME_MAX_BYTES + 32];
    char path[256]; /* its part path (cut) */
    uint64_t size;
    unsigned files;
} extract_ctx;

/* Make a file name safe: drop '/', '\\', control bytes and DEL, then
 * leading dots and spaces (no hidden files, no "..") and trailing spaces;
 * cut to NAME_MAX_BYTES without splitting a UTF-8 sequence. */
static void safe_name(const char *in, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap && n < NAME_MAX_BYTES; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f) continue;
        if (n == 0 && (ch == '.' || ch == ' ')) continue;
        out[n++] = (char)ch;
    }
    if (n >= NAME_MAX_BYTES) { /* cut: do not leave half a UTF-8 sequence */
        size_t start = n;
        while (start > 0 && n - start < 4 && ((unsigned char)out[start - 1] & 0xc0) == 0x80)
            start--;
        if (start > 0 && ((unsigned char)out[start - 1] & 0xc0) == 0xc0) start--;
        if (start < n && utf8_len((const unsigned char *)out + start, n - start) != n - start)
            n = start;
    }
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

static const char *default_ext(const mw_mime_event *ev)
{
    if (ev->media_type.len == 4 && !memcmp(ev->media_type.base, "text", 4)) {
        if (ev->subtype.len == 4 && !memcmp(ev->subtype.base, "html", 4)) return ".html";
        return ".txt";
    }
    if (ev->media_type.len == 7 && !memcmp(ev->media_type.base, "message", 7)) return ".eml";
    return ".bin";
}

/* Create DIR/base (or base-1.ext, base-2.ext, ...) exclusively: an existing
 * file or symlink is never overwritten or followed. */
static int create_unique(extract_ctx *x, const char *base)
{
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    for (unsigned n = 0; n < 100000; n++) {
        if (n == 0)
            snprintf(x->name, sizeof x->name, "%s", base);
        else
            snprintf(x->name, sizeof x->name, "%.*s-%u%s", (int)stem, base, n, base + stem);
        int fd =
            openat(x->dirfd, x->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

static int wants(const extract_ctx *x, const mw_mime_event *ev)
{
    if (ev->kind != MW_MIME_KIND_LEAF) return 0;
    if (x->all || ev->filename.len) return 1;
    return ev->disposition.len == 10 && !memcmp(ev->disposition.base, "attachment", 10);
}

static int extract_event(void *vctx, const mw_mime_event *ev)
{
    extract_ctx *x = vctx;
    if (ev->type == MW_MIME_PART_BEGIN && wants(x, ev)) {
        char base[NAME_MAX_BYTES + 1];
        safe_name(ev->filename.base, ev->filename.len, base, sizeof base);
        if (!base[0]) {
            const char *p = ev->path.len ? ev->path.base : "0";
            int plen = ev->path.len ? (int)(ev->path.len > 100 ? 100 : ev->path.len) : 1;
            snprintf(base, sizeof base, "part-%.*s%s", plen, p, default_ext(ev));
        }
        x->fd = create_unique(x, base);
        if (x->fd < 0) {
            io_error("cannot create", x->dir);
            return EXIT_IO + 1;
        }
        x->part = ev->part;
        x->size = 0;
        snprintf(x->path, sizeof x->path, "%.*s", (int)(ev->path.len > 200 ? 200 : ev->path.len),
                 ev->path.base);
    } else if (ev->type == MW_MIME_BODY && x->fd >= 0 && ev->part == x->part) {
        if (write_all(x->fd, ev->data.base, ev->data.len)) {
            io_error("write error", x->name);
            return EXIT_IO + 1;
        }
        x->size += ev->data.len;
    } else if (ev->type == MW_MIME_PART_END && x->fd >= 0 && ev->part == x->part) {
        int bad = close(x->fd);
        x->fd = -1;
        if (bad) {
            io_error("write error", x->name);
            return EXIT_IO + 1;
        }
        put_field(stdout, x->path[0] ? x->path : "0", x->path[0] ? strlen(x->path) : 1);
        fputc('\t', stdout);
        put_field(stdout, x->name, strlen(x->name));
        printf("\t%llu\n", (unsigned long long)x->size);
        x->files++;
    }
    return 0;
}

static int cmd_extract(int argc, char **argv)
{
    extract_ctx x;
    memset(&x, 0, sizeof x);
    x.fd = -1;
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--all"))
            x.all = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage_error(argv[i], ": unknown option");
        else if (!path)
            path = argv[i];
        else if (!x.dir)
            x.dir = argv[i];
        else
            return usage_error("extract", ": too many arguments");
    }
    if (!path || !x.dir) return usage_error("extract", ": FILE and DIR needed");
    x.dirfd = open(x.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (x.dirfd < 0) return io_error("cannot open directory", x.dir);
    int fd = open_input(path);
    if (fd < 0) {
        close(x.dirfd);
        return io_error("cannot open", path);
    }
    int rc = parse_fd(fd, path, MW_MIME_DECODE, extract_event, &x);
    close(fd);
    if (x.fd >= 0) close(x.fd);
    close(x.dirfd);
    if (fflush(stdout) && rc == 0) rc = io_error("write error", "stdout");
    return rc;
}

/* ---- cat ----------------------------------------------------------------- */

typedef struct cat_ctx {
    int want_html;
    int64_t plain, html; /* part numbers found by the first pass, -1: none */
    uint32_t target;
    int crlf, pending_cr;
} cat_ctx;

static int is_type(const mw_mime_event *ev, const char *type, const char *sub)
{
    return ev->media_type.len == strlen(type) &&
           !memcmp(ev->media_type.base, type, ev->media_type.len) &&
           ev->subtype.len == strlen(sub) && !memcmp(ev->subtype.base, sub, ev->subtype.len);
}

static int cat_find(void *vctx, const mw_mime_event *ev)
{
    cat_ctx *c = vctx;
    if (ev->type != MW_MIME_PART_BEGIN || ev->kind != MW_MIME_KIND_LEAF) return 0;
    if (ev->disposition.len == 10 && !memcmp(ev->disposition.base, "attachment", 10)) return 0;
    if (c->plain < 0 && is_type(ev, "text", "plain")) c->plain = ev->part;
    if (c->html < 0 && is_type(ev, "text", "html")) c->html = ev->part;
    /* stop as soon as the answer is known */
    return (c->want_html ? c->html >= 0 : c->plain >= 0) ? 1 : 0;
}

static int cat_print(void *vctx, const mw_mime_event *ev)
{
    cat_ctx *c = vctx;
    if (ev->part != c->target) return 0;
    if (ev->type == MW_MIME_DEFECT) {
        fprintf(stderr, "mw-mime: warning: %s\n", mw_mime_defect_str(ev->defect));
        return 0;
    }
    if (ev->type == MW_MIME_PART_END) {
        if (c->pending_cr && write_all(1, "\r", 1)) goto bad;
        return 1;
    }
    if (ev->type != MW_MIME_BODY) return 0;
    const char *p = ev->data.base, *end = p + ev->data.len;
    if (c->crlf)
        return write_all(1, p, ev->data.len) ? (io_error("write error", "stdout"), EXIT_IO + 1) : 0;
    /* CRLF -> LF, with a CR at the end of a chunk held for the next one */
    if (p == end) return 0;
    if (c->pending_cr && *p != '\n' && write_all(1, "\r", 1)) goto bad;
    c->pending_cr = 0;
    while (p < end) {
        const char *cr = memchr(p, '\r', (size_t)(end - p));
        if (!cr) cr = end;
        if (write_all(1, p, (size_t)(cr - p))) goto bad;
        if (cr == end) break;
        if (cr + 1 == end) {
            c->pending_cr = 1;
            break;
        }
        if (cr[1] != '\n' && write_all(1, "\r", 1)) goto bad;
        p = cr + 1;
    }
    return 0;
bad:
    io_error("write error", "stdout");
    return EXIT_IO + 1;
}

static int cmd_cat(int argc, char **argv)
{
    cat_ctx c = {0, -1, -1, 0, 0, 0};
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--html"))
            c.want_html = 1;
        else if (!strcmp(argv[i], "--crlf"))
            c.crlf = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage_error(argv[i], ": unknown option");
        else if (!path)
            path = argv[i];
        else
            return usage_error("cat", ": too many arguments");
    }
    if (!path) return usage_error("cat", ": FILE missing");
    /* Two passes (find the part, then print it): stdin is spooled to a
     * temporary file when it cannot be rewound. */
    int fd = mwc_open_seekable(path);
    if (fd < 0) return io_error("cannot open", path);
    int rc = parse_fd(fd, path, 0, cat_find, &c);
    if (rc == 0) {
        int64_t target = c.want_html ? c.html : (c.plain >= 0 ? c.plain : c.html);
        if (target < 0) {
            fprintf(stderr, "mw-mime: %s: no %s part\n", path,
                    c.want_html ? "text/html" : "text/plain or text/html");
            rc = EXIT_DATA;
        } else if (lseek(fd, 0, SEEK_SET) < 0) {
            rc = io_error("cannot rewind", path);
        } else {
            c.target = (uint32_t)target;
            rc = parse_fd(fd, path, MW_MIME_DECODE | MW_MIME_UTF8, cat_print, &c);
        }
    }
    close(fd);
    return rc;
}

/* ---- headers ------------------------------------------------------------- */

static int is_address_field(mw_slice name)
{
    static const char *const fields[] = {"From",      "To",           "Cc",          "Bcc",
                                         "Reply-To",  "Sender",       "Resent-From", "Resent-To",
                                         "Resent-Cc", "Resent-Sender"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (mw_hdr_name_eq(name, fields[i])) return 1;
    return 0;
}

static void put_quoted(FILE *f, mw_slice s)
{
    fputc('"', f);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.base[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void print_addresses(const mw_mime_event *ev)
{
    mw_addr_list list;
    if (mw_addr_list_parse(ev->value.base, ev->value.len, NULL, NULL, &list) != MW_OK) {
        fputs("  invalid (unparsable list)\n", stdout);
        return;
    }
    for (size_t i = 0; i < list.count; i++) {
        const mw_addr *a = &list.items[i];
        const char *indent = a->group != (size_t)-1 ? "    " : "  ";
        if (a->kind == MW_ADDR_MAILBOX) {
            printf("%smailbox ", indent);
            put_text(stdout, a->addr_spec.base, a->addr_spec.len);
            if (a->display.len) fputc(' ', stdout), put_quoted(stdout, a->display);
        } else if (a->kind == MW_ADDR_GROUP) {
            printf("%sgroup ", indent);
            put_quoted(stdout, a->display);
            printf(" %zu", a->members);
        } else {
            printf("%sinvalid ", indent);
            put_quoted(stdout, a->raw);
        }
        fputc('\n', stdout);
    }
    mw_addr_list_free(&list);
}

static int headers_event(void *vctx, const mw_mime_event *ev)
{
    (void)vctx;
    if (ev->type == MW_MIME_PART_BEGIN) return 1; /* the top-level header block is over */
    if (ev->type == MW_MIME_DEFECT && ev->defect == MW_MIME_DEFECT_MBOX_FROM) {
        fputs("mw-mime: mbox From_ line skipped: ", stderr);
        put_text(stderr, ev->value.base, ev->value.len);
        fputc('\n', stderr);
        return 0;
    }
    if (ev->type != MW_MIME_HEADER || ev->path.len) return 0;
    size_t cap = 3 * ev->unfolded.len + 1;
    char *out = malloc(cap);
    if (!out) {
        fprintf(stderr, "mw-mime: out of memory\n");
        return EXIT_DATA + 1;
    }
    /* Address fields are structured: a quoted string is literal there
     * (RFC 2047 §5 (3)), as in the parsed entries printed below. */
    unsigned fl = is_address_field(ev->name) ? MW_2047_PHRASE : 0u;
    mw_ssize n = mw_2047_decode(ev->unfolded.base, ev->unfolded.len, out, cap, fl, NULL);
    put_text(stdout, ev->name.base, ev->name.len);
    fputs(": ", stdout);
    if (n >= 0)
        put_text(stdout, out, (size_t)n);
    else
        put_text(stdout, ev->unfolded.base, ev->unfolded.len); /* iconv trouble: raw */
    fputc('\n', stdout);
    free(out);
    if (is_address_field(ev->name)) print_addresses(ev);
    return 0;
}

static int cmd_headers(int argc, char **argv)
{
    if (argc != 3) return usage_error("headers", ": exactly one FILE needed");
    const char *path = argv[2];
    int fd = open_input(path);
    if (fd < 0) return io_error("cannot open", path);
    int rc = parse_fd(fd, path, 0, headers_event, NULL);
    close(fd);
    if (fflush(stdout) && rc == 0) rc = io_error("write error", "stdout");
    return rc;
}

/* ---- build --------------------------------------------------------------- */

#define MAX_LIST 64

static int cmd_build(int argc, char **argv)
{
    mwc_message m;
    memset(&m, 0, sizeof m);
    const char *to[MAX_LIST], *cc[MAX_LIST];
    mwc_attachment att[MAX_LIST];
    char *types[MAX_LIST] = {0};
    size_t nto = 0, ncc = 0, natt = 0;
    int rc = 0;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (i + 1 >= argc) return usage_error(o, o[0] == '-' ? ": value missing" : ": unexpected");
        const char *v = argv[++i];
        if (!strcmp(o, "--from"))
            m.from = v;
        else if (!strcmp(o, "--to") || !strcmp(o, "--cc")) {
            size_t *n = o[2] == 't' ? &nto : &ncc;
            if (*n == MAX_LIST) return usage_error(o, ": given too many times");
            (o[2] == 't' ? to : cc)[(*n)++] = v;
        } else if (!strcmp(o, "--subject"))
            m.subject = v;
        else if (!strcmp(o, "--text"))
            m.text_path = v;
        else if (!strcmp(o, "--html"))
            m.html_path = v;
        else if (!strcmp(o, "--date"))
            m.date = v;
        else if (!strcmp(o, "--message-id"))
            m.message_id = v;
        else if (!strcmp(o, "--boundary"))
            m.boundary = v;
        else if (!strcmp(o, "--attach")) {
            if (natt == MAX_LIST) return usage_error(o, ": given too many times");
            /* FILE:type when what follows the last ':' looks like a media type */
            const char *colon = strrchr(v, ':');
            att[natt].path = v;
            att[natt].type = NULL;
            att[natt].name = NULL;
            if (colon && strchr(colon, '/') && !strchr(colon, ' ')) {
                types[natt] = strndup(v, (size_t)(colon - v));
                if (!types[natt]) return io_error("out of memory", NULL);
                att[natt].path = types[natt];
                att[natt].type = colon + 1;
            }
            natt++;
        } else {
            rc = usage_error(o, ": unknown option");
            goto out;
        }
    }
    if (!m.from || !nto || !m.subject) {
        rc = usage_error("build", ": --from, --to and --subject are required");
        goto out;
    }
    int stdin_users =
        (m.text_path && !strcmp(m.text_path, "-")) + (m.html_path && !strcmp(m.html_path, "-"));
    for (size_t i = 0; i < natt; i++)
        stdin_users += !strcmp(att[i].path, "-");
    if (stdin_users > 1) {
        rc = usage_error("build", ": stdin ('-') can be used only once");
        goto out;
    }
    m.to = to, m.nto = nto, m.cc = cc, m.ncc = ncc, m.attach = att, m.nattach = natt;
    char err[512];
    int out_fd = 1;
    rc = mwc_compose(&m, sink_fd, &out_fd, err, sizeof err);
    if (rc) fprintf(stderr, "mw-mime: build: %s\n", err);
out:
    for (size_t i = 0; i < natt; i++)
        free(types[i]);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage_error("", "a command is needed");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "show")) return cmd_show(argc, argv);
    if (!strcmp(cmd, "extract")) return cmd_extract(argc, argv);
    if (!strcmp(cmd, "cat")) return cmd_cat(argc, argv);
    if (!strcmp(cmd, "headers")) return cmd_headers(argc, argv);
    if (!strcmp(cmd, "build")) return cmd_build(argc, argv);
    return usage_error(cmd, ": unknown command");
}
