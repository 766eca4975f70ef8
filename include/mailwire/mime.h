/*
 * mailwire — streaming MIME parser (RFC 2045, 2046, 2231, 2183, 6532).
 *
 * The parser follows the engine shape of the protocol engines: the caller
 * puts bytes in (mw_mime_feed, or the zero-copy mw_mime_recv_buf /
 * mw_mime_recv_ack pair), says when the input is over (mw_mime_eof) and
 * pulls events with mw_mime_next. Memory is bounded by the configured input
 * buffer and header limits, whatever the size of the message: bodies are
 * handed out as views into the input buffer, never collected.
 *
 * Event order for one entity (the root message or a body part):
 *   HEADER*  PART_BEGIN  body  PART_END
 * where body is BODY* for a leaf, PREAMBLE* (child entity)* EPILOGUE* for a
 * multipart, and one child entity for message/rfc822 and message/global.
 * DEFECT events may appear anywhere; MESSAGE_END comes last.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_MIME_H
#define MAILWIRE_MIME_H

#include <mailwire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* options                                                             */
/* ------------------------------------------------------------------ */

/** Parser options: an opaque object with setters, copied by mw_mime_parser_new. */
typedef struct mw_mime_options mw_mime_options;

/** Limits settable with mw_mime_options_set_limit (default in brackets). */
typedef enum mw_mime_limit {
    /** input buffer bytes [256 KiB]; raised to fit HEADER_BYTES + 2 * LINE */
    MW_MIME_LIMIT_BUFFER = 1,
    MW_MIME_LIMIT_DEPTH = 2,         /**< nesting depth of multiparts and messages [100] */
    MW_MIME_LIMIT_PARTS = 3,         /**< entities per message, root included [10000] */
    MW_MIME_LIMIT_HEADER_BYTES = 4,  /**< header block bytes per entity [65536] */
    MW_MIME_LIMIT_HEADER_FIELDS = 5, /**< header fields per entity [1000] */
    MW_MIME_LIMIT_PARAMS = 6,        /**< parameters per Content-Type / Content-Disposition [64] */
    MW_MIME_LIMIT_SEGMENTS = 7,      /**< RFC 2231 continuation segments per parameter [128] */
    /** longest line examined as a boundary delimiter; longer header lines are a defect [998] */
    MW_MIME_LIMIT_LINE = 8
} mw_mime_limit;

/** Parser flags (mw_mime_options_set_flags). */
/** BODY data of leaves is decoded by Content-Transfer-Encoding (quoted-printable, base64) */
#define MW_MIME_DECODE 0x1u
/** BODY data of text/... leaves is converted from its charset to UTF-8 (encoded bodies only
 *  together with MW_MIME_DECODE); malformed bytes become U+FFFD */
#define MW_MIME_UTF8 0x2u

/**
 * Create an options object holding the defaults.
 * @param mem allocator hooks (NULL = libc); the object is freed with them.
 * @return the object, or NULL when the allocation failed.
 */
MW_API mw_mime_options *mw_mime_options_new(const mw_mem *mem);

/** Free an options object (NULL is a no-op). */
MW_API void mw_mime_options_free(mw_mime_options *opt);

/**
 * Set one limit.
 * @param which a mw_mime_limit value.
 * @param value the new limit, at least 1 (BUFFER: at least 4096; LINE: at least 78).
 * @return MW_OK, or MW_ERR_INVALID for NULL, an unknown limit or a value out of range.
 */
MW_API int mw_mime_options_set_limit(mw_mime_options *opt, int which, size_t value);

/**
 * Set the parser flags (replacing earlier ones).
 * @param flags MW_MIME_DECODE, MW_MIME_UTF8, both or 0.
 * @return MW_OK, or MW_ERR_INVALID for NULL or unknown bits.
 */
MW_API int mw_mime_options_set_flags(mw_mime_options *opt, unsigned flags);

/* ------------------------------------------------------------------ */
/* events                                                              */
/* ------------------------------------------------------------------ */

/** Event types returned by mw_mime_next (positive). */
typedef enum mw_mime_event_type {
    MW_MIME_HEADER = 1,      /**< one header field of the entity whose PART_BEGIN follows */
    MW_MIME_PART_BEGIN = 2,  /**< the header block ended; parsed summary of the entity */
    MW_MIME_BODY = 3,        /**< a chunk of a leaf entity's body */
    MW_MIME_PREAMBLE = 4,    /**< a chunk of a multipart's preamble */
    MW_MIME_EPILOGUE = 5,    /**< a chunk of a multipart's epilogue */
    MW_MIME_PART_END = 6,    /**< the entity ended */
    MW_MIME_MESSAGE_END = 7, /**< the whole input has been parsed */
    MW_MIME_DEFECT = 8       /**< a warning about malformed input; parsing goes on */
} mw_mime_event_type;

/** How the parser treats an entity's body (mw_mime_event.kind). */
typedef enum mw_mime_kind {
    MW_MIME_KIND_LEAF = 1,      /**< body comes as BODY events */
    MW_MIME_KIND_MULTIPART = 2, /**< children delimited by the boundary */
    MW_MIME_KIND_MESSAGE = 3    /**< message/rfc822 or message/global: one child entity */
} mw_mime_kind;

/** Content-Transfer-Encoding values (mw_mime_event.cte). */
typedef enum mw_mime_cte {
    MW_MIME_CTE_7BIT = 0, /**< also the value for an absent header */
    MW_MIME_CTE_8BIT = 1,
    MW_MIME_CTE_BINARY = 2,
    MW_MIME_CTE_QP = 3,
    MW_MIME_CTE_BASE64 = 4,
    MW_MIME_CTE_UNKNOWN = 5 /**< anything else: the body is passed through raw */
} mw_mime_cte;

/** Defect codes (mw_mime_event.defect). */
typedef enum mw_mime_defect {
    MW_MIME_DEFECT_MISSING_CLOSE_BOUNDARY = 1, /**< a multipart ended without "--boundary--" */
    /** multipart without a usable boundary: treated as a leaf */
    MW_MIME_DEFECT_MISSING_BOUNDARY = 2,
    /** a "--" line matching no boundary inside a base64 body (once per part) */
    MW_MIME_DEFECT_BOUNDARY_IN_ENCODED = 3,
    /** unknown Content-Transfer-Encoding, or an encoding on a multipart */
    MW_MIME_DEFECT_BAD_CTE = 4,
    MW_MIME_DEFECT_8BIT_HEADER = 5, /**< bytes >= 0x80 in a header field (once per entity) */
    /** a header or delimiter line ended with LF alone (once per message) */
    MW_MIME_DEFECT_BARE_LF = 6,
    /** a header line over LIMIT_LINE bytes (once per entity) */
    MW_MIME_DEFECT_LONG_HEADER_LINE = 7,
    /** LIMIT_PARTS reached: the rest is body of the current entity */
    MW_MIME_DEFECT_TOO_MANY_PARTS = 8,
    /** LIMIT_DEPTH reached: the entity is treated as a leaf */
    MW_MIME_DEFECT_TOO_DEEP = 9,
    /** LIMIT_PARAMS or LIMIT_SEGMENTS reached: the rest are ignored */
    MW_MIME_DEFECT_TOO_MANY_PARAMS = 10,
    /** LIMIT_HEADER_BYTES / FIELDS reached: the rest is body */
    MW_MIME_DEFECT_HEADER_TOO_LARGE = 11,
    /** the header block ended at EOF or at a delimiter, no blank line */
    MW_MIME_DEFECT_UNTERMINATED_HEADERS = 12,
    /** a line that is not a header field: it starts the body */
    MW_MIME_DEFECT_BAD_HEADER_LINE = 13,
    MW_MIME_DEFECT_BAD_CONTENT_TYPE = 14, /**< unparsable Content-Type: the default type is used */
    MW_MIME_DEFECT_BAD_PARAM = 15,        /**< malformed parameter, RFC 2231 gap, bad %XX */
    /** a charset that could not be converted: bytes kept as they are */
    MW_MIME_DEFECT_BAD_CHARSET = 16,
    /** a second Content-Type/-Disposition/-Transfer-Encoding: ignored */
    MW_MIME_DEFECT_DUPLICATE_FIELD = 17,
    /** base64/quoted-printable body data with errors (decode mode) */
    MW_MIME_DEFECT_BAD_ENCODING = 18,
    /** the input started with an mbox "From " envelope line (RFC 4155): it was skipped, not
     *  taken as a header; the event's value holds the line without its line end */
    MW_MIME_DEFECT_MBOX_FROM = 19,
    /** RFC 2047 encoded words inside a Content-Type/-Disposition parameter value (against
     *  RFC 2047 §5): decoded in name and filename, see mw_mime_param.value */
    MW_MIME_DEFECT_2047_PARAM = 20
} mw_mime_defect;

/** One Content-Type or Content-Disposition parameter. */
typedef struct mw_mime_param {
    mw_slice name; /**< lowercase, without RFC 2231 "*n*" decoration */
    /** continuations joined, quotes and %XX removed, converted to UTF-8 when a charset was given */
    mw_slice value;
    mw_slice charset;  /**< RFC 2231 charset as written (empty when none) */
    mw_slice language; /**< RFC 2231 language (empty when none) */
    int rfc2231;       /**< 1 when the value came in RFC 2231 form (name* or name*0...) */
} mw_mime_param;

/**
 * An event. Every slice and pointer points into the parser and is valid
 * until the next call on the same parser (including feed, recv_buf and eof).
 * Fields not listed for an event type are zero or empty. Fields are only
 * ever appended to this struct.
 */
typedef struct mw_mime_event {
    int type;       /**< mw_mime_event_type */
    unsigned depth; /**< nesting depth of the entity: 0 for the root message */
    uint32_t part;  /**< entity number in input order: 0 for the root */
    mw_slice path;  /**< "" for the root, "1", "2.1", ...: child numbers from the root (the
                         message inside message/rfc822 is child 1) */
    /** input offset where the event's bytes start (DEFECT: where it was seen) */
    uint64_t offset;
    /* HEADER */
    mw_slice name; /**< field name as written */
    /** raw value: leading whitespace skipped, folding CRLFs kept, final CRLF removed */
    mw_slice value;
    mw_slice unfolded; /**< value with the folding line ends removed (RFC 5322 §2.2.3) */
    /* PART_BEGIN */
    int kind; /**< mw_mime_kind */
    /** lowercase media type ("text"; the default when absent or unparsable) */
    mw_slice media_type;
    mw_slice subtype;            /**< lowercase subtype ("plain") */
    const mw_mime_param *params; /**< Content-Type parameters */
    size_t nparams;
    mw_slice boundary; /**< multipart boundary (empty otherwise) */
    /** lowercase charset parameter; "us-ascii" for text without one; empty otherwise */
    mw_slice charset;
    int cte;           /**< mw_mime_cte */
    mw_slice cte_name; /**< lowercase Content-Transfer-Encoding as written (empty when absent) */
    /** lowercase disposition type ("inline", "attachment"; empty when absent) */
    mw_slice disposition;
    const mw_mime_param *disp_params; /**< Content-Disposition parameters */
    size_t ndisp_params;
    /** UTF-8: Content-Disposition filename, else Content-Type name (empty when none);
     *  RFC 2047 words in a plain (not RFC 2231) value are decoded */
    mw_slice filename;
    /* BODY, PREAMBLE, EPILOGUE */
    mw_slice data; /**< the chunk: raw bytes, or decoded ones with MW_MIME_DECODE */
    /* DEFECT */
    int defect; /**< mw_mime_defect (for MBOX_FROM, value holds the skipped line) */
} mw_mime_event;

/* ------------------------------------------------------------------ */
/* parser                                                              */
/* ------------------------------------------------------------------ */

typedef struct mw_mime_parser mw_mime_parser;

/**
 * Create a parser for one message.
 * @param mem allocator hooks (NULL = libc), copied.
 * @param opt options (NULL = defaults), copied: the object may be freed afterwards.
 * @return the parser, or NULL when an allocation failed.
 */
MW_API mw_mime_parser *mw_mime_parser_new(const mw_mem *mem, const mw_mime_options *opt);

/** Free a parser and everything it handed out (NULL is a no-op). */
MW_API void mw_mime_parser_free(mw_mime_parser *p);

/**
 * Make the parser ready for a new message, keeping its buffers (cheaper
 * than free + new when parsing many messages).
 * @return MW_OK, MW_ERR_NOMEM, MW_ERR_INVALID.
 */
MW_API int mw_mime_parser_reset(mw_mime_parser *p);

/**
 * Copy input into the parser's bounded buffer.
 * @return bytes taken (may be fewer than len, 0 when the buffer is full:
 *         pull events with mw_mime_next, then feed the rest), MW_ERR_NOMEM,
 *         MW_ERR_STATE after mw_mime_eof, MW_ERR_INVALID, or a sticky fatal error.
 */
MW_API mw_ssize mw_mime_feed(mw_mime_parser *p, const void *data, size_t len);

/**
 * Zero-copy input: get writable space at the end of the input buffer.
 * @param buf receives the space, valid until the next call on the parser.
 * @param len receives its size (0 when the buffer is full: pull events first).
 * @return MW_OK, MW_ERR_NOMEM, MW_ERR_STATE (after eof), MW_ERR_INVALID.
 */
MW_API int mw_mime_recv_buf(mw_mime_parser *p, unsigned char **buf, size_t *len);

/**
 * Commit n bytes written into the space from mw_mime_recv_buf.
 * @return MW_OK, MW_ERR_INVALID (n larger than the space), MW_ERR_STATE.
 */
MW_API int mw_mime_recv_ack(mw_mime_parser *p, size_t n);

/**
 * Say that the input is complete; the remaining buffered bytes are parsed
 * by the following mw_mime_next calls. @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_mime_eof(mw_mime_parser *p);

/**
 * Pull the next event.
 * @param ev receives the event; its slices are valid until the next call on p.
 * @return a mw_mime_event_type (> 0); 0 when more input is needed;
 *         MW_ERR_NOMEM (sticky); MW_ERR_CLOSED once MESSAGE_END was returned;
 *         MW_ERR_INVALID.
 */
MW_API int mw_mime_next(mw_mime_parser *p, mw_mime_event *ev);

/**
 * Describe a defect code.
 * @return a static NUL-terminated English string ("unknown defect" for other values).
 */
MW_API const char *mw_mime_defect_str(int defect);

/* ------------------------------------------------------------------ */
/* builder                                                             */
/* ------------------------------------------------------------------ */

/*
 * A streaming message writer. Structure is built with begin/end calls in
 * document order; headers are folded at 78 columns (never over 998, RFC 5322
 * §2.1.1); bodies are encoded on the fly and consumed only as far as the
 * output queue has room (zlib-style), so a 1 GiB attachment never sits in
 * memory. Output is drained with mw_mime_builder_out_buf / _out_ack.
 * The builder has no clock and no randomness: Date, Message-ID and
 * boundaries come from the caller. Every CR, LF or NUL in a header input is
 * refused (MW_ERR_INVALID) before a byte is written.
 *
 * Typical calls:
 *   header("From", ...) ... header_text("Subject", ...)
 *   multipart_begin("mixed", "=_b1", NULL)
 *     part_begin("text/plain", "utf-8", MW_MIME_CTE_AUTO, NULL, NULL, text, len)
 *     write(text) ... part_end()
 *     part_begin("application/pdf", NULL, MW_MIME_CTE_BASE64, "attachment",
 * "r\xc3\xa9sum\xc3\xa9.pdf", NULL, 0) write(...)* part_end() multipart_end() finish()
 */
typedef struct mw_mime_builder mw_mime_builder;

/** Builder flags (mw_mime_builder_new). */
/** non-ASCII header text is written as raw UTF-8 (RFC 6532), not RFC 2047 */
#define MW_MIME_BUILD_SMTPUTF8 0x1u
/** MW_MIME_CTE_AUTO may choose 8bit (the transport has 8BITMIME) */
#define MW_MIME_BUILD_8BIT 0x2u
/** non-ASCII filenames also get an RFC 2047 name= on Content-Type (old Outlook) */
#define MW_MIME_BUILD_2047_NAME 0x4u

/** Ask the builder to choose the transfer encoding from a sample (part_begin). */
#define MW_MIME_CTE_AUTO (-1)

/**
 * Create a builder.
 * @param mem   allocator hooks (NULL = libc), copied.
 * @param flags MW_MIME_BUILD_* bits.
 * @param out_max output queue size; body bytes are only taken while fewer
 *              than out_max bytes are pending (0 = 64 KiB; header and
 *              structure calls may go up to out_max + 64 KiB).
 * @return the builder, or NULL (allocation failure or unknown flags).
 */
MW_API mw_mime_builder *mw_mime_builder_new(const mw_mem *mem, unsigned flags, size_t out_max);

/** Free a builder (NULL is a no-op). */
MW_API void mw_mime_builder_free(mw_mime_builder *b);

/**
 * Add a header field with a structured or already formatted value
 * (addresses, Date, Message-ID, ...), folded at whitespace. Valid while the
 * current entity's header block is open (before its body starts).
 * @param name  field name (printable ASCII, no ':').
 * @param value the value (len bytes); non-ASCII only with MW_MIME_BUILD_SMTPUTF8.
 * @return MW_OK; MW_ERR_INVALID (bad name, CR/LF/NUL, NULL); MW_ERR_SYNTAX
 *         (non-ASCII without SMTPUTF8, or invalid UTF-8); MW_ERR_LINE_TOO_LONG
 *         (a word that cannot be folded under 998); MW_ERR_STATE; MW_ERR_BUFFER
 *         (drain the output first; nothing was written); MW_ERR_LIMIT (the
 *         field is larger than the output queue could ever hold); MW_ERR_NOMEM.
 */
MW_API int mw_mime_builder_header(mw_mime_builder *b, const char *name, const char *value,
                                  size_t len);

/**
 * Add an unstructured text header (Subject, Comments, ...): UTF-8 text,
 * written as RFC 2047 encoded words when it is not plain ASCII (raw UTF-8
 * with MW_MIME_BUILD_SMTPUTF8). Same results as mw_mime_builder_header.
 */
MW_API int mw_mime_builder_header_text(mw_mime_builder *b, const char *name, const char *text,
                                       size_t len);

/** One mailbox for mw_mime_builder_header_addrs. */
typedef struct mw_mime_mailbox {
    const char *display; /**< UTF-8 display name, or NULL / "" for none */
    const char *addr;    /**< "local@domain", the local part unquoted (split at the last '@') */
} mw_mime_mailbox;

/**
 * Add an address header field (From, To, Cc, Reply-To, Sender, ...) from
 * mailboxes, formatted by mw_addr_format (rfc5322.h): a display name made
 * of atoms is written as is, one with specials as a quoted string (with
 * '"' and '\' escaped), one with non-ASCII or control characters or "=?"
 * as RFC 2047 UTF-8 words (raw UTF-8 with MW_MIME_BUILD_SMTPUTF8); a local
 * part that is not a dot-atom is quoted. Mailboxes are joined by ", " and
 * the field is folded at whitespace under 78 columns (the first word may
 * go to a continuation line when it does not fit after the name).
 * @param name  field name (printable ASCII, no ':').
 * @param list,n the mailboxes, n >= 1.
 * @return MW_OK; MW_ERR_INVALID (NULL, n == 0, bad name, CR/LF/NUL in a
 *         display name or address); MW_ERR_SYNTAX (no '@', invalid UTF-8, a
 *         non-ASCII address without SMTPUTF8, a domain that is neither a
 *         dot-atom nor a literal, an empty local part); MW_ERR_STATE;
 *         MW_ERR_BUFFER (drain first; nothing was written); MW_ERR_LIMIT;
 *         MW_ERR_LINE_TOO_LONG; MW_ERR_NOMEM.
 */
MW_API int mw_mime_builder_header_addrs(mw_mime_builder *b, const char *name,
                                        const mw_mime_mailbox *list, size_t n);

/**
 * Start a leaf part: as the body of the current message when its header
 * block is open and it has no body yet, or as the next child of the
 * multipart being written. Writes the delimiter, Content-Type (with charset
 * and, for a filename, name), Content-Transfer-Encoding and
 * Content-Disposition (filename in RFC 2231 form when needed). More header
 * fields may follow with mw_mime_builder_header until the first write.
 * @param type        "type/subtype".
 * @param charset     charset parameter or NULL.
 * @param cte         a mw_mime_cte (7BIT, 8BIT, BINARY, QP, BASE64) or MW_MIME_CTE_AUTO.
 * @param disposition "inline", "attachment" or NULL.
 * @param filename    UTF-8 filename or NULL.
 * @param sample,sample_len data (or its beginning) to choose the encoding from
 *        for MW_MIME_CTE_AUTO: 7bit for short-lined ASCII, quoted-printable
 *        for mostly-ASCII text, base64 otherwise (8bit with MW_MIME_BUILD_8BIT).
 * @return MW_OK, MW_ERR_INVALID, MW_ERR_SYNTAX, MW_ERR_STATE, MW_ERR_LIMIT
 *         (nesting deeper than 100), MW_ERR_BUFFER, MW_ERR_NOMEM.
 */
MW_API int mw_mime_builder_part_begin(mw_mime_builder *b, const char *type, const char *charset,
                                      int cte, const char *disposition, const char *filename,
                                      const void *sample, size_t sample_len);

/**
 * Write body bytes of the current leaf, encoded by its transfer encoding
 * (7bit/8bit: bare CR and LF become CRLF; binary: copied). Consumes only
 * what fits.
 * @return bytes consumed (0 when the output is full: drain it), MW_ERR_STATE,
 *         MW_ERR_INVALID, MW_ERR_NOMEM.
 */
MW_API mw_ssize mw_mime_builder_write(mw_mime_builder *b, const void *data, size_t len);

/** End the current leaf (flushes its encoder). @return MW_OK, MW_ERR_STATE, MW_ERR_BUFFER,
 * MW_ERR_NOMEM. */
MW_API int mw_mime_builder_part_end(mw_mime_builder *b);

/**
 * Start a multipart (as the current message's body or as the next child).
 * @param subtype  "mixed", "alternative", "related", "report", ...
 * @param boundary 1-70 characters of RFC 2046 bchars, not ending in a space;
 *                 it must not occur in the content ("=_" in it keeps it out of
 *                 quoted-printable and base64 output).
 * @param params   extra raw parameters ("report-type=delivery-status") or NULL.
 * @return as mw_mime_builder_part_begin.
 */
MW_API int mw_mime_builder_multipart_begin(mw_mime_builder *b, const char *subtype,
                                           const char *boundary, const char *params);

/** Write the close delimiter of the current multipart. @return MW_OK, MW_ERR_STATE, MW_ERR_BUFFER,
 * MW_ERR_NOMEM. */
MW_API int mw_mime_builder_multipart_end(mw_mime_builder *b);

/**
 * Start a message/rfc822 part (or message/global with global != 0) whose
 * body is a message built with the same calls: headers, then its body.
 * @return as mw_mime_builder_part_begin.
 */
MW_API int mw_mime_builder_message_begin(mw_mime_builder *b, int global);

/** End the message/rfc822 part whose inner message is complete. @return MW_OK, MW_ERR_STATE. */
MW_API int mw_mime_builder_message_end(mw_mime_builder *b);

/** Check that the message is complete. @return MW_OK or MW_ERR_STATE. */
MW_API int mw_mime_builder_finish(mw_mime_builder *b);

/**
 * Pending output.
 * @param len receives the byte count.
 * @return the bytes (valid until the next call on b), or NULL when empty.
 */
MW_API const unsigned char *mw_mime_builder_out_buf(mw_mime_builder *b, size_t *len);

/** Drop n bytes of output that were sent (clamped to what is pending). */
MW_API void mw_mime_builder_out_ack(mw_mime_builder *b, size_t n);

/* ------------------------------------------------------------------ */
/* delivery status notifications (RFC 3464)                            */
/* ------------------------------------------------------------------ */

/*
 * A DSN is a multipart/report; report-type=delivery-status (RFC 6522)
 * with a human-readable part, a message/delivery-status part (RFC 3464
 * §2) and optionally the returned message or its headers:
 *
 *   header_addrs("From", mailer-daemon) header_addrs("To", sender)
 *   header_text("Subject", "Undelivered Mail Returned to Sender")
 *   header("Auto-Submitted", "auto-replied") Date, Message-ID ...
 *   multipart_begin("report", "=_dsn1", "report-type=delivery-status")
 *     part_begin("text/plain", "us-ascii", ...) write(explanation) part_end()
 *     delivery_status(&dsn)
 *     part_begin("text/rfc822-headers", ...) write(headers) part_end()
 *       (or message_begin(0) ... message_end() for the whole message)
 *   multipart_end() finish()
 *
 * The structs below are read only during the call. Every string is ASCII
 * (RFC 3464 fields; RFC 6533 UTF-8 reports are not written here) without
 * CR, LF or NUL; dates are RFC 5322 date-times (mw_date_format). New
 * members are never added to these two structs (a new struct would be).
 */

/** Per-recipient fields (RFC 3464 §2.3). */
typedef struct mw_mime_dsn_rcpt {
    const char *final_recipient;    /**< required: the address (written "rfc822; addr") */
    const char *original_recipient; /**< the address as first given (ORCPT), or NULL */
    const char *address_type;       /**< address-type of both, NULL = "rfc822" */
    /** required: "failed", "delayed", "delivered", "relayed" or "expanded" */
    const char *action;
    const char *status;            /**< required: RFC 3463 code "5.1.1" (class 2, 4 or 5) */
    const char *remote_mta;        /**< DNS name of the MTA that answered, or NULL */
    const char *diagnostic_type;   /**< NULL = "smtp" */
    const char *diagnostic_code;   /**< that MTA's reply, "550 5.1.1 User unknown", or NULL */
    const char *last_attempt_date; /**< RFC 5322 date-time, or NULL */
    const char *will_retry_until;  /**< RFC 5322 date-time (Action: delayed), or NULL */
} mw_mime_dsn_rcpt;

/** Per-message fields (RFC 3464 §2.2) and the recipients. */
typedef struct mw_mime_dsn {
    const char *reporting_mta;        /**< required: DNS name of the MTA writing the report */
    const char *original_envelope_id; /**< ENVID of the MAIL command (xtext as received), or NULL */
    const char *received_from_mta;    /**< DNS name of the MTA the message came from, or NULL */
    const char *arrival_date;         /**< RFC 5322 date-time, or NULL */
    const mw_mime_dsn_rcpt *rcpts;    /**< at least one */
    size_t nrcpts;
} mw_mime_dsn;

/**
 * Format the body of a message/delivery-status part: the per-message
 * fields, then one block per recipient, each after an empty line, CRLF
 * line ends, long fields (Diagnostic-Code) folded at whitespace under 78
 * columns. Typed fields get their type: "Reporting-MTA: dns; name",
 * "Final-Recipient: rfc822; addr", "Diagnostic-Code: smtp; text".
 * @param out,cap output (not NUL-terminated); out NULL with cap 0 asks
 *        for the size only.
 * @return bytes written (or needed); MW_ERR_BUFFER (cap too small, nothing
 *         usable written); MW_ERR_INVALID (NULL dsn, a required field NULL
 *         or empty, no recipients, CR/LF/NUL in a field); MW_ERR_SYNTAX
 *         (non-ASCII or control characters, an unknown action, a malformed
 *         status code); MW_ERR_LINE_TOO_LONG (a word over 998 columns).
 */
MW_API mw_ssize mw_mime_dsn_format(const mw_mime_dsn *dsn, char *out, size_t cap);

/**
 * Write a whole message/delivery-status part (7bit) with the body of
 * mw_mime_dsn_format, as the next child of the multipart being written
 * (normally multipart/report; report-type=delivery-status, after the
 * human-readable part). All or nothing: the part must fit in the output
 * queue (out_max + 64 KiB); a larger report can be written with
 * mw_mime_dsn_format, part_begin("message/delivery-status", ...) and write.
 * @return MW_OK; the errors of mw_mime_dsn_format; MW_ERR_STATE (no
 *         multipart or open message to put it in); MW_ERR_BUFFER (drain
 *         first; nothing was written); MW_ERR_LIMIT (larger than the queue
 *         could ever hold); MW_ERR_NOMEM.
 */
MW_API int mw_mime_builder_delivery_status(mw_mime_builder *b, const mw_mime_dsn *dsn);

/**
 * Choose a transfer encoding for data the way MW_MIME_CTE_AUTO does.
 * @param is_text non-zero for text/... content.
 * @param allow_8bit non-zero when 8bit is acceptable.
 * @return MW_MIME_CTE_7BIT, MW_MIME_CTE_8BIT, MW_MIME_CTE_QP or MW_MIME_CTE_BASE64.
 */
MW_API int mw_mime_choose_cte(const void *data, size_t len, int is_text, int allow_8bit);

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_MIME_H */
