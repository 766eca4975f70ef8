/*
 * mw-smtpd: who is a recipient, where a message goes (Maildirs, the relay
 * queue), and the files written for it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtpd.h"
#include "mwx_log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LOCAL_PART 64 /* RFC 5321 §4.5.3.1.1 */

/* A local part becomes a directory name: only a safe, lower-case subset
 * is a mailbox, so no address can reach outside ROOT. */
static int mailbox_name(const char *addr, char *out, size_t cap)
{
    const char *domain;
    size_t i, len = mwx_addr_split(addr, &domain);
    if (len == 0 || len > MAX_LOCAL_PART || len >= cap || addr[0] == '.') return -1;
    for (i = 0; i < len; i++) {
        char c = (char)tolower((unsigned char)addr[i]);
        if (!isalnum((unsigned char)c) && c != '.' && c != '_' && c != '-' && c != '+') return -1;
        if (c == '.' && i > 0 && out[i - 1] == '.') return -1;
        out[i] = c;
    }
    out[len] = '\0';
    return 0;
}

static int is_local(const smtpd_config *cfg, const char *addr)
{
    const char *domain;
    mwx_addr_split(addr, &domain);
    return *domain == '\0' || mwx_domains_has(cfg->domains, domain, strlen(domain));
}

/* A mailbox exists if the users file has it (or there is no users file);
 * postmaster always exists (RFC 5321 §4.5.1). */
static int mailbox_exists(const smtpd_config *cfg, const char *box)
{
    return !cfg->users || mwx_users_password(cfg->users, box, strlen(box)) ||
           strcmp(box, "postmaster") == 0;
}

static int is_alias(const smtpd_config *cfg, const char *addr)
{
    mwx_strlist out = {0};
    int alias;
    if (!cfg->aliases || mwx_aliases_expand(cfg->aliases, cfg->domains, addr, &out) != 0) {
        mwx_strlist_clear(&out);
        return 0;
    }
    alias = !(out.n == 1 && strcasecmp(out.v[0], addr) == 0);
    mwx_strlist_clear(&out);
    return alias;
}

int smtpd_rcpt_check(const smtpd_config *cfg, const char *addr, int authenticated, const char **enh,
                     const char **text)
{
    char box[MAX_LOCAL_PART + 1];
    if (cfg->sink) return 0;
    if (is_local(cfg, addr)) {
        if (is_alias(cfg, addr)) return 0;
        if (mailbox_name(addr, box, sizeof box) != 0) {
            *enh = "5.1.3", *text = "Bad recipient mailbox name";
            return 550;
        }
        if (mailbox_exists(cfg, box)) return 0;
        *enh = "5.1.1", *text = "No such user here";
        return 550;
    }
    if (!cfg->queue_dir) {
        *enh = "5.7.1", *text = "Relaying denied";
        return 550;
    }
    if (!authenticated && !cfg->relay_open) {
        *enh = "5.7.1", *text = "Relaying denied: authenticate first";
        return 550;
    }
    return 0;
}

int smtpd_body_begin(const smtpd_config *cfg, smtpd_txn *t)
{
    t->started = 1;
    if (mwx_spool_open(&t->spool, cfg->spool_dir) == 0) return 0;
    mwx_log("spool %s: %s", cfg->spool_dir, strerror(errno));
    t->spool_failed = 1;
    return -1;
}

int smtpd_body_trace(const smtpd_config *cfg, smtpd_txn *t, const char *received)
{
    char rp[400];
    if (!cfg->trace) return 0;
    /* RFC 5321 §4.4: the Return-Path records the reverse-path, the
     * Received line this hop; both go before the message as received. */
    snprintf(rp, sizeof rp, "Return-Path: <%s>\r\n", t->from);
    if (mwx_spool_write(&t->spool, rp, strlen(rp)) != 0 ||
        mwx_spool_write(&t->spool, received, strlen(received)) != 0)
        t->spool_failed = 1;
    return t->spool_failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The relay queue                                                     */
/* ------------------------------------------------------------------ */

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* QUEUE/env/<id>: the envelope, as the SMTP commands that replay it. It is
 * written after QUEUE/new/<id> (the message) and renamed into place, so
 * its presence means the queue entry is complete. */
static int queue_envelope(const smtpd_config *cfg, const smtpd_txn *t, const char *id,
                          const mwx_strlist *relay)
{
    char tmp[4096], final[4096], line[400], envdir[4096];
    size_t i;
    int fd, rc = 0;
    if ((size_t)snprintf(envdir, sizeof envdir, "%s/env", cfg->queue_dir) >= sizeof envdir ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/tmp/%s.env", cfg->queue_dir, id) >= sizeof tmp ||
        (size_t)snprintf(final, sizeof final, "%s/%s", envdir, id) >= sizeof final)
        return errno = ENAMETOOLONG, -1;
    if (mwx_maildir_create(cfg->queue_dir) != 0 || (mkdir(envdir, 0700) != 0 && errno != EEXIST))
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", t->from);
    rc |= write_all(fd, line, strlen(line));
    for (i = 0; i < relay->n; i++) {
        snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", relay->v[i]);
        rc |= write_all(fd, line, strlen(line));
    }
    rc |= fsync(fd);
    rc |= close(fd);
    if (rc == 0) rc = rename(tmp, final);
    if (rc != 0) unlink(tmp);
    return rc;
}

static int queue_message(const smtpd_config *cfg, const smtpd_txn *t, const mwx_strlist *relay)
{
    char id[256];
    if (mwx_spool_deliver(&t->spool, cfg->queue_dir) != 0) return -1;
    snprintf(id, sizeof id, "%s,S=%llu", t->spool.name, (unsigned long long)t->spool.size);
    return queue_envelope(cfg, t, id, relay);
}

/* ------------------------------------------------------------------ */
/* Delivery                                                            */
/* ------------------------------------------------------------------ */

/* One copy per mailbox: "bob@example.org" and "bob@localhost" (two local
 * domains) or a user reached directly and through an alias share one. */
static int deliver_local(const smtpd_config *cfg, const smtpd_txn *t, const char *addr,
                         mwx_strlist *done)
{
    char box[MAX_LOCAL_PART + 1], dir[4096];
    if (mailbox_name(addr, box, sizeof box) != 0 || !mailbox_exists(cfg, box)) {
        mwx_log("id=%s: alias member <%s> is not a mailbox: skipped", t->spool.name, addr);
        return 0;
    }
    if (mwx_strlist_has(done, box)) return 0;
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s/Maildir", cfg->maildir_root, box) < sizeof dir &&
        mwx_spool_deliver(&t->spool, dir) == 0)
        return mwx_strlist_push(done, box, strlen(box));
    mwx_log("id=%s: delivery to %s: %s", t->spool.name, dir, strerror(errno));
    return -1;
}

/* Expand aliases over every recipient; deduplicated final addresses. */
static int expand_all(const smtpd_config *cfg, const smtpd_txn *t, mwx_strlist *out)
{
    size_t i;
    for (i = 0; i < t->rcpts.n; i++)
        if (mwx_aliases_expand(cfg->aliases, cfg->domains, t->rcpts.v[i], out) != 0) return -1;
    return 0;
}

int smtpd_deliver(const smtpd_config *cfg, smtpd_txn *t)
{
    mwx_strlist all = {0}, relay = {0}, done = {0};
    size_t i;
    int rc = 0;
    if (t->spool_failed || mwx_spool_finish(&t->spool) != 0) return -1;
    if (expand_all(cfg, t, &all) != 0) rc = -1;
    for (i = 0; rc == 0 && i < all.n; i++) {
        if (is_local(cfg, all.v[i]))
            rc = deliver_local(cfg, t, all.v[i], &done);
        else if (cfg->queue_dir)
            rc = mwx_strlist_push(&relay, all.v[i], strlen(all.v[i]));
    }
    if (rc == 0 && relay.n > 0 && queue_message(cfg, t, &relay) != 0) {
        mwx_log("id=%s: queue %s: %s", t->spool.name, cfg->queue_dir, strerror(errno));
        rc = -1;
    }
    mwx_strlist_clear(&all);
    mwx_strlist_clear(&relay);
    mwx_strlist_clear(&done);
    mwx_spool_discard(&t->spool); /* the tmp name; delivered copies are links */
    return rc;
}

void smtpd_txn_reset(smtpd_txn *t)
{
    mwx_spool_discard(&t->spool);
    mwx_strlist_clear(&t->rcpts);
    t->from[0] = '\0';
    t->spool_failed = 0;
    t->started = 0;
}
