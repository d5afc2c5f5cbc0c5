/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * secfile.c - the one ownership and mode policy for the files checkup
 * trusts; reads that apply it to the open file; atomic rewrites.
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

#include "ck_secfile.h"

static int owner_ok(uid_t uid)
{
    return uid == 0 || uid == geteuid();
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case CK_FILE_SECRET: return "secret file";
    case CK_FILE_CONFIG: return "configuration file";
    default: return "audit file";
    }
}

/*
 * Whoever can write the directory can put another file in the file's
 * place. stat(2) of the path's directory follows any symlinks on the way,
 * so it is the directory that holds the entry; only when the entry itself
 * is a symlink (a Kubernetes volume, an alternatives link) is the path
 * resolved, so that the file is judged by the directory that holds it.
 * A sticky directory (/tmp) lets nobody replace another's file.
 */
static int dir_ok(const char *path, char *err, size_t errlen)
{
    char *dir = NULL, *slash;
    struct stat sb;
    int ok = 0;

    if (lstat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        return 0;
    }
    dir = S_ISLNK(sb.st_mode) ? realpath(path, NULL) : strdup(path);
    if (!dir) {
        snprintf(err, errlen, "%s: cannot resolve: %s", path, strerror(errno));
        return 0;
    }
    slash = strrchr(dir, '/');
    if (!slash) {
        /* A relative name: the current directory holds it. */
        free(dir);
        dir = strdup(".");
        if (!dir) {
            snprintf(err, errlen, "%s: out of memory", path);
            return 0;
        }
    } else if (slash == dir) {
        slash[1] = '\0';
    } else {
        *slash = '\0';
    }
    if (stat(dir, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot stat its directory %s: %s", path, dir,
                 strerror(errno));
        goto out;
    }
    if (!owner_ok(sb.st_uid)) {
        snprintf(err, errlen, "%s: refused: its directory %s is owned by uid %u, not root "
                 "or uid %u", path, dir, (unsigned)sb.st_uid, (unsigned)geteuid());
        goto out;
    }
    if ((sb.st_mode & (S_IWGRP | S_IWOTH)) && !(sb.st_mode & S_ISVTX)) {
        snprintf(err, errlen, "%s: refused: its directory %s has mode %04o: group or others "
                 "can replace files in it (chmod go-w it)", path, dir,
                 (unsigned)(sb.st_mode & 07777));
        goto out;
    }
    ok = 1;
out:
    free(dir);
    return ok;
}

/* The policy for the file itself (type, mode, owner), not its directory. */
static int file_ok(const char *path, const struct stat *sb, int kind, char *err,
                   size_t errlen)
{
    mode_t bad = kind == CK_FILE_SECRET ? (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)
                                        : (S_IWGRP | S_IWOTH);

    if (!S_ISREG(sb->st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    if (kind == CK_FILE_ANY)
        return 0;
    if (sb->st_mode & bad) {
        snprintf(err, errlen, "%s: refused: mode %04o lets %s %s it (a %s: chmod %s it)",
                 path, (unsigned)(sb->st_mode & 07777), "group or others",
                 kind == CK_FILE_SECRET ? "read or write" : "write", kind_name(kind),
                 kind == CK_FILE_SECRET ? "600" : "go-w");
        return -1;
    }
    if (!owner_ok(sb->st_uid)) {
        snprintf(err, errlen, "%s: refused: owned by uid %u, not root or uid %u", path,
                 (unsigned)sb->st_uid, (unsigned)geteuid());
        return -1;
    }
    return 0;
}

int ck_secfile_check(const char *path, const struct stat *sb, int kind, char *err,
                     size_t errlen)
{
    if (file_ok(path, sb, kind, err, errlen) != 0)
        return -1;
    return kind == CK_FILE_ANY || dir_ok(path, err, errlen) ? 0 : -1;
}

int ck_secfile_check_dir(const char *path, char *err, size_t errlen)
{
    struct stat sb;

    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", path);
        return -1;
    }
    if (!owner_ok(sb.st_uid)) {
        snprintf(err, errlen, "%s: refused: owned by uid %u, not root or uid %u", path,
                 (unsigned)sb.st_uid, (unsigned)geteuid());
        return -1;
    }
    if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(err, errlen, "%s: refused: mode %04o lets group or others add files "
                 "(chmod go-w it)", path, (unsigned)(sb.st_mode & 07777));
        return -1;
    }
    return 0;
}

/*
 * The directory may be a symlink (the admin's choice); a file in it may
 * not, since group members can create entries there. Others may list the
 * directory (names tell nothing) but never write it, nor touch a file.
 */
int ck_secfile_check_store(const char *path, int is_dir, char *err, size_t errlen)
{
    mode_t bad = is_dir ? S_IWOTH : S_IRWXO;
    struct stat sb;

    if ((is_dir ? stat(path, &sb) : lstat(path, &sb)) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        return -1;
    }
    if (is_dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: refused: not a %s", path,
                 is_dir ? "directory" : "regular file");
        return -1;
    }
    if (sb.st_mode & bad) {
        snprintf(err, errlen, "%s: refused: mode %04o lets others %s (chmod o-%s it)", path,
                 (unsigned)(sb.st_mode & 07777), is_dir ? "write it" : "in",
                 is_dir ? "w" : "rwx");
        return -1;
    }
    return 0;
}

int ck_secfile_open(const char *path, int kind, struct stat *sbp, char *err, size_t errlen)
{
    struct stat sb;
    int fd;

    /* O_NONBLOCK: a FIFO named here must be refused below, not block the open. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (ck_secfile_check(path, &sb, kind, err, errlen) != 0)
        goto fail;
    /* Reads block as usual from here on. */
    if (fcntl(fd, F_SETFL, 0) != 0) {
        snprintf(err, errlen, "%s: fcntl: %s", path, strerror(errno));
        goto fail;
    }
    if (sbp)
        *sbp = sb;
    return fd;
fail:
    close(fd);
    return -1;
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
    fd = ck_secfile_open(path, check_mode, &sb, err, errlen);
    if (fd < 0)
        return -1;
    if ((size_t)sb.st_size > max) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
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
    return file_ok(path, sb, check_mode, err, errlen);
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
    struct stat sb;
    int fd;

    if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock)) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    /*
     * No symlink: root must not open (and create) whatever one names; no
     * FIFO or device either (O_NONBLOCK: not waited on, then refused).
     */
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", lock, strerror(errno));
        return -1;
    }
    /*
     * Ours or root's only: in a sticky directory (/tmp) someone else may
     * have made the lock first, and would hold it for as long as they
     * like; every edit would then wait forever.
     */
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || !owner_ok(sb.st_uid)) {
        snprintf(err, errlen, "%s: refused: not a regular file owned by root or uid %u "
                 "(remove it)", lock, (unsigned)geteuid());
        close(fd);
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
