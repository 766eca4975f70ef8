/*
 * mwx_daemon: what the server programs (mw-smtpd, mw-pop3d) share around
 * the poll loop of mwx_net: the loop's view of the SMTP and POP3 server
 * engines, the command-line options they have in common, the listeners
 * with their port file, TLS from --cert/--key,
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

/** Most listeners a server program opens (--listen and --listen-tls together). */
#define MWX_MAX_LISTEN 8

/** The options both server programs take; each embeds this in its own. */
typedef struct mwx_daemon_opts {
    const char *listen[MWX_MAX_LISTEN];
    int listen_tls[MWX_MAX_LISTEN]; /* 1: implicit TLS on that listener */
    size_t nlisten;
    const char *users, *cert, *key, *port_file;
    int plaintext_auth, idle_sec; /* idle_sec 0: the loop's default */
    unsigned long max_conns;      /* 0: the loop's default */
} mwx_daemon_opts;

/**
 * Parse argv[1..argc-1]. The shared flags (--listen ADDR:PORT,
 * --listen-tls ADDR:PORT, --users FILE, --cert FILE, --key FILE,
 * --port-file FILE, --idle-timeout SEC (1..86399), --max-conns N
 * (1..99999), --plaintext-auth) go to o; any other is handed to own
 * (argv at the option, left: the words from there on), which returns the
 * words it used (1, 2) or 0 for an unknown option or a bad value.
 * Problems go to stderr after "prog: ".
 * @return 0, -1 (a usage error).
 */
int mwx_daemon_parse(mwx_daemon_opts *o, const char *prog, int argc, char **argv,
                     int (*own)(void *ctx, char **argv, int left), void *ctx);

/**
 * After the program's own checks: --cert and --key come together; with no
 * listener, default_listen is used. Problems go to stderr after "prog: ".
 * @return 0, -1 (a usage error).
 */
int mwx_daemon_opts_finish(mwx_daemon_opts *o, const char *prog, const char *default_listen);

/**
 * Load the certificate chain and key when given; without them, an
 * implicit-TLS listener is an error. Problems go to stderr after "prog: ".
 * @return 0, -1.
 */
int mwx_daemon_setup_tls(mwx_server *srv, const char *prog, const mwx_daemon_opts *o);

/**
 * Apply --max-conns and --idle-timeout, open every listener, log
 * "listening on ...", and write the bound addresses to --port-file when
 * given, one per line, "tls " before the implicit-TLS ones. Problems go to
 * stderr after "prog: ".
 * @return 0, -1.
 */
int mwx_daemon_listen(mwx_server *srv, const char *prog, const mwx_daemon_opts *o);

/** SASL engine options with mwx_random_bytes as the random source. @return NULL: no memory. */
mw_sasl_options *mwx_sasl_options_new(void);

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
