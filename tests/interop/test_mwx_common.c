/*
 * Unit tests of the example programs' shared glue (examples/common): the
 * Maildir store and the users/aliases/domains files. Runs in a temporary
 * directory; ends with "N passed, N failed".
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"
#include "mwx_conf.h"
#include "mwx_maildir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_root[256];

static void path(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", g_root, rel);
}

static size_t read_file(const char *p, char *buf, size_t cap)
{
    FILE *f = fopen(p, "rb");
    size_t n;
    if (!f) return 0;
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void write_text(const char *rel, const char *text)
{
    char p[512];
    FILE *f;
    path(p, sizeof p, rel);
    f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static size_t count_dir(const char *rel)
{
    char p[512];
    mwx_maildir_list l;
    size_t n;
    path(p, sizeof p, rel);
    if (mwx_maildir_scan(p, &l) != 0) return (size_t)-1;
    n = l.n;
    mwx_maildir_list_free(&l);
    return n;
}

/* A body written in uneven chunks lands whole in two Maildirs, as links. */
static void test_spool_deliver(void)
{
    char spool[512], a[512], b[512], got[70000], file[600];
    static char body[65536];
    mwx_spool sp;
    mwx_maildir_list l;
    struct stat st;
    size_t i, off = 0, step = 1;
    uint64_t seed = 42;

    for (i = 0; i < sizeof body; i++)
        body[i] = (char)(mw_test_rand(&seed) & 0xff);
    path(spool, sizeof spool, "spool");
    path(a, sizeof a, "a/Maildir");
    path(b, sizeof b, "b/Maildir");
    CHECK_INT(mwx_spool_open(&sp, spool), 0);
    while (off < sizeof body) { /* chunks of 1, 2, 3, ... octets */
        size_t n = step < sizeof body - off ? step : sizeof body - off;
        CHECK_INT(mwx_spool_write(&sp, body + off, n), 0);
        off += n;
        step++;
    }
    CHECK(sp.size == sizeof body);
    CHECK_INT(mwx_spool_finish(&sp), 0);
    CHECK_INT(mwx_spool_deliver(&sp, a), 0);
    CHECK_INT(mwx_spool_deliver(&sp, b), 0);
    CHECK_INT(mwx_spool_deliver(&sp, b), -1); /* the same name twice: refused, not overwritten */
    mwx_spool_discard(&sp);
    CHECK(access(sp.path, F_OK) != 0);
    CHECK_INT((int)count_dir("spool"), 0);

    CHECK_INT(mwx_maildir_scan(a, &l), 0);
    CHECK_INT((int)l.n, 1);
    if (l.n == 1) {
        CHECK(l.v[0].size == sizeof body);
        CHECK(strncmp(l.v[0].file, "new/", 4) == 0);
        CHECK(strstr(l.v[0].uid, ",S=65536") != NULL);
        snprintf(file, sizeof file, "%s/%s", a, l.v[0].file);
        CHECK_MEM(got, read_file(file, got, sizeof got), body, sizeof body);
        CHECK_INT(stat(file, &st), 0);
        CHECK_INT((int)st.st_nlink, 2); /* one inode for both mailboxes */
    }
    mwx_maildir_list_free(&l);
}

/* UIDs survive the move to cur/ with flags; delete removes the file. */
static void test_scan_uid_delete(void)
{
    char dir[512], from[700], to[700], uid[200];
    mwx_maildir_list l;
    mwx_spool sp;
    int i;

    path(dir, sizeof dir, "c/Maildir");
    for (i = 0; i < 3; i++) {
        CHECK_INT(mwx_spool_open(&sp, dir), 0);
        CHECK_INT(mwx_spool_write(&sp, "Subject: x\r\n\r\nhi\r\n", 18), 0);
        CHECK_INT(mwx_spool_finish(&sp), 0);
        CHECK_INT(mwx_spool_deliver(&sp, dir), 0);
        mwx_spool_discard(&sp);
    }
    CHECK_INT(mwx_maildir_scan(dir, &l), 0);
    CHECK_INT((int)l.n, 3);
    if (l.n != 3) return;
    CHECK(strcmp(l.v[0].uid, l.v[1].uid) < 0 && strcmp(l.v[1].uid, l.v[2].uid) < 0);
    snprintf(uid, sizeof uid, "%s", l.v[1].uid);
    snprintf(from, sizeof from, "%s/%s", dir, l.v[1].file);
    snprintf(to, sizeof to, "%s/cur/%s:2,S", dir, l.v[1].uid);
    CHECK_INT(rename(from, to), 0);
    mwx_maildir_list_free(&l);

    CHECK_INT(mwx_maildir_scan(dir, &l), 0);
    CHECK_INT((int)l.n, 3);
    if (l.n != 3) return;
    CHECK(strcmp(l.v[1].uid, uid) == 0);
    CHECK(strncmp(l.v[1].file, "cur/", 4) == 0);
    CHECK(l.v[1].size == 18);
    {
        int fd = mwx_maildir_open(dir, &l.v[1]);
        char buf[32];
        CHECK(fd >= 0);
        if (fd >= 0) {
            CHECK_STR(buf, (size_t)read(fd, buf, sizeof buf), "Subject: x\r\n\r\nhi\r\n");
            close(fd);
        }
    }
    CHECK_INT(mwx_maildir_delete(dir, &l.v[1]), 0);
    mwx_maildir_list_free(&l);
    CHECK_INT((int)count_dir("c/Maildir"), 2);
    CHECK_INT((int)count_dir("missing/Maildir"), 0); /* no Maildir yet: empty */
}

static void test_users(void)
{
    char p[512], err[256];
    mwx_table *t = NULL;
    write_text("users", "# accounts\n\nalice:secret\nbob:pass word:with colon\r\n  carol:x\n");
    path(p, sizeof p, "users");
    CHECK_INT(mwx_users_load(&t, p, err, sizeof err), 0);
    CHECK(mwx_users_password(t, "alice", 5) &&
          !strcmp(mwx_users_password(t, "alice", 5), "secret"));
    CHECK(mwx_users_password(t, "bob", 3) &&
          !strcmp(mwx_users_password(t, "bob", 3), "pass word:with colon"));
    CHECK(mwx_users_password(t, "carol", 5) != NULL);
    CHECK(mwx_users_password(t, "Alice", 5) == NULL); /* user names are exact */
    CHECK(mwx_users_password(t, "alic", 4) == NULL);
    mwx_table_free(t);
    write_text("bad", "alice secret\n");
    path(p, sizeof p, "bad");
    CHECK_INT(mwx_users_load(&t, p, err, sizeof err), -1);
    CHECK(strstr(err, ":1:") != NULL);
    path(p, sizeof p, "nonexistent");
    CHECK_INT(mwx_users_load(&t, p, err, sizeof err), -1);
}

static int list_is(const mwx_strlist *l, const char *const *want, size_t n)
{
    size_t i;
    if (l->n != n) return 0;
    for (i = 0; i < n; i++)
        if (strcmp(l->v[i], want[i]) != 0) return 0;
    return 1;
}

static void test_aliases(void)
{
    static const char *const team[] = {"alice", "bob"};
    static const char *const all[] = {"alice", "bob", "carol", "x@remote.test"};
    static const char *const loop[] = {"carol"};
    static const char *const remote[] = {"team@remote.test"};
    static const char *const self[] = {"self@example.org"};
    char p[512], err[256];
    mwx_table *a = NULL, *d = NULL;
    mwx_strlist out = {0};

    write_text("aliases", "team: alice, bob\nAll@Example.org: team, carol,alice , x@remote.test\n"
                          "loop1: loop2\nloop2: loop1, carol\nself: self@example.org\n# c\n");
    path(p, sizeof p, "aliases");
    CHECK_INT(mwx_aliases_load(&a, p, err, sizeof err), 0);
    CHECK_INT(mwx_domains_parse(&d, "example.org, Example.NET"), 0);
    CHECK(mwx_domains_has(d, "EXAMPLE.org", 11));
    CHECK(mwx_domains_has(d, "example.net", 11));
    CHECK(!mwx_domains_has(d, "example.com", 11));

    CHECK_INT(mwx_aliases_expand(a, d, "team@example.org", &out), 0);
    CHECK(list_is(&out, team, 2));
    mwx_strlist_clear(&out);
    CHECK_INT(mwx_aliases_expand(a, d, "all@EXAMPLE.ORG", &out), 0);
    CHECK(list_is(&out, all, 4)); /* file order, alice once */
    mwx_strlist_clear(&out);
    CHECK_INT(mwx_aliases_expand(a, d, "loop1@example.net", &out), 0);
    CHECK(list_is(&out, loop, 1)); /* the loop ends */
    mwx_strlist_clear(&out);
    CHECK_INT(mwx_aliases_expand(a, d, "team@remote.test", &out), 0);
    CHECK(list_is(&out, remote, 1)); /* not a local domain: no expansion */
    mwx_strlist_clear(&out);
    CHECK_INT(mwx_aliases_expand(a, d, "self@example.org", &out), 0);
    CHECK(list_is(&out, self, 1)); /* an alias naming itself is delivered once */
    mwx_strlist_clear(&out);
    CHECK_INT(mwx_aliases_expand(NULL, d, "x@example.org", &out), 0);
    CHECK_INT((int)out.n, 1);
    mwx_strlist_clear(&out);
    mwx_table_free(a);
    mwx_table_free(d);
}

/* A chain of 2000 aliases is cut at the 1000-address cap, not followed. */
static void test_alias_cap(void)
{
    char p[512], err[256];
    mwx_table *a = NULL;
    mwx_strlist out = {0};
    FILE *f;
    int i;
    path(p, sizeof p, "chain");
    f = fopen(p, "w");
    for (i = 0; i < 2000; i++)
        fprintf(f, "a%d: a%d, u%d\n", i, i + 1, i);
    fclose(f);
    CHECK_INT(mwx_aliases_load(&a, p, err, sizeof err), 0);
    CHECK_INT(mwx_aliases_expand(a, NULL, "a0", &out), -1);
    CHECK(out.n <= 1000);
    mwx_strlist_clear(&out);
    mwx_table_free(a);
}

int main(void)
{
    char cmd[300];
    snprintf(g_root, sizeof g_root, "/tmp/mwx-common.XXXXXX");
    if (!mkdtemp(g_root)) return 1;
    MW_RUN(test_spool_deliver);
    MW_RUN(test_scan_uid_delete);
    MW_RUN(test_users);
    MW_RUN(test_aliases);
    MW_RUN(test_alias_cap);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_root);
    return mw_test_finish();
}
