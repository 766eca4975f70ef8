/*
 * Dialog vectors for the protocol engine tests: one reader for the vector
 * files (tests/vectors/<protocol>/NAME.txt) and one replayer that feeds a
 * vector to an engine whole, at every chunk size from 1 to 8 and through
 * the zero-copy path, then compares output, event log and end state.
 *
 * Vector format, one directive per line ("#" starts a comment line):
 *   O: option        engine option (the test applies it)
 *   C: text          bytes, escapes \r \n \t \0 \\ \xHH, CRLF appended
 *   c: text          the same without the CRLF
 *   S: text / s:     the same, for the other side
 *   E: text          expected event log line (the test writes the log)
 *   A: text          answer or caller action (the test runs it); the reader
 *                    notes how many E: lines came before it
 *   T: tls | eof     transport step after the input above it
 *   X: expectation   checked at the end: closed | open | handoff |
 *                    discarded N | whole-only (plus the test's own)
 * In server vectors and POP3 client vectors C:/c: are the input and S:/s:
 * the expected output; SMTP client vectors are the other way round
 * (MW_VEC_INPUT_S).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_VECTORS_H
#define MW_VECTORS_H

#include "mw_test.h"

/* ---- growable byte strings ------------------------------------------- */

typedef struct mw_vbuf {
    char *p; /* NUL-terminated once anything was added */
    size_t len, cap;
} mw_vbuf;

void mw_vbuf_add(mw_vbuf *b, const void *d, size_t n);
void mw_vbuf_puts(mw_vbuf *b, const char *s);
/** Append bytes with the vector escapes (\r \n \t \\ \0 \xHH). */
void mw_vbuf_escape(mw_vbuf *b, const void *p, size_t n);
/** Append label, then the slice escaped. */
void mw_vbuf_slice(mw_vbuf *b, const char *label, mw_slice s);
/** Append the bytes an escaped vector text stands for. */
void mw_vbuf_unescape(mw_vbuf *b, const char *s);
/** malloc'ed copy (aborts when out of memory). */
char *mw_vstrdup(const char *s);

/* ---- a parsed vector --------------------------------------------------- */

#define MW_VEC_MAXN 256

typedef struct mw_vec_segment {
    mw_vbuf bytes;
    char step[16]; /* "tls", "eof" or "" (the last) */
} mw_vec_segment;

typedef struct mw_vector {
    char name[1100];
    char *opts[64];
    size_t nopts;
    mw_vec_segment seg[8];
    size_t nseg;
    mw_vbuf out; /* expected engine output */
    char *events[MW_VEC_MAXN];
    size_t nevents;
    char *answers[MW_VEC_MAXN];
    size_t answer_after[MW_VEC_MAXN]; /* E: lines before each A: line */
    size_t nanswers;
    char *expect[16];
    size_t nexpect;
} mw_vector;

/** mw_vector_load: S:/s: are the input, C:/c: the expected output. */
#define MW_VEC_INPUT_S 0x1u

/** @return 0, or -1 (unreadable, bad or overlong file: said on stderr). */
int mw_vector_load(const char *path, mw_vector *v, unsigned flags);
void mw_vector_free(mw_vector *v);
/** Has the vector the expectation line x (X: x)? */
int mw_vector_expects(const mw_vector *v, const char *x);

/** rc for an O: line the test does not know. */
#define MW_VEC_UNKNOWN_OPTION (-1000)
/** After applying an O: line: abort (with a message) unless rc is MW_OK. */
void mw_vector_option_check(const char *opt, int rc);

/* ---- replaying a vector ------------------------------------------------- */

/** The engine calls a replay makes, on a type-erased engine pointer. */
typedef struct mw_replay_io {
    mw_ssize (*feed)(void *e, const void *p, size_t n);
    unsigned char *(*recv_buf)(void *e, size_t *len);
    int (*recv_ack)(void *e, size_t n);
    const unsigned char *(*out_buf)(void *e, size_t *len);
    void (*out_ack)(void *e, size_t n);
    unsigned (*state)(void *e);
    int (*tls_started)(void *e);
    int (*eof)(void *e);
    uint64_t (*tls_discarded)(void *e); /* servers; NULL for clients */
} mw_replay_io;

/* The engine calls of the type T (whose functions are named T_feed ...). */
#define MW_REPLAY_IO_CALLS_(NAME, T)                                                               \
    static mw_ssize NAME##_feed(void *e, const void *p, size_t n)                                  \
    {                                                                                              \
        return T##_feed((T *)e, p, n);                                                             \
    }                                                                                              \
    static unsigned char *NAME##_recv_buf(void *e, size_t *len)                                    \
    {                                                                                              \
        return T##_recv_buf((T *)e, len);                                                          \
    }                                                                                              \
    static int NAME##_recv_ack(void *e, size_t n)                                                  \
    {                                                                                              \
        return T##_recv_ack((T *)e, n);                                                            \
    }                                                                                              \
    static const unsigned char *NAME##_out_buf(void *e, size_t *len)                               \
    {                                                                                              \
        return T##_out_buf((T *)e, len);                                                           \
    }                                                                                              \
    static void NAME##_out_ack(void *e, size_t n)                                                  \
    {                                                                                              \
        T##_out_ack((T *)e, n);                                                                    \
    }                                                                                              \
    static unsigned NAME##_state(void *e)                                                          \
    {                                                                                              \
        return T##_state((T *)e);                                                                  \
    }                                                                                              \
    static int NAME##_tls_started(void *e)                                                         \
    {                                                                                              \
        return T##_tls_started((T *)e);                                                            \
    }                                                                                              \
    static int NAME##_eof(void *e)                                                                 \
    {                                                                                              \
        return T##_eof((T *)e);                                                                    \
    }
#define MW_REPLAY_IO_TABLE_(NAME, DISCARDED)                                                       \
    static const mw_replay_io NAME = {NAME##_feed,        NAME##_recv_buf, NAME##_recv_ack,        \
                                      NAME##_out_buf,     NAME##_out_ack,  NAME##_state,           \
                                      NAME##_tls_started, NAME##_eof,      DISCARDED}

/** Define `static const mw_replay_io NAME` for a client engine type T (mw_smtp_client ...). */
#define MW_REPLAY_CLIENT_IO(NAME, T) MW_REPLAY_IO_CALLS_(NAME, T) MW_REPLAY_IO_TABLE_(NAME, NULL)

/** The same for a server engine type T, with T_tls_discarded. */
#define MW_REPLAY_SERVER_IO(NAME, T)                                                               \
    MW_REPLAY_IO_CALLS_(NAME, T)                                                                   \
    static uint64_t NAME##_discarded(void *e)                                                      \
    {                                                                                              \
        return T##_tls_discarded((T *)e);                                                          \
    }                                                                                              \
    MW_REPLAY_IO_TABLE_(NAME, NAME##_discarded)

typedef struct mw_replay mw_replay;

/**
 * One replay of one vector. A test embeds it first in its own run struct,
 * sets the engine and the hooks, calls mw_replay_segments, adds its own
 * checks and ends with mw_replay_finish (which logs kept BODY bytes first).
 */
struct mw_replay {
    const mw_vector *v;
    const mw_replay_io *io;
    void *eng;
    size_t chunk;     /* input cut in pieces of this size ((size_t)-1: whole) */
    size_t out_chunk; /* output drained in pieces of this size (partial writes) */
    int zero_copy;    /* input through recv_buf/recv_ack */
    mw_vbuf out;      /* engine output so far */
    char *log[MW_VEC_MAXN * 2];
    size_t nlog;
    size_t next_answer; /* A: lines used */
    int failed;         /* a harness-level failure ("!! ..." is logged) */
    int stop;           /* no more input or steps (a client engine failed) */
    int check_stuck;    /* input refused while the engine says WANT_READ is a failure */
    mw_vbuf body;       /* BODY event bytes not logged yet (mw_replay_body) */
    /** Pull events until the engine wants input (required; servers: mw_replay_pump_server). */
    void (*pump)(mw_replay *r);
    /** For mw_replay_pump_server: take one event (log it, answer it when paused).
     *  @return > 0 go on, 0 the engine wants input, < 0 the engine's error. */
    int (*step)(mw_replay *r);
    /** Input failed with rc (feed, recv_ack, or feed after recv_buf gave nothing).
     *  NULL: a failed recv_ack is a test failure, the rest ends the segment. */
    void (*input_error)(mw_replay *r, int rc);
    /** tls_started returned rc != MW_OK. NULL: a test failure. */
    void (*tls_error)(mw_replay *r, int rc);
};

/** Start a replay: zero r, then set v, io, eng, chunk, out_chunk, zero_copy. */
void mw_replay_init(mw_replay *r, const mw_vector *v, const mw_replay_io *io, void *eng,
                    size_t chunk, int zero_copy);
void mw_replay_log(mw_replay *r, const char *line);
/** Log a "!! ..." line and mark the replay failed. */
void mw_replay_fail(mw_replay *r, const char *line);
/**
 * The next A: line for a paused event; NULL when there is none left (then
 * "!! paused event without an answer" is logged and the replay failed).
 */
const char *mw_replay_next_answer(mw_replay *r);
/**
 * An answer's arguments "FIRST WORD REST" (FIRST: whatever the caller
 * reads from args itself): WORD is copied to word (cut to cap - 1),
 * "" when absent. @return REST, NULL when there is none.
 */
const char *mw_replay_answer_word(const char *args, char *word, size_t cap);
/** The test ran answer (an A: line) with result rc: anything but MW_OK is a failure. */
void mw_replay_answered(mw_replay *r, const char *answer, int rc);
/** Move the engine's output to r->out, out_chunk bytes at a time. */
void mw_replay_drain(mw_replay *r);
/** Keep BODY event bytes: consecutive ones become one "body ESCAPED" log line. */
void mw_replay_body(mw_replay *r, mw_slice data);
/** Log the kept BODY bytes, if any (before logging any other event). */
void mw_replay_flush_body(mw_replay *r);
/**
 * Pump for server engines: run r->step until the engine wants input,
 * draining output as it comes; an error other than MW_ERR_CLOSED is a
 * failure ("!! next: ...").
 */
void mw_replay_pump_server(mw_replay *r);
/** Feed every segment and run its transport step (tls, eof). */
void mw_replay_segments(mw_replay *r);
/**
 * The whole replay of a server engine set up by mw_replay_init: pump
 * mw_replay_pump_server with step, input refused while the engine wants
 * more is a failure, every segment, then mw_replay_finish (answers counted).
 * @return the verdict.
 */
int mw_replay_server(mw_replay *r, int (*step)(mw_replay *r), int verbose);
/**
 * Compare output, event log, answers used (unless answers_free) and the
 * closed/open/handoff/discarded expectations; print the differences when
 * they differ or when verbose; free r's log and output.
 * @param ok the test's own verdict so far. @return the final verdict.
 */
int mw_replay_finish(mw_replay *r, int ok, int verbose, int answers_free);

/** One replay: chunk (size_t)-1 is whole. @return 1 when it matched. */
typedef int (*mw_replay_fn)(const mw_vector *v, size_t chunk, int zero_copy, int verbose);

/**
 * Replay every dir/PREFIX*.txt whole, at chunk sizes 1..8 and through the
 * zero-copy path at 1..8 and whole (a vector with X: whole-only: whole,
 * both ways), then more(v) when given; a failing vector is a test failure.
 * With the environment variable only_env set, only names containing its
 * value run, verbosely.
 * @return the number of vectors run.
 */
int mw_vectors_run_dir(const char *dir, const char *prefix, const char *only_env,
                       unsigned load_flags, mw_replay_fn replay, int (*more)(const mw_vector *v));

#endif
