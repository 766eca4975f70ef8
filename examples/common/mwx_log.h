/*
 * Shared glue for the mailwire example programs: log lines and the clock.
 *
 * The engines have no clock; the programs read CLOCK_MONOTONIC here for
 * idle timeouts and the wall clock for log lines and trace headers.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MWX_LOG_H
#define MWX_LOG_H

#include <stdint.h>

#if defined(__GNUC__)
#define MWX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MWX_PRINTF(a, b)
#endif

/** Set the program name printed in every log line (kept by pointer). */
void mwx_log_init(const char *program);

/** Print one line "YYYY-mm-ddTHH:MM:SSZ program[pid]: text" on stderr.
 *  The text should not end with a newline; one is added. */
void mwx_log(const char *fmt, ...) MWX_PRINTF(1, 2);

/** Milliseconds of CLOCK_MONOTONIC (for timeouts only). */
int64_t mwx_now_ms(void);

#endif
