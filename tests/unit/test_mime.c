/*
 * MIME parser: RFC 2046 / 2231 examples, nesting, broken mail with the
 * exact defects expected, split-invariance, zero-copy input, allocation
 * failures.
 *
 * Every parse is turned into a text log (one line per event; consecutive
 * BODY / PREAMBLE / EPILOGUE chunks of one entity are joined), so a test
 * compares a whole run with one string and split-invariance is a string
 * comparison.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <iconv.h>

#include <mailwire/mime.h>

#include <stdarg.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- log ------------------------------------------------------------ */

typedef struct logbuf {
    char *s;
    size_t len, cap;
    int run_type;      /* event type of the open data run, 0 when none */
    char run_path[64]; /* path of the open run */
    int failed_alloc;
    struct logbuf *defects; /* DEFECT lines go here, appended at the end */
} logbuf;

static void lb_put(logbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->failed_alloc = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void lb_str(logbuf *b, const char *s)
{
    lb_put(b, s, strlen(s));
}

static void lb_slice(logbuf *b, mw_slice sl)
{
    for (size_t i = 0; i < sl.len; i++) {
        unsigned char c = (unsigned char)sl.base[i];
        char tmp[8];
        if (c == '\r')
            lb_str(b, "\\r");
        else if (c == '\n')
            lb_str(b, "\\n");
        else if (c == '\\')
            lb_str(b, "\\\\");
        else if (c < 32 || c >= 127) {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            lb_str(b, tmp);
        } else
            lb_put(b, (const char *)&c, 1);
    }
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void lb_fmt(logbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) lb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void close_run(logbuf *b)
{
    if (b->run_type) lb_str(b, "]\n");
    b->run_type = 0;
}

static const char *type_tag(int t)
{
    switch (t) {
    case MW_MIME_BODY:
        return "BODY";
    case MW_MIME_PREAMBLE:
        return "PRE";
    default:
        return "EPI";
    }
}

static void log_event(logbuf *b, const mw_mime_event *ev)
{
    char path[64];
    size_t pl = ev->path.len < sizeof path - 1 ? ev->path.len : sizeof path - 1;
    memcpy(path, ev->path.base, pl);
    path[pl] = '\0';
    if (ev->type == MW_MIME_BODY || ev->type == MW_MIME_PREAMBLE || ev->type == MW_MIME_EPILOGUE) {
        if (b->run_type != ev->type || strcmp(b->run_path, path) != 0) {
            close_run(b);
            lb_fmt(b, "%s %s [", type_tag(ev->type), path);
            b->run_type = ev->type;
            memcpy(b->run_path, path, pl + 1);
        }
        lb_slice(b, ev->data);
        return;
    }
    if (ev->type == MW_MIME_DEFECT) {
        /* Defects are listed after the events: where they fall between
         * body chunks depends on how the input was cut, their offsets
         * do not. */
        lb_fmt(b->defects, "DEFECT %s %d @%llu\n", path, ev->defect,
               (unsigned long long)ev->offset);
        return;
    }
    close_run(b);
    switch (ev->type) {
    case MW_MIME_HEADER:
        lb_fmt(b, "H %s ", path);
        lb_slice(b, ev->name);
        lb_str(b, ": ");
        lb_slice(b, ev->unfolded);
        lb_str(b, "\n");
        break;
    case MW_MIME_PART_BEGIN:
        lb_fmt(b, "BEGIN %s d%u #%u k%d ", path, ev->depth, (unsigned)ev->part, ev->kind);
        lb_slice(b, ev->media_type);
        lb_str(b, "/");
        lb_slice(b, ev->subtype);
        lb_fmt(b, " cte%d", ev->cte);
        if (ev->charset.len) {
            lb_str(b, " cs=");
            lb_slice(b, ev->charset);
        }
        if (ev->boundary.len) {
            lb_str(b, " bd=");
            lb_slice(b, ev->boundary);
        }
        if (ev->disposition.len) {
            lb_str(b, " disp=");
            lb_slice(b, ev->disposition);
        }
        if (ev->filename.len) {
            lb_str(b, " fn=");
            lb_slice(b, ev->filename);
        }
        for (size_t i = 0; i < ev->nparams; i++) {
            lb_str(b, " ");
            lb_slice(b, ev->params[i].name);
            lb_str(b, "=");
            lb_slice(b, ev->params[i].value);
        }
        for (size_t i = 0; i < ev->ndisp_params; i++) {
            lb_str(b, " ;");
            lb_slice(b, ev->disp_params[i].name);
            lb_str(b, "=");
            lb_slice(b, ev->disp_params[i].value);
            if (ev->disp_params[i].charset.len) {
                lb_str(b, "{");
                lb_slice(b, ev->disp_params[i].charset);
                lb_str(b, "'");
                lb_slice(b, ev->disp_params[i].language);
                lb_str(b, "}");
            }
        }
        lb_str(b, "\n");
        break;
    case MW_MIME_PART_END:
        lb_fmt(b, "END %s\n", path);
        break;
    case MW_MIME_MESSAGE_END:
        lb_str(b, "MEND\n");
        break;
    case MW_MIME_DEFECT:
        break;
    default:
        lb_fmt(b, "?? %d\n", ev->type);
        break;
    }
}

/* ---- driver --------------------------------------------------------- */

#define CHUNK_RANDOM ((size_t)-1)

typedef struct run_cfg {
    size_t chunk;  /* 0: whole input at once; CHUNK_RANDOM: random cuts */
    int zero_copy; /* use recv_buf/recv_ack */
    uint64_t seed;
    const mw_mime_options *opt;
    const mw_mem *mem;
    uint64_t body_bytes; /* out: raw BODY+PREAMBLE+EPILOGUE bytes */
    int rc;              /* out: last error, 0 when clean */
} run_cfg;

static int drain(mw_mime_parser *p, logbuf *b, run_cfg *cfg, int *ended)
{
    mw_mime_event ev;
    for (;;) {
        int rc = mw_mime_next(p, &ev);
        if (rc <= 0) return rc;
        if (ev.type != rc) return -999;
        if (rc == MW_MIME_BODY || rc == MW_MIME_PREAMBLE || rc == MW_MIME_EPILOGUE)
            cfg->body_bytes += ev.data.len;
        log_event(b, &ev);
        if (rc == MW_MIME_MESSAGE_END) {
            *ended = 1;
            return 0;
        }
    }
}

static char *parse_log(const void *msg, size_t len, run_cfg *cfg)
{
    logbuf b = {0}, defects = {0};
    b.defects = &defects;
    cfg->rc = 0;
    cfg->body_bytes = 0;
    mw_mime_parser *p = mw_mime_parser_new(cfg->mem, cfg->opt);
    if (!p) {
        cfg->rc = MW_ERR_NOMEM;
        return NULL;
    }
    const unsigned char *in = msg;
    size_t off = 0;
    int ended = 0, rc = 0;
    uint64_t rs = cfg->seed;
    while (off < len && rc == 0) {
        size_t n = len - off;
        if (cfg->chunk == CHUNK_RANDOM)
            n = 1 + (size_t)(mw_test_rand(&rs) % 40);
        else if (cfg->chunk)
            n = cfg->chunk;
        if (n > len - off) n = len - off;
        mw_ssize took;
        if (cfg->zero_copy) {
            unsigned char *buf;
            size_t room;
            rc = mw_mime_recv_buf(p, &buf, &room);
            if (rc) break;
            if (n > room) n = room;
            memcpy(buf, in + off, n);
            rc = mw_mime_recv_ack(p, n);
            took = (mw_ssize)n;
        } else {
            took = mw_mime_feed(p, in + off, n);
            if (took < 0) rc = (int)took;
        }
        if (rc) break;
        off += (size_t)took;
        rc = drain(p, &b, cfg, &ended);
        if (took == 0 && rc == 0 && !ended) {
            rc = -998; /* stuck: buffer full and no progress */
        }
    }
    if (rc == 0) {
        mw_mime_eof(p);
        rc = drain(p, &b, cfg, &ended);
        if (rc == 0 && !ended) rc = -997;
        if (rc == 0) {
            mw_mime_event ev;
            if (mw_mime_next(p, &ev) != MW_ERR_CLOSED) rc = -996;
        }
    }
    close_run(&b);
    mw_mime_parser_free(p);
    cfg->rc = rc;
    if (defects.s) lb_str(&b, defects.s);
    free(defects.s);
    if (b.failed_alloc || defects.failed_alloc) {
        free(b.s);
        return NULL;
    }
    if (!b.s) lb_str(&b, "");
    return b.s;
}

static char *parse_simple(const char *msg, const mw_mime_options *opt)
{
    run_cfg cfg = {0};
    cfg.opt = opt;
    char *s = parse_log(msg, strlen(msg), &cfg);
    CHECK_INT(cfg.rc, 0);
    return s;
}

static char *read_vector(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/mime/%s", MW_TEST_VECTORS_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        mw_test_fail(__FILE__, __LINE__, "cannot open %s", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

#define CHECK_LOG(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got) ? (got) : "(null)";                                                 \
        if (strcmp(g_, (want)) != 0) {                                                             \
            mw_test_fail(__FILE__, __LINE__, "log differs");                                       \
            fprintf(stderr, "--- got:\n%s--- expected:\n%s---\n", g_, (want));                     \
        }                                                                                          \
    } while (0)

/* Parse a vector whole, compare with want, then check every split. */
static void check_vector_splits(const char *msg, size_t len, const mw_mime_options *opt,
                                const char *want)
{
    run_cfg cfg = {0};
    cfg.opt = opt;
    char *whole = parse_log(msg, len, &cfg);
    CHECK_INT(cfg.rc, 0);
    if (want) CHECK_LOG(whole, want);
    uint64_t body = cfg.body_bytes;
    CHECK(body <= len);
    for (int zc = 0; zc <= 1; zc++) {
        for (size_t chunk = 1; chunk <= 9; chunk++) {
            run_cfg c = {0};
            c.opt = opt;
            c.zero_copy = zc;
            c.chunk = chunk == 9 ? CHUNK_RANDOM : chunk;
            c.seed = 0x1234 + chunk;
            char *s = parse_log(msg, len, &c);
            CHECK_INT(c.rc, 0);
            if (!s || !whole || strcmp(s, whole) != 0) {
                mw_test_fail(__FILE__, __LINE__, "split-invariance: chunk %zu zc %d differs", chunk,
                             zc);
                if (s && whole) fprintf(stderr, "--- chunked:\n%s--- whole:\n%s", s, whole);
            }
            CHECK_INT(c.body_bytes, body);
            free(s);
        }
    }
    free(whole);
}

static void check_msg(const char *msg, const mw_mime_options *opt, const char *want)
{
    check_vector_splits(msg, strlen(msg), opt, want);
}

/* A file of tests/vectors/mime/ parsed with opt: the trace holds each of
 * want (NULL-terminated), and the input cut anywhere gives the same trace. */
static void check_vector_has(const char *name, const mw_mime_options *opt, const char *const *want)
{
    size_t len;
    char *msg = read_vector(name, &len);
    if (!msg) return;
    run_cfg cfg = {0};
    cfg.opt = opt;
    char *s = parse_log(msg, len, &cfg);
    for (; *want; want++)
        if (!s || !strstr(s, *want)) mw_test_fail(__FILE__, __LINE__, "%s: no %s", name, *want);
    free(s);
    check_vector_splits(msg, len, opt, NULL);
    free(msg);
}

/* A file of tests/vectors/mime/ parsed with default options. */
static void check_vector_file(const char *name, const char *want)
{
    size_t len;
    char *msg = read_vector(name, &len);
    if (!msg) return;
    check_vector_splits(msg, len, NULL, want);
    free(msg);
}

/* ---- tests ---------------------------------------------------------- */

static void test_rfc2046_example(void)
{
    check_vector_file(
        "rfc2046-simple.eml",
        "H  From: Nathaniel Borenstein <nsb@bellcore.com>\n"
        "H  To: Ned Freed <ned@innosoft.com>\n"
        "H  Date: Sun, 21 Mar 1993 23:56:48 -0800 (PST)\n"
        "H  Subject: Sample message\n"
        "H  MIME-Version: 1.0\n"
        "H  Content-type: multipart/mixed; boundary=\"simple boundary\"\n"
        "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=simple boundary boundary=simple boundary\n"
        "PRE  [This is the preamble.  It is to be ignored, though it\\r\\nis a handy place for "
        "composition agents to include an\\r\\nexplanatory note to non-MIME conformant "
        "readers.\\r\\n]\n"
        "BEGIN 1 d1 #1 k1 text/plain cte0 cs=us-ascii\n"
        "BODY 1 [This is implicitly typed plain US-ASCII text.\\r\\nIt does NOT end with a "
        "linebreak.]\n"
        "END 1\n"
        "H 2 Content-type: text/plain; charset=us-ascii\n"
        "BEGIN 2 d1 #2 k1 text/plain cte0 cs=us-ascii charset=us-ascii\n"
        "BODY 2 [This is explicitly typed plain US-ASCII text.\\r\\nIt DOES end with a "
        "linebreak.\\r\\n]\n"
        "END 2\n"
        "EPI  [\\r\\nThis is the epilogue.  It is also to be ignored.\\r\\n]\n"
        "END \n"
        "MEND\n");
}

static void test_nested(void)
{
    check_vector_file(
        "nested.eml",
        "H  From: a@example.org\n"
        "H  Subject: nested and folded\n"
        "H  MIME-Version: 1.0\n"
        "H  Content-Type: multipart/mixed; boundary=outer\n"
        "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=outer boundary=outer\n"
        "H 1 Content-Type: multipart/alternative; boundary=\"inner\"\n"
        "BEGIN 1 d1 #1 k2 multipart/alternative cte0 bd=inner boundary=inner\n"
        "H 1.1 Content-Type: text/plain; charset=UTF-8\n"
        "H 1.1 Content-Transfer-Encoding: quoted-printable\n"
        "BEGIN 1.1 d2 #2 k1 text/plain cte3 cs=utf-8 charset=UTF-8\n"
        "BODY 1.1 [caf=C3=A9]\n"
        "END 1.1\n"
        "H 1.2 Content-Type: text/html; charset=\"iso-8859-1\"\n"
        "BEGIN 1.2 d2 #3 k1 text/html cte0 cs=iso-8859-1 charset=iso-8859-1\n"
        "BODY 1.2 [<p>cafe</p>]\n"
        "END 1.2\n"
        "END 1\n"
        "H 2 Content-Type: message/rfc822\n"
        "H 2 Content-Disposition: inline\n"
        "BEGIN 2 d1 #4 k3 message/rfc822 cte0 disp=inline\n"
        "H 2.1 From: b@example.org\n"
        "H 2.1 Subject: fwd\n"
        "H 2.1 Content-Type: multipart/mixed; boundary=fwd\n"
        "BEGIN 2.1 d2 #5 k2 multipart/mixed cte0 bd=fwd boundary=fwd\n"
        "H 2.1.1 Content-Type: application/octet-stream; name=\"a.bin\"\n"
        "H 2.1.1 Content-Transfer-Encoding: base64\n"
        "H 2.1.1 Content-Disposition: attachment; filename=\"a.bin\"\n"
        "BEGIN 2.1.1 d3 #6 k1 application/octet-stream cte4 disp=attachment fn=a.bin name=a.bin "
        ";filename=a.bin\n"
        "BODY 2.1.1 [AAECAwQF]\n"
        "END 2.1.1\n"
        "END 2.1\n"
        "END 2\n"
        "END \n"
        "MEND\n");
}

static void test_rfc2231(void)
{
    check_vector_file(
        "rfc2231.eml",
        "H  Subject: 2231\n"
        "H  MIME-Version: 1.0\n"
        "H  Content-Type: application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; "
        "title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"\n"
        "H  Content-Disposition: attachment; filename*=iso-8859-1'fr'r%E9sum%E9.txt; size=42\n"
        "BEGIN  d0 #0 k1 application/x-stuff cte0 disp=attachment fn=r\\xc3\\xa9sum\\xc3\\xa9.txt "
        "title=This is even more ***fun*** isn't it! "
        ";filename=r\\xc3\\xa9sum\\xc3\\xa9.txt{iso-8859-1'fr} "
        ";size=42\n"
        "BODY  [body\\r\\n]\n"
        "END \n"
        "MEND\n");
}

static void test_rfc2231_params(void)
{
    /* RFC 2231 §3 (continuations) and §4 (charset and language). */
    char *s = parse_simple(
        "Content-Type: message/external-body; access-type=URL;\r\n"
        " URL*0=\"ftp://\";\r\n URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"\r\n"
        "\r\n",
        NULL);
    CHECK(s && strstr(s, " url=ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\n"));
    CHECK(s && strstr(s, " access-type=URL "));
    free(s);
    s = parse_simple("Content-Type: application/x-stuff;\r\n "
                     "title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A\r\n\r\n",
                     NULL);
    CHECK(s && strstr(s, " title=This is ***fun***\n"));
    free(s);
    /* Segments out of order are joined in order; a gap is a defect. */
    s = parse_simple("Content-Type: text/plain; a*1=\"B\"; a*0=\"A\"; a*3=\"D\"\r\n\r\n", NULL);
    CHECK(s && strstr(s, " a=AB\n"));
    CHECK(s && strstr(s, "DEFECT  15 @"));
    free(s);
    /* The RFC 2231 form wins over a plain fallback (Outlook writes both). */
    s = parse_simple("Content-Disposition: attachment; filename=\"fallback.txt\";\r\n "
                     "filename*=UTF-8''real%20name.txt\r\n\r\n",
                     NULL);
    CHECK(s && strstr(s, " fn=real name.txt "));
    free(s);
    /* Unquoted value with spaces (broken mailers), comments, odd case. */
    s = parse_simple("Content-Type: Text/PLAIN (comment) ; CharSet=ISO-8859-1 (latin) ; name=my "
                     "file.txt\r\n\r\n",
                     NULL);
    CHECK(s && strstr(s, "k1 text/plain cte0 cs=iso-8859-1 fn=my file.txt charset=ISO-8859-1 "
                         "name=my file.txt\n"));
    free(s);
}

static void test_simple_leaf(void)
{
    check_msg("Subject: hi\r\nX-Folded: a\r\n\tb\r\n  c\r\n\r\nline1\r\nline2\r\n", NULL,
              "H  Subject: hi\n"
              "H  X-Folded: a\\x09b  c\n"
              "BEGIN  d0 #0 k1 text/plain cte0 cs=us-ascii\n"
              "BODY  [line1\\r\\nline2\\r\\n]\n"
              "END \n"
              "MEND\n");
    /* Raw value keeps the folding. */
    mw_mime_parser *p = mw_mime_parser_new(NULL, NULL);
    const char *m = "X-F: a\r\n b\r\n\r\n";
    CHECK_INT(mw_mime_feed(p, m, strlen(m)), (long long)strlen(m));
    mw_mime_event ev;
    CHECK_INT(mw_mime_next(p, &ev), MW_MIME_HEADER);
    CHECK_STR(ev.value.base, ev.value.len, "a\r\n b");
    CHECK_STR(ev.unfolded.base, ev.unfolded.len, "a b");
    CHECK_STR(ev.name.base, ev.name.len, "X-F");
    CHECK_INT(ev.offset, 0);
    CHECK_INT(mw_mime_next(p, &ev), MW_MIME_PART_BEGIN);
    CHECK_INT(mw_mime_next(p, &ev), 0);
    CHECK_INT(mw_mime_eof(p), MW_OK);
    CHECK_INT(mw_mime_feed(p, "x", 1), MW_ERR_STATE);
    CHECK_INT(mw_mime_next(p, &ev), MW_MIME_PART_END);
    CHECK_INT(mw_mime_next(p, &ev), MW_MIME_MESSAGE_END);
    CHECK_INT(mw_mime_next(p, &ev), MW_ERR_CLOSED);
    mw_mime_parser_free(p);
}

static void test_digest_defaults(void)
{
    check_vector_file("digest.eml", "H  Content-Type: multipart/digest; boundary=d\n"
                                    "BEGIN  d0 #0 k2 multipart/digest cte0 bd=d boundary=d\n"
                                    "BEGIN 1 d1 #1 k3 message/rfc822 cte0\n"
                                    "H 1.1 Subject: first\n"
                                    "BEGIN 1.1 d2 #2 k1 text/plain cte0 cs=us-ascii\n"
                                    "BODY 1.1 [one]\n"
                                    "END 1.1\n"
                                    "END 1\n"
                                    "H 2 Content-Type: text/plain\n"
                                    "BEGIN 2 d1 #3 k1 text/plain cte0 cs=us-ascii\n"
                                    "BODY 2 [two]\n"
                                    "END 2\n"
                                    "END \n"
                                    "MEND\n");
}

static void test_lf_only(void)
{
    check_vector_file("lf-only.eml", "H  Subject: lf\n"
                                     "H  Content-Type: multipart/mixed; boundary=b\n"
                                     "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=b boundary=b\n"
                                     "PRE  [pre]\n"
                                     "H 1 Content-Type: text/plain\n"
                                     "BEGIN 1 d1 #1 k1 text/plain cte0 cs=us-ascii\n"
                                     "BODY 1 [one\\ntwo]\n"
                                     "END 1\n"
                                     "EPI  [epi\\n]\n"
                                     "END \n"
                                     "MEND\n"
                                     "DEFECT  6 @0\n");
}

static void test_missing_close(void)
{
    check_msg("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nbody\r\n", NULL,
              "H  Content-Type: multipart/mixed; boundary=b\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=b boundary=b\n"
              "BEGIN 1 d1 #1 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 1 [body\\r\\n]\n"
              "END 1\n"
              "END \n"
              "MEND\n"
              "DEFECT  1 @58\n");
    /* An outer delimiter closes an unterminated inner multipart. */
    check_msg("Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
              "Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\nx\r\n"
              "--o\r\n\r\ny\r\n--o--\r\n",
              NULL,
              "H  Content-Type: multipart/mixed; boundary=o\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=o boundary=o\n"
              "H 1 Content-Type: multipart/alternative; boundary=i\n"
              "BEGIN 1 d1 #1 k2 multipart/alternative cte0 bd=i boundary=i\n"
              "BEGIN 1.1 d2 #2 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 1.1 [x]\n"
              "END 1.1\n"
              "END 1\n"
              "BEGIN 2 d1 #3 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 2 [y]\n"
              "END 2\n"
              "END \n"
              "MEND\n"
              "DEFECT 1 1 @111\n");
}

static void test_forward_cut_short(void)
{
    /* The forwarded message's multipart never closes: the outer delimiter
     * ends it (one defect, for 2.1), then the message part, then part 2. */
    check_msg("Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
              "Content-Type: message/rfc822\r\n\r\n"
              "Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\nx\r\n"
              "--o\r\n\r\ny\r\n--o--\r\n",
              NULL,
              "H  Content-Type: multipart/mixed; boundary=o\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=o boundary=o\n"
              "H 1 Content-Type: message/rfc822\n"
              "BEGIN 1 d1 #1 k3 message/rfc822 cte0\n"
              "H 1.1 Content-Type: multipart/alternative; boundary=i\n"
              "BEGIN 1.1 d2 #2 k2 multipart/alternative cte0 bd=i boundary=i\n"
              "BEGIN 1.1.1 d3 #3 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 1.1.1 [x]\n"
              "END 1.1.1\n"
              "END 1.1\n"
              "END 1\n"
              "BEGIN 2 d1 #4 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 2 [y]\n"
              "END 2\n"
              "END \n"
              "MEND\n"
              "DEFECT 1.1 1 @143\n");
}

static void test_empty_mime_fields(void)
{
    char *s = parse_simple(
        "Content-Type:\r\nContent-Transfer-Encoding:\r\nContent-Disposition:\r\n\r\nx", NULL);
    CHECK(s && strstr(s, "BEGIN  d0 #0 k1 text/plain cte5 cs=us-ascii\n"));
    CHECK(s && strstr(s, "DEFECT  14 @"));
    CHECK(s && strstr(s, "DEFECT  4 @"));
    free(s);
}

static void test_missing_boundary(void)
{
    check_msg("Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n", NULL,
              "H  Content-Type: multipart/mixed\n"
              "BEGIN  d0 #0 k1 multipart/mixed cte0\n"
              "BODY  [--b\\r\\n\\r\\nx\\r\\n--b--\\r\\n]\n"
              "END \n"
              "MEND\n"
              "DEFECT  2 @33\n");
}

static void test_boundary_in_base64(void)
{
    check_msg("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--c\r\nREVG\r\n--b--\r\n",
              NULL,
              "H  Content-Type: multipart/mixed; boundary=b\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=b boundary=b\n"
              "H 1 Content-Transfer-Encoding: base64\n"
              "BEGIN 1 d1 #1 k1 text/plain cte4 cs=us-ascii\n"
              "BODY 1 [QUJD\\r\\n--c\\r\\nREVG]\n"
              "END 1\n"
              "END \n"
              "MEND\n"
              "DEFECT 1 3 @93\n");
}

static void test_bad_cte(void)
{
    check_msg("Content-Transfer-Encoding: x-weird\r\n\r\nabc", NULL,
              "H  Content-Transfer-Encoding: x-weird\n"
              "BEGIN  d0 #0 k1 text/plain cte5 cs=us-ascii\n"
              "BODY  [abc]\n"
              "END \n"
              "MEND\n"
              "DEFECT  4 @38\n");
    /* Encoding on a multipart: ignored, reported. */
    char *s = parse_simple("Content-Type: multipart/mixed; "
                           "boundary=b\r\nContent-Transfer-Encoding: base64\r\n\r\n--b--\r\n",
                           NULL);
    CHECK(s && strstr(s, "k2 multipart/mixed cte4"));
    CHECK(s && strstr(s, "DEFECT  4 @"));
    free(s);
}

static void test_8bit_and_long_header(void)
{
    char msg[1200];
    strcpy(msg, "Subject: caf\xc3\xa9\r\nX-Long: ");
    size_t n = strlen(msg);
    memset(msg + n, 'a', 1000);
    strcpy(msg + n + 1000, "\r\nX-Other: \xff\r\n\r\n");
    char *s = parse_simple(msg, NULL);
    CHECK(s && strstr(s, "DEFECT  5 @12\n"));
    CHECK(s && strstr(s, "DEFECT  7 @"));
    /* 8-bit defect once per entity */
    const char *first = s ? strstr(s, "DEFECT  5") : NULL;
    CHECK(first && !strstr(first + 1, "DEFECT  5"));
    free(s);
}

static void test_unterminated_headers(void)
{
    check_msg("Subject: x\r\nFrom: y", NULL,
              "H  Subject: x\n"
              "H  From: y\n"
              "BEGIN  d0 #0 k1 text/plain cte0 cs=us-ascii\n"
              "END \n"
              "MEND\n"
              "DEFECT  12 @19\n");
    /* A part whose headers are cut by the next delimiter. */
    check_msg("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nSubject: x\r\n--b--\r\n",
              NULL,
              "H  Content-Type: multipart/mixed; boundary=b\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=b boundary=b\n"
              "H 1 Subject: x\n"
              "BEGIN 1 d1 #1 k1 text/plain cte0 cs=us-ascii\n"
              "END 1\n"
              "END \n"
              "MEND\n"
              "DEFECT 1 12 @62\n");
}

static void test_bad_header_line(void)
{
    check_msg("Subject: x\r\nthis is not a header\r\nmore\r\n", NULL,
              "H  Subject: x\n"
              "BEGIN  d0 #0 k1 text/plain cte0 cs=us-ascii\n"
              "BODY  [this is not a header\\r\\nmore\\r\\n]\n"
              "END \n"
              "MEND\n"
              "DEFECT  13 @12\n");
}

static void test_limits(void)
{
    mw_mime_options *o = mw_mime_options_new(NULL);
    CHECK(o != NULL);
    CHECK_INT(mw_mime_options_set_limit(o, MW_MIME_LIMIT_PARTS, 3), MW_OK);
    /* Root + 2 parts fit; the third delimiter turns the rest into body. */
    check_msg("Content-Type: multipart/mixed; "
              "boundary=b\r\n\r\n--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b\r\n\r\n3\r\n--b--\r\n",
              o,
              "H  Content-Type: multipart/mixed; boundary=b\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=b boundary=b\n"
              "BEGIN 1 d1 #1 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 1 [1]\n"
              "END 1\n"
              "BEGIN 2 d1 #2 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 2 [2\\r\\n--b\\r\\n\\r\\n3\\r\\n--b--\\r\\n]\n"
              "END 2\n"
              "END \n"
              "MEND\n"
              "DEFECT 2 8 @65\n");
    mw_mime_options_free(o);

    o = mw_mime_options_new(NULL);
    CHECK_INT(mw_mime_options_set_limit(o, MW_MIME_LIMIT_DEPTH, 1), MW_OK);
    check_msg("Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
              "Content-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\nx\r\n--i--\r\n--o--\r\n",
              o,
              "H  Content-Type: multipart/mixed; boundary=o\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=o boundary=o\n"
              "H 1 Content-Type: multipart/mixed; boundary=i\n"
              "BEGIN 1 d1 #1 k1 multipart/mixed cte0 boundary=i\n"
              "BODY 1 [--i\\r\\n\\r\\nx\\r\\n--i--]\n"
              "END 1\n"
              "END \n"
              "MEND\n"
              "DEFECT 1 9 @95\n");
    mw_mime_options_free(o);

    o = mw_mime_options_new(NULL);
    CHECK_INT(mw_mime_options_set_limit(o, MW_MIME_LIMIT_PARAMS, 2), MW_OK);
    char *s = parse_simple("Content-Type: text/plain; a=1; b=2; c=3\r\n\r\n", o);
    CHECK(s && strstr(s, "cs=us-ascii a=1 b=2\n"));
    CHECK(s && strstr(s, "DEFECT  10 @"));
    free(s);
    mw_mime_options_free(o);

    o = mw_mime_options_new(NULL);
    CHECK_INT(mw_mime_options_set_limit(o, MW_MIME_LIMIT_SEGMENTS, 2), MW_OK);
    s = parse_simple("Content-Type: text/plain; a*0=x; a*1=y; a*2=z\r\n\r\n", o);
    CHECK(s && strstr(s, " a=xy\n"));
    CHECK(s && strstr(s, "DEFECT  10 @"));
    free(s);
    mw_mime_options_free(o);

    o = mw_mime_options_new(NULL);
    CHECK_INT(mw_mime_options_set_limit(o, MW_MIME_LIMIT_HEADER_FIELDS, 2), MW_OK);
    check_msg("A: 1\r\nB: 2\r\nC: 3\r\n\r\nx", o,
              "H  A: 1\n"
              "H  B: 2\n"
              "BEGIN  d0 #0 k1 text/plain cte0 cs=us-ascii\n"
              "BODY  [C: 3\\r\\n\\r\\nx]\n"
              "END \n"
              "MEND\n"
              "DEFECT  11 @12\n");
    mw_mime_options_free(o);

    o = mw_mime_options_new(NULL);
    CHECK_INT(mw_mime_options_set_limit(o, MW_MIME_LIMIT_HEADER_BYTES, 20), MW_OK);
    check_msg("A: 1\r\nB: 0123456789abcdef\r\n\r\nx", o,
              "H  A: 1\n"
              "BEGIN  d0 #0 k1 text/plain cte0 cs=us-ascii\n"
              "BODY  [B: 0123456789abcdef\\r\\n\\r\\nx]\n"
              "END \n"
              "MEND\n"
              "DEFECT  11 @6\n");
    CHECK_INT(mw_mime_options_set_limit(o, 99, 5), MW_ERR_INVALID);
    CHECK_INT(mw_mime_options_set_limit(o, MW_MIME_LIMIT_BUFFER, 100), MW_ERR_INVALID);
    CHECK_INT(mw_mime_options_set_limit(o, MW_MIME_LIMIT_LINE, 10), MW_ERR_INVALID);
    CHECK_INT(mw_mime_options_set_limit(o, MW_MIME_LIMIT_DEPTH, 0), MW_ERR_INVALID);
    CHECK_INT(mw_mime_options_set_flags(o, 0x80), MW_ERR_INVALID);
    CHECK_INT(mw_mime_options_set_limit(NULL, MW_MIME_LIMIT_DEPTH, 3), MW_ERR_INVALID);
    mw_mime_options_free(o);
}

static void test_boundary_edge_cases(void)
{
    /* Prefix boundaries, transport padding, a close delimiter at EOF
     * without CRLF, a boundary-like line that is not one. */
    check_msg("Content-Type: multipart/mixed; boundary=ab\r\n\r\n"
              "--ab \t\r\n\r\n--abc\r\n--ab-x\r\n--ab--",
              NULL,
              "H  Content-Type: multipart/mixed; boundary=ab\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=ab boundary=ab\n"
              "BEGIN 1 d1 #1 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 1 [--abc\\r\\n--ab-x]\n"
              "END 1\n"
              "END \n"
              "MEND\n");
    /* Empty preamble, empty part, empty epilogue followed by data. */
    check_msg(
        "Content-Type: multipart/mixed; boundary=\"b b\"\r\n\r\n--b b\r\n\r\n\r\n--b b--\r\nafter",
        NULL,
        "H  Content-Type: multipart/mixed; boundary=\"b b\"\n"
        "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=b b boundary=b b\n"
        "BEGIN 1 d1 #1 k1 text/plain cte0 cs=us-ascii\n"
        "END 1\n"
        "EPI  [after]\n"
        "END \n"
        "MEND\n");
}

static void test_message_global(void)
{
    char *s =
        parse_simple("Content-Type: message/global\r\n\r\nSubject: caf\xc3\xa9\r\n\r\nbody", NULL);
    CHECK(s && strstr(s, "BEGIN  d0 #0 k3 message/global"));
    CHECK(s && strstr(s, "H 1 Subject: caf\\xc3\\xa9\n"));
    free(s);
    /* Encoded message/global is legal (RFC 6532 §3.5) and stays a leaf. */
    s = parse_simple("Content-Type: message/global\r\nContent-Transfer-Encoding: "
                     "base64\r\n\r\nU3ViamVjdDogeA0KDQp4",
                     NULL);
    CHECK(s && strstr(s, "k1 message/global cte4"));
    CHECK(s && !strstr(s, "DEFECT"));
    free(s);
    s = parse_simple("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: "
                     "base64\r\n\r\nU3ViamVjdDogeA0KDQp4",
                     NULL);
    CHECK(s && strstr(s, "k1 message/rfc822 cte4"));
    CHECK(s && strstr(s, "DEFECT  4 @"));
    free(s);
}

static void test_random_messages_split(void)
{
    /* Generated messages from a small alphabet rich in '-', CR, LF and
     * boundary text: all splits must agree. */
    static const char *atoms[] = {"--b",
                                  "--b--",
                                  "--c",
                                  "\r\n",
                                  "\n",
                                  "\r",
                                  "-",
                                  "x",
                                  "Content-Type: multipart/mixed; boundary=c\r\n",
                                  "Content-Type: message/rfc822\r\n",
                                  "A: b\r\n",
                                  " ",
                                  "\r\n\r\n"};
    uint64_t rs = 42;
    for (int iter = 0; iter < 200; iter++) {
        char msg[2048];
        size_t n = 0;
        const char *head = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
        memcpy(msg, head, strlen(head));
        n = strlen(head);
        int atomsn = (int)(mw_test_rand(&rs) % 60);
        for (int k = 0; k < atomsn; k++) {
            const char *a = atoms[mw_test_rand(&rs) % (sizeof atoms / sizeof *atoms)];
            size_t al = strlen(a);
            if (n + al >= sizeof msg) break;
            memcpy(msg + n, a, al);
            n += al;
        }
        check_vector_splits(msg, n, NULL, NULL);
    }
}

static int alloc_run(const mw_mem *mem, void *arg)
{
    const char *msg = arg;
    mw_mime_parser *p = mw_mime_parser_new(mem, NULL);
    if (!p) return MW_ERR_NOMEM;
    size_t len = strlen(msg), off = 0;
    int rc = 0;
    mw_mime_event ev;
    while (off < len) {
        mw_ssize t = mw_mime_feed(p, msg + off, len - off < 7 ? len - off : 7);
        if (t < 0) {
            rc = (int)t;
            break;
        }
        off += (size_t)t;
        while ((rc = mw_mime_next(p, &ev)) > 0) {
        }
        if (rc < 0) break;
    }
    if (rc >= 0) {
        mw_mime_eof(p);
        while ((rc = mw_mime_next(p, &ev)) > 0) {
        }
        if (rc == MW_ERR_CLOSED) rc = 0;
    }
    mw_mime_parser_free(p);
    return rc;
}

static void test_alloc_failures(void)
{
    size_t len;
    char *msg = read_vector("nested.eml", &len);
    if (!msg) return;
    long runs = mw_test_alloc_loop("mime parse", alloc_run, msg);
    CHECK(runs > 3);
    free(msg);
    mw_test_alloc a;
    mw_test_alloc_init(&a, 1);
    CHECK(mw_mime_options_new(&a.mem) == NULL);
    CHECK_INT(a.live, 0);
}

static void test_api_misuse(void)
{
    mw_mime_event ev;
    CHECK_INT(mw_mime_next(NULL, &ev), MW_ERR_INVALID);
    CHECK_INT(mw_mime_feed(NULL, "x", 1), MW_ERR_INVALID);
    CHECK_INT(mw_mime_eof(NULL), MW_ERR_INVALID);
    mw_mime_parser_free(NULL);
    mw_mime_options_free(NULL);
    mw_mime_parser *p = mw_mime_parser_new(NULL, NULL);
    CHECK_INT(mw_mime_next(p, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_mime_feed(p, NULL, 3), MW_ERR_INVALID);
    CHECK_INT(mw_mime_feed(p, NULL, 0), 0);
    unsigned char *buf;
    size_t room;
    CHECK_INT(mw_mime_recv_buf(p, &buf, &room), MW_OK);
    CHECK(room > 0);
    CHECK_INT(mw_mime_recv_ack(p, room + 1), MW_ERR_INVALID);
    CHECK(strcmp(mw_mime_defect_str(MW_MIME_DEFECT_BARE_LF), "unknown defect") != 0);
    CHECK(strcmp(mw_mime_defect_str(0), "unknown defect") == 0);
    /* reset reuses the parser for a second message */
    const char *m1 = "A: 1\r\n\r\nx";
    CHECK(mw_mime_feed(p, m1, strlen(m1)) == (mw_ssize)strlen(m1));
    mw_mime_eof(p);
    int rc;
    int n = 0;
    while ((rc = mw_mime_next(p, &ev)) > 0)
        n++;
    CHECK_INT(rc, MW_ERR_CLOSED);
    CHECK_INT(n, 5);
    CHECK_INT(mw_mime_parser_reset(p), MW_OK);
    CHECK(mw_mime_feed(p, m1, strlen(m1)) == (mw_ssize)strlen(m1));
    mw_mime_eof(p);
    CHECK_INT(mw_mime_next(p, &ev), MW_MIME_HEADER);
    CHECK_INT(ev.part, 0);
    CHECK_INT(ev.offset, 0);
    mw_mime_parser_free(p);
}

static void test_small_buffer_large_body(void)
{
    /* A body far larger than the buffer streams through; the buffer is
     * never exceeded and the chunks add up. */
    mw_mime_options *o = mw_mime_options_new(NULL);
    mw_mime_options_set_limit(o, MW_MIME_LIMIT_BUFFER, 4096);
    mw_mime_options_set_limit(o, MW_MIME_LIMIT_HEADER_BYTES, 1024);
    size_t body = 300000;
    const char *head = "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\n";
    const char *tail = "\r\n--zz--\r\n";
    size_t len = strlen(head) + body + strlen(tail);
    char *msg = malloc(len);
    memcpy(msg, head, strlen(head));
    for (size_t i = 0; i < body; i++)
        msg[strlen(head) + i] = (i % 61 == 60) ? '\n' : (char)('-' + (i % 3));
    memcpy(msg + strlen(head) + body, tail, strlen(tail));
    run_cfg cfg = {0};
    cfg.opt = o;
    cfg.chunk = 5000;
    char *s = parse_log(msg, len, &cfg);
    CHECK_INT(cfg.rc, 0);
    CHECK_INT(cfg.body_bytes, body);
    CHECK(s && strstr(s, "END 1\nEND \nMEND\n"));
    free(s);
    free(msg);
    mw_mime_options_free(o);
}

static void test_decode_and_utf8(void)
{
    mw_mime_options *o = mw_mime_options_new(NULL);
    CHECK_INT(mw_mime_options_set_flags(o, MW_MIME_DECODE), MW_OK);
    static const char *const nested[] = {"BODY 1.1 [caf\\xc3\\xa9]\n",
                                         "BODY 2.1.1 [\\x00\\x01\\x02\\x03\\x04\\x05]\n", NULL};
    check_vector_has("nested.eml", o, nested);
    /* Soft breaks, a bad escape (defect 18), and charset conversion. */
    const char *qp = "Content-Type: text/plain; charset=ISO-8859-1\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                     "caf=E9 soft=\r\nbreak =ZZ end\r\n";
    check_msg(qp, o,
              "H  Content-Type: text/plain; charset=ISO-8859-1\n"
              "H  Content-Transfer-Encoding: quoted-printable\n"
              "BEGIN  d0 #0 k1 text/plain cte3 cs=iso-8859-1 charset=ISO-8859-1\n"
              "BODY  [caf\\xe9 softbreak =ZZ end\\r\\n]\n"
              "END \n"
              "MEND\n"
              "DEFECT  18 @113\n");
    CHECK_INT(mw_mime_options_set_flags(o, MW_MIME_DECODE | MW_MIME_UTF8), MW_OK);
    char *s = parse_simple(qp, o);
    CHECK(s && strstr(s, "BODY  [caf\\xc3\\xa9 softbreak =ZZ end\\r\\n]\n"));
    free(s);
    check_msg(qp, o, NULL);
    /* 8-bit text converted without decoding; invalid UTF-8 gets U+FFFD. */
    s = parse_simple("Content-Type: text/plain; charset=windows-1252\r\n\r\n\x80 caf\xe9", o);
    CHECK(s && strstr(s, "BODY  [\\xe2\\x82\\xac caf\\xc3\\xa9]\n"));
    free(s);
    s = parse_simple("Content-Type: text/plain; charset=x-unknown-cs\r\n\r\nabc", o);
    CHECK(s && strstr(s, "BODY  [abc]\n"));
    CHECK(s && strstr(s, "DEFECT  16 @"));
    free(s);
    /* Non-text parts are never converted. */
    s = parse_simple("Content-Type: application/x-y; charset=iso-8859-1\r\n\r\n\xe9", o);
    CHECK(s && strstr(s, "BODY  [\\xe9]\n"));
    free(s);
    mw_mime_options_free(o);
}

/* Charset conversion is split-invariant on malformed input in stateful
 * charsets (UTF-7 in-house, ISO-2022-JP/CN-EXT through iconv), and a
 * charset that expands twelvefold (TSCII) loses nothing: its output comes
 * in several events, decoded or raw. */
static void test_utf8_stateful_splits(void)
{
    mw_mime_options *o = mw_mime_options_new(NULL);
    CHECK_INT(mw_mime_options_set_flags(o, MW_MIME_DECODE | MW_MIME_UTF8), MW_OK);
    const char *msg =
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n"
        "Hi Mom -+Jjo--! +ZeVnLIqe- +AGE +2D3 +-x \xff +AGEA-\r\n"
        "--b\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nGyRCRnxLXDhsGyhCIBskQiMbKEIbJA==\r\n"
        "--b\r\nContent-Type: text/plain; charset=ISO-2022-CN-EXT\r\n\r\n"
        "\xdd\x1bN\"\x1b(BF|B\x1b$A\x0f\x1bN\r\n--b--\r\n";
    check_msg(msg, o, NULL);
    char *s = parse_simple(msg, o);
    CHECK(s && strstr(s, "BODY 1 [Hi Mom -\\xe2\\x98\\xba-! \\xe6\\x97\\xa5\\xe6\\x9c\\xac\\xe8\\xaa"
                         "\\x9e a \\xef\\xbf\\xbd +x \\xef\\xbf\\xbd a\\xef\\xbf\\xbd]\n"));
    free(s);
    iconv_t cd = iconv_open("UTF-8", "TSCII");
    if (cd != (iconv_t)-1) {
        iconv_close(cd);
        /* 20000 bytes of 0x8C, twelve bytes of UTF-8 each: raw 8bit, then base64 */
        size_t nraw = 20000, cap = 2 * nraw + 400;
        char *m = malloc(cap);
        if (!m) return;
        for (int b64 = 0; b64 <= 1; b64++) {
            size_t len = (size_t)snprintf(m, cap, "Content-Type: text/plain; charset=TSCII\r\n%s\r\n",
                                          b64 ? "Content-Transfer-Encoding: base64\r\n" : "");
            for (size_t i = 0; i < nraw; i += 3) {
                if (b64) {
                    memcpy(m + len, "jIyM", 4); /* 0x8C 0x8C 0x8C */
                    len += 4;
                    if (i % 57 == 54) m[len++] = '\n';
                } else {
                    memcpy(m + len, "\x8c\x8c\x8c", 3);
                    len += 3;
                }
            }
            size_t want = (nraw + 2) / 3 * 3 * 12;
            char *whole = NULL;
            for (size_t chunk = 0; chunk <= 9; chunk += 3) {
                run_cfg cfg = {0};
                cfg.opt = o;
                cfg.chunk = chunk == 9 ? CHUNK_RANDOM : chunk;
                cfg.seed = 77;
                char *log = parse_log(m, len, &cfg);
                CHECK_INT(cfg.rc, 0);
                CHECK_INT(cfg.body_bytes, want);
                if (!whole)
                    whole = log;
                else {
                    CHECK(log && strcmp(log, whole) == 0);
                    free(log);
                }
            }
            free(whole);
        }
        free(m);
    }
    mw_mime_options_free(o);
}

static void test_decode_base64(void)
{
    mw_mime_options *o = mw_mime_options_new(NULL);
    CHECK_INT(mw_mime_options_set_flags(o, MW_MIME_DECODE), MW_OK);
    /* Lines, spaces and garbage are skipped; a delimiter cutting a group
     * short is a BAD_ENCODING defect (offset: the first problem). */
    check_msg("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n"
              "SGVs bG8s\r\nIHdv cmxk\r\nIQ\r\n--b\r\n"
              "Content-Transfer-Encoding: BASE64\r\n\r\nSGk*=\r\n--b\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\nQUJDRA\r\n--b--\r\n",
              o,
              "H  Content-Type: multipart/mixed; boundary=b\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=b boundary=b\n"
              "H 1 Content-Transfer-Encoding: base64\n"
              "BEGIN 1 d1 #1 k1 text/plain cte4 cs=us-ascii\n"
              "BODY 1 [Hello, world!]\n"
              "END 1\n"
              "H 2 Content-Transfer-Encoding: BASE64\n"
              "BEGIN 2 d1 #2 k1 text/plain cte4 cs=us-ascii\n"
              "BODY 2 [Hi]\n"
              "END 2\n"
              "H 3 Content-Transfer-Encoding: base64\n"
              "BEGIN 3 d1 #3 k1 text/plain cte4 cs=us-ascii\n"
              "BODY 3 [ABCD]\n"
              "END 3\n"
              "END \n"
              "MEND\n"
              "DEFECT 1 18 @91\n"    /* the space: the codec reports skipped bytes */
              "DEFECT 2 18 @158\n"   /* the '*' */
              "DEFECT 3 18 @210\n"); /* missing padding at the end */
    mw_mime_options_free(o);
}

static void test_decode_vectors(void)
{
    mw_mime_options *o = mw_mime_options_new(NULL);
    mw_mime_options_set_flags(o, MW_MIME_DECODE | MW_MIME_UTF8);
    static const char *const outlook[] = {
        "BODY 1 [Hallo Team,\\n\\nanbei der Bericht.\\n\\nJ\\xc3\\xb6rg\\n]\n",
        "BODY 2 [PK\\x03\\x04\\x14\\x00\\x06\\x00\\x08\\x00\\x00\\x00!]\n", NULL};
    static const char *const related[] = {
        "BODY 2.1 [<html><body>See <img src=\"cid:img1\"></body></html>]\n", NULL};
    check_vector_has("outlook-attachment.eml", o, outlook);
    check_vector_has("related-inline.eml", o, related);
    mw_mime_options_free(o);
}

static void test_filename_2047(void)
{
    char *s = parse_simple(
        "Content-Type: application/pdf; name=\"=?UTF-8?B?Y2Fmw6kucGRm?=\"\r\n\r\n", NULL);
    CHECK(s && strstr(s, " fn=caf\\xc3\\xa9.pdf "));
    free(s);
    s = parse_simple("Content-Disposition: attachment;\r\n filename=\"=?iso-8859-1?Q?r=E9sum=E9?= "
                     "v2.txt\"\r\n\r\n",
                     NULL);
    CHECK(s && strstr(s, " fn=r\\xc3\\xa9sum\\xc3\\xa9 v2.txt "));
    free(s);
    /* RFC 2231 values are never RFC 2047-decoded. */
    s = parse_simple(
        "Content-Disposition: attachment; filename*=UTF-8''%3D%3Futf-8%3FQ%3Fx%3F%3D\r\n\r\n",
        NULL);
    CHECK(s && strstr(s, " fn==?utf-8?Q?x?= "));
    free(s);
    /* Folded between words inside the quotes (what the builder writes). */
    s = parse_simple("Content-Type: application/octet-stream;\r\n name=\"=?UTF-8?B?Y2Fm?=\r\n "
                     "=?UTF-8?B?w6kucGRm?=\"\r\n\r\n",
                     NULL);
    CHECK(s && strstr(s, " fn=caf\\xc3\\xa9.pdf "));
    free(s);
}

/* The parameter rule (docs/mime.md, "Parameters"): RFC 2047 words are
 * decoded in plain name and filename values, in the parameter itself too,
 * and reported; every other parameter keeps its bytes. */
static void test_param_2047_rule(void)
{
    check_msg("Content-Type: application/pdf; name=\"=?UTF-8?B?Y2Fmw6kucGRm?=\";\r\n"
              " x-title=\"=?UTF-8?Q?caf=C3=A9?=\"\r\n"
              "Content-Disposition: attachment; FileName=\"=?iso-8859-1?q?r=E9sum=E9?=.pdf\"\r\n"
              "\r\nx",
              NULL,
              "H  Content-Type: application/pdf; name=\"=?UTF-8?B?Y2Fmw6kucGRm?=\"; x-title=\"=?UTF-8?Q?caf=C3=A9?=\"\n"
              "H  Content-Disposition: attachment; FileName=\"=?iso-8859-1?q?r=E9sum=E9?=.pdf\"\n"
              "BEGIN  d0 #0 k1 application/pdf cte0 disp=attachment fn=r\\xc3\\xa9sum\\xc3\\xa9.pdf "
              "name=caf\\xc3\\xa9.pdf x-title==?UTF-8?Q?caf=C3=A9?= "
              ";filename=r\\xc3\\xa9sum\\xc3\\xa9.pdf\n"
              "BODY  [x]\n"
              "END \n"
              "MEND\n"
              "DEFECT  20 @178\n");
    /* A boundary that looks like an encoded word is used byte for byte. */
    check_msg("Content-Type: multipart/mixed; boundary=\"=?x?q?y?=\"\r\n\r\n"
              "--=?x?q?y?=\r\n\r\na\r\n--=?x?q?y?=--\r\n",
              NULL,
              "H  Content-Type: multipart/mixed; boundary=\"=?x?q?y?=\"\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd==?x?q?y?= boundary==?x?q?y?=\n"
              "BEGIN 1 d1 #1 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 1 [a]\n"
              "END 1\n"
              "END \n"
              "MEND\n");
    /* RFC 2231 values are final; no word, no defect; an unknown charset is kept. */
    char *s = parse_simple("Content-Type: text/plain; name*=utf-8''%3D%3Fx%3F; "
                           "charset=\"=?utf-8?q?koi8-r?=\"\r\n"
                           "Content-Disposition: inline; filename=\"a=?b.txt\"\r\n\r\n",
                           NULL);
    CHECK(s && strstr(s, " cs==?utf-8?q?koi8-r?= "));
    CHECK(s && strstr(s, " name==?x? "));
    CHECK(s && strstr(s, " fn=a=?b.txt "));
    CHECK(s && !strstr(s, "DEFECT  20"));
    free(s);
    s = parse_simple("Content-Type: application/x; name=\"=?x-no-such-cs?q?abc?=\"\r\n\r\n", NULL);
    CHECK(s && strstr(s, " fn==?x-no-such-cs?q?abc?= "));
    CHECK(s && strstr(s, "DEFECT  16 @"));
    CHECK(s && !strstr(s, "DEFECT  20"));
    free(s);
}

/* An mbox From_ line (RFC 4155) as the input's first line is skipped and
 * reported with the line, never taken as a header or as the body start. */
static void test_mbox_from(void)
{
    check_msg("From alice@example.org Thu Nov 26 23:00:00 2026\r\nSubject: x\r\n\r\nbody\r\n",
              NULL,
              "H  Subject: x\n"
              "BEGIN  d0 #0 k1 text/plain cte0 cs=us-ascii\n"
              "BODY  [body\\r\\n]\n"
              "END \n"
              "MEND\n"
              "DEFECT  19 @0\n");
    /* LF-only mbox files: the bare LF is reported too (once). */
    check_msg("From a@b Thu Nov 26 23:00:00 2026\nSubject: x\n\nbody\n", NULL,
              "H  Subject: x\n"
              "BEGIN  d0 #0 k1 text/plain cte0 cs=us-ascii\n"
              "BODY  [body\\n]\n"
              "END \n"
              "MEND\n"
              "DEFECT  19 @0\n"
              "DEFECT  6 @33\n");
    /* "From :" is a header field with obsolete WSP before the colon. */
    check_msg("From : a@b\r\n\r\n", NULL,
              "H  From: a@b\n"
              "BEGIN  d0 #0 k1 text/plain cte0 cs=us-ascii\n"
              "END \n"
              "MEND\n");
    /* Only at the start of the input: in a body part it is a bad header line. */
    check_msg("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nFrom x y\r\n\r\nz\r\n"
              "--b--\r\n",
              NULL,
              "H  Content-Type: multipart/mixed; boundary=b\n"
              "BEGIN  d0 #0 k2 multipart/mixed cte0 bd=b boundary=b\n"
              "BEGIN 1 d1 #1 k1 text/plain cte0 cs=us-ascii\n"
              "BODY 1 [From x y\\r\\n\\r\\nz]\n"
              "END 1\n"
              "END \n"
              "MEND\n"
              "DEFECT 1 13 @50\n");
    /* The envelope line at the end of the input, without a line end. */
    check_msg("From x", NULL,
              "BEGIN  d0 #0 k1 text/plain cte0 cs=us-ascii\n"
              "END \n"
              "MEND\n"
              "DEFECT  19 @0\n"
              "DEFECT  12 @6\n");
    /* The event hands out the line. */
    mw_mime_parser *p = mw_mime_parser_new(NULL, NULL);
    CHECK(p != NULL);
    if (!p) return;
    const char *msg = "From a@b Fri Nov 27 00:00:00 2026\r\nSubject: y\r\n\r\n";
    CHECK_INT(mw_mime_feed(p, msg, strlen(msg)), (mw_ssize)strlen(msg));
    mw_mime_event ev;
    CHECK_INT(mw_mime_next(p, &ev), MW_MIME_DEFECT);
    CHECK_INT(ev.defect, MW_MIME_DEFECT_MBOX_FROM);
    CHECK_INT(ev.offset, 0);
    CHECK_MEM(ev.value.base, ev.value.len, "From a@b Fri Nov 27 00:00:00 2026", 33);
    CHECK(strcmp(mw_mime_defect_str(MW_MIME_DEFECT_MBOX_FROM), "mbox From_ line skipped") == 0);
    CHECK_INT(mw_mime_next(p, &ev), MW_MIME_HEADER);
    CHECK_MEM(ev.name.base, ev.name.len, "Subject", 7);
    mw_mime_parser_free(p);
}

/* Every tests/vectors/mime/X.eml with an X.expect (the event log of a raw
 * parse) is replayed whole, at chunk sizes 1-8, random cuts and zero-copy.
 * MW_MIME_WRITE_EXPECT=1 writes missing .expect files (review them!). */
static void test_vector_files(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/mime", MW_TEST_VECTORS_DIR);
    DIR *dp = opendir(dir);
    CHECK(dp != NULL);
    if (!dp) return;
    int checked = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".eml") != 0) continue;
        char expname[300];
        snprintf(expname, sizeof expname, "%.*s.expect", (int)(nl - 4), de->d_name);
        size_t len, elen;
        char *msg = read_vector(de->d_name, &len);
        char path[900];
        snprintf(path, sizeof path, "%s/%s", dir, expname);
        FILE *f = fopen(path, "rb");
        if (!f) {
            if (getenv("MW_MIME_WRITE_EXPECT") && msg) {
                run_cfg cfg = {0};
                char *log = parse_log(msg, len, &cfg);
                FILE *o = fopen(path, "wb");
                if (o && log) fputs(log, o);
                if (o) fclose(o);
                free(log);
            }
            free(msg);
            continue;
        }
        fclose(f);
        char *want = read_vector(expname, &elen);
        if (msg && want) {
            check_vector_splits(msg, len, NULL, want);
            checked++;
        }
        free(msg);
        free(want);
    }
    closedir(dp);
    CHECK(checked >= 3);
}

int main(void)
{
    MW_RUN(test_rfc2046_example);
    MW_RUN(test_nested);
    MW_RUN(test_rfc2231);
    MW_RUN(test_rfc2231_params);
    MW_RUN(test_simple_leaf);
    MW_RUN(test_digest_defaults);
    MW_RUN(test_lf_only);
    MW_RUN(test_missing_close);
    MW_RUN(test_forward_cut_short);
    MW_RUN(test_empty_mime_fields);
    MW_RUN(test_missing_boundary);
    MW_RUN(test_boundary_in_base64);
    MW_RUN(test_bad_cte);
    MW_RUN(test_8bit_and_long_header);
    MW_RUN(test_unterminated_headers);
    MW_RUN(test_bad_header_line);
    MW_RUN(test_limits);
    MW_RUN(test_boundary_edge_cases);
    MW_RUN(test_message_global);
    MW_RUN(test_random_messages_split);
    MW_RUN(test_alloc_failures);
    MW_RUN(test_api_misuse);
    MW_RUN(test_small_buffer_large_body);
    MW_RUN(test_decode_and_utf8);
    MW_RUN(test_utf8_stateful_splits);
    MW_RUN(test_decode_base64);
    MW_RUN(test_filename_2047);
    MW_RUN(test_vector_files);
    MW_RUN(test_decode_vectors);
    MW_RUN(test_mbox_from);
    MW_RUN(test_param_2047_rule);
    return mw_test_finish();
}
