/*
 * SMTP server options: a plain struct behind setters, copied whole into
 * every session so the caller may free or change it afterwards.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_internal.h"

#define DEFAULT_EXT                                                                          \
    (MW_SMTP_EXT_PIPELINING | MW_SMTP_EXT_SIZE | MW_SMTP_EXT_8BITMIME | MW_SMTP_EXT_SMTPUTF8 |  \
     MW_SMTP_EXT_CHUNKING | MW_SMTP_EXT_BINARYMIME | MW_SMTP_EXT_ENHANCEDSTATUSCODES |          \
     MW_SMTP_EXT_DSN | MW_SMTP_EXT_STARTTLS | MW_SMTP_EXT_AUTH)
#define ALL_FLAGS 0x7fu
#define ALL_QUIRKS 0x3u

mw_smtp_server_opts *mw_smtp_server_opts_new(const mw_mem *mem)
{
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_smtp_server_opts *o = mw__calloc(&m, 1, sizeof *o);
    if (!o) return NULL;
    o->mem = m;
    o->ext = DEFAULT_EXT;
    o->max_rcpt = 1000;
    o->max_cmd = 512;    /* RFC 5321 §4.5.3.1.4 */
    o->max_text = 1000;  /* §4.5.3.1.6 */
    o->max_auth = 12288; /* RFC 4954 §4 */
    o->max_bad = 20;
    o->inbuf_size = 64u * 1024u;
    memcpy(o->hostname, "localhost", sizeof "localhost");
    return o;
}

void mw_smtp_server_opts_free(mw_smtp_server_opts *o)
{
    if (!o) return;
    mw_mem m = o->mem;
    mw__free(&m, o);
}

/* Our name for EHLO and the greeting: 1..MW__SMTP_HOST_MAX printable
 * ASCII octets, no space (RFC 5321 §4.1.1.1: a domain or address literal). */
int mw__smtp_copy_hostname(char *dst, const char *name)
{
    if (!name) return MW_ERR_INVALID;
    size_t n = strlen(name);
    if (n == 0 || n > MW__SMTP_HOST_MAX) return MW_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 32 || c >= 127) return MW_ERR_INVALID;
    }
    memcpy(dst, name, n + 1);
    return MW_OK;
}

int mw_smtp_server_opts_set_hostname(mw_smtp_server_opts *o, const char *name)
{
    return o ? mw__smtp_copy_hostname(o->hostname, name) : MW_ERR_INVALID;
}

int mw_smtp_server_opts_set_extensions(mw_smtp_server_opts *o, unsigned ext, int on)
{
    return o ? mw__set_bits(&o->ext, ext, MW_SMTP_EXT_ALL, on) : MW_ERR_INVALID;
}

int mw_smtp_server_opts_set_flags(mw_smtp_server_opts *o, unsigned flags, int on)
{
    return o ? mw__set_bits(&o->flags, flags, ALL_FLAGS, on) : MW_ERR_INVALID;
}

int mw_smtp_server_opts_set_quirks(mw_smtp_server_opts *o, unsigned quirks, int on)
{
    return o ? mw__set_bits(&o->quirks, quirks, ALL_QUIRKS, on) : MW_ERR_INVALID;
}

int mw_smtp_server_opts_set_max_message_size(mw_smtp_server_opts *o, uint64_t max)
{
    if (!o) return MW_ERR_INVALID;
    o->max_size = max;
    return MW_OK;
}

int mw_smtp_server_opts_set_max_recipients(mw_smtp_server_opts *o, size_t max)
{
    return o ? mw__set_size(&o->max_rcpt, max, 1, 100000) : MW_ERR_INVALID;
}

int mw_smtp_server_opts_set_max_line(mw_smtp_server_opts *o, size_t command, size_t text,
                                     size_t auth)
{
    if (!o || command < 512 || command > 65536 || text < 1000 || auth < 512 || auth > 65536)
        return MW_ERR_INVALID;
    o->max_cmd = command;
    o->max_text = text;
    o->max_auth = auth;
    return MW_OK;
}

int mw_smtp_server_opts_set_max_bad_commands(mw_smtp_server_opts *o, unsigned max)
{
    if (!o || max < 1 || max > 100000) return MW_ERR_INVALID;
    o->max_bad = max;
    return MW_OK;
}

int mw_smtp_server_opts_set_input_buffer(mw_smtp_server_opts *o, size_t size)
{
    return o ? mw__set_size(&o->inbuf_size, size, MW__INBUF_MIN, MW__INBUF_MAX) : MW_ERR_INVALID;
}

int mw_smtp_server_opts_set_auth_mechanisms(mw_smtp_server_opts *o, const char *list)
{
    if (!o) return MW_ERR_INVALID;
    return mw__word_list_copy(o->auth_mechs, sizeof o->auth_mechs, list, 20,
                              MW__WORDS_UNDERSCORE); /* RFC 4422 §3.1: 1..20 chars */
}

int mw_smtp_server_opts_declare_params(mw_smtp_server_opts *o, int rcpt, const char *names,
                                       const char *ehlo_line)
{
    if (!o) return MW_ERR_INVALID;
    char tmp[MW__SMTP_LIST_MAX + 1];
    int rc = mw__word_list_copy(tmp, sizeof tmp, names, MW__SMTP_LIST_MAX, 0);
    if (rc) return rc;
    if (ehlo_line) {
        size_t n = strlen(ehlo_line);
        if (n == 0 || n > MW__SMTP_LIST_MAX) return MW_ERR_INVALID;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)ehlo_line[i];
            if (c < 32 || c >= 127) return MW_ERR_INVALID;
        }
        memcpy(o->ehlo_extra, ehlo_line, n + 1);
    }
    memcpy(rcpt ? o->rcpt_params : o->mail_params, tmp, sizeof tmp);
    return MW_OK;
}
