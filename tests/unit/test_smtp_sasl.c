/*
 * The SMTP server's AUTH events driven by the SASL module: a SASL client
 * on one side, the SMTP server engine plus a SASL server on the other,
 * talking only through the wire bytes (RFC 4954 with PLAIN, LOGIN,
 * CRAM-MD5, SCRAM-SHA-256). Shows the adapter a real server needs and
 * checks success, a wrong password, and "*" cancellation.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include <mailwire/codec.h>
#include <mailwire/sasl.h>
#include <mailwire/smtp.h>

#include <stdlib.h>

#define USER "tim"
#define PASS "tanstaaftanstaaf"

typedef struct side {
    mw_smtp_server *smtp;
    mw_sasl_server *sasl;
    mw_sasl_options *opts;
    const char *mech;
    const char *real_password;
} side;

static void feed_line(mw_smtp_server *s, const char *prefix, const void *data, size_t len, int raw)
{
    char line[4096];
    size_t n = strlen(prefix);
    memcpy(line, prefix, n);
    if (raw) {
        if (len) memcpy(line + n, data, len);
        n += len;
    } else if (data) {
        mw_ssize e = mw_b64_encode(data, len, line + n, sizeof line - n - 2, 0);
        CHECK(e >= 0);
        n += (size_t)e;
    }
    memcpy(line + n, "\r\n", 2);
    CHECK_INT(mw_smtp_server_feed(s, line, n + 2), (mw_ssize)(n + 2));
}

/* Give a SASL server result to the SMTP engine. */
static void sasl_to_smtp(side *sd, int rc, mw_slice out)
{
    while (rc == MW_SASL_VERIFY) {
        const mw_sasl_server_info *info = mw_sasl_server_info_get(sd->sasl);
        CHECK(info != NULL);
        CHECK(info && info->authcid.len == 3 && memcmp(info->authcid.base, USER, 3) == 0);
        if (info && (info->need & MW_SASL_NEED_SCRAM)) {
            /* what a user database would hold for SCRAM (RFC 5802 §3) */
            mw_sasl_scram_creds creds = {"saltsalt", 8, 4096, {0}, {0}};
            CHECK_INT(mw_sasl_scram_derive(sd->real_password, strlen(sd->real_password), &creds), MW_OK);
            rc = mw_sasl_server_supply_scram(sd->sasl, &creds, &out);
        } else {
            rc = mw_sasl_server_supply_password(sd->sasl, sd->real_password, strlen(sd->real_password), &out);
        }
    }
    if (rc == MW_SASL_CONTINUE)
        CHECK_INT(mw_smtp_server_auth_challenge(sd->smtp, out.base, out.len), MW_OK);
    else if (rc == MW_SASL_DONE)
        CHECK_INT(mw_smtp_server_reply(sd->smtp, 235, NULL, NULL), MW_OK);
    else
        CHECK_INT(mw_smtp_server_reply(sd->smtp, 535, "5.7.8", NULL), MW_OK);
}

/* Run the server until it needs input; return the last reply code seen. */
static int server_turn(side *sd, char *reply, size_t cap)
{
    const mw_smtp_event *ev;
    int t;
    mw_slice out = {NULL, 0};
    while ((t = mw_smtp_server_next(sd->smtp, &ev)) > 0) {
        if (t == MW_SMTP_EV_HELO) {
            CHECK_INT(mw_smtp_server_accept(sd->smtp), MW_OK);
        } else if (t == MW_SMTP_EV_AUTH) {
            CHECK_STR(ev->arg.base, ev->arg.len, sd->mech);
            mw_sasl_server_free(sd->sasl);
            CHECK_INT(mw_sasl_server_new(&sd->sasl, NULL, sd->mech, sd->opts), MW_OK);
            mw_sasl_server_set(sd->sasl, MW_SASL_PROP_NONCE, "srvnonce", 8);
            mw_sasl_server_set(sd->sasl, MW_SASL_PROP_HOST, "mx.example.org", 14);
            int rc = mw_sasl_server_start(sd->sasl, (ev->flags & MW_SMTP_F_INITIAL) ? (ev->data.base ? ev->data.base : "") : NULL,
                                          ev->data.len, &out);
            sasl_to_smtp(sd, rc, out);
        } else if (t == MW_SMTP_EV_AUTH_RESPONSE) {
            int rc = mw_sasl_server_step(sd->sasl, ev->data.base, ev->data.len, &out);
            sasl_to_smtp(sd, rc, out);
        } else if (t == MW_SMTP_EV_AUTH_ABORT) {
            mw_sasl_server_free(sd->sasl);
            sd->sasl = NULL;
        }
    }
    CHECK_INT(t, 0);
    size_t n;
    const unsigned char *p = mw_smtp_server_out_buf(sd->smtp, &n);
    if (!p || n >= cap) return 0;
    memcpy(reply, p, n);
    reply[n] = 0;
    mw_smtp_server_out_ack(sd->smtp, n);
    /* the last line decides */
    char *last = reply, *nl;
    while ((nl = strstr(last, "\r\n")) != NULL && nl[2]) last = nl + 2;
    memmove(reply, last, strlen(last) + 1);
    return atoi(reply);
}

/* One AUTH exchange; returns the final reply code (235, 535, 501). */
static int exchange(const char *mech, const char *client_password, int cancel_after)
{
    side sd = {0};
    sd.mech = mech;
    sd.real_password = PASS;
    mw_smtp_server_opts *o = mw_smtp_server_opts_new(NULL);
    mw_smtp_server_opts_set_auth_mechanisms(o, "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256");
    mw_smtp_server_opts_set_flags(o, MW_SMTP_SERVER_IMPLICIT_TLS, 1);
    CHECK_INT(mw_smtp_server_new(NULL, o, &sd.smtp), MW_OK);
    mw_smtp_server_opts_free(o);
    sd.opts = mw_sasl_options_new(NULL);
    /* no MW_SASL_OPT_SUCCESS_DATA: SMTP cannot carry data with 235 */
    mw_sasl_options_set_iterations(sd.opts, 4096, 4096);

    mw_sasl_client *c;
    CHECK_INT(mw_sasl_client_new(&c, NULL, mech, sd.opts), MW_OK);
    mw_sasl_client_set(c, MW_SASL_PROP_AUTHCID, USER, 3);
    mw_sasl_client_set(c, MW_SASL_PROP_PASSWORD, client_password, strlen(client_password));
    mw_sasl_client_set(c, MW_SASL_PROP_NONCE, "clinonce", 8);

    char reply[8192];
    feed_line(sd.smtp, "EHLO c.example", NULL, 0, 1);
    CHECK_INT(server_turn(&sd, reply, sizeof reply), 250);
    mw_slice ir;
    CHECK_INT(mw_sasl_client_start(c, &ir), MW_SASL_CONTINUE);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "AUTH %s%s", mech, ir.base ? " " : "");
    if (ir.base && ir.len == 0)
        feed_line(sd.smtp, cmd, "=", 1, 1);
    else
        feed_line(sd.smtp, cmd, ir.base, ir.len, 0);
    int code, rounds = 0;
    while ((code = server_turn(&sd, reply, sizeof reply)) == 334 && rounds++ < 10) {
        if (rounds == cancel_after) {
            feed_line(sd.smtp, "*", NULL, 0, 1);
            continue;
        }
        unsigned char chal[4096];
        mw_ssize n = mw_b64_decode(reply + 4, strlen(reply) - 6, chal, sizeof chal, 0, NULL);
        CHECK(n >= 0);
        mw_slice resp;
        CHECK_INT(mw_sasl_client_step(c, chal, (size_t)(n < 0 ? 0 : n), &resp), MW_SASL_CONTINUE);
        feed_line(sd.smtp, "", resp.base ? resp.base : "", resp.len, 0);
    }
    if (code == 235) CHECK_INT(mw_sasl_client_finish(c, NULL, 0), MW_OK);
    if (code == 235) {
        /* authenticated: a second AUTH is refused, events carry the flag */
        feed_line(sd.smtp, "MAIL FROM:<tim@c.example>", NULL, 0, 1);
        const mw_smtp_event *ev;
        CHECK_INT(mw_smtp_server_next(sd.smtp, &ev), MW_SMTP_EV_MAIL);
        CHECK(ev->flags & MW_SMTP_F_AUTHENTICATED);
        CHECK_INT(mw_smtp_server_accept(sd.smtp), MW_OK);
    }
    mw_sasl_client_free(c);
    mw_sasl_server_free(sd.sasl);
    mw_sasl_options_free(sd.opts);
    mw_smtp_server_free(sd.smtp);
    return code;
}

static void test_auth_success(void)
{
    CHECK_INT(exchange("PLAIN", PASS, 0), 235);
    CHECK_INT(exchange("LOGIN", PASS, 0), 235);
    CHECK_INT(exchange("CRAM-MD5", PASS, 0), 235);
    CHECK_INT(exchange("SCRAM-SHA-256", PASS, 0), 235);
}

static void test_auth_wrong_password(void)
{
    CHECK_INT(exchange("PLAIN", "wrong", 0), 535);
    CHECK_INT(exchange("LOGIN", "wrong", 0), 535);
    CHECK_INT(exchange("CRAM-MD5", "wrong", 0), 535);
}

static void test_auth_cancel(void)
{
    CHECK_INT(exchange("LOGIN", PASS, 1), 501);
    CHECK_INT(exchange("SCRAM-SHA-256", PASS, 1), 501);
}

int main(void)
{
    MW_RUN(test_auth_success);
    MW_RUN(test_auth_wrong_password);
    MW_RUN(test_auth_cancel);
    return mw_test_finish();
}
