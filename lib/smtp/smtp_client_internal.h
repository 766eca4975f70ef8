/*
 * mailwire — SMTP client engine internals: options, the session, the reply
 * reader and the envelope store. Shares smtp_internal.h's helpers
 * (case-insensitive compare, word lists); base64 comes from the codecs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_SMTP_CLIENT_INTERNAL_H
#define MW_SMTP_CLIENT_INTERNAL_H

#include <mailwire/codec.h>
#include <mailwire/smtp_client.h>

#include "smtp/smtp_internal.h"

#define MW__SMTPC_AUTH_LIST_MAX 512u /* the server's AUTH list, kept */
#define MW__SMTPC_CMD_LINE 512u      /* RFC 5321 §4.5.3.1.4 command line */
#define MW__SMTPC_PARAM_LINE 2048u   /* MAIL/RCPT with extension parameters */

struct mw_smtp_client_opts {
    mw_mem mem;
    char hostname[MW__SMTP_HOST_MAX + 1];
    unsigned flags;
    int tls_policy;
    size_t max_line, max_reply, max_rcpts, out_max, chunk;
};

/* What a queued command waits for (one entry per expected reply). */
enum mw__smtpc_kind {
    MW__SMTPC_K_GREETING = 1,
    MW__SMTPC_K_EHLO,
    MW__SMTPC_K_HELO,
    MW__SMTPC_K_STARTTLS,
    MW__SMTPC_K_AUTH,
    MW__SMTPC_K_MAIL,
    MW__SMTPC_K_RCPT,
    MW__SMTPC_K_DATA,
    MW__SMTPC_K_BDAT,
    MW__SMTPC_K_FINAL, /* reply to "." or BDAT LAST (LMTP: one per recipient) */
    MW__SMTPC_K_RSET,
    MW__SMTPC_K_NOOP,
    MW__SMTPC_K_VRFY,
    MW__SMTPC_K_QUIT
};

typedef struct mw__smtpc_wait {
    uint8_t kind;
    uint8_t flag;   /* RSET: ends a transaction; FINAL: empty body; */
    uint32_t index; /* RCPT/FINAL: store line of the recipient */
    uint64_t size;  /* BDAT: chunk size */
} mw__smtpc_wait;

/* One pre-built command line of the envelope in the store. */
typedef struct mw__smtpc_line {
    size_t off, len;           /* the line, CRLF included */
    size_t addr_off, addr_len; /* RCPT: the address */
    int accepted;
} mw__smtpc_line;

enum mw__smtpc_phase {
    MW__SMTPC_PH_RUN,     /* normal */
    MW__SMTPC_PH_HANDOFF, /* after the STARTTLS 220 */
    MW__SMTPC_PH_CLOSED
};

struct mw_smtp_client {
    mw_mem mem;
    mw_smtp_client_opts o;
    mw__engine_io io; /* input, output, eof, sticky fatal error, TLS handoff */
    mw_smtp_client_event ev;
    int phase, tls, authed, ready;

    /* the reply being read */
    unsigned char *rbuf;
    size_t rlen, rcap, rlines;
    size_t last_lines; /* lines of the reply in rbuf (rlines restarts) */
    int rcode;

    /* capabilities */
    unsigned ext;
    uint64_t size_limit;
    char auth_list[MW__SMTPC_AUTH_LIST_MAX + 1];
    size_t auth_len;

    /* expected replies, a ring */
    mw__smtpc_wait *wait;
    size_t wcap, whead, wcount;

    /* synthetic events due (READY, SEND_BODY, DONE) */
    int due[4];
    size_t ndue;

    /* AUTH */
    mw_sasl_client *sasl;
    int sasl_error;
    unsigned char *scratch; /* decoded challenge; max_line octets */

    /* transaction */
    int txn, bdat, pipelining, mail_ok, body_open, held_cr, prev_cr;
    char *store;
    size_t store_cap, store_len;
    mw__smtpc_line *lines;
    size_t lines_cap, nlines, nrcpts;
    size_t next_line, send_limit; /* lines queued so far / allowed now */
    size_t rcpt_replies, accepted, delivered, finals_due;
    mw_codec dot;
    unsigned char *chunk;
    size_t chunk_len;
};

/* ---- reply reader and helpers (reply.c) ---- */

/** Read one whole reply into c->rbuf. @return 1 reply ready, 0 need more,
 *  MW_ERR_PROTOCOL (malformed or over a limit), MW_ERR_NOMEM. */
int mw__smtpc_read_reply(mw_smtp_client *c);

/** The RFC 3463 code at the start of text, if any, whose class matches code. */
mw_slice mw__smtpc_enhanced(int code, const char *text, size_t len);

/** Parse an EHLO reply text (lines joined by LF) into c->ext, size_limit, auth_list. */
void mw__smtpc_parse_ehlo(mw_smtp_client *c, const char *text, size_t len);

/* ---- engine internals shared by client.c and client_body.c ---- */

int mw__smtpc_expect(mw_smtp_client *c, int kind, int flag, size_t index, uint64_t size);
int mw__smtpc_set_fatal(mw_smtp_client *c, int rc);
/** Move envelope lines from the store to the output while allowed. */
int mw__smtpc_pump(mw_smtp_client *c);
/** Build the envelope into the store. */
int mw__smtpc_build(mw_smtp_client *c, const mw_smtp_client_envelope *env);

#endif /* MW_SMTP_CLIENT_INTERNAL_H */
