/*
 * mw-smtpd: an SMTP server built from the mailwire SMTP engine, the shared
 * poll loop, Maildir store and configuration files of examples/common.
 * All protocol logic is in the library; these files decide who may send
 * what to whom and where the bytes go.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef SMTPD_H
#define SMTPD_H

#include "mwx_conf.h"
#include "mwx_maildir.h"
#include "mwx_net.h"

#include <mailwire/sasl.h>
#include <mailwire/smtp.h>
#include <mailwire/smtp_client.h>

#include <stdint.h>

/** Everything the command line configures; shared by all connections. */
typedef struct smtpd_config {
    const char *hostname;
    const char *maildir_root;           /* ROOT/<user>/Maildir */
    const char *queue_dir;              /* relay mode: NULL = no relaying */
    char spool_dir[4096];               /* ROOT/.spool: bodies are written here first */
    mwx_table *users;                   /* NULL: any well-formed local part is a mailbox */
    mwx_table *aliases;                 /* may be NULL */
    mwx_table *domains;                 /* local domains (never NULL) */
    int sink;                           /* discard bodies (benchmarks) */
    int relay_open;                     /* relay without AUTH */
    int trace;                          /* add Return-Path: and Received: */
    int quiet;                          /* no log line per transaction */
    mw_smtp_server_opts *opts;          /* plaintext/STARTTLS listeners */
    mw_smtp_server_opts *opts_implicit; /* implicit-TLS listeners */
    mw_sasl_options *sasl_opts;
    mw_smtp_client_opts *client_opts; /* --flush-queue, --relay-host */
    /* Daemon with --relay-host: a child process flushes the queue. */
    const char *relay_host;
    int64_t flush_interval_ms, next_flush;
    int flush_soon; /* a message was just queued */
    long flush_pid; /* the running flush child, 0 if none */
    int relay_tls;          /* MW_SMTP_TLS_* for the smarthost */
    void *relay_tls_cfg;    /* mw_tls_config * (client), NULL without TLS support */
    const char *relay_user; /* AUTH to the smarthost (NULL: none) */
    const char *relay_pass;
    long long retry_sec;    /* first retry delay; doubles per attempt (max 4 h) */
    long long max_age_sec;  /* bounce what is still queued after this long */
} smtpd_config;

/** The loop's callbacks for SMTP sessions (session.c); user = smtpd_config. */
extern const mwx_handlers smtpd_handlers;

/** One transaction's envelope and body, as delivery needs them. */
typedef struct smtpd_txn {
    char from[320];    /* reverse-path, "" for <> */
    mwx_strlist rcpts; /* accepted forward-paths, as given */
    mwx_spool spool;   /* the body (spool.fd >= 0 while open) */
    int spool_failed;  /* opening or writing the spool failed */
    int queued;        /* smtpd_deliver put it in the relay queue */
    int started;       /* the body has begun (DATA accepted or first BDAT) */
} smtpd_txn;

/* delivery.c */

/** Is addr a recipient we take? @return 0 yes, else an SMTP code (550...)
 *  with *enh and *text set to the reply. */
int smtpd_rcpt_check(const smtpd_config *cfg, const char *addr, int authenticated, const char **enh,
                     const char **text);

/** Open the spool (its name becomes the queue id). @return 0, -1. */
int smtpd_body_begin(const smtpd_config *cfg, smtpd_txn *t);

/** Write Return-Path: and the given Received: field first (when cfg->trace). @return 0, -1. */
int smtpd_body_trace(const smtpd_config *cfg, smtpd_txn *t, const char *received);

/** Deliver the finished body to every recipient (aliases expanded) and
 *  the relay queue. @return 0 when every copy is stored, -1 otherwise. */
int smtpd_deliver(const smtpd_config *cfg, smtpd_txn *t);

/** Forget the transaction (unlinks an unfinished spool). */
void smtpd_txn_reset(smtpd_txn *t);

/* relay.c */

/** Send every queue entry through relay_host ("host:port") once.
 *  @return 0 when the queue is empty afterwards, 1 when entries remain
 *  (deferred), -1 when the queue cannot be read. force: also the entries
 *  whose next attempt is not due yet. */
int smtpd_flush_queue(const smtpd_config *cfg, const char *relay_host, int force);

/** mwx_handlers.tick for the daemon: start a flush child every
 *  flush_interval_ms, or soon after a message was queued; reap it. */
void smtpd_relay_tick(void *user);

/** Wait for a running flush child (at shutdown). */
void smtpd_relay_wait(smtpd_config *cfg);

#endif
