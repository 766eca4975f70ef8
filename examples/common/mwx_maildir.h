/*
 * Shared glue for the mailwire example programs: a Maildir store.
 *
 * Delivery follows the Maildir rules: the message is written under tmp/
 * with a name unique to this host, process and moment, fsync()ed, then
 * linked into new/ and the directory fsync()ed, so a reader never sees a
 * partial message and a crash never loses an acknowledged one. The body
 * arrives in chunks (mwx_spool_write), never whole in memory. One spool
 * file can be delivered into several Maildirs (hard links on one file
 * system, a copy otherwise), so a message for many recipients is written
 * once.
 *
 * Names in new/ and cur/ are "<unique>,S=<size>" (plus ":2,<flags>" in
 * cur/); the part before ':' is the message's stable UID.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MWX_MAILDIR_H
#define MWX_MAILDIR_H

#include <stddef.h>
#include <stdint.h>

/** Create DIR and DIR/tmp, DIR/new, DIR/cur, with missing parents (0700).
 *  @return 0, -1 with errno. */
int mwx_maildir_create(const char *dir);

/** A message being written under some Maildir's tmp/. */
typedef struct mwx_spool {
    int fd;          /**< -1 when not open */
    char name[160];  /**< unique base name (no size suffix) */
    char path[4096]; /**< DIR/tmp/name */
    uint64_t size;   /**< octets written */
    int err;         /**< errno of the first failed write, 0 if none */
} mwx_spool;

/** Start a message in DIR/tmp (DIR is created if needed). @return 0, -1 with errno. */
int mwx_spool_open(mwx_spool *sp, const char *dir);

/** Append a chunk. After a failure, later writes are skipped and the error
 *  is kept in sp->err (the caller answers 451 at the end). @return 0, -1. */
int mwx_spool_write(mwx_spool *sp, const void *data, size_t len);

/** fsync and close the file (it stays in tmp/). @return 0, -1 with errno. */
int mwx_spool_finish(mwx_spool *sp);

/**
 * Make the finished spool file appear in DIR/new as "<name>,S=<size>"
 * (DIR is created if needed): a hard link when possible, otherwise a copy
 * through DIR/tmp and a rename. DIR/new is fsync()ed.
 * @return 0, -1 with errno.
 */
int mwx_spool_deliver(const mwx_spool *sp, const char *dir);

/** Close (if open) and unlink the tmp file. Safe to call twice. */
void mwx_spool_discard(mwx_spool *sp);

/** One message found by mwx_maildir_scan. */
typedef struct mwx_maildir_entry {
    char *file;    /**< "new/NAME" or "cur/NAME", relative to the Maildir */
    char *uid;     /**< NAME up to ':' (stable across flag changes and new -> cur) */
    uint64_t size; /**< octets: from ",S=" in the name, else stat() */
} mwx_maildir_entry;

typedef struct mwx_maildir_list {
    mwx_maildir_entry *v;
    size_t n;
} mwx_maildir_list;

/** List new/ and cur/ of DIR, sorted by UID (delivery order for our names).
 *  Dot files are skipped. @return 0, -1 with errno (ENOMEM, or the Maildir
 *  is missing: an empty list is returned for ENOENT with 0). */
int mwx_maildir_scan(const char *dir, mwx_maildir_list *out);

/** Free a list from mwx_maildir_scan. */
void mwx_maildir_list_free(mwx_maildir_list *l);

/** Open a listed message read-only. @return a file descriptor, -1 with errno. */
int mwx_maildir_open(const char *dir, const mwx_maildir_entry *e);

/** Delete a listed message. @return 0, -1 with errno. */
int mwx_maildir_delete(const char *dir, const mwx_maildir_entry *e);

#endif
