/*
 * compose: build a mail message from command-line style inputs with the
 * mailwire MIME builder. Shared by mw-mime (build) and mw-send.
 *
 * The library has no clock and no randomness: this file reads the time
 * (Date), /dev/urandom (Message-ID, boundaries) and the files named by the
 * caller, streaming every body in fixed-size blocks (constant memory
 * whatever the attachment sizes).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_EXAMPLES_COMPOSE_H
#define MW_EXAMPLES_COMPOSE_H

#include <stddef.h>

/* Result codes of mwc_compose, equal to the programs' exit codes. */
#define MWC_OK 0
#define MWC_BAD_INPUT 1 /* an address, date, id, type or file name is unusable */
#define MWC_IO 3        /* reading a file or writing the output failed */

/* One attachment: a file, its media type (NULL: guessed from the file name
 * extension, else application/octet-stream) and the name shown to the
 * recipient (NULL: the last path component). Always sent as base64 so it
 * comes back byte-exact. */
typedef struct mwc_attachment {
    const char *path;
    const char *type;
    const char *name;
} mwc_attachment;

/* What to compose. Strings are UTF-8 and NUL-terminated; NULL means absent. */
typedef struct mwc_message {
    const char *from;      /* address list (one or more mailboxes) */
    const char *const *to; /* address lists, joined */
    size_t nto;
    const char *const *cc;
    size_t ncc;
    const char *subject;    /* unstructured text: RFC 2047 when not ASCII */
    const char *date;       /* RFC 5322 date-time; NULL: now, local zone */
    const char *message_id; /* with or without <>; NULL: generated */
    const char *text_path;  /* text/plain body file, "-" for stdin */
    const char *html_path;  /* text/html body file (alternative to the text) */
    const mwc_attachment *attach;
    size_t nattach;
    const char *boundary;   /* boundary prefix (tests); NULL: random */
    unsigned builder_flags; /* MW_MIME_BUILD_* (SMTPUTF8, 8BIT for 8BITMIME) */
} mwc_message;

/* Output sink: write all len bytes; return 0, or -1 with errno set. */
typedef int (*mwc_sink)(void *ctx, const void *data, size_t len);

/*
 * Compose the message and hand it to sink in pieces of at most 64 KiB.
 * Structure: a text/plain part (empty when neither text nor html is given),
 * multipart/alternative when both text and html are given, wrapped in
 * multipart/mixed when there are attachments.
 * On failure, err receives a one-line English reason (without newline).
 * @return MWC_OK, MWC_BAD_INPUT or MWC_IO.
 */
int mwc_compose(const mwc_message *m, mwc_sink sink, void *ctx, char *err, size_t errcap);

/* Fill buf with n bytes from /dev/urandom. @return 0 or -1 (errno set). */
int mwc_random(void *buf, size_t n);

/* The current time as an RFC 5322 date in the local zone (needs 32 bytes).
 * @return 0 or -1. */
int mwc_date_now(char *out, size_t cap);

/* A new "<time.random@domain>" id; domain taken from the first mailbox of
 * from (or "localhost"). @return 0 or -1 (no randomness, bad domain). */
int mwc_msgid_new(const char *from, char *out, size_t cap);

/* Open path for reading ("-" is stdin) and make sure the descriptor can be
 * read again from the start: a pipe or terminal is copied into an unlinked
 * temporary file first. @return the descriptor, or -1 with errno set. */
int mwc_open_seekable(const char *path);

#endif
