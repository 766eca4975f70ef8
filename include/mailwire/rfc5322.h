/*
 * mailwire — RFC 5322 message headers: the header-field iterator and
 * single-field helpers, address lists (mailboxes and groups) with their
 * formatter, date-time parse/format, and Message-ID lists and generation.
 * RFC 6532 (UTF-8 headers) is accepted and reported; RFC 2047 encoded words
 * in display names are decoded to UTF-8.
 *
 * Everything here works on complete buffers: no state survives a call except
 * in the small caller-owned structs (the header iterator, the msg-id
 * iterator). Nothing reads a clock or a random source; the caller passes the
 * time and the random bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_RFC5322_H
#define MAILWIRE_RFC5322_H

#include <mailwire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================== */
/* Header fields (RFC 5322 §2.2, §3.6.8; obsolete syntax §4.5)          */
/* ================================================================== */

/** Defect bits of one header field (mw_hdr_field.defects). None of them
 *  stops the iterator: the field is still delivered, as found. */
#define MW_HDR_DEFECT_BARE_LF 0x1u    /**< a line ended with LF alone (taken as a line end) */
#define MW_HDR_DEFECT_BARE_CR 0x2u    /**< a CR not followed by LF (kept as content) */
#define MW_HDR_DEFECT_NUL 0x4u        /**< a NUL byte in the field */
#define MW_HDR_DEFECT_8BIT 0x8u       /**< bytes >= 0x80 that are not valid UTF-8 (RFC 6532) */
#define MW_HDR_DEFECT_NO_COLON 0x10u  /**< a line with no ':' (name is empty, value is the line) */
#define MW_HDR_DEFECT_BAD_NAME 0x20u  /**< empty name or a byte outside 33..126 in the name */
#define MW_HDR_DEFECT_WSP_COLON 0x40u /**< obsolete WSP between name and ':' (§4.5), name trimmed \
                                       */
#define MW_HDR_DEFECT_LONG_LINE 0x80u /**< a line longer than 998 characters (§2.1.1) */
#define MW_HDR_DEFECT_CONTINUATION                                                                 \
    0x100u /**< the block starts with a folded line (no name before it) */
#define MW_HDR_DEFECT_WSP_LINE 0x200u /**< a continuation line made only of WSP (obsolete, §4.2)  \
                                       */
#define MW_HDR_DEFECT_NO_EOL 0x400u   /**< the buffer ended inside the field (no line end) */
#define MW_HDR_DEFECT_CTL 0x800u      /**< another control character (not HTAB, CR, LF, NUL) */
/** Not a defect: the field holds valid UTF-8 (allowed by RFC 6532 only). */
#define MW_HDR_UTF8 0x10000u

/** One header field: views into the caller's buffer. */
typedef struct mw_hdr_field {
    mw_slice name;    /**< field name, without WSP before the colon; empty with NO_COLON */
    mw_slice value;   /**< everything after ':' up to the final line end, folded as on the wire */
    mw_slice raw;     /**< the whole field including its final line end */
    unsigned defects; /**< MW_HDR_DEFECT_* bits and MW_HDR_UTF8 */
} mw_hdr_field;

/**
 * Header-block iterator. Caller-owned, needs no allocation and no cleanup;
 * treat the members as private (read them through the functions below).
 */
typedef struct mw_hdr_iter {
    const char *buf_;
    size_t len_;
    size_t pos_;
    size_t body_; /* body offset once the end was found */
    int done_;
    unsigned block_defects_;
} mw_hdr_iter;

/** Block-level defect: no empty line; the header block ran to the end of the buffer. */
#define MW_HDR_BLOCK_NO_BODY 0x1u

/**
 * Start iterating over the header section at buf. The section ends at the
 * first empty line (CRLF CRLF, or a bare LF line end, reported) or at the
 * end of the buffer.
 * @param it   iterator to initialise.
 * @param buf  the header section (and possibly the body after it); NULL only with len 0.
 * @param len  bytes at buf.
 * @return MW_OK, MW_ERR_INVALID (it NULL, or buf NULL with len > 0).
 */
MW_API int mw_hdr_iter_init(mw_hdr_iter *it, const char *buf, size_t len);

/**
 * Take the next field. A field is one line plus every following line that
 * starts with SP or HTAB (folding, §2.2.3).
 * @param it     an initialised iterator.
 * @param field  receives the field; its slices point into the buffer given
 *               to mw_hdr_iter_init and live as long as that buffer.
 * @return 1 (a field), 0 (end of the header block: see mw_hdr_iter_body),
 *         MW_ERR_INVALID (NULL argument).
 */
MW_API int mw_hdr_iter_next(mw_hdr_iter *it, mw_hdr_field *field);

/**
 * Where the body starts, once mw_hdr_iter_next returned 0: the offset just
 * past the empty line, or the buffer length when there was none.
 * @param block_defects if not NULL, receives MW_HDR_BLOCK_* bits.
 * @return the body offset, or (size_t)-1 before the end was reached.
 */
MW_API size_t mw_hdr_iter_body(const mw_hdr_iter *it, unsigned *block_defects);

/**
 * Classify one complete field (for streaming parsers that collect a field
 * themselves): same rules and defects as the iterator. A line end at the
 * very end is optional and not part of value; an embedded empty line is not
 * looked for (the caller already split the block).
 * @param in,len  one field: name, ':', value, folded lines, optional final line end.
 * @param field   receives the views into in.
 * @return MW_OK, MW_ERR_INVALID (NULL argument).
 */
MW_API int mw_hdr_field_parse(const char *in, size_t len, mw_hdr_field *field);

/** Unfold options. */
#define MW_HDR_UNFOLD_TRIM 0x1u /**< also drop leading and trailing WSP of the result */

/**
 * Unfold a field value (§2.2.3): every CRLF (or bare LF) followed by SP or
 * HTAB is removed; the WSP stays. Line ends not followed by WSP are kept.
 * Unfolding in place (out == in) is allowed; the output is never longer than
 * the input.
 * @param in,len  a value, e.g. mw_hdr_field.value.
 * @param out,cap output; not NUL-terminated.
 * @param flags   MW_HDR_UNFOLD_TRIM or 0.
 * @return bytes written, MW_ERR_BUFFER (cap < output), MW_ERR_INVALID.
 */
MW_API mw_ssize mw_hdr_unfold(const char *in, size_t len, char *out, size_t cap, unsigned flags);

/**
 * Walk an unfolded value without copying: each call returns the next piece
 * of the value between folds (the line ends of folds are skipped, the WSP
 * after them is kept, so concatenating the pieces gives the unfolded value).
 * @param rest   the remaining value; advanced past the returned piece. Start
 *               with the value itself.
 * @param piece  receives a view into the same buffer.
 * @return 1 (a piece), 0 (nothing left), MW_ERR_INVALID.
 */
MW_API int mw_hdr_unfold_next(mw_slice *rest, mw_slice *piece);

/**
 * Compare a field name with a NUL-terminated ASCII name, ignoring case.
 * @return 1 when equal, 0 otherwise (also for NULL arguments).
 */
MW_API int mw_hdr_name_eq(mw_slice name, const char *expected);

/* ================================================================== */
/* Addresses (RFC 5322 §3.4, obsolete forms §4.4, RFC 6532, RFC 2047 §5) */
/* ================================================================== */

/** Kinds of entries in an address list. */
#define MW_ADDR_MAILBOX 1 /**< a mailbox (top level, or a member of the group before it) */
#define MW_ADDR_GROUP 2   /**< a group: display is its name, members mailboxes follow */
#define MW_ADDR_INVALID 3 /**< text that is not an address by the grammar; only raw is set */

/** Flags of one entry (mw_addr.flags). Informational unless noted. */
#define MW_ADDR_F_OBS_ROUTE 0x1u  /**< obsolete route "<@a,@b:user@c>" (route holds "@a,@b") */
#define MW_ADDR_F_OBS_PHRASE 0x2u /**< display name uses '.' unquoted (obs-phrase) */
#define MW_ADDR_F_OBS_LOCAL 0x4u  /**< local part has CFWS or quoted words mixed with dots */
#define MW_ADDR_F_OBS_DOMAIN 0x8u /**< domain has CFWS between its atoms */
#define MW_ADDR_F_OBS_LIST 0x10u  /**< empty list members (", ,") before this entry */
#define MW_ADDR_F_QUOTED_LOCAL                                                                     \
    0x20u                         /**< the local part needs quoting (addr_spec shows it quoted) */
#define MW_ADDR_F_QUOTED_AT 0x40u /**< warning: the quoted local part contains '@' */
#define MW_ADDR_F_ENCODED 0x80u   /**< the display name had RFC 2047 encoded words */
#define MW_ADDR_F_ENCODED_SPECIALS                                                                 \
    0x100u /**< warning: an encoded word decoded to '@' '<' '>' ',' ';' ':' or '"' */
#define MW_ADDR_F_ENCODED_DEFECT                                                                   \
    0x200u /**< an encoded word was malformed or of an unknown charset (kept as-is) */
#define MW_ADDR_F_CTL                                                                              \
    0x400u /**< warning: the decoded display name holds a control character (CR, LF, NUL...) */
#define MW_ADDR_F_UTF8 0x800u     /**< raw UTF-8 in the entry (RFC 6532) */
#define MW_ADDR_F_8BIT 0x1000u    /**< bytes >= 0x80 that are not valid UTF-8 */
#define MW_ADDR_F_COMMENT 0x2000u /**< the entry contains comments (comment holds the first) */
#define MW_ADDR_F_DOMAIN_LITERAL 0x4000u /**< the domain is a literal "[...]" */
#define MW_ADDR_F_NO_SEMICOLON 0x8000u   /**< a group not closed by ';' before the end */
#define MW_ADDR_F_OBS_QP                                                                           \
    0x10000u /**< quoted-pair of a control char, or inside a domain literal (obsolete) */
#define MW_ADDR_F_BARE_EOL 0x20000u /**< a CR or LF not in a CRLF fold */

/**
 * One entry. The slices point either into the input buffer (raw, route,
 * comment) or into the list's arena (display, local, domain, addr_spec:
 * each also NUL-terminated there). All live until mw_addr_list_free, and
 * the input ones also only as long as the input buffer.
 */
typedef struct mw_addr {
    int kind;         /**< MW_ADDR_MAILBOX, MW_ADDR_GROUP, MW_ADDR_INVALID */
    unsigned flags;   /**< MW_ADDR_F_* */
    size_t members;   /**< MW_ADDR_GROUP: number of mailbox entries that follow and belong to it */
    size_t group;     /**< a mailbox in a group: index of the group entry; (size_t)-1 otherwise */
    mw_slice raw;     /**< input text of the entry (comments included, outer WSP trimmed) */
    mw_slice display; /**< display name (or group name) decoded to UTF-8; empty when absent */
    mw_slice local;   /**< local part, unquoted */
    mw_slice domain;  /**< domain, CFWS removed ("[...]" kept for literals) */
    mw_slice addr_spec; /**< canonical "local@domain", local part quoted when needed */
    mw_slice route;     /**< obsolete route text ("@a,@b") from the input; empty when absent */
    mw_slice comment;   /**< text of the first comment (without the parentheses), from the input */
} mw_addr;

/** Parse options; a NULL options pointer or zero members mean the defaults. */
typedef struct mw_addr_opts {
    size_t max_entries;         /**< cap on entries (mailboxes + groups + invalid); default 1000 */
    unsigned max_comment_depth; /**< cap on comment nesting; default 32 */
    unsigned flags;             /**< MW_ADDR_STRICT, MW_ADDR_NO_GROUPS, MW_ADDR_NO_2047 */
} mw_addr_opts;

#define MW_ADDR_STRICT                                                                             \
    0x1u /**< an entry that is not an address is MW_ERR_SYNTAX, not MW_ADDR_INVALID */
#define MW_ADDR_NO_GROUPS 0x2u /**< mailbox-list (From, Sender...): a group is MW_ADDR_INVALID */
#define MW_ADDR_NO_2047 0x4u   /**< keep encoded words in display names as they are */

/** A parsed list. Free with mw_addr_list_free (safe on a zeroed struct). */
typedef struct mw_addr_list {
    mw_addr *items; /**< count entries, in input order */
    size_t count;
    unsigned flags; /**< OR of every entry's flags */
    void *arena_;   /* private: the one block holding items and strings */
    mw_mem mem_;    /* private */
} mw_addr_list;

/**
 * Parse an address-list or mailbox-list field value (folded or not).
 * Comments are skipped (their text stays in raw/comment); ambiguous input is
 * parsed as the grammar says and flagged, never rewritten. One allocation
 * from mem holds the entries and every decoded string.
 * @param in,len  the field value (e.g. mw_hdr_field.value).
 * @param opts    limits and flags, or NULL for the defaults.
 * @param mem     allocator hooks, or NULL for libc.
 * @param list    receives the result; zeroed on error.
 * @return MW_OK; MW_ERR_SYNTAX (MW_ADDR_STRICT and an invalid entry);
 *         MW_ERR_LIMIT (more entries than max_entries, or comments nested
 *         deeper than max_comment_depth); MW_ERR_NOMEM; MW_ERR_INVALID.
 */
MW_API int mw_addr_list_parse(const char *in, size_t len, const mw_addr_opts *opts,
                              const mw_mem *mem, mw_addr_list *list);

/** Release a list's arena and zero the struct (NULL and zeroed lists are fine). */
MW_API void mw_addr_list_free(mw_addr_list *list);

/** Formatter flags. */
#define MW_ADDR_FMT_UTF8 0x1u /**< SMTPUTF8 / RFC 6532 allowed: write UTF-8 raw, no RFC 2047 */

/**
 * Format one mailbox: "Display Name <local@domain>", or "local@domain" when
 * there is no display name. The display name is written as atoms when it is
 * plain words, as a quoted string when it has specials, and as RFC 2047
 * encoded words (UTF-8) when it has non-ASCII or control characters (unless
 * MW_ADDR_FMT_UTF8). The local part is quoted when it is not a dot-atom.
 * @param display,display_len UTF-8 display name (display may be NULL with length 0).
 * @param local,local_len     local part, unquoted; must not be empty.
 * @param domain,domain_len   domain: dot-atom or "[literal]".
 * @param flags               MW_ADDR_FMT_UTF8 or 0.
 * @param out,cap             output, NUL-terminated on success.
 * @return bytes written without the NUL; MW_ERR_SYNTAX (CR, LF or NUL in any
 *         part, invalid UTF-8, non-ASCII local part or domain without
 *         MW_ADDR_FMT_UTF8, a domain that is neither a dot-atom nor a
 *         literal, an empty local part); MW_ERR_BUFFER; MW_ERR_INVALID.
 */
MW_API mw_ssize mw_addr_format(const char *display, size_t display_len, const char *local,
                               size_t local_len, const char *domain, size_t domain_len,
                               unsigned flags, char *out, size_t cap);

/* ================================================================== */
/* Dates (RFC 5322 §3.3, obsolete forms §4.3)                          */
/* ================================================================== */

/** Flags of a parsed date (mw_date.flags). */
#define MW_DATE_F_WDAY_MISMATCH 0x1u  /**< the day of week does not match the date */
#define MW_DATE_F_NO_WDAY 0x2u        /**< no day of week (allowed) */
#define MW_DATE_F_NO_SECONDS 0x4u     /**< seconds omitted (allowed) */
#define MW_DATE_F_LEAP_SECOND 0x8u    /**< second 60 */
#define MW_DATE_F_YEAR_2DIGIT 0x10u   /**< obsolete two-digit year (< 50: +2000, else +1900) */
#define MW_DATE_F_YEAR_3DIGIT 0x20u   /**< obsolete three-digit year (+1900) */
#define MW_DATE_F_OBS_ZONE 0x40u      /**< obsolete named zone (UT, GMT, EST...) */
#define MW_DATE_F_MILITARY_ZONE 0x80u /**< single-letter military zone, taken as -0000 (§4.3) */
#define MW_DATE_F_UNKNOWN_ZONE 0x100u /**< zone "-0000" (or military): local time zone unknown */
#define MW_DATE_F_CFWS                                                                             \
    0x200u /**< comments or folding where only the obsolete grammar allows them */

/** A parsed date-time. */
typedef struct mw_date {
    int year;       /**< full year (>= 1900 as the grammar implies, <= 9999) */
    int month;      /**< 1..12 */
    int day;        /**< 1..31, checked against the month */
    int hour;       /**< 0..23 */
    int minute;     /**< 0..59 */
    int second;     /**< 0..60 (0 when omitted) */
    int wday;       /**< day of week as written, 0 = Sunday .. 6; -1 when absent */
    int zone;       /**< offset from UTC in minutes (+0100 is 60; -0000 and military are 0) */
    int64_t epoch;  /**< seconds since 1970-01-01T00:00:00Z (leap second counted as :00 of the next
                       minute) */
    unsigned flags; /**< MW_DATE_F_* */
} mw_date;

/**
 * Parse a date-time field value: [day-of-week ","] day month year
 * hour ":" minute [":" second] zone, with CFWS and the obsolete forms.
 * @param in,len the value (folded or not).
 * @param date   receives the fields (zeroed on error).
 * @return MW_OK; MW_ERR_SYNTAX (malformed, or an impossible date or time:
 *         Feb 30, hour 24, minute 60, zone minutes over 59, unknown month,
 *         zone name or day name, anything after the zone but comments);
 *         MW_ERR_LIMIT (comments nested deeper than 32); MW_ERR_INVALID.
 */
MW_API int mw_date_parse(const char *in, size_t len, mw_date *date);

/**
 * Format a date-time as "Thu, 26 Nov 2026 23:05:00 +0000" (31 characters).
 * @param epoch seconds since the epoch (UTC); the caller reads the clock.
 * @param zone  offset to show, in minutes east of UTC (-5999..5999); the
 *              printed time is epoch + zone.
 * @param out,cap output, NUL-terminated (needs 32 bytes).
 * @return 31; MW_ERR_BUFFER; MW_ERR_INVALID (zone out of range, or a local
 *         year outside 1900..9999).
 */
MW_API mw_ssize mw_date_format(int64_t epoch, int zone, char *out, size_t cap);

/**
 * Seconds since the epoch of a civil UTC date-time, without the C library
 * (proleptic Gregorian calendar). No range check beyond int64.
 */
MW_API int64_t mw_date_to_epoch(int year, int month, int day, int hour, int minute, int second);

/* ================================================================== */
/* Message identifiers (RFC 5322 §3.6.4)                               */
/* ================================================================== */

#define MW_MSGID_F_OBS_CFWS 0x1u /**< CFWS inside the id (obsolete); left/right include it */
#define MW_MSGID_F_OBS_LEFT 0x2u /**< id-left is a quoted string or word list (obs-id-left) */
#define MW_MSGID_F_OBS_PHRASE                                                                      \
    0x4u                        /**< words between ids were skipped (obs In-Reply-To/References) */
#define MW_MSGID_F_LITERAL 0x8u /**< id-right is a "[...]" literal */
#define MW_MSGID_F_UTF8 0x10u   /**< UTF-8 in the id (RFC 6532) */

/** One message identifier: views into the input. */
typedef struct mw_msgid {
    mw_slice id;    /**< between '<' and '>' (exactly as written) */
    mw_slice left;  /**< id-left */
    mw_slice right; /**< id-right */
    unsigned flags; /**< MW_MSGID_F_* */
} mw_msgid;

/** msg-id list iterator (caller-owned, no cleanup). Members are private. */
typedef struct mw_msgid_iter {
    const char *p_;
    const char *end_;
} mw_msgid_iter;

/** Start iterating over a Message-ID, In-Reply-To or References value. @return MW_OK,
 * MW_ERR_INVALID. */
MW_API int mw_msgid_iter_init(mw_msgid_iter *it, const char *in, size_t len);

/**
 * Take the next msg-id.
 * @param id receives views into the input (valid as long as the input).
 * @return 1 (an id); 0 (end); MW_ERR_SYNTAX (a malformed id: the iterator
 *         has skipped it, so the next call goes on after it); MW_ERR_LIMIT
 *         (comments nested deeper than 32: the rest is skipped); MW_ERR_INVALID.
 */
MW_API int mw_msgid_iter_next(mw_msgid_iter *it, mw_msgid *id);

/**
 * Build "<TIME.RANDOM@domain>" from the caller's clock and random bytes
 * (time in base 36, random bytes in base 32, lowercase).
 * @param random,random_len at least 8 and at most 64 random bytes.
 * @param epoch             current time in seconds (negative is MW_ERR_INVALID).
 * @param domain,domain_len a dot-atom ("mail.example.org") or a "[literal]".
 * @param out,cap           output, NUL-terminated on success.
 * @return bytes written without the NUL; MW_ERR_SYNTAX (a domain that is
 *         not a dot-atom or literal: empty, CR, LF, NUL, spaces, '>'...);
 *         MW_ERR_BUFFER; MW_ERR_INVALID.
 */
MW_API mw_ssize mw_msgid_generate(const void *random, size_t random_len, int64_t epoch,
                                  const char *domain, size_t domain_len, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_RFC5322_H */
