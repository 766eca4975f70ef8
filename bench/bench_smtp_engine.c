/*
 * SMTP server engine DATA throughput: 1 GiB of message body (78-octet
 * lines, one dot-stuffed line in 64) pushed through the engine, the way a
 * server loop would: read into the engine's buffer (feed = one memcpy, or
 * recv_buf for zero-copy), pull BODY events until it needs input. The
 * figure is compared with memcpy of the same data in the same chunk size,
 * and peak RSS shows that memory stays at the input buffer size whatever
 * the message size.
 *
 *
 * Usage: bench_smtp_engine [GiB]   (default 1)
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

#include "smtp/smtp_internal.h"

#include <sys/resource.h>

#define BLOCK (1u << 20)  /* the repeated body block */
#define CHUNK (64u * 1024u)

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* A body block made of whole CRLF lines, dot-stuffed as a client sends it. */
static size_t make_block(unsigned char *p, size_t cap, size_t *unstuffed)
{
    size_t o = 0, plain = 0, line = 0;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    while (o + 82 <= cap) {
        int dot = line++ % 64 == 0;
        if (dot) p[o++] = '.';
        for (int i = 0; i < 78; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p[o++] = (unsigned char)(' ' + x % 94);
        }
        /* dot lines really start with a dot (stuffed above); others never do */
        p[o - 78] = dot ? '.' : (p[o - 78] == '.' ? '-' : p[o - 78]);
        p[o++] = '\r';
        p[o++] = '\n';
        plain += 80;
    }
    *unstuffed = plain;
    return o;
}

typedef struct run {
    const unsigned char *block;
    size_t block_len;
    uint64_t total; /* wire octets to send */
    uint64_t body;  /* BODY octets seen */
    int zero_copy;
    size_t inbuf_cap;
} run;

static mw_smtp_server *start_session(void)
{
    mw_smtp_server *s;
    if (mw_smtp_server_new(NULL, NULL, &s)) exit(1);
    static const char cmds[] = "HELO b\r\nMAIL FROM:<>\r\nRCPT TO:<a@b>\r\nDATA\r\n";
    mw_smtp_server_feed(s, cmds, sizeof cmds - 1);
    const mw_smtp_event *ev;
    for (int i = 0; i < 4; i++) {
        if (mw_smtp_server_next(s, &ev) <= 0) exit(2);
        mw_smtp_server_accept(s);
    }
    size_t n;
    mw_smtp_server_out_buf(s, &n);
    mw_smtp_server_out_ack(s, n);
    return s;
}

static void pump(mw_smtp_server *s, run *r)
{
    const mw_smtp_event *ev;
    int t;
    while ((t = mw_smtp_server_next(s, &ev)) == MW_SMTP_EV_BODY) {
        r->body += ev->data.len;
        bench_sink(ev->data.base, ev->data.len);
    }
    if (t != 0 && t != MW_SMTP_EV_BODY_END) {
        fprintf(stderr, "unexpected %d\n", t);
        exit(3);
    }
}

static void run_data(void *arg)
{
    run *r = arg;
    mw_smtp_server *s = start_session();
    r->body = 0;
    uint64_t sent = 0;
    size_t boff = 0;
    while (sent < r->total) {
        size_t want = r->block_len - boff < CHUNK ? r->block_len - boff : CHUNK;
        size_t took;
        if (r->zero_copy) {
            size_t cap;
            unsigned char *p = mw_smtp_server_recv_buf(s, &cap);
            took = want < cap ? want : cap;
            memcpy(p, r->block + boff, took); /* stands for recv() into the buffer */
            mw_smtp_server_recv_ack(s, took);
        } else {
            took = (size_t)mw_smtp_server_feed(s, r->block + boff, want);
        }
        boff = (boff + took) % r->block_len;
        sent += took;
        pump(s, r);
    }
    mw_smtp_server_feed(s, ".\r\n", 3);
    const mw_smtp_event *ev;
    int t = mw_smtp_server_next(s, &ev);
    if (t != MW_SMTP_EV_BODY_END || ev->size != r->body) {
        fprintf(stderr, "bad end %d\n", t);
        exit(4);
    }
    r->inbuf_cap = s->io.in.cap;
    mw_smtp_server_free(s);
}

int main(int argc, char **argv)
{
    double gib = argc > 1 ? atof(argv[1]) : 1.0;
    unsigned char *block = malloc(BLOCK);
    if (!block) return 1;
    size_t plain;
    size_t blen = make_block(block, BLOCK, &plain);
    uint64_t blocks = (uint64_t)(gib * 1024.0 * 1024.0 * 1024.0 / (double)blen);
    if (blocks == 0) blocks = 1;
    long rss0 = peak_rss_kib();
    run r = {block, blen, blocks * blen, 0, 0, 0};
    double t_feed = bench_best(run_data, &r, 0.5);
    uint64_t expect = blocks * plain;
    if (r.body != expect) {
        fprintf(stderr, "body %llu, expected %llu\n", (unsigned long long)r.body, (unsigned long long)expect);
        return 5;
    }
    r.zero_copy = 1;
    double t_zc = bench_best(run_data, &r, 0.5);
    long rss1 = peak_rss_kib();
    /* Two baselines: memcpy of the same cache-resident block in the same
     * chunks (the copy a read into the buffer costs at best), and memcpy of
     * 256 MiB (memory-bound, like data that really streams through). */
    double mem = bench_memcpy_rate(BLOCK, CHUNK, 0.5);
    double dram = bench_memcpy_rate(256u << 20, CHUNK, 0.5);
    double gb = (double)r.total / 1e9;
    printf("smtp server DATA, %.2f GiB wire (%llu octets), 64 KiB reads, input buffer %zu KiB\n",
           (double)r.total / (1024.0 * 1024 * 1024), (unsigned long long)r.total, r.inbuf_cap / 1024);
    printf("  feed()      %6.2f GB/s  (%.2f x memcpy-cache, %.2f x memcpy-dram)\n", gb / t_feed,
           gb / t_feed / (mem / 1e9), gb / t_feed / (dram / 1e9));
    printf("  recv_buf()  %6.2f GB/s  (%.2f x memcpy-cache, %.2f x memcpy-dram)\n", gb / t_zc,
           gb / t_zc / (mem / 1e9), gb / t_zc / (dram / 1e9));
    printf("  memcpy      %6.2f GB/s cache (1 MiB in 64 KiB chunks), %.2f GB/s dram (256 MiB)\n",
           mem / 1e9, dram / 1e9);
    printf("  peak RSS    %ld KiB before the runs, %ld KiB after them (the 1 MiB body block included)\n",
           rss0, rss1);
    free(block);
    return 0;
}
