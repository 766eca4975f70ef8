/*
 * mailwire — POP3 module internals: options and sessions of the server and
 * client engines, and small shared helpers.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_POP3_INTERNAL_H
#define MW_POP3_INTERNAL_H

#include <mailwire/pop3.h>
#include <mailwire/sasl.h>

#include "common/common_internal.h"
#include "sasl/sasl_internal.h"

#define MW__POP3_TEXT_MAX 200u   /* greeting, reply text */
#define MW__POP3_TS_MAX 202u     /* APOP banner incl. <> */
#define MW__POP3_POLICY_MAX 100u /* EXPIRE / LOGIN-DELAY / IMPLEMENTATION args */
#define MW__POP3_LIST_MAX 255u   /* SASL mechanism list */
#define MW__POP3_UID_MAX 70u     /* RFC 1939 §7 */
#define MW__POP3_USER_MAX 255u   /* a user name fits a command line */
#define MW__POP3_LANG_TAG_MAX 35u  /* language tag, simple form */
#define MW__POP3_LANG_LINE_MAX 200u /* "tag SP description" */

/* Output ceiling, and the level above which the server stops reading
 * commands or taking body bytes until the caller drains. */
#define MW__POP3_OUT_MAX (256u * 1024u)
#define MW__POP3_OUT_HIGH (32u * 1024u)

struct mw_pop3_server_opts {
    mw_mem mem;
    unsigned capa, flags;
    size_t max_cmd, max_auth, inbuf_size, max_msgs;
    unsigned max_bad;
    char greeting[MW__POP3_TEXT_MAX + 1];
    char timestamp[MW__POP3_TS_MAX + 1];
    char expire[MW__POP3_POLICY_MAX + 1];
    char login_delay[MW__POP3_POLICY_MAX + 1];
    char implementation[MW__POP3_POLICY_MAX + 1];
    char auth_mechs[MW__POP3_LIST_MAX + 1];
    /* RFC 6856 §3 LANG listing: "tag SP description" lines, no CRLF */
    unsigned nlangs;
    char langs[MW_POP3_MAX_LANGUAGES][MW__POP3_LANG_LINE_MAX + 1];
};

/* What the server reads or writes next. */
enum mw__pop3_phase {
    MW__POP3_PH_CMD,     /* command lines */
    MW__POP3_PH_AUTH,    /* one SASL response line after "+ " */
    MW__POP3_PH_LISTING, /* streaming a multi-line LIST/UIDL answer */
    MW__POP3_PH_BODY,    /* the caller streams a message (body_write) */
    MW__POP3_PH_HANDOFF, /* after the STLS +OK: nothing is consumed */
    MW__POP3_PH_CLOSED
};

/* Which paused event waits for an answer. */
enum mw__pop3_pending {
    MW__POP3_P_NONE,
    MW__POP3_P_PASS,
    MW__POP3_P_APOP,
    MW__POP3_P_AUTH,
    MW__POP3_P_MAILDROP,
    MW__POP3_P_RETR,
    MW__POP3_P_COMMIT,
    MW__POP3_P_LANG
};

struct mw_pop3_server {
    mw_mem mem;
    mw_pop3_server_opts o;
    mw__engine_io io; /* input, output, eof, sticky fatal error, TLS handoff */
    mw_pop3_event ev;

    int phase, pending;
    int tls, authed, utf8;
    int maildrop_due; /* credentials accepted: MAILDROP is the next event */
    char lang[MW__POP3_LANG_TAG_MAX + 1]; /* chosen with LANG; "" = default */
    char lang_req[MW__POP3_LANG_TAG_MAX + 1]; /* paused LANG's argument: the
                                                  input may move before the answer */
    unsigned bad;

    char user[MW__POP3_USER_MAX + 1]; /* from USER, waiting for PASS */
    size_t user_len;
    int have_user;

    /* maildrop: per message size, deleted flag, uid offset into uids */
    uint32_t nmsgs, cap_msgs;
    uint32_t ndeleted;       /* marked messages */
    uint64_t total_octets;   /* of all listed messages */
    uint64_t deleted_octets; /* of the marked ones */
    uint64_t *sizes;
    unsigned char *deleted;
    size_t *uid_off;   /* nmsgs + 1 offsets */
    char *uids;
    size_t uids_len, uids_cap;

    /* LIST/UIDL streaming cursor */
    uint32_t list_next;
    int list_uidl;

    /* message streaming (RETR/TOP) */
    int body_top;         /* TOP: truncate */
    uint64_t body_lines;  /* TOP: body lines still wanted */
    int body_in_header;   /* TOP: still in the header section */
    int body_done;        /* TOP: everything wanted was sent */
    int b_bol;            /* the next byte starts a line */
    int b_cr;             /* the last byte taken was CR */
    int b_crlf;           /* the last line end sent was CRLF */
    uint64_t b_linelen;   /* octets of the current line taken so far */
};

/* ---- client ---------------------------------------------------------- */

struct mw_pop3_client_opts {
    mw_mem mem;
    int tls;
    unsigned flags;
    size_t max_line, max_queue, inbuf;
};

/* Longest command line, CRLF included (RFC 2449 §4). */
#define MW__POP3_CMDLINE_MAX 255u
/* Longest "+ " challenge line the client reads during AUTH. */
#define MW__POP3_AUTH_LINE 12288u

/* One queued command. Lines are formatted when queued; APOP and AUTH keep
 * their secrets aside (heap, wiped) until they go out, since the digest
 * needs the greeting and the mechanism depends on CAPA. */
typedef struct mw__pop3_cmd {
    int cmd;      /* MW_POP3_CMD_* */
    int multi;    /* +OK starts a multi-line response */
    uint32_t msg;
    uint64_t id;
    unsigned mask; /* AUTH: allowed mechanisms */
    char *authzid, *user, *secret; /* APOP (user, secret), AUTH */
    size_t len;
    char line[MW__POP3_CMDLINE_MAX + 1];
} mw__pop3_cmd;

enum mw__pop3c_phase {
    MW__POP3C_GREETING,
    MW__POP3C_SETUP,   /* CAPA / STLS before READY */
    MW__POP3C_RUN,
    MW__POP3C_HANDOFF,
    MW__POP3C_CLOSED
};

struct mw_pop3_client {
    mw_mem mem;
    mw_pop3_client_opts o;
    mw_sasl_options sasl_opts;
    mw__engine_io io; /* input, output, eof, sticky fatal error, TLS handoff */
    mw_pop3_client_event ev;

    int phase, tls;
    int ready_due;     /* READY still to report */
    int setup_cmd;     /* the setup command in flight: CAPA, STLS or 0 */
    int quit_done;

    char timestamp[MW__POP3_TS_MAX + 1];
    size_t ts_len;
    int greeted;
    unsigned caps;
    char sasl_list[MW__POP3_LIST_MAX + 1];
    size_t sasl_list_len;

    /* ring of max_queue commands: [qhead, qhead + qsent) are in flight,
     * the rest wait */
    mw__pop3_cmd *q;
    size_t qhead, qcount, qsent;
    uint64_t next_id;

    /* response being read */
    int in_multi;      /* lines of LIST/UIDL/CAPA */
    int in_body;       /* RETR/TOP body */
    int end_due;       /* body terminator seen: END comes next */
    int b_bol, b_cr;   /* body scanner state of the consumed prefix */

    /* AUTH in progress */
    mw_sasl_client *sasl;
    int auth_ir_pending; /* initial response waits for an empty "+ " */
    int auth_cancelled;  /* "*" sent: -ERR expected */
};

/* ---- helpers (pop3_util.c) ------------------------------------------- */

/** Parse a decimal message number / count (0..2^32-1; 64-bit: mw__parse_u64).
 *  @return 0 ok, -1 not a number or overflow. */
int mw__pop3_parse_u32(const char *p, size_t n, uint32_t *out);
/** Printable ASCII 0x20..0x7E (space allowed when sp) and some length. */
int mw__pop3_text_ok(const char *t, size_t n, int sp);
/** Strict base64 (RFC 5034 §4) decoded in place. @return length or -1. */
mw_ssize mw__pop3_b64_decode_inplace(unsigned char *p, size_t len);
/** Language tag in simple form (1..35 of alnum and '-', no '-' at either
 *  end); "*" too when star. @return 1 valid, 0 not. */
int mw__pop3_lang_tag_ok(const char *t, size_t n, int star);

#endif /* MW_POP3_INTERNAL_H */
