/*
 * SMTP/LMTP server engine: dialog vectors (tests/vectors/smtp/NAME.txt)
 * replayed whole, at chunk sizes 1..8 and through the zero-copy path, plus
 * API, pipelining, body and allocation-failure tests.
 *
 * Vector format, one directive per line ("#" starts a comment line):
 *   O: option          engine option (see apply_option)
 *   C: text            client bytes, escapes \r \n \t \0 \\ \xHH, CRLF appended
 *   c: text            client bytes without the CRLF
 *   S: text            expected server bytes, CRLF appended
 *   E: text            expected event log line (see log_event)
 *   A: answer          answer to the next paused event, in order:
 *                      accept | reply CODE ENH|- [TEXT] | lines CODE ENH|- T1|T2..
 *                      | challenge ESCAPED
 *   T: tls | eof       transport step after the client bytes above it
 *   X: expectation     checked at the end: closed | open | discarded N | handoff
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include "smtp/smtp_internal.h"

#include <dirent.h>
#include <stdlib.h>

/* ---- small growable byte strings ------------------------------------- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const void *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void buf_puts(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_escape(buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char t[8];
        if (c == '\r') buf_puts(b, "\\r");
        else if (c == '\n') buf_puts(b, "\\n");
        else if (c == '\t') buf_puts(b, "\\t");
        else if (c == '\\') buf_puts(b, "\\\\");
        else if (c == 0) buf_puts(b, "\\0");
        else if (c < 32 || c >= 127) {
            snprintf(t, sizeof t, "\\x%02X", c);
            buf_puts(b, t);
        } else buf_add(b, &c, 1);
    }
}

static void unescape(buf *b, const char *s)
{
    while (*s) {
        if (*s != '\\') {
            buf_add(b, s++, 1);
            continue;
        }
        s++;
        char c = *s ? *s++ : '\\';
        if (c == 'r') buf_add(b, "\r", 1);
        else if (c == 'n') buf_add(b, "\n", 1);
        else if (c == 't') buf_add(b, "\t", 1);
        else if (c == '0') buf_add(b, "", 1);
        else if (c == 'x' && s[0] && s[1]) {
            char hex[3] = {s[0], s[1], 0};
            unsigned char v = (unsigned char)strtoul(hex, NULL, 16);
            buf_add(b, &v, 1);
            s += 2;
        } else buf_add(b, &c, 1);
    }
}

/* ---- a parsed vector ----------------------------------------------- */

#define MAXN 256

typedef struct segment {
    buf bytes;
    char step[16]; /* "tls", "eof" or "" (the last) */
} segment;

typedef struct vector {
    char name[1100];
    char *opts[64];
    size_t nopts;
    segment seg[8];
    size_t nseg;
    buf out;          /* expected server bytes */
    char *events[MAXN];
    size_t nevents;
    char *answers[MAXN];
    size_t nanswers;
    char *expect[16];
    size_t nexpect;
} vector;

static char *dupstr(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (!d) abort();
    memcpy(d, s, n + 1);
    return d;
}

static int load_vector(const char *path, vector *v)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    memset(v, 0, sizeof *v);
    const char *base = strrchr(path, '/');
    snprintf(v->name, sizeof v->name, "%s", base ? base + 1 : path);
    v->nseg = 1;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0 || line[0] == '#') continue;
        if (n < 2 || line[1] != ':') {
            fprintf(stderr, "%s: bad line: %s\n", path, line);
            fclose(f);
            return -1;
        }
        const char *arg = line[2] == ' ' ? line + 3 : line + 2;
        segment *sg = &v->seg[v->nseg - 1];
        switch (line[0]) {
        case 'O': v->opts[v->nopts++] = dupstr(arg); break;
        case 'C': unescape(&sg->bytes, arg); buf_add(&sg->bytes, "\r\n", 2); break;
        case 'c': unescape(&sg->bytes, arg); break;
        case 'S': unescape(&v->out, arg); buf_add(&v->out, "\r\n", 2); break;
        case 's': unescape(&v->out, arg); break;
        case 'E': v->events[v->nevents++] = dupstr(arg); break;
        case 'A': v->answers[v->nanswers++] = dupstr(arg); break;
        case 'X': v->expect[v->nexpect++] = dupstr(arg); break;
        case 'T':
            snprintf(sg->step, sizeof sg->step, "%s", arg);
            v->nseg++;
            break;
        default:
            fprintf(stderr, "%s: unknown directive: %s\n", path, line);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

static void free_vector(vector *v)
{
    for (size_t i = 0; i < v->nopts; i++) free(v->opts[i]);
    for (size_t i = 0; i < v->nseg; i++) free(v->seg[i].bytes.p);
    free(v->out.p);
    for (size_t i = 0; i < v->nevents; i++) free(v->events[i]);
    for (size_t i = 0; i < v->nanswers; i++) free(v->answers[i]);
    for (size_t i = 0; i < v->nexpect; i++) free(v->expect[i]);
}

/* ---- options ---------------------------------------------------------- */

static unsigned name_bit(const char *n)
{
    static const struct { const char *name; unsigned bit; } t[] = {
        {"PIPELINING", MW_SMTP_EXT_PIPELINING}, {"SIZE", MW_SMTP_EXT_SIZE},
        {"8BITMIME", MW_SMTP_EXT_8BITMIME}, {"SMTPUTF8", MW_SMTP_EXT_SMTPUTF8},
        {"CHUNKING", MW_SMTP_EXT_CHUNKING}, {"BINARYMIME", MW_SMTP_EXT_BINARYMIME},
        {"ENHANCEDSTATUSCODES", MW_SMTP_EXT_ENHANCEDSTATUSCODES}, {"DSN", MW_SMTP_EXT_DSN},
        {"STARTTLS", MW_SMTP_EXT_STARTTLS}, {"AUTH", MW_SMTP_EXT_AUTH},
        {"REQUIRETLS", MW_SMTP_EXT_REQUIRETLS}, {"MT-PRIORITY", MW_SMTP_EXT_MT_PRIORITY},
        {"LMTP", MW_SMTP_SERVER_LMTP}, {"IMPLICIT_TLS", MW_SMTP_SERVER_IMPLICIT_TLS},
        {"PLAINTEXT_AUTH", MW_SMTP_SERVER_PLAINTEXT_AUTH},
        {"MANUAL_GREETING", MW_SMTP_SERVER_MANUAL_GREETING},
        {"PAUSE_VRFY", MW_SMTP_SERVER_PAUSE_VRFY},
        {"TLS_INJECTION_CLOSE", MW_SMTP_SERVER_TLS_INJECTION_CLOSE},
        {"REJECT_BARE_EOL", MW_SMTP_SERVER_REJECT_BARE_EOL},
        {"BARE_LF", MW_SMTP_QUIRK_BARE_LF}, {"SPACE_AFTER_COLON", MW_SMTP_QUIRK_SPACE_AFTER_COLON},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, n) == 0) return t[i].bit;
    fprintf(stderr, "unknown option name %s\n", n);
    abort();
}

static void apply_option(mw_smtp_server_opts *o, const char *opt)
{
    char key[64], a[256] = "", b[64] = "", c[64] = "";
    int k = sscanf(opt, "%63s %255s %63s %63s", key, a, b, c);
    int rc = MW_OK;
    if (k < 1) abort();
    if (!strcmp(key, "ext")) rc = mw_smtp_server_opts_set_extensions(o, name_bit(a + 1), a[0] == '+');
    else if (!strcmp(key, "flag")) rc = mw_smtp_server_opts_set_flags(o, name_bit(a), 1);
    else if (!strcmp(key, "quirk")) rc = mw_smtp_server_opts_set_quirks(o, name_bit(a), 1);
    else if (!strcmp(key, "host")) rc = mw_smtp_server_opts_set_hostname(o, a);
    else if (!strcmp(key, "max-size")) rc = mw_smtp_server_opts_set_max_message_size(o, strtoull(a, NULL, 10));
    else if (!strcmp(key, "max-rcpt")) rc = mw_smtp_server_opts_set_max_recipients(o, strtoul(a, NULL, 10));
    else if (!strcmp(key, "max-bad")) rc = mw_smtp_server_opts_set_max_bad_commands(o, (unsigned)strtoul(a, NULL, 10));
    else if (!strcmp(key, "inbuf")) rc = mw_smtp_server_opts_set_input_buffer(o, strtoul(a, NULL, 10));
    else if (!strcmp(key, "lines"))
        rc = mw_smtp_server_opts_set_max_line(o, strtoul(a, NULL, 10), strtoul(b, NULL, 10), strtoul(c, NULL, 10));
    else if (!strcmp(key, "auth")) rc = mw_smtp_server_opts_set_auth_mechanisms(o, opt + 5);
    else if (!strcmp(key, "mail-params")) rc = mw_smtp_server_opts_declare_params(o, 0, a, b[0] ? opt + strlen(key) + strlen(a) + 2 : NULL);
    else if (!strcmp(key, "rcpt-params")) rc = mw_smtp_server_opts_declare_params(o, 1, a, NULL);
    else {
        fprintf(stderr, "unknown option %s\n", opt);
        abort();
    }
    if (rc != MW_OK) {
        fprintf(stderr, "option %s failed: %d\n", opt, rc);
        abort();
    }
}

/* ---- event log -------------------------------------------------------- */

typedef struct run {
    const vector *v;
    mw_smtp_server *s;
    buf out;
    buf body;      /* consecutive BODY bytes, merged */
    char *log[MAXN * 2];
    size_t nlog;
    size_t next_answer;
    int failed;
    size_t out_chunk;
} run;

static void log_line(run *r, const char *s)
{
    if (r->nlog < MAXN * 2) r->log[r->nlog++] = dupstr(s);
}

static void flush_body(run *r)
{
    if (!r->body.len) return;
    buf b = {0};
    buf_puts(&b, "body ");
    buf_escape(&b, r->body.p, r->body.len);
    log_line(r, b.p);
    free(b.p);
    r->body.len = 0;
}

static void add_slice(buf *b, const char *label, mw_slice s)
{
    buf_puts(b, label);
    buf_escape(b, s.base, s.len);
}

static void log_event(run *r, const mw_smtp_event *ev)
{
    if (ev->type == MW_SMTP_EV_BODY) {
        buf_add(&r->body, ev->data.base, ev->data.len);
        return;
    }
    flush_body(r);
    buf b = {0};
    char t[64];
    switch (ev->type) {
    case MW_SMTP_EV_CONNECT: buf_puts(&b, "connect"); break;
    case MW_SMTP_EV_HELO:
        for (size_t i = 0; i < ev->verb.len; i++) {
            char c = (char)(ev->verb.base[i] | 0x20);
            buf_add(&b, &c, 1);
        }
        add_slice(&b, " ", ev->arg);
        break;
    case MW_SMTP_EV_MAIL:
    case MW_SMTP_EV_RCPT:
        buf_puts(&b, ev->type == MW_SMTP_EV_MAIL ? "mail <" : "rcpt <");
        buf_escape(&b, ev->path.base, ev->path.len);
        buf_puts(&b, ">");
        if (ev->flags & MW_SMTP_F_SIZE) {
            snprintf(t, sizeof t, " size=%llu", (unsigned long long)ev->size);
            buf_puts(&b, t);
        }
        if (ev->body) buf_puts(&b, ev->body == 1 ? " body=7BIT" : ev->body == 2 ? " body=8BITMIME" : " body=BINARYMIME");
        if (ev->flags & MW_SMTP_F_SMTPUTF8) buf_puts(&b, " smtputf8");
        if (ev->ret) buf_puts(&b, ev->ret == 1 ? " ret=FULL" : " ret=HDRS");
        if (ev->flags & MW_SMTP_F_ENVID) add_slice(&b, " envid=", ev->envid);
        if (ev->flags & MW_SMTP_F_AUTH) add_slice(&b, " auth=", ev->auth);
        if (ev->flags & MW_SMTP_F_REQUIRETLS) buf_puts(&b, " requiretls");
        if (ev->flags & MW_SMTP_F_MT_PRIORITY) {
            snprintf(t, sizeof t, " mt-priority=%d", ev->mt_priority);
            buf_puts(&b, t);
        }
        if (ev->flags & MW_SMTP_F_POSTMASTER) buf_puts(&b, " postmaster");
        if (ev->notify) {
            buf_puts(&b, " notify=");
            if (ev->notify & MW_SMTP_NOTIFY_NEVER) buf_puts(&b, "NEVER");
            if (ev->notify & MW_SMTP_NOTIFY_SUCCESS) buf_puts(&b, "S");
            if (ev->notify & MW_SMTP_NOTIFY_FAILURE) buf_puts(&b, "F");
            if (ev->notify & MW_SMTP_NOTIFY_DELAY) buf_puts(&b, "D");
        }
        if (ev->flags & MW_SMTP_F_ORCPT) {
            add_slice(&b, " orcpt=", ev->orcpt_type);
            add_slice(&b, ";", ev->orcpt);
        }
        if (ev->params.len) add_slice(&b, " params=", ev->params);
        break;
    case MW_SMTP_EV_DATA:
        snprintf(t, sizeof t, "data rcpts=%zu", ev->rcpt_count);
        buf_puts(&b, t);
        break;
    case MW_SMTP_EV_BDAT:
        snprintf(t, sizeof t, "bdat %llu%s", (unsigned long long)ev->size, (ev->flags & MW_SMTP_F_LAST) ? " last" : "");
        buf_puts(&b, t);
        break;
    case MW_SMTP_EV_BODY_END:
        snprintf(t, sizeof t, "end size=%llu rcpts=%zu", (unsigned long long)ev->size, ev->rcpt_count);
        buf_puts(&b, t);
        if (ev->reject_code) {
            snprintf(t, sizeof t, " reject=%d", ev->reject_code);
            buf_puts(&b, t);
        }
        break;
    case MW_SMTP_EV_RSET: buf_puts(&b, "rset"); break;
    case MW_SMTP_EV_VRFY: add_slice(&b, "vrfy ", ev->arg); break;
    case MW_SMTP_EV_EXPN: add_slice(&b, "expn ", ev->arg); break;
    case MW_SMTP_EV_QUIT: buf_puts(&b, "quit"); break;
    case MW_SMTP_EV_STARTTLS: buf_puts(&b, "starttls"); break;
    case MW_SMTP_EV_AUTH:
        add_slice(&b, "auth ", ev->arg);
        if (ev->flags & MW_SMTP_F_INITIAL) add_slice(&b, " ir=", ev->data);
        break;
    case MW_SMTP_EV_AUTH_RESPONSE: add_slice(&b, "auth-response ", ev->data); break;
    case MW_SMTP_EV_AUTH_ABORT:
        snprintf(t, sizeof t, "auth-abort %d", ev->reject_code);
        buf_puts(&b, t);
        break;
    default: snprintf(t, sizeof t, "event %d", ev->type); buf_puts(&b, t);
    }
    if (ev->flags & MW_SMTP_F_TLS) buf_puts(&b, " [tls]");
    if (ev->flags & MW_SMTP_F_AUTHENTICATED) buf_puts(&b, " [authed]");
    log_line(r, b.p);
    free(b.p);
}

static void answer(run *r)
{
    if (r->next_answer >= r->v->nanswers) {
        log_line(r, "!! paused event without an answer");
        r->failed = 1;
        mw_smtp_server_accept(r->s);
        return;
    }
    const char *a = r->v->answers[r->next_answer++];
    int rc;
    if (!strcmp(a, "accept")) {
        rc = mw_smtp_server_accept(r->s);
    } else if (!strncmp(a, "reply ", 6) || !strncmp(a, "lines ", 6)) {
        int code = atoi(a + 6);
        const char *p = strchr(a + 6, ' ');
        char enh[32] = "";
        const char *text = NULL;
        if (p) {
            p++;
            const char *e = strchr(p, ' ');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            snprintf(enh, sizeof enh, "%.*s", (int)n, p);
            text = e ? e + 1 : NULL;
        }
        const char *enhp = strcmp(enh, "-") ? enh : NULL;
        if (a[0] == 'r') {
            rc = mw_smtp_server_reply(r->s, code, enhp, text);
        } else {
            char tmp[1024];
            const char *lines[16];
            size_t n = 0;
            snprintf(tmp, sizeof tmp, "%s", text ? text : "");
            char *tok = tmp;
            for (;;) {
                char *bar = strchr(tok, '|');
                lines[n++] = tok;
                if (!bar || n == 16) break;
                *bar = 0;
                tok = bar + 1;
            }
            rc = mw_smtp_server_reply_lines(r->s, code, enhp, lines, n);
        }
    } else if (!strncmp(a, "challenge", 9)) {
        buf b = {0};
        unescape(&b, a[9] ? a + 10 : "");
        rc = mw_smtp_server_auth_challenge(r->s, b.p ? b.p : "", b.len);
        free(b.p);
    } else {
        rc = MW_ERR_INVALID;
    }
    if (rc != MW_OK) {
        char t[128];
        snprintf(t, sizeof t, "!! answer '%s' failed: %d", a, rc);
        log_line(r, t);
        r->failed = 1;
    }
}

static void drain(run *r)
{
    size_t len;
    const unsigned char *p;
    while ((p = mw_smtp_server_out_buf(r->s, &len)) != NULL) {
        size_t n = len < r->out_chunk ? len : r->out_chunk; /* partial writes */
        buf_add(&r->out, p, n);
        mw_smtp_server_out_ack(r->s, n);
    }
}

/* Pull events until the engine needs input. */
static void pump(run *r)
{
    for (int guard = 0; guard < 1000000; guard++) {
        const mw_smtp_event *ev;
        int rc = mw_smtp_server_next(r->s, &ev);
        if (rc > 0) {
            log_event(r, ev);
            if (ev->paused) answer(r);
            continue;
        }
        if (rc == 0) {
            size_t len;
            if (mw_smtp_server_out_buf(r->s, &len)) {
                drain(r);
                continue;
            }
            return;
        }
        if (rc == MW_ERR_STATE) { /* still paused: LMTP wants one reply per recipient */
            answer(r);
            continue;
        }
        drain(r);
        if (rc == MW_ERR_CLOSED) return;
        char t[64];
        snprintf(t, sizeof t, "!! next: %s", mw_strerror(rc));
        log_line(r, t);
        r->failed = 1;
        return;
    }
}

static void feed_all(run *r, const buf *b, size_t chunk, int zero_copy)
{
    size_t off = 0;
    pump(r);
    while (off < b->len) {
        size_t n = b->len - off < chunk ? b->len - off : chunk;
        size_t took;
        if (zero_copy) {
            size_t cap;
            unsigned char *p = mw_smtp_server_recv_buf(r->s, &cap);
            if (!p) break; /* closed or full */
            took = n < cap ? n : cap;
            memcpy(p, b->p + off, took);
            CHECK_INT(mw_smtp_server_recv_ack(r->s, took), MW_OK);
        } else {
            mw_ssize t = mw_smtp_server_feed(r->s, b->p + off, n);
            if (t < 0) break;
            took = (size_t)t;
        }
        off += took;
        if (took == 0 && (mw_smtp_server_state(r->s) & MW_WANT_READ)) {
            log_line(r, "!! stuck: input refused while readable");
            r->failed = 1;
            break;
        }
        pump(r);
    }
    pump(r);
}

static int replay_buf(const vector *v, size_t chunk, int zero_copy, int verbose, size_t inbuf)
{
    mw_smtp_server_opts *o = mw_smtp_server_opts_new(NULL);
    CHECK(o != NULL);
    CHECK_INT(mw_smtp_server_opts_set_hostname(o, "mx.example.org"), MW_OK);
    for (size_t i = 0; i < v->nopts; i++) apply_option(o, v->opts[i]);
    if (inbuf) mw_smtp_server_opts_set_input_buffer(o, inbuf);
    run r;
    memset(&r, 0, sizeof r);
    r.v = v;
    r.out_chunk = chunk < 8 ? chunk + 3 : (size_t)-1;
    CHECK_INT(mw_smtp_server_new(NULL, o, &r.s), MW_OK);
    mw_smtp_server_opts_free(o);
    for (size_t i = 0; i < v->nseg; i++) {
        feed_all(&r, &v->seg[i].bytes, chunk, zero_copy);
        if (!strcmp(v->seg[i].step, "tls")) {
            unsigned st = mw_smtp_server_state(r.s);
            if (!(st & MW_TLS_HANDOFF)) {
                log_line(&r, "!! expected TLS handoff");
                r.failed = 1;
            }
            int rc = mw_smtp_server_tls_started(r.s);
            if (rc != MW_OK) r.failed = 1;
        } else if (!strcmp(v->seg[i].step, "eof")) {
            mw_smtp_server_eof(r.s);
            pump(&r);
        }
    }
    flush_body(&r);
    int ok = !r.failed;
    if (r.out.len != v->out.len || memcmp(r.out.p ? r.out.p : "", v->out.p ? v->out.p : "", v->out.len)) ok = 0;
    if (r.nlog != v->nevents) ok = 0;
    for (size_t i = 0; ok && i < r.nlog; i++)
        if (strcmp(r.log[i], v->events[i])) ok = 0;
    if (r.next_answer != v->nanswers) ok = 0;
    unsigned st = mw_smtp_server_state(r.s);
    for (size_t i = 0; i < v->nexpect; i++) {
        const char *x = v->expect[i];
        if (!strcmp(x, "closed") && !(st & MW_CLOSED)) ok = 0;
        if (!strcmp(x, "open") && (st & (MW_CLOSED | MW_TLS_HANDOFF))) ok = 0;
        if (!strcmp(x, "handoff") && !(st & MW_TLS_HANDOFF)) ok = 0;
        if (!strncmp(x, "discarded ", 10) &&
            mw_smtp_server_tls_discarded(r.s) != strtoull(x + 10, NULL, 10))
            ok = 0;
    }
    if (!ok || verbose) {
        fprintf(stderr, "vector %s chunk %zu%s: %s\n", v->name, chunk, zero_copy ? " (zero-copy)" : "",
                ok ? "ok" : "MISMATCH");
        mw_test_dump("  output  ", r.out.p ? r.out.p : "", r.out.len);
        mw_test_dump("  expected", v->out.p ? v->out.p : "", v->out.len);
        for (size_t i = 0; i < r.nlog; i++)
            fprintf(stderr, "  E: %s%s\n", r.log[i],
                    i < v->nevents && !strcmp(r.log[i], v->events[i]) ? "" : "   <-- differs");
        fprintf(stderr, "  (%zu events expected, %zu answers used of %zu, discarded %llu)\n", v->nevents,
                r.next_answer, v->nanswers, (unsigned long long)mw_smtp_server_tls_discarded(r.s));
    }
    for (size_t i = 0; i < r.nlog; i++) free(r.log[i]);
    free(r.out.p);
    free(r.body.p);
    mw_smtp_server_free(r.s);
    return ok;
}

static int replay(const vector *v, size_t chunk, int zero_copy, int verbose)
{
    return replay_buf(v, chunk, zero_copy, verbose, 0);
}

static void test_vectors(void)
{
    const char *dir = MW_TEST_VECTORS_DIR "/smtp";
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d) return;
    struct dirent *e;
    int count = 0;
    const char *only = getenv("MW_SMTP_VECTOR");
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".txt")) continue;
        if (only && !strstr(e->d_name, only)) continue;
        char path[900];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        vector *v = calloc(1, sizeof *v);
        if (!v) abort();
        CHECK_INT(load_vector(path, v), 0);
        int ok = replay(v, (size_t)-1, 0, only != NULL);
        int whole_only = 0;
        for (size_t i = 0; i < v->nexpect; i++) whole_only |= !strcmp(v->expect[i], "whole-only");
        if (whole_only) ok = ok && replay(v, (size_t)-1, 1, 0);
        for (size_t chunk = 1; ok && !whole_only && chunk <= 8; chunk++) ok = replay(v, chunk, 0, 0);
        for (size_t chunk = 1; ok && !whole_only && chunk <= 9; chunk++) ok = replay(v, chunk == 9 ? (size_t)-1 : chunk, 1, 0);
        /* The smallest input buffer (1 KiB) exercises the buffer-full paths;
         * vectors with AUTH mechanisms need room for an AUTH line. */
        int has_auth = 0;
        for (size_t i = 0; i < v->nopts; i++) has_auth |= !strncmp(v->opts[i], "auth ", 5);
        for (size_t chunk = 1; ok && !whole_only && !has_auth && chunk <= 9; chunk += 4)
            ok = replay_buf(v, chunk == 9 ? (size_t)-1 : chunk, (int)(chunk / 4 % 2), 0, 1024);
        if (!ok) mw_test_fail(__FILE__, __LINE__, "vector %s", e->d_name);
        free_vector(v);
        free(v);
        count++;
    }
    closedir(d);
    CHECK(count >= 20 || only);
}

int main(void)
{
    MW_RUN(test_vectors);
    return mw_test_finish();
}
