/*
 * mailwire — SMTP and LMTP engines (RFC 5321, RFC 2033), sans-I/O.
 *
 * The server engine is the model every mailwire protocol engine follows:
 *
 *   bytes in    mw_smtp_server_feed()  or  mw_smtp_server_recv_buf() + _recv_ack()
 *   events out  mw_smtp_server_next()  -> positive MW_SMTP_EV_*, 0 = need input,
 *                                          negative MW_ERR_*
 *   decisions   mw_smtp_server_accept() / _reply() / _reply_lines() / _auth_challenge()
 *   bytes out   mw_smtp_server_out_buf() + mw_smtp_server_out_ack()
 *   readiness   mw_smtp_server_state()  -> MW_WANT_READ | MW_WANT_WRITE |
 *                                          MW_TLS_HANDOFF | MW_CLOSED
 *   transport   mw_smtp_server_eof(), mw_smtp_server_tls_started()
 *
 * The caller never formats protocol lines: the engine builds every reply
 * from a code, an optional enhanced status code and text free of CR/LF.
 * See docs/smtp.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_SMTP_H
#define MAILWIRE_SMTP_H

#include <mailwire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/** Server options: create, set, pass to mw_smtp_server_new (which copies
 *  everything it needs), free. */
typedef struct mw_smtp_server_opts mw_smtp_server_opts;

/** Service extensions (EHLO keywords), for mw_smtp_server_opts_set_extensions. */
#define MW_SMTP_EXT_PIPELINING 0x001u          /**< RFC 2920 (default on) */
#define MW_SMTP_EXT_SIZE 0x002u                /**< RFC 1870 (default on) */
#define MW_SMTP_EXT_8BITMIME 0x004u            /**< RFC 6152 (default on) */
#define MW_SMTP_EXT_SMTPUTF8 0x008u            /**< RFC 6531 (default on) */
#define MW_SMTP_EXT_CHUNKING 0x010u            /**< RFC 3030 BDAT (default on) */
#define MW_SMTP_EXT_BINARYMIME 0x020u          /**< RFC 3030, needs CHUNKING (default on) */
#define MW_SMTP_EXT_ENHANCEDSTATUSCODES 0x040u /**< RFC 2034 (default on) */
#define MW_SMTP_EXT_DSN 0x080u                 /**< RFC 3461 (default on) */
#define MW_SMTP_EXT_STARTTLS 0x100u            /**< RFC 3207 (default on) */
#define MW_SMTP_EXT_AUTH 0x200u                /**< RFC 4954 (default on; advertised once mechanisms are set) */
#define MW_SMTP_EXT_REQUIRETLS 0x400u          /**< RFC 8689 (default off; advertised only under TLS) */
#define MW_SMTP_EXT_MT_PRIORITY 0x800u         /**< RFC 6710 (default off) */
#define MW_SMTP_EXT_ALL 0xfffu

/** Behaviour flags, for mw_smtp_server_opts_set_flags. All default off. */
#define MW_SMTP_SERVER_LMTP 0x01u              /**< speak LMTP (RFC 2033): LHLO, one reply per recipient after data */
#define MW_SMTP_SERVER_IMPLICIT_TLS 0x02u      /**< the transport is TLS from the start (port 465) */
#define MW_SMTP_SERVER_PLAINTEXT_AUTH 0x04u    /**< allow PLAIN/LOGIN without TLS (the transport is safe otherwise) */
#define MW_SMTP_SERVER_MANUAL_GREETING 0x08u   /**< no 220 at creation: a paused MW_SMTP_EV_CONNECT comes first */
#define MW_SMTP_SERVER_PAUSE_VRFY 0x10u        /**< VRFY/EXPN become paused events (default: engine answers 252) */
#define MW_SMTP_SERVER_TLS_INJECTION_CLOSE 0x20u /**< plaintext pipelined after STARTTLS: answer 554 and close instead of discarding */
#define MW_SMTP_SERVER_REJECT_BARE_EOL 0x40u   /**< a bare CR or LF inside DATA makes the engine reject the message */

/** Quirks: named leniencies for broken peers. All default off (strict). */
#define MW_SMTP_QUIRK_BARE_LF 0x1u             /**< a bare LF ends command lines and DATA lines (UNSAFE: smuggling) */
#define MW_SMTP_QUIRK_SPACE_AFTER_COLON 0x2u   /**< accept "MAIL FROM: <a@b>" (space after the colon) */

/**
 * Create an options object holding the defaults: hostname "localhost",
 * the default extensions above, no size limit (SIZE advertised without a
 * number), 1000 recipients, command lines 512 and text lines 1000 octets
 * including CRLF (RFC 5321 §4.5.3.1), AUTH lines 12288 (RFC 4954 §4),
 * 20 bad commands, a 64 KiB input buffer, no AUTH mechanisms.
 * @param mem allocator hooks (copied), NULL for libc.
 * @return the object, or NULL when allocation fails. Free it with
 *         mw_smtp_server_opts_free.
 */
MW_API mw_smtp_server_opts *mw_smtp_server_opts_new(const mw_mem *mem);

/** Free an options object (NULL is a no-op). Servers created from it are unaffected. */
MW_API void mw_smtp_server_opts_free(mw_smtp_server_opts *o);

/**
 * Set the host name used in the greeting, EHLO/LHLO, 221 and 421 replies.
 * @param name NUL-terminated, copied; 1..255 printable ASCII octets without
 *             space (a domain or an address literal).
 * @return MW_OK, MW_ERR_INVALID (NULL, empty, too long, space/CR/LF/control).
 */
MW_API int mw_smtp_server_opts_set_hostname(mw_smtp_server_opts *o, const char *name);

/**
 * Turn extensions on or off.
 * @param ext MW_SMTP_EXT_* bits to change. @param on 1 to enable, 0 to disable.
 * @return MW_OK, MW_ERR_INVALID (NULL or unknown bits).
 */
MW_API int mw_smtp_server_opts_set_extensions(mw_smtp_server_opts *o, unsigned ext, int on);

/**
 * Turn behaviour flags on or off.
 * @param flags MW_SMTP_SERVER_* bits. @param on 1 or 0.
 * @return MW_OK, MW_ERR_INVALID (NULL or unknown bits).
 */
MW_API int mw_smtp_server_opts_set_flags(mw_smtp_server_opts *o, unsigned flags, int on);

/**
 * Turn quirks on or off.
 * @param quirks MW_SMTP_QUIRK_* bits. @param on 1 or 0.
 * @return MW_OK, MW_ERR_INVALID (NULL or unknown bits).
 */
MW_API int mw_smtp_server_opts_set_quirks(mw_smtp_server_opts *o, unsigned quirks, int on);

/**
 * Set the largest message accepted, in octets (RFC 1870). 0 = no limit
 * (SIZE is then advertised without a number). Checked against MAIL SIZE=
 * (552 5.3.4) and against the received body (the rest is discarded and
 * 552 5.3.4 answered at the end).
 * @return MW_OK, MW_ERR_INVALID (NULL).
 */
MW_API int mw_smtp_server_opts_set_max_message_size(mw_smtp_server_opts *o, uint64_t max);

/**
 * Set the most recipients accepted per transaction (RCPT beyond it gets
 * 452 4.5.3). @param max 1..100000. @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_smtp_server_opts_set_max_recipients(mw_smtp_server_opts *o, size_t max);

/**
 * Set line limits, each including the CRLF.
 * @param command command lines (>= 512 per RFC 5321 §4.5.3.1.4; max 65536).
 * @param text    DATA text lines (>= 1000 per §4.5.3.1.6); a longer line
 *                makes the engine answer 552 5.3.4 at the end of DATA.
 * @param auth    AUTH command and SASL response lines (>= 512, RFC 4954
 *                suggests 12288; max 65536).
 * @return MW_OK, MW_ERR_INVALID (below the RFC minimum or above the maximum).
 */
MW_API int mw_smtp_server_opts_set_max_line(mw_smtp_server_opts *o, size_t command, size_t text,
                                            size_t auth);

/**
 * Set how many bad commands (engine-answered 500/501/502/503/504/555) are
 * tolerated; the next one is answered 421 4.7.0 and the session closes.
 * @param max 1..100000. @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_smtp_server_opts_set_max_bad_commands(mw_smtp_server_opts *o, unsigned max);

/**
 * Set the input buffer ceiling in octets: the engine's whole memory for
 * input, whatever the message size. Must hold the longest command and AUTH
 * line (checked by mw_smtp_server_new). @param size 1024..64 MiB.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_smtp_server_opts_set_input_buffer(mw_smtp_server_opts *o, size_t size);

/**
 * Set the SASL mechanisms offered in EHLO and accepted by AUTH.
 * @param list space-separated mechanism names ("PLAIN LOGIN SCRAM-SHA-256"),
 *             copied; NULL or "" offers none (AUTH is then not advertised
 *             and answered 502). PLAIN and LOGIN are hidden and refused with
 *             538 5.7.11 before TLS unless MW_SMTP_SERVER_PLAINTEXT_AUTH.
 * @return MW_OK, MW_ERR_INVALID (bad characters, a name over 20 octets,
 *         a list over 255 octets).
 */
MW_API int mw_smtp_server_opts_set_auth_mechanisms(mw_smtp_server_opts *o, const char *list);

/**
 * Declare extra MAIL or RCPT parameters the caller understands (for
 * extensions the engine does not know). Parameters neither known nor
 * declared are answered 555 5.5.4 by the engine; declared ones are passed
 * through in the event's params field (see mw_smtp_params_get).
 * @param rcpt 0 for MAIL, 1 for RCPT.
 * @param names space-separated keywords, copied (replacing earlier ones for
 *        that command); NULL or "" for none.
 * @param ehlo_line extra EHLO keyword line ("XFOO" or "XFOO arg"), copied;
 *        NULL leaves the current one. Printable ASCII only (no CR/LF).
 * @return MW_OK, MW_ERR_INVALID (bad characters, over 255 octets).
 */
MW_API int mw_smtp_server_opts_declare_params(mw_smtp_server_opts *o, int rcpt, const char *names,
                                              const char *ehlo_line);

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

/** Event types returned by mw_smtp_server_next (all positive). */
typedef enum mw_smtp_event_type {
    MW_SMTP_EV_CONNECT = 1,   /**< paused (MANUAL_GREETING only): accept = 220, reply 554 = refuse, 421 = close */
    MW_SMTP_EV_HELO,          /**< paused: HELO/EHLO/LHLO; verb says which; arg = client domain */
    MW_SMTP_EV_MAIL,          /**< paused: MAIL FROM, path + parsed parameters */
    MW_SMTP_EV_RCPT,          /**< paused: RCPT TO, path + NOTIFY/ORCPT */
    MW_SMTP_EV_DATA,          /**< paused: DATA; accept = 354 and the body follows */
    MW_SMTP_EV_BDAT,          /**< informational: a BDAT chunk starts (size, MW_SMTP_F_LAST) */
    MW_SMTP_EV_BODY,          /**< informational: body bytes in data (unstuffed, CRLF kept) */
    MW_SMTP_EV_BODY_END,      /**< paused unless reject_code != 0: the message is complete */
    MW_SMTP_EV_RSET,          /**< informational: RSET (already answered 250): drop the transaction */
    MW_SMTP_EV_VRFY,          /**< paused (PAUSE_VRFY only): arg = the string to verify */
    MW_SMTP_EV_EXPN,          /**< paused (PAUSE_VRFY only): arg = the list to expand */
    MW_SMTP_EV_QUIT,          /**< informational: 221 queued, the session is closed */
    MW_SMTP_EV_STARTTLS,      /**< informational: 220 queued, state is MW_TLS_HANDOFF */
    MW_SMTP_EV_AUTH,          /**< paused: arg = mechanism, data = decoded initial response */
    MW_SMTP_EV_AUTH_RESPONSE, /**< paused: data = decoded client response to a 334 challenge */
    MW_SMTP_EV_AUTH_ABORT     /**< informational: the client cancelled ("*") or sent bad base64; reject_code answered */
} mw_smtp_event_type;

/** Event flag bits (mw_smtp_event.flags). */
#define MW_SMTP_F_SIZE 0x01u        /**< MAIL: SIZE= given (value in size) */
#define MW_SMTP_F_SMTPUTF8 0x02u    /**< MAIL: SMTPUTF8 given */
#define MW_SMTP_F_REQUIRETLS 0x04u  /**< MAIL: REQUIRETLS given */
#define MW_SMTP_F_MT_PRIORITY 0x08u /**< MAIL: MT-PRIORITY= given (value in mt_priority) */
#define MW_SMTP_F_ENVID 0x10u       /**< MAIL: ENVID= given */
#define MW_SMTP_F_AUTH 0x20u        /**< MAIL: AUTH= given (value in auth) */
#define MW_SMTP_F_ORCPT 0x40u       /**< RCPT: ORCPT= given */
#define MW_SMTP_F_LAST 0x80u        /**< BDAT: the LAST chunk */
#define MW_SMTP_F_INITIAL 0x100u    /**< AUTH: an initial response was given (data, may be empty) */
#define MW_SMTP_F_POSTMASTER 0x200u /**< RCPT: <Postmaster> without a domain */
#define MW_SMTP_F_TLS 0x400u        /**< the session is under TLS (every event) */
#define MW_SMTP_F_AUTHENTICATED 0x800u /**< AUTH succeeded in this session (every event) */
#define MW_SMTP_F_BDAT 0x1000u      /**< BODY_END: the body came by BDAT */

/** MAIL BODY= values (RFC 6152, RFC 3030). */
#define MW_SMTP_BODY_NONE 0
#define MW_SMTP_BODY_7BIT 1
#define MW_SMTP_BODY_8BITMIME 2
#define MW_SMTP_BODY_BINARYMIME 3

/** MAIL RET= values (RFC 3461 §4.3). */
#define MW_SMTP_RET_NONE 0
#define MW_SMTP_RET_FULL 1
#define MW_SMTP_RET_HDRS 2

/** RCPT NOTIFY= bits (RFC 3461 §4.1). */
#define MW_SMTP_NOTIFY_NEVER 0x1u
#define MW_SMTP_NOTIFY_SUCCESS 0x2u
#define MW_SMTP_NOTIFY_FAILURE 0x4u
#define MW_SMTP_NOTIFY_DELAY 0x8u

/**
 * An event. Owned by the engine; every slice points into the engine's
 * buffers and, like the struct itself, is valid until the next call on the
 * same server (of any function except mw_smtp_server_state and
 * mw_smtp_server_out_buf). Fields not used by an event type are zero.
 * Fields are only ever appended.
 */
typedef struct mw_smtp_event {
    int type;          /**< MW_SMTP_EV_* */
    int paused;        /**< 1: the engine waits for accept/reply before any further event */
    unsigned flags;    /**< MW_SMTP_F_* */
    mw_slice verb;     /**< the command verb as sent ("EHLO", "mail", ...) */
    mw_slice arg;      /**< HELO domain, VRFY/EXPN argument, AUTH mechanism (upper-cased) */
    mw_slice path;     /**< MAIL/RCPT address without <> and source route; empty = null path "<>" */
    mw_slice params;   /**< MAIL/RCPT parameters exactly as sent (after the path) */
    uint64_t size;     /**< MAIL SIZE= value; BDAT chunk size; BODY_END message octets */
    int body;          /**< MAIL BODY=: MW_SMTP_BODY_* */
    int ret;           /**< MAIL RET=: MW_SMTP_RET_* */
    int mt_priority;   /**< MAIL MT-PRIORITY= (-9..9) */
    unsigned notify;   /**< RCPT NOTIFY=: MW_SMTP_NOTIFY_* bits, 0 if absent */
    mw_slice envid;    /**< MAIL ENVID=, xtext-decoded */
    mw_slice auth;     /**< MAIL AUTH=, xtext-decoded ("<>" stays "<>") */
    mw_slice orcpt_type; /**< RCPT ORCPT= address type ("rfc822") */
    mw_slice orcpt;    /**< RCPT ORCPT= address, xtext-decoded */
    mw_slice data;     /**< BODY bytes; AUTH / AUTH_RESPONSE decoded SASL bytes */
    int reject_code;   /**< BODY_END / AUTH_ABORT: the reply the engine already queued (0 = caller decides) */
    size_t rcpt_count; /**< DATA/BDAT/BODY_END: accepted recipients (LMTP: replies due at BODY_END) */
    size_t discarded;  /**< STARTTLS: plaintext octets that followed the command and were dropped */
} mw_smtp_event;

/* ------------------------------------------------------------------ */
/* Server engine                                                       */
/* ------------------------------------------------------------------ */

/** One SMTP/LMTP server session. Opaque; one thread at a time. */
typedef struct mw_smtp_server mw_smtp_server;

/**
 * Create a server session. Unless MW_SMTP_SERVER_MANUAL_GREETING is set,
 * the 220 greeting is queued at once (read it with mw_smtp_server_out_buf).
 * @param mem  allocator hooks (copied), NULL for libc.
 * @param opts options (copied; may be freed afterwards), NULL for defaults.
 * @param out  receives the session; *out is NULL on failure.
 * @return MW_OK, MW_ERR_INVALID (out NULL, or an input buffer smaller than
 *         the command/AUTH line limits), MW_ERR_NOMEM.
 */
MW_API int mw_smtp_server_new(const mw_mem *mem, const mw_smtp_server_opts *opts,
                              mw_smtp_server **out);

/** Free a session and everything it owns (NULL is a no-op). */
MW_API void mw_smtp_server_free(mw_smtp_server *s);

/**
 * Copy bytes received from the peer into the input buffer.
 * In the MW_TLS_HANDOFF state the bytes are plaintext that followed
 * STARTTLS: they are dropped, counted (mw_smtp_server_tls_discarded) and
 * reported as taken.
 * @return octets taken (0 when the buffer is full: call next() first),
 *         MW_ERR_INVALID (NULL data with len > 0), MW_ERR_CLOSED (after
 *         eof/QUIT/421, fatal codes are sticky), MW_ERR_NOMEM.
 */
MW_API mw_ssize mw_smtp_server_feed(mw_smtp_server *s, const void *data, size_t len);

/**
 * Zero-copy input: space to read the socket into directly.
 * @param len receives the writable length (0 when full or on error).
 * @return the space, valid until the next call on the session; NULL when
 *         the buffer is full (call next() first), closed, or memory ran out
 *         (next() then returns MW_ERR_NOMEM).
 */
MW_API unsigned char *mw_smtp_server_recv_buf(mw_smtp_server *s, size_t *len);

/**
 * Commit n octets written at the pointer mw_smtp_server_recv_buf gave.
 * @return MW_OK, MW_ERR_INVALID (n larger than the space given),
 *         MW_ERR_STATE (no recv_buf outstanding).
 */
MW_API int mw_smtp_server_recv_ack(mw_smtp_server *s, size_t n);

/**
 * Say the peer closed its side. Complete commands already buffered are
 * still processed; after them next() returns MW_ERR_CLOSED.
 * @return MW_OK, MW_ERR_INVALID (NULL).
 */
MW_API int mw_smtp_server_eof(mw_smtp_server *s);

/**
 * Pull the next event.
 * @param ev receives a pointer to the engine-owned event (see mw_smtp_event
 *           for lifetime); set to NULL unless an event is returned.
 * @return an MW_SMTP_EV_* (> 0); 0 when more input is needed, the output
 *         queue must be drained first (MW_WANT_WRITE), or the session is in
 *         MW_TLS_HANDOFF; MW_ERR_STATE while an event is paused (answer it
 *         first; not sticky); MW_ERR_CLOSED once the session is over;
 *         MW_ERR_NOMEM (fatal, sticky); MW_ERR_INVALID (NULL arguments).
 *         Protocol errors of the peer are never returned: the engine
 *         answers them itself.
 */
MW_API int mw_smtp_server_next(mw_smtp_server *s, const mw_smtp_event **ev);

/**
 * Give the default positive answer to the paused event: 220 greeting,
 * 250 + capabilities (EHLO/LHLO), 250 (HELO, MAIL, RCPT), 354 (DATA),
 * 250 (BODY_END; in LMTP every remaining recipient), 252 (VRFY/EXPN),
 * 235 (AUTH, AUTH_RESPONSE).
 * @return MW_OK, MW_ERR_STATE (nothing paused), MW_ERR_NOMEM, MW_ERR_LIMIT
 *         (output queue full: drain it, then retry).
 */
MW_API int mw_smtp_server_accept(mw_smtp_server *s);

/**
 * Answer the paused event with one reply line the engine builds.
 * A 2xx (354 for DATA, 235 for AUTH) accepts; 4xx/5xx refuses; 421 closes
 * the session after the reply (allowed at any time, even with nothing
 * paused). In LMTP, BODY_END needs one reply per accepted recipient, in
 * recipient order: the engine stays paused until the last one.
 * @param code    RFC 5321 §4.2 reply code, 200..599, valid for the event.
 * @param enhanced RFC 3463 code "c.sss.ddd" whose class matches code, or
 *                NULL for the engine's default; emitted only when
 *                ENHANCEDSTATUSCODES is on (never on greeting/HELO/EHLO).
 * @param text    NUL-terminated, no CR/LF/NUL, at most 400 octets; NULL
 *                for the engine's default text.
 * @return MW_OK, MW_ERR_INVALID (bad code for the event, bad enhanced
 *         code, CR/LF/control in text, too long), MW_ERR_STATE (nothing
 *         paused), MW_ERR_NOMEM, MW_ERR_LIMIT (output queue full, e.g. many
 *         LMTP replies: drain the output and call again; unlike the code's
 *         general meaning this one is NOT sticky, nothing was queued).
 */
MW_API int mw_smtp_server_reply(mw_smtp_server *s, int code, const char *enhanced,
                                const char *text);

/**
 * Like mw_smtp_server_reply with a multi-line reply ("250-a", "250 b").
 * @param lines n NUL-terminated texts (same rules as text above), n 1..64.
 * @return as mw_smtp_server_reply.
 */
MW_API int mw_smtp_server_reply_lines(mw_smtp_server *s, int code, const char *enhanced,
                                      const char *const *lines, size_t n);

/**
 * Send a SASL challenge ("334 " + base64 of data) for a paused AUTH or
 * AUTH_RESPONSE event; the client's answer comes back as
 * MW_SMTP_EV_AUTH_RESPONSE (or AUTH_ABORT when it sends "*").
 * @param data,len raw challenge octets (len 0 sends "334 ").
 * @return MW_OK, MW_ERR_STATE (no AUTH event paused), MW_ERR_INVALID
 *         (challenge longer than the AUTH line limit), MW_ERR_NOMEM,
 *         MW_ERR_LIMIT.
 */
MW_API int mw_smtp_server_auth_challenge(mw_smtp_server *s, const void *data, size_t len);

/**
 * Tell the engine the transport is now TLS (after the STARTTLS handoff).
 * Resets the session as RFC 3207 §4.2 demands: the EHLO, the envelope
 * and any AUTH are forgotten; input buffered before is gone.
 * @return MW_OK, MW_ERR_STATE (not in MW_TLS_HANDOFF).
 */
MW_API int mw_smtp_server_tls_started(mw_smtp_server *s);

/**
 * Readiness: MW_WANT_READ (input is welcome), MW_WANT_WRITE (output is
 * pending and should be sent now; replies to a pipelined group are held
 * until the engine has consumed the group, RFC 2920 §3.2), MW_TLS_HANDOFF
 * (send the pending 220, then start TLS), MW_CLOSED (close after sending).
 * @return the flags; 0 for NULL.
 */
MW_API unsigned mw_smtp_server_state(const mw_smtp_server *s);

/**
 * Pending output.
 * @param len receives the number of octets (0 when none).
 * @return the octets, valid until the next call on the session other than
 *         mw_smtp_server_state; NULL when none.
 */
MW_API const unsigned char *mw_smtp_server_out_buf(mw_smtp_server *s, size_t *len);

/** Drop n sent octets from the output (n beyond the pending count is clamped). */
MW_API void mw_smtp_server_out_ack(mw_smtp_server *s, size_t n);

/**
 * Plaintext octets dropped after STARTTLS (CVE-2011-0411 class), over the
 * session's life. @return the count; 0 for NULL.
 */
MW_API uint64_t mw_smtp_server_tls_discarded(const mw_smtp_server *s);

/**
 * Find an ESMTP parameter in a MAIL/RCPT params slice.
 * @param params the event's params slice.
 * @param name   keyword, NUL-terminated, compared without case.
 * @param value  receives the value as sent (empty if the keyword has none);
 *               a view into params.
 * @return 1 found, 0 not found, MW_ERR_INVALID (NULL name or value).
 */
MW_API int mw_smtp_params_get(mw_slice params, const char *name, mw_slice *value);

/* ------------------------------------------------------------------ */
/* xtext (RFC 3461 §4): ENVID, ORCPT and AUTH= values                   */
/* ------------------------------------------------------------------ */

/**
 * Encode octets as xtext: "+" and "=" and every octet outside 33..126
 * become "+XX" (upper-case hex).
 * @param in,len input (in may be NULL when len is 0).
 * @param out,cap output buffer (no NUL is written); 3 * len always suffices.
 * @return octets written, MW_ERR_BUFFER (cap too small; nothing useful
 *         written), MW_ERR_INVALID.
 */
MW_API mw_ssize mw_smtp_xtext_encode(const void *in, size_t len, char *out, size_t cap);

/**
 * Decode xtext. Strict: "+" must be followed by two upper-case hex digits,
 * and only octets 33..126 other than "=" may appear.
 * @param out,cap output buffer; len octets always suffice.
 * @return octets written, MW_ERR_SYNTAX, MW_ERR_BUFFER, MW_ERR_INVALID.
 */
MW_API mw_ssize mw_smtp_xtext_decode(const char *in, size_t len, void *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_SMTP_H */
