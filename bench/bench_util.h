/*
 * Shared helpers for the benchmarks: a monotonic clock, best-of-N timing,
 * and the memcpy baseline every figure is divided by (same run, same data
 * size, so machine noise affects both sides).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_BENCH_UTIL_H
#define MW_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Keeps the optimiser from discarding a result. */
static inline void bench_sink(const void *p, size_t n)
{
    static volatile unsigned char g_sink;
    if (n) g_sink ^= ((const unsigned char *)p)[n / 2];
}

/* Run fn(arg) repeatedly for at least min_seconds (and at least 3 times);
 * return the best time of one run in seconds. */
static inline double bench_best(void (*fn)(void *), void *arg, double min_seconds)
{
    double best = 1e30, start = bench_now();
    int runs = 0;
    while (runs < 3 || bench_now() - start < min_seconds) {
        double t0 = bench_now();
        fn(arg);
        double t = bench_now() - t0;
        if (t < best) best = t;
        runs++;
    }
    return best;
}

/* A buffer starting `offset` bytes into a page (offset < 4096), released
 * with bench_free. Benchmarks place their buffers this way so that results
 * do not depend on where the heap happens to put them: when a store and a
 * later load have the same address bits below 4096, some CPUs stall the
 * load ("4K aliasing"), and whole-run figures moved by 30 % with malloc's
 * placement. */
static inline void *bench_alloc(size_t len, size_t offset)
{
    unsigned char *base = malloc(len + offset + 4096 + sizeof(void *));
    if (!base) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    /* The first page boundary after room for the base pointer, kept just
     * below it for bench_free. */
    uintptr_t page = ((uintptr_t)base + sizeof(void *) + 4095) & ~(uintptr_t)4095;
    memcpy((unsigned char *)page - sizeof(void *), &base, sizeof(void *));
    return (unsigned char *)page + offset;
}

static inline void bench_free(void *p, size_t offset)
{
    if (!p) return;
    unsigned char *base;
    memcpy(&base, (unsigned char *)p - offset - sizeof(void *), sizeof(void *));
    free(base);
}

typedef struct bench_copy {
    const unsigned char *src;
    unsigned char *dst;
    size_t len;
    size_t chunk; /* copy in pieces of this size (models per-message calls) */
    /* Distance between the pieces' places in dst: chunk packs them as in
     * src, 0 copies every piece to dst itself (bench_base64 sets it to
     * match what its coders do with their output). */
    size_t dst_stride;
} bench_copy;

static inline void bench_memcpy_fn(void *arg)
{
    bench_copy *c = arg;
    size_t k = 0;
    for (size_t off = 0; off < c->len; off += c->chunk, k++) {
        size_t n = c->len - off < c->chunk ? c->len - off : c->chunk;
        memcpy(c->dst + k * c->dst_stride, c->src + off, n);
    }
    bench_sink(c->dst, c->chunk);
}

/* memcpy throughput in bytes/second for len bytes copied chunk at a time. */
static inline double bench_memcpy_rate(size_t len, size_t chunk, double min_seconds)
{
    unsigned char *a = malloc(len), *b = malloc(len);
    if (!a || !b) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < len; i++) a[i] = (unsigned char)(i * 131u);
    memset(b, 0, len);
    bench_copy c = {a, b, len, chunk ? chunk : len, chunk ? chunk : len};
    double t = bench_best(bench_memcpy_fn, &c, min_seconds);
    free(a);
    free(b);
    return (double)len / t;
}

/* Deterministic filler (xorshift) so runs are comparable. */
static inline void bench_fill_random(unsigned char *p, size_t n, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
}

#endif
