/*
 * mw-pop3d: a POP3 server on the mailwire POP3 engine.
 *
 *   mw-pop3d --maildir-root DIR --users FILE [options]
 *
 * Serves ROOT/<user>/Maildir (what mw-smtpd delivers) to the users of the
 * users file: USER/PASS, AUTH (SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN),
 * APOP on request, STLS and implicit TLS. See docs/mw-pop3d.md.
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 runtime failure, 2 usage error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "pop3d.h"
#include "mwx_daemon.h"
#include "mwx_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: mw-pop3d --maildir-root DIR --users FILE [options]\n"
    "  --listen ADDR:PORT       listen (repeatable; port 0 = any free port);\n"
    "                           default 127.0.0.1:1110\n"
    "  --listen-tls ADDR:PORT   listen with implicit TLS (port 995 style; needs --cert)\n"
    "  --hostname NAME          name in the greeting and APOP timestamp (default localhost)\n"
    "  --maildir-root DIR       maildrops are DIR/<user>/Maildir\n"
    "  --users FILE             user:password lines (the accounts)\n"
    "  --plaintext-auth         allow USER/PASS and AUTH PLAIN/LOGIN without TLS\n"
    "  --apop                   offer APOP (RFC 1939 section 7)\n"
    "  --cert FILE --key FILE   certificate chain and key (PEM) for STLS/implicit TLS\n"
    "  --idle-timeout SEC       close idle sessions (default 600, RFC 1939 section 3)\n"
    "  --max-conns N            connections at once (default 256)\n"
    "  --port-file FILE         write the bound addresses there, one per line\n";

static int usage(const char *why)
{
    if (why) fprintf(stderr, "mw-pop3d: %s\n", why);
    fputs(usage_text, stderr);
    return 2;
}

/* One option of mw-pop3d's own (mwx_daemon_parse takes the shared ones).
 * @return the number of argv words used, 0 on error. */
static int parse_one(void *ctx, char **argv, int left)
{
    pop3d_config *cfg = ctx;
    const char *a = argv[0], *v = left > 1 ? argv[1] : NULL;
    if (!strcmp(a, "--apop")) return cfg->apop = 1;
    if (!v) return 0;
    if (!strcmp(a, "--hostname"))
        cfg->hostname = v;
    else if (!strcmp(a, "--maildir-root"))
        cfg->maildir_root = v;
    else
        return 0;
    return 2;
}

static int parse_args(pop3d_config *cfg, mwx_daemon_opts *o, int argc, char **argv)
{
    if (mwx_daemon_parse(o, "mw-pop3d", argc, argv, parse_one, cfg) != 0) return -1;
    if (!cfg->maildir_root) return fprintf(stderr, "mw-pop3d: --maildir-root is required\n"), -1;
    if (!o->users) return fprintf(stderr, "mw-pop3d: --users is required\n"), -1;
    return mwx_daemon_opts_finish(o, "mw-pop3d", "127.0.0.1:1110");
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

/* One engine options object per listener kind; sessions copy them. */
static mw_pop3_server_opts *engine_opts(const pop3d_config *cfg, const mwx_daemon_opts *o,
                                        int tls_ready, int implicit)
{
    mw_pop3_server_opts *e = mw_pop3_server_opts_new(NULL);
    int rc;
    if (!e) return NULL;
    rc = mw_pop3_server_opts_set_greeting(e, "mw-pop3d ready");
    if (rc == MW_OK)
        rc = mw_pop3_server_opts_set_capabilities(e, MW_POP3_CAPA_STLS, tls_ready && !implicit);
    if (rc == MW_OK) rc = mw_pop3_server_opts_set_policy(e, NULL, NULL, "mw-pop3d");
    if (rc == MW_OK) rc = mw_pop3_server_opts_set_capabilities(e, MW_POP3_CAPA_IMPLEMENTATION, 1);
    if (rc == MW_OK && implicit)
        rc = mw_pop3_server_opts_set_flags(e, MW_POP3_SERVER_IMPLICIT_TLS, 1);
    if (rc == MW_OK && o->plaintext_auth)
        rc = mw_pop3_server_opts_set_flags(e, MW_POP3_SERVER_PLAINTEXT_AUTH, 1);
    /* Maildir files written by hand often have LF line ends: send CRLF. */
    if (rc == MW_OK) rc = mw_pop3_server_opts_set_flags(e, MW_POP3_SERVER_LF_TO_CRLF, 1);
    if (rc == MW_OK)
        rc = mw_pop3_server_opts_set_auth_mechanisms(e, "SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN");
    /* APOP needs a timestamp at session creation: session.c sets a fresh
     * one before each mw_pop3_server_new; this placeholder validates. */
    if (rc == MW_OK && cfg->apop) rc = mw_pop3_server_opts_set_apop_timestamp(e, "<0.0@localhost>");
    if (rc == MW_OK && cfg->apop)
        rc = mw_pop3_server_opts_set_capabilities(e, MW_POP3_CAPA_APOP, 1);
    if (rc != MW_OK) {
        fprintf(stderr, "mw-pop3d: engine options: %s\n", mw_strerror(rc));
        mw_pop3_server_opts_free(e);
        return NULL;
    }
    return e;
}

static void cleanup(pop3d_config *cfg, mwx_server *srv)
{
    mwx_server_free(srv);
    mw_pop3_server_opts_free(cfg->opts);
    mw_pop3_server_opts_free(cfg->opts_implicit);
    mw_sasl_options_free(cfg->sasl_opts);
    mwx_table_free(cfg->users);
}

int main(int argc, char **argv)
{
    static pop3d_config cfg;
    mwx_daemon_opts o;
    mwx_server *srv = NULL;
    mwx_handlers h;
    char err[512];
    int rc = 1;

    memset(&o, 0, sizeof o);
    o.idle_sec = 600;
    cfg.hostname = "localhost";
    mwx_log_init("mw-pop3d");
    if (argc > 1 && !strcmp(argv[1], "--help")) return fputs(usage_text, stdout), 0;
    if (parse_args(&cfg, &o, argc, argv) != 0) return usage(NULL);
    if (mwx_users_load(&cfg.users, o.users, err, sizeof err) != 0) {
        fprintf(stderr, "mw-pop3d: %s\n", err);
        goto out;
    }
    cfg.sasl_opts = mwx_sasl_options_new();
    if (!cfg.sasl_opts) goto out;
    h = pop3d_handlers;
    h.user = &cfg;
    if (mwx_server_new(&srv, &h) != 0 || mwx_daemon_setup_tls(srv, "mw-pop3d", &o) != 0) goto out;
    cfg.opts = engine_opts(&cfg, &o, mwx_server_has_tls(srv), 0);
    cfg.opts_implicit = engine_opts(&cfg, &o, mwx_server_has_tls(srv), 1);
    if (!cfg.opts || !cfg.opts_implicit) goto out;
    if (mwx_daemon_listen(srv, "mw-pop3d", &o) != 0) goto out;
    mwx_log("ready: host %s, maildirs in %s%s", cfg.hostname, cfg.maildir_root,
            cfg.apop ? ", APOP on" : "");
    rc = mwx_server_run(srv) == 0 ? 0 : 1;
    mwx_log("stopped");
out:
    cleanup(&cfg, srv);
    return rc;
}
