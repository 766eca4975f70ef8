/*
 * RFC 3464 delivery status fields: the body of a message/delivery-status
 * part, per-message block then one block per recipient. Written in one
 * pass that only counts when there is no output buffer, so the size query
 * and the real write cannot disagree.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mime/mime_internal.h"

#define FOLD_AT 78       /* RFC 5322 §2.1.1 SHOULD */
#define LINE_MAX_LEN 998 /* RFC 5322 §2.1.1 MUST */

typedef struct dsn_out {
    char *p; /* NULL: count only */
    size_t cap, len;
    int err; /* first error */
} dsn_out;

static void emit(dsn_out *o, const char *s, size_t n)
{
    if (o->p && !o->err) {
        if (n > o->cap - o->len) {
            o->err = MW_ERR_BUFFER;
            return;
        }
        memcpy(o->p + o->len, s, n);
    }
    o->len += n;
}

static void emits(dsn_out *o, const char *s)
{
    emit(o, s, strlen(s));
}

/* Field values: printable ASCII and TAB only (RFC 3464 fields are ASCII;
 * CR, LF and NUL would inject lines: MW_ERR_INVALID like every builder). */
static int check_text(const char *s, int required)
{
    if (!s) return required ? MW_ERR_INVALID : MW_OK;
    if (required && !*s) return MW_ERR_INVALID;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r' || c == '\n') return MW_ERR_INVALID;
        if ((c < 0x20 && c != '\t') || c >= 0x7f) return MW_ERR_SYNTAX;
    }
    return MW_OK;
}

/* An atom for the type part of "type; value" (RFC 3464 §2.1.2). */
static int check_type(const char *s)
{
    if (!s) return MW_OK;
    if (!*s) return MW_ERR_INVALID;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r' || c == '\n') return MW_ERR_INVALID;
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\".[]", c)) return MW_ERR_SYNTAX;
    }
    return MW_OK;
}

/* RFC 3464 §2.3.3 action-value. */
static int check_action(const char *a)
{
    static const char *const ok[] = {"failed", "delayed", "delivered", "relayed", "expanded"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        const char *x = ok[i], *y = a;
        while (*x && (*y | 0x20) == *x)
            x++, y++;
        if (!*x && !*y) return MW_OK;
    }
    return MW_ERR_SYNTAX;
}

/* RFC 3464 §2.3.4 / RFC 3463 §2: class "." subject "." detail, 1-3 digits. */
static int check_status(const char *s)
{
    if (*s != '2' && *s != '4' && *s != '5') return MW_ERR_SYNTAX;
    s++;
    for (int part = 0; part < 2; part++) {
        if (*s++ != '.') return MW_ERR_SYNTAX;
        int n = 0;
        while (*s >= '0' && *s <= '9' && n < 4)
            s++, n++;
        if (n < 1 || n > 3) return MW_ERR_SYNTAX;
    }
    return *s ? MW_ERR_SYNTAX : MW_OK;
}

/* "Name: [type; ]value" CRLF, folded before white space so lines stay
 * under 78 columns where the value has fold points; a word that cannot
 * fit 998 columns is an error. */
static void field(dsn_out *o, const char *name, const char *type, const char *v)
{
    if (!v || o->err) return;
    size_t col = strlen(name) + 2;
    emits(o, name);
    emit(o, ": ", 2);
    if (type) {
        emits(o, type);
        emit(o, "; ", 2);
        col += strlen(type) + 2;
    }
    size_t n = strlen(v), i = 0;
    while (i < n) {
        size_t ws = i;
        while (ws < n && (v[ws] == ' ' || v[ws] == '\t'))
            ws++;
        size_t we = ws;
        while (we < n && v[we] != ' ' && v[we] != '\t')
            we++;
        size_t unit = we - i;
        if (ws > i && col + unit > FOLD_AT && col > 1) {
            emit(o, "\r\n", 2); /* the white space starts the continuation line */
            col = 0;
        }
        if (col + unit > LINE_MAX_LEN) {
            if (!o->err) o->err = MW_ERR_LINE_TOO_LONG;
            return;
        }
        emit(o, v + i, unit);
        col += unit;
        i = we;
    }
    emit(o, "\r\n", 2);
}

static int check_rcpt(const mw_mime_dsn_rcpt *r)
{
    int rc;
    if ((rc = check_text(r->final_recipient, 1)) || (rc = check_text(r->original_recipient, 0)) ||
        (rc = check_type(r->address_type)) || (rc = check_text(r->action, 1)) ||
        (rc = check_text(r->status, 1)) || (rc = check_text(r->remote_mta, 0)) ||
        (rc = check_type(r->diagnostic_type)) || (rc = check_text(r->diagnostic_code, 0)) ||
        (rc = check_text(r->last_attempt_date, 0)) || (rc = check_text(r->will_retry_until, 0)))
        return rc;
    if ((rc = check_action(r->action))) return rc;
    return check_status(r->status);
}

static int check_dsn(const mw_mime_dsn *d)
{
    if (!d || !d->rcpts || d->nrcpts == 0) return MW_ERR_INVALID;
    int rc;
    if ((rc = check_text(d->reporting_mta, 1)) || (rc = check_text(d->original_envelope_id, 0)) ||
        (rc = check_text(d->received_from_mta, 0)) || (rc = check_text(d->arrival_date, 0)))
        return rc;
    for (size_t i = 0; i < d->nrcpts; i++)
        if ((rc = check_rcpt(&d->rcpts[i]))) return rc;
    return MW_OK;
}

MW_API mw_ssize mw_mime_dsn_format(const mw_mime_dsn *dsn, char *out, size_t cap)
{
    if (!out && cap) return MW_ERR_INVALID;
    int rc = check_dsn(dsn);
    if (rc) return rc;
    dsn_out o = {out, cap, 0, 0};
    /* RFC 3464 §2.2: per-message fields, in the order of the grammar. */
    field(&o, "Original-Envelope-Id", NULL, dsn->original_envelope_id);
    field(&o, "Reporting-MTA", "dns", dsn->reporting_mta);
    field(&o, "Received-From-MTA", "dns", dsn->received_from_mta);
    field(&o, "Arrival-Date", NULL, dsn->arrival_date);
    for (size_t i = 0; i < dsn->nrcpts; i++) {
        const mw_mime_dsn_rcpt *r = &dsn->rcpts[i];
        const char *at = r->address_type ? r->address_type : "rfc822";
        emit(&o, "\r\n", 2); /* §2.1: blocks are separated by an empty line */
        field(&o, "Original-Recipient", at, r->original_recipient);
        field(&o, "Final-Recipient", at, r->final_recipient);
        field(&o, "Action", NULL, r->action);
        field(&o, "Status", NULL, r->status);
        field(&o, "Remote-MTA", "dns", r->remote_mta);
        field(&o, "Diagnostic-Code", r->diagnostic_type ? r->diagnostic_type : "smtp",
              r->diagnostic_code);
        field(&o, "Last-Attempt-Date", NULL, r->last_attempt_date);
        field(&o, "Will-Retry-Until", NULL, r->will_retry_until);
    }
    if (o.err) return o.err;
    if (o.len > (size_t)PTRDIFF_MAX) return MW_ERR_LIMIT;
    return (mw_ssize)o.len;
}
