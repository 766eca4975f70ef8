/*
 * SMTP client dialog vectors (tests/vectors/smtp/client/NAME.txt), each
 * replayed with the server bytes fed whole and at every chunk size 1..8.
 *
 *   O: option     lmtp | no-pipelining | host NAME
 *   S: text       server bytes, CRLF appended (s: without); escapes \r \n \0 \\ \xHH
 *   D: action     ehlo | helo | mail ADDR [PARAMS] | rcpt ADDR [PARAMS] | data |
 *                 body ESCAPED | end | bdat N [last] | rset | noop | quit |
 *                 starttls | tls | auth MECH [ESCAPED-IR|=] | authresp ESCAPED |
 *                 authcancel | eof ; "=> CODE" at the end: the expected result
 *                 (default MW_OK; for body, all octets consumed)
 *   C: text       expected client bytes, CRLF appended (c: without)
 *   R: text       expected reply log line: "CMD CODE [enh=E] text=T lines=N [idx=I] [ext=X]"
 *   X: state      closed | handoff | open | whole-only (timing-dependent: fed whole only)
 *
 * Server bytes above a D: line are fed before the action runs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/smtp.h>

#include <dirent.h>
#include <stdlib.h>

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const void *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_unescape(sbuf *b, const char *s)
{
    while (*s) {
        if (*s != '\\') {
            sb_add(b, s++, 1);
            continue;
        }
        s++;
        char c = *s ? *s++ : '\\';
        unsigned char v;
        if (c == 'r') sb_add(b, "\r", 1);
        else if (c == 'n') sb_add(b, "\n", 1);
        else if (c == '0') sb_add(b, "", 1);
        else if (c == 'x' && s[0] && s[1]) {
            char hex[3] = {s[0], s[1], 0};
            v = (unsigned char)strtoul(hex, NULL, 16);
            sb_add(b, &v, 1);
            s += 2;
        } else sb_add(b, &c, 1);
    }
}

static const char *cmd_name(int cmd)
{
    static const char *const n[] = {"?", "greeting", "ehlo", "helo", "starttls", "auth", "mail", "rcpt",
                                    "data", "data-end", "bdat", "rset", "noop", "quit"};
    return cmd >= 0 && cmd <= MW_SMTP_CMD_QUIT ? n[cmd] : "?";
}

typedef struct crun {
    mw_smtp_client *c;
    sbuf out, log;
    int failed;
} crun;

static void log_reply(crun *r, const mw_smtp_reply *rep)
{
    char t[256];
    snprintf(t, sizeof t, "%s %d", cmd_name(rep->cmd), rep->code);
    sb_add(&r->log, t, strlen(t));
    if (rep->enhanced.len) {
        sb_add(&r->log, " enh=", 5);
        sb_add(&r->log, rep->enhanced.base, rep->enhanced.len);
    }
    sb_add(&r->log, " text=", 6);
    sb_add(&r->log, rep->text.base, rep->text.len);
    snprintf(t, sizeof t, " lines=%zu", rep->nlines);
    sb_add(&r->log, t, strlen(t));
    if (rep->cmd == MW_SMTP_CMD_RCPT || rep->cmd == MW_SMTP_CMD_DATA_END) {
        snprintf(t, sizeof t, " idx=%zu", rep->rcpt_index);
        sb_add(&r->log, t, strlen(t));
    }
    if (rep->ext) {
        snprintf(t, sizeof t, " ext=%#x size=%llu auth=", rep->ext, (unsigned long long)rep->size);
        sb_add(&r->log, t, strlen(t));
        sb_add(&r->log, rep->auth.base, rep->auth.len);
    }
    sb_add(&r->log, "\n", 1);
}

static void pull(crun *r)
{
    const mw_smtp_reply *rep;
    int t;
    while ((t = mw_smtp_client_next(r->c, &rep)) == MW_SMTP_CEV_REPLY) log_reply(r, rep);
    if (t < 0 && t != MW_ERR_CLOSED) {
        char e[64];
        snprintf(e, sizeof e, "error %d\n", t);
        /* log an error once */
        if (!r->log.len || !strstr(r->log.p, e)) sb_add(&r->log, e, strlen(e));
    }
}

static void drain_out(crun *r)
{
    size_t n;
    const unsigned char *p;
    while ((p = mw_smtp_client_out_buf(r->c, &n)) != NULL) {
        sb_add(&r->out, p, n);
        mw_smtp_client_out_ack(r->c, n);
    }
}

static void feed_server(crun *r, sbuf *s, size_t chunk)
{
    size_t off = 0;
    while (off < s->len) {
        size_t n = s->len - off < chunk ? s->len - off : chunk;
        mw_ssize t = mw_smtp_client_feed(r->c, s->p + off, n);
        if (t <= 0) {
            pull(r);
            if (t < 0) break;
            t = mw_smtp_client_feed(r->c, s->p + off, n);
            if (t <= 0) break;
        }
        off += (size_t)t;
        pull(r);
    }
    pull(r);
    s->len = 0;
}

static int action(crun *r, char *a)
{
    char *arrow = strstr(a, " => ");
    int want = MW_OK;
    if (arrow) {
        want = atoi(arrow + 4);
        *arrow = 0;
    }
    char verb[32] = "", x[512] = "", y[512] = "";
    sscanf(a, "%31s %511s %511[^\n]", verb, x, y);
    int rc = MW_OK;
    sbuf tmp = {0};
    if (!strcmp(verb, "ehlo")) rc = mw_smtp_client_ehlo(r->c);
    else if (!strcmp(verb, "helo")) rc = mw_smtp_client_helo(r->c);
    else if (!strcmp(verb, "mail")) rc = mw_smtp_client_mail(r->c, strcmp(x, "<>") ? x : "", y[0] ? y : NULL);
    else if (!strcmp(verb, "rcpt")) rc = mw_smtp_client_rcpt(r->c, x, y[0] ? y : NULL);
    else if (!strcmp(verb, "data")) rc = mw_smtp_client_data(r->c);
    else if (!strcmp(verb, "end")) rc = mw_smtp_client_body_end(r->c);
    else if (!strcmp(verb, "rset")) rc = mw_smtp_client_rset(r->c);
    else if (!strcmp(verb, "noop")) rc = mw_smtp_client_noop(r->c);
    else if (!strcmp(verb, "quit")) rc = mw_smtp_client_quit(r->c);
    else if (!strcmp(verb, "starttls")) rc = mw_smtp_client_starttls(r->c);
    else if (!strcmp(verb, "tls")) rc = mw_smtp_client_tls_started(r->c);
    else if (!strcmp(verb, "eof")) {
        rc = mw_smtp_client_eof(r->c);
        pull(r);
    } else if (!strcmp(verb, "authcancel")) rc = mw_smtp_client_auth_response(r->c, NULL, 0);
    else if (!strcmp(verb, "bdat")) rc = mw_smtp_client_bdat(r->c, strtoull(x, NULL, 10), !strcmp(y, "last"));
    else if (!strcmp(verb, "body") || !strcmp(verb, "authresp")) {
        sb_unescape(&tmp, a + strlen(verb) + (a[strlen(verb)] ? 1 : 0));
        if (verb[0] == 'b') {
            mw_ssize t = mw_smtp_client_body_write(r->c, tmp.p ? tmp.p : "", tmp.len);
            rc = t == (mw_ssize)tmp.len ? MW_OK : (t < 0 ? (int)t : MW_ERR_LIMIT);
        } else {
            rc = mw_smtp_client_auth_response(r->c, tmp.p ? tmp.p : "", tmp.len);
        }
    } else if (!strcmp(verb, "auth")) {
        if (!x[0]) rc = mw_smtp_client_auth(r->c, "", NULL, 0);
        else if (!y[0]) rc = mw_smtp_client_auth(r->c, x, NULL, 0);
        else if (!strcmp(y, "=")) rc = mw_smtp_client_auth(r->c, x, "", 0);
        else {
            sb_unescape(&tmp, y);
            rc = mw_smtp_client_auth(r->c, x, tmp.p, tmp.len);
        }
    } else {
        fprintf(stderr, "unknown action %s\n", a);
        rc = -999;
    }
    free(tmp.p);
    drain_out(r);
    if (rc != want) {
        fprintf(stderr, "  action '%s' gave %d, expected %d\n", a, rc, want);
        return 0;
    }
    return 1;
}

static int replay(const char *path, size_t chunk, int verbose)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    mw_smtp_client_opts *o = mw_smtp_client_opts_new(NULL);
    mw_smtp_client_opts_set_hostname(o, "client.example.net");
    crun r;
    memset(&r, 0, sizeof r);
    sbuf server = {0}, want_out = {0}, want_log = {0};
    char line[8192];
    int ok = 1, created = 0;
    char expect_state[32] = "";
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0 || line[0] == '#') continue;
        char *arg = n > 2 && line[2] == ' ' ? line + 3 : line + 2;
        if (line[0] == 'O') {
            if (!strcmp(arg, "lmtp")) mw_smtp_client_opts_set_flags(o, MW_SMTP_CLIENT_LMTP, 1);
            else if (!strcmp(arg, "no-pipelining")) mw_smtp_client_opts_set_flags(o, MW_SMTP_CLIENT_NO_PIPELINING, 1);
            else if (!strncmp(arg, "host ", 5)) mw_smtp_client_opts_set_hostname(o, arg + 5);
            continue;
        }
        if (!created) {
            CHECK_INT(mw_smtp_client_new(NULL, o, &r.c), MW_OK);
            created = 1;
        }
        switch (line[0]) {
        case 'S': sb_unescape(&server, arg); sb_add(&server, "\r\n", 2); break;
        case 's': sb_unescape(&server, arg); break;
        case 'C': sb_unescape(&want_out, arg); sb_add(&want_out, "\r\n", 2); break;
        case 'c': sb_unescape(&want_out, arg); break;
        case 'R': sb_add(&want_log, arg, strlen(arg)); sb_add(&want_log, "\n", 1); break;
        case 'X':
            if (strcmp(arg, "whole-only")) snprintf(expect_state, sizeof expect_state, "%.31s", arg);
            break;
        case 'D':
            feed_server(&r, &server, chunk);
            ok &= action(&r, arg);
            break;
        default: ok = 0;
        }
    }
    fclose(f);
    if (!created) CHECK_INT(mw_smtp_client_new(NULL, o, &r.c), MW_OK);
    feed_server(&r, &server, chunk);
    drain_out(&r);
    unsigned st = mw_smtp_client_state(r.c);
    if (!strcmp(expect_state, "closed") && !(st & MW_CLOSED)) ok = 0;
    if (!strcmp(expect_state, "handoff") && !(st & MW_TLS_HANDOFF)) ok = 0;
    if (!strcmp(expect_state, "open") && (st & (MW_CLOSED | MW_TLS_HANDOFF))) ok = 0;
    if (r.out.len != want_out.len || (r.out.len && memcmp(r.out.p, want_out.p, r.out.len))) ok = 0;
    if (r.log.len != want_log.len || (r.log.len && memcmp(r.log.p, want_log.p, r.log.len))) ok = 0;
    if (!ok || verbose) {
        fprintf(stderr, "client vector %s chunk %zu: %s\n", path, chunk, ok ? "ok" : "MISMATCH");
        mw_test_dump("  client out", r.out.p ? r.out.p : "", r.out.len);
        mw_test_dump("  expected  ", want_out.p ? want_out.p : "", want_out.len);
        fprintf(stderr, "  replies:\n%s  expected:\n%s  state %#x\n", r.log.p ? r.log.p : "",
                want_log.p ? want_log.p : "", st);
    }
    mw_smtp_client_free(r.c);
    mw_smtp_client_opts_free(o);
    free(server.p);
    free(want_out.p);
    free(want_log.p);
    free(r.out.p);
    free(r.log.p);
    return ok;
}

/* "X: whole-only": the outcome depends on what arrives in one read. */
static int whole_only(const char *path)
{
    FILE *f = fopen(path, "rb");
    char line[8192];
    int w = 0;
    while (f && fgets(line, sizeof line, f)) w |= !strncmp(line, "X: whole-only", 13);
    if (f) fclose(f);
    return w;
}

static void test_client_vectors(void)
{
    const char *dir = MW_TEST_VECTORS_DIR "/smtp/client";
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d) return;
    const char *only = getenv("MW_SMTP_VECTOR");
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".txt")) continue;
        if (only && !strstr(e->d_name, only)) continue;
        char path[900];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int ok = replay(path, (size_t)-1, only != NULL);
        for (size_t chunk = 1; ok && !whole_only(path) && chunk <= 8; chunk++) ok = replay(path, chunk, 0);
        if (!ok) mw_test_fail(__FILE__, __LINE__, "client vector %s", e->d_name);
        count++;
    }
    closedir(d);
    CHECK(count >= 6 || only);
}

int main(void)
{
    MW_RUN(test_client_vectors);
    return mw_test_finish();
}
