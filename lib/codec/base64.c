/*
 * mailwire — base64 (RFC 4648 §4 and §5; MIME use RFC 2045 §6.8).
 *
 * Shape of the stepper: whole units (3-byte groups, 4-character quads,
 * 57-byte / 76-character lines) go straight from next_in to next_out
 * through a bulk kernel (scalar tables, SSSE3, AVX2 or AVX-512 VBMI, chosen
 * at init from the CPU). Only the edges go through the careful per-byte
 * path here: a group or quad cut by the end of a chunk, padding, a line end
 * that does not fit the learned layout, whitespace or garbage, and output
 * that does not fit (kept in a few pending bytes of the state, so nothing
 * is lost). The one-shot functions call the kernels themselves and start
 * the stepper only where they stop (see encode_whole, decode_whole).
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

/* ------------------------------------------------------------------ */
/* Constant tables, built by the preprocessor (no init, no global state) */
/* ------------------------------------------------------------------ */

#define CHR_STD(v)                                                                         \
    ((v) < 26 ? 'A' + (v) : (v) < 52 ? 'a' + (v)-26 : (v) < 62 ? '0' + (v)-52 : (v) == 62 ? '+' : '/')
#define CHR_URL(v)                                                                         \
    ((v) < 26 ? 'A' + (v) : (v) < 52 ? 'a' + (v)-26 : (v) < 62 ? '0' + (v)-52 : (v) == 62 ? '-' : '_')
#define VAL_COMMON(c)                                                                      \
    ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                                \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                                           \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                                           \
                                : -1)
#define VAL_STD(c) ((c) == '+' ? 62 : (c) == '/' ? 63 : VAL_COMMON(c))
#define VAL_URL(c) ((c) == '-' ? 62 : (c) == '_' ? 63 : VAL_COMMON(c))

#define R4(M, i) M(i), M((i) + 1), M((i) + 2), M((i) + 3)
#define R16(M, i) R4(M, i), R4(M, (i) + 4), R4(M, (i) + 8), R4(M, (i) + 12)
#define R64(M, i) R16(M, i), R16(M, (i) + 16), R16(M, (i) + 32), R16(M, (i) + 48)
#define R256(M, i) R64(M, i), R64(M, (i) + 64), R64(M, (i) + 128), R64(M, (i) + 192)
#define R4096(M, i)                                                                        \
    R256(M, i), R256(M, (i) + 256), R256(M, (i) + 512), R256(M, (i) + 768),                \
        R256(M, (i) + 1024), R256(M, (i) + 1280), R256(M, (i) + 1536), R256(M, (i) + 1792), \
        R256(M, (i) + 2048), R256(M, (i) + 2304), R256(M, (i) + 2560), R256(M, (i) + 2816), \
        R256(M, (i) + 3072), R256(M, (i) + 3328), R256(M, (i) + 3584), R256(M, (i) + 3840)

/* Two characters for every 12-bit value: one lookup per half group. */
#define PAIR_STD(i) {(unsigned char)CHR_STD((i) >> 6), (unsigned char)CHR_STD((i)&63)}
#define PAIR_URL(i) {(unsigned char)CHR_URL((i) >> 6), (unsigned char)CHR_URL((i)&63)}
static const unsigned char enc_pairs[2][4096][2] = {{R4096(PAIR_STD, 0)}, {R4096(PAIR_URL, 0)}};

/* Sextet values pre-shifted into their place in the 24-bit group, one table
 * per position in the quad; bytes outside the alphabet are all ones, so the
 * OR of four lookups is >= 1 << 24 exactly when one of them is bad. */
#define DENT(v, s) ((v) < 0 ? 0xFFFFFFFFu : (uint32_t)(v) << (s))
#define DS18(c) DENT(VAL_STD(c), 18)
#define DS12(c) DENT(VAL_STD(c), 12)
#define DS6(c) DENT(VAL_STD(c), 6)
#define DS0(c) DENT(VAL_STD(c), 0)
#define DU18(c) DENT(VAL_URL(c), 18)
#define DU12(c) DENT(VAL_URL(c), 12)
#define DU6(c) DENT(VAL_URL(c), 6)
#define DU0(c) DENT(VAL_URL(c), 0)
static const uint32_t dec_tab[2][4][256] = {
    {{R256(DS18, 0)}, {R256(DS12, 0)}, {R256(DS6, 0)}, {R256(DS0, 0)}},
    {{R256(DU18, 0)}, {R256(DU12, 0)}, {R256(DU6, 0)}, {R256(DU0, 0)}},
};

/* ------------------------------------------------------------------ */
/* Scalar kernels                                                      */
/* ------------------------------------------------------------------ */

static inline uint64_t get_be64(const unsigned char *in)
{
    uint64_t w;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&w, in, 8);
    w = __builtin_bswap64(w);
#else
    w = 0;
    for (int b = 0; b < 8; b++) w = w << 8 | in[b];
#endif
    return w;
}

static inline uint16_t pair_at(const unsigned char (*pairs)[2], uint64_t v)
{
    uint16_t p;
    memcpy(&p, pairs[v & 0xFFF], 2);
    return p;
}

size_t mw__b64_enc_scalar(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    const unsigned char(*pairs)[2] = enc_pairs[url != 0];
    size_t end = n / 3 * 3, i = 0;
    /* Two groups per round from one 8-byte big-endian load (6 bytes used,
     * so 2 more must be readable), four pair lookups, one 8-byte store.
     * Assembling the store in a register needs a known byte order. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; i + 14 <= n && i + 12 <= end; i += 12, out += 16) {
        uint64_t w0 = get_be64(in + i), w1 = get_be64(in + i + 6);
        uint64_t o0 = (uint64_t)pair_at(pairs, w0 >> 52) | (uint64_t)pair_at(pairs, w0 >> 40) << 16 |
                      (uint64_t)pair_at(pairs, w0 >> 28) << 32 | (uint64_t)pair_at(pairs, w0 >> 16) << 48;
        uint64_t o1 = (uint64_t)pair_at(pairs, w1 >> 52) | (uint64_t)pair_at(pairs, w1 >> 40) << 16 |
                      (uint64_t)pair_at(pairs, w1 >> 28) << 32 | (uint64_t)pair_at(pairs, w1 >> 16) << 48;
        memcpy(out, &o0, 8);
        memcpy(out + 8, &o1, 8);
    }
    for (; i + 8 <= n && i + 6 <= end; i += 6, out += 8) {
        uint64_t w = get_be64(in + i);
        uint64_t o = (uint64_t)pair_at(pairs, w >> 52) | (uint64_t)pair_at(pairs, w >> 40) << 16 |
                     (uint64_t)pair_at(pairs, w >> 28) << 32 | (uint64_t)pair_at(pairs, w >> 16) << 48;
        memcpy(out, &o, 8);
    }
#endif
    for (; i < end; i += 3, out += 4) {
        uint32_t g = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        memcpy(out, pairs[g >> 12], 2);
        memcpy(out + 2, pairs[g & 0xFFF], 2);
    }
    return end;
}

static inline void put_be64(unsigned char *out, uint64_t w)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
    memcpy(out, &w, 8);
#else
    for (int b = 0; b < 8; b++) out[b] = (unsigned char)(w >> (56 - 8 * b));
#endif
}

static inline void put_be32(unsigned char *out, uint32_t w)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap32(w);
    memcpy(out, &w, 4);
#else
    for (int b = 0; b < 4; b++) out[b] = (unsigned char)(w >> (24 - 8 * b));
#endif
}

#define QUAD(t, p) ((t)[0][(p)[0]] | (t)[1][(p)[1]] | (t)[2][(p)[2]] | (t)[3][(p)[3]])

size_t mw__b64_dec_scalar(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    const uint32_t(*t)[256] = dec_tab[url != 0];
    size_t i = 0;
    /* Four quads per round: their 12 bytes go out as one 8-byte and one
     * 4-byte word, nothing written past them. */
    for (; i + 16 <= n; i += 16, out += 12) {
        uint32_t x0 = QUAD(t, in + i), x1 = QUAD(t, in + i + 4);
        uint32_t x2 = QUAD(t, in + i + 8), x3 = QUAD(t, in + i + 12);
        if ((x0 | x1 | x2 | x3) >> 24) break;
        put_be64(out, (uint64_t)x0 << 40 | (uint64_t)x1 << 16 | x2 >> 8);
        put_be32(out + 8, x2 << 24 | x3);
    }
    for (; i + 4 <= n; i += 4, out += 3) {
        uint32_t x = QUAD(t, in + i);
        if (x >> 24) break;
        out[0] = (unsigned char)(x >> 16);
        out[1] = (unsigned char)(x >> 8);
        out[2] = (unsigned char)x;
    }
    return i;
}

static void enc_lines_scalar(const unsigned char *in, size_t nlines, unsigned char *out, int url)
{
    for (size_t l = 0; l < nlines; l++, in += MW__B64_LINE_IN, out += MW__B64_LINE_OUT) {
        mw__b64_enc_scalar(in, MW__B64_LINE_IN, out, url);
        out[76] = '\r';
        out[77] = '\n';
    }
}

/* Lines are decoded in place: when a line turns out to hold a bad byte,
 * the quads before it were written exactly as the careful path will write
 * them again, so nothing beyond the final output is ever touched. */
static size_t dec_lines_scalar(const unsigned char *in, size_t n, unsigned char *out, size_t room,
                               size_t len, int url)
{
    size_t used = 0, line_out = len / 4 * 3;
    if (len < 16 || len > 96 || len % 4) return 0;
    while (n - used >= len + 2 && room >= line_out && in[used + len] == '\r' &&
           in[used + len + 1] == '\n') {
        if (mw__b64_dec_scalar(in + used, len, out, url) != len) break;
        out += line_out;
        room -= line_out;
        used += len + 2;
    }
    return used;
}

/* ------------------------------------------------------------------ */
/* Kernel choice                                                       */
/* ------------------------------------------------------------------ */

static const mw__b64_kernel kernels[MW__B64_LEVELS] = {
    {mw__b64_enc_scalar, enc_lines_scalar, NULL, mw__b64_dec_scalar, dec_lines_scalar},
#if defined(MW_HAVE_X86_SIMD)
    {mw__b64_enc_ssse3, mw__b64_enc_lines_ssse3, NULL, mw__b64_dec_ssse3, mw__b64_dec_lines_ssse3},
    {mw__b64_enc_avx2, mw__b64_enc_lines_avx2, NULL, mw__b64_dec_avx2, mw__b64_dec_lines_avx2},
    {mw__b64_enc_avx512, mw__b64_enc_lines_avx512, mw__b64_enc_wrapped_avx512, mw__b64_dec_avx512,
     mw__b64_dec_lines_avx512},
#else
    {mw__b64_enc_scalar, enc_lines_scalar, NULL, mw__b64_dec_scalar, dec_lines_scalar},
    {mw__b64_enc_scalar, enc_lines_scalar, NULL, mw__b64_dec_scalar, dec_lines_scalar},
    {mw__b64_enc_scalar, enc_lines_scalar, NULL, mw__b64_dec_scalar, dec_lines_scalar},
#endif
};

int mw__b64_level_supported(int level)
{
    if (level == MW__B64_SCALAR) return 1;
#if defined(MW_HAVE_X86_SIMD) && (defined(__GNUC__) || defined(__clang__))
    /* __builtin_cpu_supports reads flags libgcc filled in at load time
     * (including the OS check that AVX state is saved): cheap and race-free. */
    if (level == MW__B64_SSSE3) return __builtin_cpu_supports("ssse3") ? 1 : 0;
    if (level == MW__B64_AVX2) return __builtin_cpu_supports("avx2") ? 1 : 0;
    if (level == MW__B64_AVX512)
        return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi") ? 1 : 0;
#endif
    return 0;
}

int mw__b64_level_best(void)
{
    for (int level = MW__B64_LEVELS - 1; level > 0; level--)
        if (mw__b64_level_supported(level)) return level;
    return MW__B64_SCALAR;
}

/* ------------------------------------------------------------------ */
/* Stepper state                                                       */
/* ------------------------------------------------------------------ */

typedef struct mw__b64_state {
    uint64_t col;       /* characters on the current line (encode: output; MIME decode: input) */
    uint64_t last_data; /* decode: input offset of the last alphabet character */
    uint32_t acc;       /* decode: sextets of the unfinished quad */
    uint32_t line_len;  /* MIME decode: length of the last line if the line kernel can take it */
    int error;          /* sticky MW_ERR_*, 0 while none */
    unsigned char level;
    unsigned char q; /* decode: characters in the unfinished quad; encode: carried bytes */
    unsigned char carry[2];
    unsigned char pend[8]; /* output made but not yet written for lack of space */
    unsigned char npend, pend_at;
    unsigned char pad;    /* decode: one '=' after two characters, a second one due */
    unsigned char ended;  /* decode: padding closed the data */
    unsigned char cr;     /* MIME decode: the previous byte was CR */
    unsigned char defect; /* c->error_offset holds a defect's offset */
    unsigned char done;   /* finish completed */
} mw__b64_state;
MW_CODEC_STATE_FITS(mw__b64_state);

#define B64_STATE(c) MW_CODEC_STATE(c, mw__b64_state)
#define LINE_CHARS 76u /* RFC 2045 §6.8 */

/* Where a step reads and writes; in0/off0 map pointers to stream offsets. */
typedef struct cursor {
    const unsigned char *in, *in_end, *in0;
    unsigned char *out, *out_end, *out0;
    uint64_t off0;
} cursor;

static uint64_t offset_of(const cursor *k, const unsigned char *p)
{
    return k->off0 + (uint64_t)(p - k->in0);
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* Write n bytes, keeping what does not fit in the pending area. */
static void emit(mw__b64_state *st, cursor *k, const unsigned char *b, size_t n)
{
    size_t room = (size_t)(k->out_end - k->out), now = min_size(room, n);
    if (now) memcpy(k->out, b, now);
    k->out += now;
    if (now < n) {
        memcpy(st->pend, b + now, n - now);
        st->npend = (unsigned char)(n - now);
        st->pend_at = 0;
    }
}

/* Write pending bytes; returns 1 when some are still waiting for space. */
static int flush(mw__b64_state *st, cursor *k)
{
    if (!st->npend) return 0;
    size_t n = min_size((size_t)(k->out_end - k->out), (size_t)(st->npend - st->pend_at));
    if (n) memcpy(k->out, st->pend + st->pend_at, n);
    k->out += n;
    st->pend_at = (unsigned char)(st->pend_at + n);
    if (st->pend_at < st->npend) return 1;
    st->npend = st->pend_at = 0;
    return 0;
}

static void warn(mw_codec *c, mw__b64_state *st, unsigned bit, uint64_t off)
{
    c->warnings |= bit;
    if (!st->defect || off < c->error_offset) c->error_offset = off;
    st->defect = 1;
}

static int fail(mw_codec *c, mw__b64_state *st, int code, uint64_t off)
{
    c->error_offset = off;
    st->error = code;
    return code;
}

static int check_buffers(const mw_codec *c)
{
    return (c->avail_in && !c->next_in) || (c->avail_out && !c->next_out) ? MW_ERR_INVALID : MW_OK;
}

/* A NULL buffer with no space is allowed; the cursor then points at a
 * one-byte dummy so no arithmetic is done on NULL. */
static void cursor_open(cursor *k, const mw_codec *c, unsigned char *dummy)
{
    k->in = k->in0 = c->next_in ? c->next_in : dummy;
    k->in_end = k->in + c->avail_in;
    k->out = k->out0 = c->next_out ? c->next_out : dummy;
    k->out_end = k->out + c->avail_out;
    k->off0 = c->total_in;
}

static void cursor_close(const cursor *k, mw_codec *c)
{
    size_t used = (size_t)(k->in - k->in0), made = (size_t)(k->out - k->out0);
    if (used) c->next_in = k->in;
    c->avail_in -= used;
    c->total_in += used;
    if (made) c->next_out = k->out;
    c->avail_out -= made;
    c->total_out += made;
}

/* Zero the public fields and the base64 state. Two small memsets, not one
 * over the whole struct: compilers turn the large one into a string store
 * that later byte loads of the state cannot forward from, which costs more
 * than the decoding of a short message. The rest of state_ is unused. */
static void clear_codec(mw_codec *c)
{
    memset(c, 0, offsetof(mw_codec, state_));
    memset(B64_STATE(c), 0, sizeof(mw__b64_state));
}

/* ------------------------------------------------------------------ */
/* Encoder                                                             */
/* ------------------------------------------------------------------ */

int mw_b64_encode_init(mw_codec *c, unsigned flags)
{
    if (!c || (flags & ~(MW_B64_URL | MW_B64_NOPAD | MW_B64_WRAP))) return MW_ERR_INVALID;
    clear_codec(c);
    c->flags = flags;
    B64_STATE(c)->level = (unsigned char)mw__b64_level_best();
    return MW_OK;
}

/* Whole groups straight from input to output. Wrapped output goes by whole
 * lines first; a partial line is filled up to one group before its end, so
 * only the group that needs the CRLF takes the careful path. */
static void enc_bulk(mw__b64_state *st, cursor *k, int url, int wrap)
{
    const mw__b64_kernel *kern = &kernels[st->level];
    size_t nin = (size_t)(k->in_end - k->in), room = (size_t)(k->out_end - k->out), groups;
    if (wrap && st->col == 0) {
        size_t lines = min_size(nin / MW__B64_LINE_IN, room / MW__B64_LINE_OUT);
        kern->enc_lines(k->in, lines, k->out, url);
        k->in += lines * MW__B64_LINE_IN;
        k->out += lines * MW__B64_LINE_OUT;
        nin -= lines * MW__B64_LINE_IN;
        room -= lines * MW__B64_LINE_OUT;
    }
    groups = min_size(nin / 3, room / 4);
    if (wrap) {
        size_t left = (LINE_CHARS - (size_t)st->col) / 4; /* groups until the line is full */
        groups = min_size(groups, left ? left - 1 : 0);
        st->col += groups * 4;
    }
    size_t n = groups * 3, done = kern->enc(k->in, n, k->out, url);
    mw__b64_enc_scalar(k->in + done, n - done, k->out + done / 3 * 4, url);
    k->in += n;
    k->out += groups * 4;
}

/* The last 1 or 2 bytes with padding (RFC 4648 §4 cases 2 and 3), then the
 * CRLF that ends wrapped output. */
static void enc_final(mw_codec *c, mw__b64_state *st, cursor *k)
{
    unsigned char o[8];
    size_t n = 0;
    int url = (c->flags & MW_B64_URL) != 0;
    if (st->q) {
        uint32_t g = (uint32_t)st->carry[0] << 16 | (st->q > 1 ? (uint32_t)st->carry[1] << 8 : 0);
        memcpy(o, enc_pairs[url][g >> 12], 2);
        o[2] = enc_pairs[url][g & 0xFFF][0];
        n = st->q == 2 ? 3 : 2;
        if (!(c->flags & MW_B64_NOPAD))
            while (n < 4) o[n++] = '=';
        st->col += n;
        st->q = 0;
    }
    if ((c->flags & MW_B64_WRAP) && st->col) {
        o[n++] = '\r';
        o[n++] = '\n';
        st->col = 0;
    }
    emit(st, k, o, n);
    st->done = 1;
}

static void enc_run(mw_codec *c, mw__b64_state *st, cursor *k)
{
    int url = (c->flags & MW_B64_URL) != 0, wrap = (c->flags & MW_B64_WRAP) != 0;
    const unsigned char(*pairs)[2] = enc_pairs[url];
    for (;;) {
        if (flush(st, k)) return;
        if (st->q == 0) enc_bulk(st, k, url, wrap);
        size_t nin = (size_t)(k->in_end - k->in);
        if (st->q + nin < 3) break;
        /* One group by hand: it completes a carried group, or is the one
         * whose characters end a line, or output space ran short. */
        unsigned char g[3], o[6];
        size_t n = 4, take = 3u - st->q;
        memcpy(g, st->carry, st->q);
        memcpy(g + st->q, k->in, take);
        k->in += take;
        st->q = 0;
        uint32_t v = (uint32_t)g[0] << 16 | (uint32_t)g[1] << 8 | g[2];
        memcpy(o, pairs[v >> 12], 2);
        memcpy(o + 2, pairs[v & 0xFFF], 2);
        if (wrap && (st->col += 4) == LINE_CHARS) {
            o[4] = '\r';
            o[5] = '\n';
            n = 6;
            st->col = 0;
        }
        emit(st, k, o, n);
    }
    while (k->in < k->in_end) st->carry[st->q++] = *k->in++;
}

int mw_b64_encode_step(mw_codec *c, int finish)
{
    if (!c || check_buffers(c)) return MW_ERR_INVALID;
    mw__b64_state *st = B64_STATE(c);
    cursor k;
    unsigned char dummy[1];
    if (st->done && c->avail_in) return MW_ERR_INVALID;
    cursor_open(&k, c, dummy);
    if (!st->done) enc_run(c, st, &k);
    if (finish && !st->done && k.in == k.in_end && !flush(st, &k)) enc_final(c, st, &k);
    int waiting = flush(st, &k);
    cursor_close(&k, c);
    return st->done && !waiting ? MW_CODEC_DONE : MW_CODEC_MORE;
}

size_t mw_b64_encoded_len(size_t len, unsigned flags)
{
    size_t groups = len / 3, rem = len % 3, chars;
    if (groups > (SIZE_MAX - 4) / 4) return 0;
    chars = groups * 4 + (rem == 0 ? 0 : (flags & MW_B64_NOPAD) ? rem + 1 : 4);
    if (flags & MW_B64_WRAP) {
        size_t lines = chars / LINE_CHARS + (chars % LINE_CHARS != 0);
        if (lines > (SIZE_MAX - chars) / 2) return 0;
        chars += 2 * lines;
    }
    return chars;
}

/* One-shot encoding into space known to be large enough: the kernels take
 * everything but the last 1 or 2 bytes, with no stepper around them (for
 * short messages the stepper's bookkeeping costs as much as the coding).
 * Gives exactly the stepper's output (RFC 4648 §4; RFC 2045 §6.8 lines). */
static size_t encode_whole(const mw__b64_kernel *kern, const unsigned char *in, size_t len,
                           unsigned char *out, unsigned flags)
{
    int url = (flags & MW_B64_URL) != 0;
    unsigned char *o = out;
    if (len == 0) return 0;
    int short_line = 0; /* wrapping: a last line shorter than 76 characters */
    if (flags & MW_B64_WRAP) {
        size_t lines = len / MW__B64_LINE_IN;
        short_line = len % MW__B64_LINE_IN != 0;
        if (kern->enc_wrapped) {
            /* Everything but the last 1 or 2 bytes in one call. */
            size_t used = kern->enc_wrapped(in, len, o, url), rest = used - lines * MW__B64_LINE_IN;
            in += used;
            len -= used;
            o += lines * MW__B64_LINE_OUT + rest / 3 * 4;
        } else if (lines) {
            kern->enc_lines(in, lines, o, url);
            in += lines * MW__B64_LINE_IN;
            len -= lines * MW__B64_LINE_IN;
            o += lines * MW__B64_LINE_OUT;
        }
    }
    /* Fewer than 57 bytes are left when wrapping: one last short line. */
    size_t n = len / 3 * 3, done = n ? kern->enc(in, n, o, url) : 0;
    mw__b64_enc_scalar(in + done, n - done, o + done / 3 * 4, url);
    o += n / 3 * 4;
    if (len > n) {
        uint32_t g = (uint32_t)in[n] << 16 | (len - n > 1 ? (uint32_t)in[n + 1] << 8 : 0);
        const unsigned char(*pairs)[2] = enc_pairs[url];
        o[0] = pairs[g >> 12][0];
        o[1] = pairs[g >> 12][1];
        o[2] = pairs[g & 0xFFF][0];
        size_t chars = len - n == 2 ? 3 : 2;
        if (!(flags & MW_B64_NOPAD))
            while (chars < 4) o[chars++] = '=';
        o += chars;
    }
    if (short_line) {
        o[0] = '\r';
        o[1] = '\n';
        o += 2;
    }
    return (size_t)(o - out);
}

mw_ssize mw__b64_encode_level(int level, const void *in, size_t len, char *out, size_t cap,
                              unsigned flags)
{
    /* The checks of mw_b64_encode_init and mw__b64_codec_set_level, without
     * a codec to clear: for 4 KiB messages that costs a tenth of the call. */
    if ((!in && len) || (!out && cap)) return MW_ERR_INVALID;
    if (flags & ~(MW_B64_URL | MW_B64_NOPAD | MW_B64_WRAP)) return MW_ERR_INVALID;
    if (level < 0 || level >= MW__B64_LEVELS) return MW_ERR_INVALID;
    if (!mw__b64_level_supported(level)) return MW_ERR_UNSUPPORTED;
    size_t need = mw_b64_encoded_len(len, flags);
    if (need == 0 && len) return MW_ERR_INVALID;
    if (cap < need) return MW_ERR_BUFFER;
    return (mw_ssize)encode_whole(&kernels[level], in, len, (unsigned char *)out, flags);
}

mw_ssize mw_b64_encode(const void *in, size_t len, char *out, size_t cap, unsigned flags)
{
    return mw__b64_encode_level(mw__b64_level_best(), in, len, out, cap, flags);
}

/* ------------------------------------------------------------------ */
/* Decoder                                                             */
/* ------------------------------------------------------------------ */

int mw_b64_decode_init(mw_codec *c, unsigned flags)
{
    unsigned known = MW_B64_URL | MW_B64_NOPAD | MW_B64_MIME | MW_B64_SKIP_GARBAGE;
    if (!c || (flags & ~known)) return MW_ERR_INVALID;
    if ((flags & MW_B64_SKIP_GARBAGE) && !(flags & MW_B64_MIME)) return MW_ERR_INVALID;
    clear_codec(c);
    c->flags = flags;
    B64_STATE(c)->level = (unsigned char)mw__b64_level_best();
    return MW_OK;
}

int mw__b64_codec_set_level(mw_codec *c, int level)
{
    if (!c || level < 0 || level >= MW__B64_LEVELS) return MW_ERR_INVALID;
    if (!mw__b64_level_supported(level)) return MW_ERR_UNSUPPORTED;
    B64_STATE(c)->level = (unsigned char)level;
    return MW_OK;
}

/* A MIME line ended; eol is the offset of its CR (or bare LF). Lines longer
 * than 76 characters are reported at their 77th (RFC 2045 §6.8), and a
 * length the line kernel can take is remembered for the next lines. */
static void line_end(mw_codec *c, mw__b64_state *st, uint64_t eol)
{
    if (st->col > LINE_CHARS) warn(c, st, MW_CODEC_WARN_LONG_LINE, eol - st->col + LINE_CHARS);
    st->line_len = st->col >= 16 && st->col <= 96 && st->col % 4 == 0 ? (uint32_t)st->col : 0;
    st->col = 0;
}

/* Whole quads straight through the kernel. In MIME mode, lines of the
 * learned length go whole through the line kernel, and a CRLF met at a quad
 * boundary is stepped over here, so regular wrapped input never reaches the
 * careful path. */
static void dec_bulk(mw_codec *c, mw__b64_state *st, cursor *k, int url, int mime)
{
    const mw__b64_kernel *kern = &kernels[st->level];
    for (;;) {
        size_t nin = (size_t)(k->in_end - k->in), room = (size_t)(k->out_end - k->out);
        size_t len = mime && st->col == 0 ? st->line_len : 0;
        /* Before the first line end, try the RFC 2045 length: the line
         * kernel checks every line it takes, so a wrong guess costs nothing
         * and a right one lets the first line go through it too. */
        if (mime && st->col == 0 && !len && nin >= LINE_CHARS + 2 && k->in[LINE_CHARS] == '\r' &&
            k->in[LINE_CHARS + 1] == '\n')
            len = LINE_CHARS;
        if (len) {
            size_t used = kern->dec_lines(k->in, nin, k->out, room, len, url);
            if (used) {
                st->line_len = (uint32_t)len;
                if (len > LINE_CHARS) warn(c, st, MW_CODEC_WARN_LONG_LINE, offset_of(k, k->in) + LINE_CHARS);
                k->out += used / (len + 2) * (len / 4 * 3);
                k->in += used;
                nin -= used;
                room = (size_t)(k->out_end - k->out);
            }
        }
        size_t lim = room / 3 > nin / 4 ? nin : room / 3 * 4; /* no overflow for huge room */
        size_t n = kern->dec(k->in, lim, k->out, url);
        n += mw__b64_dec_scalar(k->in + n, lim - n, k->out + n / 4 * 3, url);
        k->in += n;
        k->out += n / 4 * 3;
        if (!mime) return;
        st->col += n;
        if (k->in_end - k->in < 2 || k->in[0] != '\r' || k->in[1] != '\n') return;
        line_end(c, st, offset_of(k, k->in));
        k->in += 2;
    }
}

static int bits_left(const mw__b64_state *st)
{
    return (int)(st->acc & (st->q == 2 ? 0xFu : 0x3u)); /* RFC 4648 §3.5 */
}

/* Output the 1 or 2 bytes of a quad closed early (by padding or the end). */
static void emit_partial(mw__b64_state *st, cursor *k)
{
    uint32_t v = st->acc << (6 * (4 - st->q));
    unsigned char b[2] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8)};
    emit(st, k, b, st->q - 1u);
}

/* '=' in the input (RFC 4648 §3.2, §4). */
static int dec_padding(mw_codec *c, mw__b64_state *st, cursor *k, uint64_t off, int mime)
{
    if (st->pad) { /* the second '=' after two characters */
        st->pad = 0;
        st->ended = 1;
        return MW_OK;
    }
    if (st->ended || st->q < 2) {
        if (!mime) return fail(c, st, MW_ERR_SYNTAX, off);
        /* Misplaced or extra '=': take it as the end of the data (RFC 2045
         * §6.8 says any '=' may be read that way). */
        warn(c, st, MW_CODEC_WARN_BAD_PADDING, off);
        if (!st->ended && st->q == 1) warn(c, st, MW_CODEC_WARN_TRAILING, st->last_data);
        st->ended = 1;
        st->q = 0;
        return MW_OK;
    }
    if (bits_left(st)) {
        if (!mime) return fail(c, st, MW_ERR_SYNTAX, st->last_data);
        warn(c, st, MW_CODEC_WARN_TRAILING, st->last_data);
    }
    emit_partial(st, k);
    if (st->q == 2)
        st->pad = 1;
    else
        st->ended = 1;
    st->q = 0;
    return MW_OK;
}

/* An alphabet character that is not part of the data any more. */
static int dec_after_end(mw_codec *c, mw__b64_state *st, uint64_t off, int mime)
{
    if (!mime) return fail(c, st, MW_ERR_SYNTAX, off);
    if (st->pad) warn(c, st, MW_CODEC_WARN_BAD_PADDING, off);
    warn(c, st, MW_CODEC_WARN_TRAILING, off);
    st->pad = 0;
    st->ended = 1;
    return MW_OK;
}

/* CR, LF, space, tab and other bytes outside the alphabet in MIME mode. */
static int dec_other(mw_codec *c, mw__b64_state *st, unsigned char ch, uint64_t off)
{
    if (ch == '\n') {
        if (!st->cr) warn(c, st, MW_CODEC_WARN_BARE_EOL, off);
        line_end(c, st, st->cr ? off - 1 : off);
        st->cr = 0;
        return MW_OK;
    }
    if (ch == '\r') {
        st->cr = 1;
        return MW_OK;
    }
    st->col++;
    if (ch == ' ' || ch == '\t' || (c->flags & MW_B64_SKIP_GARBAGE)) {
        warn(c, st, MW_CODEC_WARN_BAD_CHAR, off);
        return MW_OK;
    }
    return fail(c, st, MW_ERR_SYNTAX, off);
}

static int dec_run(mw_codec *c, mw__b64_state *st, cursor *k)
{
    int url = (c->flags & MW_B64_URL) != 0, mime = (c->flags & MW_B64_MIME) != 0, rc = MW_OK;
    const uint32_t *val = dec_tab[url][3];
    while (rc == MW_OK) {
        if (flush(st, k)) return MW_OK;
        if (st->q == 0 && !st->pad && !st->ended && !st->cr && k->in_end - k->in >= 4 &&
            val[k->in[0]] < 64)
            dec_bulk(c, st, k, url, mime);
        if (k->in == k->in_end) return MW_OK;
        /* The careful path: one byte. */
        unsigned char ch = *k->in;
        uint64_t off = offset_of(k, k->in);
        uint32_t v = val[ch];
        if (mime && st->cr && ch != '\n') { /* a CR not followed by LF */
            warn(c, st, MW_CODEC_WARN_BARE_EOL, off - 1);
            st->cr = 0;
            st->col++;
        }
        if (v < 64 || ch == '=') {
            st->col++;
            if (v >= 64)
                rc = dec_padding(c, st, k, off, mime);
            else if (st->ended || st->pad)
                rc = dec_after_end(c, st, off, mime);
            else {
                st->acc = st->acc << 6 | v;
                st->last_data = off;
                if (++st->q == 4) {
                    unsigned char b[3] = {(unsigned char)(st->acc >> 16), (unsigned char)(st->acc >> 8),
                                          (unsigned char)st->acc};
                    st->q = 0;
                    st->acc = 0;
                    emit(st, k, b, 3);
                }
            }
        } else if (mime) {
            rc = dec_other(c, st, ch, off);
        } else {
            rc = fail(c, st, MW_ERR_SYNTAX, off);
        }
        if (rc == MW_OK) k->in++;
    }
    return rc;
}

/* No more input: close an unfinished quad or padding. */
static int dec_final(mw_codec *c, mw__b64_state *st, cursor *k)
{
    int mime = (c->flags & MW_B64_MIME) != 0, nopad = (c->flags & MW_B64_NOPAD) != 0;
    uint64_t end = offset_of(k, k->in);
    if (mime && st->cr) {
        warn(c, st, MW_CODEC_WARN_BARE_EOL, end - 1);
        st->cr = 0;
        st->col++;
    }
    if (mime && st->col > LINE_CHARS) warn(c, st, MW_CODEC_WARN_LONG_LINE, end - st->col + LINE_CHARS);
    if (!st->ended) {
        if (st->pad || st->q == 1 || (st->q && !mime && !nopad)) {
            if (!mime) return fail(c, st, MW_ERR_TRUNCATED, end);
            warn(c, st, st->pad ? MW_CODEC_WARN_BAD_PADDING : MW_CODEC_WARN_TRAILING,
                 st->pad ? end : st->last_data);
        } else if (st->q) {
            if (bits_left(st)) {
                if (!mime) return fail(c, st, MW_ERR_SYNTAX, st->last_data);
                warn(c, st, MW_CODEC_WARN_TRAILING, st->last_data);
            }
            if (mime && !nopad) warn(c, st, MW_CODEC_WARN_BAD_PADDING, end);
            emit_partial(st, k);
        }
    }
    st->q = 0;
    st->pad = 0;
    st->ended = 1;
    st->done = 1;
    return MW_OK;
}

int mw_b64_decode_step(mw_codec *c, int finish)
{
    if (!c || check_buffers(c)) return MW_ERR_INVALID;
    mw__b64_state *st = B64_STATE(c);
    if (st->error) return st->error;
    if (st->done && c->avail_in) return MW_ERR_INVALID;
    cursor k;
    unsigned char dummy[1];
    cursor_open(&k, c, dummy);
    int rc = st->done ? MW_OK : dec_run(c, st, &k);
    if (rc == MW_OK && finish && !st->done && k.in == k.in_end && !flush(st, &k))
        rc = dec_final(c, st, &k);
    int waiting = flush(st, &k);
    cursor_close(&k, c);
    if (rc < 0) return rc;
    if (waiting || !st->done) return MW_CODEC_MORE;
    return MW_CODEC_DONE;
}

size_t mw_b64_decoded_max(size_t len) { return len / 4 * 3 + (len % 4) * 3 / 4; }

/* Strict one-shot decoding (RFC 4648 §4): whole quads through the kernels
 * with no stepper around them, then the last quad when it is complete,
 * padded or not, in canonical form (zero trailing bits). Returns len when
 * all was decoded (*made output bytes), else the characters done so far: a
 * multiple of 4 where the stepper takes over (a bad character, another
 * ending, no room), its state at a quad boundary being the fresh one. */
static size_t decode_whole(const mw__b64_kernel *kern, const unsigned char *in, size_t len,
                           unsigned char *out, size_t cap, unsigned flags, size_t *made)
{
    int url = (flags & MW_B64_URL) != 0;
    /* A padded last quad is left to the check below; without padding the
     * kernels try everything (whole blocks run faster than a masked tail). */
    size_t lim = in[len - 1] == '=' ? (len - 1) & ~(size_t)3 : len & ~(size_t)3;
    if (lim / 4 > cap / 3) lim = cap / 3 * 4;
    size_t n = 0;
    *made = 0;
    if (lim) {
        n = kern->dec(in, lim, out, url);
        n += mw__b64_dec_scalar(in + n, lim - n, out + n / 4 * 3, url);
        *made = n / 4 * 3;
    }
    if (n == len) return len;
    if (len - n != 4 || cap - *made < 3) return n;
    const uint32_t *val = dec_tab[url][3];
    const unsigned char *q = in + n;
    uint32_t a = val[q[0]], b = val[q[1]], c = val[q[2]], d = val[q[3]], g;
    size_t k;
    if ((a | b) >= 64) return n;
    g = a << 18 | b << 12;
    if ((c | d) < 64) {
        g |= c << 6 | d;
        k = 3;
    } else if (c < 64 && q[3] == '=' && !(c & 3)) {
        g |= c << 6;
        k = 2;
    } else if (q[2] == '=' && q[3] == '=' && !(b & 15)) {
        k = 1;
    } else {
        return n;
    }
    unsigned char *o = out + *made;
    o[0] = (unsigned char)(g >> 16);
    if (k > 1) o[1] = (unsigned char)(g >> 8);
    if (k > 2) o[2] = (unsigned char)g;
    *made += k;
    return len;
}

/* MIME one-shot decoding of the regular layout: lines of one length (16
 * to 76 characters, a multiple of 4, CRLF) through the line kernel, then a
 * last line of strict base64 (padding allowed) with or without its CRLF.
 * Such input gives the stepper no warning, so its result is the stepper's.
 * Returns len when all was decoded (*made output bytes), else the input
 * done so far, at a line start, where the stepper takes over in its fresh
 * state. */
static size_t decode_mime_whole(const mw__b64_kernel *kern, const unsigned char *in, size_t len,
                                unsigned char *out, size_t cap, unsigned flags, size_t *made)
{
    int url = (flags & MW_B64_URL) != 0;
    const unsigned char *cr = memchr(in, '\r', len < LINE_CHARS + 1 ? len : LINE_CHARS + 1);
    size_t line = cr ? (size_t)(cr - in) : 0, used = 0, m = 0;
    *made = 0;
    if (cr && line >= 16 && line % 4 == 0 && line + 1 < len && cr[1] == '\n') {
        used = kern->dec_lines(in, len, out, cap, line, url);
        *made = used / (line + 2) * (line / 4 * 3);
    }
    size_t rest = len - used;
    if (rest >= 2 && in[len - 2] == '\r' && in[len - 1] == '\n') rest -= 2;
    if (rest == 0) return len;
    /* A last line of strict base64, at most 76 characters (a CR or LF in
     * it fails the strict decoding). */
    if (rest > LINE_CHARS) return used;
    if (decode_whole(kern, in + used, rest, out + *made, cap - *made, flags & MW_B64_URL, &m) != rest)
        return used;
    *made += m;
    return len;
}

mw_ssize mw__b64_decode_level(int level, const char *in, size_t len, void *out, size_t cap,
                              unsigned flags, size_t *error_offset)
{
    mw_codec c;
    size_t made = 0, done = 0;
    unsigned known = MW_B64_URL | MW_B64_NOPAD | (flags & MW_B64_MIME ? MW_B64_MIME | MW_B64_SKIP_GARBAGE : 0);
    if (error_offset) *error_offset = len;
    if ((!in && len) || (!out && cap)) return MW_ERR_INVALID;
    if (len >= 4 && !(flags & ~known)) {
        /* The flag and level checks of the init functions, without a codec
         * to clear first: for 4 KiB messages that is a tenth of the call. */
        if (level < 0 || level >= MW__B64_LEVELS) return MW_ERR_INVALID;
        if (!mw__b64_level_supported(level)) return MW_ERR_UNSUPPORTED;
        const unsigned char *p = (const unsigned char *)in;
        if (flags & MW_B64_MIME)
            done = decode_mime_whole(&kernels[level], p, len, out, cap, flags, &made);
        else
            done = decode_whole(&kernels[level], p, len, out, cap, flags, &made);
        if (done == len) return (mw_ssize)made;
    }
    int rc = mw_b64_decode_init(&c, flags);
    if (rc == MW_OK) rc = mw__b64_codec_set_level(&c, level);
    if (rc != MW_OK) return rc;
    c.next_in = (const unsigned char *)in;
    c.avail_in = len;
    c.next_out = out;
    c.avail_out = cap;
    if (done) {
        /* The stepper goes on from a quad boundary, as if it had got there. */
        c.next_in += done;
        c.avail_in -= done;
        c.total_in = done;
        if (made) {
            c.next_out += made;
            c.avail_out -= made;
            c.total_out = made;
        }
    }
    rc = mw_b64_decode_step(&c, 1);
    if (error_offset && (rc < 0 || B64_STATE(&c)->defect)) *error_offset = (size_t)c.error_offset;
    if (rc < 0) return rc;
    if (rc != MW_CODEC_DONE) return MW_ERR_BUFFER;
    return (mw_ssize)c.total_out;
}

mw_ssize mw_b64_decode(const char *in, size_t len, void *out, size_t cap, unsigned flags,
                       size_t *error_offset)
{
    return mw__b64_decode_level(mw__b64_level_best(), in, len, out, cap, flags, error_offset);
}
