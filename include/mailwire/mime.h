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
    MW_MIME_LIMIT_BUFFER = 1,        /**< input buffer bytes [256 KiB]; raised to fit HEADER_BYTES + 2 * LINE */
    MW_MIME_LIMIT_DEPTH = 2,         /**< nesting depth of multiparts and messages [100] */
    MW_MIME_LIMIT_PARTS = 3,         /**< entities per message, root included [10000] */
    MW_MIME_LIMIT_HEADER_BYTES = 4,  /**< header block bytes per entity [65536] */
    MW_MIME_LIMIT_HEADER_FIELDS = 5, /**< header fields per entity [1000] */
    MW_MIME_LIMIT_PARAMS = 6,        /**< parameters per Content-Type / Content-Disposition [64] */
    MW_MIME_LIMIT_SEGMENTS = 7,      /**< RFC 2231 continuation segments per parameter [128] */
    MW_MIME_LIMIT_LINE = 8           /**< longest line examined as a boundary delimiter; longer header lines are a defect [998] */
} mw_mime_limit;

/** Parser flags (mw_mime_options_set_flags). */
#define MW_MIME_DECODE 0x1u /**< BODY data of leaves is decoded by Content-Transfer-Encoding (quoted-printable, base64) */
#define MW_MIME_UTF8 0x2u   /**< BODY data of text/... leaves is converted from its charset to UTF-8 (encoded
                                 bodies only together with MW_MIME_DECODE); malformed bytes become U+FFFD */

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
    MW_MIME_DEFECT_MISSING_BOUNDARY = 2,   /**< multipart without a usable boundary: treated as a leaf */
    MW_MIME_DEFECT_BOUNDARY_IN_ENCODED = 3, /**< a delimiter line ended a base64/quoted-printable body mid-way */
    MW_MIME_DEFECT_BAD_CTE = 4,            /**< unknown Content-Transfer-Encoding, or an encoding on a multipart */
    MW_MIME_DEFECT_8BIT_HEADER = 5,        /**< bytes >= 0x80 in a header field (once per entity) */
    MW_MIME_DEFECT_BARE_LF = 6,            /**< a header or delimiter line ended with LF alone (once per message) */
    MW_MIME_DEFECT_LONG_HEADER_LINE = 7,   /**< a header line over LIMIT_LINE bytes (once per entity) */
    MW_MIME_DEFECT_TOO_MANY_PARTS = 8,     /**< LIMIT_PARTS reached: the rest is body of the current entity */
    MW_MIME_DEFECT_TOO_DEEP = 9,           /**< LIMIT_DEPTH reached: the entity is treated as a leaf */
    MW_MIME_DEFECT_TOO_MANY_PARAMS = 10,   /**< LIMIT_PARAMS or LIMIT_SEGMENTS reached: the rest are ignored */
    MW_MIME_DEFECT_HEADER_TOO_LARGE = 11,  /**< LIMIT_HEADER_BYTES / FIELDS reached: the rest is body */
    MW_MIME_DEFECT_UNTERMINATED_HEADERS = 12, /**< the header block ended at EOF or at a delimiter, no blank line */
    MW_MIME_DEFECT_BAD_HEADER_LINE = 13,   /**< a line that is not a header field: it starts the body */
    MW_MIME_DEFECT_BAD_CONTENT_TYPE = 14,  /**< unparsable Content-Type: the default type is used */
    MW_MIME_DEFECT_BAD_PARAM = 15,         /**< malformed parameter, RFC 2231 gap, bad %XX */
    MW_MIME_DEFECT_BAD_CHARSET = 16,       /**< a charset that could not be converted: bytes kept as they are */
    MW_MIME_DEFECT_DUPLICATE_FIELD = 17,   /**< a second Content-Type/-Disposition/-Transfer-Encoding: ignored */
    MW_MIME_DEFECT_BAD_ENCODING = 18       /**< base64/quoted-printable body data with errors (decode mode) */
} mw_mime_defect;

/** One Content-Type or Content-Disposition parameter. */
typedef struct mw_mime_param {
    mw_slice name;     /**< lowercase, without RFC 2231 "*n*" decoration */
    mw_slice value;    /**< continuations joined, quotes and %XX removed, converted to UTF-8 when a charset was given */
    mw_slice charset;  /**< RFC 2231 charset as written (empty when none) */
    mw_slice language; /**< RFC 2231 language (empty when none) */
} mw_mime_param;

/**
 * An event. Every slice and pointer points into the parser and is valid
 * until the next call on the same parser (including feed, recv_buf and eof).
 * Fields not listed for an event type are zero or empty. Fields are only
 * ever appended to this struct.
 */
typedef struct mw_mime_event {
    int type;          /**< mw_mime_event_type */
    unsigned depth;    /**< nesting depth of the entity: 0 for the root message */
    uint32_t part;     /**< entity number in input order: 0 for the root */
    mw_slice path;     /**< "" for the root, "1", "2.1", ...: child numbers from the root (the
                            message inside message/rfc822 is child 1) */
    uint64_t offset;   /**< input offset where the event's bytes start (DEFECT: where it was seen) */
    /* HEADER */
    mw_slice name;     /**< field name as written */
    mw_slice value;    /**< raw value: leading whitespace skipped, folding CRLFs kept, final CRLF removed */
    mw_slice unfolded; /**< value with the folding line ends removed (RFC 5322 §2.2.3) */
    /* PART_BEGIN */
    int kind;          /**< mw_mime_kind */
    mw_slice media_type; /**< lowercase media type ("text"; the default when absent or unparsable) */
    mw_slice subtype;    /**< lowercase subtype ("plain") */
    const mw_mime_param *params; /**< Content-Type parameters */
    size_t nparams;
    mw_slice boundary; /**< multipart boundary (empty otherwise) */
    mw_slice charset;  /**< lowercase charset parameter; "us-ascii" for text without one; empty otherwise */
    int cte;           /**< mw_mime_cte */
    mw_slice cte_name; /**< lowercase Content-Transfer-Encoding as written (empty when absent) */
    mw_slice disposition; /**< lowercase disposition type ("inline", "attachment"; empty when absent) */
    const mw_mime_param *disp_params; /**< Content-Disposition parameters */
    size_t ndisp_params;
    mw_slice filename; /**< UTF-8: Content-Disposition filename, else Content-Type name (empty when none) */
    /* BODY, PREAMBLE, EPILOGUE */
    mw_slice data;     /**< the chunk: raw bytes, or decoded ones with MW_MIME_DECODE */
    /* DEFECT */
    int defect;        /**< mw_mime_defect */
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

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_MIME_H */
