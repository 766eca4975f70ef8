/*
 * Quoted-printable and dot-stuffing throughput.
 *
 * Data: "text" is generated mail prose (mostly ASCII, about 2% bytes of
 * UTF-8, most lines under 76 characters with CRLF, one line in seven a long
 * paragraph of several hundred characters, a few lines starting with '.');
 * "binary" is pseudo-random bytes (encoded with MW_QP_BINARY). Each is
 * measured as one 64 MiB buffer and as independent 4 KiB messages (fresh
 * state per message, over the first 16 MiB). Rates are input bytes per
 * second (raw bytes for encoders, encoded bytes for decoders), best of
 * several runs, with ratios against GMime 3 (when built with it) and
 * against memcpy of the same size in the same run. Times are process CPU
 * time (CLOCK_PROCESS_CPUTIME_ID), not wall time: the build machine is
 * shared, and CPU time does not count the time spent waiting for a core.
 *
 * Run: cmake --preset release-bench && cmake --build build-bench -j2 &&
 *      ./build-bench/bench/bench_qp
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

#include <mailwire/codec.h>

#if MW_BENCH_HAVE_GMIME
#include <gmime/gmime.h>
#endif

#define BIG (64u << 20)
#define SMALL 4096u
#define SMALL_TOTAL (16u << 20)
#define MIN_SECONDS 0.25

static void die(const char *what)
{
    fprintf(stderr, "bench_qp: %s\n", what);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) die("out of memory");
    return p;
}

/* ---- timing (CPU time; see the header comment) ------------------- */

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Best CPU time of one fn(arg) run, over at least min_seconds and 3 runs. */
static double cpu_best(void (*fn)(void *), void *arg, double min_seconds)
{
    double best = 1e30, start = cpu_now();
    int runs = 0;
    while (runs < 3 || cpu_now() - start < min_seconds) {
        double t0 = cpu_now();
        fn(arg);
        double t = cpu_now() - t0;
        if (t < best) best = t;
        runs++;
    }
    return best;
}

static double memcpy_rate(size_t len, size_t chunk)
{
    unsigned char *a = malloc(len), *b = malloc(len);
    if (!a || !b) {
        fprintf(stderr, "bench_qp: out of memory\n");
        exit(1);
    }
    bench_fill_random(a, len, 1);
    memset(b, 0, len);
    bench_copy c = {a, b, len, chunk ? chunk : len, chunk ? chunk : len};
    double t = cpu_best(bench_memcpy_fn, &c, MIN_SECONDS);
    free(a);
    free(b);
    return (double)len / t;
}

/* ---- data --------------------------------------------------------- */

static uint64_t g_rng = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)((g_rng >> 11) % n);
}

static size_t gen_text(unsigned char *p, size_t n)
{
    static const char *words[] = {
        "the", "mail", "server", "message", "of", "to", "and", "a", "in", "that", "is",
        "delivery", "protocol", "header", "body", "line", "was", "for", "with", "queue",
        "recipient", "sender", "relay", "encoding", "it", "be", "on", "not", "this", "by",
        "d\xc3\xa9j\xc3\xa0", "na\xc3\xafve", "\xc3\xbc" "ber", "r\xc3\xa9sum\xc3\xa9",
        "\xe2\x80\x94", "Stra\xc3\x9f" "e", "fa\xc3\xa7" "ade", "=", "50%", "(see below)"};
    size_t nwords = sizeof words / sizeof words[0], i = 0;
    while (i < n) {
        size_t target = rnd(7) == 0 ? 200 + rnd(700) : 40 + rnd(36);
        size_t start = i;
        if (rnd(60) == 0 && i < n) p[i++] = '.';
        while (i - start < target && i < n) {
            /* UTF-8 words are the last eight of the list: keep them rare */
            size_t w = rnd(10) == 0 ? rnd((unsigned)nwords) : rnd((unsigned)nwords - 10);
            const char *s = words[w];
            size_t l = strlen(s);
            if (i + l + 1 > n) break;
            memcpy(p + i, s, l);
            i += l;
            p[i++] = rnd(12) == 0 ? ',' : ' ';
        }
        if (i + 2 > n) break;
        if (i > start && p[i - 1] == ' ') i--; /* no trailing space, mostly */
        p[i++] = '\r';
        p[i++] = '\n';
    }
    while (i < n) p[i++] = 'x';
    return n;
}

/* ---- mailwire ----------------------------------------------------- */

typedef struct job {
    const unsigned char *in;
    size_t len;       /* total input */
    size_t msg;       /* message size (len for one buffer) */
    unsigned char *out;
    size_t cap;       /* output space per message */
    unsigned flags;
    size_t produced;  /* last run's output size (first message for small) */
} job;

typedef int (*init_fn)(mw_codec *, unsigned);
typedef int (*step_fn)(mw_codec *, int);

static void run_mw(job *j, init_fn init, step_fn step)
{
    size_t total = 0;
    for (size_t off = 0; off < j->len; off += j->msg) {
        size_t n = j->len - off < j->msg ? j->len - off : j->msg;
        mw_codec c;
        init(&c, j->flags);
        c.next_in = j->in + off;
        c.avail_in = n;
        c.next_out = j->out;
        c.avail_out = j->cap;
        int rc = step(&c, 1);
        if (rc != MW_CODEC_DONE && rc != MW_ERR_TRUNCATED) die("mailwire step failed");
        total += (size_t)c.total_out;
        bench_sink(j->out, (size_t)c.total_out);
    }
    j->produced = total;
}

static void mw_enc(void *arg) { run_mw(arg, mw_qp_encode_init, mw_qp_encode_step); }
static void mw_dec(void *arg) { run_mw(arg, mw_qp_decode_init, mw_qp_decode_step); }
static void mw_stuff(void *arg) { run_mw(arg, mw_dotstuff_init, mw_dotstuff_step); }
static void mw_unstuff(void *arg) { run_mw(arg, mw_dotunstuff_init, mw_dotunstuff_step); }

/* ---- GMime -------------------------------------------------------- */

#if MW_BENCH_HAVE_GMIME
static void gm_enc(void *arg)
{
    job *j = arg;
    for (size_t off = 0; off < j->len; off += j->msg) {
        size_t n = j->len - off < j->msg ? j->len - off : j->msg;
        int state = -1;
        guint32 save = 0;
        size_t k = g_mime_encoding_quoted_encode_step(j->in + off, n, j->out, &state, &save);
        k += g_mime_encoding_quoted_encode_close(NULL, 0, j->out + k, &state, &save);
        bench_sink(j->out, k);
    }
}

static void gm_dec(void *arg)
{
    job *j = arg;
    for (size_t off = 0; off < j->len; off += j->msg) {
        size_t n = j->len - off < j->msg ? j->len - off : j->msg;
        int state = 0;
        guint32 save = 0;
        size_t k = g_mime_encoding_quoted_decode_step(j->in + off, n, j->out, &state, &save);
        bench_sink(j->out, k);
    }
}
#endif

/* ---- reporting ---------------------------------------------------- */

static double rate(void (*fn)(void *), job *j)
{
    return (double)j->len / cpu_best(fn, j, MIN_SECONDS);
}

static void report(const char *what, double mw, double gm, double copy)
{
    printf("  %-28s %8.0f MB/s  %5.2fx memcpy", what, mw / 1e6, mw / copy);
    if (gm > 0) printf("  | GMime %7.0f MB/s  mailwire/GMime %5.2fx", gm / 1e6, mw / gm);
    printf("\n");
}

static void bench_set(const char *name, const unsigned char *raw, size_t len, unsigned flags,
                      double copy_big, double copy_small)
{
    size_t enc_cap = mw_qp_encoded_max(len, flags);
#if MW_BENCH_HAVE_GMIME
    if (GMIME_QP_ENCODE_LEN(len) > enc_cap) enc_cap = GMIME_QP_ENCODE_LEN(len);
#endif
    /* the encoded form, made once by mailwire, is every decoder's input;
     * the encoders write elsewhere (GMime's own output has LF line ends) */
    unsigned char *enc = xmalloc(enc_cap), *scratch = xmalloc(enc_cap), *dec = xmalloc(len + 64);
    job e = {raw, len, len, enc, enc_cap, flags, 0};
    mw_enc(&e);
    size_t enc_len = e.produced;
    printf("%s: %zu bytes -> %zu encoded (%.3fx)\n", name, len, enc_len, (double)enc_len / (double)len);

    for (int small = 0; small < 2; small++) {
        size_t msg = small ? SMALL : len, total = small ? SMALL_TOTAL : len;
        double copy = small ? copy_small : copy_big;
        char label[64];
        job je = {raw, total, msg, scratch,
                  small ? mw_qp_encoded_max(SMALL, flags) + 256 : enc_cap, flags, 0};
        job jd = {enc, small ? total : enc_len, msg, dec, small ? SMALL : len + 64, 0, 0};
        double me = rate(mw_enc, &je), md = rate(mw_dec, &jd), ge = 0, gd = 0;
#if MW_BENCH_HAVE_GMIME
        ge = rate(gm_enc, &je);
        gd = rate(gm_dec, &jd);
#endif
        snprintf(label, sizeof label, "encode %s", small ? "4 KiB msgs" : "64 MiB");
        report(label, me, ge, copy);
        snprintf(label, sizeof label, "decode %s", small ? "4 KiB msgs" : "64 MiB");
        report(label, md, gd, copy);
    }
    if (!flags) { /* the same text stored with LF line ends, as in Unix mail files */
        size_t k = 0;
        for (size_t i = 0; i < enc_len; i++)
            if (!(enc[i] == '\r' && i + 1 < enc_len && enc[i + 1] == '\n')) scratch[k++] = enc[i];
        job jl = {scratch, k, k, dec, len + 64, 0, 0};
        double md = rate(mw_dec, &jl), gd = 0;
#if MW_BENCH_HAVE_GMIME
        gd = rate(gm_dec, &jl);
#endif
        report("decode 64 MiB, LF line ends", md, gd, copy_big);
    }
    free(enc);
    free(scratch);
    free(dec);
}

static void bench_dots(const unsigned char *text, size_t len, double copy_big)
{
    size_t cap = len + len / 2 + 16;
    unsigned char *wire = xmalloc(cap), *back = xmalloc(cap);
    job js = {text, len, len, wire, cap, 0, 0};
    double s = rate(mw_stuff, &js);
    size_t wire_len = js.produced;
    job ju = {wire, wire_len, wire_len, back, cap, 0, 0};
    double u = rate(mw_unstuff, &ju);
    /* a message not ending in CRLF comes back completed with one */
    if (ju.produced < len || memcmp(back, text, len) != 0) die("dot-stuffing round trip failed");
    printf("dot-stuffing: %zu bytes -> %zu on the wire\n", len, wire_len);
    report("dotstuff 64 MiB", s, 0, copy_big);
    report("dotunstuff 64 MiB", u, 0, copy_big);
}

int main(void)
{
#if MW_BENCH_HAVE_GMIME
    g_mime_init();
    printf("peers: GMime %u.%u.%u\n", gmime_major_version, gmime_minor_version, gmime_micro_version);
#else
    printf("peers: GMime not found (mailwire figures only)\n");
#endif
    double t0 = bench_now();
    double copy_big = memcpy_rate(BIG, 0);
    double copy_small = memcpy_rate(SMALL_TOTAL, SMALL);
    printf("memcpy: 64 MiB %.0f MB/s, 4 KiB pieces %.0f MB/s\n", copy_big / 1e6, copy_small / 1e6);

    unsigned char *data = xmalloc(BIG);
    gen_text(data, BIG);
    bench_set("text (prose, some UTF-8, long lines)", data, BIG, 0, copy_big, copy_small);
    bench_dots(data, BIG, copy_big);
    bench_fill_random(data, BIG, 12345);
    bench_set("binary (random bytes, MW_QP_BINARY)", data, BIG, MW_QP_BINARY, copy_big, copy_small);
    free(data);
    printf("total bench time %.1f s\n", bench_now() - t0);
    return 0;
}
