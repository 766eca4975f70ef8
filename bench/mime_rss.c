/*
 * Whole-process peak memory of the MIME parser, measured in a program that
 * holds nothing else: statically linked against libmailwire.a and libc, no
 * stdio (output goes through write(2)), the message read from a file with
 * read(2) into one fixed 64 KiB buffer. The page cache is not part of a
 * process's resident set, so what ru_maxrss / VmHWM show is the program
 * image, its stack and the parser's own buffers.
 *
 * Usage:
 *   mime_rss gen FILE [MiB]        write a test message (default 200 MiB):
 *                                  headers, multipart/mixed with a
 *                                  quoted-printable text/plain part and a
 *                                  base64 attachment filling the rest
 *   mime_rss parse FILE [BUF]      parse only (every event pulled)
 *   mime_rss decode FILE [BUF]     parse and decode every part (MW_MIME_DECODE),
 *                                  each decoded chunk copied into a scratch
 *                                  buffer and dropped
 *   BUF: the parser's MW_MIME_LIMIT_BUFFER in KiB (default 64); the header
 *   block limit is set to a quarter of it (at least 4 KiB).
 *
 * Prints bytes, events, time, ru_maxrss and the VmHWM / VmRSS lines of
 * /proc/self/status. ru_maxrss on Linux also covers the process image
 * before exec (the forked shell), so VmHWM is the figure to read.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/mime.h>

#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define IOBUF (64u * 1024u)

static unsigned char g_io[IOBUF];   /* read(2) / write(2) buffer */
static unsigned char g_sink[16384]; /* decoded data lands here and is dropped */

/* ---- output without stdio ------------------------------------------ */

static void out(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(1, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static void out_u64(unsigned long long v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    tmp[--i] = 0;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out(tmp + i);
}

static int fail(const char *msg)
{
    out("mime_rss: ");
    out(msg);
    out("\n");
    return 1;
}

static unsigned long long parse_u64(const char *s)
{
    unsigned long long v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned long long)(*s++ - '0');
    return v;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Copy the VmHWM and VmRSS lines of /proc/self/status to the output. */
static void print_status(void)
{
    static char st[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0) return;
    ssize_t n = read(fd, st, sizeof st - 1);
    close(fd);
    if (n <= 0) return;
    st[n] = 0;
    for (char *line = st; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (!strncmp(line, "VmHWM:", 6) || !strncmp(line, "VmRSS:", 6)) {
            out("  ");
            out(line);
            out("\n");
        }
        if (!nl) break;
        line = nl + 1;
    }
}

/* ---- message generator --------------------------------------------- */

static unsigned long long g_rng = 0x9e3779b97f4a7c15ull;
static unsigned long long rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545f4914f6cdd1dull;
}

static size_t g_fill;
static int g_fd;
static int g_werr;

static void put(const char *s, size_t n)
{
    while (n) {
        size_t k = IOBUF - g_fill < n ? IOBUF - g_fill : n;
        memcpy(g_io + g_fill, s, k);
        g_fill += k;
        s += k;
        n -= k;
        if (g_fill == IOBUF) {
            if (write(g_fd, g_io, IOBUF) != (ssize_t)IOBUF) g_werr = 1;
            g_fill = 0;
        }
    }
}

static void puts_(const char *s)
{
    put(s, strlen(s));
}

static int gen(const char *path, unsigned long long mib)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    g_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (g_fd < 0) return fail("cannot create the file");
    puts_("Received: from relay.example.org (relay.example.org [192.0.2.1])\r\n"
          "\tby mx.example.net with ESMTPS id 4F3D2C1B0A\r\n"
          "\tfor <rcpt@example.net>; Thu, 26 Nov 2026 23:00:00 +0000\r\n"
          "From: Sender <sender@example.org>\r\nTo: rcpt@example.net\r\n"
          "Subject: =?utf-8?q?the_big_report?=\r\nDate: Thu, 26 Nov 2026 23:00:00 +0000\r\n"
          "Message-ID: <big.1@example.org>\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/mixed; boundary=\"=_mix_91c0\"\r\n\r\n"
          "This is a multi-part message in MIME format.\r\n--=_mix_91c0\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    for (int i = 0; i < 200; i++)
        puts_("Please find the report attached; the caf=C3=A9 meeting is tomorrow at te=\r\n"
              "n o'clock.\r\n");
    puts_("--=_mix_91c0\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
          "Content-Transfer-Encoding: base64\r\n"
          "Content-Disposition: attachment; filename=\"report.pdf\"\r\n\r\n");
    unsigned long long total = mib << 20, lines = total / 78;
    char line[78];
    for (unsigned long long l = 0; l < lines; l++) {
        for (int i = 0; i < 76; i += 4) {
            unsigned long long v = rnd();
            line[i] = al[v & 63];
            line[i + 1] = al[(v >> 6) & 63];
            line[i + 2] = al[(v >> 12) & 63];
            line[i + 3] = al[(v >> 18) & 63];
        }
        line[76] = '\r';
        line[77] = '\n';
        put(line, 78);
    }
    puts_("--=_mix_91c0--\r\n");
    if (g_fill && write(g_fd, g_io, g_fill) != (ssize_t)g_fill) g_werr = 1;
    if (close(g_fd) != 0 || g_werr) return fail("write error");
    return 0;
}

/* ---- parse ---------------------------------------------------------- */

typedef struct counts {
    unsigned long long bytes, events, parts, body, defects;
} counts;

static void drain(mw_mime_parser *p, counts *c)
{
    mw_mime_event ev;
    int rc;
    while ((rc = mw_mime_next(p, &ev)) > 0) {
        c->events++;
        if (rc == MW_MIME_PART_BEGIN) c->parts++;
        if (rc == MW_MIME_DEFECT) c->defects++;
        if (rc == MW_MIME_BODY) {
            c->body += ev.data.len;
            /* decode mode: the data goes somewhere, as an application's would */
            for (size_t off = 0; off < ev.data.len; off += sizeof g_sink) {
                size_t k = ev.data.len - off < sizeof g_sink ? ev.data.len - off : sizeof g_sink;
                memcpy(g_sink, ev.data.base + off, k);
            }
        }
    }
}

static int run(const char *path, int decode, unsigned long long buf_kib)
{
    mw_mime_options *o = mw_mime_options_new(NULL);
    if (!o) return fail("out of memory");
    size_t buf = (size_t)buf_kib * 1024u, hdr = buf / 4 < 4096 ? 4096 : buf / 4;
    if (mw_mime_options_set_limit(o, MW_MIME_LIMIT_HEADER_BYTES, hdr) ||
        mw_mime_options_set_limit(o, MW_MIME_LIMIT_BUFFER, buf) ||
        mw_mime_options_set_flags(o, decode ? MW_MIME_DECODE : 0u))
        return fail("bad option");
    mw_mime_parser *p = mw_mime_parser_new(NULL, o);
    mw_mime_options_free(o);
    if (!p) return fail("out of memory");
    int fd = open(path, O_RDONLY);
    if (fd < 0) return fail("cannot open the file");
    counts c;
    memset(&c, 0, sizeof c);
    double t0 = now();
    for (;;) {
        ssize_t n = read(fd, g_io, IOBUF);
        if (n < 0) return fail("read error");
        if (n == 0) break;
        c.bytes += (unsigned long long)n;
        size_t off = 0;
        while (off < (size_t)n) {
            mw_ssize t = mw_mime_feed(p, g_io + off, (size_t)n - off);
            if (t < 0) return fail("feed failed");
            off += (size_t)t;
            drain(p, &c);
        }
    }
    mw_mime_eof(p);
    drain(p, &c);
    double t = now() - t0;
    close(fd);
    mw_mime_parser_free(p);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    out(decode ? "parse+decode" : "parse-only");
    out(": ");
    out_u64(c.bytes);
    out(" bytes, ");
    out_u64(c.parts);
    out(" parts, ");
    out_u64(c.events);
    out(" events, ");
    out_u64(c.defects);
    out(" defects, ");
    out_u64(c.body);
    out(" body bytes out, ");
    out_u64((unsigned long long)(t * 1000.0));
    out(" ms, ");
    out_u64((unsigned long long)((double)c.bytes / 1e6 / (t > 0 ? t : 1e-9)));
    out(" MB/s\n  parser buffer limit ");
    out_u64(buf_kib);
    out(" KiB; ru_maxrss ");
    out_u64((unsigned long long)ru.ru_maxrss);
    out(" kB\n");
    print_status();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        out("usage: mime_rss gen FILE [MiB] | parse FILE [BUF_KiB] | decode FILE [BUF_KiB]\n");
        return 2;
    }
    if (!strcmp(argv[1], "gen")) return gen(argv[2], argc > 3 ? parse_u64(argv[3]) : 200);
    unsigned long long kib = argc > 3 ? parse_u64(argv[3]) : 64;
    if (kib < 4) kib = 4;
    if (!strcmp(argv[1], "parse")) return run(argv[2], 0, kib);
    if (!strcmp(argv[1], "decode")) return run(argv[2], 1, kib);
    return fail("unknown mode");
}
