/*
 * mw-smtpd --flush-queue: send every entry of the relay queue through one
 * smarthost with the mailwire SMTP client engine, then exit. Blocking
 * sockets, one message per connection, no pipelining: this is the simple
 * reference; the engine does every line of the protocol.
 *
 * Per recipient: a 2xx after the data means delivered; a 5xx is a
 * permanent failure (logged; no bounce message is generated yet); a 4xx or
 * a broken connection keeps the recipient queued for the next flush.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtpd.h"
#include "mwx_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define IO_TIMEOUT_SEC 60

struct link {
    int fd;
    mw_smtp_client *c;
};

struct entry {
    char id[256];
    char from[320];
    mwx_strlist rcpts;
    int *codes; /* final SMTP code per recipient, 0 = not tried */
};

/* ------------------------------------------------------------------ */
/* Blocking transport around the client engine                         */
/* ------------------------------------------------------------------ */

static int connect_to(const char *hostport)
{
    char buf[300], *host = buf, *port;
    struct addrinfo hints, *ai = NULL, *p;
    struct timeval tv = {IO_TIMEOUT_SEC, 0};
    int fd = -1;
    if (strlen(hostport) >= sizeof buf) return -1;
    strcpy(buf, hostport);
    if (buf[0] == '[') { /* [v6]:port */
        host = buf + 1;
        port = strchr(host, ']');
        if (!port || port[1] != ':') return -1;
        *port = '\0';
        port += 2;
    } else {
        port = strrchr(buf, ':');
        if (!port) return -1;
        *port++ = '\0';
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0) return -1;
    for (p = ai; p && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype, 0);
        if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd >= 0) { /* a silent server must not hang the flush */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return fd;
}

static int flush_out(struct link *l)
{
    const unsigned char *p;
    size_t len;
    while ((p = mw_smtp_client_out_buf(l->c, &len)) != NULL) {
        ssize_t n = send(l->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        mw_smtp_client_out_ack(l->c, (size_t)n);
    }
    return 0;
}

/* Send what is queued, then read until the engine has a complete reply.
 * @return the reply code, or -1 when the connection or the protocol broke. */
static int wait_reply(struct link *l)
{
    const mw_smtp_reply *r;
    if (flush_out(l) != 0) return -1;
    for (;;) {
        size_t room;
        unsigned char *p;
        ssize_t n;
        int t = mw_smtp_client_next(l->c, &r);
        if (t == MW_SMTP_CEV_REPLY) return r->code;
        if (t < 0) return -1;
        p = mw_smtp_client_recv_buf(l->c, &room);
        if (!p) return -1;
        n = recv(l->fd, p, room, 0);
        if (n <= 0) return -1;
        if (mw_smtp_client_recv_ack(l->c, (size_t)n) != MW_OK) return -1;
    }
}

/* Queue a command (rc from the engine) and wait for its reply. */
static int command(struct link *l, int rc)
{
    return rc == MW_OK ? wait_reply(l) : -1;
}

/* The queued file starts with our Return-Path line, which belongs to the
 * final delivery (RFC 5321 §4.4), not to the next hop: skip it. */
static int send_body(struct link *l, const char *path)
{
    char buf[65536];
    ssize_t n;
    int first = 1, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        const char *p = buf;
        size_t len = (size_t)n;
        if (first && len > 13 && memcmp(p, "Return-Path: ", 13) == 0) {
            const char *nl = memchr(p, '\n', len);
            if (nl) {
                len -= (size_t)(nl + 1 - p);
                p = nl + 1;
            }
        }
        first = 0;
        while (len > 0) {
            mw_ssize took = mw_smtp_client_body_write(l->c, p, len);
            if (took < 0 || flush_out(l) != 0) {
                close(fd);
                return -1;
            }
            p += took;
            len -= (size_t)took;
        }
    }
    close(fd);
    return n < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* One queue entry                                                     */
/* ------------------------------------------------------------------ */

/* Parse "MAIL FROM:<a>" and "RCPT TO:<b>" lines (the format queue_envelope writes). */
static int read_envelope(const char *path, struct entry *e)
{
    char line[400];
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        char *lt = strchr(line, '<'), *gt = strrchr(line, '>');
        if (!lt || !gt || gt < lt) continue;
        *gt = '\0';
        if (strncmp(line, "MAIL FROM:", 10) == 0)
            snprintf(e->from, sizeof e->from, "%s", lt + 1);
        else if (strncmp(line, "RCPT TO:", 8) == 0 &&
                 mwx_strlist_push(&e->rcpts, lt + 1, strlen(lt + 1)) != 0)
            break;
    }
    fclose(f);
    e->codes = calloc(e->rcpts.n ? e->rcpts.n : 1, sizeof *e->codes);
    return e->codes && e->rcpts.n ? 0 : -1;
}

/* One SMTP transaction; fills e->codes. Codes stay 0 where nothing final was learnt. */
static void transact(struct link *l, const char *msg_path, struct entry *e)
{
    size_t i, accepted = 0;
    int code;
    if (wait_reply(l) != 220) return;
    if (command(l, mw_smtp_client_ehlo(l->c)) != 250 &&
        command(l, mw_smtp_client_helo(l->c)) != 250)
        return;
    code = command(l, mw_smtp_client_mail(l->c, e->from, NULL));
    if (code != 250) {
        for (i = 0; code >= 500 && i < e->rcpts.n; i++)
            e->codes[i] = code;
        return;
    }
    for (i = 0; i < e->rcpts.n; i++) {
        code = command(l, mw_smtp_client_rcpt(l->c, e->rcpts.v[i], NULL));
        if (code < 0) return;
        if (code >= 500) e->codes[i] = code;
        if (code / 100 == 2) accepted++;
    }
    if (accepted == 0 || command(l, mw_smtp_client_data(l->c)) != 354) return;
    if (send_body(l, msg_path) != 0 || (code = command(l, mw_smtp_client_body_end(l->c))) < 0)
        return;
    for (i = 0; i < e->rcpts.n; i++)
        if (e->codes[i] == 0 && (code / 100 == 2 || code >= 500)) e->codes[i] = code;
    (void)command(l, mw_smtp_client_quit(l->c));
}

/* Rewrite the envelope with the recipients still to try, or remove the entry. */
static int settle(const smtpd_config *cfg, const struct entry *e, const char *env_path,
                  const char *msg_path)
{
    char tmp[4200];
    size_t i, left = 0;
    FILE *f;
    for (i = 0; i < e->rcpts.n; i++) {
        if (e->codes[i] / 100 == 2)
            mwx_log("relay id=%s to=<%s> result=%d sent", e->id, e->rcpts.v[i], e->codes[i]);
        else if (e->codes[i] >= 500)
            mwx_log("relay id=%s to=<%s> result=%d failed permanently (no bounce generated)", e->id,
                    e->rcpts.v[i], e->codes[i]);
        else
            left++;
    }
    if (left == 0) {
        unlink(env_path); /* the envelope first: an entry without one is never sent */
        unlink(msg_path);
        return 0;
    }
    snprintf(tmp, sizeof tmp, "%s/tmp/%s.env", cfg->queue_dir, e->id);
    f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "MAIL FROM:<%s>\r\n", e->from);
    for (i = 0; i < e->rcpts.n; i++)
        if (e->codes[i] / 100 != 2 && e->codes[i] < 500)
            fprintf(f, "RCPT TO:<%s>\r\n", e->rcpts.v[i]);
    if (fclose(f) != 0 || rename(tmp, env_path) != 0) return -1;
    mwx_log("relay id=%s: %zu recipient(s) deferred", e->id, left);
    return 1;
}

static int flush_entry(const smtpd_config *cfg, const char *relay_host, const char *id)
{
    char env_path[4200], msg_path[4200];
    struct entry e;
    struct link l = {-1, NULL};
    int rc = -1;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", id);
    snprintf(env_path, sizeof env_path, "%s/env/%s", cfg->queue_dir, id);
    snprintf(msg_path, sizeof msg_path, "%s/new/%s", cfg->queue_dir, id);
    if (read_envelope(env_path, &e) != 0) {
        mwx_log("relay id=%s: unreadable envelope, left in place", id);
        goto out;
    }
    l.fd = connect_to(relay_host);
    if (l.fd < 0)
        mwx_log("relay id=%s: cannot connect to %s", id, relay_host);
    else if (mw_smtp_client_new(NULL, cfg->client_opts, &l.c) == MW_OK)
        transact(&l, msg_path, &e);
    rc = settle(cfg, &e, env_path, msg_path);
out:
    if (l.fd >= 0) close(l.fd);
    mw_smtp_client_free(l.c);
    mwx_strlist_clear(&e.rcpts);
    free(e.codes);
    return rc;
}

int smtpd_flush_queue(const smtpd_config *cfg, const char *relay_host)
{
    char dir[4200];
    mwx_strlist ids = {0};
    struct dirent *de;
    size_t i;
    DIR *d;
    int pending = 0;
    snprintf(dir, sizeof dir, "%s/env", cfg->queue_dir);
    d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    /* Names first: settle() renames envelopes into this directory, and a
     * rewritten entry must not come round twice in one flush. */
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && mwx_strlist_push(&ids, de->d_name, strlen(de->d_name)) != 0)
            pending = -1;
    closedir(d);
    for (i = 0; pending >= 0 && i < ids.n; i++)
        if (flush_entry(cfg, relay_host, ids.v[i]) != 0) pending = 1;
    mwx_strlist_clear(&ids);
    return pending;
}

/* ------------------------------------------------------------------ */
/* Flushing from the daemon                                            */
/* ------------------------------------------------------------------ */

/* The flush uses blocking sockets, so it runs in a child process and the
 * poll loop never waits for a smarthost. */
static void flush_child(smtpd_config *cfg)
{
    int fd;
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    /* Client connections and listeners stay the parent's: a copy held
     * here would keep a finished session's TCP connection open. */
    for (fd = 3; fd < 1024; fd++)
        close(fd);
    _exit(smtpd_flush_queue(cfg, cfg->relay_host) < 0 ? 1 : 0);
}

void smtpd_relay_tick(void *user)
{
    smtpd_config *cfg = user;
    int64_t now;
    pid_t pid;
    if (!cfg->relay_host) return;
    if (cfg->flush_pid > 0) {
        int status;
        if (waitpid((pid_t)cfg->flush_pid, &status, WNOHANG) == 0) return; /* still running */
        cfg->flush_pid = 0;
    }
    now = mwx_now_ms();
    if (!cfg->flush_soon && now < cfg->next_flush) return;
    cfg->flush_soon = 0;
    cfg->next_flush = now + cfg->flush_interval_ms;
    pid = fork();
    if (pid == 0) flush_child(cfg);
    if (pid < 0) mwx_log("relay: fork: %s", strerror(errno));
    cfg->flush_pid = pid > 0 ? (long)pid : 0;
}

void smtpd_relay_wait(smtpd_config *cfg)
{
    int status;
    if (cfg->flush_pid > 0) waitpid((pid_t)cfg->flush_pid, &status, 0);
    cfg->flush_pid = 0;
}
