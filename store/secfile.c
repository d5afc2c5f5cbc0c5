/*
 * secfile.c - read secret files with a mode check, rewrite them atomically.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "secfile.h"

static int mode_ok(const struct stat *sb, const char *path, char *err, size_t errlen)
{
    if (!S_ISREG(sb->st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return 0;
    }
    if (sb->st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
        snprintf(err, errlen,
                 "%s: refused: mode %04o lets group or others read or write it "
                 "(chmod 600 it)", path, (unsigned)(sb->st_mode & 07777));
        return 0;
    }
    if (sb->st_uid != 0 && sb->st_uid != geteuid()) {
        snprintf(err, errlen, "%s: refused: owned by uid %u, not root or uid %u", path,
                 (unsigned)sb->st_uid, (unsigned)geteuid());
        return 0;
    }
    return 1;
}

int ck_secfile_read(const char *path, int check_mode, size_t max, char **data,
                    size_t *len, char *err, size_t errlen)
{
    struct stat sb;
    char *buf = NULL;
    size_t used = 0;
    int fd, rc = -1;

    *data = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO named here must be refused below, not block the open. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (check_mode && !mode_ok(&sb, path, err, errlen))
        goto out;
    if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
        snprintf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
        goto out;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    /* The file may grow while we read: never read past what we allocated. */
    while (used < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + used, (size_t)sb.st_size - used);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    buf = NULL;
    rc = 0;
out:
    if (buf)
        ck_secfile_free(buf, (size_t)sb.st_size);
    close(fd);
    return rc;
}

int ck_secfile_stat(const char *path, int check_mode, struct stat *sb,
                    char *err, size_t errlen)
{
    if (stat(path, sb) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        return -1;
    }
    if (check_mode && !mode_ok(sb, path, err, errlen))
        return -1;
    if (!S_ISREG(sb->st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    return 0;
}

/*
 * ctime too: every write, rename over, chmod or chown changes it, so an
 * edit that keeps size and mtime (touch -r, a clock step) is still seen.
 */
int ck_secfile_same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mode == b->st_mode && a->st_uid == b->st_uid &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

void ck_secfile_free(char *data, size_t len)
{
    if (!data)
        return;
    OPENSSL_cleanse(data, len);
    free(data);
}

int ck_secfile_lock(const char *path, char *err, size_t errlen)
{
    char lock[4096];
    int fd;

    if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock)) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", lock, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        snprintf(err, errlen, "%s: cannot lock: %s", lock, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ck_secfile_replace(const char *path, const char *data, size_t len,
                       char *err, size_t errlen)
{
    char tmp[4096];
    int fd, rc = -1;

    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary file beside it: %s", path,
                 strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    return rc;
}
