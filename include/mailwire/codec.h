/*
 * mailwire — content codecs: base64, quoted-printable, SMTP dot-stuffing,
 * RFC 2047 encoded words and IMAP modified UTF-7.
 *
 * Streaming codecs share one z_stream-like stepper, struct mw_codec: the
 * caller points next_in/avail_in at input and next_out/avail_out at space,
 * calls the codec's step function, and the codec advances all four fields by
 * what it consumed and produced. Output is the same however the input is cut
 * across calls (split-invariance). Every stepper also has a one-shot helper
 * and a function that tells the output size it needs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_CODEC_H
#define MAILWIRE_CODEC_H

#include <mailwire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Stepper state shared by all streaming codecs. Initialise it with one of
 * the mw_*_init functions (which zero it), then set the four buffer fields
 * before each step call. The private area is the codec's own and must not be
 * touched; the struct may be copied between steps (no internal pointers).
 */
typedef struct mw_codec {
    const unsigned char *next_in; /**< next input byte */
    size_t avail_in;              /**< bytes available at next_in */
    unsigned char *next_out;      /**< where the next output byte goes */
    size_t avail_out;             /**< space left at next_out */
    uint64_t total_in;            /**< bytes consumed since init */
    uint64_t total_out;           /**< bytes produced since init */
    uint64_t error_offset;        /**< input offset (in total_in terms) of the first defect */
    unsigned warnings;            /**< MW_CODEC_WARN_* bits seen so far (lenient decoders) */
    unsigned flags;               /**< the flags given at init */
    union {                       /* private: the codec's own state */
        uint64_t align_;
        unsigned char bytes_[128];
    } state_;
} mw_codec;

/** Step results (positive, as events). */
#define MW_CODEC_MORE 0 /**< progress made or possible: give more input or output space */
#define MW_CODEC_DONE 1 /**< finish was requested and every output byte has been written */

/** Warning bits set in mw_codec.warnings by lenient decoders. */
#define MW_CODEC_WARN_BAD_CHAR 0x1u     /**< a character outside the alphabet was skipped or kept */
#define MW_CODEC_WARN_BAD_ESCAPE 0x2u   /**< a malformed "=XX" escape was passed through */
#define MW_CODEC_WARN_BAD_PADDING 0x4u  /**< base64 padding missing, misplaced or excessive */
#define MW_CODEC_WARN_TRAILING 0x8u     /**< leftover bits or bytes at the end were dropped */
#define MW_CODEC_WARN_LONG_LINE 0x10u   /**< an encoded line exceeded the RFC's length limit */
#define MW_CODEC_WARN_BARE_EOL 0x20u    /**< a bare CR or LF was seen where CRLF belongs */

/* ------------------------------------------------------------------ */
/* base64 (RFC 4648 §4, URL alphabet §5; MIME use RFC 2045 §6.8)       */
/* ------------------------------------------------------------------ */

#define MW_B64_URL 0x1u         /**< use the URL and filename safe alphabet (RFC 4648 §5) */
#define MW_B64_NOPAD 0x2u       /**< encode: omit '=' padding; decode: padding optional */
#define MW_B64_WRAP 0x4u        /**< encode: break lines at 76 characters with CRLF (MIME) */
#define MW_B64_MIME 0x8u        /**< decode: skip CR, LF, space and tab (RFC 2045 §6.8) */
#define MW_B64_SKIP_GARBAGE 0x10u /**< decode (with MIME): also skip other non-alphabet bytes */

/**
 * Start a base64 encoder.
 * @param c     stepper to initialise (zeroed first).
 * @param flags MW_B64_URL, MW_B64_NOPAD, MW_B64_WRAP.
 * @return MW_OK, or MW_ERR_INVALID for NULL or unknown flags.
 */
MW_API int mw_b64_encode_init(mw_codec *c, unsigned flags);

/**
 * Encode as much as fits.
 * @param finish non-zero when no more input will follow: the last group is
 *               padded and, with MW_B64_WRAP, a final CRLF ends a non-empty output.
 * @return MW_CODEC_MORE, MW_CODEC_DONE (finish and all output written),
 *         MW_ERR_INVALID.
 */
MW_API int mw_b64_encode_step(mw_codec *c, int finish);

/**
 * Output size of encoding len bytes with the given flags, including the final
 * CRLF that MW_B64_WRAP adds; 0 on overflow of size_t.
 */
MW_API size_t mw_b64_encoded_len(size_t len, unsigned flags);

/**
 * One-shot encode.
 * @param in,len  input bytes (in may be NULL when len is 0).
 * @param out,cap output buffer; no NUL is written.
 * @return bytes written, MW_ERR_BUFFER when cap < mw_b64_encoded_len(),
 *         MW_ERR_INVALID.
 */
MW_API mw_ssize mw_b64_encode(const void *in, size_t len, char *out, size_t cap, unsigned flags);

/**
 * Start a base64 decoder. Without MW_B64_MIME the decoder is strict: any
 * byte outside the alphabet, bad padding, or non-zero trailing bits is
 * MW_ERR_SYNTAX with c->error_offset set. With MW_B64_MIME, CR/LF/space/tab
 * are skipped and (with MW_B64_SKIP_GARBAGE) any other non-alphabet byte too,
 * each reported in c->warnings; decoding stops being strict about padding.
 *
 * Strict error offsets: the offending byte (a bad character, a misplaced
 * '=', the first byte after padding), or for non-zero trailing bits
 * (RFC 4648 §3.5) the character that carries them; MW_ERR_TRUNCATED points
 * at the end of the input.
 * MIME mode: CRLF line ends are normal; space, tab and skipped garbage set
 * MW_CODEC_WARN_BAD_CHAR, a bare CR or LF MW_CODEC_WARN_BARE_EOL, a line
 * over 76 characters MW_CODEC_WARN_LONG_LINE. Padding ends the data
 * (RFC 2045 §6.8): alphabet characters after it are dropped
 * (MW_CODEC_WARN_TRAILING); a misplaced, incomplete or missing '=' sets
 * MW_CODEC_WARN_BAD_PADDING (missing padding only without MW_B64_NOPAD),
 * and leftover bits or a lone last character are dropped with
 * MW_CODEC_WARN_TRAILING. c->error_offset is the offset of the earliest
 * defect; a byte outside the alphabet without MW_B64_SKIP_GARBAGE is still
 * MW_ERR_SYNTAX.
 * @param flags MW_B64_URL, MW_B64_NOPAD, MW_B64_MIME, MW_B64_SKIP_GARBAGE
 *              (the last only with MW_B64_MIME).
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_b64_decode_init(mw_codec *c, unsigned flags);

/**
 * Decode as much as fits.
 * @param finish non-zero when no more input will follow. Once MW_CODEC_DONE
 *               was returned, further input is MW_ERR_INVALID.
 * @return MW_CODEC_MORE, MW_CODEC_DONE, MW_ERR_SYNTAX (strict mode; sticky,
 *         c->error_offset tells where), MW_ERR_TRUNCATED (finish with an
 *         incomplete group in strict mode), MW_ERR_INVALID.
 */
MW_API int mw_b64_decode_step(mw_codec *c, int finish);

/** Upper bound of the decoded size of len input bytes (padded or not). */
MW_API size_t mw_b64_decoded_max(size_t len);

/**
 * One-shot decode.
 * @param error_offset if not NULL, receives the input offset of the first
 *        error (strict) or defect (MIME), or len when there was none.
 * @return bytes written; MW_ERR_SYNTAX, MW_ERR_TRUNCATED, MW_ERR_BUFFER
 *         (cap < mw_b64_decoded_max(len) is allowed as long as the real
 *         output fits), MW_ERR_INVALID.
 */
MW_API mw_ssize mw_b64_decode(const char *in, size_t len, void *out, size_t cap, unsigned flags,
                              size_t *error_offset);

/* ------------------------------------------------------------------ */
/* quoted-printable (RFC 2045 §6.7)                                    */
/* ------------------------------------------------------------------ */

#define MW_QP_BINARY 0x1u     /**< encode: CR and LF are data (=0D=0A), no hard line breaks */
#define MW_QP_DOT 0x2u        /**< encode: protect a '.' at the start of a line (=2E) */
#define MW_QP_FROM 0x4u       /**< encode: protect "From " at the start of a line (=46) */
#define MW_QP_LF_EOL 0x8u     /**< encode (text): also treat a bare LF in the input as a line end */
#define MW_QP_STRICT 0x10u    /**< decode: malformed escapes are MW_ERR_SYNTAX, not passed through */

/**
 * Start a quoted-printable encoder. Text mode (the default) keeps CRLF as a
 * hard line break and protects trailing whitespace; soft breaks ("=" CRLF)
 * keep every line at 76 characters or less.
 * @param flags MW_QP_BINARY, MW_QP_DOT, MW_QP_FROM, MW_QP_LF_EOL.
 * @return MW_OK, MW_ERR_INVALID (also for MW_QP_BINARY with MW_QP_LF_EOL).
 */
MW_API int mw_qp_encode_init(mw_codec *c, unsigned flags);

/**
 * Encode as much as fits. The output must not overlap the input. Up to a
 * few input bytes whose encoding depends on what follows are kept inside
 * the stepper (and counted in total_in) until more input or finish comes.
 * @return MW_CODEC_MORE, MW_CODEC_DONE, MW_ERR_INVALID.
 */
MW_API int mw_qp_encode_step(mw_codec *c, int finish);

/** Upper bound of the encoded size of len bytes (worst case, all escaped); 0 on overflow. */
MW_API size_t mw_qp_encoded_max(size_t len, unsigned flags);

/** One-shot encode. @return bytes written, MW_ERR_BUFFER, MW_ERR_INVALID. */
MW_API mw_ssize mw_qp_encode(const void *in, size_t len, char *out, size_t cap, unsigned flags);

/**
 * Start a quoted-printable decoder. Lenient by default: lowercase hex is
 * accepted, a malformed escape is passed through as-is and reported
 * (MW_CODEC_WARN_BAD_ESCAPE), whitespace before a line end is dropped, and a
 * soft break may be followed by trailing whitespace. MW_QP_STRICT also
 * treats lowercase hex as malformed.
 * @param flags MW_QP_STRICT.
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_qp_decode_init(mw_codec *c, unsigned flags);

/**
 * Decode as much as fits; may run in place (next_out == next_in).
 * c->error_offset is the input offset of the first defect (or of the error).
 * @return MW_CODEC_MORE, MW_CODEC_DONE, MW_ERR_SYNTAX (strict; sticky),
 *         MW_ERR_INVALID.
 */
MW_API int mw_qp_decode_step(mw_codec *c, int finish);

/** One-shot decode (output is never longer than input). @return bytes written, MW_ERR_SYNTAX, MW_ERR_BUFFER, MW_ERR_INVALID. */
MW_API mw_ssize mw_qp_decode(const char *in, size_t len, void *out, size_t cap, unsigned flags);

/* ------------------------------------------------------------------ */
/* SMTP dot-stuffing (RFC 5321 §4.5.2)                                 */
/* ------------------------------------------------------------------ */

/**
 * Start a dot-stuffer: a '.' at the start of a line is doubled; with
 * finish, the terminator is added: CRLF "." CRLF, or "." CRLF when the data
 * already ended with CRLF (a message not ending in CRLF is completed). With
 * finish on an empty message the output is "." CRLF.
 * @param flags 0 (reserved).
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_dotstuff_init(mw_codec *c, unsigned flags);

/** Stuff as much as fits. @return MW_CODEC_MORE, MW_CODEC_DONE, MW_ERR_INVALID. */
MW_API int mw_dotstuff_step(mw_codec *c, int finish);

/**
 * Start an unstuffer for wire data: removes the leading '.' of stuffed
 * lines and stops at the CRLF "." CRLF terminator, which is not copied
 * (the CRLF before it is data). Only that exact sequence ends the data:
 * "\n.\n", "\r.\r\n", NUL around the dot and similar are content.
 * A message that starts with "." CRLF is empty. May run in place
 * (next_out == next_in).
 * @param flags 0 (reserved).
 * @return MW_OK, MW_ERR_INVALID.
 */
MW_API int mw_dotunstuff_init(mw_codec *c, unsigned flags);

/**
 * Unstuff as much as fits. Input after the terminator is not consumed
 * (next_in points just past ".\r\n").
 * @return MW_CODEC_MORE, MW_CODEC_DONE (terminator seen and consumed),
 *         MW_ERR_TRUNCATED (finish before the terminator), MW_ERR_INVALID.
 */
MW_API int mw_dotunstuff_step(mw_codec *c, int finish);

/* ------------------------------------------------------------------ */
/* RFC 2047 encoded words                                              */
/* ------------------------------------------------------------------ */

#define MW_2047_STRICT 0x1u   /**< decode: only words that follow RFC 2047 §5 placement rules */
/** encode: the text is a phrase (display name): stricter Q set (§5(3)).
 *  decode: the value is a structured field (address list, phrase, comments): quoted
 *  strings are literal and words are decoded only as whole atoms (§5(2), §5(3)) */
#define MW_2047_PHRASE 0x2u
#define MW_2047_FORCE_B 0x4u  /**< encode: always use B */
#define MW_2047_FORCE_Q 0x8u  /**< encode: always use Q */

/** Defects reported by mw_2047_decode (bits in *defects). */
#define MW_2047_DEFECT_CHARSET 0x1u  /**< unknown charset: the word was kept as-is */
#define MW_2047_DEFECT_ENCODING 0x2u /**< bad B/Q payload: the word was kept as-is */
#define MW_2047_DEFECT_INVALID 0x4u  /**< malformed bytes after conversion were replaced by U+FFFD */

/**
 * Decode every encoded word in an unstructured header value into UTF-8.
 * Whitespace between adjacent encoded words is dropped (RFC 2047 §6.2);
 * words in the same charset are joined before conversion, so a multibyte
 * character split across words decodes correctly. Charsets are converted
 * through iconv; UTF-8 and US-ASCII need no iconv. Text that is not an
 * encoded word is copied unchanged, except that folds (CRLF or LF before a
 * space or tab) are removed. Malformed bytes after conversion, and any NUL,
 * CR or LF a decoded word produces, become U+FFFD (MW_2047_DEFECT_INVALID),
 * so a word cannot forge a header line.
 * The default context is unstructured text (RFC 2047 §5 (1): Subject,
 * Comments, Content-Description), where a '"' is an ordinary character, so
 * a word between quotes is decoded like any other. With MW_2047_PHRASE the
 * value is structured (From/To/Cc..., §5 (2), (3)): a quoted string is
 * copied as written, never decoded (the rule of mw_addr_list_parse), a
 * word is decoded only when no atext is glued to it, and words inside
 * comments are decoded.
 * Lenient by default: words glued to other text (unstructured only),
 * longer than 75 characters, with lowercase hex or with base64 padding
 * missing are decoded. MW_2047_STRICT decodes only words of at most 75
 * characters that stand between white space, "(" or ")" and the ends of
 * the value, with canonical base64 padding; other words are left as text.
 * @param in,len   header value (unfolded or folded; CRLF WSP is treated as WSP).
 * @param out,cap  output; on success NUL-terminated (the NUL is not counted).
 * @param flags    MW_2047_STRICT, MW_2047_PHRASE, both or 0.
 * @param defects  if not NULL, receives MW_2047_DEFECT_* bits.
 * @return bytes written (without the NUL); MW_ERR_BUFFER when cap is too
 *         small (need at most 3 * len + 1 bytes); MW_ERR_NOMEM when iconv
 *         could not allocate; MW_ERR_INVALID.
 */
MW_API mw_ssize mw_2047_decode(const char *in, size_t len, char *out, size_t cap, unsigned flags,
                               unsigned *defects);

/**
 * Encode UTF-8 text as encoded words (charset "UTF-8"), choosing B or Q by
 * the shorter result (Q on a tie), keeping every word within 75 characters
 * (§2) and never splitting a UTF-8 character between words. Words are
 * separated by CRLF SP so the result can be placed in a folded header; the
 * caller passes the column where the first word starts, and no line
 * exceeds 76 characters. When not even one character fits on the first
 * line, the output starts with CRLF SP. CR, LF, TAB and NUL are encoded
 * like any other byte (never written raw). Empty input gives empty output.
 * @param in,len  UTF-8 text; invalid UTF-8 is MW_ERR_SYNTAX.
 * @param column  column of the first word's start (for the 76-column fold).
 * @param out,cap output (not NUL-terminated).
 * @param flags   MW_2047_PHRASE (Q keeps only letters, digits and !*+-/ as
 *                themselves, §5(3)), MW_2047_FORCE_B or MW_2047_FORCE_Q.
 * @return bytes written; MW_ERR_BUFFER (see mw_2047_encoded_max), MW_ERR_SYNTAX,
 *         MW_ERR_INVALID (unknown flags, both FORCE flags, NULL pointers).
 */
MW_API mw_ssize mw_2047_encode(const char *in, size_t len, size_t column, char *out, size_t cap,
                               unsigned flags);

/** Upper bound of mw_2047_encode's output for len input bytes. */
MW_API size_t mw_2047_encoded_max(size_t len);

/* ------------------------------------------------------------------ */
/* IMAP modified UTF-7 (RFC 3501 §5.1.3)                               */
/* ------------------------------------------------------------------ */

/**
 * Encode a UTF-8 mailbox name as modified UTF-7. Printable ASCII stays as
 * is ("&" becomes "&-"); every run of other characters becomes one
 * "&...-" shift.
 * @param in,len  UTF-8 text; invalid UTF-8 or a NUL is MW_ERR_SYNTAX.
 * @param out,cap output; 5 * len + 1 bytes always suffice.
 * @return bytes written (output NUL-terminated, NUL not counted),
 *         MW_ERR_SYNTAX, MW_ERR_BUFFER, MW_ERR_INVALID.
 */
MW_API mw_ssize mw_mutf7_encode(const char *in, size_t len, char *out, size_t cap);

/**
 * Decode a modified UTF-7 mailbox name to UTF-8, rejecting non-canonical
 * forms: "&" not followed by "-" or base64, unterminated shifts, printable
 * ASCII encoded in base64, adjacent encoded runs ("&...-&...-"), non-zero
 * padding bits, bad surrogates, bytes outside 0x20..0x7e, and an encoded
 * U+0000. Whatever it accepts, mw_mutf7_encode turns back into the same bytes.
 * @param out,cap output; len + len / 8 + 1 bytes always suffice.
 * @param error_offset if not NULL, receives the input offset of the error
 *        (len when there is none, or when the input ended too early): the
 *        bad byte; the "&" opening a shift that follows another shift; the
 *        first character of a base64 unit that decodes to something not
 *        allowed; the closing "-" of a shift cut short inside a unit or a
 *        surrogate pair; the last base64 character when padding bits are set.
 * @return bytes written (output NUL-terminated, NUL not counted),
 *         MW_ERR_SYNTAX, MW_ERR_BUFFER, MW_ERR_INVALID.
 */
MW_API mw_ssize mw_mutf7_decode(const char *in, size_t len, char *out, size_t cap,
                                size_t *error_offset);

#ifdef __cplusplus
}
#endif

#endif /* MAILWIRE_CODEC_H */
