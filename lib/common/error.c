/*
 * Error texts, fatality, and the library version.
 *
 * SPDX-License-Identifier: MIT
 */
#include "common/common_internal.h"

#include <mailwire/version.h>

const char *mw_strerror(int code)
{
    switch (code) {
    case MW_OK: return "success";
    case MW_ERR_INVALID: return "invalid argument";
    case MW_ERR_NOMEM: return "out of memory";
    case MW_ERR_STATE: return "call not valid in the current state";
    case MW_ERR_BUFFER: return "output buffer too small";
    case MW_ERR_LIMIT: return "configured limit exceeded";
    case MW_ERR_LINE_TOO_LONG: return "line too long";
    case MW_ERR_SYNTAX: return "malformed input";
    case MW_ERR_CHARSET: return "unknown or unconvertible character set";
    case MW_ERR_PROTOCOL: return "peer protocol violation";
    case MW_ERR_TLS_INJECTION: return "plaintext injected after STARTTLS";
    case MW_ERR_CLOSED: return "connection or stream closed";
    case MW_ERR_UNSUPPORTED: return "not supported or not enabled";
    case MW_ERR_AUTH: return "authentication failed";
    case MW_ERR_TRUNCATED: return "input ended in the middle of a unit";
    case MW_ERR_TLS: return "TLS failure";
    case MW_ERR_IO: return "I/O failure";
    default: return "unknown error";
    }
}

int mw_is_fatal(int code)
{
    switch (code) {
    case MW_ERR_NOMEM:
    case MW_ERR_LIMIT:
    case MW_ERR_PROTOCOL:
    case MW_ERR_TLS_INJECTION:
    case MW_ERR_CLOSED:
    case MW_ERR_TLS:
    case MW_ERR_IO: return 1;
    default: return 0;
    }
}

const char *mw_version(void)
{
    return MW_VERSION_STRING;
}

unsigned mw_version_number(void)
{
    return MW_VERSION_NUMBER;
}
