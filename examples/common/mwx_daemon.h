/*
 * mwx_daemon: what the server programs (mw-smtpd, mw-pop3d) share around
 * the poll loop of mwx_net: the loop's view of the SMTP and POP3 server
 * engines, the listeners with their port file, TLS from --cert/--key,
 * AUTH through the SASL engine against the users file, random bytes for
 * SASL, and small parsing helpers.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MWX_DAEMON_H
#define MWX_DAEMON_H

#include "mwx_conf.h"
#include "mwx_net.h"

#include <mailwire/common.h>
#include <mailwire/sasl.h>

#include <stddef.h>

/** The loop's view of an mw_smtp_server / an mw_pop3_server. */
extern const mwx_engine_ops mwx_smtp_server_ops;
extern const mwx_engine_ops mwx_pop3_server_ops;

/**
 * Open every listener (tls[i]: implicit TLS), log "listening on ...", and
 * write the bound addresses to port_file (NULL: none), one per line,
 * "tls " before the implicit-TLS ones. Problems go to stderr after "prog: ".
 * @return 0, -1.
 */
int mwx_open_listeners(mwx_server *srv, const char *prog, const char *const *listen, const int *tls,
                       size_t n, const char *port_file);

/**
 * Load the certificate chain and key when given (cert and key go
 * together); without them, an implicit-TLS listener is an error.
 * @return 0, -1 (said on stderr after "prog: ").
 */
int mwx_setup_server_tls(mwx_server *srv, const char *prog, const char *cert, const char *key,
                         const int *tls, size_t n);

/**
 * One AUTH step of a server program. mech non-NULL starts an exchange
 * with that mechanism (data: the initial response, NULL when there is
 * none); NULL continues the exchange in *sasl with data. The SASL engine's
 * verify step is answered from users (the password of the authentication
 * identity; acting as another user is refused). When the exchange ends
 * it is freed and *sasl set to NULL; on success the user is copied to
 * user (user_cap octets).
 * @return MW_SASL_CONTINUE (out: the challenge to send), MW_SASL_DONE,
 *         or the failure (a negative MW_ERR_* or another SASL result).
 */
int mwx_auth_step(mw_sasl_server **sasl, const mw_sasl_options *opts, const char *hostname,
                  const mwx_table *users, const mw_slice *mech, const char *data, size_t len,
                  mw_slice *out, char *user, size_t user_cap);

/** mw_sasl_options random source: getrandom(2). @return 0, -1. */
int mwx_random_bytes(void *buf, size_t len, void *user);

/** A decimal number option value (no sign, nothing after it). @return 0, -1. */
int mwx_parse_number(const char *s, unsigned long long *out);

/** Copy a slice as a C string, cut to cap - 1 octets. */
void mwx_copy_slice(char *dst, size_t cap, mw_slice s);

#endif
