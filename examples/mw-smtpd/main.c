/*
 * mw-smtpd: an SMTP server on the mailwire SMTP engine.
 *
 *   mw-smtpd --maildir-root DIR [options]
 *
 * Accepts mail for local domains into ROOT/<user>/Maildir, expands
 * aliases, queues mail for other domains (relay mode) and can discard
 * everything (sink mode, for benchmarks). See docs/mw-smtpd.md.
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 runtime failure, 2 usage error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtpd.h"
#include "mwx_daemon.h"
#include "mwx_log.h"

#ifdef MW_EXAMPLES_HAVE_TLS
#include <mailwire/openssl.h>
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char usage_text[] =
    "usage: mw-smtpd --maildir-root DIR [options]\n"
    "  --listen ADDR:PORT       listen (repeatable; [::1]:PORT for IPv6; port 0 = any\n"
    "                           free port); default 127.0.0.1:2525\n"
    "  --listen-tls ADDR:PORT   listen with implicit TLS (port 465 style; needs --cert)\n"
    "  --hostname NAME          name in the greeting and Received: (default localhost)\n"
    "  --maildir-root DIR       mailboxes are DIR/<user>/Maildir\n"
    "  --domains LIST           local domains, comma-separated (default: the hostname)\n"
    "  --users FILE             user:password lines: the mailboxes and AUTH accounts\n"
    "                           (without it every well-formed local part is a mailbox)\n"
    "  --aliases FILE           alias: addr, addr, ... lines\n"
    "  --queue DIR              relay mode: mail for other domains is queued in DIR\n"
    "  --relay-open             relay without AUTH (default: AUTH required to relay)\n"
    "  --plaintext-auth         offer PLAIN/LOGIN without TLS\n"
    "  --max-size N             largest message in octets (default 0 = no limit)\n"
    "  --cert FILE --key FILE   certificate chain and key (PEM) for STARTTLS/implicit TLS\n"
    "  --sink                   accept everything and discard the bodies\n"
    "  --no-trace               do not add Return-Path: and Received: headers\n"
    "  --quiet                  no log line per transaction (benchmarks)\n"
    "  --idle-timeout SEC       close idle sessions with 421 (default 300)\n"
    "  --max-conns N            connections at once (default 256)\n"
    "  --port-file FILE         write the bound addresses there, one per line\n"
    "  --relay-host HOST:PORT   with --queue: a child process sends the queue through this\n"
    "                           smarthost every --flush-interval seconds and right after\n"
    "                           a message is queued\n"
    "  --flush-interval SEC     how often the queue is scanned (default 60)\n"
    "  --relay-tls MODE         STARTTLS to the smarthost: opportunistic (default), required, none\n"
    "  --relay-auth FILE        AUTH to the smarthost with the 'user:password' line in FILE\n"
    "  --relay-plaintext-auth   allow PLAIN/LOGIN to the smarthost without TLS\n"
    "  --retry-interval SEC     first retry after a temporary failure (default 300),\n"
    "                           doubling per attempt up to 4 hours\n"
    "  --max-queue-age SEC      bounce what is still undelivered after this (default 432000)\n"
    "\n"
    "usage: mw-smtpd --queue DIR --flush-queue --relay-host HOST:PORT [--hostname NAME]\n"
    "                [--maildir-root DIR --domains LIST] [relay options]\n"
    "  send every queued message through the smarthost HOST:PORT once (due or not), then\n"
    "  exit; bounces to local senders go to --maildir-root, others are queued\n"
    "  (exit 0: queue empty, 3: some recipients deferred, 1: failure)\n";

struct options {
    mwx_daemon_opts d; /* the options mw-pop3d takes too */
    smtpd_config *cfg;
    const char *aliases, *domains, *relay_host, *relay_auth;
    int flush, relay_plaintext_auth, flush_sec;
    unsigned long long max_size;
};

static int usage(const char *why)
{
    if (why) fprintf(stderr, "mw-smtpd: %s\n", why);
    fputs(usage_text, stderr);
    return 2;
}

/* One option of mw-smtpd's own (mwx_daemon_parse takes the shared ones).
 * @return the number of argv words used, 0 on error. */
static int parse_one(void *ctx, char **argv, int left)
{
    struct options *o = ctx;
    smtpd_config *cfg = o->cfg;
    const char *a = argv[0], *v = left > 1 ? argv[1] : NULL;
    unsigned long long n;
    if (!strcmp(a, "--sink")) return cfg->sink = 1;
    if (!strcmp(a, "--relay-open")) return cfg->relay_open = 1;
    if (!strcmp(a, "--no-trace")) return cfg->trace = 0, 1;
    if (!strcmp(a, "--quiet")) return cfg->quiet = 1;
    if (!strcmp(a, "--flush-queue")) return o->flush = 1;
    if (!strcmp(a, "--relay-plaintext-auth")) return o->relay_plaintext_auth = 1;
    if (!v) return 0;
    if (!strcmp(a, "--hostname"))
        cfg->hostname = v;
    else if (!strcmp(a, "--maildir-root"))
        cfg->maildir_root = v;
    else if (!strcmp(a, "--queue"))
        cfg->queue_dir = v;
    else if (!strcmp(a, "--domains"))
        o->domains = v;
    else if (!strcmp(a, "--aliases"))
        o->aliases = v;
    else if (!strcmp(a, "--relay-host"))
        o->relay_host = v;
    else if (!strcmp(a, "--relay-auth"))
        o->relay_auth = v;
    else if (!strcmp(a, "--relay-tls") && !strcmp(v, "opportunistic"))
        cfg->relay_tls = MW_SMTP_TLS_OPPORTUNISTIC;
    else if (!strcmp(a, "--relay-tls") && !strcmp(v, "required"))
        cfg->relay_tls = MW_SMTP_TLS_REQUIRED;
    else if (!strcmp(a, "--relay-tls") && !strcmp(v, "none"))
        cfg->relay_tls = MW_SMTP_TLS_NONE;
    else if (!strcmp(a, "--retry-interval") && !mwx_parse_number(v, &n) && n > 0 && n < 86400)
        cfg->retry_sec = (long long)n;
    else if (!strcmp(a, "--max-queue-age") && !mwx_parse_number(v, &n) && n > 0 && n < 100000000)
        cfg->max_age_sec = (long long)n;
    else if (!strcmp(a, "--flush-interval") && !mwx_parse_number(v, &n) && n > 0 && n < 86400)
        o->flush_sec = (int)n;
    else if (!strcmp(a, "--max-size") && !mwx_parse_number(v, &n))
        o->max_size = n;
    else
        return 0;
    return 2;
}

static int parse_args(smtpd_config *cfg, struct options *o, int argc, char **argv)
{
    o->cfg = cfg;
    if (mwx_daemon_parse(&o->d, "mw-smtpd", argc, argv, parse_one, o) != 0) return -1;
    if (o->flush) {
        if (!cfg->queue_dir || !o->relay_host)
            return fprintf(stderr, "mw-smtpd: --flush-queue needs --queue and --relay-host\n"), -1;
        return 0;
    }
    if (o->relay_host && !cfg->queue_dir)
        return fprintf(stderr, "mw-smtpd: --relay-host needs --queue\n"), -1;
    if (!cfg->maildir_root && !cfg->sink)
        return fprintf(stderr, "mw-smtpd: --maildir-root is required\n"), -1;
    return mwx_daemon_opts_finish(&o->d, "mw-smtpd", "127.0.0.1:2525");
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static int load_tables(smtpd_config *cfg, const struct options *o)
{
    char err[512];
    if (o->d.users && mwx_users_load(&cfg->users, o->d.users, err, sizeof err) != 0)
        return fprintf(stderr, "mw-smtpd: %s\n", err), -1;
    if (o->aliases && mwx_aliases_load(&cfg->aliases, o->aliases, err, sizeof err) != 0)
        return fprintf(stderr, "mw-smtpd: %s\n", err), -1;
    if (mwx_domains_parse(&cfg->domains, o->domains ? o->domains : cfg->hostname) != 0)
        return fprintf(stderr, "mw-smtpd: out of memory\n"), -1;
    if (cfg->maildir_root)
        snprintf(cfg->spool_dir, sizeof cfg->spool_dir, "%s/.spool", cfg->maildir_root);
    return 0;
}

/* One engine options object per listener kind; sessions copy them. */
static mw_smtp_server_opts *engine_opts(const smtpd_config *cfg, const struct options *o,
                                        int tls_ready, int implicit)
{
    mw_smtp_server_opts *e = mw_smtp_server_opts_new(NULL);
    int rc;
    if (!e) return NULL;
    rc = mw_smtp_server_opts_set_hostname(e, cfg->hostname);
    if (rc == MW_OK) rc = mw_smtp_server_opts_set_max_message_size(e, o->max_size);
    if (rc == MW_OK)
        rc = mw_smtp_server_opts_set_extensions(e, MW_SMTP_EXT_STARTTLS, tls_ready && !implicit);
    if (rc == MW_OK && implicit)
        rc = mw_smtp_server_opts_set_flags(e, MW_SMTP_SERVER_IMPLICIT_TLS, 1);
    if (rc == MW_OK && o->d.plaintext_auth)
        rc = mw_smtp_server_opts_set_flags(e, MW_SMTP_SERVER_PLAINTEXT_AUTH, 1);
    /* AUTH only when there are accounts to check against. */
    if (rc == MW_OK && cfg->users)
        rc = mw_smtp_server_opts_set_auth_mechanisms(e, "SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN");
    if (rc != MW_OK) {
        fprintf(stderr, "mw-smtpd: engine options: %s\n", mw_strerror(rc));
        mw_smtp_server_opts_free(e);
        return NULL;
    }
    return e;
}

/* "user:password" from the --relay-auth file (kept for the process). */
static int load_relay_auth(smtpd_config *cfg, const char *path)
{
    static char line[512];
    char *colon;
    FILE *f = fopen(path, "r");
    if (!f) return fprintf(stderr, "mw-smtpd: %s: %s\n", path, strerror(errno)), -1;
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    colon = strchr(line, ':');
    if (!colon || colon == line)
        return fprintf(stderr, "mw-smtpd: %s: expected 'user:password'\n", path), -1;
    *colon = '\0';
    cfg->relay_user = line;
    cfg->relay_pass = colon + 1;
    return 0;
}

/* TLS towards the smarthost: opportunistic encryption without certificate
 * checks (RFC 7435 §1.3: better than plaintext, and the smarthost's name
 * is not known as a certificate name here). */
static int client_tls_setup(smtpd_config *cfg)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    mw_tls_config *t = NULL;
    if (cfg->relay_tls == MW_SMTP_TLS_NONE) return 0;
    if (mw_tls_config_new(NULL, MW_TLS_CLIENT, &t) != MW_OK ||
        mw_tls_config_set_verify_peer(t, 0) != MW_OK) {
        mw_tls_config_free(t);
        return fprintf(stderr, "mw-smtpd: TLS client setup failed\n"), -1;
    }
    cfg->relay_tls_cfg = t;
    return 0;
#else
    if (cfg->relay_tls == MW_SMTP_TLS_REQUIRED)
        return fprintf(stderr, "mw-smtpd: --relay-tls required: built without TLS\n"), -1;
    cfg->relay_tls = MW_SMTP_TLS_NONE; /* never STARTTLS without a way to run it */
    return 0;
#endif
}

/* The SMTP client engine's options for relaying (relay.c). */
static int client_setup(smtpd_config *cfg, const struct options *o)
{
    if (o->relay_auth && load_relay_auth(cfg, o->relay_auth) != 0) return -1;
    if (client_tls_setup(cfg) != 0) return -1;
    if (cfg->retry_sec == 0) cfg->retry_sec = 300;
    if (cfg->max_age_sec == 0) cfg->max_age_sec = 5 * 86400;
    cfg->client_opts = mw_smtp_client_opts_new(NULL);
    if (cfg->client_opts &&
        mw_smtp_client_opts_set_hostname(cfg->client_opts, cfg->hostname) == MW_OK &&
        mw_smtp_client_opts_set_starttls(cfg->client_opts, cfg->relay_tls) == MW_OK &&
        mw_smtp_client_opts_set_flags(cfg->client_opts, MW_SMTP_CLIENT_PLAINTEXT_AUTH,
                                      o->relay_plaintext_auth) == MW_OK)
        return 0;
    fprintf(stderr, "mw-smtpd: client options failed (bad --hostname?)\n");
    return -1;
}

/* One-shot queue flush (relay.c). Exit 0: sent, 3: deferred, 1: failure. */
static int flush_mode(smtpd_config *cfg, const struct options *o)
{
    int rc;
    if (client_setup(cfg, o) != 0) return 1;
    rc = smtpd_flush_queue(cfg, o->relay_host, 1);
    mwx_log("queue flush through %s: %s", o->relay_host,
            rc == 0  ? "queue empty"
            : rc > 0 ? "some recipients deferred"
                     : "queue unreadable");
    return rc == 0 ? 0 : rc > 0 ? 3 : 1;
}

/* Daemon with --relay-host: the loop's tick starts flush children. */
static int relay_setup(smtpd_config *cfg, const struct options *o, mwx_handlers *h)
{
    if (!o->relay_host) return 0;
    if (client_setup(cfg, o) != 0) return -1;
    cfg->relay_host = o->relay_host;
    cfg->flush_interval_ms = (int64_t)(o->flush_sec ? o->flush_sec : 60) * 1000;
    cfg->flush_soon = 1; /* whatever a previous run left queued */
    h->tick = smtpd_relay_tick;
    return 0;
}

static void cleanup(smtpd_config *cfg, mwx_server *srv)
{
    mwx_server_free(srv);
    mw_smtp_server_opts_free(cfg->opts);
    mw_smtp_server_opts_free(cfg->opts_implicit);
    mw_sasl_options_free(cfg->sasl_opts);
    mw_smtp_client_opts_free(cfg->client_opts);
#ifdef MW_EXAMPLES_HAVE_TLS
    mw_tls_config_free(cfg->relay_tls_cfg);
#endif
    mwx_table_free(cfg->users);
    mwx_table_free(cfg->aliases);
    mwx_table_free(cfg->domains);
}

int main(int argc, char **argv)
{
    static smtpd_config cfg;
    struct options o;
    mwx_server *srv = NULL;
    mwx_handlers h;
    int rc = 1;

    memset(&o, 0, sizeof o);
    cfg.hostname = "localhost";
    cfg.trace = 1;
    cfg.relay_tls = MW_SMTP_TLS_OPPORTUNISTIC;
    mwx_log_init("mw-smtpd");
    if (argc > 1 && !strcmp(argv[1], "--help")) return fputs(usage_text, stdout), 0;
    if (parse_args(&cfg, &o, argc, argv) != 0) return usage(NULL);
    if (load_tables(&cfg, &o) != 0) goto out;
    cfg.sasl_opts = mwx_sasl_options_new();
    if (!cfg.sasl_opts) goto out;
    if (o.flush) {
        rc = flush_mode(&cfg, &o);
        goto out;
    }
    h = smtpd_handlers;
    h.user = &cfg;
    if (relay_setup(&cfg, &o, &h) != 0) goto out;
    if (mwx_server_new(&srv, &h) != 0 || mwx_daemon_setup_tls(srv, "mw-smtpd", &o.d) != 0) goto out;
    cfg.opts = engine_opts(&cfg, &o, mwx_server_has_tls(srv), 0);
    cfg.opts_implicit = engine_opts(&cfg, &o, mwx_server_has_tls(srv), 1);
    if (!cfg.opts || !cfg.opts_implicit) goto out;
    if (mwx_daemon_listen(srv, "mw-smtpd", &o.d) != 0) goto out;
    mwx_log("ready: host %s, %s%s%s", cfg.hostname, cfg.sink ? "sink mode" : "maildirs in ",
            cfg.sink ? "" : cfg.maildir_root, cfg.queue_dir ? ", relay queue" : "");
    rc = mwx_server_run(srv) == 0 ? 0 : 1;
    smtpd_relay_wait(&cfg);
    mwx_log("stopped");
out:
    cleanup(&cfg, srv);
    return rc;
}
