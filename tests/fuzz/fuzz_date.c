/*
 * Fuzz the date parser and formatter. Invariants: parsed fields are in
 * range and agree with the epoch; format -> parse is the identity on
 * (epoch, zone); any epoch formats to something that parses back.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/rfc5322.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void round_trip(int64_t epoch, int zone)
{
    char out[32];
    mw_ssize n = mw_date_format(epoch, zone, out, sizeof out);
    if (n == MW_ERR_INVALID) return;
    if (n != 31 || out[31] != 0) abort();
    mw_date d;
    if (mw_date_parse(out, 31, &d) != MW_OK) abort();
    if (d.epoch != epoch || d.zone != zone || d.flags != 0) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    mw_date d;
    int rc = mw_date_parse((const char *)data, size, &d);
    if (rc == MW_OK) {
        if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 || d.hour > 23 ||
            d.minute > 59 || d.second > 60 || d.year < 1900 || d.year > 9999 || d.zone < -5999 ||
            d.zone > 5999 || d.wday < -1 || d.wday > 6)
            abort();
        int64_t local = mw_date_to_epoch(d.year, d.month, d.day, d.hour, d.minute, d.second);
        if (d.epoch != local - (int64_t)d.zone * 60) abort();
        if (d.second != 60) round_trip(d.epoch, d.zone);
    } else if (rc != MW_ERR_SYNTAX && rc != MW_ERR_LIMIT) {
        abort();
    }
    if (size >= 10) {
        int64_t e;
        uint16_t z;
        memcpy(&e, data, 8);
        memcpy(&z, data + 8, 2);
        round_trip(e % 253402300800LL, (int)(z % 11999) - 5999);
    }
    return 0;
}
