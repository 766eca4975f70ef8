/*
 * libFuzzer target: arbitrary server challenges into every client
 * mechanism (SCRAM server-first/final, the OAuth error JSON, CRAM-MD5 and
 * LOGIN prompts), and arbitrary success data into mw_sasl_client_finish.
 * Input: byte 0 picks the mechanism, byte 1 holds control bits, then
 * challenges as 2-byte big-endian length + bytes.
 * Invariants: documented results only, outputs under the cap, and a SCRAM
 * client never accepts success without the server's valid signature (the
 * fuzzer cannot know the password-derived key).
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz_messages.h"

#include <mailwire/sasl.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE 1024

static void check_rc(int rc)
{
    switch (rc) {
    case MW_SASL_CONTINUE: case MW_ERR_AUTH: case MW_ERR_SYNTAX: case MW_ERR_UNSUPPORTED:
    case MW_ERR_PROTOCOL: case MW_ERR_LIMIT: case MW_ERR_STATE:
        return;
    default:
        abort();
    }
}

static void set(mw_sasl_client *c, int prop, const char *v)
{
    if (mw_sasl_client_set(c, prop, v, strlen(v)) != MW_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int mech = data[0] % 9 + 1;
    unsigned ctl = data[1];
    data += 2;
    size -= 2;
    mw_sasl_options *o = mw_sasl_options_new(NULL);
    if (!o) return 0;
    mw_sasl_options_set_max_message(o, MAX_MESSAGE);
    mw_sasl_options_set_iterations(o, 1, 64); /* keep PBKDF2 cheap */
    mw_sasl_client *c = NULL;
    int rc = mw_sasl_client_new(&c, NULL, mw_sasl_mech_name(mech), o);
    mw_sasl_options_free(o);
    if (rc != MW_OK) return 0;
    set(c, MW_SASL_PROP_AUTHCID, "user");
    set(c, MW_SASL_PROP_PASSWORD, "pencil");
    set(c, MW_SASL_PROP_TOKEN, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
    set(c, MW_SASL_PROP_NONCE, "rOprNGfwEbeRWgbNEkqO");
    if (ctl & 1) set(c, MW_SASL_PROP_AUTHZID, "admin,=x");
    if ((ctl & 2) || mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS) set(c, MW_SASL_PROP_CB_DATA, "cb");
    mw_slice out;
    rc = mw_sasl_client_start(c, &out);
    if (rc != MW_SASL_CONTINUE) abort();
    const uint8_t *msg;
    size_t len;
    int scram = mech == MW_SASL_MECH_SCRAM_SHA_256 || mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS;
    while (rc == MW_SASL_CONTINUE && next_message(&data, &size, &msg, &len)) {
        if ((ctl & 4) && size < 2) { /* the last message rides on the success reply */
            rc = mw_sasl_client_finish(c, msg, len);
            if (rc == MW_OK && scram) abort();
            break;
        }
        rc = mw_sasl_client_step(c, msg, len, &out);
        check_rc(rc);
        if (rc == MW_SASL_CONTINUE && (!out.base || out.len > MAX_MESSAGE)) abort();
    }
    if (rc == MW_SASL_CONTINUE && mw_sasl_client_finish(c, NULL, 0) == MW_OK && scram) abort();
    (void)mw_sasl_client_error_info(c);
    mw_sasl_client_free(c);
    return 0;
}
