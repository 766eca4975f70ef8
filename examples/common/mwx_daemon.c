/*
 * mwx_daemon: shared pieces of the server programs (see mwx_daemon.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mwx_daemon.h"
#include "mwx_log.h"

#include <mailwire/pop3.h>
#include <mailwire/smtp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- the engines, seen by the loop --------------------------------- */

/* The adapters and the table for the engine type T (functions T_recv_buf ...). */
#define ENGINE_OPS(NAME, T)                                                                        \
    static unsigned char *NAME##_recv_buf(void *e, size_t *len)                                    \
    {                                                                                              \
        return T##_recv_buf(e, len);                                                               \
    }                                                                                              \
    static int NAME##_recv_ack(void *e, size_t n)                                                  \
    {                                                                                              \
        return T##_recv_ack(e, n);                                                                 \
    }                                                                                              \
    static int NAME##_eof(void *e)                                                                 \
    {                                                                                              \
        return T##_eof(e);                                                                         \
    }                                                                                              \
    static const unsigned char *NAME##_out_buf(void *e, size_t *len)                               \
    {                                                                                              \
        return T##_out_buf(e, len);                                                                \
    }                                                                                              \
    static void NAME##_out_ack(void *e, size_t n)                                                  \
    {                                                                                              \
        T##_out_ack(e, n);                                                                         \
    }                                                                                              \
    static unsigned NAME##_state(void *e)                                                          \
    {                                                                                              \
        return T##_state(e);                                                                       \
    }                                                                                              \
    static int NAME##_tls_started(void *e)                                                         \
    {                                                                                              \
        return T##_tls_started(e);                                                                 \
    }                                                                                              \
    const mwx_engine_ops NAME = {                                                                  \
        .recv_buf = NAME##_recv_buf,                                                               \
        .recv_ack = NAME##_recv_ack,                                                               \
        .eof = NAME##_eof,                                                                         \
        .out_buf = NAME##_out_buf,                                                                 \
        .out_ack = NAME##_out_ack,                                                                 \
        .state = NAME##_state,                                                                     \
        .tls_started = NAME##_tls_started,                                                         \
    }

ENGINE_OPS(mwx_smtp_server_ops, mw_smtp_server);
ENGINE_OPS(mwx_pop3_server_ops, mw_pop3_server);

/* ---- the shared options ---------------------------------------------- */

/* One shared option. @return words used, 0: not a shared option, -1: a
 * shared one with a missing or bad value (or one listener too many). */
static int daemon_opt(mwx_daemon_opts *o, char **argv, int left)
{
    const char *a = argv[0], *v = left > 1 ? argv[1] : NULL;
    const char **slot = NULL;
    unsigned long long n;
    if (!strcmp(a, "--plaintext-auth")) return o->plaintext_auth = 1;
    if (!strcmp(a, "--listen") || !strcmp(a, "--listen-tls")) {
        if (!v || o->nlisten == MWX_MAX_LISTEN) return -1;
        o->listen_tls[o->nlisten] = !strcmp(a, "--listen-tls");
        o->listen[o->nlisten++] = v;
        return 2;
    }
    if (!strcmp(a, "--idle-timeout")) {
        if (!v || mwx_parse_number(v, &n) || n == 0 || n >= 86400) return -1;
        o->idle_sec = (int)n;
        return 2;
    }
    if (!strcmp(a, "--max-conns")) {
        if (!v || mwx_parse_number(v, &n) || n == 0 || n >= 100000) return -1;
        o->max_conns = (unsigned long)n;
        return 2;
    }
    if (!strcmp(a, "--users")) slot = &o->users;
    if (!strcmp(a, "--cert")) slot = &o->cert;
    if (!strcmp(a, "--key")) slot = &o->key;
    if (!strcmp(a, "--port-file")) slot = &o->port_file;
    if (!slot) return 0;
    if (!v) return -1;
    *slot = v;
    return 2;
}

int mwx_daemon_parse(mwx_daemon_opts *o, const char *prog, int argc, char **argv,
                     int (*own)(void *ctx, char **argv, int left), void *ctx)
{
    int i = 1;
    while (i < argc) {
        int used = daemon_opt(o, argv + i, argc - i);
        if (used == 0) used = own(ctx, argv + i, argc - i);
        if (used <= 0) {
            fprintf(stderr, "%s: bad option or value: %s\n", prog, argv[i]);
            return -1;
        }
        i += used;
    }
    return 0;
}

int mwx_daemon_opts_finish(mwx_daemon_opts *o, const char *prog, const char *default_listen)
{
    if (!o->cert != !o->key) return fprintf(stderr, "%s: --cert and --key go together\n", prog), -1;
    if (o->nlisten == 0) o->listen[o->nlisten++] = default_listen;
    return 0;
}

/* ---- listeners and TLS ----------------------------------------------- */

int mwx_daemon_listen(mwx_server *srv, const char *prog, const mwx_daemon_opts *o)
{
    FILE *pf = o->port_file ? fopen(o->port_file, "w") : NULL;
    size_t i;
    if (o->port_file && !pf)
        return fprintf(stderr, "%s: %s: %s\n", prog, o->port_file, strerror(errno)), -1;
    mwx_server_set_limits(srv, o->max_conns, o->idle_sec * 1000);
    for (i = 0; i < o->nlisten; i++) {
        char bound[128];
        int tls = o->listen_tls[i];
        if (mwx_server_listen(srv, o->listen[i], tls, bound, sizeof bound) != 0) {
            fprintf(stderr, "%s: listen %s: %s\n", prog, o->listen[i], strerror(errno));
            if (pf) fclose(pf);
            return -1;
        }
        mwx_log("listening on %s%s", bound, tls ? " (implicit TLS)" : "");
        if (pf) fprintf(pf, "%s%s\n", tls ? "tls " : "", bound);
    }
    return pf && fclose(pf) != 0 ? -1 : 0;
}

int mwx_daemon_setup_tls(mwx_server *srv, const char *prog, const mwx_daemon_opts *o)
{
    char err[512];
    size_t i;
    int need = 0;
    for (i = 0; i < o->nlisten; i++)
        need |= o->listen_tls[i];
    if (!o->cert)
        return need ? fprintf(stderr, "%s: --listen-tls needs --cert/--key\n", prog), -1 : 0;
    if (mwx_server_set_tls(srv, o->cert, o->key, err, sizeof err) != 0)
        return fprintf(stderr, "%s: TLS: %s\n", prog, err), -1;
    return 0;
}

/* ---- AUTH through the SASL engine (docs/smtp.md, "AUTH") ------------ */

/* The SASL engine has parsed the credentials: look the user up. Acting
 * as another user (an authorization identity) is not allowed here. */
static int auth_verify(mw_sasl_server *sasl, const mwx_table *users, mw_slice *out)
{
    const mw_sasl_server_info *info = mw_sasl_server_info_get(sasl);
    const char *pw =
        info ? mwx_users_password(users, (const char *)info->authcid.base, info->authcid.len)
             : NULL;
    int other = info && info->authzid.len &&
                (info->authzid.len != info->authcid.len ||
                 memcmp(info->authzid.base, info->authcid.base, info->authcid.len) != 0);
    if (!pw || other || !(info->need & MW_SASL_NEED_PASSWORD))
        return mw_sasl_server_verdict(sasl, 0, out);
    return mw_sasl_server_supply_password(sasl, pw, strlen(pw), out);
}

int mwx_auth_step(mw_sasl_server **sasl, const mw_sasl_options *opts, const char *hostname,
                  const mwx_table *users, const mw_slice *mech, const char *data, size_t len,
                  mw_slice *out, char *user, size_t user_cap)
{
    const mw_sasl_server_info *info;
    int rc;
    out->base = NULL;
    out->len = 0;
    if (mech) {
        char name[32];
        mw_sasl_server_free(*sasl);
        *sasl = NULL;
        mwx_copy_slice(name, sizeof name, *mech);
        rc = mw_sasl_server_new(sasl, NULL, name, opts);
        if (rc == MW_OK) mw_sasl_server_set(*sasl, MW_SASL_PROP_HOST, hostname, strlen(hostname));
        if (rc == MW_OK) rc = mw_sasl_server_start(*sasl, data, len, out);
    } else {
        rc = *sasl ? mw_sasl_server_step(*sasl, data, len, out) : MW_ERR_STATE;
    }
    if (rc == MW_SASL_VERIFY) rc = auth_verify(*sasl, users, out);
    if (rc == MW_SASL_CONTINUE) return rc;
    info = mw_sasl_server_info_get(*sasl);
    if (rc == MW_SASL_DONE && info)
        mwx_copy_slice(user, user_cap, info->authcid);
    else if (rc == MW_SASL_DONE)
        rc = MW_ERR_AUTH;
    mw_sasl_server_free(*sasl);
    *sasl = NULL;
    return rc;
}

/* ---- small helpers ----------------------------------------------------- */

int mwx_random_bytes(void *buf, size_t len, void *user)
{
    (void)user;
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

mw_sasl_options *mwx_sasl_options_new(void)
{
    mw_sasl_options *opts = mw_sasl_options_new(NULL);
    if (opts && mw_sasl_options_set_random(opts, mwx_random_bytes, NULL) != MW_OK) {
        mw_sasl_options_free(opts);
        return NULL;
    }
    return opts;
}

int mwx_parse_number(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return (errno || end == s || *end || *s == '-') ? -1 : 0;
}

void mwx_copy_slice(char *dst, size_t cap, mw_slice s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.base, n);
    dst[n] = '\0';
}
