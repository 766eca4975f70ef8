/*
 * mailwire — SASL (RFC 4422) client and server engines shared by the SMTP,
 * POP3 and IMAP engines.
 *
 * The engines exchange raw mechanism bytes: the protocol engine base64-
 * decodes what arrives on the wire ("AUTH PLAIN <b64>", "334 <b64>",
 * "+ <b64>") and hands the bytes here, and base64-encodes the bytes it gets
 * back. Nothing here does I/O, reads a clock, starts a thread or owns a
 * randomness source: nonces and salts come from the caller, either set
 * explicitly on the context (MW_SASL_PROP_NONCE) or drawn through the
 * random-bytes callback of the options object (mw_sasl_options_set_random).
 *
 * Mechanisms: EXTERNAL (RFC 4422 App. A), ANONYMOUS (RFC 4505), PLAIN
 * (RFC 4616), LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195),
 * XOAUTH2 (Google's format), OAUTHBEARER (RFC 7628), SCRAM-SHA-256 and
 * SCRAM-SHA-256-PLUS (RFC 7677, RFC 5802).
 *
 * Identities and passwords are used exactly as given: no SASLprep
 * (RFC 4013) normalisation is applied. Pass them already normalised (for
 * ASCII, which is most deployments, there is nothing to do).
 *
 * Status convention: the step functions return a positive MW_SASL_*
 * status, or a negative MW_ERR_* code. After any error other than
 * MW_ERR_INVALID and MW_ERR_STATE (which change nothing) the context is
 * finished: further steps return MW_ERR_STATE, or the same code again for
 * the fatal ones (MW_ERR_LIMIT, MW_ERR_PROTOCOL, MW_ERR_NOMEM).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_SASL_H
#define MAILWIRE_SASL_H

#include <mailwire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Mechanisms                                                          */
/* ------------------------------------------------------------------ */

/** Mechanism identifiers; also usable as bits (1u << id) in masks. */
typedef enum mw_sasl_mech {
    MW_SASL_MECH_NONE = 0,
    MW_SASL_MECH_EXTERNAL = 1,
    MW_SASL_MECH_ANONYMOUS = 2,
    MW_SASL_MECH_PLAIN = 3,
    MW_SASL_MECH_LOGIN = 4,
    MW_SASL_MECH_CRAM_MD5 = 5,
    MW_SASL_MECH_XOAUTH2 = 6,
    MW_SASL_MECH_OAUTHBEARER = 7,
    MW_SASL_MECH_SCRAM_SHA_256 = 8,
    MW_SASL_MECH_SCRAM_SHA_256_PLUS = 9
} mw_sasl_mech;

/** Bit for a mechanism in a mask. */
#define MW_SASL_BIT(mech) (1u << (unsigned)(mech))
/** Every mechanism that needs a password. */
#define MW_SASL_PASSWORD_MECHS                                                              \
    (MW_SASL_BIT(MW_SASL_MECH_PLAIN) | MW_SASL_BIT(MW_SASL_MECH_LOGIN) |                      \
     MW_SASL_BIT(MW_SASL_MECH_CRAM_MD5) | MW_SASL_BIT(MW_SASL_MECH_SCRAM_SHA_256))
/** Every mechanism that needs an OAuth 2.0 bearer token. */
#define MW_SASL_TOKEN_MECHS                                                                 \
    (MW_SASL_BIT(MW_SASL_MECH_XOAUTH2) | MW_SASL_BIT(MW_SASL_MECH_OAUTHBEARER))

/** mw_sasl_choose / mw_sasl_mechs_format flags. */
#define MW_SASL_TLS_ACTIVE 0x1u      /**< the transport is encrypted and authenticated */
#define MW_SASL_ALLOW_PLAINTEXT 0x2u /**< allow PLAIN, LOGIN and the token mechanisms without TLS */

/**
 * The registered name of a mechanism ("SCRAM-SHA-256", ...).
 * @return a static NUL-terminated string, or NULL for an unknown id.
 */
MW_API const char *mw_sasl_mech_name(int mech);

/**
 * Look a mechanism name up (ASCII case-insensitive).
 * @return the mw_sasl_mech id, or MW_ERR_UNSUPPORTED for an unknown name,
 *         MW_ERR_INVALID for name NULL with len > 0.
 */
MW_API int mw_sasl_mech_from_name(const char *name, size_t len);

/**
 * Pick the strongest mechanism that the server offers and the client can do.
 * Strength order, strongest first: EXTERNAL, SCRAM-SHA-256-PLUS,
 * SCRAM-SHA-256, OAUTHBEARER, XOAUTH2, CRAM-MD5, PLAIN, LOGIN, ANONYMOUS
 * (EXTERNAL and ANONYMOUS are only picked when the client's mask holds them,
 * which it should only do on purpose). Without MW_SASL_TLS_ACTIVE, PLAIN,
 * LOGIN, XOAUTH2 and OAUTHBEARER are skipped unless MW_SASL_ALLOW_PLAINTEXT
 * is given, and SCRAM-SHA-256-PLUS is always skipped (no channel to bind).
 * @param server_list the server's list: names separated by spaces, tabs or
 *        commas; an "AUTH=" prefix on a name (IMAP CAPABILITY) is ignored,
 *        and unknown names are skipped.
 * @param len         bytes in server_list.
 * @param client_mask MW_SASL_BIT() of each mechanism the client can run (it
 *        has the credentials; for -PLUS, the channel-binding data).
 * @param flags       MW_SASL_TLS_ACTIVE, MW_SASL_ALLOW_PLAINTEXT.
 * @return a mw_sasl_mech id, MW_ERR_UNSUPPORTED when nothing fits,
 *         MW_ERR_INVALID for server_list NULL with len > 0.
 */
MW_API int mw_sasl_choose(const char *server_list, size_t len, unsigned client_mask,
                          unsigned flags);

/**
 * Write the names of the mechanisms in mask, strongest first, separated by
 * single spaces (for "250-AUTH ..." or "AUTH=..." lists). The plaintext
 * rule of mw_sasl_choose applies: a server should not offer PLAIN or LOGIN
 * before TLS.
 * @param out,cap output; NUL-terminated on success (the NUL is not counted).
 * @return bytes written, MW_ERR_BUFFER, MW_ERR_INVALID.
 */
MW_API mw_ssize mw_sasl_mechs_format(unsigned mask, unsigned flags, char *out, size_t cap);

/* ------------------------------------------------------------------ */
/* Options (shared by client and server; copied at context creation)   */
/* ------------------------------------------------------------------ */

typedef struct mw_sasl_options mw_sasl_options;

/**
 * Random-bytes callback: fill buf with len unpredictable bytes (e.g. from
 * getrandom(2) or the TLS library's DRBG).
 * @return 0 on success, non-zero on failure (the step then fails with
 *         MW_ERR_UNSUPPORTED).
 */
typedef int (*mw_sasl_random_fn)(void *buf, size_t len, void *user_data);

/** Default cap of a single mechanism message, either direction. */
#define MW_SASL_DEFAULT_MAX_MESSAGE 8192u
/** Default minimum SCRAM iteration count the client accepts (RFC 7677 §4). */
#define MW_SASL_DEFAULT_MIN_ITERATIONS 4096u
/** Default maximum SCRAM iteration count the client accepts (bounds CPU). */
#define MW_SASL_DEFAULT_MAX_ITERATIONS 1000000u

/** Options flags (mw_sasl_options_set_flags). */
#define MW_SASL_OPT_SUCCESS_DATA 0x1u /**< server: the protocol can carry data with its success
                                           reply (IMAP4rev2); otherwise final data (SCRAM's
                                           server-final) goes out as one more challenge */

/**
 * Create an options object with the defaults.
 * @param mem allocator hooks (NULL: libc); copied.
 * @return the object, or NULL when allocation fails. Free it with
 *         mw_sasl_options_free; contexts copy it, so it may be freed
 *         right after they are created.
 */
MW_API mw_sasl_options *mw_sasl_options_new(const mw_mem *mem);

/** Free an options object (NULL is a no-op). */
MW_API void mw_sasl_options_free(mw_sasl_options *opts);

/**
 * Cap the size of any single mechanism message (each input and each output).
 * @param max bytes, at least 256 (default MW_SASL_DEFAULT_MAX_MESSAGE).
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_sasl_options_set_max_message(mw_sasl_options *opts, size_t max);

/**
 * Bound the SCRAM iteration count. The client refuses a server-first message
 * whose count is outside [min, max] (MW_ERR_AUTH); the server uses min when
 * it derives keys from a plaintext password (mw_sasl_server_supply_password).
 * @return MW_OK, MW_ERR_INVALID (min 0 or min > max).
 */
MW_API int mw_sasl_options_set_iterations(mw_sasl_options *opts, uint32_t min, uint32_t max);

/**
 * Set the random-bytes callback. It supplies the SCRAM nonce and the
 * CRAM-MD5 challenge when the context has no MW_SASL_PROP_NONCE, and the
 * salt when a SCRAM server is given a plaintext password.
 * @param fn NULL removes the callback.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_sasl_options_set_random(mw_sasl_options *opts, mw_sasl_random_fn fn,
                                      void *user_data);

/**
 * Set MW_SASL_OPT_* flags (replacing the previous set).
 * @return MW_OK, MW_ERR_INVALID for unknown bits.
 */
MW_API int mw_sasl_options_set_flags(mw_sasl_options *opts, unsigned flags);

/* ------------------------------------------------------------------ */
/* Properties: credentials and parameters set on a context             */
/* ------------------------------------------------------------------ */

/** Property ids for mw_sasl_client_set and mw_sasl_server_set. */
typedef enum mw_sasl_prop {
    MW_SASL_PROP_AUTHZID = 1,  /**< client: identity to act as (empty: the authcid's own) */
    MW_SASL_PROP_AUTHCID = 2,  /**< client: user name (XOAUTH2's user=, SCRAM's n=) */
    MW_SASL_PROP_PASSWORD = 3, /**< client: password */
    MW_SASL_PROP_TOKEN = 4,    /**< client: OAuth 2.0 bearer token */
    MW_SASL_PROP_TRACE = 5,    /**< client: ANONYMOUS trace (email or token, <= 255 chars) */
    MW_SASL_PROP_HOST = 6,     /**< client: OAUTHBEARER host=; server: CRAM-MD5 challenge host */
    MW_SASL_PROP_PORT = 7,     /**< client: OAUTHBEARER port= (decimal) */
    MW_SASL_PROP_NONCE = 8,    /**< both: fixed nonce (SCRAM c-nonce / s-nonce, printable
                                    ASCII without ','), or the whole CRAM-MD5 challenge
                                    on a server; overrides the random callback */
    MW_SASL_PROP_CB_TYPE = 9,  /**< both: channel-binding type (default "tls-exporter") */
    MW_SASL_PROP_CB_DATA = 10  /**< both: channel-binding data from the TLS layer (binary) */
} mw_sasl_prop;

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

typedef struct mw_sasl_client mw_sasl_client;

/** Step results (positive). */
#define MW_SASL_CONTINUE 1 /**< send *out to the peer and wait for its next message */
#define MW_SASL_DONE 2     /**< this side is finished; *out (maybe empty) is final data */
#define MW_SASL_VERIFY 3   /**< server only: paused for the caller (see mw_sasl_server_info) */

/**
 * Create a client context for one authentication exchange.
 * @param out  receives the context (NULL on error).
 * @param mem  allocator hooks (NULL: libc); copied.
 * @param mech mechanism name, NUL-terminated, case-insensitive.
 * @param opts options (NULL: defaults); copied.
 * @return MW_OK, MW_ERR_NOMEM, MW_ERR_UNSUPPORTED (unknown mechanism),
 *         MW_ERR_INVALID (NULL out or mech).
 */
MW_API int mw_sasl_client_new(mw_sasl_client **out, const mw_mem *mem, const char *mech,
                              const mw_sasl_options *opts);

/**
 * Free a client context, wiping every secret it holds (NULL is a no-op).
 */
MW_API void mw_sasl_client_free(mw_sasl_client *c);

/**
 * Set a property (copied). Binary data is only allowed for
 * MW_SASL_PROP_CB_DATA; every other value must not contain NUL.
 * Mechanism-specific checks (',' in a SCRAM nonce, ^A in an OAuth value)
 * happen at mw_sasl_client_start.
 * @return MW_OK, MW_ERR_NOMEM, MW_ERR_LIMIT (longer than the message cap),
 *         MW_ERR_SYNTAX (NUL in a text value), MW_ERR_STATE (already
 *         started), MW_ERR_INVALID.
 */
MW_API int mw_sasl_client_set(mw_sasl_client *c, int prop, const void *value, size_t len);

/**
 * Produce the initial response.
 * @param out receives the initial response. out->base == NULL means the
 *        mechanism has none (LOGIN, CRAM-MD5): send the AUTH command bare
 *        and wait for a challenge. out->base != NULL with len 0 is an empty
 *        initial response (SMTP "="). Valid until the next call on c.
 * @return MW_SASL_CONTINUE; MW_ERR_AUTH (a required credential is missing,
 *         e.g. no password), MW_ERR_SYNTAX (a credential the mechanism
 *         cannot carry), MW_ERR_UNSUPPORTED (no nonce: neither
 *         MW_SASL_PROP_NONCE nor a working random callback), MW_ERR_LIMIT,
 *         MW_ERR_NOMEM, MW_ERR_STATE (called twice), MW_ERR_INVALID.
 */
MW_API int mw_sasl_client_start(mw_sasl_client *c, mw_slice *out);

/**
 * Answer a server challenge (the decoded bytes of "334 ..." / "+ ...").
 * @param in,len challenge bytes (in may be NULL when len is 0).
 * @param out    receives the response to send; valid until the next call.
 * @return MW_SASL_CONTINUE; MW_ERR_SYNTAX (malformed challenge),
 *         MW_ERR_AUTH (the server failed a check: SCRAM nonce mismatch,
 *         iteration count out of range, wrong ServerSignature, server error
 *         "e=..."; an OAuth error JSON is not an error: the dummy response
 *         goes out and mw_sasl_client_error tells the details),
 *         MW_ERR_PROTOCOL (a challenge the mechanism does not expect),
 *         MW_ERR_LIMIT (challenge over the message cap), MW_ERR_NOMEM,
 *         MW_ERR_STATE (not started or finished), MW_ERR_INVALID.
 */
MW_API int mw_sasl_client_step(mw_sasl_client *c, const void *in, size_t len, mw_slice *out);

/**
 * The server reported success. Checks that the mechanism agrees: for SCRAM
 * the server's signature must have been verified, either in an earlier
 * challenge or in data here (additional data with success, RFC 4422 §3.6).
 * @param in,len additional data sent with the success reply, or NULL, 0.
 * @return MW_OK; MW_ERR_AUTH (the server claimed success without proving
 *         it knows the credentials, or an OAuth error was seen),
 *         MW_ERR_SYNTAX, MW_ERR_PROTOCOL, MW_ERR_STATE, MW_ERR_INVALID.
 */
MW_API int mw_sasl_client_finish(mw_sasl_client *c, const void *in, size_t len);

/** Details of a failure reported by the server inside the mechanism. */
typedef struct mw_sasl_client_error {
    mw_slice status;               /**< OAuth "status" (JSON escapes decoded) */
    mw_slice scope;                /**< OAuth "scope" */
    mw_slice openid_configuration; /**< OAuth "openid-configuration" */
    mw_slice schemes;              /**< XOAUTH2 "schemes" */
    mw_slice server_error;         /**< SCRAM server-error value ("invalid-proof", ...) */
} mw_sasl_client_error;

/**
 * What the server said when it refused, if it said anything.
 * @return a pointer valid until the next call on c or its free; NULL when
 *         no error was reported (or c is NULL). Empty fields have len 0.
 */
MW_API const mw_sasl_client_error *mw_sasl_client_error_info(const mw_sasl_client *c);

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

typedef struct mw_sasl_server mw_sasl_server;

/** mw_sasl_server_info.need bits: what may resolve a MW_SASL_VERIFY pause. */
#define MW_SASL_NEED_VERDICT 0x1u  /**< mw_sasl_server_verdict(ok) decides */
#define MW_SASL_NEED_PASSWORD 0x2u /**< mw_sasl_server_supply_password lets the engine check */
#define MW_SASL_NEED_SCRAM 0x4u    /**< mw_sasl_server_supply_scram lets the engine check */

/** What the client sent, for the caller's decision at MW_SASL_VERIFY. */
typedef struct mw_sasl_server_info {
    int mech;          /**< mw_sasl_mech id */
    unsigned need;     /**< MW_SASL_NEED_* bits */
    mw_slice authzid;  /**< requested authorization identity (empty: none) */
    mw_slice authcid;  /**< user name (PLAIN, LOGIN, CRAM-MD5, SCRAM, XOAUTH2's user=) */
    mw_slice password; /**< PLAIN and LOGIN only */
    mw_slice token;    /**< XOAUTH2 / OAUTHBEARER: the token after "Bearer " */
    mw_slice auth;     /**< OAUTHBEARER: the whole auth= value ("Bearer ...") */
    mw_slice host;     /**< OAUTHBEARER host= (validate against your own name) */
    mw_slice port;     /**< OAUTHBEARER port= */
    mw_slice trace;    /**< ANONYMOUS trace */
    mw_slice challenge; /**< CRAM-MD5: the challenge sent */
    mw_slice digest;    /**< CRAM-MD5: the client's 32 hex digits */
} mw_sasl_server_info;

/** Stored SCRAM credentials of one user (RFC 5802 §3). */
typedef struct mw_sasl_scram_creds {
    const void *salt;
    size_t salt_len;
    uint32_t iterations;
    unsigned char stored_key[32]; /**< H(HMAC(SaltedPassword, "Client Key")) */
    unsigned char server_key[32]; /**< HMAC(SaltedPassword, "Server Key") */
} mw_sasl_scram_creds;

/**
 * Derive SCRAM-SHA-256 stored credentials from a password (for a user
 * database). creds->salt/salt_len/iterations must be set; the keys are
 * filled in.
 * @return MW_OK, MW_ERR_INVALID (NULL, iterations 0).
 */
MW_API int mw_sasl_scram_derive(const void *password, size_t len, mw_sasl_scram_creds *creds);

/**
 * Create a server context for one exchange.
 * @param out, mem, mech, opts as for mw_sasl_client_new. SCRAM-SHA-256-PLUS
 *        needs MW_SASL_PROP_CB_DATA set before start.
 * @return MW_OK, MW_ERR_NOMEM, MW_ERR_UNSUPPORTED, MW_ERR_INVALID.
 */
MW_API int mw_sasl_server_new(mw_sasl_server **out, const mw_mem *mem, const char *mech,
                              const mw_sasl_options *opts);

/** Free a server context, wiping every secret it holds (NULL is a no-op). */
MW_API void mw_sasl_server_free(mw_sasl_server *s);

/**
 * Set a server property: MW_SASL_PROP_HOST (CRAM-MD5 challenge host,
 * default "localhost"), MW_SASL_PROP_NONCE, MW_SASL_PROP_CB_TYPE,
 * MW_SASL_PROP_CB_DATA. Setting CB_DATA on a SCRAM-SHA-256 server means
 * the server offers -PLUS too, so a client flag "y" is a downgrade and fails.
 * @return MW_OK, MW_ERR_NOMEM, MW_ERR_LIMIT, MW_ERR_SYNTAX, MW_ERR_STATE,
 *         MW_ERR_INVALID (including a client-only property).
 */
MW_API int mw_sasl_server_set(mw_sasl_server *s, int prop, const void *value, size_t len);

/**
 * Start the exchange with the AUTH command's initial response, if any.
 * @param in  the decoded initial response, or NULL when the command had
 *            none; non-NULL with len 0 is an empty initial response.
 * @param out receives the first challenge or final data; valid until the
 *            next call on s.
 * @return the same results as mw_sasl_server_step.
 */
MW_API int mw_sasl_server_start(mw_sasl_server *s, const void *in, size_t len, mw_slice *out);

/**
 * Process a client response.
 * @return MW_SASL_CONTINUE (send *out as a challenge); MW_SASL_VERIFY (the
 *         engine is paused: read mw_sasl_server_info and answer with
 *         mw_sasl_server_verdict / _supply_password / _supply_scram);
 *         MW_SASL_DONE (authenticated; *out is additional data for the
 *         success reply, only non-empty with MW_SASL_OPT_SUCCESS_DATA);
 *         MW_ERR_AUTH (authentication failed: send the failure reply);
 *         MW_ERR_SYNTAX (malformed response); MW_ERR_UNSUPPORTED (a SCRAM
 *         extension "m=" or a channel-binding type the server lacks, or no
 *         nonce source); MW_ERR_PROTOCOL (a message where none is expected,
 *         e.g. an initial response for CRAM-MD5); MW_ERR_LIMIT;
 *         MW_ERR_NOMEM; MW_ERR_STATE (paused, finished or not started);
 *         MW_ERR_INVALID.
 */
MW_API int mw_sasl_server_step(mw_sasl_server *s, const void *in, size_t len, mw_slice *out);

/**
 * What the client sent, while paused at MW_SASL_VERIFY (and after DONE).
 * @return a pointer valid until the next call on s or its free; NULL when
 *         s is NULL or no client message has been parsed yet.
 */
MW_API const mw_sasl_server_info *mw_sasl_server_info_get(const mw_sasl_server *s);

/**
 * Decide a MW_SASL_VERIFY pause. ok = 0 refuses (always allowed; for the
 * OAuth mechanisms this sends the error JSON challenge and waits for the
 * client's dummy response, RFC 7628 §3.2.3); ok != 0 accepts, allowed only
 * when info.need has MW_SASL_NEED_VERDICT.
 * @param out receives the OAuth error JSON to send (MW_SASL_CONTINUE);
 *        otherwise empty. Valid until the next call on s.
 * @return MW_SASL_DONE (accepted), MW_SASL_CONTINUE (OAuth refusal: send
 *         the error JSON, then step with the client's dummy response, which
 *         gives MW_ERR_AUTH), MW_ERR_AUTH (refused), MW_ERR_STATE (not
 *         paused, or ok where a secret is needed), MW_ERR_NOMEM,
 *         MW_ERR_INVALID.
 */
MW_API int mw_sasl_server_verdict(mw_sasl_server *s, int ok, mw_slice *out);

/**
 * Set the error JSON sent when an OAuth mechanism is refused (default
 * {"status":"invalid_token"}). Call before mw_sasl_server_verdict(s, 0).
 * @return MW_OK, MW_ERR_NOMEM, MW_ERR_LIMIT, MW_ERR_INVALID.
 */
MW_API int mw_sasl_server_set_oauth_error(mw_sasl_server *s, const char *json, size_t len);

/**
 * Resolve a pause with the user's plaintext password; the engine checks it
 * (constant-time comparison for PLAIN/LOGIN, HMAC-MD5 for CRAM-MD5, key
 * derivation with a fresh salt for SCRAM).
 * @param password,len the password; used during the call only, not kept.
 * @param out receives the next challenge (SCRAM's server-first); valid
 *        until the next call on s.
 * @return MW_SASL_DONE (matched), MW_SASL_CONTINUE (SCRAM continues with
 *         server-first), MW_ERR_AUTH (no match), MW_ERR_UNSUPPORTED (SCRAM
 *         without a random callback for the salt), MW_ERR_STATE (not paused,
 *         or info.need lacks MW_SASL_NEED_PASSWORD), MW_ERR_NOMEM,
 *         MW_ERR_INVALID.
 */
MW_API int mw_sasl_server_supply_password(mw_sasl_server *s, const void *password, size_t len,
                                          mw_slice *out);

/**
 * Resolve a SCRAM pause with the user's stored credentials (copied).
 * For an unknown user, supplying made-up credentials (a salt derived from
 * the name, your usual count) hides which users exist; refusing with
 * mw_sasl_server_verdict(s, 0) is quicker but tells.
 * @param out receives server-first; valid until the next call on s.
 * @return MW_SASL_CONTINUE; MW_ERR_UNSUPPORTED (no nonce source),
 *         MW_ERR_SYNTAX (a MW_SASL_PROP_NONCE that is not printable ASCII
 *         or holds ','), MW_ERR_STATE (not paused at a SCRAM lookup), MW_ERR_NOMEM,
 *         MW_ERR_INVALID (NULL, empty salt, iterations 0).
 */
MW_API int mw_sasl_server_supply_scram(mw_sasl_server *s, const mw_sasl_scram_creds *creds,
                                       mw_slice *out);

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_SASL_H */
