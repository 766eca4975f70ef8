/*
 * The OAuth error result a server sends as its last challenge (RFC 7628
 * §3.2.2, Google's XOAUTH2): a JSON object (RFC 8259) whose interesting
 * members are strings. Parsed in place without recursion.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sasl/sasl_internal.h"

#include <string.h>

#define JSON_MAX_DEPTH 32

typedef struct json_in {
    char *s;
    size_t len, pos;
} json_in;

static void skip_ws(json_in *j)
{
    while (j->pos < j->len) {
        char c = j->s[j->pos];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
        j->pos++;
    }
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *w, unsigned cp)
{
    if (cp < 0x80) {
        w[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        w[0] = (char)(0xc0 | (cp >> 6));
        w[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        w[0] = (char)(0xe0 | (cp >> 12));
        w[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        w[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    w[0] = (char)(0xf0 | (cp >> 18));
    w[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    w[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    w[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decode the string at j->pos (which is on the opening quote) in place.
 * The decoded text never grows, so the write position trails the read. */
static int json_string(json_in *j, mw_slice *out)
{
    if (j->pos >= j->len || j->s[j->pos] != '"') return MW_ERR_SYNTAX;
    size_t r = ++j->pos, w = r;
    char *s = j->s;
    for (;;) {
        if (r >= j->len) return MW_ERR_SYNTAX;
        unsigned char c = (unsigned char)s[r];
        if (c == '"') break;
        if (c < 0x20) return MW_ERR_SYNTAX;
        if (c != '\\') {
            s[w++] = s[r++];
            continue;
        }
        if (r + 1 >= j->len) return MW_ERR_SYNTAX;
        char e = s[r + 1];
        r += 2;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(from, e) : NULL;
        if (hit) {
            s[w++] = to[hit - from];
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || j->len - r < 4 || !hex4(s + r, &cp)) return MW_ERR_SYNTAX;
        r += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff) return MW_ERR_SYNTAX;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (j->len - r < 6 || s[r] != '\\' || s[r + 1] != 'u' || !hex4(s + r + 2, &lo) ||
                lo < 0xdc00 || lo > 0xdfff)
                return MW_ERR_SYNTAX;
            r += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        w += put_utf8(s + w, cp);
    }
    out->base = s + j->pos;
    out->len = w - j->pos;
    j->pos = r + 1;
    if (!mw__sasl_utf8_valid(out->base, out->len)) return MW_ERR_SYNTAX;
    return MW_OK;
}

static int json_literal(json_in *j, const char *word)
{
    size_t n = strlen(word);
    if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0) return MW_ERR_SYNTAX;
    j->pos += n;
    return MW_OK;
}

static int json_number(json_in *j)
{
    size_t start = j->pos;
    while (j->pos < j->len) {
        char c = j->s[j->pos];
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
            break;
        j->pos++;
    }
    return j->pos > start ? MW_OK : MW_ERR_SYNTAX;
}

/* Skip any value; nested objects and arrays are walked with a depth
 * counter instead of recursion. Object keys are not checked for ':' order
 * beyond what is needed to stay in sync (the error JSON's nested members
 * carry nothing this module reads). */
static int json_skip(json_in *j)
{
    int depth = 0;
    do {
        skip_ws(j);
        if (j->pos >= j->len) return MW_ERR_SYNTAX;
        char c = j->s[j->pos];
        mw_slice ignored;
        int rc = MW_OK;
        if (c == '{' || c == '[') {
            if (++depth > JSON_MAX_DEPTH) return MW_ERR_SYNTAX;
            j->pos++;
            continue;
        }
        if (c == '}' || c == ']') {
            if (depth == 0) return MW_ERR_SYNTAX;
            depth--;
            j->pos++;
            continue;
        }
        if (c == ',' || c == ':') {
            if (depth == 0) return MW_ERR_SYNTAX;
            j->pos++;
            continue;
        }
        if (c == '"')
            rc = json_string(j, &ignored);
        else if (c == 't')
            rc = json_literal(j, "true");
        else if (c == 'f')
            rc = json_literal(j, "false");
        else if (c == 'n')
            rc = json_literal(j, "null");
        else
            rc = json_number(j);
        if (rc != MW_OK) return rc;
    } while (depth > 0);
    return MW_OK;
}

static void keep_member(const mw_slice *key, const mw_slice *val, mw_sasl_client_error *e)
{
    static const struct {
        const char *name;
        size_t off;
    } wanted[] = {
        {"status", offsetof(mw_sasl_client_error, status)},
        {"scope", offsetof(mw_sasl_client_error, scope)},
        {"openid-configuration", offsetof(mw_sasl_client_error, openid_configuration)},
        {"schemes", offsetof(mw_sasl_client_error, schemes)},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
        if (key->len == strlen(wanted[i].name) && memcmp(key->base, wanted[i].name, key->len) == 0)
            *(mw_slice *)(void *)((char *)e + wanted[i].off) = *val;
}

int mw__sasl_oauth_error_parse(char *json, size_t len, mw_sasl_client_error *e)
{
    json_in j = {json, len, 0};
    skip_ws(&j);
    if (j.pos >= j.len || j.s[j.pos] != '{') return MW_ERR_SYNTAX;
    j.pos++;
    skip_ws(&j);
    if (j.pos < j.len && j.s[j.pos] == '}') {
        j.pos++;
    } else {
        for (;;) {
            mw_slice key, val = {NULL, 0};
            skip_ws(&j);
            int rc = json_string(&j, &key);
            if (rc != MW_OK) return rc;
            skip_ws(&j);
            if (j.pos >= j.len || j.s[j.pos] != ':') return MW_ERR_SYNTAX;
            j.pos++;
            skip_ws(&j);
            if (j.pos < j.len && j.s[j.pos] == '"') {
                rc = json_string(&j, &val);
                if (rc == MW_OK) keep_member(&key, &val, e);
            } else {
                rc = json_skip(&j);
            }
            if (rc != MW_OK) return rc;
            skip_ws(&j);
            if (j.pos < j.len && j.s[j.pos] == ',') {
                j.pos++;
                continue;
            }
            if (j.pos < j.len && j.s[j.pos] == '}') {
                j.pos++;
                break;
            }
            return MW_ERR_SYNTAX;
        }
    }
    skip_ws(&j);
    return j.pos == j.len ? MW_OK : MW_ERR_SYNTAX;
}
