/*
 * Dialog-vector reader and replayer shared by the engine tests (see
 * mw_vectors.h for the format).
 *
 * SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L

#include "mw_vectors.h"

#include <dirent.h>
#include <stdlib.h>

/* ---- growable byte strings ------------------------------------------- */

void mw_vbuf_add(mw_vbuf *b, const void *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = 0;
}

void mw_vbuf_puts(mw_vbuf *b, const char *s)
{
    mw_vbuf_add(b, s, strlen(s));
}

void mw_vbuf_escape(mw_vbuf *b, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        char t[8];
        if (c == '\r')
            mw_vbuf_puts(b, "\\r");
        else if (c == '\n')
            mw_vbuf_puts(b, "\\n");
        else if (c == '\t')
            mw_vbuf_puts(b, "\\t");
        else if (c == '\\')
            mw_vbuf_puts(b, "\\\\");
        else if (c == 0)
            mw_vbuf_puts(b, "\\0");
        else if (c < 32 || c >= 127) {
            snprintf(t, sizeof t, "\\x%02X", c);
            mw_vbuf_puts(b, t);
        } else
            mw_vbuf_add(b, &c, 1);
    }
}

void mw_vbuf_slice(mw_vbuf *b, const char *label, mw_slice s)
{
    mw_vbuf_puts(b, label);
    mw_vbuf_escape(b, s.base, s.len);
}

void mw_vbuf_unescape(mw_vbuf *b, const char *s)
{
    while (*s) {
        if (*s != '\\') {
            mw_vbuf_add(b, s++, 1);
            continue;
        }
        s++;
        char c = *s ? *s++ : '\\';
        if (c == 'r')
            mw_vbuf_add(b, "\r", 1);
        else if (c == 'n')
            mw_vbuf_add(b, "\n", 1);
        else if (c == 't')
            mw_vbuf_add(b, "\t", 1);
        else if (c == '0')
            mw_vbuf_add(b, "", 1);
        else if (c == 'x' && s[0] && s[1]) {
            char hex[3] = {s[0], s[1], 0};
            unsigned char v = (unsigned char)strtoul(hex, NULL, 16);
            mw_vbuf_add(b, &v, 1);
            s += 2;
        } else
            mw_vbuf_add(b, &c, 1);
    }
}

char *mw_vstrdup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (!d) abort();
    memcpy(d, s, n + 1);
    return d;
}

/* ---- reading ------------------------------------------------------------ */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Add a line to a bounded list. @return 0, or -1 when it is full. */
static int push(char **list, size_t *n, size_t cap, const char *s)
{
    if (*n >= cap) return -1;
    list[(*n)++] = mw_vstrdup(s);
    return 0;
}

static int directive(mw_vector *v, char d, const char *arg, unsigned flags)
{
    mw_vec_segment *sg = &v->seg[v->nseg - 1];
    int input_s = (flags & MW_VEC_INPUT_S) != 0;
    switch (d) {
    case 'C':
    case 'S':
    case 'c':
    case 's': {
        int upper = d == 'C' || d == 'S';
        int is_input = (d == 'S' || d == 's') == input_s;
        mw_vbuf *b = is_input ? &sg->bytes : &v->out;
        mw_vbuf_unescape(b, arg);
        if (upper) mw_vbuf_add(b, "\r\n", 2);
        return 0;
    }
    case 'O':
        return push(v->opts, &v->nopts, COUNT(v->opts), arg);
    case 'E':
        return push(v->events, &v->nevents, COUNT(v->events), arg);
    case 'X':
        return push(v->expect, &v->nexpect, COUNT(v->expect), arg);
    case 'A':
        if (v->nanswers < COUNT(v->answers)) v->answer_after[v->nanswers] = v->nevents;
        return push(v->answers, &v->nanswers, COUNT(v->answers), arg);
    case 'T':
        if (v->nseg >= COUNT(v->seg)) return -1;
        snprintf(sg->step, sizeof sg->step, "%s", arg);
        v->nseg++;
        return 0;
    default:
        return -1;
    }
}

int mw_vector_load(const char *path, mw_vector *v, unsigned flags)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    memset(v, 0, sizeof *v);
    const char *base = strrchr(path, '/');
    snprintf(v->name, sizeof v->name, "%s", base ? base + 1 : path);
    v->nseg = 1;
    char line[8192];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0 || line[0] == '#') continue;
        if (n < 2 || line[1] != ':' ||
            directive(v, line[0], line[2] == ' ' ? line + 3 : line + 2, flags)) {
            fprintf(stderr, "%s: bad, unknown or one too many: %s\n", path, line);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

void mw_vector_free(mw_vector *v)
{
    for (size_t i = 0; i < v->nopts; i++)
        free(v->opts[i]);
    for (size_t i = 0; i < v->nseg; i++)
        free(v->seg[i].bytes.p);
    free(v->out.p);
    for (size_t i = 0; i < v->nevents; i++)
        free(v->events[i]);
    for (size_t i = 0; i < v->nanswers; i++)
        free(v->answers[i]);
    for (size_t i = 0; i < v->nexpect; i++)
        free(v->expect[i]);
}

int mw_vector_expects(const mw_vector *v, const char *x)
{
    for (size_t i = 0; i < v->nexpect; i++)
        if (!strcmp(v->expect[i], x)) return 1;
    return 0;
}

void mw_vector_option_check(const char *opt, int rc)
{
    if (rc == MW_OK) return;
    if (rc == MW_VEC_UNKNOWN_OPTION)
        fprintf(stderr, "unknown option %s\n", opt);
    else
        fprintf(stderr, "option %s failed: %d\n", opt, rc);
    abort();
}

/* ---- replaying ------------------------------------------------------------ */

void mw_replay_init(mw_replay *r, const mw_vector *v, const mw_replay_io *io, void *eng,
                    size_t chunk, int zero_copy)
{
    memset(r, 0, sizeof *r);
    r->v = v;
    r->io = io;
    r->eng = eng;
    r->chunk = chunk;
    r->out_chunk = chunk < 8 ? chunk + 3 : (size_t)-1;
    r->zero_copy = zero_copy;
}

void mw_replay_log(mw_replay *r, const char *line)
{
    if (r->nlog < COUNT(r->log)) r->log[r->nlog++] = mw_vstrdup(line);
}

void mw_replay_fail(mw_replay *r, const char *line)
{
    mw_replay_log(r, line);
    r->failed = 1;
}

const char *mw_replay_next_answer(mw_replay *r)
{
    if (r->next_answer >= r->v->nanswers) {
        mw_replay_fail(r, "!! paused event without an answer");
        return NULL;
    }
    return r->v->answers[r->next_answer++];
}

const char *mw_replay_answer_word(const char *args, char *word, size_t cap)
{
    const char *p = strchr(args, ' '), *e;
    size_t n;
    word[0] = '\0';
    if (!p) return NULL;
    p++;
    e = strchr(p, ' ');
    n = e ? (size_t)(e - p) : strlen(p);
    snprintf(word, cap, "%.*s", (int)n, p);
    return e ? e + 1 : NULL;
}

void mw_replay_answered(mw_replay *r, const char *answer, int rc)
{
    char t[160];
    if (rc == MW_OK) return;
    snprintf(t, sizeof t, "!! answer '%.100s' failed: %d", answer, rc);
    mw_replay_fail(r, t);
}

void mw_replay_drain(mw_replay *r)
{
    size_t len;
    const unsigned char *p;
    while ((p = r->io->out_buf(r->eng, &len)) != NULL) {
        size_t n = len < r->out_chunk ? len : r->out_chunk;
        mw_vbuf_add(&r->out, p, n);
        r->io->out_ack(r->eng, n);
    }
}

void mw_replay_body(mw_replay *r, mw_slice data)
{
    mw_vbuf_add(&r->body, data.base, data.len);
}

void mw_replay_flush_body(mw_replay *r)
{
    if (!r->body.len) return;
    mw_vbuf b = {0};
    mw_vbuf_slice(&b, "body ", (mw_slice){r->body.p, r->body.len});
    mw_replay_log(r, b.p);
    free(b.p);
    r->body.len = 0;
}

void mw_replay_pump_server(mw_replay *r)
{
    for (int guard = 0; guard < 1000000; guard++) {
        int rc = r->step(r);
        if (rc > 0) continue;
        if (rc == 0) {
            size_t len;
            if (!r->io->out_buf(r->eng, &len)) return;
            mw_replay_drain(r);
            continue;
        }
        mw_replay_drain(r);
        if (rc == MW_ERR_CLOSED) return;
        char t[64];
        snprintf(t, sizeof t, "!! next: %s", mw_strerror(rc));
        mw_replay_fail(r, t);
        return;
    }
}

static void input_error(mw_replay *r, int rc, int from_ack)
{
    if (r->input_error) {
        r->input_error(r, rc);
    } else if (from_ack) {
        char t[80];
        snprintf(t, sizeof t, "!! recv_ack: %s", mw_strerror(rc));
        mw_replay_fail(r, t);
    }
}

/* Offer up to n bytes. @return bytes taken, or -1 when input ends here. */
static mw_ssize offer(mw_replay *r, const char *p, size_t n)
{
    if (!r->zero_copy) {
        mw_ssize t = r->io->feed(r->eng, p, n);
        if (t < 0) input_error(r, (int)t, 0);
        return t < 0 ? -1 : t;
    }
    size_t cap;
    unsigned char *w = r->io->recv_buf(r->eng, &cap);
    if (!w) { /* closed, failed or full: feed() says which */
        mw_ssize e = r->input_error ? r->io->feed(r->eng, p, n) : 0;
        if (e < 0) input_error(r, (int)e, 0);
        return -1;
    }
    size_t took = n < cap ? n : cap;
    memcpy(w, p, took);
    int rc = r->io->recv_ack(r->eng, took);
    if (rc) {
        input_error(r, rc, 1);
        return -1;
    }
    return (mw_ssize)took;
}

static void feed_all(mw_replay *r, const mw_vbuf *b)
{
    size_t off = 0;
    r->pump(r);
    while (!r->stop && off < b->len) {
        size_t n = b->len - off < r->chunk ? b->len - off : r->chunk;
        mw_ssize took = offer(r, b->p + off, n);
        if (took < 0) break;
        off += (size_t)took;
        if (r->check_stuck && took == 0 && (r->io->state(r->eng) & MW_WANT_READ)) {
            mw_replay_fail(r, "!! stuck: input refused while readable");
            break;
        }
        r->pump(r);
    }
    r->pump(r);
}

void mw_replay_segments(mw_replay *r)
{
    const mw_vector *v = r->v;
    for (size_t i = 0; i < v->nseg; i++) {
        feed_all(r, &v->seg[i].bytes);
        if (r->stop) continue;
        if (!strcmp(v->seg[i].step, "tls")) {
            if (!(r->io->state(r->eng) & MW_TLS_HANDOFF))
                mw_replay_fail(r, "!! expected TLS handoff");
            int rc = r->io->tls_started(r->eng);
            if (rc && r->tls_error)
                r->tls_error(r, rc);
            else if (rc)
                r->failed = 1;
            mw_replay_drain(r);
        } else if (!strcmp(v->seg[i].step, "eof")) {
            r->io->eof(r->eng);
            r->pump(r);
        }
    }
    mw_replay_drain(r);
}

static int expectations_met(mw_replay *r)
{
    unsigned st = r->io->state(r->eng);
    for (size_t i = 0; i < r->v->nexpect; i++) {
        const char *x = r->v->expect[i];
        if (!strcmp(x, "closed") && !(st & MW_CLOSED)) return 0;
        if (!strcmp(x, "open") && (st & (MW_CLOSED | MW_TLS_HANDOFF))) return 0;
        if (!strcmp(x, "handoff") && !(st & MW_TLS_HANDOFF)) return 0;
        if (!strncmp(x, "discarded ", 10) &&
            (!r->io->tls_discarded || r->io->tls_discarded(r->eng) != strtoull(x + 10, NULL, 10)))
            return 0;
    }
    return 1;
}

static void dump(mw_replay *r, int ok)
{
    const mw_vector *v = r->v;
    fprintf(stderr, "vector %s chunk %zu%s: %s\n", v->name, r->chunk,
            r->zero_copy ? " (zero-copy)" : "", ok ? "ok" : "MISMATCH");
    mw_test_dump("  output  ", r->out.p ? r->out.p : "", r->out.len);
    mw_test_dump("  expected", v->out.p ? v->out.p : "", v->out.len);
    for (size_t i = 0; i < r->nlog; i++)
        fprintf(stderr, "  E: %s%s\n", r->log[i],
                i < v->nevents && !strcmp(r->log[i], v->events[i]) ? "" : "   <-- differs");
    fprintf(stderr,
            "  (%zu events expected, %zu answers used of %zu, state 0x%x, discarded %llu)\n",
            v->nevents, r->next_answer, v->nanswers, r->io->state(r->eng),
            r->io->tls_discarded ? (unsigned long long)r->io->tls_discarded(r->eng) : 0ull);
}

int mw_replay_server(mw_replay *r, int (*step)(mw_replay *r), int verbose)
{
    r->pump = mw_replay_pump_server;
    r->step = step;
    r->check_stuck = 1;
    mw_replay_segments(r);
    return mw_replay_finish(r, 1, verbose, 0);
}

int mw_replay_finish(mw_replay *r, int ok, int verbose, int answers_free)
{
    const mw_vector *v = r->v;
    mw_replay_flush_body(r);
    ok = ok && !r->failed;
    if (r->out.len != v->out.len ||
        memcmp(r->out.p ? r->out.p : "", v->out.p ? v->out.p : "", v->out.len))
        ok = 0;
    if (r->nlog != v->nevents) ok = 0;
    for (size_t i = 0; ok && i < r->nlog; i++)
        if (strcmp(r->log[i], v->events[i])) ok = 0;
    if (!answers_free && r->next_answer != v->nanswers) ok = 0;
    if (!expectations_met(r)) ok = 0;
    if (!ok || verbose) dump(r, ok);
    for (size_t i = 0; i < r->nlog; i++)
        free(r->log[i]);
    free(r->out.p);
    free(r->body.p);
    r->nlog = 0;
    r->out.p = r->body.p = NULL;
    return ok;
}

/* ---- a directory of vectors ------------------------------------------------ */

static int replay_all_ways(const mw_vector *v, mw_replay_fn replay, int verbose)
{
    int ok = replay(v, (size_t)-1, 0, verbose);
    if (mw_vector_expects(v, "whole-only")) return ok && replay(v, (size_t)-1, 1, 0);
    for (size_t chunk = 1; ok && chunk <= 8; chunk++)
        ok = replay(v, chunk, 0, 0);
    for (size_t chunk = 1; ok && chunk <= 9; chunk++)
        ok = replay(v, chunk == 9 ? (size_t)-1 : chunk, 1, 0);
    return ok;
}

int mw_vectors_run_dir(const char *dir, const char *prefix, const char *only_env,
                       unsigned load_flags, mw_replay_fn replay, int (*more)(const mw_vector *v))
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d) return 0;
    const char *only = only_env ? getenv(only_env) : NULL;
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".txt") ||
            strncmp(e->d_name, prefix, strlen(prefix)))
            continue;
        if (only && !strstr(e->d_name, only)) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        mw_vector *v = calloc(1, sizeof *v);
        if (!v) abort();
        CHECK_INT(mw_vector_load(path, v, load_flags), 0);
        int ok = replay_all_ways(v, replay, only != NULL);
        if (ok && more && !mw_vector_expects(v, "whole-only")) ok = more(v);
        if (!ok) mw_test_fail(__FILE__, __LINE__, "vector %s", e->d_name);
        mw_vector_free(v);
        free(v);
        count++;
    }
    closedir(d);
    return count;
}
