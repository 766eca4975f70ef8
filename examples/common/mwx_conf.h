/*
 * Shared glue for the mailwire example programs: the small text files a
 * mail system is configured with.
 *
 *   users file     "user:password" per line (the Maildir owners and the
 *                  AUTH accounts); '#' starts a comment line.
 *   aliases file   "alias: addr1, addr2, ..." per line; an alias is a local
 *                  part ("team") or a whole address ("team@example.org");
 *                  members may be users, other aliases or remote addresses
 *                  (a simple mailing list). Expansion is loop-safe.
 *   local domains  a comma-separated list given on the command line.
 *
 * Names are case-insensitive except user names and passwords.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MWX_CONF_H
#define MWX_CONF_H

#include <stddef.h>

/** A growable list of strings, each owned by the list. */
typedef struct mwx_strlist {
    char **v;
    size_t n, cap;
} mwx_strlist;

/** Append a copy of s (len octets). @return 0, -1 (out of memory). */
int mwx_strlist_push(mwx_strlist *l, const char *s, size_t len);
/** 1 if the list holds s, compared without ASCII case. */
int mwx_strlist_has(const mwx_strlist *l, const char *s);
/** Free every string (the list can be reused). */
void mwx_strlist_clear(mwx_strlist *l);

/** A sorted key -> values table (users, aliases, domains). */
typedef struct mwx_table mwx_table;

/** Load "user:password" lines. @return 0, or -1 with a message in err. */
int mwx_users_load(mwx_table **out, const char *path, char *err, size_t cap);
/** The password of user (exact match), or NULL when there is no such user. */
const char *mwx_users_password(const mwx_table *t, const char *user, size_t len);

/** Load "alias: a, b, c" lines. @return 0, or -1 with a message in err. */
int mwx_aliases_load(mwx_table **out, const char *path, char *err, size_t cap);

/** Parse "example.org,example.net". @return 0, -1 (out of memory). */
int mwx_domains_parse(mwx_table **out, const char *list);
/** 1 if domain (len octets) is in the table, without case. */
int mwx_domains_has(const mwx_table *t, const char *domain, size_t len);

/** Free a table (NULL is a no-op). */
void mwx_table_free(mwx_table *t);

/**
 * Expand one recipient address through the aliases: an address whose
 * domain is local (or that has no domain) and that names an alias (as
 * "local@domain" or as "local") is replaced by its members, recursively;
 * every address is visited once (loops end), at most 1000 results.
 * Final addresses are appended to out unless already there.
 * @param aliases, domains may be NULL.
 * @return 0, -1 (out of memory or over 1000 addresses).
 */
int mwx_aliases_expand(const mwx_table *aliases, const mwx_table *domains, const char *addr,
                       mwx_strlist *out);

/** The local part of addr (before the last '@') and the domain (after it,
 *  "" when none). Returns the local part's length; *domain points into addr. */
size_t mwx_addr_split(const char *addr, const char **domain);

#endif
