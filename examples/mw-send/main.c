/*
 * mw-send: a command-line mail user agent. Composes a message with the
 * MIME builder (examples/common/compose.c), or takes a ready message file,
 * and sends it with the SMTP/LMTP client engine through the blocking
 * driver in examples/common/mwx_smtpc.c. See docs/mw-send.md.
 *
 * Exit codes: 0 sent to every recipient, 1 some recipients refused (sent
 * to the others), 2 usage, 3 connection/TLS/AUTH/protocol failure,
 * 4 message refused.
 *
 * SPDX-License-Identifier: MIT
 */
#include "compose.h"
#include "mwx_smtpc.h"

#include <mailwire/smtp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define MAX_LIST 256

static void usage(FILE *f)
{
    fputs("usage: mw-send --server HOST[:PORT] [--starttls|--tls|--no-tls] [--cafile F]\n"
          "               [--insecure] [--user U (--password P | --password-file F)] [--lmtp]\n"
          "               [--helo NAME] [--notify never|success,failure,delay] [--ret full|hdrs]\n"
          "               [--envid ID] [--timeout SECONDS]\n"
          "               --from A --to B [--to C]... [--cc D]... [--bcc E]...\n"
          "               (--subject S [--text FILE|-] [--html FILE] [--attach FILE[:TYPE]]...\n"
          "                | --message FILE) [-v]\n"
          "exit: 0 sent, 1 some recipients refused, 2 usage, 3 connection/TLS/protocol\n"
          "      failure, 4 message refused\n",
          f);
}

typedef struct args {
    const char *server, *cafile, *user, *password, *password_file, *from, *subject;
    const char *text, *html, *message, *helo, *envid;
    const char *to[MAX_LIST], *cc[MAX_LIST], *bcc[MAX_LIST];
    size_t nto, ncc, nbcc;
    mwc_attachment attach[MAX_LIST];
    size_t nattach;
    int tls, tls_given, insecure, lmtp, verbose, ret, timeout;
    unsigned notify;
} args;

static int add(const char **list, size_t *n, const char *v)
{
    if (*n == MAX_LIST) {
        fprintf(stderr, "mw-send: more than %d of one option\n", MAX_LIST);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

static int parse_notify(const char *v, unsigned *out)
{
    char buf[64];
    char *tok, *save = NULL;
    unsigned n = 0;
    if (strlen(v) >= sizeof buf) return -1;
    strcpy(buf, v);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "never") == 0) n |= MW_SMTP_NOTIFY_NEVER;
        else if (strcmp(tok, "success") == 0) n |= MW_SMTP_NOTIFY_SUCCESS;
        else if (strcmp(tok, "failure") == 0) n |= MW_SMTP_NOTIFY_FAILURE;
        else if (strcmp(tok, "delay") == 0) n |= MW_SMTP_NOTIFY_DELAY;
        else return -1;
    }
    if (n == 0 || ((n & MW_SMTP_NOTIFY_NEVER) && n != MW_SMTP_NOTIFY_NEVER)) return -1;
    *out = n;
    return 0;
}

/* "FILE" or "FILE:type/subtype" (the type must hold a '/'). */
static void parse_attach(char *v, mwc_attachment *a)
{
    char *colon = strrchr(v, ':');
    a->path = v;
    a->type = NULL;
    a->name = NULL;
    if (colon && strchr(colon + 1, '/')) {
        *colon = '\0';
        a->type = colon + 1;
    }
}

static int parse_args(int argc, char **argv, args *a)
{
    int i;
    memset(a, 0, sizeof *a);
    a->tls = MWX_SMTPC_TLS_OPPORTUNISTIC;
    for (i = 1; i < argc; i++) {
        const char *o = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(o, "-v") == 0 || strcmp(o, "--verbose") == 0) { a->verbose = 1; takes = 0; }
        else if (strcmp(o, "--starttls") == 0) { a->tls = MWX_SMTPC_TLS_STARTTLS; a->tls_given++; takes = 0; }
        else if (strcmp(o, "--tls") == 0) { a->tls = MWX_SMTPC_TLS_IMPLICIT; a->tls_given++; takes = 0; }
        else if (strcmp(o, "--no-tls") == 0) { a->tls = MWX_SMTPC_TLS_NONE; a->tls_given++; takes = 0; }
        else if (strcmp(o, "--insecure") == 0) { a->insecure = 1; takes = 0; }
        else if (strcmp(o, "--lmtp") == 0) { a->lmtp = 1; takes = 0; }
        else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) { usage(stdout); exit(0); }
        else if (!v) { fprintf(stderr, "mw-send: %s: unknown option or missing value\n", o); return -1; }
        else if (strcmp(o, "--server") == 0) a->server = v;
        else if (strcmp(o, "--cafile") == 0) a->cafile = v;
        else if (strcmp(o, "--user") == 0) a->user = v;
        else if (strcmp(o, "--password") == 0) a->password = v;
        else if (strcmp(o, "--password-file") == 0) a->password_file = v;
        else if (strcmp(o, "--from") == 0) a->from = v;
        else if (strcmp(o, "--subject") == 0) a->subject = v;
        else if (strcmp(o, "--text") == 0) a->text = v;
        else if (strcmp(o, "--html") == 0) a->html = v;
        else if (strcmp(o, "--message") == 0) a->message = v;
        else if (strcmp(o, "--helo") == 0) a->helo = v;
        else if (strcmp(o, "--envid") == 0) a->envid = v;
        else if (strcmp(o, "--to") == 0) { if (add(a->to, &a->nto, v)) return -1; }
        else if (strcmp(o, "--cc") == 0) { if (add(a->cc, &a->ncc, v)) return -1; }
        else if (strcmp(o, "--bcc") == 0) { if (add(a->bcc, &a->nbcc, v)) return -1; }
        else if (strcmp(o, "--attach") == 0) {
            if (a->nattach == MAX_LIST) { fprintf(stderr, "mw-send: too many attachments\n"); return -1; }
            parse_attach(v, &a->attach[a->nattach++]);
        } else if (strcmp(o, "--notify") == 0) {
            if (parse_notify(v, &a->notify)) { fprintf(stderr, "mw-send: bad --notify %s\n", v); return -1; }
        } else if (strcmp(o, "--ret") == 0) {
            if (strcmp(v, "full") == 0) a->ret = MW_SMTP_RET_FULL;
            else if (strcmp(v, "hdrs") == 0) a->ret = MW_SMTP_RET_HDRS;
            else { fprintf(stderr, "mw-send: bad --ret %s (full or hdrs)\n", v); return -1; }
        } else if (strcmp(o, "--timeout") == 0) {
            a->timeout = atoi(v);
            if (a->timeout <= 0 || a->timeout > 86400) { fprintf(stderr, "mw-send: bad --timeout\n"); return -1; }
        } else { fprintf(stderr, "mw-send: unknown option %s\n", o); return -1; }
        i += takes;
    }
    if (!a->server || !a->from || a->nto + a->ncc + a->nbcc == 0) {
        fprintf(stderr, "mw-send: --server, --from and at least one recipient are needed\n");
        return -1;
    }
    if (a->tls_given > 1) { fprintf(stderr, "mw-send: choose one of --starttls, --tls, --no-tls\n"); return -1; }
    if (a->message && (a->subject || a->text || a->html || a->nattach)) {
        fprintf(stderr, "mw-send: --message sends a ready message: no --subject/--text/--html/--attach\n");
        return -1;
    }
    if (!a->message && !a->subject) { fprintf(stderr, "mw-send: --subject (or --message) is needed\n"); return -1; }
    if (a->user && !a->password == !a->password_file) {
        fprintf(stderr, "mw-send: --user needs one of --password or --password-file\n");
        return -1;
    }
    if (!a->user && (a->password || a->password_file)) { fprintf(stderr, "mw-send: a password needs --user\n"); return -1; }
    return 0;
}

/* "HOST", "HOST:PORT", "[V6]:PORT", "[V6]" or a bare IPv6 address. */
static int split_server(const char *s, char *host, size_t cap, const char **port)
{
    const char *colon;
    size_t n;
    *port = NULL;
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (!e) return -1;
        n = (size_t)(e - s - 1);
        if (e[1] == ':') *port = e + 2;
        else if (e[1]) return -1;
        s++;
    } else {
        colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) colon = NULL; /* bare IPv6 */
        n = colon ? (size_t)(colon - s) : strlen(s);
        if (colon) *port = colon + 1;
    }
    if (n == 0 || n >= cap || (*port && !**port)) return -1;
    memcpy(host, s, n);
    host[n] = '\0';
    return 0;
}

/* The addr-spec of "Name <a@b>" or "a@b" (copied into out). */
static int envelope_address(const char *v, char *out, size_t cap)
{
    const char *lt = strrchr(v, '<');
    const char *b = v, *e;
    for (e = v; *e; e++) /* no line breaks or other controls anywhere */
        if ((unsigned char)*e < 0x20 || *e == 0x7f) return -1;
    if (lt) {
        b = lt + 1;
        e = strchr(b, '>');
        if (!e) return -1;
    } else {
        while (*b == ' ' || *b == '\t') b++;
        e = b + strlen(b);
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
    }
    if ((size_t)(e - b) >= cap) return -1;
    memcpy(out, b, (size_t)(e - b));
    out[e - b] = '\0';
    return 0;
}

static int read_password(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n;
    if (!f) {
        fprintf(stderr, "mw-send: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!fgets(out, (int)cap, f)) out[0] = '\0';
    fclose(f);
    n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = '\0';
    if (n == 0) {
        fprintf(stderr, "mw-send: %s: empty password file\n", path);
        return -1;
    }
    return 0;
}

static int sink_fd(void *ctx, const void *data, size_t len)
{
    int fd = *(int *)ctx;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Compose into an unlinked temporary file. @return its fd, or -1. */
static int compose_to_file(const args *a)
{
    const char *dir = getenv("TMPDIR");
    char path[4096], err[256];
    mwc_message m;
    int fd, rc;
    snprintf(path, sizeof path, "%s/mw-send.XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "mw-send: temporary file: %s\n", strerror(errno));
        return -1;
    }
    unlink(path);
    memset(&m, 0, sizeof m);
    m.from = a->from;
    m.to = a->to;
    m.nto = a->nto;
    m.cc = a->cc;
    m.ncc = a->ncc;
    m.subject = a->subject;
    m.text_path = a->text;
    m.html_path = a->html;
    m.attach = a->attach;
    m.nattach = a->nattach;
    rc = mwc_compose(&m, sink_fd, &fd, err, sizeof err);
    if (rc != MWC_OK) {
        fprintf(stderr, "mw-send: %s\n", err);
        close(fd);
        return -1;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    static args a;
    static char host[256], password[1024], from[512];
    static char rbuf[MAX_LIST * 3][512];
    const char *rcpts[MAX_LIST * 3];
    size_t n = 0, i;
    const char *port;
    mwx_smtpc_conf conf;
    struct stat sb;
    int fd, rc;

    if (parse_args(argc, argv, &a) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (split_server(a.server, host, sizeof host, &port) != 0) {
        fprintf(stderr, "mw-send: bad --server %s (HOST[:PORT])\n", a.server);
        return EXIT_USAGE;
    }
    if (!port) port = a.tls == MWX_SMTPC_TLS_IMPLICIT ? "465" : a.lmtp ? "24" : "25";
    if (envelope_address(a.from, from, sizeof from) != 0) {
        fprintf(stderr, "mw-send: bad --from %s\n", a.from);
        return EXIT_USAGE;
    }
    for (i = 0; i < a.nto + a.ncc + a.nbcc; i++) {
        const char *v = i < a.nto ? a.to[i] : i < a.nto + a.ncc ? a.cc[i - a.nto]
                                                                : a.bcc[i - a.nto - a.ncc];
        if (envelope_address(v, rbuf[n], sizeof rbuf[n]) != 0 || rbuf[n][0] == '\0') {
            fprintf(stderr, "mw-send: bad recipient %s\n", v);
            return EXIT_USAGE;
        }
        rcpts[n] = rbuf[n];
        n++;
    }
    if (a.password_file) {
        if (read_password(a.password_file, password, sizeof password) != 0) return EXIT_USAGE;
        a.password = password;
    }
    if (a.message) {
        fd = open(a.message, O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "mw-send: %s: %s\n", a.message, strerror(errno));
            return EXIT_USAGE;
        }
    } else {
        fd = compose_to_file(&a);
        if (fd < 0) return EXIT_USAGE;
    }
    memset(&conf, 0, sizeof conf);
    conf.host = host;
    conf.port = port;
    conf.tls = a.tls;
    conf.cafile = a.cafile;
    conf.insecure = a.insecure;
    conf.user = a.user;
    conf.password = a.password;
    /* PLAIN/LOGIN in the clear only when the user asked for no TLS. */
    conf.plaintext_auth = a.tls == MWX_SMTPC_TLS_NONE;
    conf.lmtp = a.lmtp;
    conf.helo = a.helo;
    conf.notify = a.notify;
    conf.ret = a.ret;
    conf.envid = a.envid;
    conf.timeout_ms = a.timeout * 1000;
    conf.trace = a.verbose ? stderr : NULL;
    rc = mwx_smtpc_send(&conf, from, rcpts, n, fd,
                        fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0,
                        NULL, NULL, stderr);
    close(fd);
    memset(password, 0, sizeof password);
    return rc;
}
