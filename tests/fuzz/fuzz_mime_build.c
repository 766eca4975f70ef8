/*
 * Builder surfaces fed from fuzz input, each checked by reading the output
 * back with our own parsers:
 *   - mw_mime_builder_header_addrs: the field parses (mw_addr_list_parse)
 *     into the same mailboxes, the display name unchanged when it has no
 *     runs of white space; lines are CRLF and at most 998;
 *   - mw_mime_dsn_format: no line can be forged (every line is a known
 *     field, a continuation or a block separator), size query = output.
 * Input: selector byte, then NUL-separated display, local, domain,
 * diagnostic text.
 *
 * SPDX-License-Identifier: MIT
 */
#include <mailwire/mime.h>
#include <mailwire/rfc5322.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t take(const uint8_t **d, size_t *n, char *out, size_t cap)
{
    size_t k = 0;
    while (*n && **d != 0 && k + 1 < cap) {
        out[k++] = (char)**d;
        (*d)++;
        (*n)--;
    }
    if (*n) {
        (*d)++;
        (*n)--;
    }
    out[k] = '\0';
    return k;
}

static void check_lines(const char *p, size_t n)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') abort();
        if (p[i] == '\r') {
            if (i + 1 >= n || p[i + 1] != '\n') abort();
            i++;
            col = 0;
            continue;
        }
        if (++col > 998) abort();
    }
}

static void fuzz_addrs(unsigned sel, const char *disp, const char *local, const char *domain)
{
    char addr[600];
    size_t ll = strlen(local), dl = strlen(domain);
    memcpy(addr, local, ll);
    addr[ll] = '@';
    memcpy(addr + ll + 1, domain, dl + 1);
    mw_mime_mailbox mb[2] = {{disp, addr}, {"Second", "second@example.org"}};
    unsigned flags = (sel & 2) ? MW_MIME_BUILD_SMTPUTF8 : 0u;
    mw_mime_builder *b = mw_mime_builder_new(NULL, flags, 0);
    if (!b) return;
    size_t n = (sel & 4) ? 2 : 1;
    int rc = mw_mime_builder_header_addrs(b, "To", mb, n);
    if (rc != MW_OK) {
        if (rc != MW_ERR_INVALID && rc != MW_ERR_SYNTAX && rc != MW_ERR_LINE_TOO_LONG) abort();
        size_t len;
        if (mw_mime_builder_out_buf(b, &len) && len) abort(); /* nothing written on error */
        mw_mime_builder_free(b);
        return;
    }
    size_t len;
    const unsigned char *o = mw_mime_builder_out_buf(b, &len);
    if (!o || len < 6 || memcmp(o, "To:", 3) != 0) abort();
    check_lines((const char *)o, len);
    /* unfold the value (a single field: every CRLF but the last is a fold) */
    char *v = malloc(len);
    size_t vl = 0;
    for (size_t i = 3; i + 2 < len; i++)
        if (o[i] != '\r' && o[i] != '\n') v[vl++] = (char)o[i];
    mw_addr_list al;
    if (mw_addr_list_parse(v, vl, NULL, NULL, &al) != MW_OK || al.count != n) abort();
    const mw_addr *a = &al.items[0];
    if (a->kind != MW_ADDR_MAILBOX) abort();
    /* the API splits addr at its last '@' */
    const char *at = strrchr(addr, '@');
    ll = (size_t)(at - addr);
    dl = strlen(at + 1);
    if (a->local.len != ll || memcmp(a->local.base, addr, ll) != 0) abort();
    if (a->domain.len != dl || memcmp(a->domain.base, at + 1, dl) != 0) abort();
    size_t nd = strlen(disp);
    int plain_ws = 1;
    for (size_t i = 0; i < nd; i++)
        if (disp[i] == '\t' || (disp[i] == ' ' && (i == 0 || i + 1 == nd || disp[i + 1] == ' ')))
            plain_ws = 0;
    if (plain_ws && (a->display.len != nd || memcmp(a->display.base, disp, nd) != 0)) abort();
    mw_addr_list_free(&al);
    free(v);
    mw_mime_builder_free(b);
}

static int known_line(const char *s, size_t n)
{
    static const char *const names[] = {"Reporting-MTA: ", "Final-Recipient: ", "Action: ",
                                        "Status: ",        "Diagnostic-Code: ", "Remote-MTA: "};
    if (n == 0 || s[0] == ' ' || s[0] == '\t') return 1;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (n >= strlen(names[i]) && memcmp(s, names[i], strlen(names[i])) == 0) return 1;
    return 0;
}

static void fuzz_dsn(const char *diag, const char *rcpt, const char *mta)
{
    mw_mime_dsn_rcpt r = {rcpt, NULL, NULL, "failed", "5.1.1", mta, NULL, diag, NULL, NULL};
    mw_mime_dsn d = {"mx.example.org", NULL, NULL, NULL, &r, 1};
    mw_ssize need = mw_mime_dsn_format(&d, NULL, 0);
    if (need < 0) {
        if (need != MW_ERR_INVALID && need != MW_ERR_SYNTAX && need != MW_ERR_LINE_TOO_LONG)
            abort();
        return;
    }
    char *out = malloc((size_t)need + 1);
    if (mw_mime_dsn_format(&d, out, (size_t)need) != need) abort();
    if (need > 0 && mw_mime_dsn_format(&d, out, (size_t)need - 1) != MW_ERR_BUFFER) abort();
    mw_mime_dsn_format(&d, out, (size_t)need);
    check_lines(out, (size_t)need);
    size_t ls = 0;
    for (size_t i = 0; i + 1 < (size_t)need; i++)
        if (out[i] == '\r') {
            if (!known_line(out + ls, i - ls)) abort();
            ls = i + 2;
        }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0];
    data++;
    size--;
    char disp[512], local[256], domain[256], diag[1200];
    take(&data, &size, disp, sizeof disp);
    take(&data, &size, local, sizeof local);
    take(&data, &size, domain, sizeof domain);
    take(&data, &size, diag, sizeof diag);
    if (sel & 1)
        fuzz_dsn(diag, local, domain[0] ? domain : NULL);
    else
        fuzz_addrs(sel, disp, local, domain);
    return 0;
}
