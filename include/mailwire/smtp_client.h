/*
 * mailwire — SMTP and LMTP client engine (RFC 5321, RFC 2033), sans-I/O.
 *
 * Same shape as the server engine (smtp.h):
 *
 *   bytes in    mw_smtp_client_feed()  or  mw_smtp_client_recv_buf() + _recv_ack()
 *   events out  mw_smtp_client_next()  -> positive MW_SMTP_CLIENT_EV_*, 0 = need input,
 *                                          negative MW_ERR_*
 *   commands    mw_smtp_client_send() (a whole envelope), _body_write() / _body_end(),
 *               _auth(), _rset(), _noop(), _vrfy(), _quit()
 *   bytes out   mw_smtp_client_out_buf() + mw_smtp_client_out_ack()
 *   readiness   mw_smtp_client_state()  -> MW_WANT_READ | MW_WANT_WRITE |
 *                                          MW_TLS_HANDOFF | MW_CLOSED
 *   transport   mw_smtp_client_eof(), mw_smtp_client_tls_started()
 *
 * The engine reads the greeting, says EHLO (LHLO), runs STARTTLS by policy,
 * and then reports MW_SMTP_CLIENT_EV_READY: from then on the caller gives
 * one command at a time and waits for its events. The caller never formats
 * protocol lines. See docs/smtp-client.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_SMTP_CLIENT_H
#define MAILWIRE_SMTP_CLIENT_H

#include <mailwire/common.h>
#include <mailwire/sasl.h>
#include <mailwire/smtp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Timeouts (RFC 5321 §4.5.3.2): hints in seconds; the caller runs the */
/* clock. mw_smtp_client_timeout() tells which one applies now.         */
/* ------------------------------------------------------------------ */

#define MW_SMTP_TIMEOUT_GREETING 300  /**< §4.5.3.2.1 initial 220 message */
#define MW_SMTP_TIMEOUT_MAIL 300      /**< §4.5.3.2.2 MAIL command (also EHLO, RSET, ...) */
#define MW_SMTP_TIMEOUT_RCPT 300      /**< §4.5.3.2.3 RCPT command */
#define MW_SMTP_TIMEOUT_DATA_INIT 120 /**< §4.5.3.2.4 DATA initiation (the 354) */
#define MW_SMTP_TIMEOUT_DATA_BLOCK 180 /**< §4.5.3.2.5 each data block sent */
#define MW_SMTP_TIMEOUT_DATA_TERM 600 /**< §4.5.3.2.6 the reply to the final "." */

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/** Client options: create, set, pass to mw_smtp_client_new (copied), free. */
typedef struct mw_smtp_client_opts mw_smtp_client_opts;

/** Behaviour flags (mw_smtp_client_opts_set_flags). All default off. */
#define MW_SMTP_CLIENT_LMTP 0x01u            /**< speak LMTP (RFC 2033): LHLO, one final reply per recipient */
#define MW_SMTP_CLIENT_IMPLICIT_TLS 0x02u    /**< the transport is TLS from the start (port 465) */
#define MW_SMTP_CLIENT_PLAINTEXT_AUTH 0x04u  /**< allow PLAIN/LOGIN/XOAUTH2/OAUTHBEARER without TLS */
#define MW_SMTP_CLIENT_NO_PIPELINING 0x08u   /**< never pipeline, even when offered */
#define MW_SMTP_CLIENT_NO_CHUNKING 0x10u     /**< use DATA even when CHUNKING is offered (not for BINARYMIME) */
#define MW_SMTP_CLIENT_RAW_BODY 0x20u        /**< DATA: send a bare CR or LF as it is (default: made CRLF) */

/** STARTTLS policy (mw_smtp_client_opts_set_starttls). */
#define MW_SMTP_TLS_NONE 0          /**< never send STARTTLS */
#define MW_SMTP_TLS_OPPORTUNISTIC 1 /**< STARTTLS when offered; go on in plaintext when not (default) */
#define MW_SMTP_TLS_REQUIRED 2      /**< STARTTLS or nothing: never a silent downgrade */

/**
 * Create an options object with the defaults: host name "localhost",
 * opportunistic STARTTLS, reply lines of 512 octets (RFC 5321 §4.5.3.1.5)
 * and replies of 64 KiB, 1000 recipients per envelope, a 256 KiB output
 * queue and 64 KiB BDAT chunks.
 * @param mem allocator hooks (copied), NULL for libc.
 * @return the object, or NULL when allocation fails.
 */
MW_API mw_smtp_client_opts *mw_smtp_client_opts_new(const mw_mem *mem);

/** Free an options object (NULL is a no-op). Clients made from it are unaffected. */
MW_API void mw_smtp_client_opts_free(mw_smtp_client_opts *o);

/**
 * Set the name sent with EHLO/LHLO/HELO.
 * @param name NUL-terminated, copied: 1..255 printable ASCII octets without
 *        space (a domain or an address literal "[192.0.2.1]").
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_smtp_client_opts_set_hostname(mw_smtp_client_opts *o, const char *name);

/**
 * Turn behaviour flags on or off.
 * @param flags MW_SMTP_CLIENT_* bits. @param on 1 or 0.
 * @return MW_OK, MW_ERR_INVALID (NULL or unknown bits).
 */
MW_API int mw_smtp_client_opts_set_flags(mw_smtp_client_opts *o, unsigned flags, int on);

/**
 * Choose the STARTTLS policy.
 * @param policy MW_SMTP_TLS_NONE, _OPPORTUNISTIC or _REQUIRED.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_smtp_client_opts_set_starttls(mw_smtp_client_opts *o, int policy);

/**
 * Bound what the server may send.
 * @param line  longest reply line including CRLF: 512..65536 (RFC 5321
 *              §4.5.3.1.5 sets 512; raise it for servers that overrun).
 * @param reply longest reply, all lines together: line..1 MiB.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_smtp_client_opts_set_reply_limits(mw_smtp_client_opts *o, size_t line, size_t reply);

/**
 * Bound the envelope and the output.
 * @param max_rcpts recipients per mw_smtp_client_send: 1..100000.
 * @param out_max   output queue ceiling in octets: 4096..64 MiB; the body
 *                  writer consumes only what fits under it.
 * @param chunk     BDAT chunk size: 512..out_max / 2.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_smtp_client_opts_set_limits(mw_smtp_client_opts *o, size_t max_rcpts,
                                          size_t out_max, size_t chunk);

/* ------------------------------------------------------------------ */
/* Envelope                                                            */
/* ------------------------------------------------------------------ */

/** One recipient for mw_smtp_client_send. The engine copies everything. */
typedef struct mw_smtp_client_rcpt {
    const char *address; /**< forward-path without <>, NUL-terminated */
    unsigned notify;     /**< MW_SMTP_NOTIFY_* bits (RFC 3461 §4.1); 0 = no NOTIFY */
    const char *orcpt;   /**< original recipient (xtext-encoded by the engine); NULL = none */
    const char *orcpt_type; /**< ORCPT address type; NULL = "rfc822" */
} mw_smtp_client_rcpt;

/**
 * A message envelope for mw_smtp_client_send. Optional parameters are sent
 * when their MW_SMTP_F_* bit (from smtp.h) is set in flags, or when their
 * pointer is non-NULL / value non-zero as stated.
 */
typedef struct mw_smtp_client_envelope {
    const char *from;   /**< reverse-path without <>, NUL-terminated; "" = null path <> */
    unsigned flags;     /**< MW_SMTP_F_SIZE, _SMTPUTF8, _REQUIRETLS, _MT_PRIORITY */
    uint64_t size;      /**< SIZE= estimate (with MW_SMTP_F_SIZE, RFC 1870) */
    int body;           /**< MW_SMTP_BODY_*: NONE sends no BODY=; 8BITMIME, BINARYMIME need the extension */
    int ret;            /**< MW_SMTP_RET_*: DSN RET= (RFC 3461 §4.3); NONE = absent */
    const char *envid;  /**< DSN ENVID= (xtext-encoded by the engine); NULL = none */
    const char *auth;   /**< MAIL AUTH= (RFC 4954 §5; xtext-encoded); NULL = none, "<>" allowed */
    int mt_priority;    /**< MT-PRIORITY= -9..9 (with MW_SMTP_F_MT_PRIORITY, RFC 6710) */
    const mw_smtp_client_rcpt *rcpts; /**< recipients, in order */
    size_t nrcpts;      /**< 1..max_rcpts */
} mw_smtp_client_envelope;

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

/** Event types returned by mw_smtp_client_next (all positive). */
typedef enum mw_smtp_client_event_type {
    MW_SMTP_CLIENT_EV_GREETING = 1, /**< the server's greeting: 220, or a refusal (554: QUIT is sent; 421: closed) */
    MW_SMTP_CLIENT_EV_EHLO,     /**< reply to EHLO/LHLO (or HELO: MW_SMTP_CLIENT_F_HELO); extensions, size filled */
    MW_SMTP_CLIENT_EV_STARTTLS, /**< reply to STARTTLS; on 220 the state is MW_TLS_HANDOFF */
    MW_SMTP_CLIENT_EV_READY,    /**< no reply: hello (and TLS) done; the engine waits for commands */
    MW_SMTP_CLIENT_EV_AUTH,     /**< final reply to AUTH; error is MW_OK only when authenticated */
    MW_SMTP_CLIENT_EV_MAIL,     /**< reply to MAIL FROM */
    MW_SMTP_CLIENT_EV_RCPT,     /**< reply to one RCPT TO; rcpt_index and rcpt name it */
    MW_SMTP_CLIENT_EV_DATA,     /**< reply to DATA (354 or a refusal) */
    MW_SMTP_CLIENT_EV_SEND_BODY, /**< no reply: write the body now (mw_smtp_client_body_write / _end) */
    MW_SMTP_CLIENT_EV_BDAT,     /**< reply to a BDAT chunk that was not the last */
    MW_SMTP_CLIENT_EV_MESSAGE,  /**< final reply for the message; LMTP: one per accepted recipient (rcpt_index, rcpt) */
    MW_SMTP_CLIENT_EV_DONE,     /**< no reply: the transaction is over (accepted, delivered counts) */
    MW_SMTP_CLIENT_EV_RSET,     /**< reply to RSET (the caller's, or the engine's after a failed envelope) */
    MW_SMTP_CLIENT_EV_NOOP,     /**< reply to NOOP */
    MW_SMTP_CLIENT_EV_VRFY,     /**< reply to VRFY */
    MW_SMTP_CLIENT_EV_QUIT,     /**< reply to QUIT; the session is closed */
    MW_SMTP_CLIENT_EV_UNSOLICITED /**< a 421 nobody asked for (RFC 5321 §3.8); the session is closed */
} mw_smtp_client_event_type;

/** Event flag bits (mw_smtp_client_event.flags). */
#define MW_SMTP_CLIENT_F_HELO 0x01u      /**< EHLO: the reply is to HELO (EHLO was refused) */
#define MW_SMTP_CLIENT_F_TLS 0x02u       /**< the session is under TLS (every event) */
#define MW_SMTP_CLIENT_F_AUTHED 0x04u    /**< AUTH succeeded in this session (every event) */
#define MW_SMTP_CLIENT_F_EMPTY_BODY 0x08u /**< MESSAGE: reply to the empty message the engine sent after a
                                               354 with no accepted recipient (RFC 2920 §3.1); ignore it */
#define MW_SMTP_CLIENT_F_LAST 0x10u      /**< MESSAGE: the last final reply of the transaction */
#define MW_SMTP_CLIENT_F_BDAT 0x20u      /**< SEND_BODY / MESSAGE / DONE: the body goes by BDAT */
#define MW_SMTP_CLIENT_F_CLOSED 0x40u    /**< the event's reply closed the session (421, QUIT's 221) */

/**
 * An event. Owned by the engine; the struct and every slice are valid
 * until the next call on the same client (other than _state and _out_buf).
 * Fields not used by an event type are zero. Fields are only appended.
 */
typedef struct mw_smtp_client_event {
    int type;          /**< MW_SMTP_CLIENT_EV_* */
    int code;          /**< reply code 200..599; 0 for events without a reply */
    unsigned flags;    /**< MW_SMTP_CLIENT_F_* */
    mw_slice text;     /**< the reply's text: each line after "ddd-"/"ddd ", joined by LF */
    size_t lines;      /**< number of reply lines */
    mw_slice enhanced; /**< RFC 3463 "c.sss.ddd" at the start of the first line (a view into text), or empty */
    int error;         /**< AUTH: MW_OK, MW_ERR_AUTH (refused or the server failed to prove itself),
                            or the SASL engine's error; READY/EHLO: MW_OK */
    size_t rcpt_index; /**< RCPT, LMTP MESSAGE: index into the envelope's rcpts */
    mw_slice rcpt;     /**< RCPT, LMTP MESSAGE: the recipient address */
    size_t accepted;   /**< DATA, SEND_BODY, DONE: recipients accepted */
    size_t delivered;  /**< DONE: recipients (LMTP) or messages (SMTP, 0/1) the final reply accepted */
    unsigned extensions; /**< EHLO, READY: MW_SMTP_EXT_* bits the server offers */
    uint64_t size;     /**< EHLO, READY: the server's SIZE limit (0: none given); BDAT: chunk size */
} mw_smtp_client_event;

/* ------------------------------------------------------------------ */
/* Client engine                                                       */
/* ------------------------------------------------------------------ */

/** One SMTP/LMTP client session. Opaque; one thread at a time. */
typedef struct mw_smtp_client mw_smtp_client;

/**
 * Create a client session; it waits for the server's greeting.
 * @param mem  allocator hooks (copied), NULL for libc.
 * @param opts options (copied), NULL for the defaults.
 * @param out  receives the session; NULL on failure.
 * @return MW_OK, MW_ERR_INVALID (out NULL), MW_ERR_NOMEM.
 */
MW_API int mw_smtp_client_new(const mw_mem *mem, const mw_smtp_client_opts *opts,
                              mw_smtp_client **out);

/** Free a session and everything it owns (NULL is a no-op). */
MW_API void mw_smtp_client_free(mw_smtp_client *c);

/**
 * Copy bytes received from the server into the input buffer.
 * @return octets taken (0 when the buffer is full: call next() first),
 *         MW_ERR_INVALID, MW_ERR_TLS_INJECTION (bytes given in the
 *         MW_TLS_HANDOFF state: plaintext after the STARTTLS 220, fatal),
 *         MW_ERR_CLOSED, MW_ERR_NOMEM, or the sticky fatal error.
 */
MW_API mw_ssize mw_smtp_client_feed(mw_smtp_client *c, const void *data, size_t len);

/**
 * Zero-copy input: space to read the socket into directly.
 * @param len receives the writable length (0 when none).
 * @return the space, valid until the next call on the session; NULL when
 *         the buffer is full (call next() first), the session is over, or
 *         memory ran out (next() then returns MW_ERR_NOMEM).
 */
MW_API unsigned char *mw_smtp_client_recv_buf(mw_smtp_client *c, size_t *len);

/**
 * Commit n octets written at the pointer mw_smtp_client_recv_buf gave.
 * @return MW_OK, MW_ERR_INVALID (n too large), MW_ERR_STATE (no recv_buf
 *         outstanding), MW_ERR_TLS_INJECTION (n > 0 in MW_TLS_HANDOFF).
 */
MW_API int mw_smtp_client_recv_ack(mw_smtp_client *c, size_t n);

/**
 * Say the server closed the connection. Replies already buffered are still
 * reported; after them next() returns MW_ERR_CLOSED (sticky), whether
 * replies were still due (an error) or the session was idle.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_smtp_client_eof(mw_smtp_client *c);

/**
 * Pull the next event.
 * @param ev receives the engine-owned event, NULL unless one is returned.
 * @return an MW_SMTP_CLIENT_EV_* (> 0); 0 when more input is needed (or
 *         the engine is at the TLS handoff, or idle); negative errors, all
 *         sticky: MW_ERR_PROTOCOL (malformed reply: bad code, mixed codes,
 *         bare CR/LF or NUL, a reply line or whole reply over the configured
 *         limits, a reply nobody asked for other than 421),
 *         MW_ERR_TLS_INJECTION (bytes after the STARTTLS 220),
 *         MW_ERR_UNSUPPORTED (STARTTLS required but not offered, refused,
 *         or EHLO refused; QUIT is queued), MW_ERR_CLOSED (the server went
 *         away with replies outstanding, or the session is over),
 *         MW_ERR_NOMEM, MW_ERR_INVALID (NULL arguments; not sticky).
 */
MW_API int mw_smtp_client_next(mw_smtp_client *c, const mw_smtp_client_event **ev);

/**
 * Start a mail transaction. The envelope is checked and copied whole; the
 * engine then sends MAIL, every RCPT and DATA, in one group when the server
 * offers PIPELINING (RFC 2920), one at a time otherwise, and reports each
 * reply. When at least one recipient was accepted the engine reports
 * MW_SMTP_CLIENT_EV_SEND_BODY (after the 354, or at once for BDAT when
 * CHUNKING is offered); otherwise it ends the transaction itself (RSET, or
 * an empty message after a pipelined 354) and reports DONE.
 * @return MW_OK; MW_ERR_STATE (not READY-idle);
 *         MW_ERR_INVALID (NULL, no or too many recipients, an address with
 *         CR, LF, NUL, control characters, '<' or '>' or over 254 octets,
 *         non-ASCII without MW_SMTP_F_SMTPUTF8, a bad MT-PRIORITY, RET or
 *         BODY value, a parameter too long for a command line);
 *         MW_ERR_UNSUPPORTED (a parameter needs an extension the server
 *         did not offer: SIZE is the exception, it is dropped; REQUIRETLS
 *         also needs TLS); MW_ERR_LIMIT (size above the server's SIZE:
 *         nothing is sent and the session stays usable); MW_ERR_NOMEM.
 */
MW_API int mw_smtp_client_send(mw_smtp_client *c, const mw_smtp_client_envelope *env);

/**
 * Write message octets (CRLF line ends, headers and body) after
 * MW_SMTP_CLIENT_EV_SEND_BODY. With DATA the engine dot-stuffs
 * (RFC 5321 §4.5.2) and turns a bare CR or LF into CRLF (unless
 * MW_SMTP_CLIENT_RAW_BODY); with BDAT it sends the octets as they are.
 * Like zlib, it consumes only what fits in the output queue: drain the
 * output and call again with the rest.
 * A CR at the very end of data is held (counted as consumed) until the
 * next write or body_end tells whether an LF follows.
 * @return octets consumed (0: drain the output first; with BDAT and no
 *         PIPELINING, read the pending BDAT reply with next()),
 *         MW_ERR_STATE (no body expected, or SEND_BODY not yet reported),
 *         MW_ERR_INVALID, MW_ERR_NOMEM.
 */
MW_API mw_ssize mw_smtp_client_body_write(mw_smtp_client *c, const void *data, size_t len);

/**
 * End the message: DATA completes a last line without CRLF and sends
 * "." CRLF; BDAT sends the last chunk as "BDAT n LAST". The final reply
 * comes as MW_SMTP_CLIENT_EV_MESSAGE (LMTP: one per accepted recipient),
 * then DONE.
 * @return MW_OK; MW_ERR_LIMIT (not now, not sticky: the output queue is
 *         full, or without PIPELINING a BDAT reply is still due: drain the
 *         output / read events, then call again); MW_ERR_STATE; MW_ERR_NOMEM.
 */
MW_API int mw_smtp_client_body_end(mw_smtp_client *c);

/**
 * Pick the strongest SASL mechanism both sides have (mw_sasl_choose over
 * the server's AUTH list, honouring TLS and MW_SMTP_CLIENT_PLAINTEXT_AUTH).
 * @param client_mask MW_SASL_BIT() of the mechanisms the caller can run.
 * @return a mw_sasl_mech id; MW_ERR_UNSUPPORTED (nothing fits, or the
 *         server offers no AUTH), MW_ERR_INVALID.
 */
MW_API int mw_smtp_client_auth_choose(const mw_smtp_client *c, unsigned client_mask);

/**
 * Authenticate (RFC 4954) with a SASL client context the caller made for
 * mech and gave its credentials. The context is borrowed: keep it alive
 * and unused until MW_SMTP_CLIENT_EV_AUTH. The initial response goes on
 * the AUTH line when the line stays within 512 octets ("=" when empty),
 * otherwise after an empty 334.
 * @return MW_OK; MW_ERR_STATE (not READY-idle, or already authenticated);
 *         MW_ERR_UNSUPPORTED (the server did not offer mech, or mech is a
 *         plaintext one before TLS without MW_SMTP_CLIENT_PLAINTEXT_AUTH);
 *         MW_ERR_INVALID; the SASL start errors (MW_ERR_AUTH for missing
 *         credentials, ...); MW_ERR_NOMEM.
 */
MW_API int mw_smtp_client_auth(mw_smtp_client *c, mw_sasl_client *sasl, int mech);

/** Send RSET (reply: MW_SMTP_CLIENT_EV_RSET). @return MW_OK, MW_ERR_STATE, MW_ERR_NOMEM. */
MW_API int mw_smtp_client_rset(mw_smtp_client *c);

/** Send NOOP (reply: MW_SMTP_CLIENT_EV_NOOP). @return MW_OK, MW_ERR_STATE, MW_ERR_NOMEM. */
MW_API int mw_smtp_client_noop(mw_smtp_client *c);

/**
 * Send VRFY (reply: MW_SMTP_CLIENT_EV_VRFY).
 * @param arg NUL-terminated user name or mailbox: 1..500 octets, no CR,
 *        LF or other control characters.
 * @return MW_OK, MW_ERR_STATE, MW_ERR_INVALID, MW_ERR_NOMEM.
 */
MW_API int mw_smtp_client_vrfy(mw_smtp_client *c, const char *arg);

/**
 * Send QUIT (reply: MW_SMTP_CLIENT_EV_QUIT, then closed). Allowed whenever
 * no reply is outstanding (also before READY, e.g. after a failed EHLO).
 * @return MW_OK, MW_ERR_STATE, MW_ERR_NOMEM.
 */
MW_API int mw_smtp_client_quit(mw_smtp_client *c);

/**
 * Tell the engine the transport is now TLS (after the STARTTLS handoff).
 * The capabilities are forgotten and EHLO is sent again (RFC 3207 §4.2).
 * @return MW_OK, MW_ERR_STATE (not in MW_TLS_HANDOFF), MW_ERR_NOMEM.
 */
MW_API int mw_smtp_client_tls_started(mw_smtp_client *c);

/**
 * Readiness: MW_WANT_READ (input is welcome: always while the session
 * runs, since a 421 may come at any time), MW_WANT_WRITE (output
 * pending), MW_TLS_HANDOFF (send nothing more in plaintext and read
 * nothing: start TLS), MW_CLOSED (close after sending).
 * @return the flags; 0 for NULL.
 */
MW_API unsigned mw_smtp_client_state(const mw_smtp_client *c);

/**
 * Pending output.
 * @param len receives the number of octets (0 when none).
 * @return the octets, valid until the next call on the session other than
 *         mw_smtp_client_state; NULL when none.
 */
MW_API const unsigned char *mw_smtp_client_out_buf(mw_smtp_client *c, size_t *len);

/** Drop n sent octets from the output (n beyond the pending count is clamped). */
MW_API void mw_smtp_client_out_ack(mw_smtp_client *c, size_t n);

/**
 * The server's extensions from the last EHLO/LHLO (none after HELO, none
 * after STARTTLS until the new EHLO reply).
 * @param size receives the SIZE limit (0: none given); may be NULL.
 * @param auth receives the AUTH mechanism list (space separated, also
 *        from "AUTH=" lines), a view valid until the next EHLO; may be NULL.
 * @return MW_SMTP_EXT_* bits; 0 for NULL.
 */
MW_API unsigned mw_smtp_client_extensions(const mw_smtp_client *c, uint64_t *size, mw_slice *auth);

/**
 * The timeout (seconds, RFC 5321 §4.5.3.2) for what the engine waits for
 * now: MW_SMTP_TIMEOUT_*; 0 when it waits for nothing.
 */
MW_API unsigned mw_smtp_client_timeout(const mw_smtp_client *c);

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_SMTP_CLIENT_H */
