/*
 * Fuzz input as a run of messages, each a 2-byte big-endian length and
 * that many bytes (a length past the end takes what is left). Shared by
 * the SASL client and server targets.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_FUZZ_MESSAGES_H
#define MW_FUZZ_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

/* Take the next message off the front of the input. @return 1, 0 when none is left. */
static inline int next_message(const uint8_t **data, size_t *size, const uint8_t **msg,
                               size_t *len)
{
    if (*size < 2) return 0;
    size_t n = ((size_t)(*data)[0] << 8) | (*data)[1];
    if (n > *size - 2) n = *size - 2;
    *msg = *data + 2;
    *len = n;
    *data += 2 + n;
    *size -= 2 + n;
    return 1;
}

#endif
