/*
 * A small SMTP load generator for bench/smtpd-vs-sink.sh: like Postfix's
 * smtp-source (which has no command pipelining), but able to pipeline the
 * envelope (RFC 2920). Every session is a non-blocking socket served by
 * one poll() loop, so the generator costs about as much CPU as
 * smtp-source does.
 *
 *   bench_smtp_load [-P] [-d] [-s SESSIONS] [-m MESSAGES] [-l LENGTH]
 *                   [-f FROM] [-t TO] HOST:PORT
 *
 *   -P  pipelining: EHLO (PIPELINING must be advertised), then MAIL, RCPT
 *       and DATA in one write; the body, its ".", and the next envelope
 *       (with -d) or QUIT in one write (RFC 2920 §3.1: the message content
 *       may start a group). Without -P each command waits for its reply,
 *       after HELO, exactly like smtp-source.
 *   -d  keep the connection for the next message (smtp-source -d);
 *       without it every message has its own connection.
 *
 * Every reply is checked (2xx, 354 after DATA); any other reply, a lost
 * connection or a malformed reply ends the run with exit status 1.
 * Prints nothing on success (time it from outside). Exit 2: usage.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SESSIONS 1000
#define RBUF 8192

/* What the session's current group of commands was. */
enum group {
    G_GREET,     /* (connect) -> 220 */
    G_HELO,      /* HELO or EHLO */
    G_MAIL,      /* lock-step: one command per reply */
    G_RCPT,
    G_DATA,      /* -> 354 */
    G_BODY,      /* body and "." -> 250 */
    G_QUIT,      /* -> 221, then close */
    G_ENV,       /* pipelined MAIL RCPT DATA -> 250 250 354 */
    G_BODY_ENV,  /* pipelined body, MAIL RCPT DATA -> 250 250 250 354 */
    G_BODY_QUIT, /* pipelined body, QUIT -> 250 221 */
};

typedef struct sess {
    int fd;               /* -1: finished */
    enum group group;
    unsigned expect;      /* replies the group still waits for */
    int pipelining_seen;  /* EHLO advertised PIPELINING */
    char *out;            /* pending output */
    size_t out_len, out_off, out_cap;
    char in[RBUF];
    size_t in_len;
} sess;

static struct {
    int pipelining, reuse;
    unsigned sessions;
    unsigned long messages, claimed, done;
    size_t length;
    const char *from, *to;
    struct addrinfo *ai;
    char *body; /* headers + payload + ".\r\n" */
    size_t body_len;
    char envelope[1024];
    size_t envelope_len;
} g;

static void die(const char *what)
{
    fprintf(stderr, "bench_smtp_load: %s\n", what);
    exit(1);
}

static void out_add(sess *s, const char *p, size_t n)
{
    if (s->out_off == s->out_len) s->out_off = s->out_len = 0;
    if (s->out_len + n > s->out_cap) {
        size_t cap = (s->out_len + n) * 2;
        char *q = realloc(s->out, cap);
        if (!q) die("out of memory");
        s->out = q;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, p, n);
    s->out_len += n;
}

static void out_str(sess *s, const char *str)
{
    out_add(s, str, strlen(str));
}

/* Like smtp-source: a few header fields, then LENGTH octets of text lines
 * (CRLF counted), then the terminating ".". No line starts with '.'. */
static void make_body(void)
{
    size_t cap = g.length + 1024, o;
    g.body = malloc(cap);
    if (!g.body) die("out of memory");
    o = (size_t)snprintf(g.body, cap,
                         "From: <%s>\r\nTo: <%s>\r\nSubject: load test\r\n"
                         "Message-Id: <load@bench>\r\n\r\n",
                         g.from, g.to);
    for (size_t left = g.length; left > 0;) {
        size_t line = left > 80 ? 80 : left < 2 ? 2 : left;
        if (left > line && left - line == 1) line--; /* never leave a 1-octet tail */
        for (size_t i = 0; i + 2 < line; i++)
            g.body[o++] = (char)('a' + (i + left) % 26);
        g.body[o++] = '\r';
        g.body[o++] = '\n';
        left -= line < left ? line : left;
    }
    memcpy(g.body + o, ".\r\n", 3);
    g.body_len = o + 3;
    g.envelope_len = (size_t)snprintf(g.envelope, sizeof g.envelope,
                                      "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", g.from, g.to);
}

static void sess_connect(sess *s)
{
    int one = 1;
    s->fd = socket(g.ai->ai_family, SOCK_STREAM, 0);
    if (s->fd < 0) die("socket failed");
    if (connect(s->fd, g.ai->ai_addr, g.ai->ai_addrlen) != 0) die("connect failed");
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->group = G_GREET;
    s->expect = 1;
    s->pipelining_seen = 0;
    s->in_len = s->out_len = s->out_off = 0;
}

static void set_group(sess *s, enum group gr, unsigned replies)
{
    s->group = gr;
    s->expect = replies;
}

static int claim(void)
{
    if (g.claimed == g.messages) return 0;
    g.claimed++;
    return 1;
}

static void send_quit(sess *s)
{
    out_str(s, "QUIT\r\n");
    set_group(s, G_QUIT, 1);
}

static void start_message(sess *s)
{
    if (!claim()) {
        send_quit(s);
    } else if (g.pipelining) {
        out_add(s, g.envelope, g.envelope_len);
        set_group(s, G_ENV, 3);
    } else {
        out_str(s, "MAIL FROM:<");
        out_str(s, g.from);
        out_str(s, ">\r\n");
        set_group(s, G_MAIL, 1);
    }
}

/* Pipelined: the body, and in the same write what follows it. */
static void send_body_pipelined(sess *s)
{
    out_add(s, g.body, g.body_len);
    if (g.reuse && claim()) {
        out_add(s, g.envelope, g.envelope_len);
        set_group(s, G_BODY_ENV, 4);
    } else {
        out_str(s, "QUIT\r\n");
        set_group(s, G_BODY_QUIT, 2);
    }
}

/* The current group is answered: queue the next one. */
static void advance(sess *s)
{
    switch (s->group) {
    case G_GREET:
        out_str(s, g.pipelining ? "EHLO bench\r\n" : "HELO bench\r\n");
        set_group(s, G_HELO, 1);
        break;
    case G_HELO:
        if (g.pipelining && !s->pipelining_seen) die("the server does not offer PIPELINING");
        start_message(s);
        break;
    case G_MAIL:
        out_str(s, "RCPT TO:<");
        out_str(s, g.to);
        out_str(s, ">\r\n");
        set_group(s, G_RCPT, 1);
        break;
    case G_RCPT:
        out_str(s, "DATA\r\n");
        set_group(s, G_DATA, 1);
        break;
    case G_DATA:
        out_add(s, g.body, g.body_len);
        set_group(s, G_BODY, 1);
        break;
    case G_BODY:
        g.done++;
        if (g.reuse)
            start_message(s);
        else
            send_quit(s);
        break;
    case G_BODY_ENV:
        g.done++;
        /* fall through */
    case G_ENV:
        send_body_pipelined(s);
        break;
    case G_BODY_QUIT:
        g.done++;
        /* fall through */
    case G_QUIT:
        close(s->fd);
        s->fd = -1;
        if (g.claimed < g.messages) sess_connect(s);
        break;
    }
}

/* One complete reply (its last line) arrived. */
static void on_reply(sess *s, const char *line)
{
    int last_of_data_group = s->expect == 1 && (s->group == G_DATA || s->group == G_ENV ||
                                                 s->group == G_BODY_ENV);
    char want = last_of_data_group ? '3' : '2';
    if (s->expect == 0) die("unexpected reply");
    if (line[0] != want) {
        fprintf(stderr, "bench_smtp_load: unexpected reply: %.80s\n", line);
        exit(1);
    }
    if (--s->expect == 0) advance(s);
}

/* Parse whole lines out of the input buffer. */
static void parse_input(sess *s)
{
    size_t start = 0;
    for (size_t i = 0; i < s->in_len; i++) {
        char *line = s->in + start;
        size_t len;
        if (s->in[i] != '\n') continue;
        len = i + 1 - start;
        start = i + 1;
        if (len < 5 || line[0] < '2' || line[0] > '5') die("malformed reply");
        if (s->group == G_HELO && len >= 14 && !memcmp(line + 4, "PIPELINING", 10))
            s->pipelining_seen = 1;
        if (line[3] == '-') continue; /* more lines of this reply */
        on_reply(s, line);
        if (s->fd < 0 || s->in_len == 0) return; /* closed, or reconnected */
    }
    memmove(s->in, s->in + start, s->in_len - start);
    s->in_len -= start;
    if (s->in_len == sizeof s->in) die("reply line too long");
}

static void sess_read(sess *s)
{
    ssize_t n = recv(s->fd, s->in + s->in_len, sizeof s->in - s->in_len, 0);
    if (n == 0) die("connection closed by the server");
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        die("recv failed");
    }
    s->in_len += (size_t)n;
    parse_input(s);
}

static void sess_write(sess *s)
{
    while (s->out_off < s->out_len) {
        ssize_t n = send(s->fd, s->out + s->out_off, s->out_len - s->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            die("send failed");
        }
        s->out_off += (size_t)n;
    }
}

static int usage(void)
{
    fputs("usage: bench_smtp_load [-P] [-d] [-s SESSIONS] [-m MESSAGES] [-l LENGTH]\n"
          "                       [-f FROM] [-t TO] HOST:PORT\n",
          stderr);
    return 2;
}

static int parse_args(int argc, char **argv)
{
    int i;
    char *colon;
    static char host[256];
    struct addrinfo hints;
    g.sessions = 1;
    g.messages = 1;
    g.length = 4096;
    g.from = "load@source.test";
    g.to = "load@example.org";
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-P")) {
            g.pipelining = 1;
            continue;
        }
        if (!strcmp(a, "-d")) {
            g.reuse = 1;
            continue;
        }
        if (!v) return -1;
        i++;
        if (!strcmp(a, "-s"))
            g.sessions = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "-m"))
            g.messages = strtoul(v, NULL, 10);
        else if (!strcmp(a, "-l"))
            g.length = (size_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "-f"))
            g.from = v;
        else if (!strcmp(a, "-t"))
            g.to = v;
        else
            return -1;
    }
    if (i + 1 != argc || g.sessions == 0 || g.sessions > MAX_SESSIONS || g.length > (64u << 20) ||
        strlen(g.from) > 400 || strlen(g.to) > 400 || strlen(argv[i]) >= sizeof host)
        return -1;
    strcpy(host, argv[i]);
    colon = strrchr(host, ':');
    if (!colon) return -1;
    *colon = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, colon + 1, &hints, &g.ai) != 0) die("cannot resolve the address");
    return 0;
}

int main(int argc, char **argv)
{
    static sess ss[MAX_SESSIONS];
    static struct pollfd pfd[MAX_SESSIONS];
    unsigned i;
    if (parse_args(argc, argv) != 0) return usage();
    signal(SIGPIPE, SIG_IGN);
    make_body();
    for (i = 0; i < g.sessions; i++) {
        ss[i].fd = -1;
        if (g.claimed + i < g.messages) sess_connect(&ss[i]);
    }
    for (;;) {
        nfds_t n = 0;
        for (i = 0; i < g.sessions; i++) {
            sess *s = &ss[i];
            pfd[i].fd = s->fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
            if (s->fd < 0) continue;
            sess_write(s);
            if (s->out_off < s->out_len) pfd[i].events |= POLLOUT;
            n++;
        }
        if (n == 0) break;
        if (poll(pfd, g.sessions, -1) < 0 && errno != EINTR) die("poll failed");
        for (i = 0; i < g.sessions; i++) {
            if (ss[i].fd < 0 || pfd[i].fd != ss[i].fd) continue;
            if (pfd[i].revents & POLLOUT) sess_write(&ss[i]);
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) sess_read(&ss[i]);
        }
    }
    if (g.done != g.messages) die("not every message was accepted");
    for (i = 0; i < g.sessions; i++)
        free(ss[i].out);
    free(g.body);
    freeaddrinfo(g.ai);
    return 0;
}
