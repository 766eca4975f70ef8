/*
 * mailwire — POP3 engines (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS,
 * RFC 5034 AUTH, RFC 6856 UTF8 and LANG), sans-I/O, in the shape of the SMTP engine:
 *
 *   bytes in    mw_pop3_X_feed()  or  mw_pop3_X_recv_buf() + _recv_ack()
 *   events out  mw_pop3_X_next()  -> positive event type, 0 = need input,
 *                                    negative MW_ERR_*
 *   bytes out   mw_pop3_X_out_buf() + mw_pop3_X_out_ack()
 *   readiness   mw_pop3_X_state() -> MW_WANT_READ | MW_WANT_WRITE |
 *                                    MW_TLS_HANDOFF | MW_CLOSED
 *   transport   mw_pop3_X_eof(), mw_pop3_X_tls_started()
 *
 * The server pauses on decisions (credentials, the maildrop listing, a
 * message to send, the commit of deletions at QUIT) and knows nothing of
 * mailboxes. The client queues commands and reports every response as an
 * event. See docs/pop3.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_POP3_H
#define MAILWIRE_POP3_H

#include <mailwire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Shared helper                                                       */
/* ------------------------------------------------------------------ */

/**
 * Compute the APOP digest (RFC 1939 §7): lower-case hex MD5 of the
 * greeting timestamp (with its angle brackets) followed by the secret.
 * @param timestamp,ts_len the "<...>" banner as sent in the greeting.
 * @param secret,len       the shared secret.
 * @param out              receives 32 hex digits and a NUL.
 * @return MW_OK, MW_ERR_INVALID (NULL pointer with a non-zero length,
 *         or out NULL).
 */
MW_API int mw_pop3_apop_digest(const char *timestamp, size_t ts_len, const char *secret,
                               size_t len, char out[33]);

/* ------------------------------------------------------------------ */
/* Server options                                                      */
/* ------------------------------------------------------------------ */

/** Server options: create, set, pass to mw_pop3_server_new (which copies
 *  everything), free. */
typedef struct mw_pop3_server_opts mw_pop3_server_opts;

/** Capabilities (CAPA tags, RFC 2449 §6) and the commands behind them. */
#define MW_POP3_CAPA_TOP 0x001u            /**< TOP command (default on) */
#define MW_POP3_CAPA_UIDL 0x002u           /**< UIDL command (default on) */
#define MW_POP3_CAPA_USER 0x004u           /**< USER/PASS (default on; hidden before TLS unless PLAINTEXT_AUTH) */
#define MW_POP3_CAPA_SASL 0x008u           /**< AUTH, RFC 5034 (default on; offered once mechanisms are set) */
#define MW_POP3_CAPA_RESP_CODES 0x010u     /**< extended response codes, RFC 2449 §8 (default on) */
#define MW_POP3_CAPA_AUTH_RESP_CODE 0x020u /**< [AUTH] code, RFC 3206 (default on) */
#define MW_POP3_CAPA_PIPELINING 0x040u     /**< RFC 2449 §6.6 (default on) */
#define MW_POP3_CAPA_EXPIRE 0x080u         /**< EXPIRE policy tag (default off; see set_policy) */
#define MW_POP3_CAPA_LOGIN_DELAY 0x100u    /**< LOGIN-DELAY tag (default off; see set_policy) */
#define MW_POP3_CAPA_IMPLEMENTATION 0x200u /**< IMPLEMENTATION tag (default off; see set_policy) */
#define MW_POP3_CAPA_UTF8 0x400u           /**< UTF8 command, RFC 6856 (default off) */
#define MW_POP3_CAPA_STLS 0x800u           /**< STLS, RFC 2595 (default on; never offered under TLS) */
#define MW_POP3_CAPA_APOP 0x1000u          /**< APOP, RFC 1939 §7 (default off; needs a timestamp) */
#define MW_POP3_CAPA_LANG 0x2000u          /**< LANG command, RFC 6856 §3 (default off; offered once languages are added) */
#define MW_POP3_CAPA_ALL 0x3fffu

/** Behaviour flags (all default off). */
#define MW_POP3_SERVER_IMPLICIT_TLS 0x01u        /**< the transport is TLS from the start (port 995) */
#define MW_POP3_SERVER_PLAINTEXT_AUTH 0x02u      /**< allow USER/PASS and AUTH PLAIN/LOGIN without TLS */
#define MW_POP3_SERVER_TLS_INJECTION_CLOSE 0x04u /**< plaintext after STLS: -ERR and close instead of discarding */
#define MW_POP3_SERVER_LF_TO_CRLF 0x08u          /**< a bare LF in a stored message goes out as CRLF */
#define MW_POP3_SERVER_BARE_LF 0x10u             /**< quirk: a bare LF ends command lines (unsafe) */

/**
 * Create an options object with the defaults: greeting text "POP3 server
 * ready", the default capabilities above, command lines of 255 octets
 * including CRLF (RFC 2449 §4), AUTH response lines of 12288, 10 bad
 * commands, a 16 KiB input buffer, at most 1000000 messages in a maildrop,
 * no AUTH mechanisms, no APOP timestamp.
 * @param mem allocator hooks (copied), NULL for libc.
 * @return the object, or NULL when allocation fails.
 */
MW_API mw_pop3_server_opts *mw_pop3_server_opts_new(const mw_mem *mem);

/** Free an options object (NULL is a no-op). Sessions made from it are unaffected. */
MW_API void mw_pop3_server_opts_free(mw_pop3_server_opts *o);

/**
 * Set the greeting text ("+OK <text>[ <timestamp>]").
 * @param text NUL-terminated, copied; 1..200 printable octets (no CR/LF/controls).
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_pop3_server_opts_set_greeting(mw_pop3_server_opts *o, const char *text);

/**
 * Set the APOP timestamp banner for the next session (RFC 1939 §7): the
 * caller makes it unique per connection (e.g. "<pid.clock@host>"); the
 * engine has no clock. Options are copied by mw_pop3_server_new, so set a
 * fresh one before each session. Needed for MW_POP3_CAPA_APOP.
 * @param ts "<" 1..200 printable octets without '<', '>' or space ">", or
 *           NULL to clear.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_pop3_server_opts_set_apop_timestamp(mw_pop3_server_opts *o, const char *ts);

/**
 * Turn capabilities on or off. @param capa MW_POP3_CAPA_* bits, @param on 1 or 0.
 * @return MW_OK, MW_ERR_INVALID (NULL or unknown bits).
 */
MW_API int mw_pop3_server_opts_set_capabilities(mw_pop3_server_opts *o, unsigned capa, int on);

/**
 * Turn behaviour flags on or off. @param flags MW_POP3_SERVER_* bits.
 * @return MW_OK, MW_ERR_INVALID (NULL or unknown bits).
 */
MW_API int mw_pop3_server_opts_set_flags(mw_pop3_server_opts *o, unsigned flags, int on);

/**
 * Set the arguments of the policy tags in CAPA (RFC 2449 §6.5, §6.7, §6.9).
 * @param expire         e.g. "NEVER", "31", "0 USER"; NULL leaves it unchanged.
 * @param login_delay    e.g. "900", "300 USER"; NULL leaves it unchanged.
 * @param implementation free text; NULL leaves it unchanged.
 * Each is copied, at most 100 printable octets.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_pop3_server_opts_set_policy(mw_pop3_server_opts *o, const char *expire,
                                          const char *login_delay, const char *implementation);

/**
 * Set the SASL mechanisms offered in CAPA ("SASL ...") and accepted by AUTH.
 * @param list space-separated names, copied; NULL or "" for none (AUTH is
 *             then answered -ERR). PLAIN and LOGIN are hidden and refused
 *             before TLS unless MW_POP3_SERVER_PLAINTEXT_AUTH.
 * @return MW_OK, MW_ERR_INVALID (bad characters, a name over 20 octets,
 *         list over 255 octets).
 */
MW_API int mw_pop3_server_opts_set_auth_mechanisms(mw_pop3_server_opts *o, const char *list);

/**
 * Set line limits, each including the CRLF.
 * @param command command lines (>= 255 per RFC 2449 §4; max 65536).
 * @param auth    AUTH continuation lines (>= 255; max 65536).
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_pop3_server_opts_set_max_line(mw_pop3_server_opts *o, size_t command, size_t auth);

/**
 * Set how many engine-answered -ERR replies (unknown command, wrong
 * state, bad argument, no such message) are tolerated; the next one is
 * answered "-ERR Too many bad commands" and the session closes.
 * @param max 1..100000. @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_pop3_server_opts_set_max_bad_commands(mw_pop3_server_opts *o, unsigned max);

/**
 * Set the input buffer ceiling (must hold the longest command and AUTH line).
 * @param size 1024..64 MiB. @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_pop3_server_opts_set_input_buffer(mw_pop3_server_opts *o, size_t size);

/**
 * Set the most messages a maildrop listing may hold (the caller's listing
 * is refused beyond it with MW_ERR_LIMIT). @param max 1..100000000.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_pop3_server_opts_set_max_messages(mw_pop3_server_opts *o, size_t max);

/** Most languages an options object holds (mw_pop3_server_opts_add_language). */
#define MW_POP3_MAX_LANGUAGES 32

/**
 * Add a language to the list the server answers "LANG" with (RFC 6856 §3)
 * and offers with the LANG capability (MW_POP3_CAPA_LANG must be on too).
 * The first one added is the one "LANG *" suggests to the caller.
 * @param tag language tag in simple form: 1..35 of A-Z a-z 0-9 '-', not
 *        starting or ending with '-' (RFC 5646 syntax, not registry-checked);
 *        copied. Tags differing only in case are refused as duplicates.
 * @param description the language's name, 1 or more octets >= 0x20 except
 *        0x7F (UTF-8 allowed, RFC 6856 §3), copied; "tag SP description"
 *        must fit 200 octets.
 * @return MW_OK, MW_ERR_INVALID (NULL, bad tag, bad description, line too
 *         long, duplicate tag), MW_ERR_LIMIT (MW_POP3_MAX_LANGUAGES already).
 */
MW_API int mw_pop3_server_opts_add_language(mw_pop3_server_opts *o, const char *tag,
                                            const char *description);

/** Forget every language added (LANG is then not offered). NULL is a no-op. */
MW_API void mw_pop3_server_opts_clear_languages(mw_pop3_server_opts *o);

/* ------------------------------------------------------------------ */
/* Server events                                                       */
/* ------------------------------------------------------------------ */

/** Server event types (positive). */
typedef enum mw_pop3_event_type {
    MW_POP3_EV_PASS = 1,      /**< paused: USER+PASS; user, secret = password. accept = credentials good */
    MW_POP3_EV_APOP,          /**< paused: user, secret = 32 hex digits; check with mw_pop3_server_check_secret */
    MW_POP3_EV_AUTH,          /**< paused: arg = mechanism (upper case), data = decoded initial response */
    MW_POP3_EV_AUTH_RESPONSE, /**< paused: data = decoded client response to a "+ " challenge */
    MW_POP3_EV_AUTH_ABORT,    /**< informational: "*" or bad base64; -ERR already queued */
    MW_POP3_EV_MAILDROP,      /**< paused: authenticated; give the listing (maildrop_add), then accept */
    MW_POP3_EV_RETR,          /**< paused: msg, size, uid; accept and stream it (body_write/body_end) */
    MW_POP3_EV_TOP,           /**< paused: as RETR, lines = body lines wanted; the engine truncates */
    MW_POP3_EV_COMMIT,        /**< paused: QUIT in TRANSACTION; count = deleted messages (see next_deleted) */
    MW_POP3_EV_QUIT,          /**< informational: +OK queued, the session is closed */
    MW_POP3_EV_STLS,          /**< informational: +OK queued, state is MW_TLS_HANDOFF; discarded = dropped octets */
    MW_POP3_EV_LANG           /**< paused: "LANG arg"; arg = the requested tag or "*"; answer with
                                   mw_pop3_server_lang_select, accept, or reply(0, ...) */
} mw_pop3_event_type;

/** Event flags. */
#define MW_POP3_F_INITIAL 0x1u       /**< AUTH: an initial response was given (data, may be empty) */
#define MW_POP3_F_TLS 0x2u           /**< the session is under TLS (every event) */
#define MW_POP3_F_UTF8 0x4u          /**< the client sent UTF8 (RFC 6856) */
#define MW_POP3_F_AUTHENTICATED 0x8u /**< TRANSACTION state (every event) */

/**
 * A server event. Engine-owned; it and every slice in it are valid until the
 * next call on the same server other than mw_pop3_server_state and
 * mw_pop3_server_out_buf. Unused fields are zero. Fields are only appended.
 */
typedef struct mw_pop3_event {
    int type;          /**< MW_POP3_EV_* */
    int paused;        /**< 1: the engine waits for accept/reply */
    unsigned flags;    /**< MW_POP3_F_* */
    mw_slice user;     /**< PASS/APOP: the user name */
    mw_slice secret;   /**< PASS: the password; APOP: the digest */
    mw_slice arg;      /**< AUTH: the mechanism; LANG: the requested language */
    mw_slice data;     /**< AUTH / AUTH_RESPONSE: decoded SASL bytes */
    mw_slice uid;      /**< RETR/TOP: the message's unique-id */
    uint32_t msg;      /**< RETR/TOP: message number (1-based) */
    uint64_t size;     /**< RETR/TOP: the listed size; COMMIT: octets to remove */
    uint64_t lines;    /**< TOP: body lines wanted */
    size_t count;      /**< COMMIT: deleted messages; MAILDROP: 0 */
    size_t discarded;  /**< STLS: plaintext octets after the command that were dropped */
} mw_pop3_event;

/* ------------------------------------------------------------------ */
/* Server engine                                                       */
/* ------------------------------------------------------------------ */

typedef struct mw_pop3_server mw_pop3_server;

/**
 * Create a server session; the "+OK" greeting is queued at once.
 * @param mem allocator hooks (copied), NULL for libc.
 * @param opts options (copied), NULL for defaults.
 * @param out receives the session (NULL on failure).
 * @return MW_OK, MW_ERR_INVALID (out NULL, input buffer smaller than the
 *         line limits, APOP on without a timestamp), MW_ERR_NOMEM.
 */
MW_API int mw_pop3_server_new(const mw_mem *mem, const mw_pop3_server_opts *opts,
                              mw_pop3_server **out);

/** Free a session (NULL is a no-op). */
MW_API void mw_pop3_server_free(mw_pop3_server *s);

/**
 * Copy received bytes into the input buffer. In MW_TLS_HANDOFF the bytes
 * are plaintext after STLS: dropped, counted, reported as taken.
 * @return octets taken (0 when full: call next() first), MW_ERR_INVALID,
 *         MW_ERR_CLOSED, MW_ERR_NOMEM (fatal codes are sticky).
 */
MW_API mw_ssize mw_pop3_server_feed(mw_pop3_server *s, const void *data, size_t len);

/**
 * Zero-copy input: space to read the socket into.
 * @param len receives the writable length (0 when none).
 * @return the space, valid until the next call on the session; NULL when
 *         full, closed or out of memory.
 */
MW_API unsigned char *mw_pop3_server_recv_buf(mw_pop3_server *s, size_t *len);

/**
 * Commit n octets written at the recv_buf pointer.
 * @return MW_OK, MW_ERR_INVALID (n too large), MW_ERR_STATE (no recv_buf outstanding).
 */
MW_API int mw_pop3_server_recv_ack(mw_pop3_server *s, size_t n);

/**
 * The peer closed its side: buffered complete commands are still run;
 * then next() returns MW_ERR_CLOSED (deletions are NOT committed: RFC 1939
 * §6 only enters UPDATE on QUIT). @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_pop3_server_eof(mw_pop3_server *s);

/**
 * Pull the next event.
 * @param ev receives the engine-owned event (NULL unless one is returned).
 * @return MW_POP3_EV_* (> 0); 0 when input is needed, output must be
 *         drained, or in MW_TLS_HANDOFF; MW_ERR_STATE while an event is
 *         paused or a message is being streamed (not sticky);
 *         MW_ERR_CLOSED once the session is over; MW_ERR_NOMEM (fatal);
 *         MW_ERR_INVALID. Peer errors are answered by the engine.
 */
MW_API int mw_pop3_server_next(mw_pop3_server *s, const mw_pop3_event **ev);

/**
 * Give the positive answer to the paused event: PASS/APOP/AUTH/
 * AUTH_RESPONSE: credentials are good (a MAILDROP event follows, nothing is
 * sent yet); MAILDROP: "+OK maildrop has N messages (S octets)" and the
 * TRANSACTION state; RETR/TOP: "+OK" and the engine waits for the message
 * through body_write/body_end; COMMIT: "+OK" and close; LANG: as
 * mw_pop3_server_lang_select with the requested tag ("*": the first
 * language listed).
 * @return MW_OK, MW_ERR_STATE (nothing paused), MW_ERR_NOMEM, MW_ERR_LIMIT
 *         (output queue full: drain, retry).
 */
MW_API int mw_pop3_server_accept(mw_pop3_server *s);

/**
 * Answer the paused event with "-ERR [code] text" (ok = 0) or
 * "+OK text" (ok = 1, same effect as accept with the caller's text).
 * A refused PASS/APOP/AUTH returns to AUTHORIZATION; a refused MAILDROP
 * (e.g. code "IN-USE") too; a refused RETR/TOP stays in TRANSACTION;
 * a refused COMMIT closes the session (RFC 1939 §6, "some deleted
 * messages not removed").
 * @param code extended response code without brackets ("IN-USE",
 *        "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", "AUTH"; RFC 2449 §8: upper
 *        case letters, '-' and '/' separated levels) or NULL; sent only when
 *        RESP-CODES (AUTH-RESP-CODE for "AUTH") is on.
 * @param text NUL-terminated, no CR/LF/controls, <= 200 octets; NULL for
 *        the default.
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_STATE, MW_ERR_NOMEM, MW_ERR_LIMIT.
 */
MW_API int mw_pop3_server_reply(mw_pop3_server *s, int ok, const char *code, const char *text);

/**
 * Send a SASL challenge ("+ " base64) for a paused AUTH/AUTH_RESPONSE.
 * @return MW_OK, MW_ERR_STATE, MW_ERR_INVALID (encoded challenge longer
 *         than the AUTH line limit), MW_ERR_NOMEM, MW_ERR_LIMIT.
 */
MW_API int mw_pop3_server_auth_challenge(mw_pop3_server *s, const void *data, size_t len);

/**
 * Check a secret against the paused PASS (constant-time comparison) or
 * APOP (MD5 of the greeting timestamp and secret, RFC 1939 §7) event.
 * @return 1 match, 0 no match, MW_ERR_STATE (no PASS/APOP paused), MW_ERR_INVALID.
 */
MW_API int mw_pop3_server_check_secret(const mw_pop3_server *s, const char *secret, size_t len);

/**
 * Add one message to the listing while MAILDROP is paused (in order:
 * message 1 first).
 * @param size the exact octet count the message will have on the wire
 *        before dot-stuffing, counting CRLF line ends (RFC 1939 §5 LIST).
 * @param uid,uid_len unique-id (RFC 1939 §7: 1..70 octets 0x21..0x7E),
 *        copied; NULL/0 when UIDL is off.
 * @return MW_OK, MW_ERR_STATE (MAILDROP not paused), MW_ERR_INVALID (bad
 *         uid), MW_ERR_LIMIT (more than max_messages), MW_ERR_NOMEM.
 */
MW_API int mw_pop3_server_maildrop_add(mw_pop3_server *s, uint64_t size, const char *uid,
                                       size_t uid_len);

/**
 * Stream message bytes after accepting RETR/TOP (zlib style): lines
 * starting with '.' are stuffed; for TOP the engine stops after the
 * headers and the wanted body lines and takes the rest without sending it.
 * @return octets consumed (0 when the output queue is full: drain it),
 *         MW_ERR_STATE (no message being sent), MW_ERR_INVALID, MW_ERR_NOMEM.
 */
MW_API mw_ssize mw_pop3_server_body_write(mw_pop3_server *s, const void *data, size_t len);

/**
 * Whether the message being sent still wants bytes (0 once TOP has its
 * lines: call body_end). @return 1 or 0.
 */
MW_API int mw_pop3_server_body_wanted(const mw_pop3_server *s);

/**
 * End the message: completes a last line without CRLF and adds "." CRLF.
 * @return MW_OK, MW_ERR_STATE, MW_ERR_LIMIT (output full: drain, retry), MW_ERR_NOMEM.
 */
MW_API int mw_pop3_server_body_end(mw_pop3_server *s);

/**
 * Walk the messages marked deleted (for COMMIT).
 * @param after 0 to start, then the previous result.
 * @return the next deleted message number (> after), or 0 when none.
 */
MW_API uint32_t mw_pop3_server_next_deleted(const mw_pop3_server *s, uint32_t after);

/**
 * After the STLS handoff: the transport is TLS now. The session restarts
 * in AUTHORIZATION with capabilities recomputed (STLS no longer offered).
 * @return MW_OK, MW_ERR_STATE (not in MW_TLS_HANDOFF).
 */
MW_API int mw_pop3_server_tls_started(mw_pop3_server *s);

/**
 * Answer a paused LANG event with "+OK tag text" (RFC 6856 §3) and make tag
 * the session's language. The caller picks it: the requested tag itself, a
 * listed language its range matches, or one of its choice for "LANG *".
 * @param tag a language tag (syntax as in mw_pop3_server_opts_add_language;
 *        not checked against the list), copied.
 * @param text response text, in that language (NUL-terminated, no CR/LF/
 *        controls, <= 200 octets, UTF-8 allowed); NULL for "Language changed".
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_STATE (no LANG paused),
 *         MW_ERR_NOMEM, MW_ERR_LIMIT (output full: drain, retry).
 */
MW_API int mw_pop3_server_lang_select(mw_pop3_server *s, const char *tag, const char *text);

/**
 * The language the session chose with LANG: the caller should write the
 * response texts it supplies in it. The engine's own texts stay English.
 * @return a NUL-terminated tag owned by the session, valid until the next
 *         call on it; "" when none was chosen (the default, i-default);
 *         "" for NULL.
 */
MW_API const char *mw_pop3_server_language(const mw_pop3_server *s);

/** Readiness flags (0 for NULL). */
MW_API unsigned mw_pop3_server_state(const mw_pop3_server *s);

/**
 * Pending output. @param len receives the count.
 * @return the octets (valid until the next call other than state), NULL when none.
 */
MW_API const unsigned char *mw_pop3_server_out_buf(mw_pop3_server *s, size_t *len);

/** Drop n sent octets (clamped). */
MW_API void mw_pop3_server_out_ack(mw_pop3_server *s, size_t n);

/** Plaintext octets dropped after STLS over the session's life (0 for NULL). */
MW_API uint64_t mw_pop3_server_tls_discarded(const mw_pop3_server *s);

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

typedef struct mw_pop3_client_opts mw_pop3_client_opts;

/** TLS policy (mw_pop3_client_opts_set_tls). */
#define MW_POP3_TLS_NONE 0          /**< never send STLS */
#define MW_POP3_TLS_OPPORTUNISTIC 1 /**< STLS when CAPA offers it */
#define MW_POP3_TLS_REQUIRED 2      /**< STLS or fail (MW_ERR_UNSUPPORTED, session closed) */

/** Client flags. */
#define MW_POP3_CLIENT_IMPLICIT_TLS 0x1u     /**< the transport is TLS from the start (port 995) */
#define MW_POP3_CLIENT_ALLOW_PLAINTEXT 0x2u  /**< allow USER/PASS and AUTH PLAIN/LOGIN without TLS */

/**
 * Create client options: TLS policy OPPORTUNISTIC, response lines of 512
 * octets (RFC 2449 §4), 32 queued commands, a 16 KiB input buffer.
 * @return the object or NULL (no memory).
 */
MW_API mw_pop3_client_opts *mw_pop3_client_opts_new(const mw_mem *mem);
/** Free client options (NULL is a no-op). */
MW_API void mw_pop3_client_opts_free(mw_pop3_client_opts *o);
/** Set the TLS policy. @return MW_OK, MW_ERR_INVALID. */
MW_API int mw_pop3_client_opts_set_tls(mw_pop3_client_opts *o, int policy);
/** Turn MW_POP3_CLIENT_* flags on or off. @return MW_OK, MW_ERR_INVALID. */
MW_API int mw_pop3_client_opts_set_flags(mw_pop3_client_opts *o, unsigned flags, int on);
/**
 * Set limits. @param max_line response line incl. CRLF (512..65536);
 * @param max_queue queued commands (1..4096); @param inbuf input buffer
 * (>= max_line, <= 64 MiB). @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_pop3_client_opts_set_limits(mw_pop3_client_opts *o, size_t max_line,
                                          size_t max_queue, size_t inbuf);

/** Commands, as reported in mw_pop3_client_event.cmd. */
typedef enum mw_pop3_cmd {
    MW_POP3_CMD_NONE = 0, /**< the greeting */
    MW_POP3_CMD_CAPA,
    MW_POP3_CMD_STLS,
    MW_POP3_CMD_USER,
    MW_POP3_CMD_PASS,
    MW_POP3_CMD_APOP,
    MW_POP3_CMD_AUTH,
    MW_POP3_CMD_STAT,
    MW_POP3_CMD_LIST,
    MW_POP3_CMD_UIDL,
    MW_POP3_CMD_RETR,
    MW_POP3_CMD_TOP,
    MW_POP3_CMD_DELE,
    MW_POP3_CMD_RSET,
    MW_POP3_CMD_NOOP,
    MW_POP3_CMD_QUIT,
    MW_POP3_CMD_UTF8,
    MW_POP3_CMD_LANG
} mw_pop3_cmd;

/** Client event types (positive). */
typedef enum mw_pop3_client_event_type {
    MW_POP3_CLIENT_EV_GREETING = 1, /**< ok, text, timestamp (APOP banner, empty if none) */
    MW_POP3_CLIENT_EV_CAPA,         /**< one CAPA line: text = tag, arg = its arguments */
    MW_POP3_CLIENT_EV_READY,        /**< TLS negotiation done, capabilities known: commands flow */
    MW_POP3_CLIENT_EV_REPLY,        /**< a status line: cmd, ok, code, text (STAT: count, size) */
    MW_POP3_CLIENT_EV_LIST,         /**< LIST entry: msg, size */
    MW_POP3_CLIENT_EV_UIDL,         /**< UIDL entry: msg, arg = uid */
    MW_POP3_CLIENT_EV_BODY,         /**< RETR/TOP bytes, dot-unstuffed, CRLF kept */
    MW_POP3_CLIENT_EV_END,          /**< end of a multi-line response (cmd) */
    MW_POP3_CLIENT_EV_LANG          /**< LANG listing entry: text = tag, arg = description */
} mw_pop3_client_event_type;

/** Capability bits learnt from CAPA (mw_pop3_client_capabilities). */
#define MW_POP3_HAS_TOP 0x001u
#define MW_POP3_HAS_UIDL 0x002u
#define MW_POP3_HAS_USER 0x004u
#define MW_POP3_HAS_SASL 0x008u
#define MW_POP3_HAS_RESP_CODES 0x010u
#define MW_POP3_HAS_AUTH_RESP_CODE 0x020u
#define MW_POP3_HAS_PIPELINING 0x040u
#define MW_POP3_HAS_EXPIRE 0x080u
#define MW_POP3_HAS_LOGIN_DELAY 0x100u
#define MW_POP3_HAS_IMPLEMENTATION 0x200u
#define MW_POP3_HAS_UTF8 0x400u
#define MW_POP3_HAS_STLS 0x800u
#define MW_POP3_HAS_CAPA 0x1000u /**< the server answered CAPA with +OK */
#define MW_POP3_HAS_LANG 0x2000u /**< LANG, RFC 6856 §3 */

/**
 * A client event; engine-owned, valid (with its slices) until the next
 * call on the client other than state/out_buf. Unused fields are zero.
 */
typedef struct mw_pop3_client_event {
    int type;        /**< MW_POP3_CLIENT_EV_* */
    int cmd;         /**< MW_POP3_CMD_* the event answers */
    int ok;          /**< REPLY/GREETING: 1 for +OK, 0 for -ERR */
    mw_slice code;   /**< extended response code without brackets ("IN-USE"), empty if none */
    mw_slice text;   /**< status text after the code; CAPA: the tag */
    mw_slice arg;    /**< CAPA: arguments; UIDL: the uid; GREETING: timestamp */
    mw_slice data;   /**< BODY bytes */
    uint32_t msg;    /**< LIST/UIDL entry, or the message of RETR/TOP/DELE/LIST n */
    uint64_t size;   /**< LIST entry or STAT: octets */
    uint64_t count;  /**< STAT: messages */
    uint64_t id;     /**< sequence number the queueing call returned */
    int local;       /**< REPLY: 1 when the engine refused the command itself and never
                          sent it (plaintext credentials without TLS, no usable SASL
                          mechanism, APOP without a timestamp); text says why */
} mw_pop3_client_event;

typedef struct mw_pop3_client mw_pop3_client;

/* The SASL options object of <mailwire/sasl.h>. */
struct mw_sasl_options;

/**
 * Create a client session. It waits for the greeting, sends CAPA, then STLS
 * per the TLS policy, then CAPA again, and reports READY; commands queued
 * before that wait.
 * @param sasl_opts SASL options (copied; NULL: defaults) used for AUTH; set
 *        a random callback there for SCRAM.
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_NOMEM.
 */
MW_API int mw_pop3_client_new(const mw_mem *mem, const mw_pop3_client_opts *opts,
                              const struct mw_sasl_options *sasl_opts,
                              mw_pop3_client **out);
/** Free a client (NULL is a no-op); secrets are wiped. */
MW_API void mw_pop3_client_free(mw_pop3_client *c);

/** As mw_pop3_server_feed. After the +OK to STLS any byte here is an
 *  injection: MW_ERR_TLS_INJECTION (fatal). */
MW_API mw_ssize mw_pop3_client_feed(mw_pop3_client *c, const void *data, size_t len);
/** As mw_pop3_server_recv_buf. */
MW_API unsigned char *mw_pop3_client_recv_buf(mw_pop3_client *c, size_t *len);
/** As mw_pop3_server_recv_ack (MW_ERR_TLS_INJECTION in handoff). */
MW_API int mw_pop3_client_recv_ack(mw_pop3_client *c, size_t n);
/** The server closed. @return MW_OK, MW_ERR_INVALID. */
MW_API int mw_pop3_client_eof(mw_pop3_client *c);

/**
 * Pull the next event.
 * @return MW_POP3_CLIENT_EV_* (> 0); 0 when input is needed;
 *         MW_ERR_CLOSED after QUIT's reply, a -ERR greeting, or eof with
 *         nothing outstanding; MW_ERR_TRUNCATED (eof with a response
 *         outstanding); MW_ERR_PROTOCOL (a response that is neither +OK
 *         nor -ERR, a line over the limit, an unsolicited +OK);
 *         MW_ERR_TLS_INJECTION (bytes after the +OK to STLS);
 *         MW_ERR_UNSUPPORTED (TLS required but STLS not offered or
 *         refused); MW_ERR_AUTH (the SASL exchange failed on our side, e.g.
 *         a SCRAM server signature mismatch); MW_ERR_NOMEM. All of these
 *         are sticky and close the session. MW_ERR_INVALID for NULL.
 */
MW_API int mw_pop3_client_next(mw_pop3_client *c, const mw_pop3_client_event **ev);

/*
 * Queueing commands. Every call returns the command's sequence number
 * (>= 1, echoed in the events' id) or a negative MW_ERR_*. Commands are
 * sent once the client is READY: pipelined when the server announces
 * PIPELINING, otherwise one at a time; AUTH always alone. Common errors:
 * MW_ERR_INVALID (NULL, empty, CR/LF/NUL or a space where none may be,
 * message number 0, a line over 255 octets), MW_ERR_LIMIT (queue full),
 * MW_ERR_STATE (closed, or after QUIT was queued), MW_ERR_NOMEM.
 * Credentials are copied and wiped after use. A command the engine will
 * not send when its turn comes (a password before TLS without
 * ALLOW_PLAINTEXT, AUTH with no usable mechanism, APOP without a greeting
 * timestamp) is answered by a REPLY event with ok = 0 and local = 1.
 */

/** Queue USER then PASS (two sequence numbers; the PASS one is returned).
 *  Both go in or neither (MW_ERR_LIMIT when two slots are not free). */
MW_API mw_ssize mw_pop3_client_user_pass(mw_pop3_client *c, const char *user, const char *pass);
/** Queue APOP (RFC 1939 §7): the digest is computed from the greeting's
 *  timestamp when the command goes out. @return as above, and
 *  MW_ERR_UNSUPPORTED when the greeting already came without a timestamp. */
MW_API mw_ssize mw_pop3_client_apop(mw_pop3_client *c, const char *user, const char *secret);
/**
 * Queue AUTH (RFC 5034) through the SASL client engine. The mechanism is
 * chosen when the command goes out, with mw_sasl_choose over the server's
 * CAPA SASL list and client_mask; PLAIN, LOGIN and the OAuth mechanisms
 * only under TLS unless ALLOW_PLAINTEXT.
 * @param client_mask MW_SASL_BIT() of each mechanism allowed (not 0).
 * @param authzid authorization identity or NULL; @param user the
 *        authentication identity; @param secret password, or bearer token
 *        for XOAUTH2/OAUTHBEARER. Each is copied (NULL allowed).
 */
MW_API mw_ssize mw_pop3_client_auth(mw_pop3_client *c, unsigned client_mask, const char *authzid,
                                    const char *user, const char *secret);
/** Queue STAT; the REPLY carries count and size. */
MW_API mw_ssize mw_pop3_client_stat(mw_pop3_client *c);
/** Queue LIST msg (one REPLY with msg and size), or LIST for msg 0
 *  (REPLY, then LIST events, then END). */
MW_API mw_ssize mw_pop3_client_list(mw_pop3_client *c, uint32_t msg);
/** Queue UIDL msg (REPLY with arg = uid), or UIDL for msg 0 (REPLY, UIDL events, END). */
MW_API mw_ssize mw_pop3_client_uidl(mw_pop3_client *c, uint32_t msg);
/** Queue RETR msg (msg >= 1): REPLY, BODY events, END. */
MW_API mw_ssize mw_pop3_client_retr(mw_pop3_client *c, uint32_t msg);
/** Queue TOP msg lines (msg >= 1): REPLY, BODY events, END. */
MW_API mw_ssize mw_pop3_client_top(mw_pop3_client *c, uint32_t msg, uint32_t lines);
/** Queue DELE msg (msg >= 1). */
MW_API mw_ssize mw_pop3_client_dele(mw_pop3_client *c, uint32_t msg);
/** Queue RSET. */
MW_API mw_ssize mw_pop3_client_rset(mw_pop3_client *c);
/** Queue NOOP. */
MW_API mw_ssize mw_pop3_client_noop(mw_pop3_client *c);
/** Queue QUIT; nothing can be queued after it. Its +OK closes the session. */
MW_API mw_ssize mw_pop3_client_quit(mw_pop3_client *c);
/** Queue UTF8 (RFC 6856 §2; send it before the credentials). */
MW_API mw_ssize mw_pop3_client_utf8(mw_pop3_client *c);

/**
 * Queue LANG (RFC 6856 §3). With tag NULL: list the server's languages
 * (REPLY, then one LANG event per line, then END). With a tag (1..35 of
 * A-Z a-z 0-9 '-') or "*": select one; the REPLY's text is the server's
 * answer, normally "tag text" in the chosen language.
 * @return as above; MW_ERR_INVALID for a malformed tag.
 */
MW_API mw_ssize mw_pop3_client_lang(mw_pop3_client *c, const char *tag);

/** Capability bits (MW_POP3_HAS_*) from the latest CAPA; 0 for NULL. */
MW_API unsigned mw_pop3_client_capabilities(const mw_pop3_client *c);

/**
 * The SASL mechanism list from the latest CAPA.
 * @return a view valid until the next call that feeds input, empty if none.
 */
MW_API mw_slice mw_pop3_client_sasl_mechs(const mw_pop3_client *c);

/** After the STLS handoff: the transport is TLS. Capabilities are
 *  forgotten and CAPA is sent again (RFC 2595 §4).
 *  @return MW_OK, MW_ERR_STATE. */
MW_API int mw_pop3_client_tls_started(mw_pop3_client *c);
/** Readiness flags (0 for NULL). */
MW_API unsigned mw_pop3_client_state(const mw_pop3_client *c);
/** Pending output (see mw_pop3_server_out_buf). */
MW_API const unsigned char *mw_pop3_client_out_buf(mw_pop3_client *c, size_t *len);
/** Drop n sent octets. */
MW_API void mw_pop3_client_out_ack(mw_pop3_client *c, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_POP3_H */
