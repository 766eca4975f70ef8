/*
 * mailwire — SMTP module internals: options, the server session, and the
 * parsers shared by the server (and later the client) engine.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_SMTP_INTERNAL_H
#define MW_SMTP_INTERNAL_H

#include <mailwire/smtp.h>

#include <mailwire/codec.h>

#include "common/common_internal.h"

/* Fixed sizes of the option strings (no allocation in the options object). */
#define MW__SMTP_HOST_MAX 255u
#define MW__SMTP_LIST_MAX 255u

/* Output queue: hard ceiling and the level above which the engine stops
 * taking commands until the caller drains (back-pressure against a peer
 * that pipelines without reading). The gap holds the largest reply. */
#define MW__SMTP_OUT_MAX (256u * 1024u)
#define MW__SMTP_OUT_HIGH (16u * 1024u)

/* Caller reply limits: text per line and lines per reply. */
#define MW__SMTP_REPLY_TEXT_MAX 400u
#define MW__SMTP_REPLY_LINES_MAX 64u

struct mw_smtp_server_opts {
    mw_mem mem;
    unsigned ext, flags, quirks;
    uint64_t max_size;
    size_t max_rcpt;
    size_t max_cmd, max_text, max_auth;
    size_t inbuf_size;
    unsigned max_bad;
    char hostname[MW__SMTP_HOST_MAX + 1];
    char auth_mechs[MW__SMTP_LIST_MAX + 1];  /* space-separated, upper case */
    char mail_params[MW__SMTP_LIST_MAX + 1]; /* declared extra keywords, upper case */
    char rcpt_params[MW__SMTP_LIST_MAX + 1];
    char ehlo_extra[MW__SMTP_LIST_MAX + 1];
};

/* What the engine reads next. */
enum mw__smtp_phase {
    MW__SMTP_PH_CMD,      /* command lines */
    MW__SMTP_PH_AUTH,     /* one SASL response line after a 334 */
    MW__SMTP_PH_DATA,     /* DATA body up to CRLF.CRLF */
    MW__SMTP_PH_DATA_END, /* terminator seen; BODY_END still to report */
    MW__SMTP_PH_BDAT,     /* bdat_left octets of a BDAT chunk */
    MW__SMTP_PH_HANDOFF,  /* after the STARTTLS 220: nothing is consumed */
    MW__SMTP_PH_CLOSED
};

/* Which paused event waits for accept/reply (0 = none). */
enum mw__smtp_pending {
    MW__SMTP_P_NONE,
    MW__SMTP_P_CONNECT,
    MW__SMTP_P_HELO,
    MW__SMTP_P_MAIL,
    MW__SMTP_P_RCPT,
    MW__SMTP_P_DATA,
    MW__SMTP_P_BODY_END,
    MW__SMTP_P_VRFY,
    MW__SMTP_P_AUTH
};

struct mw_smtp_server {
    mw_mem mem;
    mw_smtp_server_opts o; /* private copy */
    mw__engine_io io;      /* input, output, eof, sticky fatal error, TLS handoff */
    unsigned char *scratch; /* decoded xtext values; o.max_cmd octets */
    unsigned char *auth_buf; /* decoded SASL data; o.max_auth octets, only with AUTH mechanisms */
    mw_smtp_event ev;

    int phase;   /* mw__smtp_phase */
    int pending; /* mw__smtp_pending */
    int helo_kind; /* 0 none, 1 HELO, 2 EHLO/LHLO (the accepted one) */
    int pending_helo_kind;
    int blocked, refused, tls, authed;
    int connect_due; /* MANUAL_GREETING: the CONNECT event is still to come */
    unsigned bad;

    /* transaction */
    int txn, txn_failed, used_data, used_bdat, smtputf8, binarymime;
    size_t rcpts;
    size_t lmtp_left; /* LMTP replies still due at BODY_END */

    /* body reception */
    int d_bol, d_cr;     /* consumed input ends at a line start / with CR */
    size_t d_line;       /* wire octets of the current line so far */
    uint64_t d_total;    /* body octets after unstuffing */
    int d_over;          /* the body passed max_size: the rest is dropped */
    int d_long;          /* a text line passed max_text */
    int d_bare;          /* a bare CR or LF was seen */
    uint64_t bdat_left;  /* octets of the current chunk still to come */
    uint64_t bdat_size;
    int bdat_last;
    int bdat_error;      /* reply code for a chunk refused before its bytes */
};

/* ---- engine internals shared by smtp_server.c and smtp_body.c ------ */

/* Step result: progress made without an event, run the next step. */
#define MW__SMTP_AGAIN (-1000)

int mw__smtp_put_reply(mw_smtp_server *s, int code, const char *enh, const char *const *lines,
                       size_t n);
/** Queue a one-line reply; a failure is made sticky when fatal. */
int mw__smtp_reply1(mw_smtp_server *s, int code, const char *enh, const char *text);
/** Queue an error for a bad command, or 421 and close past the limit. @return AGAIN or error. */
int mw__smtp_bad(mw_smtp_server *s, int code, const char *enh, const char *text);
void mw__smtp_reset_txn(mw_smtp_server *s);
void mw__smtp_close(mw_smtp_server *s);
/** Start receiving a body (bdat: 1 for CHUNKING, 0 for DATA). */
void mw__smtp_body_begin(mw_smtp_server *s, int bdat);
int mw__smtp_data_step(mw_smtp_server *s);
int mw__smtp_bdat_step(mw_smtp_server *s);
int mw__smtp_body_end(mw_smtp_server *s);

/* ---- parsers (smtp_parse.c) --------------------------------------- */

/* Results of mw__smtp_parse_path. */
#define MW__SMTP_PATH_OK 0
#define MW__SMTP_PATH_SYNTAX 1 /* 501 */
#define MW__SMTP_PATH_LONG 2   /* 501, too long (RFC 5321 §4.5.3.1) */

/**
 * Parse "<...>" at p[0..len): Reverse-path / Forward-path (RFC 5321
 * §4.1.2). A source route is skipped. allow_null: "<>" accepted.
 * allow_postmaster: "<Postmaster>" accepted (MW_SMTP_F_POSTMASTER).
 * *addr receives the mailbox, *used the octets of the path, *eight_bit
 * whether non-ASCII octets were seen (valid UTF-8 is then checked).
 */
int mw__smtp_parse_path(const char *p, size_t len, int allow_null, int allow_postmaster,
                        mw_slice *addr, size_t *used, unsigned *flags, int *eight_bit);

/** Take the next "KEY[=VALUE]" from *rest (leading spaces skipped).
 *  @return 1 taken, 0 none left, -1 syntax error. */
int mw__smtp_param_next(mw_slice *rest, mw_slice *key, mw_slice *value, int *has_value);

/** Decode xtext (RFC 3461 §4) into out (cap >= len suffices).
 *  @return decoded length, or -1 on bad syntax. */
mw_ssize mw__smtp_xtext_decode(const char *in, size_t len, unsigned char *out);

/** Well-formed UTF-8 (no overlongs, no surrogates)? */
int mw__smtp_utf8_valid(const unsigned char *p, size_t len);

/** Check an EHLO/greeting name and copy it to dst (MW__SMTP_HOST_MAX + 1
 *  octets). @return MW_OK, MW_ERR_INVALID (empty, too long, space or
 *  control). */
int mw__smtp_copy_hostname(char *dst, const char *name);

#endif /* MW_SMTP_INTERNAL_H */
