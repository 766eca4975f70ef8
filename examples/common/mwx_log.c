/* Log lines and the clock for the example programs. SPDX-License-Identifier: MIT */
#include "mwx_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *g_program = "mailwire";

void mwx_log_init(const char *program)
{
    if (program) g_program = program;
}

void mwx_log(const char *fmt, ...)
{
    char stamp[32], line[2048];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line: lines of concurrent processes do not interleave. */
    fprintf(stderr, "%s %s[%ld]: %s\n", stamp, g_program, (long)getpid(), line);
}

int64_t mwx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
