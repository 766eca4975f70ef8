/* Users, aliases and local domains for the example programs. SPDX-License-Identifier: MIT */
#include "mwx_conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_EXPANSION 1000

struct entry {
    char *key;
    mwx_strlist values;
};

struct mwx_table {
    struct entry *v;
    size_t n, cap;
    int fold_case; /* keys compared without case (aliases, domains) */
};

/* ------------------------------------------------------------------ */
/* String lists                                                        */
/* ------------------------------------------------------------------ */

int mwx_strlist_push(mwx_strlist *l, const char *s, size_t len)
{
    char *copy;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, ncap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = ncap;
    }
    copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->v[l->n++] = copy;
    return 0;
}

int mwx_strlist_has(const mwx_strlist *l, const char *s)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i], s) == 0) return 1;
    return 0;
}

void mwx_strlist_clear(mwx_strlist *l)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */
/* ------------------------------------------------------------------ */

void mwx_table_free(mwx_table *t)
{
    size_t i;
    if (!t) return;
    for (i = 0; i < t->n; i++) {
        free(t->v[i].key);
        mwx_strlist_clear(&t->v[i].values);
    }
    free(t->v);
    free(t);
}

static struct entry *table_add(mwx_table *t, const char *key, size_t len)
{
    struct entry *e;
    size_t i;
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        struct entry *v = realloc(t->v, ncap * sizeof *v);
        if (!v) return NULL;
        t->v = v;
        t->cap = ncap;
    }
    e = &t->v[t->n];
    memset(e, 0, sizeof *e);
    e->key = malloc(len + 1);
    if (!e->key) return NULL;
    for (i = 0; i < len; i++)
        e->key[i] = t->fold_case ? (char)tolower((unsigned char)key[i]) : key[i];
    e->key[len] = '\0';
    t->n++;
    return e;
}

static int cmp_exact(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static const struct entry *table_find(const mwx_table *t, const char *key, size_t len)
{
    char buf[512];
    struct entry probe;
    size_t i;
    if (!t || len >= sizeof buf) return NULL;
    for (i = 0; i < len; i++)
        buf[i] = t->fold_case ? (char)tolower((unsigned char)key[i]) : key[i];
    buf[len] = '\0';
    probe.key = buf;
    return bsearch(&probe, t->v, t->n, sizeof *t->v, cmp_exact);
}

static mwx_table *table_new(int fold_case)
{
    mwx_table *t = calloc(1, sizeof *t);
    if (t) t->fold_case = fold_case;
    return t;
}

static void table_sort(mwx_table *t)
{
    if (t->n > 1) qsort(t->v, t->n, sizeof *t->v, cmp_exact);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static size_t trim_len(const char *p, size_t len)
{
    while (len > 0 &&
           (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    return len;
}

/* Parse one "key: value" line into t. With split, the value is a comma
 * list. @return 0, 1 (not a "key:" line), -1 (out of memory). */
static int parse_line(mwx_table *t, const char *line, int split)
{
    const char *p = skip_space(line), *colon = strchr(p, ':');
    struct entry *e;
    size_t klen;
    if (*p == '#' || trim_len(p, strlen(p)) == 0) return 0;
    if (!colon) return 1;
    klen = trim_len(p, (size_t)(colon - p));
    if (klen == 0) return 1;
    e = table_add(t, p, klen);
    if (!e) return -1;
    p = colon + 1;
    if (!split) { /* a password is taken as is, only the line end is cut */
        size_t vlen = strlen(p);
        while (vlen > 0 && (p[vlen - 1] == '\n' || p[vlen - 1] == '\r'))
            vlen--;
        return mwx_strlist_push(&e->values, p, vlen);
    }
    while (*p) {
        const char *end;
        size_t vlen;
        p = skip_space(p);
        end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        vlen = trim_len(p, (size_t)(end - p));
        if (vlen > 0 && mwx_strlist_push(&e->values, p, vlen) != 0) return -1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int load_file(mwx_table **out, const char *path, int split, char *err, size_t cap)
{
    char line[4096];
    unsigned lineno = 0;
    FILE *f = fopen(path, "r");
    mwx_table *t;
    *out = NULL;
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    t = table_new(split); /* aliases fold case; user names do not */
    while (t && fgets(line, sizeof line, f)) {
        int rc = parse_line(t, line, split);
        lineno++;
        if (rc == 0) continue;
        snprintf(err, cap, rc < 0 ? "%s:%u: out of memory" : "%s:%u: expected 'name: value'", path,
                 lineno);
        mwx_table_free(t);
        fclose(f);
        return -1;
    }
    fclose(f);
    if (!t) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    table_sort(t);
    *out = t;
    return 0;
}

int mwx_users_load(mwx_table **out, const char *path, char *err, size_t cap)
{
    return load_file(out, path, 0, err, cap);
}

const char *mwx_users_password(const mwx_table *t, const char *user, size_t len)
{
    const struct entry *e = table_find(t, user, len);
    return e && e->values.n ? e->values.v[0] : NULL;
}

int mwx_aliases_load(mwx_table **out, const char *path, char *err, size_t cap)
{
    return load_file(out, path, 1, err, cap);
}

int mwx_domains_parse(mwx_table **out, const char *list)
{
    mwx_table *t = table_new(1);
    const char *p = list;
    *out = NULL;
    if (!t) return -1;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len;
        p = skip_space(p);
        if (!end) end = p + strlen(p);
        len = trim_len(p, (size_t)(end - p));
        if (len > 0 && !table_add(t, p, len)) {
            mwx_table_free(t);
            return -1;
        }
        p = *end ? end + 1 : end;
    }
    table_sort(t);
    *out = t;
    return 0;
}

int mwx_domains_has(const mwx_table *t, const char *domain, size_t len)
{
    return table_find(t, domain, len) != NULL;
}

/* ------------------------------------------------------------------ */
/* Alias expansion                                                     */
/* ------------------------------------------------------------------ */

size_t mwx_addr_split(const char *addr, const char **domain)
{
    const char *at = strrchr(addr, '@');
    if (!at) {
        *domain = addr + strlen(addr);
        return strlen(addr);
    }
    *domain = at + 1;
    return (size_t)(at - addr);
}

static const struct entry *alias_for(const mwx_table *aliases, const mwx_table *domains,
                                     const char *addr)
{
    const char *domain;
    size_t llen = mwx_addr_split(addr, &domain);
    const struct entry *e;
    if (*domain && !mwx_domains_has(domains, domain, strlen(domain))) return NULL;
    e = table_find(aliases, addr, strlen(addr));
    return e ? e : table_find(aliases, addr, llen);
}

static int names_itself(const struct entry *e, const char *addr)
{
    const char *domain;
    size_t i, llen = mwx_addr_split(addr, &domain);
    for (i = 0; i < e->values.n; i++) {
        const char *m = e->values.v[i];
        if (strcasecmp(m, addr) == 0 || (strlen(m) == llen && strncasecmp(m, addr, llen) == 0))
            return 1;
    }
    return 0;
}

/* A work list instead of recursion: alias depth is whatever the file says. */
int mwx_aliases_expand(const mwx_table *aliases, const mwx_table *domains, const char *addr,
                       mwx_strlist *out)
{
    mwx_strlist todo = {0}, seen = {0};
    int rc = 0;
    if (mwx_strlist_push(&todo, addr, strlen(addr)) != 0) return -1;
    while (todo.n > 0 && rc == 0) {
        char *a = todo.v[--todo.n];
        const struct entry *e = aliases ? alias_for(aliases, domains, a) : NULL;
        size_t i;
        if (mwx_strlist_has(&seen, a)) {
            free(a);
            continue;
        }
        if (seen.n > MAX_EXPANSION || mwx_strlist_push(&seen, a, strlen(a)) != 0) rc = -1;
        /* Members are pushed in reverse so they come out in file order.
         * One already visited is a loop and is dropped, except the alias
         * itself ("bob: bob, carol" keeps a copy for bob). */
        for (i = e ? e->values.n : 0; rc == 0 && i > 0; i--)
            if (!mwx_strlist_has(&seen, e->values.v[i - 1]))
                rc = mwx_strlist_push(&todo, e->values.v[i - 1], strlen(e->values.v[i - 1]));
        if (rc == 0 && (!e || names_itself(e, a)) && !mwx_strlist_has(out, a)) {
            if (out->n >= MAX_EXPANSION)
                rc = -1;
            else
                rc = mwx_strlist_push(out, a, strlen(a));
        }
        free(a);
    }
    mwx_strlist_clear(&todo);
    mwx_strlist_clear(&seen);
    return rc;
}
