/*
 * mw-codec: the mailwire content codecs on the command line.
 *
 *   mw-codec MODE [options] < input > output
 *
 * base64 and quoted-printable stream stdin to stdout through the library's
 * steppers with fixed buffers (constant memory whatever the input size);
 * RFC 2047 and modified UTF-7 work on one header-sized value (at most
 * 1 MiB). All the codec logic is in the library; this file only moves
 * bytes and words messages.
 *
 * Exit status: 0 ok (warnings of lenient decoders go to stderr), 1 bad
 * input data, 2 usage error, 3 I/O error.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/codec.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_DATA 1
#define EXIT_USAGE 2
#define EXIT_IO 3

#define STREAM_BUF 65536
#define VALUE_MAX (1024 * 1024) /* cap for the header-sized modes */

static const char *g_mode = "mw-codec";

static const char usage_text[] =
    "usage: mw-codec MODE [options] < input > output\n"
    "\n"
    "Streaming modes (any input size, constant memory):\n"
    "  b64enc [--url] [--nopad] [--wrap]\n"
    "        base64 encode (RFC 4648); --wrap: MIME lines of 76 + CRLF\n"
    "  b64dec [--url] [--nopad] [--mime] [--garbage]\n"
    "        base64 decode; strict unless --mime (skip white space) or --garbage\n"
    "  qpenc  [--binary] [--dot] [--from] [--lf]\n"
    "        quoted-printable encode (RFC 2045 6.7); --lf: LF alone ends a line too\n"
    "  qpdec  [--strict]\n"
    "        quoted-printable decode; lenient unless --strict\n"
    "\n"
    "Header-value modes (one value of at most 1 MiB; a final newline of the input is\n"
    "dropped and one is added to the output):\n"
    "  2047enc [--phrase] [--b|--q] [--column N]  UTF-8 text to RFC 2047 encoded words\n"
    "  2047dec [--strict] [--phrase]        encoded words to UTF-8\n"
    "  mutf7enc                             UTF-8 mailbox name to IMAP modified UTF-7\n"
    "  mutf7dec                             IMAP modified UTF-7 to UTF-8\n"
    "\n"
    "  demo                                 show every codec at work on small examples\n"
    "  --help                               this text\n"
    "\n"
    "Exit status: 0 ok (decoder warnings are printed on stderr), 1 bad input data,\n"
    "2 usage error, 3 I/O error.\n";

/* Print "mw-codec: <what><why>" and the hint; returns EXIT_USAGE. */
static int usage_error(const char *what, const char *why)
{
    fprintf(stderr, "mw-codec: %s%s\ntry 'mw-codec --help'\n", what, why);
    return EXIT_USAGE;
}

static int io_error(const char *what)
{
    fprintf(stderr, "mw-codec: %s: %s error: %s\n", g_mode, what, strerror(errno));
    return EXIT_IO;
}

static int write_all(const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = write(1, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        b += w, n -= (size_t)w;
    }
    return 0;
}

/* ---- streaming modes ---------------------------------------------- */

typedef int (*step_fn)(mw_codec *c, int finish);

static void print_warnings(const mw_codec *c)
{
    static const struct {
        unsigned bit;
        const char *text;
    } names[] = {
        {MW_CODEC_WARN_BAD_CHAR, "characters outside the alphabet were skipped"},
        {MW_CODEC_WARN_BAD_ESCAPE, "malformed escapes were passed through"},
        {MW_CODEC_WARN_BAD_PADDING, "padding was missing, misplaced or excessive"},
        {MW_CODEC_WARN_TRAILING, "leftover bits or bytes at the end were dropped"},
        {MW_CODEC_WARN_LONG_LINE, "an encoded line was longer than the RFC allows"},
        {MW_CODEC_WARN_BARE_EOL, "a bare CR or LF was found where CRLF belongs"},
    };
    if (!c->warnings) return;
    fprintf(stderr, "mw-codec: %s: warning: first defect at byte %llu\n", g_mode,
            (unsigned long long)c->error_offset);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (c->warnings & names[i].bit)
            fprintf(stderr, "mw-codec: %s: warning: %s\n", g_mode, names[i].text);
}

static int run_stream(mw_codec *c, step_fn step)
{
    static unsigned char in[STREAM_BUF], out[STREAM_BUF];
    int eof = 0;
    for (;;) {
        if (c->avail_in == 0 && !eof) {
            ssize_t n = read(0, in, sizeof in);
            if (n < 0) {
                if (errno == EINTR) continue;
                return io_error("read");
            }
            eof = n == 0;
            c->next_in = in;
            c->avail_in = (size_t)n;
        }
        c->next_out = out;
        c->avail_out = sizeof out;
        int rc = step(c, eof);
        if (write_all(out, (size_t)(c->next_out - out))) return io_error("write");
        if (rc < 0) {
            if (rc == MW_ERR_SYNTAX || rc == MW_ERR_TRUNCATED) {
                fprintf(stderr, "mw-codec: %s: %s at byte %llu\n", g_mode, mw_strerror(rc),
                        (unsigned long long)(rc == MW_ERR_SYNTAX ? c->error_offset : c->total_in));
                return EXIT_DATA;
            }
            fprintf(stderr, "mw-codec: %s: %s\n", g_mode, mw_strerror(rc));
            return EXIT_DATA;
        }
        if (rc == MW_CODEC_DONE) break;
    }
    print_warnings(c);
    return 0;
}

/* Parse "--name" options into flag bits; returns 0 or a usage error. */
typedef struct opt {
    const char *name;
    unsigned flag;
} opt;

static int parse_flags(int argc, char **argv, const opt *opts, unsigned *flags)
{
    for (int i = 2; i < argc; i++) {
        const opt *o = opts;
        while (o->name && strcmp(o->name, argv[i]))
            o++;
        if (!o->name) return usage_error(argv[i], ": unknown option");
        *flags |= o->flag;
    }
    return 0;
}

static int mode_stream(int argc, char **argv)
{
    static const opt b64enc_opts[] = {
        {"--url", MW_B64_URL}, {"--nopad", MW_B64_NOPAD}, {"--wrap", MW_B64_WRAP}, {NULL, 0}};
    static const opt b64dec_opts[] = {{"--url", MW_B64_URL},
                                      {"--mime", MW_B64_MIME},
                                      {"--garbage", MW_B64_MIME | MW_B64_SKIP_GARBAGE},
                                      {"--nopad", MW_B64_NOPAD},
                                      {NULL, 0}};
    static const opt qpenc_opts[] = {{"--binary", MW_QP_BINARY},
                                     {"--dot", MW_QP_DOT},
                                     {"--from", MW_QP_FROM},
                                     {"--lf", MW_QP_LF_EOL},
                                     {NULL, 0}};
    static const opt qpdec_opts[] = {{"--strict", MW_QP_STRICT}, {NULL, 0}};
    static const struct {
        const char *mode;
        const opt *opts;
        int (*init)(mw_codec *, unsigned);
        step_fn step;
    } modes[] = {
        {"b64enc", b64enc_opts, mw_b64_encode_init, mw_b64_encode_step},
        {"b64dec", b64dec_opts, mw_b64_decode_init, mw_b64_decode_step},
        {"qpenc", qpenc_opts, mw_qp_encode_init, mw_qp_encode_step},
        {"qpdec", qpdec_opts, mw_qp_decode_init, mw_qp_decode_step},
    };
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        if (strcmp(argv[1], modes[m].mode)) continue;
        unsigned flags = 0;
        int rc = parse_flags(argc, argv, modes[m].opts, &flags);
        if (rc) return rc;
        mw_codec c;
        if (modes[m].init(&c, flags) != MW_OK)
            return usage_error(argv[1], ": these options cannot be combined");
        return run_stream(&c, modes[m].step);
    }
    return -1;
}

/* ---- header-value modes ------------------------------------------- */

/* Read all of stdin (at most VALUE_MAX bytes) minus one final newline. */
static int read_value(char **buf, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    if (!b) return io_error("memory");
    for (;;) {
        if (n == cap) {
            if (cap > VALUE_MAX) {
                free(b);
                fprintf(
                    stderr,
                    "mw-codec: %s: input larger than %d bytes (this mode takes one header value)\n",
                    g_mode, VALUE_MAX);
                return EXIT_DATA;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return io_error("memory");
            }
            b = nb, cap *= 2;
        }
        ssize_t r = read(0, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            free(b);
            return io_error("read");
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (n > VALUE_MAX) {
        free(b);
        fprintf(stderr,
                "mw-codec: %s: input larger than %d bytes (this mode takes one header value)\n",
                g_mode, VALUE_MAX);
        return EXIT_DATA;
    }
    if (n && b[n - 1] == '\n') n--;
    if (n && b[n - 1] == '\r') n--;
    *buf = b, *len = n;
    return 0;
}

/* Offset of the first byte that is not valid UTF-8, or of a NUL when
 * nul_too (only to word the error message: the library decides). */
static size_t utf8_error_at(const char *s, size_t n, int nul_too)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c == 0 && nul_too) return i;
            i++;
            continue;
        }
        size_t k = c >= 0xC2 && c <= 0xDF   ? 1
                   : c >= 0xE0 && c <= 0xEF ? 2
                   : c >= 0xF0 && c <= 0xF4 ? 3
                                            : 0;
        if (!k || i + k >= n) return i;
        unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
        unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (size_t j = 2; j <= k; j++)
            if (p[i + j] < 0x80 || p[i + j] > 0xBF) return i;
        i += k + 1;
    }
    return n;
}

static int emit_line(const char *p, size_t n)
{
    if (write_all(p, n) || write_all("\n", 1)) return io_error("write");
    return 0;
}

static int mode_2047enc(int argc, char **argv, const char *in, size_t len)
{
    unsigned flags = 0;
    size_t column = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--phrase"))
            flags |= MW_2047_PHRASE;
        else if (!strcmp(argv[i], "--b"))
            flags |= MW_2047_FORCE_B;
        else if (!strcmp(argv[i], "--q"))
            flags |= MW_2047_FORCE_Q;
        else if (!strcmp(argv[i], "--column") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || !*argv[i] || v > 998)
                return usage_error(argv[i], ": --column expects 0..998");
            column = (size_t)v;
        } else
            return usage_error(argv[i], ": unknown option");
    }
    if ((flags & MW_2047_FORCE_B) && (flags & MW_2047_FORCE_Q))
        return usage_error("--b and --q", " cannot be combined");
    size_t cap = mw_2047_encoded_max(len);
    char *out = malloc(cap ? cap : 1);
    if (!out) return io_error("memory");
    mw_ssize n = mw_2047_encode(in, len, column, out, cap, flags);
    int rc;
    if (n == MW_ERR_SYNTAX) {
        fprintf(stderr, "mw-codec: 2047enc: input is not valid UTF-8 at byte %zu\n",
                utf8_error_at(in, len, 0));
        rc = EXIT_DATA;
    } else if (n < 0) {
        fprintf(stderr, "mw-codec: 2047enc: %s\n", mw_strerror((int)n));
        rc = EXIT_DATA;
    } else {
        rc = emit_line(out, (size_t)n);
    }
    free(out);
    return rc;
}

static int mode_2047dec(int argc, char **argv, const char *in, size_t len)
{
    unsigned flags = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--strict"))
            flags |= MW_2047_STRICT;
        else if (!strcmp(argv[i], "--phrase"))
            flags |= MW_2047_PHRASE;
        else
            return usage_error(argv[i], ": unknown option");
    }
    char *out = malloc(3 * len + 1);
    if (!out) return io_error("memory");
    unsigned defects = 0;
    mw_ssize n = mw_2047_decode(in, len, out, 3 * len + 1, flags, &defects);
    int rc;
    if (n < 0) {
        fprintf(stderr, "mw-codec: 2047dec: %s\n", mw_strerror((int)n));
        rc = EXIT_DATA;
    } else {
        rc = emit_line(out, (size_t)n);
        if (defects & MW_2047_DEFECT_CHARSET)
            fprintf(stderr,
                    "mw-codec: 2047dec: warning: a word in an unknown charset was kept as-is\n");
        if (defects & MW_2047_DEFECT_ENCODING)
            fprintf(stderr,
                    "mw-codec: 2047dec: warning: a word with a malformed payload was kept as-is\n");
        if (defects & MW_2047_DEFECT_INVALID)
            fprintf(stderr, "mw-codec: 2047dec: warning: malformed or control characters were "
                            "replaced by U+FFFD\n");
    }
    free(out);
    return rc;
}

static int mode_mutf7(int argc, char **argv, const char *in, size_t len)
{
    if (argc > 2) return usage_error(argv[2], ": unknown option");
    int enc = !strcmp(argv[1], "mutf7enc");
    size_t cap = enc ? 5 * len + 1 : len + len / 8 + 1; /* bounds from codec.h */
    char *out = malloc(cap);
    if (!out) return io_error("memory");
    size_t off = 0;
    mw_ssize n =
        enc ? mw_mutf7_encode(in, len, out, cap) : mw_mutf7_decode(in, len, out, cap, &off);
    int rc;
    if (n == MW_ERR_SYNTAX) {
        if (enc)
            fprintf(stderr,
                    "mw-codec: mutf7enc: input is not valid UTF-8 (or holds a NUL) at byte %zu\n",
                    utf8_error_at(in, len, 1));
        else
            fprintf(stderr,
                    "mw-codec: mutf7dec: invalid or non-canonical modified UTF-7 at byte %zu\n",
                    off);
        rc = EXIT_DATA;
    } else if (n < 0) {
        fprintf(stderr, "mw-codec: %s: %s\n", argv[1], mw_strerror((int)n));
        rc = EXIT_DATA;
    } else {
        rc = emit_line(out, (size_t)n);
    }
    free(out);
    return rc;
}

static int mode_value(int argc, char **argv)
{
    int which;
    if (!strcmp(argv[1], "2047enc"))
        which = 0;
    else if (!strcmp(argv[1], "2047dec"))
        which = 1;
    else if (!strcmp(argv[1], "mutf7enc") || !strcmp(argv[1], "mutf7dec"))
        which = 2;
    else
        return -1;
    char *in = NULL;
    size_t len = 0;
    int rc = read_value(&in, &len);
    if (rc) return rc;
    if (which == 0)
        rc = mode_2047enc(argc, argv, in, len);
    else if (which == 1)
        rc = mode_2047dec(argc, argv, in, len);
    else
        rc = mode_mutf7(argc, argv, in, len);
    free(in);
    return rc;
}

/* ---- demo ---------------------------------------------------------- */

static void show(const char *label, const char *p, size_t n)
{
    printf("  %-9s \"", label);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            fputs("\\r", stdout);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    printf("\"\n");
}

static int demo_fail(const char *what, mw_ssize rc)
{
    printf("  %s FAILED: %s\n", what, mw_strerror((int)rc));
    return 1;
}

/* Run a stepper over a whole buffer (the dot-stuffers have no one-shot). */
static mw_ssize demo_dot(int (*init)(mw_codec *, unsigned), int (*step)(mw_codec *, int),
                         const char *in, size_t len, char *out, size_t cap)
{
    mw_codec c;
    int rc = init(&c, 0);
    if (rc) return rc;
    c.next_in = (const unsigned char *)in;
    c.avail_in = len;
    c.next_out = (unsigned char *)out;
    c.avail_out = cap;
    rc = step(&c, 1);
    if (rc < 0) return rc;
    return rc == MW_CODEC_DONE ? (mw_ssize)(cap - c.avail_out) : MW_ERR_BUFFER;
}

static int demo(void)
{
    char enc[1024], dec[1024];
    mw_ssize e, d;
    int bad = 0;

    printf("mailwire codecs, each shown as input -> encoded -> decoded again.\n\n");

    const char *bin = "Hello, \xF0\x9F\x93\xAC mail!";
    printf("base64 (RFC 4648), as used for MIME bodies and SASL:\n");
    show("input", bin, strlen(bin));
    if ((e = mw_b64_encode(bin, strlen(bin), enc, sizeof enc, 0)) < 0)
        return demo_fail("encode", e);
    show("encoded", enc, (size_t)e);
    if ((d = mw_b64_decode(enc, (size_t)e, dec, sizeof dec, 0, NULL)) < 0)
        return demo_fail("decode", d);
    show("decoded", dec, (size_t)d);
    bad |= d != (mw_ssize)strlen(bin) || memcmp(dec, bin, (size_t)d);

    const char *text = "Caf\xC3\xA9 cr\xC3\xA8me = 3\xE2\x82\xAC\r\n"
                       ".a line starting with a dot\r\n";
    printf("\nquoted-printable (RFC 2045 6.7), for mostly-ASCII bodies; "
           "--dot protects a leading '.' for SMTP:\n");
    show("input", text, strlen(text));
    if ((e = mw_qp_encode(text, strlen(text), enc, sizeof enc, MW_QP_DOT)) < 0)
        return demo_fail("encode", e);
    show("encoded", enc, (size_t)e);
    if ((d = mw_qp_decode(enc, (size_t)e, dec, sizeof dec, 0)) < 0) return demo_fail("decode", d);
    show("decoded", dec, (size_t)d);
    bad |= d != (mw_ssize)strlen(text) || memcmp(dec, text, (size_t)d);

    const char *msg = "Hi,\r\n.hidden dot\r\nbye\r\n";
    printf("\nSMTP dot-stuffing (RFC 5321 4.5.2), for DATA: a leading '.' is doubled and "
           "the end marker added:\n");
    show("input", msg, strlen(msg));
    if ((e = demo_dot(mw_dotstuff_init, mw_dotstuff_step, msg, strlen(msg), enc, sizeof enc)) < 0)
        return demo_fail("stuff", e);
    show("stuffed", enc, (size_t)e);
    if ((d = demo_dot(mw_dotunstuff_init, mw_dotunstuff_step, enc, (size_t)e, dec, sizeof dec)) < 0)
        return demo_fail("unstuff", d);
    show("unstuffed", dec, (size_t)d);
    bad |= d != (mw_ssize)strlen(msg) || memcmp(dec, msg, (size_t)d);

    const char *subj =
        "Gr\xC3\xBC\xC3\x9F"
        "e aus K\xC3\xB6ln \xE2\x80\x93 "
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xA7\xE3\x82\x82 OK \xF0\x9F\x98\x80";
    printf("\nRFC 2047 encoded words, for non-ASCII header text (here after \"Subject: \", "
           "column 9; folded at 76):\n");
    show("input", subj, strlen(subj));
    if ((e = mw_2047_encode(subj, strlen(subj), 9, enc, sizeof enc, 0)) < 0)
        return demo_fail("encode", e);
    show("encoded", enc, (size_t)e);
    unsigned defects;
    if ((d = mw_2047_decode(enc, (size_t)e, dec, sizeof dec, 0, &defects)) < 0)
        return demo_fail("decode", d);
    show("decoded", dec, (size_t)d);
    bad |= d != (mw_ssize)strlen(subj) || memcmp(dec, subj, (size_t)d);
    const char *legacy =
        "=?ISO-8859-1?Q?Andr=E9?= Pirard, =?Shift_JIS?B?k/qW?= =?Shift_JIS?B?e4zq?=";
    printf(
        "  and decoding words in other charsets (a Shift_JIS character split across two words):\n");
    show("input", legacy, strlen(legacy));
    if ((d = mw_2047_decode(legacy, strlen(legacy), dec, sizeof dec, 0, &defects)) < 0)
        return demo_fail("decode", d);
    show("decoded", dec, (size_t)d);

    const char *box =
        "~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E & co";
    printf("\nIMAP modified UTF-7 (RFC 3501 5.1.3), for mailbox names:\n");
    show("input", box, strlen(box));
    if ((e = mw_mutf7_encode(box, strlen(box), enc, sizeof enc)) < 0) return demo_fail("encode", e);
    show("encoded", enc, (size_t)e);
    size_t off;
    if ((d = mw_mutf7_decode(enc, (size_t)e, dec, sizeof dec, &off)) < 0)
        return demo_fail("decode", d);
    show("decoded", dec, (size_t)d);
    bad |= d != (mw_ssize)strlen(box) || memcmp(dec, box, (size_t)d);

    printf("\nTry it: echo 'Gr\xC3\xBC\xC3\x9F"
           "e' | mw-codec 2047enc; "
           "mw-codec b64enc --wrap < file; mw-codec --help\n");
    if (bad) printf("\nA round trip did not give the input back: this is a bug.\n");
    return bad ? EXIT_DATA : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage_error("no MODE given", "");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    g_mode = argv[1];
    if (!strcmp(argv[1], "demo")) {
        if (argc > 2) return usage_error(argv[2], ": demo takes no options");
        return demo();
    }
    int rc = mode_stream(argc, argv);
    if (rc >= 0) return rc;
    rc = mode_value(argc, argv);
    if (rc >= 0) return rc;
    return usage_error(argv[1], ": unknown MODE");
}
