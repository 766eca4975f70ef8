/*
 * mailwire — codec module internals: the private state of each stepper
 * lives in mw_codec.state_, viewed through these structs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_CODEC_INTERNAL_H
#define MW_CODEC_INTERNAL_H

#include <mailwire/codec.h>

#include "common/common_internal.h"

/* View the private area of a stepper as the codec's own state struct; each
 * state struct must fit in sizeof(mw_codec.state_) (checked statically next
 * to its definition with MW_CODEC_STATE_FITS). */
#define MW_CODEC_STATE(c, type) ((type *)(void *)(c)->state_.bytes_)
#define MW_CODEC_STATE_FITS(type)                                                          \
    typedef char mw__state_fits_##type[sizeof(type) <= sizeof(((mw_codec *)0)->state_) ? 1 : -1]

/* ---- base64 ---- */

/* ---- quoted-printable ---- */

/* ---- dot-stuffing ---- */

/* ---- RFC 2047 and modified UTF-7 ---- */

#endif
