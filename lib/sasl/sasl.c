/*
 * SASL pieces shared by the client and server engines: mechanism names and
 * strength order, the options object, context buffers and properties,
 * nonces and UTF-8 checks.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sasl/sasl_internal.h"

#include <mailwire/codec.h>

#include <string.h>

/* ---- mechanisms ----------------------------------------------------- */

static const char *const mech_names[] = {
    NULL,       "EXTERNAL",    "ANONYMOUS",     "PLAIN",
    "LOGIN",    "CRAM-MD5",    "XOAUTH2",       "OAUTHBEARER",
    "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS",
};
#define MECH_COUNT (int)(sizeof mech_names / sizeof mech_names[0])

/* Strongest first. EXTERNAL leads because a client only allows it when it
 * has set up a TLS client certificate on purpose. */
static const int mech_strength[] = {
    MW_SASL_MECH_EXTERNAL, MW_SASL_MECH_SCRAM_SHA_256_PLUS, MW_SASL_MECH_SCRAM_SHA_256,
    MW_SASL_MECH_OAUTHBEARER, MW_SASL_MECH_XOAUTH2, MW_SASL_MECH_CRAM_MD5,
    MW_SASL_MECH_PLAIN, MW_SASL_MECH_LOGIN, MW_SASL_MECH_ANONYMOUS,
};

int mw__sasl_ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'a' && x <= 'z') x = (unsigned char)(x - 32);
        if (y >= 'a' && y <= 'z') y = (unsigned char)(y - 32);
        if (x != y) return 0;
    }
    return 1;
}

MW_API const char *mw_sasl_mech_name(int mech)
{
    return mech > 0 && mech < MECH_COUNT ? mech_names[mech] : NULL;
}

MW_API int mw_sasl_mech_from_name(const char *name, size_t len)
{
    if (!name && len) return MW_ERR_INVALID;
    for (int i = 1; i < MECH_COUNT; i++)
        if (strlen(mech_names[i]) == len && mw__sasl_ieq(mech_names[i], name, len)) return i;
    return MW_ERR_UNSUPPORTED;
}

/* Mechanisms that reveal a reusable secret to anyone who can read the
 * channel (RFC 4616 §4, RFC 7628 §5): never chosen or offered in clear text
 * unless the caller says so. */
static int mech_needs_tls(int mech)
{
    return mech == MW_SASL_MECH_PLAIN || mech == MW_SASL_MECH_LOGIN ||
           mech == MW_SASL_MECH_XOAUTH2 || mech == MW_SASL_MECH_OAUTHBEARER;
}

static int mech_usable(int mech, unsigned mask, unsigned flags)
{
    if (!(mask & MW_SASL_BIT(mech))) return 0;
    int tls = (flags & MW_SASL_TLS_ACTIVE) != 0;
    if (mech == MW_SASL_MECH_SCRAM_SHA_256_PLUS && !tls) return 0;
    if (mech_needs_tls(mech) && !tls && !(flags & MW_SASL_ALLOW_PLAINTEXT)) return 0;
    return 1;
}

static int is_list_sep(char ch) { return ch == ' ' || ch == '\t' || ch == ','; }

MW_API int mw_sasl_choose(const char *server_list, size_t len, unsigned client_mask,
                          unsigned flags)
{
    if (!server_list && len) return MW_ERR_INVALID;
    unsigned offered = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && is_list_sep(server_list[i])) i++;
        size_t start = i;
        while (i < len && !is_list_sep(server_list[i])) i++;
        const char *name = server_list + start;
        size_t n = i - start;
        if (n > 5 && mw__sasl_ieq(name, "AUTH=", 5)) {
            name += 5;
            n -= 5;
        }
        int id = mw_sasl_mech_from_name(name, n);
        if (id > 0) offered |= MW_SASL_BIT(id);
    }
    for (size_t k = 0; k < sizeof mech_strength / sizeof mech_strength[0]; k++)
        if ((offered & MW_SASL_BIT(mech_strength[k])) &&
            mech_usable(mech_strength[k], client_mask, flags))
            return mech_strength[k];
    return MW_ERR_UNSUPPORTED;
}

MW_API mw_ssize mw_sasl_mechs_format(unsigned mask, unsigned flags, char *out, size_t cap)
{
    if (!out && cap) return MW_ERR_INVALID;
    size_t n = 0;
    for (size_t k = 0; k < sizeof mech_strength / sizeof mech_strength[0]; k++) {
        int id = mech_strength[k];
        if (!mech_usable(id, mask, flags)) continue;
        size_t l = strlen(mech_names[id]);
        if (n + (n ? 1 : 0) + l + 1 > cap) return MW_ERR_BUFFER;
        if (n) out[n++] = ' ';
        memcpy(out + n, mech_names[id], l);
        n += l;
    }
    if (cap == 0) return MW_ERR_BUFFER;
    out[n] = '\0';
    return (mw_ssize)n;
}

/* ---- options -------------------------------------------------------- */

static void options_defaults(mw_sasl_options *o, const mw_mem *mem)
{
    memset(o, 0, sizeof *o);
    mw__mem_resolve(&o->mem, mem);
    o->max_message = MW_SASL_DEFAULT_MAX_MESSAGE;
    o->min_iterations = MW_SASL_DEFAULT_MIN_ITERATIONS;
    o->max_iterations = MW_SASL_DEFAULT_MAX_ITERATIONS;
}

MW_API mw_sasl_options *mw_sasl_options_new(const mw_mem *mem)
{
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_sasl_options *o = mw__malloc(&m, sizeof *o);
    if (o) options_defaults(o, mem);
    return o;
}

MW_API void mw_sasl_options_free(mw_sasl_options *opts)
{
    if (!opts) return;
    mw_mem m = opts->mem;
    mw__free(&m, opts);
}

MW_API int mw_sasl_options_set_max_message(mw_sasl_options *opts, size_t max)
{
    if (!opts || max < 256) return MW_ERR_INVALID;
    opts->max_message = max;
    return MW_OK;
}

MW_API int mw_sasl_options_set_iterations(mw_sasl_options *opts, uint32_t min, uint32_t max)
{
    if (!opts || min == 0 || min > max) return MW_ERR_INVALID;
    opts->min_iterations = min;
    opts->max_iterations = max;
    return MW_OK;
}

MW_API int mw_sasl_options_set_random(mw_sasl_options *opts, mw_sasl_random_fn fn,
                                      void *user_data)
{
    if (!opts) return MW_ERR_INVALID;
    opts->random = fn;
    opts->random_ud = user_data;
    return MW_OK;
}

MW_API int mw_sasl_options_set_flags(mw_sasl_options *opts, unsigned flags)
{
    if (!opts || (flags & ~MW_SASL_OPT_SUCCESS_DATA)) return MW_ERR_INVALID;
    opts->flags = flags;
    return MW_OK;
}

/* ---- buffers -------------------------------------------------------- */

void mw__sasl_buf_free(const mw_mem *m, mw__sasl_buf *b)
{
    if (b->p) {
        mw__wipe(b->p, b->cap);
        mw__free(m, b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
}

void mw__sasl_buf_clear(mw__sasl_buf *b)
{
    if (b->p) mw__wipe(b->p, b->len);
    b->len = 0;
}

int mw__sasl_buf_grow(const mw_mem *m, mw__sasl_buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 4 - b->len) return MW_ERR_NOMEM;
    if (b->p && b->len + extra <= b->cap) return MW_OK;
    /* Grow by copying into fresh memory so the old block can be wiped
     * (realloc could leave a copy of a secret behind). */
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra) cap *= 2;
    unsigned char *p = mw__malloc(m, cap);
    if (!p) return MW_ERR_NOMEM;
    size_t keep = b->len;
    if (keep) memcpy(p, b->p, keep);
    mw__sasl_buf_free(m, b);
    b->p = p;
    b->len = keep;
    b->cap = cap;
    return MW_OK;
}

int mw__sasl_buf_add(const mw_mem *m, mw__sasl_buf *b, const void *data, size_t len)
{
    int rc = mw__sasl_buf_grow(m, b, len);
    if (rc != MW_OK) return rc;
    if (len) memcpy(b->p + b->len, data, len);
    b->len += len;
    return MW_OK;
}

int mw__sasl_buf_adds(const mw_mem *m, mw__sasl_buf *b, const char *s)
{
    return mw__sasl_buf_add(m, b, s, strlen(s));
}

int mw__sasl_buf_set(const mw_mem *m, mw__sasl_buf *b, const void *data, size_t len)
{
    mw__sasl_buf_clear(b);
    return mw__sasl_buf_add(m, b, data, len);
}

/* ---- context base --------------------------------------------------- */

int mw__sasl_base_init(mw__sasl_base *b, const mw_mem *mem, const char *mech,
                       const mw_sasl_options *opts)
{
    memset(b, 0, sizeof *b);
    mw__mem_resolve(&b->mem, mem);
    if (opts) {
        b->opt = *opts;
        b->opt.mem = b->mem;
    } else {
        options_defaults(&b->opt, mem);
    }
    int id = mw_sasl_mech_from_name(mech, strlen(mech));
    if (id < 0) return id;
    b->mech = id;
    b->state = MW__SASL_NEW;
    return MW_OK;
}

void mw__sasl_base_free(mw__sasl_base *b)
{
    for (int i = 0; i < MW__SASL_NPROPS; i++) mw__sasl_buf_free(&b->mem, &b->prop[i]);
    mw__sasl_buf_free(&b->mem, &b->out);
}

int mw__sasl_base_set(mw__sasl_base *b, int prop, const void *value, size_t len)
{
    if (prop <= 0 || prop >= MW__SASL_NPROPS || (!value && len)) return MW_ERR_INVALID;
    if (b->state != MW__SASL_NEW) return MW_ERR_STATE;
    if (len > b->opt.max_message) return MW_ERR_LIMIT;
    if (prop != MW_SASL_PROP_CB_DATA && mw__sasl_has_byte(value, len, 0)) return MW_ERR_SYNTAX;
    mw__sasl_buf *dst = &b->prop[prop];
    int rc = mw__sasl_buf_set(&b->mem, dst, value, len);
    if (rc == MW_OK && !dst->p) rc = mw__sasl_buf_add(&b->mem, dst, "", 0);
    return rc;
}

int mw__sasl_base_check(const mw__sasl_base *b, int want_state)
{
    if (b->fatal) return b->fatal;
    if (b->state != want_state) return MW_ERR_STATE;
    return MW_OK;
}

int mw__sasl_base_result(mw__sasl_base *b, int rc)
{
    if (rc < 0 && rc != MW_ERR_INVALID && rc != MW_ERR_STATE) {
        b->state = MW__SASL_FAILED;
        if (mw_is_fatal(rc)) b->fatal = rc;
        mw__sasl_buf_clear(&b->out);
    }
    return rc;
}

int mw__sasl_base_emit(mw__sasl_base *b, mw_slice *out, int status)
{
    if (b->out.len > b->opt.max_message) return MW_ERR_LIMIT;
    /* A zero-length output still gets a non-NULL base: NULL is reserved for
     * "no initial response". */
    out->base = b->out.p ? (const char *)b->out.p : "";
    out->len = b->out.len;
    return status;
}

int mw__sasl_random(const mw__sasl_base *b, void *buf, size_t len)
{
    if (!b->opt.random || b->opt.random(buf, len, b->opt.random_ud) != 0)
        return MW_ERR_UNSUPPORTED;
    return MW_OK;
}

int mw__sasl_nonce(const mw__sasl_base *b, mw__sasl_buf *out)
{
    const mw__sasl_buf *fixed = &b->prop[MW_SASL_PROP_NONCE];
    if (fixed->p) return mw__sasl_buf_set(&b->mem, out, fixed->p, fixed->len);
    unsigned char raw[18]; /* 144 bits, 24 base64 characters */
    int rc = mw__sasl_random(b, raw, sizeof raw);
    if (rc == MW_OK) {
        mw__sasl_buf_clear(out);
        rc = mw__sasl_b64_add(&b->mem, out, raw, sizeof raw);
    }
    mw__wipe(raw, sizeof raw);
    return rc;
}

/* ---- text checks ---------------------------------------------------- */

int mw__sasl_has_byte(const void *p, size_t len, int byte)
{
    return len && memchr(p, byte, len) != NULL;
}

/* Length of the UTF-8 sequence at s (RFC 3629 §4), or 0 when malformed. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else
        return 0;
    if (left < n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

int mw__sasl_utf8_valid(const void *p, size_t len)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(s + i, len - i);
        if (!n) return 0;
        i += n;
    }
    return 1;
}

size_t mw__sasl_utf8_count(const void *p, size_t len)
{
    const unsigned char *s = p;
    size_t count = 0;
    for (size_t i = 0; i < len; i++) count += (s[i] & 0xc0) != 0x80;
    return count;
}

int mw__sasl_oauth_value_ok(const void *p, size_t len)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = s[i];
        if (!(ch >= 0x20 && ch <= 0x7e) && ch != '\t' && ch != '\r' && ch != '\n' && ch < 0x80)
            return 0;
    }
    return mw__sasl_utf8_valid(p, len);
}

/* ---- base64 (the codec module does the work) ------------------------ */

int mw__sasl_b64_add(const mw_mem *m, mw__sasl_buf *b, const void *data, size_t len)
{
    size_t need = mw_b64_encoded_len(len, 0);
    int rc = mw__sasl_buf_grow(m, b, need);
    if (rc != MW_OK) return rc;
    mw_ssize w = mw_b64_encode(data, len, (char *)b->p + b->len, need, 0);
    if (w < 0) return MW_ERR_NOMEM;
    b->len += (size_t)w;
    return MW_OK;
}

int mw__sasl_b64_set(const mw_mem *m, mw__sasl_buf *b, const char *in, size_t len)
{
    size_t need = mw_b64_decoded_max(len);
    mw__sasl_buf_clear(b);
    int rc = mw__sasl_buf_grow(m, b, need);
    if (rc != MW_OK) return rc;
    mw_ssize w = mw_b64_decode(in, len, b->p, b->cap, 0, NULL);
    if (w < 0) return MW_ERR_SYNTAX;
    b->len = (size_t)w;
    return MW_OK;
}
