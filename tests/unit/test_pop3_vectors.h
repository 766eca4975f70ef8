/*
 * Dialog-vector reader shared by the POP3 server and client tests (the
 * format of tests/unit/test_smtp_server.c):
 *   O: option          engine option
 *   C: text            peer bytes, escapes \r \n \t \0 \\ \xHH, CRLF appended
 *   c: text            peer bytes without the CRLF
 *   S: text            expected engine output, CRLF appended (s: without)
 *   E: text            expected event log line
 *   A: answer          answer to the next paused event / caller action
 *   T: tls | eof       transport step after the peer bytes above it
 *   X: expectation     checked at the end
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_POP3_VECTORS_H
#define TEST_POP3_VECTORS_H

#include "mw_test.h"

#include <dirent.h>
#include <stdlib.h>

/* ---- small growable byte strings ------------------------------------- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static inline void buf_add(buf *b, const void *d, size_t n)
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

static inline void buf_puts(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static inline void buf_escape(buf *b, const char *p, size_t n)
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

static inline void unescape(buf *b, const char *s)
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

static inline char *dupstr(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (!d) abort();
    memcpy(d, s, n + 1);
    return d;
}

static inline int load_vector(const char *path, vector *v)
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

static inline void free_vector(vector *v)
{
    for (size_t i = 0; i < v->nopts; i++) free(v->opts[i]);
    for (size_t i = 0; i < v->nseg; i++) free(v->seg[i].bytes.p);
    free(v->out.p);
    for (size_t i = 0; i < v->nevents; i++) free(v->events[i]);
    for (size_t i = 0; i < v->nanswers; i++) free(v->answers[i]);
    for (size_t i = 0; i < v->nexpect; i++) free(v->expect[i]);
}

#endif
