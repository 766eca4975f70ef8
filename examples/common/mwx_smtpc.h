/*
 * mwx_smtpc: a small blocking driver around the SMTP/LMTP client engine
 * (include/mailwire/smtp_client.h) for the example programs: one TCP
 * connection, optional TLS (implicit or STARTTLS, through the OpenSSL
 * adapter), optional AUTH, one message read from a file descriptor.
 * Used by mw-send and by mw-smtpd's relay (its queue flush), which reads
 * the per-recipient replies for its retry schedule and its bounces.
 *
 * All protocol logic stays in the engine: this file only moves bytes,
 * runs the TLS handshake at the handoff, and collects the replies.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MWX_SMTPC_H
#define MWX_SMTPC_H

#include <mailwire/smtp_client.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* TLS modes. */
#define MWX_SMTPC_TLS_OPPORTUNISTIC 0 /* STARTTLS when offered */
#define MWX_SMTPC_TLS_STARTTLS 1      /* STARTTLS required */
#define MWX_SMTPC_TLS_IMPLICIT 2      /* TLS from the first byte (465) */
#define MWX_SMTPC_TLS_NONE 3          /* plaintext only */

/* Outcome, equal to mw-send's exit codes. */
#define MWX_SMTPC_OK 0          /* every recipient accepted, message accepted */
#define MWX_SMTPC_PARTIAL 1     /* some recipients refused, sent to the others */
#define MWX_SMTPC_FAILED 3      /* connection, TLS, AUTH or protocol failure */
#define MWX_SMTPC_REFUSED 4     /* the message was refused (MAIL, all RCPT, DATA, final reply) */

typedef struct mwx_smtpc_conf {
    const char *host;     /* name or address literal to connect to */
    const char *port;     /* service or number */
    int tls;              /* MWX_SMTPC_TLS_* */
    const char *cafile;   /* trust anchors (NULL: the system's) */
    int insecure;         /* do not verify the server certificate */
    const char *user;     /* AUTH when non-NULL */
    const char *password;
    int plaintext_auth;   /* allow PLAIN/LOGIN without TLS */
    int lmtp;             /* LMTP (RFC 2033) */
    const char *helo;     /* EHLO name (NULL: "localhost") */
    unsigned notify;      /* MW_SMTP_NOTIFY_* for every recipient (0: none) */
    int ret;              /* MW_SMTP_RET_* */
    const char *envid;    /* DSN ENVID (NULL: none) */
    int timeout_ms;       /* per read and write; 0: the engine's RFC 5321 timeouts */
    FILE *trace;          /* dialog as C:/S: lines (AUTH redacted); NULL: none */
    const char *name;     /* prefix of the problem lines (NULL: "mw-send") */
    /* Ready engine options (EHLO name, STARTTLS policy, flags) to use
     * instead of helo, lmtp, plaintext_auth and the policy tls implies;
     * tls still says whether TLS is implicit or required. NULL: none. */
    const mw_smtp_client_opts *opts;
    void *tls_config; /* ready mw_tls_config * (client) instead of cafile/insecure */
} mwx_smtpc_conf;

#define MWX_SMTPC_TEXT_MAX 400

/* Per-recipient result. */
typedef struct mwx_smtpc_rcpt_result {
    int rcpt_code;  /* reply to RCPT (0: never answered) */
    int final_code; /* LMTP: its own final reply; SMTP: the message's */
    /* The reply that settled this recipient, 0 while none did: a refused
     * MAIL (for every recipient), its refused RCPT, a refused DATA, or the
     * reply to the message (LMTP: its own). A recipient still at 0 after
     * the call was neither delivered nor refused (connection lost...). */
    int code;
    char status[16];               /* its RFC 3463 enhanced code, "" if none */
    char text[MWX_SMTPC_TEXT_MAX]; /* its text (first line, enhanced code included) */
} mwx_smtpc_rcpt_result;

/* How the session went, beyond the per-recipient results. */
typedef struct mwx_smtpc_outcome {
    int ready;                     /* it got as far as sending the envelope */
    int tls;                       /* ... over TLS */
    char fail[MWX_SMTPC_TEXT_MAX]; /* the last problem line (no prefix), "" if none */
} mwx_smtpc_outcome;

/*
 * Send the message in fd (read from its current offset to EOF; size is
 * its length for SIZE=, 0 when unknown) to every recipient. Writes one
 * English line per problem to err_out (NULL: stderr), with the server's
 * reply text. results (may be NULL) has nrcpts entries; outcome may be
 * NULL.
 * @return MWX_SMTPC_OK, _PARTIAL, _FAILED or _REFUSED.
 */
int mwx_smtpc_send(const mwx_smtpc_conf *conf, const char *from, const char *const *rcpts,
                   size_t nrcpts, int fd, uint64_t size, mwx_smtpc_rcpt_result *results,
                   mwx_smtpc_outcome *outcome, FILE *err_out);

#endif
