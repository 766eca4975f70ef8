/*
 * mailwire — the optional OpenSSL adapter (libmailwire_openssl).
 *
 * A TLS session that never touches a socket: ciphertext goes in with
 * mw_tls_feed_cipher (or recv_buf/recv_ack) and comes out with
 * mw_tls_out_buf/mw_tls_out_ack, plaintext goes in with mw_tls_write_plain
 * and comes out with mw_tls_read_plain. The protocol engines know nothing
 * about TLS: the caller puts a session between the socket and an engine,
 * either from the first byte (implicit TLS) or when the engine reports
 * MW_TLS_HANDOFF (STARTTLS). docs/tls.md shows the loop.
 *
 * Only built with -DMW_WITH_OPENSSL=ON; link mailwire::mailwire_openssl
 * (CMake) or mailwire-openssl (pkg-config). Needs OpenSSL 3.
 *
 * Threads: a config may be shared by sessions in several threads once it is
 * set up (do not change it while another thread creates sessions from it);
 * one session is used by one thread at a time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_OPENSSL_H
#define MAILWIRE_OPENSSL_H

#include <mailwire/common.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Shared settings for many sessions: role, certificates, trust, limits. */
typedef struct mw_tls_config mw_tls_config;
/** One TLS connection, driven entirely through memory. */
typedef struct mw_tls_session mw_tls_session;

/** Roles for mw_tls_config_new(). */
#define MW_TLS_CLIENT 1
#define MW_TLS_SERVER 2

/** Protocol versions (the TLS wire values). */
#define MW_TLS_VERSION_1_2 0x0303
#define MW_TLS_VERSION_1_3 0x0304

/** Extra flags in mw_tls_state(), next to MW_WANT_READ, MW_WANT_WRITE and
 *  MW_CLOSED from common.h (a TLS session never sets MW_TLS_HANDOFF). */
#define MW_TLS_READY 0x100u         /**< handshake done: plaintext can flow */
#define MW_TLS_PEER_CLOSED 0x200u   /**< the peer's close_notify arrived */
#define MW_TLS_CLOSE_SENT 0x400u    /**< our close_notify is queued (mw_tls_shutdown) */
#define MW_TLS_FAILED 0x800u        /**< a fatal error happened: see mw_tls_last_error() */

/** Channel-binding types for mw_tls_channel_binding(). */
#define MW_TLS_CB_EXPORTER 1          /**< "tls-exporter", RFC 9266 (32 octets) */
#define MW_TLS_CB_SERVER_END_POINT 2  /**< "tls-server-end-point", RFC 5929 §4.1 */

/** Default and smallest ciphertext buffer limits (mw_tls_config_set_buffer_limits). */
#define MW_TLS_DEFAULT_CIPHER_IN_MAX 32768u
#define MW_TLS_DEFAULT_CIPHER_OUT_MAX 65536u
#define MW_TLS_MIN_BUFFER 512u

/* ---- configuration ---------------------------------------------------- */

/**
 * Create a configuration. Defaults: minimum version TLS 1.2, OpenSSL's
 * default ciphers, no certificate, no trust anchors, peer verification ON for
 * a client and OFF for a server, renegotiation and 0-RTT data refused.
 * @param mem  allocator hooks for the adapter's own memory (copied), NULL for
 *             libc. OpenSSL's own allocations use OpenSSL's allocator.
 * @param role MW_TLS_CLIENT or MW_TLS_SERVER.
 * @param out  receives the configuration; *out is NULL on failure.
 * @return MW_OK, MW_ERR_INVALID (out NULL, unknown role), MW_ERR_NOMEM,
 *         MW_ERR_TLS (OpenSSL could not create its context).
 */
MW_API int mw_tls_config_new(const mw_mem *mem, int role, mw_tls_config **out);

/** Free a configuration (NULL is a no-op). Sessions made from it stay valid:
 *  they keep their own reference to OpenSSL's context. */
MW_API void mw_tls_config_free(mw_tls_config *cfg);

/**
 * Load our certificate chain and private key from PEM files.
 * @param chain_path PEM file: our certificate first, then intermediates.
 * @param key_path   PEM private key (unencrypted); NULL if it is in chain_path.
 * @return MW_OK, MW_ERR_INVALID (NULL cfg or chain_path), MW_ERR_TLS (file
 *         unreadable, bad PEM, key does not match; text in
 *         mw_tls_config_last_error()). After a failure the configuration
 *         may hold the certificate without its key: load again or free it.
 */
MW_API int mw_tls_config_set_cert_file(mw_tls_config *cfg, const char *chain_path,
                                       const char *key_path);

/**
 * Load our certificate chain and private key from PEM text in memory.
 * @param chain_pem,chain_len our certificate first, then intermediates.
 * @param key_pem,key_len     the unencrypted private key.
 * The bytes are parsed at once and not kept.
 * @return MW_OK, MW_ERR_INVALID (NULL pointer, length over INT_MAX),
 *         MW_ERR_TLS (bad PEM, key does not match the certificate; the same
 *         caveat as for mw_tls_config_set_cert_file()).
 */
MW_API int mw_tls_config_set_cert_mem(mw_tls_config *cfg, const char *chain_pem, size_t chain_len,
                                      const char *key_pem, size_t key_len);

/**
 * Add trust anchors from a PEM file and/or an OpenSSL hashed directory.
 * @param file PEM bundle or NULL; @param dir directory or NULL (not both NULL).
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_TLS (the file or the directory
 *         could not be used; anchors loaded before the failure stay).
 */
MW_API int mw_tls_config_set_ca_file(mw_tls_config *cfg, const char *file, const char *dir);

/**
 * Add trust anchors from PEM text in memory (one or more certificates).
 * @return MW_OK, MW_ERR_INVALID (NULL, empty, length over INT_MAX),
 *         MW_ERR_TLS (no certificate in the text, or a bad one).
 */
MW_API int mw_tls_config_set_ca_mem(mw_tls_config *cfg, const char *pem, size_t len);

/**
 * Add the system's default trust anchors (OpenSSL's default paths).
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_TLS.
 */
MW_API int mw_tls_config_set_ca_system(mw_tls_config *cfg);

/**
 * Turn peer verification on or off. On: a client aborts the handshake when
 * the server's chain does not lead to a trust anchor or does not match the
 * expected host name; a server requires and verifies a client certificate.
 * Off: the handshake goes on and mw_tls_peer_verify_result() still tells
 * what verification found.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_tls_config_set_verify_peer(mw_tls_config *cfg, int on);

/**
 * Client only: the server name to send (SNI, RFC 6066 §3) and to check the
 * certificate against (RFC 6125: DNS names in subjectAltName, no partial
 * wildcards). An IPv4 or IPv6 literal is checked against IP-address
 * subjectAltNames instead and is not sent as SNI, which allows host names
 * only. NULL clears it (then no name is checked). The string is copied.
 * Sessions can override it with mw_tls_set_host_name().
 * @return MW_OK, MW_ERR_INVALID (NULL cfg; a name that is empty, longer
 *         than 253 octets, or holds a space, a control character or a
 *         non-ASCII octet), MW_ERR_STATE (server configuration), MW_ERR_NOMEM.
 */
MW_API int mw_tls_config_set_host_name(mw_tls_config *cfg, const char *name);

/**
 * Lowest protocol version to accept (default MW_TLS_VERSION_1_2).
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_UNSUPPORTED (not 1.2 or 1.3).
 */
MW_API int mw_tls_config_set_min_version(mw_tls_config *cfg, int version);

/**
 * Highest protocol version to offer (default: the highest OpenSSL knows).
 * @param version MW_TLS_VERSION_1_2, MW_TLS_VERSION_1_3, or 0 for no limit.
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_UNSUPPORTED.
 */
MW_API int mw_tls_config_set_max_version(mw_tls_config *cfg, int version);

/**
 * Application protocols (ALPN, RFC 7301), most preferred first, e.g.
 * {"smtp"} or {"imap"}. A client offers them; a server picks the first of
 * its own list that the client offered and fails the handshake with
 * no_application_protocol when there is none (RFC 7301 §3.2). A client that
 * offers nothing is accepted. count 0 clears the list. Strings are copied.
 * @return MW_OK, MW_ERR_INVALID (NULL, empty or >255-octet name),
 *         MW_ERR_NOMEM.
 */
MW_API int mw_tls_config_set_alpn(mw_tls_config *cfg, const char *const *protos, size_t count);

/**
 * Ciphertext buffer limits for new sessions.
 * @param cipher_in_max  most received ciphertext held before it is decrypted
 *                       (default MW_TLS_DEFAULT_CIPHER_IN_MAX).
 * @param cipher_out_max mw_tls_write_plain() stops encrypting once this much
 *                       ciphertext waits to be sent (default
 *                       MW_TLS_DEFAULT_CIPHER_OUT_MAX). The queue may exceed
 *                       it by one record and by handshake messages; a hard
 *                       ceiling of 4 x cipher_out_max + 256 KiB ends the
 *                       session with MW_ERR_LIMIT.
 * @return MW_OK, MW_ERR_INVALID (a value under MW_TLS_MIN_BUFFER).
 */
MW_API int mw_tls_config_set_buffer_limits(mw_tls_config *cfg, size_t cipher_in_max,
                                           size_t cipher_out_max);

/**
 * Text of the last configuration error.
 * @return a NUL-terminated string owned by cfg, valid until the next call
 *         on cfg or mw_tls_config_free(); "" when there was none.
 */
MW_API const char *mw_tls_config_last_error(const mw_tls_config *cfg);

/* ---- sessions ----------------------------------------------------------- */

/**
 * Create a session. Nothing is sent until the first call of mw_tls_state(),
 * mw_tls_out_buf(), mw_tls_feed_cipher() or mw_tls_recv_ack(); a client's
 * first mw_tls_out_buf() then returns its ClientHello.
 * @param mem allocator hooks for the adapter's memory (copied), NULL for libc.
 * @param cfg a set-up configuration (not kept: it may be freed afterwards).
 * @param out receives the session; *out is NULL on failure.
 * @return MW_OK, MW_ERR_INVALID (NULL cfg or out), MW_ERR_NOMEM, MW_ERR_TLS.
 */
MW_API int mw_tls_new(const mw_mem *mem, const mw_tls_config *cfg, mw_tls_session **out);

/** Free a session (NULL is a no-op). It sends nothing: call mw_tls_shutdown()
 *  and drain the output first for a clean close. */
MW_API void mw_tls_free(mw_tls_session *s);

/**
 * Client only: override the configuration's expected host name (see
 * mw_tls_config_set_host_name()) before the handshake starts.
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_STATE (server, or handshake started),
 *         MW_ERR_TLS.
 */
MW_API int mw_tls_set_host_name(mw_tls_session *s, const char *name);

/**
 * Hand over ciphertext received from the peer. Copies what fits into the
 * session's input buffer and advances the handshake.
 * @return octets taken (0 when the buffer is full: call mw_tls_read_plain()
 *         first), MW_ERR_INVALID (NULL data with len > 0), MW_ERR_CLOSED
 *         (after mw_tls_eof() or the peer's close_notify), or the session's
 *         sticky fatal error (MW_ERR_TLS, MW_ERR_NOMEM, MW_ERR_LIMIT).
 */
MW_API mw_ssize mw_tls_feed_cipher(mw_tls_session *s, const void *data, size_t len);

/**
 * Zero-copy input: space to read the socket into directly.
 * @param len receives the writable length (0 when the buffer is full, closed,
 *            failed or out of memory).
 * @return the space, valid until the next call on the session; NULL when
 *         *len is 0.
 */
MW_API unsigned char *mw_tls_recv_buf(mw_tls_session *s, size_t *len);

/**
 * Commit n octets written at mw_tls_recv_buf() and advance the handshake.
 * @return MW_OK, MW_ERR_INVALID (n larger than the space given), or the
 *         sticky error as for mw_tls_feed_cipher().
 */
MW_API int mw_tls_recv_ack(mw_tls_session *s, size_t n);

/**
 * The transport reached end of file. Buffered ciphertext is still
 * processed; if the peer never sent close_notify, mw_tls_read_plain() then
 * reports MW_ERR_TLS ("unexpected EOF"), which tells a truncation attack
 * from a clean close.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_tls_eof(mw_tls_session *s);

/**
 * Ciphertext waiting to be sent (handshake messages, records, alerts).
 * Starts the handshake if it has not started. Still returns pending bytes
 * after a failure, so a fatal alert can reach the peer.
 * @param len receives the length (0 when nothing is pending).
 * @return the bytes, valid until the next call on the session other than
 *         mw_tls_state(); NULL when *len is 0.
 */
MW_API const unsigned char *mw_tls_out_buf(mw_tls_session *s, size_t *len);

/** Drop n sent octets from the front of the output (n larger than what is
 *  pending is clamped). */
MW_API void mw_tls_out_ack(mw_tls_session *s, size_t n);

/**
 * Decrypt received data into buf. Nothing is returned before the handshake
 * has finished, so plaintext can never bypass it; renegotiation and 0-RTT
 * data are refused altogether.
 * @return octets written (> 0), 0 (need more ciphertext, or handshake not
 *         finished), MW_ERR_INVALID (NULL buf, cap 0), MW_ERR_CLOSED (the
 *         peer sent close_notify and everything before it was returned),
 *         MW_ERR_TLS (bad record, unexpected EOF, ...; sticky),
 *         MW_ERR_NOMEM, MW_ERR_LIMIT (sticky).
 */
MW_API mw_ssize mw_tls_read_plain(mw_tls_session *s, void *buf, size_t cap);

/**
 * Encrypt plaintext for the peer. Consumes what it can: nothing before the
 * handshake has finished, and nothing more once the ciphertext waiting to be
 * sent reaches the configured cipher_out_max (drain mw_tls_out_buf() first).
 * Data never needs to be offered again: what was not consumed was not used.
 * @return octets consumed (>= 0), MW_ERR_INVALID (NULL data with len > 0),
 *         MW_ERR_CLOSED (after mw_tls_shutdown()), or the sticky error.
 */
MW_API mw_ssize mw_tls_write_plain(mw_tls_session *s, const void *data, size_t len);

/**
 * Readiness: MW_WANT_READ (ciphertext input is welcome), MW_WANT_WRITE
 * (mw_tls_out_buf() has bytes), MW_CLOSED (the session is over: drain the
 * output, then close), and MW_TLS_READY, MW_TLS_PEER_CLOSED,
 * MW_TLS_CLOSE_SENT, MW_TLS_FAILED. Starts the handshake if it has not
 * started (a client's ClientHello then waits in the output).
 */
MW_API unsigned mw_tls_state(mw_tls_session *s);

/**
 * Queue our close_notify alert (RFC 8446 §6.1). After it, writing is over;
 * reading goes on until the peer's close_notify. Calling it again is a no-op.
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_STATE (handshake not finished: just
 *         drop the connection), or the sticky error.
 */
MW_API int mw_tls_shutdown(mw_tls_session *s);

/**
 * Text of the last error on the session, e.g. "handshake: certificate
 * verify failed (hostname mismatch)".
 * @return a NUL-terminated string owned by the session, valid until
 *         mw_tls_free(); "" when there was none. Text is only ever set once
 *         a call returned an error, and is kept after it.
 */
MW_API const char *mw_tls_last_error(const mw_tls_session *s);

/**
 * The negotiated protocol version.
 * @return MW_TLS_VERSION_1_2, MW_TLS_VERSION_1_3, MW_ERR_INVALID,
 *         MW_ERR_STATE (handshake not finished).
 */
MW_API int mw_tls_protocol_version(const mw_tls_session *s);

/**
 * The negotiated cipher suite's name in OpenSSL's spelling
 * (e.g. "TLS_AES_256_GCM_SHA384").
 * @return a static string owned by OpenSSL; NULL before the handshake
 *         finished or for NULL s.
 */
MW_API const char *mw_tls_cipher_name(const mw_tls_session *s);

/**
 * The ALPN protocol the handshake selected.
 * @param proto receives a view valid until mw_tls_free(); {NULL, 0} when none.
 * @return 1 (one was selected), 0 (none), MW_ERR_INVALID, MW_ERR_STATE.
 */
MW_API int mw_tls_alpn_selected(const mw_tls_session *s, mw_slice *proto);

/**
 * The server name (SNI, RFC 6066 §3) of this connection: on a server the
 * name the client asked for (to pick a certificate or a virtual host), on
 * a client the name it sent.
 * @return a NUL-terminated string owned by the session, valid until
 *         mw_tls_free(); NULL when none was sent (IP literals never are),
 *         before the handshake finished, or for NULL s.
 */
MW_API const char *mw_tls_server_name(const mw_tls_session *s);

/**
 * What peer verification found (whether or not it was enforced).
 * @param text receives a static English description (may be NULL):
 *        "ok", "no peer certificate", or OpenSSL's reason such as
 *        "hostname mismatch".
 * @return 1 (the peer sent a certificate that verified, including the host
 *         name when one was set), 0 (no certificate, or it did not verify),
 *         MW_ERR_INVALID, MW_ERR_STATE (handshake not finished).
 */
MW_API int mw_tls_peer_verify_result(const mw_tls_session *s, const char **text);

/**
 * The peer certificate's subject in RFC 2253 form ("CN=localhost,O=...").
 * @param buf,cap caller's buffer; the text is NUL-terminated.
 * @return the length without the NUL, MW_ERR_INVALID, MW_ERR_STATE
 *         (handshake not finished, or the peer sent no certificate),
 *         MW_ERR_BUFFER (cap too small; nothing useful written).
 */
MW_API mw_ssize mw_tls_peer_subject(const mw_tls_session *s, char *buf, size_t cap);

/**
 * Channel-binding data for SCRAM-*-PLUS and GS2 (RFC 5056).
 * MW_TLS_CB_EXPORTER: 32 octets from the exporter with label
 * "EXPORTER-Channel-Binding" and no context (RFC 9266 §2); with TLS 1.2 only
 * when the extended master secret (RFC 7627) was negotiated, as RFC 9266
 * requires.
 * MW_TLS_CB_SERVER_END_POINT: the hash of the server's certificate with the
 * hash of its signature algorithm, SHA-256 in place of MD5 or SHA-1
 * (RFC 5929 §4.1); a client hashes the peer's certificate, a server its own.
 * Both sides get the same octets.
 * @param buf,cap caller's buffer (64 octets always suffice).
 * @return the length, MW_ERR_INVALID (NULL, unknown type), MW_ERR_STATE
 *         (handshake not finished, no server certificate),
 *         MW_ERR_UNSUPPORTED (TLS 1.2 without extended master secret, or a
 *         signature algorithm without a single hash such as Ed25519),
 *         MW_ERR_BUFFER (cap too small), MW_ERR_TLS.
 */
MW_API mw_ssize mw_tls_channel_binding(const mw_tls_session *s, int type, unsigned char *buf,
                                       size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_OPENSSL_H */
