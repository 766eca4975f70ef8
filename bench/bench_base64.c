/*
 * base64 throughput: mailwire (best kernel and forced scalar) against
 * OpenSSL and GMime 3 when installed, and against memcpy of the same input
 * size measured right before, in the same run.
 *
 * Every figure is input bytes per second (MB = 1e6 bytes): for encoding the
 * input is binary, for decoding it is base64 text. "64MiB" rows code one
 * 64 MiB buffer in one call; "4KiB" rows code 1 MiB of input as 256
 * separate 4 KiB messages (one one-shot call each), each message's output
 * at its own place, and memcpy copies the same 4 KiB pieces to their own
 * places; "4KiB-1" rows send every message's output, and every memcpy
 * piece, to one reused buffer. "wrapped" means MIME lines: mailwire
 * writes 76 characters + CRLF and decodes with MW_B64_MIME; OpenSSL's
 * EVP_EncodeUpdate writes 64 + LF and GMime 76 + LF (their only formats).
 *
 *   cmake --preset release-bench && cmake --build build-bench -j2 && ./build-bench/bench/bench_base64
 *
 * An argument (scalar, ssse3, avx2, avx512) runs the "mailwire" column at
 * that kernel level instead of the best one the CPU has, to show what a
 * machine without AVX-512 gets.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

#include "codec/codec_internal.h"

#if MW_BENCH_HAVE_OPENSSL
#include <openssl/evp.h>
#endif
#if MW_BENCH_HAVE_GMIME
#include <gmime/gmime.h>
#endif

#define BIG (64u << 20)
#define SMALL_TOTAL (1u << 20)
#define MSG 4096u
/* Where buffers start within a page (see bench_alloc): the coders' output
 * and memcpy's destination at the same place, half a page from the input,
 * so both see the same address relation. */
#define IN_OFFSET 0u
#define OUT_OFFSET 2048u

typedef struct job {
    const unsigned char *in;
    size_t len;   /* total input */
    size_t chunk; /* bytes per call */
    unsigned char *out;
    size_t cap;    /* output space per call */
    size_t stride; /* distance between the calls' outputs (0: all at out) */
    int encode, wrapped, level;
} job;

/* Where call k of a job writes. */
static unsigned char *out_at(const job *j, size_t k) { return j->out + k * j->stride; }

/* ---- the coders under test, one call per chunk ---- */

static void run_mailwire(void *arg)
{
    job *j = arg;
    for (size_t off = 0, k = 0; off < j->len; off += j->chunk, k++) {
        size_t n = j->len - off < j->chunk ? j->len - off : j->chunk;
        unsigned char *o = out_at(j, k);
        mw_ssize r;
        if (j->encode)
            r = mw__b64_encode_level(j->level, j->in + off, n, (char *)o, j->cap,
                                     j->wrapped ? MW_B64_WRAP : 0);
        else
            r = mw__b64_decode_level(j->level, (const char *)j->in + off, n, o, j->cap,
                                     j->wrapped ? MW_B64_MIME : 0, NULL);
        if (r < 0) {
            fprintf(stderr, "bench: mailwire failed: %s\n", mw_strerror((int)r));
            exit(1);
        }
    }
    bench_sink(j->out, 64);
}

#if MW_BENCH_HAVE_OPENSSL
static void run_openssl(void *arg)
{
    job *j = arg;
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    size_t got = 0;
    for (size_t off = 0, k = 0; off < j->len; off += j->chunk, k++) {
        int n = (int)(j->len - off < j->chunk ? j->len - off : j->chunk), r = 0, fin = 0;
        const unsigned char *p = j->in + off;
        unsigned char *o = out_at(j, k);
        if (!j->wrapped) {
            r = j->encode ? EVP_EncodeBlock(o, p, n) : EVP_DecodeBlock(o, p, n);
        } else if (j->encode) {
            EVP_EncodeInit(ctx);
            EVP_EncodeUpdate(ctx, o, &r, p, n);
            EVP_EncodeFinal(ctx, o + r, &fin);
        } else {
            EVP_DecodeInit(ctx);
            if (EVP_DecodeUpdate(ctx, o, &r, p, n) < 0) r = -1;
            else EVP_DecodeFinal(ctx, o + r, &fin);
        }
        if (r < 0) {
            fprintf(stderr, "bench: OpenSSL failed\n");
            exit(1);
        }
        got = (size_t)(r + fin);
    }
    EVP_ENCODE_CTX_free(ctx);
    bench_sink(j->out, got);
}
#endif

#if MW_BENCH_HAVE_GMIME
static void run_gmime(void *arg)
{
    job *j = arg;
    size_t got = 0;
    for (size_t off = 0, k = 0; off < j->len; off += j->chunk, k++) {
        size_t n = j->len - off < j->chunk ? j->len - off : j->chunk, r;
        int state = 0;
        guint32 save = 0;
        if (j->encode)
            r = g_mime_encoding_base64_encode_close(j->in + off, n, out_at(j, k), &state, &save);
        else
            r = g_mime_encoding_base64_decode_step(j->in + off, n, out_at(j, k), &state, &save);
        got = r;
    }
    bench_sink(j->out, got);
}
#endif

/* ---- inputs ---- */

/* Binary input, or base64 text of about `len` bytes cut into messages of
 * `chunk` bytes (each message a complete encoding). */
static unsigned char *make_input(size_t len, size_t chunk, int encode, int wrapped, size_t *got)
{
    unsigned char *p = bench_alloc(len, IN_OFFSET);
    if (encode) {
        bench_fill_random(p, len, 42);
        *got = len;
        return p;
    }
    unsigned flags = wrapped ? MW_B64_WRAP : 0;
    /* chunk is a whole number of quads (plain) or 78-byte lines (wrapped). */
    size_t raw = wrapped ? chunk / MW__B64_LINE_OUT * MW__B64_LINE_IN : chunk / 4 * 3;
    unsigned char *bin = malloc(raw);
    size_t used = 0;
    for (size_t off = 0; off + chunk <= len; off += chunk) {
        bench_fill_random(bin, raw, off + 7);
        mw_ssize n = mw_b64_encode(bin, raw, (char *)p + off, chunk, flags);
        used = off + (size_t)n;
        if ((size_t)n != chunk) break;
    }
    free(bin);
    *got = used;
    return p;
}

static double rate(void (*fn)(void *), void *arg, size_t len, double secs)
{
    return (double)len / bench_best(fn, arg, secs) / 1e6;
}

static double max_d(double a, double b) { return a > b ? a : b; }

/* small: 4 KiB messages; reuse: every message's output goes to the same
 * place (else each to its own, a page-multiple apart), for the coders and
 * for memcpy alike. */
static int g_level; /* kernel level of the "mailwire" column */

static void row(int encode, int wrapped, int small, int reuse)
{
    size_t total = small ? SMALL_TOTAL : BIG, chunk = small ? MSG : BIG, len;
    /* Whole messages of base64 text need a chunk the encoding fills exactly:
     * 4 KiB plain text is 1024 quads; wrapped text uses 52 lines of 78. */
    size_t text_chunk = wrapped ? (small ? 52 * 78 : BIG / 78 * 78) : chunk;
    unsigned char *in = make_input(total, encode ? chunk : text_chunk, encode, wrapped, &len);
    size_t per_call = small ? (encode ? chunk : text_chunk) : len;
    size_t cap = encode ? mw_b64_encoded_len(per_call, MW_B64_WRAP) + 64 : per_call;
    size_t calls = (len + per_call - 1) / per_call;
    /* Each call's output (and memcpy's piece) starts at the same place in
     * its page, so no call sees another address relation than memcpy. */
    size_t stride = small && !reuse ? (cap + 4095) / 4096 * 4096 : 0;
    size_t out_len = stride ? calls * stride : cap + 64, copy_len = small ? out_len : len;
    unsigned char *out = bench_alloc(out_len, OUT_OFFSET), *copy = bench_alloc(copy_len, OUT_OFFSET);
    memset(out, 0, out_len); /* fault the pages in before timing */
    memset(copy, 0, copy_len);
    job j = {in, len, per_call, out, cap, stride, encode, wrapped, g_level};
    job js = j;
    js.level = MW__B64_SCALAR;
    bench_copy cp = {in, copy, len, per_call, small ? stride : per_call};

    /* The machine is shared: alternate the coders over several rounds and
     * keep each one's best, so all of them see similar conditions, and a
     * busy moment of a second or so cannot decide the ratio between two of
     * them (with five rounds for the slow ones it once put the scalar path
     * at 1.90x GMime instead of its usual 2.4x). */
    double mc = 0, mw = 0, sc = 0, os = 0, gm = 0, secs = small ? 0.03 : 0.08;
    for (int round = 0; round < 10; round++) {
        mc = max_d(mc, rate(bench_memcpy_fn, &cp, len, secs));
        mw = max_d(mw, rate(run_mailwire, &j, len, secs));
        sc = max_d(sc, rate(run_mailwire, &js, len, secs));
#if MW_BENCH_HAVE_OPENSSL
        os = max_d(os, rate(run_openssl, &j, len, secs));
#endif
#if MW_BENCH_HAVE_GMIME
        /* GMime has no unwrapped encoder; its decoder skips line breaks anyway. */
        if (!encode || wrapped) gm = max_d(gm, rate(run_gmime, &j, len, secs));
#endif
    }
    char osr[16] = "-", gmr[16] = "-", scg[16] = "-", osv[16] = "-", gmv[16] = "-";
    if (os > 0) {
        snprintf(osv, sizeof osv, "%.0f", os);
        snprintf(osr, sizeof osr, "%.2f", mw / os);
    }
    if (gm > 0) {
        snprintf(gmv, sizeof gmv, "%.0f", gm);
        snprintf(gmr, sizeof gmr, "%.2f", mw / gm);
        snprintf(scg, sizeof scg, "%.2f", sc / gm);
    }
    printf("%-6s %-7s %-6s %9.0f %8.0f %8s %8s %8.0f %9.2f %8.2f %8s %8s %8s\n",
           encode ? "encode" : "decode", wrapped ? "wrapped" : "plain",
           small ? (reuse ? "4KiB-1" : "4KiB") : "64MiB",
           mw, sc, osv, gmv, mc, mw / mc, sc / mc, osr, gmr, scg);
    fflush(stdout);
    bench_free(in, IN_OFFSET);
    bench_free(out, OUT_OFFSET);
    bench_free(copy, OUT_OFFSET);
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"scalar", "SSSE3", "AVX2", "AVX-512 VBMI"};
    static const char *const args[] = {"scalar", "ssse3", "avx2", "avx512"};
    g_level = mw__b64_level_best();
    if (argc > 1) {
        for (g_level = 0; g_level < MW__B64_LEVELS && strcmp(argv[1], args[g_level]) != 0; g_level++) {
        }
        if (g_level == MW__B64_LEVELS || !mw__b64_level_supported(g_level)) {
            fprintf(stderr, "usage: bench_base64 [scalar|ssse3|avx2|avx512] (a level this CPU has)\n");
            return 2;
        }
    }
#if MW_BENCH_HAVE_GMIME
    g_mime_init();
#endif
    printf("base64, MB/s of input (best of N); kernel: %s\n", names[g_level]);
    printf("%-6s %-7s %-6s %9s %8s %8s %8s %8s %9s %8s %8s %8s %8s\n", "op", "layout", "size",
           "mailwire", "scalar", "OpenSSL", "GMime", "memcpy", "mw/memcpy", "sc/mcpy", "mw/OSSL",
           "mw/GMime", "sc/GMime");
    for (int size = 0; size <= 2; size++)
        for (int encode = 1; encode >= 0; encode--)
            for (int wrapped = 0; wrapped <= 1; wrapped++) row(encode, wrapped, size > 0, size == 2);
    return 0;
}
