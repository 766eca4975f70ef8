/*
 * mailwire — common types: export macro, sizes, slices, allocator hooks,
 * error codes and the engine readiness flags.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_COMMON_H
#define MAILWIRE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MW_API marks every exported function. The library is built with hidden
 * default visibility, so nothing else leaves the shared object. Define
 * MW_STATIC when linking the static library on Windows. */
#if defined(_WIN32) && !defined(MW_STATIC)
#ifdef MW_BUILDING_LIBRARY
#define MW_API __declspec(dllexport)
#else
#define MW_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define MW_API __attribute__((visibility("default")))
#else
#define MW_API
#endif

/** Signed size: a byte count, or a negative MW_ERR_* code. Never ssize_t,
 *  which is POSIX-only. */
typedef ptrdiff_t mw_ssize;

/** A view of bytes owned by someone else: never NUL-terminated unless a
 *  function says so. The owner and lifetime are stated by whoever hands it
 *  out. */
typedef struct mw_slice {
    const char *base;
    size_t len;
} mw_slice;

/**
 * Allocator hooks, one set per context (no global state). Any member left
 * NULL falls back to the C library's function; passing a NULL mw_mem pointer
 * uses libc for everything. user_data is passed back on every call.
 * The hooks must behave like their libc namesakes (realloc(NULL, n) is
 * malloc(n); free(NULL) is a no-op).
 */
typedef struct mw_mem {
    void *user_data;
    void *(*malloc)(size_t size, void *user_data);
    void (*free)(void *ptr, void *user_data);
    void *(*calloc)(size_t nmemb, size_t size, void *user_data);
    void *(*realloc)(void *ptr, size_t size, void *user_data);
} mw_mem;

/**
 * Result codes. 0 is success; negative values are errors (zlib's sign
 * convention: positive values are events or counts, 0 is "need more").
 * The range is fixed at [-99, -1]; codes are never renumbered.
 * Fatal errors (see mw_is_fatal()) are sticky: once an engine returns one,
 * every later call on that context returns it again.
 */
typedef enum mw_error {
    MW_OK = 0,
    MW_ERR_INVALID = -1,        /**< bad argument from the caller (NULL, out of range) */
    MW_ERR_NOMEM = -2,          /**< an allocation failed (fatal) */
    MW_ERR_STATE = -3,          /**< call not valid in the context's current state */
    MW_ERR_BUFFER = -4,         /**< the caller's output buffer is too small */
    MW_ERR_LIMIT = -5,          /**< a configured limit was exceeded (fatal) */
    MW_ERR_LINE_TOO_LONG = -6,  /**< a line exceeded the configured maximum */
    MW_ERR_SYNTAX = -7,         /**< malformed input data */
    MW_ERR_CHARSET = -8,        /**< unknown or unconvertible character set */
    MW_ERR_PROTOCOL = -9,       /**< the peer broke the protocol beyond recovery (fatal) */
    MW_ERR_TLS_INJECTION = -10, /**< plaintext arrived after a STARTTLS boundary (fatal) */
    MW_ERR_CLOSED = -11,        /**< the connection or stream is finished (fatal) */
    MW_ERR_UNSUPPORTED = -12,   /**< feature not available or not enabled */
    MW_ERR_AUTH = -13,          /**< authentication failed */
    MW_ERR_TRUNCATED = -14,     /**< input ended in the middle of a unit */
    MW_ERR_TLS = -15,           /**< the TLS adapter failed (fatal) */
    MW_ERR_IO = -16             /**< an operating-system I/O call failed (adapters only) */
} mw_error;

/** Readiness flags returned by every engine's mw_X_state(). */
#define MW_WANT_READ 0x1u   /**< the engine can take more input */
#define MW_WANT_WRITE 0x2u  /**< mw_X_out_buf() has bytes to send */
#define MW_TLS_HANDOFF 0x4u /**< stop reading: wrap the transport in TLS now */
#define MW_CLOSED 0x8u      /**< the session is over; close after draining output */

/**
 * Describe a result code.
 * @param code any int; MW_OK and every MW_ERR_* have their own text,
 *             anything else gives "unknown error".
 * @return a static, NUL-terminated English string; never NULL.
 */
MW_API const char *mw_strerror(int code);

/**
 * Tell whether an error is fatal (sticky for the context that returned it).
 * @param code a result code.
 * @return 1 for MW_ERR_NOMEM, MW_ERR_LIMIT, MW_ERR_PROTOCOL,
 *         MW_ERR_TLS_INJECTION, MW_ERR_CLOSED, MW_ERR_TLS and MW_ERR_IO;
 *         0 for everything else, including MW_OK and positive values.
 */
MW_API int mw_is_fatal(int code);

/**
 * The library's version as "MAJOR.MINOR.PATCH".
 * @return a static NUL-terminated string; compare with MW_VERSION_STRING from
 *         version.h to detect a header/library mismatch.
 */
MW_API const char *mw_version(void);

/**
 * The library's version as a number: MAJOR * 10000 + MINOR * 100 + PATCH.
 */
MW_API unsigned mw_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_COMMON_H */
