/*
 * mw-pop3d: a POP3 server built from the mailwire POP3 engine and the
 * shared poll loop, Maildir store and users file of examples/common. It
 * serves the Maildirs mw-smtpd delivers to (ROOT/<user>/Maildir). All
 * protocol logic is in the library; these files decide who may log in,
 * what the maildrop holds and where the bytes come from.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef POP3D_H
#define POP3D_H

#include "mwx_conf.h"
#include "mwx_maildir.h"
#include "mwx_net.h"

#include <mailwire/pop3.h>
#include <mailwire/sasl.h>

/** Everything the command line configures; shared by all connections. */
typedef struct pop3d_config {
    const char *hostname;
    const char *maildir_root;          /* ROOT/<user>/Maildir */
    mwx_table *users;                  /* user:password */
    int apop;                          /* offer APOP (a fresh timestamp per session) */
    mw_pop3_server_opts *opts;         /* plaintext/STLS listeners */
    mw_pop3_server_opts *opts_implicit; /* implicit-TLS listeners */
    mw_sasl_options *sasl_opts;
    unsigned long nsessions; /* for unique APOP timestamps */
} pop3d_config;

/** The loop's callbacks for POP3 sessions (session.c); user = pop3d_config. */
extern const mwx_handlers pop3d_handlers;

#endif
