/*
 * POP3 RETR through both engines with bounded memory: the server engine
 * streams a generated message (1 GiB by default: text lines, one in 32
 * starting with '.', some lines "." or ".." alone) through body_write in
 * chunks; its output is moved straight into the client engine's input
 * buffer (recv_buf/recv_ack: the copy a socket read would make, no
 * sockets here); the client un-stuffs it in place and hands BODY events
 * out. Each BODY event is compared with the generator at the same offset,
 * so a single wrong, missing or extra octet fails the run (exit 1).
 *
 * The whole session runs as a client would drive it: greeting, CAPA,
 * USER/PASS, the maildrop listing (the exact size), RETR 1, QUIT and the
 * commit. Printed: GB/s of message octets, the ratio to memcpy of the
 * same data (a cache-resident 1 MiB block in 64 KiB chunks, and 256 MiB
 * that streams through memory), and the peak RSS (getrusage ru_maxrss),
 * which stays at the engines' buffers (server output queue 256 KiB, the
 * client input buffer as configured) plus the 1 MiB generator block,
 * whatever the message size.
 *
 * Usage: bench_pop3_engine [GiB [client-input-KiB]]   (default 1 and 64)
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

#include <mailwire/pop3.h>

#include <sys/resource.h>

#define BLOCK (1u << 20) /* the repeated generator block (whole lines) */
#define WRITE_CHUNK (64u * 1024u)

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Stored (un-stuffed) message text: CRLF lines of 1..200 octets. One line
 * in 32 starts with '.', and among those some are "." or ".." alone, the
 * lines a broken stuffer or un-stuffer would end the message at. */
static size_t make_block(unsigned char *p, size_t cap)
{
    size_t o = 0, line = 0;
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (;;) {
        size_t len;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        len = 1 + (size_t)(x % 200);
        if (o + len + 2 > cap) break;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p[o + i] = (unsigned char)(' ' + 1 + x % 94); /* never '.' at random: see below */
            if (p[o + i] == '.') p[o + i] = '_';
        }
        if (line % 32 == 0) {
            p[o] = '.';
            if (line % 256 == 0) {
                len = 1; /* "." */
            } else if (line % 256 == 32) {
                len = 2; /* ".." */
                p[o + 1] = '.';
            }
        }
        o += len;
        p[o++] = '\r';
        p[o++] = '\n';
        line++;
    }
    return o;
}

typedef struct run {
    const unsigned char *block;
    size_t block_len;
    uint64_t total;    /* message octets */
    int verify;        /* compare every BODY event with the generator */
    int zero_copy;     /* client input through recv_buf/recv_ack, not feed */
    size_t client_in;  /* client input buffer */
    uint64_t received; /* BODY octets seen */
    size_t max_event;  /* largest BODY event */
} run;

static void fail(const char *what, int rc)
{
    fprintf(stderr, "bench_pop3_engine: %s (%d %s)\n", what, rc, mw_strerror(rc));
    exit(1);
}

/* Compare a BODY event with the generator at the same message offset. */
static void check_body(const run *r, const unsigned char *p, size_t n)
{
    size_t off = (size_t)(r->received % r->block_len);
    while (n) {
        size_t k = r->block_len - off < n ? r->block_len - off : n;
        if (memcmp(p, r->block + off, k) != 0) {
            fprintf(stderr, "bench_pop3_engine: body differs near octet %llu\n",
                    (unsigned long long)r->received);
            exit(1);
        }
        p += k;
        n -= k;
        off = 0;
    }
}

typedef struct server_side {
    mw_pop3_server *s;
    int streaming;  /* RETR accepted: body_write until the end */
    uint64_t sent;  /* message octets taken by body_write */
    int committed;
} server_side;

static void server_events(run *r, server_side *sv)
{
    const mw_pop3_event *ev;
    int t, rc = MW_OK;
    while ((t = mw_pop3_server_next(sv->s, &ev)) > 0) {
        switch (ev->type) {
        case MW_POP3_EV_PASS:
            rc = mw_pop3_server_check_secret(sv->s, "secret", 6) == 1
                     ? mw_pop3_server_accept(sv->s)
                     : mw_pop3_server_reply(sv->s, 0, "AUTH", NULL);
            break;
        case MW_POP3_EV_MAILDROP:
            rc = mw_pop3_server_maildrop_add(sv->s, r->total, "big-1", 5);
            if (rc == MW_OK) rc = mw_pop3_server_accept(sv->s);
            break;
        case MW_POP3_EV_RETR:
            if (ev->msg != 1 || ev->size != r->total) fail("RETR event", MW_ERR_STATE);
            rc = mw_pop3_server_accept(sv->s);
            sv->streaming = 1;
            sv->sent = 0;
            break;
        case MW_POP3_EV_COMMIT:
            sv->committed = 1;
            rc = mw_pop3_server_accept(sv->s);
            break;
        default:
            rc = ev->paused ? mw_pop3_server_accept(sv->s) : MW_OK;
            break;
        }
        if (rc != MW_OK) fail("server answer", rc);
    }
    if (t < 0 && t != MW_ERR_STATE && t != MW_ERR_CLOSED) fail("server engine", t);
}

/* Feed the message to the server engine until its output queue is full. */
static void server_stream(const run *r, server_side *sv)
{
    while (sv->streaming) {
        if (sv->sent == r->total) {
            int rc = mw_pop3_server_body_end(sv->s);
            if (rc == MW_ERR_LIMIT) return;
            if (rc != MW_OK) fail("body_end", rc);
            sv->streaming = 0;
            return;
        }
        size_t off = (size_t)(sv->sent % r->block_len);
        size_t want = r->block_len - off < WRITE_CHUNK ? r->block_len - off : WRITE_CHUNK;
        if ((uint64_t)want > r->total - sv->sent) want = (size_t)(r->total - sv->sent);
        mw_ssize took = mw_pop3_server_body_write(sv->s, r->block + off, want);
        if (took < 0) fail("body_write", (int)took);
        if (took == 0) return; /* output queue full: let the client drain it */
        sv->sent += (uint64_t)took;
    }
}

/* Server output -> client input: one memcpy, as a socket read would make.
 * feed() copies as much as fits; recv_buf() gives the room a read would
 * fill (zero-copy readers). */
static int wire_to_client(const run *r, mw_pop3_server *s, mw_pop3_client *c)
{
    size_t len, room;
    const unsigned char *o = mw_pop3_server_out_buf(s, &len);
    unsigned char *in;
    if (!o) return 0;
    if (!r->zero_copy) {
        mw_ssize took = mw_pop3_client_feed(c, o, len);
        if (took < 0) fail("client feed", (int)took);
        mw_pop3_server_out_ack(s, (size_t)took);
        return took > 0;
    }
    in = mw_pop3_client_recv_buf(c, &room);
    if (!in || room == 0) return 0;
    if (len > room) len = room;
    memcpy(in, o, len);
    int rc = mw_pop3_client_recv_ack(c, len);
    if (rc != MW_OK) fail("client recv_ack", rc);
    mw_pop3_server_out_ack(s, len);
    return 1;
}

static int wire_to_server(mw_pop3_client *c, mw_pop3_server *s)
{
    size_t len;
    const unsigned char *o = mw_pop3_client_out_buf(c, &len);
    if (!o) return 0;
    mw_ssize took = mw_pop3_server_feed(s, o, len);
    if (took < 0) fail("server feed", (int)took);
    mw_pop3_client_out_ack(c, (size_t)took);
    return took > 0;
}

/* @return 1 when the session is over (QUIT answered). */
static int client_events(run *r, mw_pop3_client *c, int *retr_ok)
{
    const mw_pop3_client_event *ev;
    int t;
    while ((t = mw_pop3_client_next(c, &ev)) > 0) {
        if (ev->type == MW_POP3_CLIENT_EV_REPLY && !ev->ok) fail("a -ERR reply", MW_ERR_PROTOCOL);
        if (ev->type == MW_POP3_CLIENT_EV_REPLY && ev->cmd == MW_POP3_CMD_RETR) *retr_ok = 1;
        if (ev->type == MW_POP3_CLIENT_EV_BODY) {
            if (r->verify) check_body(r, (const unsigned char *)ev->data.base, ev->data.len);
            else bench_sink(ev->data.base, ev->data.len);
            if (ev->data.len > r->max_event) r->max_event = ev->data.len;
            r->received += ev->data.len;
        }
        if (ev->type == MW_POP3_CLIENT_EV_END && ev->cmd == MW_POP3_CMD_RETR &&
            r->received != r->total)
            fail("RETR ended early or late", MW_ERR_TRUNCATED);
    }
    if (t == MW_ERR_CLOSED) return 1;
    if (t < 0) fail("client engine", t);
    return 0;
}

static void run_retr(void *arg)
{
    run *r = arg;
    mw_pop3_server_opts *so = mw_pop3_server_opts_new(NULL);
    mw_pop3_client_opts *co = mw_pop3_client_opts_new(NULL);
    server_side sv = {NULL, 0, 0, 0};
    mw_pop3_client *c = NULL;
    int retr_ok = 0, rc;
    if (!so || !co) fail("options", MW_ERR_NOMEM);
    mw_pop3_server_opts_set_flags(so, MW_POP3_SERVER_PLAINTEXT_AUTH, 1);
    mw_pop3_client_opts_set_tls(co, MW_POP3_TLS_NONE);
    mw_pop3_client_opts_set_flags(co, MW_POP3_CLIENT_ALLOW_PLAINTEXT, 1);
    if ((rc = mw_pop3_client_opts_set_limits(co, 512, 32, r->client_in)) != MW_OK)
        fail("client input buffer size", rc);
    if ((rc = mw_pop3_server_new(NULL, so, &sv.s)) != MW_OK) fail("server", rc);
    if ((rc = mw_pop3_client_new(NULL, co, NULL, &c)) != MW_OK) fail("client", rc);
    if (mw_pop3_client_user_pass(c, "user", "secret") < 0 || mw_pop3_client_retr(c, 1) < 0 ||
        mw_pop3_client_quit(c) < 0)
        fail("queueing commands", MW_ERR_STATE);
    r->received = 0;
    for (int idle = 0;;) {
        uint64_t before = sv.sent + r->received;
        int moved;
        server_events(r, &sv);
        server_stream(r, &sv);
        moved = wire_to_client(r, sv.s, c);
        if (client_events(r, c, &retr_ok)) break;
        moved |= wire_to_server(c, sv.s);
        idle = moved || sv.sent + r->received != before ? 0 : idle + 1;
        if (idle > 100) fail("the session stalled", MW_ERR_STATE);
    }
    if (!retr_ok || r->received != r->total || !sv.committed)
        fail("the session did not complete", MW_ERR_TRUNCATED);
    mw_pop3_client_free(c);
    mw_pop3_server_free(sv.s);
    mw_pop3_client_opts_free(co);
    mw_pop3_server_opts_free(so);
}

int main(int argc, char **argv)
{
    double gib = argc > 1 ? atof(argv[1]) : 1.0;
    size_t in_kib = argc > 2 ? (size_t)atol(argv[2]) : 64;
    unsigned char *block = malloc(BLOCK);
    if (!block || gib <= 0 || in_kib < 1 || in_kib > 65536) {
        fprintf(stderr, "usage: bench_pop3_engine [GiB [client-input-KiB]]\n");
        return 2;
    }
    size_t blen = make_block(block, BLOCK);
    uint64_t blocks = (uint64_t)(gib * 1024.0 * 1024.0 * 1024.0 / (double)blen);
    if (blocks == 0) blocks = 1;
    run r = {block, blen, blocks * blen, 1, 0, in_kib * 1024, 0, 0};
    long rss0 = peak_rss_kib();

    double t_verify = bench_best(run_retr, &r, 0.5);
    size_t event_feed = r.max_event;
    r.verify = 0;
    double t_plain = bench_best(run_retr, &r, 0.5);
    r.zero_copy = 1;
    r.max_event = 0;
    double t_zc = bench_best(run_retr, &r, 0.5);
    long rss1 = peak_rss_kib();
    /* Baselines measured after the RSS reading: the 256 MiB copy would hide it. */
    double mem = bench_memcpy_rate(BLOCK, WRITE_CHUNK, 0.5);
    double dram = bench_memcpy_rate(256u << 20, WRITE_CHUNK, 0.5);
    double gb = (double)r.total / 1e9;

    printf("pop3 RETR server->client, %.2f GiB message (%llu octets, 1 line in 32 dot-stuffed),\n"
           "  server body_write %u KiB, output queue 256 KiB, client input buffer %zu KiB\n",
           (double)r.total / (1024.0 * 1024 * 1024), (unsigned long long)r.total,
           WRITE_CHUNK / 1024, r.client_in / 1024);
    printf("  feed, verified      %6.2f GB/s  (%.2f x memcpy-cache, %.2f x memcpy-dram)  every octet compared\n",
           gb / t_verify, gb / t_verify / (mem / 1e9), gb / t_verify / (dram / 1e9));
    printf("  feed, counted       %6.2f GB/s  (%.2f x memcpy-cache, %.2f x memcpy-dram)  octets counted only\n",
           gb / t_plain, gb / t_plain / (mem / 1e9), gb / t_plain / (dram / 1e9));
    printf("  recv_buf, counted   %6.2f GB/s  (%.2f x memcpy-cache, %.2f x memcpy-dram)  zero-copy input\n",
           gb / t_zc, gb / t_zc / (mem / 1e9), gb / t_zc / (dram / 1e9));
    printf("  memcpy              %6.2f GB/s cache (1 MiB in 64 KiB chunks), %.2f GB/s dram (256 MiB)\n",
           mem / 1e9, dram / 1e9);
    printf("  largest BODY event  %zu octets with feed, %zu with recv_buf\n", event_feed, r.max_event);
    printf("  peak RSS    %ld KiB before the runs, %ld KiB after them (+%ld KiB; the 1 MiB block is\n"
           "              in both)\n",
           rss0, rss1, rss1 - rss0);
    free(block);
    return 0;
}
