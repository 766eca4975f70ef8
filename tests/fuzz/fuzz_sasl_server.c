/*
 * libFuzzer target: arbitrary client messages into every server mechanism.
 * Input: byte 0 picks the mechanism, byte 1 holds control bits (success
 * data, channel binding, start without an initial response, how pauses are
 * resolved), then messages as 2-byte big-endian length + bytes.
 * Invariants: every result is a documented one, outputs stay under the
 * message cap, and a PLAIN pause reports exactly the fields it was sent.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fuzz_messages.h"

#include <mailwire/sasl.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE 1024

static int fake_random(void *buf, size_t len, void *ud)
{
    (void)ud;
    memset(buf, 0x5a, len);
    return 0;
}

static void check_rc(int rc)
{
    switch (rc) {
    case MW_SASL_CONTINUE: case MW_SASL_DONE: case MW_SASL_VERIFY:
    case MW_ERR_AUTH: case MW_ERR_SYNTAX: case MW_ERR_UNSUPPORTED: case MW_ERR_PROTOCOL:
    case MW_ERR_LIMIT: case MW_ERR_STATE:
        return;
    default:
        abort();
    }
}

static void check_out(int rc, mw_slice out)
{
    if ((rc == MW_SASL_CONTINUE || rc == MW_SASL_DONE) && (!out.base || out.len > MAX_MESSAGE))
        abort();
}

static void check_plain(const mw_sasl_server_info *info, const uint8_t *msg, size_t len)
{
    size_t want = info->authzid.len + info->authcid.len + info->password.len + 2;
    if (want != len || memcmp(msg, info->authzid.base, info->authzid.len) != 0 ||
        memcmp(msg + info->authzid.len + 1, info->authcid.base, info->authcid.len) != 0 ||
        memcmp(msg + len - info->password.len, info->password.base, info->password.len) != 0)
        abort();
}

static int resolve(mw_sasl_server *s, unsigned how, mw_slice *out)
{
    const mw_sasl_server_info *info = mw_sasl_server_info_get(s);
    if (!info) abort();
    if ((info->need & MW_SASL_NEED_SCRAM) && (how & 1)) {
        mw_sasl_scram_creds sc;
        memset(&sc, 0, sizeof sc);
        sc.salt = "salt";
        sc.salt_len = 4;
        sc.iterations = 2;
        if (mw_sasl_scram_derive("pencil", 6, &sc) != MW_OK) abort();
        return mw_sasl_server_supply_scram(s, &sc, out);
    }
    if ((info->need & MW_SASL_NEED_PASSWORD) && (how & 2))
        return mw_sasl_server_supply_password(s, "pencil", 6, out);
    return mw_sasl_server_verdict(s, (int)(how & 4), out);
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
    mw_sasl_options_set_random(o, fake_random, NULL);
    mw_sasl_options_set_max_message(o, MAX_MESSAGE);
    mw_sasl_options_set_iterations(o, 1, 8);
    mw_sasl_options_set_flags(o, ctl & 1 ? MW_SASL_OPT_SUCCESS_DATA : 0);
    mw_sasl_server *s = NULL;
    int rc = mw_sasl_server_new(&s, NULL, mw_sasl_mech_name(mech), o);
    mw_sasl_options_free(o);
    if (rc != MW_OK) return 0;
    if (ctl & 2) mw_sasl_server_set(s, MW_SASL_PROP_CB_DATA, "cbdata", 6);
    if (ctl & 4) mw_sasl_server_set(s, MW_SASL_PROP_NONCE, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", 30);

    const uint8_t *msg = NULL;
    size_t len = 0;
    mw_slice out;
    if ((ctl & 8) || !next_message(&data, &size, &msg, &len))
        rc = mw_sasl_server_start(s, NULL, 0, &out);
    else
        rc = mw_sasl_server_start(s, msg, len, &out);
    unsigned how = ctl >> 4;
    for (int round = 0; round < 16; round++) {
        check_rc(rc);
        check_out(rc, out);
        if (rc == MW_SASL_VERIFY) {
            const mw_sasl_server_info *info = mw_sasl_server_info_get(s);
            if (mech == MW_SASL_MECH_PLAIN && info && msg) check_plain(info, msg, len);
            rc = resolve(s, how, &out);
            how = (how >> 1) | ((how & 1) << 3);
            continue;
        }
        if (rc != MW_SASL_CONTINUE) break;
        if (!next_message(&data, &size, &msg, &len)) break;
        rc = mw_sasl_server_step(s, msg, len, &out);
    }
    mw_sasl_server_free(s);
    return 0;
}
