/*
 * mw-smtpd relay: send the queue through one smarthost with the mailwire
 * SMTP client engine. Blocking sockets (a flush runs in a child process of
 * the daemon, or alone with --flush-queue), one message per connection;
 * the engine does every line of the protocol, this file the transport
 * (plain or STARTTLS), the retry schedule and the bounces.
 *
 * Per recipient: a 2xx for the message means delivered (removed from the
 * entry); a 5xx is a permanent failure (a DSN to the sender); a 4xx or a
 * broken connection keeps the recipient queued and schedules the next
 * attempt with backoff, until the entry is older than the maximum age
 * (then a DSN too). The schedule lives in the envelope file:
 *   ARRIVAL <unix seconds>, ATTEMPTS <n>, NEXT <unix seconds>.
 *
 * The connection itself (TCP, STARTTLS by policy, AUTH, the engine's
 * events) is examples/common/mwx_smtpc, the driver mw-send uses too; its
 * per-recipient results carry the whole reply (code, enhanced status,
 * text) a DSN needs, a refused MAIL's included.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtpd.h"
#include "mwx_log.h"
#include "mwx_smtpc.h"
#include "compose.h"

#include <mailwire/mime.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIAG_MAX 400
#define MAX_BACKOFF_SEC (4 * 3600)

struct rcpt_state {
    int code;             /* final SMTP code, 0 = nothing final learnt */
    char status[16];      /* RFC 3463 status of that reply, "" if none */
    char diag[DIAG_MAX];  /* the reply, for the DSN's Diagnostic-Code */
};

struct entry {
    char id[256];
    char from[320];
    mwx_strlist rcpts;
    struct rcpt_state *st;
    long long arrival, next;
    long attempts;
    char fail[DIAG_MAX]; /* why the whole attempt failed (connection, greeting) */
};

/* ------------------------------------------------------------------ */
/* One queue entry                                                     */
/* ------------------------------------------------------------------ */

/* "MAIL FROM:<a>", "RCPT TO:<b>" lines (queue_envelope writes them) and
 * the schedule lines ARRIVAL, ATTEMPTS, NEXT. */
static int read_envelope(const char *env_path, const char *msg_path, struct entry *e)
{
    char line[400];
    struct stat sb;
    FILE *f = fopen(env_path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        char *lt = strchr(line, '<'), *gt = strrchr(line, '>');
        if (sscanf(line, "ARRIVAL %lld", &e->arrival) == 1 ||
            sscanf(line, "ATTEMPTS %ld", &e->attempts) == 1 || sscanf(line, "NEXT %lld", &e->next) == 1)
            continue;
        if (!lt || !gt || gt < lt) continue;
        *gt = '\0';
        if (strncmp(line, "MAIL FROM:", 10) == 0)
            snprintf(e->from, sizeof e->from, "%s", lt + 1);
        else if (strncmp(line, "RCPT TO:", 8) == 0 &&
                 mwx_strlist_push(&e->rcpts, lt + 1, strlen(lt + 1)) != 0)
            break;
    }
    fclose(f);
    if (e->arrival == 0) /* an entry from before the schedule lines */
        e->arrival = stat(msg_path, &sb) == 0 ? (long long)sb.st_mtime : (long long)time(NULL);
    e->st = calloc(e->rcpts.n ? e->rcpts.n : 1, sizeof *e->st);
    return e->st && e->rcpts.n ? 0 : -1;
}

/* Keep what settled recipient i, for the log and the DSN. */
static void note(struct entry *e, size_t i, const mwx_smtpc_rcpt_result *r)
{
    struct rcpt_state *s = &e->st[i];
    size_t k;
    s->code = r->code;
    snprintf(s->status, sizeof s->status, "%s", r->status);
    snprintf(s->diag, sizeof s->diag, "%d %.*s", r->code, DIAG_MAX - 8, r->text);
    for (k = 0; s->diag[k]; k++) /* one line in the DSN field */
        if ((unsigned char)s->diag[k] < 0x20 || (unsigned char)s->diag[k] > 0x7e)
            s->diag[k] = (s->diag[k] == '\n' || s->diag[k] == '\r') ? ' ' : '?';
}

/* "host:port" or "[v6]:port". @return 0, -1 (malformed or too long). */
static int split_hostport(const char *hostport, char *buf, size_t cap, const char **host,
                          const char **port)
{
    char *p;
    if (strlen(hostport) >= cap) return -1;
    strcpy(buf, hostport);
    if (buf[0] == '[') {
        *host = buf + 1;
        p = strchr(buf, ']');
        if (!p || p[1] != ':') return -1;
        *p = '\0';
        *port = p + 2;
        return 0;
    }
    p = strrchr(buf, ':');
    if (!p) return -1;
    *p = '\0';
    *host = buf;
    *port = p + 1;
    return 0;
}

/* The queued file starts with our Return-Path line, which belongs to the
 * final delivery (RFC 5321 §4.4), not to the next hop: the descriptor is
 * left just after it. @return the descriptor or -1. */
static int open_body(const char *path)
{
    char buf[4096];
    off_t skip = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (n > 13 && memcmp(buf, "Return-Path: ", 13) == 0) {
        const char *nl = memchr(buf, '\n', (size_t)n);
        if (nl) skip = (off_t)(nl + 1 - buf);
    }
    if (n < 0 || lseek(fd, skip, SEEK_SET) < 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

/* The driver's problem lines, one log line each; the last one says why
 * the attempt failed. */
static void log_problems(struct entry *e, const char *text, const char *fail)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        int len = (int)(nl ? (size_t)(nl - p) : strlen(p));
        mwx_log("relay id=%s: %.*s", e->id, len, p);
        p = nl ? nl + 1 : NULL;
    }
    snprintf(e->fail, sizeof e->fail, "%s", fail);
}

/* One SMTP transaction through the smarthost; fills e->st. Codes stay 0
 * where nothing final was learnt (e->fail says why). */
static void transact(const smtpd_config *cfg, const char *relay_host, const char *msg_path,
                     struct entry *e)
{
    char hp[300], *errs = NULL;
    size_t i, errs_len = 0;
    mwx_smtpc_conf conf;
    mwx_smtpc_outcome out;
    mwx_smtpc_rcpt_result *res = calloc(e->rcpts.n, sizeof *res);
    FILE *err = open_memstream(&errs, &errs_len);
    int fd = open_body(msg_path);
    memset(&conf, 0, sizeof conf);
    memset(&out, 0, sizeof out);
    if (!res || !err || fd < 0 ||
        split_hostport(relay_host, hp, sizeof hp, &conf.host, &conf.port) != 0) {
        snprintf(e->fail, sizeof e->fail, "cannot start an attempt through %s", relay_host);
        mwx_log("relay id=%s: %s", e->id, e->fail);
    } else {
        conf.name = "smarthost";
        conf.opts = cfg->client_opts; /* EHLO name, STARTTLS policy, plaintext AUTH */
        conf.tls = cfg->relay_tls == MW_SMTP_TLS_REQUIRED        ? MWX_SMTPC_TLS_STARTTLS
                   : cfg->relay_tls == MW_SMTP_TLS_OPPORTUNISTIC ? MWX_SMTPC_TLS_OPPORTUNISTIC
                                                                 : MWX_SMTPC_TLS_NONE;
        conf.tls_config = cfg->relay_tls_cfg;
        conf.user = cfg->relay_user;
        conf.password = cfg->relay_pass;
        mwx_smtpc_send(&conf, e->from, (const char *const *)e->rcpts.v, e->rcpts.n, fd, 0, res,
                       &out, err);
        fflush(err);
        if (out.ready) mwx_log("relay id=%s: session ready%s", e->id, out.tls ? " (TLS)" : "");
        log_problems(e, errs, out.fail);
        for (i = 0; i < e->rcpts.n; i++)
            if (res[i].code) note(e, i, &res[i]);
    }
    if (err) fclose(err);
    free(errs);
    if (fd >= 0) close(fd);
    free(res);
}

/* ------------------------------------------------------------------ */
/* Bounces (RFC 3464)                                                  */
/* ------------------------------------------------------------------ */

struct dsn_out {
    mwx_spool *sp;
    mw_mime_builder *b;
};

static int drain(struct dsn_out *o)
{
    const unsigned char *p;
    size_t len;
    while ((p = mw_mime_builder_out_buf(o->b, &len)) != NULL) {
        if (mwx_spool_write(o->sp, p, len) != 0) return -1;
        mw_mime_builder_out_ack(o->b, len);
    }
    return 0;
}

static int put(struct dsn_out *o, const char *s, size_t len)
{
    while (len > 0) {
        mw_ssize n = mw_mime_builder_write(o->b, s, len);
        if (n < 0 || drain(o) != 0) return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

static int hdr(struct dsn_out *o, const char *name, const char *value)
{
    int rc = mw_mime_builder_header(o->b, name, value, strlen(value));
    return rc == MW_OK && drain(o) == 0 ? 0 : -1;
}

static void rfc5322_date(long long when, char *out, size_t cap)
{
    time_t t = (time_t)when;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* The original message's header block (without our Return-Path). */
static int put_original_headers(struct dsn_out *o, const char *msg_path)
{
    char line[1000];
    FILE *f = fopen(msg_path, "r");
    int first = 1, rc = 0;
    if (!f) return -1;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        if (line[0] == '\r' || line[0] == '\n') break;
        if (first && strncmp(line, "Return-Path: ", 13) == 0) {
            first = 0;
            continue;
        }
        first = 0;
        rc = put(o, line, strlen(line));
    }
    fclose(f);
    return rc;
}

/* The message/delivery-status part: one block per failed recipient. */
static int put_delivery_status(const smtpd_config *cfg, const struct entry *e, const int *failed,
                               struct dsn_out *o)
{
    char arrival[64];
    char (*status)[16] = calloc(e->rcpts.n, sizeof *status);
    mw_mime_dsn_rcpt *r = calloc(e->rcpts.n, sizeof *r);
    size_t i, n = 0;
    const char *remote = cfg->relay_host ? cfg->relay_host : "smarthost";
    if (!status || !r) {
        free(status);
        free(r);
        return -1;
    }
    for (i = 0; i < e->rcpts.n; i++) {
        const struct rcpt_state *s = &e->st[i];
        if (!failed[i]) continue;
        /* a 5xx without an enhanced code: 5.0.0; expiry: 5.4.7 (RFC 3463 §3.5) */
        snprintf(status[n], sizeof status[n], "%s",
                 s->code >= 500 ? (s->status[0] == '5' ? s->status : "5.0.0") : "5.4.7");
        r[n].final_recipient = e->rcpts.v[i];
        r[n].action = "failed";
        r[n].status = status[n];
        r[n].remote_mta = s->diag[0] ? remote : NULL;
        r[n].diagnostic_code = s->diag[0] ? s->diag : NULL;
        n++;
    }
    rfc5322_date(e->arrival, arrival, sizeof arrival);
    mw_mime_dsn d = {cfg->hostname, NULL, NULL, arrival, r, n};
    mw_ssize need = mw_mime_dsn_format(&d, NULL, 0);
    char *body = need > 0 ? malloc((size_t)need) : NULL;
    int rc = -1;
    if (body && mw_mime_dsn_format(&d, body, (size_t)need) == need &&
        mw_mime_builder_part_begin(o->b, "message/delivery-status", NULL, MW_MIME_CTE_7BIT, NULL,
                                   NULL, NULL, 0) == MW_OK &&
        put(o, body, (size_t)need) == 0 && mw_mime_builder_part_end(o->b) == MW_OK)
        rc = 0;
    if (need < 0) mwx_log("relay id=%s: DSN status part: %s", e->id, mw_strerror((int)need));
    free(body);
    free(status);
    free(r);
    return rc;
}

/* The human-readable part and the machine-readable status (RFC 3464 §2). */
static int build_dsn(const smtpd_config *cfg, const struct entry *e, const int *failed,
                     const char *msg_path, struct dsn_out *o)
{
    char buf[1200], date[64], boundary[80];
    size_t i;
    rfc5322_date((long long)time(NULL), date, sizeof date);
    snprintf(boundary, sizeof boundary, "=_mw-dsn-%.60s", e->id);
    for (i = 0; boundary[i]; i++) /* RFC 2046 bchars only */
        if (boundary[i] == ',' ) boundary[i] = '.';
    snprintf(buf, sizeof buf, "Mail Delivery System <MAILER-DAEMON@%s>", cfg->hostname);
    if (hdr(o, "From", buf) || hdr(o, "To", e->from) || hdr(o, "Date", date)) return -1;
    if (mw_mime_builder_header_text(o->b, "Subject", "Undelivered Mail Returned to Sender", 35) != MW_OK)
        return -1;
    snprintf(buf, sizeof buf, "<%lld.%s@%s>", (long long)time(NULL), e->id, cfg->hostname);
    for (i = 0; buf[i]; i++)
        if (buf[i] == ',' || buf[i] == '=') buf[i] = '.';
    if (hdr(o, "Message-ID", buf) || hdr(o, "Auto-Submitted", "auto-replied") ||
        mw_mime_builder_multipart_begin(o->b, "report", boundary, "report-type=delivery-status") != MW_OK)
        return -1;
    /* 1: for people */
    if (mw_mime_builder_part_begin(o->b, "text/plain", "us-ascii", MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0) != MW_OK)
        return -1;
    snprintf(buf, sizeof buf, "This is the mail system at %s.\r\n\r\nYour message could not be "
             "delivered to the following recipient(s):\r\n\r\n", cfg->hostname);
    if (put(o, buf, strlen(buf))) return -1;
    for (i = 0; i < e->rcpts.n; i++) {
        if (!failed[i]) continue;
        snprintf(buf, sizeof buf, "<%s>: %s\r\n", e->rcpts.v[i],
                 e->st[i].diag[0] ? e->st[i].diag : e->fail[0] ? e->fail : "delivery time expired");
        if (put(o, buf, strlen(buf))) return -1;
    }
    if (mw_mime_builder_part_end(o->b) != MW_OK) return -1;
    /* 2: for programs, formatted by the library (RFC 3464 §2) */
    if (put_delivery_status(cfg, e, failed, o) != 0) return -1;
    /* 3: the original header (RFC 6522 text/rfc822-headers) */
    if (mw_mime_builder_part_begin(o->b, "text/rfc822-headers", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0) != MW_OK ||
        put_original_headers(o, msg_path) != 0 || mw_mime_builder_part_end(o->b) != MW_OK ||
        mw_mime_builder_multipart_end(o->b) != MW_OK || mw_mime_builder_finish(o->b) != MW_OK)
        return -1;
    return drain(o);
}

/* Build the DSN and hand it to normal delivery: the sender's Maildir when
 * local, the queue (from <>) when remote. */
static int bounce(const smtpd_config *cfg, const struct entry *e, const int *failed, const char *msg_path)
{
    smtpd_txn t;
    struct dsn_out o;
    int rc = -1;
    if (e->from[0] == '\0') { /* RFC 3464 §2 / RFC 5321 §4.5.5: never bounce a bounce */
        mwx_log("relay id=%s: null sender, no DSN", e->id);
        return 0;
    }
    if (!cfg->maildir_root) {
        mwx_log("relay id=%s: no --maildir-root: DSN to <%s> not generated", e->id, e->from);
        return -1;
    }
    memset(&t, 0, sizeof t);
    t.spool.fd = -1;
    o.sp = &t.spool;
    o.b = mw_mime_builder_new(NULL, 0, 0);
    if (o.b && mwx_strlist_push(&t.rcpts, e->from, strlen(e->from)) == 0 &&
        smtpd_body_begin(cfg, &t) == 0 && smtpd_body_trace(cfg, &t, "") == 0 &&
        build_dsn(cfg, e, failed, msg_path, &o) == 0 && t.spool.err == 0)
        rc = smtpd_deliver(cfg, &t);
    mw_mime_builder_free(o.b);
    mwx_log("relay id=%s: DSN to <%s> %s%s", e->id, e->from, rc == 0 ? "sent as " : "failed",
            rc == 0 ? t.spool.name : "");
    smtpd_txn_reset(&t);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Settling an attempt                                                 */
/* ------------------------------------------------------------------ */

static long long backoff(const smtpd_config *cfg, long attempts)
{
    long long d = cfg->retry_sec > 0 ? cfg->retry_sec : 300;
    while (--attempts > 0 && d < MAX_BACKOFF_SEC)
        d *= 2;
    return d < MAX_BACKOFF_SEC ? d : MAX_BACKOFF_SEC;
}

/* Log each result, bounce the failed recipients, rewrite the envelope with
 * the ones still to try or remove the entry. @return 0 done, 1 kept, -1. */
static int settle(const smtpd_config *cfg, struct entry *e, const char *env_path, const char *msg_path)
{
    char tmp[4200];
    size_t i, left = 0, nfailed = 0;
    long long now = (long long)time(NULL);
    int expired = cfg->max_age_sec > 0 && now - e->arrival >= cfg->max_age_sec;
    int *failed = calloc(e->rcpts.n, sizeof *failed);
    FILE *f;
    if (!failed) return -1;
    e->attempts++;
    for (i = 0; i < e->rcpts.n; i++) {
        const struct rcpt_state *s = &e->st[i];
        if (s->code / 100 == 2) {
            mwx_log("relay id=%s to=<%s> attempt=%ld result=%d sent", e->id, e->rcpts.v[i], e->attempts, s->code);
        } else if (s->code >= 500 || expired) {
            failed[i] = 1;
            nfailed++;
            mwx_log("relay id=%s to=<%s> attempt=%ld result=%d failed permanently: %s", e->id,
                    e->rcpts.v[i], e->attempts, s->code, s->diag[0] ? s->diag : expired ? "too old" : e->fail);
        } else {
            left++;
            mwx_log("relay id=%s to=<%s> attempt=%ld result=%d deferred: %s", e->id, e->rcpts.v[i],
                    e->attempts, s->code, s->diag[0] ? s->diag : e->fail[0] ? e->fail : "connection failed");
        }
    }
    if (nfailed > 0) bounce(cfg, e, failed, msg_path);
    free(failed);
    if (left == 0) {
        unlink(env_path); /* the envelope first: an entry without one is never sent */
        unlink(msg_path);
        return 0;
    }
    e->next = now + backoff(cfg, e->attempts);
    snprintf(tmp, sizeof tmp, "%s/tmp/%s.env", cfg->queue_dir, e->id);
    f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "MAIL FROM:<%s>\r\n", e->from);
    for (i = 0; i < e->rcpts.n; i++)
        if (e->st[i].code / 100 != 2 && e->st[i].code < 500)
            fprintf(f, "RCPT TO:<%s>\r\n", e->rcpts.v[i]);
    fprintf(f, "ARRIVAL %lld\r\nATTEMPTS %ld\r\nNEXT %lld\r\n", e->arrival, e->attempts, e->next);
    if (fclose(f) != 0 || rename(tmp, env_path) != 0) return -1;
    mwx_log("relay id=%s: %zu recipient(s) deferred, attempt %ld, next in %llds", e->id, left,
            e->attempts, e->next - now);
    return 1;
}

static int flush_entry(const smtpd_config *cfg, const char *relay_host, const char *id, int force)
{
    char env_path[4200], msg_path[4200];
    struct entry e;
    int rc = -1;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", id);
    snprintf(env_path, sizeof env_path, "%s/env/%s", cfg->queue_dir, id);
    snprintf(msg_path, sizeof msg_path, "%s/new/%s", cfg->queue_dir, id);
    if (read_envelope(env_path, msg_path, &e) != 0) {
        mwx_log("relay id=%s: unreadable envelope, left in place", id);
        goto out;
    }
    if (!force && e.next > (long long)time(NULL)) {
        rc = 1; /* not due yet */
        goto out;
    }
    transact(cfg, relay_host, msg_path, &e);
    rc = settle(cfg, &e, env_path, msg_path);
out:
    mwx_strlist_clear(&e.rcpts);
    free(e.st);
    return rc;
}

/* One flush at a time per queue (the daemon's child and a manual
 * --flush-queue must not send an entry twice): QUEUE/flush.lock.
 * @return the locked descriptor, -1 when another flush holds it. */
static int lock_queue(const smtpd_config *cfg)
{
    char path[4200];
    int fd;
    snprintf(path, sizeof path, "%s/flush.lock", cfg->queue_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return errno == ENOENT ? -2 : -1; /* no queue yet: nothing to do */
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    close(fd);
    mwx_log("relay: another flush of %s is running; skipped", cfg->queue_dir);
    return -1;
}

static int flush_locked(const smtpd_config *cfg, const char *relay_host, int force)
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
    /* Names first: settle() renames envelopes into this directory (and a
     * bounce may add one), and an entry must not come round twice. */
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && mwx_strlist_push(&ids, de->d_name, strlen(de->d_name)) != 0)
            pending = -1;
    closedir(d);
    for (i = 0; pending >= 0 && i < ids.n; i++)
        if (flush_entry(cfg, relay_host, ids.v[i], force) != 0) pending = 1;
    mwx_strlist_clear(&ids);
    if (pending == 0 && (d = opendir(dir)) != NULL) { /* a bounce for a remote sender was queued */
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.') pending = 1;
        closedir(d);
    }
    return pending;
}

int smtpd_flush_queue(const smtpd_config *cfg, const char *relay_host, int force)
{
    int rc, fd = lock_queue(cfg);
    if (fd == -2) return 0;
    if (fd < 0) return 1;
    rc = flush_locked(cfg, relay_host, force);
    close(fd); /* releases the lock */
    return rc;
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
    _exit(smtpd_flush_queue(cfg, cfg->relay_host, 0) < 0 ? 1 : 0);
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
