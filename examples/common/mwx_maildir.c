/* The Maildir store of the example programs. SPDX-License-Identifier: MIT */
#include "mwx_maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static unsigned long g_counter; /* unique names within one process */

/* mkdir -p, leaving existing directories alone. */
static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t i, len = strlen(path);
    if (len == 0 || len >= sizeof buf) return errno = ENAMETOOLONG, -1;
    memcpy(buf, path, len + 1);
    for (i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return -1;
        buf[i] = path[i];
    }
    return 0;
}

int mwx_maildir_create(const char *dir)
{
    static const char *const sub[] = {"tmp", "new", "cur"};
    char buf[4096];
    size_t i;
    if (mkdir_p(dir) != 0) return -1;
    for (i = 0; i < 3; i++) {
        if ((size_t)snprintf(buf, sizeof buf, "%s/%s", dir, sub[i]) >= sizeof buf)
            return errno = ENAMETOOLONG, -1;
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

/* The host part of a unique name, with '/' and ':' encoded as the Maildir
 * convention asks (they would break the path and the flags suffix). */
static void host_part(char *out, size_t cap)
{
    char host[256];
    size_t i, o = 0;
    if (gethostname(host, sizeof host) != 0) strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    for (i = 0; host[i] && o + 5 < cap; i++) {
        if (host[i] == '/')
            o += (size_t)snprintf(out + o, cap - o, "\\057");
        else if (host[i] == ':')
            o += (size_t)snprintf(out + o, cap - o, "\\072");
        else
            out[o++] = host[i];
    }
    out[o] = '\0';
}

int mwx_spool_open(mwx_spool *sp, const char *dir)
{
    struct timeval tv;
    char host[64];
    int n;

    sp->fd = -1;
    sp->size = 0;
    sp->err = 0;
    if (mwx_maildir_create(dir) != 0) return -1;
    gettimeofday(&tv, NULL);
    host_part(host, sizeof host);
    /* time.M<usec>P<pid>Q<counter>.host: unique per host, process and call. */
    snprintf(sp->name, sizeof sp->name, "%lld.M%06ldP%ldQ%lu.%s", (long long)tv.tv_sec,
             (long)tv.tv_usec, (long)getpid(), ++g_counter, host);
    n = snprintf(sp->path, sizeof sp->path, "%s/tmp/%s", dir, sp->name);
    if (n < 0 || (size_t)n >= sizeof sp->path) return errno = ENAMETOOLONG, -1;
    sp->fd = open(sp->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    return sp->fd < 0 ? -1 : 0;
}

int mwx_spool_write(mwx_spool *sp, const void *data, size_t len)
{
    const char *p = data;
    if (sp->err) return -1;
    while (len > 0) {
        ssize_t n = write(sp->fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            sp->err = errno;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        sp->size += (uint64_t)n;
    }
    return 0;
}

int mwx_spool_finish(mwx_spool *sp)
{
    int rc = 0;
    if (sp->err) return errno = sp->err, -1;
    if (fsync(sp->fd) != 0) rc = -1;
    if (close(sp->fd) != 0) rc = -1;
    sp->fd = -1;
    if (rc != 0) sp->err = errno;
    return rc;
}

static int fsync_dir(const char *dir)
{
    int rc, fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Copy src to dst (created exclusively), fsync. For EXDEV deliveries. */
static int copy_file(const char *src, const char *dst)
{
    char buf[65536];
    ssize_t n = 0;
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    if (in < 0) return -1;
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0) {
        char *p = buf;
        while (n > 0) {
            ssize_t w = write(out, p, (size_t)n);
            if (w < 0) goto done;
            p += w;
            n -= w;
        }
    }
    if (out >= 0 && n == 0 && fsync(out) == 0) rc = 0;
done:
    if (out >= 0 && close(out) != 0) rc = -1;
    close(in);
    if (rc != 0) unlink(dst);
    return rc;
}

int mwx_spool_deliver(const mwx_spool *sp, const char *dir)
{
    char final[4096], dirnew[4096], tmp[4096];
    if (mwx_maildir_create(dir) != 0) return -1;
    if ((size_t)snprintf(final, sizeof final, "%s/new/%s,S=%llu", dir, sp->name,
                         (unsigned long long)sp->size) >= sizeof final)
        return errno = ENAMETOOLONG, -1;
    snprintf(dirnew, sizeof dirnew, "%s/new", dir);
    if (link(sp->path, final) != 0) {
        if (errno != EXDEV) return -1;
        /* Another file system: copy into this Maildir's tmp/, then rename. */
        snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, sp->name);
        if (copy_file(sp->path, tmp) != 0) return -1;
        if (rename(tmp, final) != 0) {
            unlink(tmp);
            return -1;
        }
    }
    return fsync_dir(dirnew);
}

void mwx_spool_discard(mwx_spool *sp)
{
    if (sp->fd >= 0) close(sp->fd);
    sp->fd = -1;
    if (sp->path[0]) unlink(sp->path);
    sp->path[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Listing (for POP3 and IMAP)                                         */
/* ------------------------------------------------------------------ */

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const mwx_maildir_entry *)a)->uid, ((const mwx_maildir_entry *)b)->uid);
}

/* ",S=<digits>" before ':' gives the size without a stat(). */
static int size_from_name(const char *name, uint64_t *size)
{
    const char *s = strstr(name, ",S=");
    const char *colon = strchr(name, ':');
    uint64_t v = 0;
    if (!s || (colon && s > colon)) return 0;
    for (s += 3; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    *size = v;
    return 1;
}

static int add_entry(mwx_maildir_list *l, size_t *cap, const char *dir, const char *sub,
                     const char *name)
{
    mwx_maildir_entry *e;
    size_t flen = strlen(sub) + 1 + strlen(name) + 1;
    if (l->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        mwx_maildir_entry *v = realloc(l->v, ncap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        *cap = ncap;
    }
    e = &l->v[l->n];
    e->file = malloc(flen);
    e->uid = strdup(name);
    if (!e->file || !e->uid) {
        free(e->file);
        free(e->uid);
        return errno = ENOMEM, -1;
    }
    snprintf(e->file, flen, "%s/%s", sub, name);
    if (strchr(e->uid, ':')) *strchr(e->uid, ':') = '\0';
    if (!size_from_name(name, &e->size)) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->file);
        if (stat(path, &st) != 0) { /* gone meanwhile (another reader) */
            free(e->file);
            free(e->uid);
            return 0;
        }
        e->size = (uint64_t)st.st_size;
    }
    l->n++;
    return 0;
}

static int scan_sub(mwx_maildir_list *l, size_t *cap, const char *dir, const char *sub)
{
    char path[4096];
    struct dirent *de;
    DIR *d;
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    d = opendir(path);
    if (!d) return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        if (add_entry(l, cap, dir, sub, de->d_name) != 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return 0;
}

int mwx_maildir_scan(const char *dir, mwx_maildir_list *out)
{
    size_t cap = 0;
    out->v = NULL;
    out->n = 0;
    if (scan_sub(out, &cap, dir, "new") != 0 || scan_sub(out, &cap, dir, "cur") != 0) {
        mwx_maildir_list_free(out);
        return -1;
    }
    if (out->n > 1) qsort(out->v, out->n, sizeof *out->v, cmp_entry);
    return 0;
}

void mwx_maildir_list_free(mwx_maildir_list *l)
{
    size_t i;
    for (i = 0; i < l->n; i++) {
        free(l->v[i].file);
        free(l->v[i].uid);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int mwx_maildir_open(const char *dir, const mwx_maildir_entry *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->file);
    return open(path, O_RDONLY | O_CLOEXEC);
}

int mwx_maildir_delete(const char *dir, const mwx_maildir_entry *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->file);
    return unlink(path);
}
