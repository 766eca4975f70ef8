/*
 * compose: a mail message from files and command-line values, written
 * with the mailwire MIME builder (see compose.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "compose.h"

#include <mailwire/codec.h>
#include <mailwire/mime.h>
#include <mailwire/rfc5322.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 65536
#define LINE_MAX_RFC 998 /* RFC 5322 §2.1.1 */

/* ---- small helpers --------------------------------------------------- */

typedef struct ctx {
    mw_mime_builder *b;
    mwc_sink sink;
    void *sink_ctx;
    char *err;
    size_t errcap;
    unsigned char *block; /* BLOCK bytes of file data */
} ctx;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(ctx *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->errcap) vsnprintf(c->err, c->errcap, fmt, ap);
    va_end(ap);
    return rc;
}

/* Send everything the builder has queued. */
static int drain(ctx *c)
{
    size_t len;
    const unsigned char *p;
    while ((p = mw_mime_builder_out_buf(c->b, &len)) != NULL && len) {
        if (c->sink(c->sink_ctx, p, len))
            return fail(c, MWC_IO, "write error: %s", strerror(errno));
        mw_mime_builder_out_ack(c->b, len);
    }
    return MWC_OK;
}

/* A builder call failed: word it. Queue-full never gets here (we drain first). */
static int builder_fail(ctx *c, int rc, const char *what)
{
    return fail(c, MWC_BAD_INPUT, "%s: %s", what, mw_strerror(rc));
}

static ssize_t read_some(int fd, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0 || errno != EINTR) return r;
    }
}

int mwc_random(void *buf, size_t n)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    unsigned char *p = buf;
    while (n) {
        ssize_t r = read_some(fd, p, n);
        if (r <= 0) {
            if (r == 0) errno = EIO;
            close(fd);
            return -1;
        }
        p += r, n -= (size_t)r;
    }
    close(fd);
    return 0;
}

int mwc_date_now(char *out, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    if (now == (time_t)-1 || !localtime_r(&now, &tm)) return -1;
    long zone = tm.tm_gmtoff / 60; /* _DEFAULT_SOURCE: BSD/glibc field */
    return mw_date_format((int64_t)now, (int)zone, out, cap) < 0 ? -1 : 0;
}

int mwc_msgid_new(const char *from, char *out, size_t cap)
{
    char domain[256] = "localhost";
    mw_addr_list list;
    if (from && mw_addr_list_parse(from, strlen(from), NULL, NULL, &list) == MW_OK) {
        for (size_t i = 0; i < list.count; i++) {
            const mw_addr *a = &list.items[i];
            if (a->kind == MW_ADDR_MAILBOX && a->domain.len && a->domain.len < sizeof domain) {
                memcpy(domain, a->domain.base, a->domain.len);
                domain[a->domain.len] = '\0';
                break;
            }
        }
        mw_addr_list_free(&list);
    }
    unsigned char rnd[16];
    if (mwc_random(rnd, sizeof rnd)) return -1;
    time_t now = time(NULL);
    mw_ssize n = mw_msgid_generate(rnd, sizeof rnd, (int64_t)now, domain, strlen(domain), out, cap);
    if (n < 0) /* a domain that is no dot-atom (e.g. UTF-8): fall back */
        n = mw_msgid_generate(rnd, sizeof rnd, (int64_t)now, "localhost", 9, out, cap);
    return n < 0 ? -1 : 0;
}

int mwc_open_seekable(const char *path)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    if (fd < 0) return -1;
    if (lseek(fd, 0, SEEK_CUR) >= 0) return fd == 0 ? dup(0) : fd;
    /* A pipe: spool it into an unlinked temporary file. */
    FILE *tmp = tmpfile();
    if (!tmp) return -1;
    int out = dup(fileno(tmp));
    fclose(tmp);
    if (out < 0) return -1;
    static unsigned char buf[BLOCK];
    for (;;) {
        ssize_t r = read_some(fd, buf, sizeof buf);
        if (r < 0) goto bad;
        if (r == 0) break;
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(out, buf + off, (size_t)(r - off));
            if (w < 0) {
                if (errno == EINTR) continue;
                goto bad;
            }
            off += w;
        }
    }
    if (fd != 0) close(fd);
    if (lseek(out, 0, SEEK_SET) < 0) goto bad;
    return out;
bad : {
    int e = errno;
    if (fd != 0) close(fd);
    close(out);
    errno = e;
    return -1;
}
}

/* ---- header values --------------------------------------------------- */

/* Append ", " (when out is not empty) and the re-formatted mailboxes of one
 * address list to the growing string *out. Display names become RFC 2047
 * words when needed (mw_addr_format). */
static int append_addresses(ctx *c, const char *field, const char *value, unsigned bflags,
                            char **out, size_t *len)
{
    mw_addr_list list;
    mw_addr_opts opts = {0, 0, MW_ADDR_STRICT};
    int rc = mw_addr_list_parse(value, strlen(value), &opts, NULL, &list);
    if (rc != MW_OK) return fail(c, MWC_BAD_INPUT, "%s: not an address list: %s", field, value);
    if (list.count == 0) {
        mw_addr_list_free(&list);
        return fail(c, MWC_BAD_INPUT, "%s: no address", field);
    }
    unsigned fflags = (bflags & MW_MIME_BUILD_SMTPUTF8) ? MW_ADDR_FMT_UTF8 : 0;
    for (size_t i = 0; i < list.count; i++) {
        const mw_addr *a = &list.items[i];
        if (a->kind != MW_ADDR_MAILBOX || a->group != (size_t)-1) {
            mw_addr_list_free(&list);
            return fail(c, MWC_BAD_INPUT, "%s: only plain mailboxes are supported (no groups)",
                        field);
        }
        size_t cap = mw_2047_encoded_max(a->display.len) + a->local.len * 2 + a->domain.len + 16;
        char *tmp = realloc(*out, *len + cap + 3);
        if (!tmp) {
            mw_addr_list_free(&list);
            return fail(c, MWC_BAD_INPUT, "%s: out of memory", field);
        }
        *out = tmp;
        if (*len) memcpy(*out + *len, ", ", 2), *len += 2;
        mw_ssize n = mw_addr_format(a->display.base, a->display.len, a->local.base, a->local.len,
                                    a->domain.base, a->domain.len, fflags, *out + *len, cap + 1);
        if (n < 0) {
            mw_addr_list_free(&list);
            return fail(c, MWC_BAD_INPUT, "%s: cannot write address: %s", field,
                        mw_strerror((int)n));
        }
        *len += (size_t)n;
    }
    mw_addr_list_free(&list);
    return MWC_OK;
}

static int put_header(ctx *c, const char *name, const char *value, size_t len, int text)
{
    int rc = drain(c);
    if (rc) return rc;
    rc = text ? mw_mime_builder_header_text(c->b, name, value, len)
              : mw_mime_builder_header(c->b, name, value, len);
    return rc == MW_OK ? MWC_OK : builder_fail(c, rc, name);
}

static int address_header(ctx *c, const char *name, const char *const *lists, size_t n,
                          unsigned bflags)
{
    char *val = NULL;
    size_t len = 0;
    int rc = MWC_OK;
    for (size_t i = 0; i < n && rc == MWC_OK; i++)
        rc = append_addresses(c, name, lists[i], bflags, &val, &len);
    if (rc == MWC_OK && len) rc = put_header(c, name, val, len, 0);
    free(val);
    return rc;
}

static int write_headers(ctx *c, const mwc_message *m)
{
    int rc;
    const char *from[1] = {m->from};
    if (!m->from) return fail(c, MWC_BAD_INPUT, "From: missing");
    if ((rc = address_header(c, "From", from, 1, m->builder_flags))) return rc;
    if ((rc = address_header(c, "To", m->to, m->nto, m->builder_flags))) return rc;
    if ((rc = address_header(c, "Cc", m->cc, m->ncc, m->builder_flags))) return rc;
    if (m->subject && (rc = put_header(c, "Subject", m->subject, strlen(m->subject), 1))) return rc;

    char date[64];
    if (m->date) {
        mw_date d;
        if (mw_date_parse(m->date, strlen(m->date), &d) != MW_OK)
            return fail(c, MWC_BAD_INPUT, "Date: not an RFC 5322 date-time: %s", m->date);
        snprintf(date, sizeof date, "%.63s", m->date);
    } else if (mwc_date_now(date, sizeof date)) {
        return fail(c, MWC_IO, "Date: cannot read the clock");
    }
    if ((rc = put_header(c, "Date", date, strlen(date), 0))) return rc;

    char id[1024];
    if (m->message_id) {
        size_t n = strlen(m->message_id);
        int bare = n && m->message_id[0] != '<';
        if (n + 3 > sizeof id) return fail(c, MWC_BAD_INPUT, "Message-ID: too long");
        snprintf(id, sizeof id, bare ? "<%s>" : "%s", m->message_id);
        mw_msgid_iter it;
        mw_msgid one;
        if (mw_msgid_iter_init(&it, id, strlen(id)) != MW_OK ||
            mw_msgid_iter_next(&it, &one) != 1 || mw_msgid_iter_next(&it, &one) != 0)
            return fail(c, MWC_BAD_INPUT, "Message-ID: not a msg-id: %s", m->message_id);
    } else if (mwc_msgid_new(m->from, id, sizeof id)) {
        return fail(c, MWC_IO, "Message-ID: no random bytes: %s", strerror(errno));
    }
    return put_header(c, "Message-ID", id, strlen(id), 0);
}

/* ---- bodies ---------------------------------------------------------- */

/* Choose the transfer encoding of a text file by streaming it through
 * mw_mime_choose_cte block by block (cut after a line end, so no CRLF is
 * split) and keeping the strongest choice; a line over 998 bytes anywhere
 * forces quoted-printable (RFC 5322 §2.1.1). The file is rewound. */
static int choose_text_cte(ctx *c, int fd, const char *path, int allow_8bit, int *cte)
{
    size_t have = 0, line = 0;
    int best = MW_MIME_CTE_7BIT, eof = 0;
    while (!eof || have) {
        if (!eof) {
            ssize_t r = read_some(fd, c->block + have, BLOCK - have);
            if (r < 0) return fail(c, MWC_IO, "%s: read error: %s", path, strerror(errno));
            eof = r == 0;
            have += (size_t)r;
        }
        size_t use = have;
        if (!eof) {
            const unsigned char *nl = NULL;
            for (size_t i = have; i > 0; i--)
                if (c->block[i - 1] == '\n') {
                    nl = c->block + i;
                    break;
                }
            if (nl)
                use = (size_t)(nl - c->block);
            else if (have < BLOCK)
                continue;
        }
        int k = mw_mime_choose_cte(c->block, use, 1, allow_8bit);
        if (k > best) best = k;
        for (size_t i = 0; i < use; i++) {
            if (c->block[i] == '\n')
                line = 0;
            else if (++line > LINE_MAX_RFC && best < MW_MIME_CTE_QP)
                best = MW_MIME_CTE_QP;
        }
        memmove(c->block, c->block + use, have - use);
        have -= use;
        if (eof && use == 0) break;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) return fail(c, MWC_IO, "%s: cannot rewind", path);
    *cte = best;
    return MWC_OK;
}

/* Copy a file into the current leaf, draining output whenever the
 * builder's queue is full. */
static int write_file(ctx *c, int fd, const char *path)
{
    for (;;) {
        ssize_t r = read_some(fd, c->block, BLOCK);
        if (r < 0) return fail(c, MWC_IO, "%s: read error: %s", path, strerror(errno));
        if (r == 0) return MWC_OK;
        size_t off = 0;
        while (off < (size_t)r) {
            mw_ssize w = mw_mime_builder_write(c->b, c->block + off, (size_t)r - off);
            if (w < 0) return builder_fail(c, (int)w, path);
            off += (size_t)w;
            int rc = drain(c);
            if (rc) return rc;
        }
    }
}

static int leaf_end(ctx *c)
{
    int rc = drain(c);
    if (rc) return rc;
    rc = mw_mime_builder_part_end(c->b);
    if (rc == MW_ERR_BUFFER) { /* the flushed encoder tail needs room */
        if ((rc = drain(c))) return rc;
        rc = mw_mime_builder_part_end(c->b);
    }
    return rc == MW_OK ? drain(c) : builder_fail(c, rc, "part end");
}

/* A text/plain or text/html part from a file (NULL path: empty body). */
static int text_part(ctx *c, const char *path, const char *type, unsigned bflags)
{
    int fd = -1, cte = MW_MIME_CTE_7BIT, rc;
    if (path) {
        fd = mwc_open_seekable(path);
        if (fd < 0) return fail(c, MWC_IO, "%s: %s", path, strerror(errno));
        rc = choose_text_cte(c, fd, path, (bflags & MW_MIME_BUILD_8BIT) != 0, &cte);
        if (rc) goto out;
    }
    if ((rc = drain(c))) goto out;
    int brc = mw_mime_builder_part_begin(c->b, type, "utf-8", cte, NULL, NULL, NULL, 0);
    if (brc != MW_OK) {
        rc = builder_fail(c, brc, type);
        goto out;
    }
    if (fd >= 0 && (rc = write_file(c, fd, path))) goto out;
    rc = leaf_end(c);
out:
    if (fd >= 0) close(fd);
    return rc;
}

static const char *guess_type(const char *name)
{
    static const char *const table[][2] = {
        {"txt", "text/plain"},      {"html", "text/html"},        {"htm", "text/html"},
        {"csv", "text/csv"},        {"pdf", "application/pdf"},   {"zip", "application/zip"},
        {"gz", "application/gzip"}, {"json", "application/json"}, {"xml", "application/xml"},
        {"png", "image/png"},       {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},       {"svg", "image/svg+xml"},     {"ics", "text/calendar"},
        {"mp3", "audio/mpeg"},      {"mp4", "video/mp4"},         {"doc", "application/msword"},
    };
    const char *dot = strrchr(name, '.');
    if (dot && dot != name)
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (!strcasecmp(dot + 1, table[i][0])) return table[i][1];
    return "application/octet-stream";
}

static int attachment_part(ctx *c, const mwc_attachment *a)
{
    const char *name = a->name;
    if (!name) {
        const char *slash = strrchr(a->path, '/');
        name = slash ? slash + 1 : a->path;
    }
    if (!*name) return fail(c, MWC_BAD_INPUT, "%s: no file name", a->path);
    const char *type = a->type ? a->type : guess_type(name);
    int fd = strcmp(a->path, "-") ? open(a->path, O_RDONLY | O_CLOEXEC) : dup(0);
    if (fd < 0) return fail(c, MWC_IO, "%s: %s", a->path, strerror(errno));
    int rc = drain(c);
    if (rc == MWC_OK) {
        /* base64 always: the file comes back byte-exact whatever it holds */
        int brc = mw_mime_builder_part_begin(c->b, type, NULL, MW_MIME_CTE_BASE64, "attachment",
                                             name, NULL, 0);
        if (brc != MW_OK) rc = builder_fail(c, brc, a->path);
    }
    if (rc == MWC_OK) rc = write_file(c, fd, a->path);
    if (rc == MWC_OK) rc = leaf_end(c);
    close(fd);
    return rc;
}

static int multipart_begin(ctx *c, const char *sub, const char *prefix, int n)
{
    char bnd[96];
    snprintf(bnd, sizeof bnd, "%s.%d", prefix, n);
    int rc = drain(c);
    if (rc) return rc;
    rc = mw_mime_builder_multipart_begin(c->b, sub, bnd, NULL);
    return rc == MW_OK ? MWC_OK : builder_fail(c, rc, "boundary");
}

static int multipart_end(ctx *c)
{
    int rc = drain(c);
    if (rc) return rc;
    rc = mw_mime_builder_multipart_end(c->b);
    return rc == MW_OK ? MWC_OK : builder_fail(c, rc, "multipart end");
}

static int compose_body(ctx *c, const mwc_message *m)
{
    char prefix[80];
    if (m->boundary) {
        snprintf(prefix, sizeof prefix, "%.60s", m->boundary);
    } else {
        unsigned char rnd[12];
        if (mwc_random(rnd, sizeof rnd))
            return fail(c, MWC_IO, "no random bytes: %s", strerror(errno));
        /* "=_" can occur neither in base64 nor in quoted-printable output */
        int n = snprintf(prefix, sizeof prefix, "=_mw");
        for (size_t i = 0; i < sizeof rnd; i++)
            n += snprintf(prefix + n, sizeof prefix - (size_t)n, "%02x", rnd[i]);
    }
    int rc;
    if (m->nattach && (rc = multipart_begin(c, "mixed", prefix, 1))) return rc;
    int alt = m->text_path && m->html_path;
    if (alt && (rc = multipart_begin(c, "alternative", prefix, 2))) return rc;
    if ((m->text_path || !m->html_path) &&
        (rc = text_part(c, m->text_path, "text/plain", m->builder_flags)))
        return rc;
    if (m->html_path && (rc = text_part(c, m->html_path, "text/html", m->builder_flags))) return rc;
    if (alt && (rc = multipart_end(c))) return rc;
    for (size_t i = 0; i < m->nattach; i++)
        if ((rc = attachment_part(c, &m->attach[i]))) return rc;
    if (m->nattach && (rc = multipart_end(c))) return rc;
    rc = mw_mime_builder_finish(c->b);
    if (rc != MW_OK) return builder_fail(c, rc, "finish");
    return drain(c);
}

int mwc_compose(const mwc_message *m, mwc_sink sink, void *sink_ctx, char *err, size_t errcap)
{
    ctx c = {NULL, sink, sink_ctx, err, errcap, NULL};
    if (errcap) err[0] = '\0';
    c.b = mw_mime_builder_new(NULL, m->builder_flags, 0);
    c.block = malloc(BLOCK);
    int rc;
    if (!c.b || !c.block)
        rc = fail(&c, MWC_IO, "out of memory");
    else if ((rc = write_headers(&c, m)) == MWC_OK)
        rc = compose_body(&c, m);
    free(c.block);
    mw_mime_builder_free(c.b);
    return rc;
}
