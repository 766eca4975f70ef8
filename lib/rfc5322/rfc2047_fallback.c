/*
 * TEMPORARY: weak stand-ins for the RFC 2047 functions, which are being
 * written on the "words" branch (lib/codec/rfc2047.c). They let this branch
 * link on its own; the real definitions override them, and this file is
 * deleted when "words" is merged. The decoder copies its input unchanged;
 * the encoder reports MW_ERR_UNSUPPORTED.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rfc5322/rfc5322_internal.h"

#include <mailwire/codec.h>

__attribute__((weak)) mw_ssize mw_2047_decode(const char *in, size_t len, char *out, size_t cap,
                                              unsigned flags, unsigned *defects)
{
    (void)flags;
    if (defects) *defects = 0;
    if ((!in && len) || !out) return MW_ERR_INVALID;
    if (cap < len + 1) return MW_ERR_BUFFER;
    memcpy(out, in, len);
    out[len] = 0;
    if (defects && len) *defects = MW_2047_DEFECT_CHARSET;
    return (mw_ssize)len;
}

__attribute__((weak)) mw_ssize mw_2047_encode(const char *in, size_t len, size_t column, char *out,
                                              size_t cap, unsigned flags)
{
    (void)in, (void)len, (void)column, (void)out, (void)cap, (void)flags;
    return MW_ERR_UNSUPPORTED;
}
