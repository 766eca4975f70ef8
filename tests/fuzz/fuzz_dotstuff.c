/*
 * libFuzzer target for SMTP dot-stuffing. The first byte picks a chunk
 * size; the rest is data. Checks, aborting on any violation:
 *  - stuff then unstuff gives the data back (completed with CRLF when it
 *    did not end with one), consuming exactly the stuffed bytes;
 *  - unstuffing raw data gives the same result, consumption and status
 *    whole and in pieces, and the output never outgrows the input.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/codec.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*init_fn)(mw_codec *c, unsigned flags);
typedef int (*step_fn)(mw_codec *c, int finish);

static int run(init_fn init, step_fn step, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
               size_t chunk, size_t *used_out, size_t *out_len)
{
    mw_codec c;
    if (init(&c, 0) != MW_OK) abort();
    size_t used = 0, made = 0;
    int rc, idle = 0;
    for (;;) {
        size_t ia = len - used < chunk ? len - used : chunk;
        size_t oa = cap - made < chunk ? cap - made : chunk;
        c.next_in = in + used;
        c.avail_in = ia;
        c.next_out = out + made;
        c.avail_out = oa;
        rc = step(&c, used + ia == len);
        used += ia - c.avail_in;
        made += oa - c.avail_out;
        if (rc < 0 || rc == MW_CODEC_DONE) break;
        idle = (ia - c.avail_in || oa - c.avail_out) ? 0 : idle + 1;
        if (idle > 3) abort();
    }
    if (c.total_in != used || c.total_out != made) abort();
    *used_out = used;
    *out_len = made;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    size_t chunk = 1 + (data[0] & 15);
    const uint8_t *in = data + 1;
    size_t len = size - 1, cap = 2 * len + 16;
    uint8_t *wire = malloc(cap), *w2 = malloc(cap), *back = malloc(cap), *b2 = malloc(cap);
    if (!wire || !w2 || !back || !b2) abort();
    size_t used, wl, wl2, bl, bl2, u2;

    if (run(mw_dotstuff_init, mw_dotstuff_step, in, len, wire, cap, cap, &used, &wl) != MW_CODEC_DONE)
        abort();
    if (run(mw_dotstuff_init, mw_dotstuff_step, in, len, w2, cap, chunk, &used, &wl2) != MW_CODEC_DONE ||
        wl != wl2 || memcmp(wire, w2, wl) != 0)
        abort();
    if (run(mw_dotunstuff_init, mw_dotunstuff_step, wire, wl, back, cap, chunk, &used, &bl) !=
            MW_CODEC_DONE ||
        used != wl)
        abort();
    int ended = len == 0 || (len >= 2 && in[len - 2] == '\r' && in[len - 1] == '\n');
    if (bl != (ended ? len : len + 2) || memcmp(back, in, len) != 0) abort();

    int ra = run(mw_dotunstuff_init, mw_dotunstuff_step, in, len, back, cap, cap, &used, &bl);
    int rb = run(mw_dotunstuff_init, mw_dotunstuff_step, in, len, b2, cap, chunk, &u2, &bl2);
    if (ra != rb || used != u2 || bl != bl2 || memcmp(back, b2, bl) != 0 || bl > used) abort();
    if (ra != MW_CODEC_DONE && ra != MW_ERR_TRUNCATED) abort();
    free(wire);
    free(w2);
    free(back);
    free(b2);
    return 0;
}
