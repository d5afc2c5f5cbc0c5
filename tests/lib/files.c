/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * files.c - the files C tests write (files.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

static void die(const char *what, const char *path)
{
    fprintf(stderr, "test setup: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void finish(FILE *f, const char *path, mode_t mode)
{
    if (fclose(f) != 0)
        die("writing", path);
    if (mode != TF_UMASK && chmod(path, mode) != 0)
        die("chmod", path);
}

static void vwrite(const char *path, mode_t mode, const char *fmt, va_list ap)
{
    FILE *f = fopen(path, "w");

    if (!f)
        die("creating", path);
    if (vfprintf(f, fmt, ap) < 0)
        die("writing", path);
    finish(f, path, mode);
}

static void join(char *out, size_t outlen, const char *dir, const char *name)
{
    if ((size_t)snprintf(out, outlen, "%s/%s", dir, name) >= outlen) {
        errno = ENAMETOOLONG;
        die("naming", name);
    }
}

void tf_write_at(const char *dir, const char *name, mode_t mode, const void *data,
                 size_t len)
{
    char path[4096];
    FILE *f;

    join(path, sizeof(path), dir, name);
    f = fopen(path, "w");
    if (!f)
        die("creating", path);
    if (len && fwrite(data, 1, len, f) != len)
        die("writing", path);
    finish(f, path, mode);
}

void tf_printf(const char *path, mode_t mode, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vwrite(path, mode, fmt, ap);
    va_end(ap);
}

void tf_printf_at(const char *dir, const char *name, mode_t mode, const char *fmt, ...)
{
    char path[4096];
    va_list ap;

    join(path, sizeof(path), dir, name);
    va_start(ap, fmt);
    vwrite(path, mode, fmt, ap);
    va_end(ap);
}

char *tf_tmp(const char *what, const char *text, mode_t mode)
{
    const char *dir = getenv("TMPDIR");
    size_t n = strlen(text);
    char *path;
    int fd;

    if (!dir || !*dir)
        dir = "/tmp";
    if (asprintf(&path, "%s/ck-test-%s-XXXXXX", dir, what) < 0)
        die("naming", what);
    fd = mkstemp(path);
    if (fd < 0)
        die("creating", path);
    if (write(fd, text, n) != (ssize_t)n || (mode != TF_UMASK && fchmod(fd, mode) != 0))
        die("writing", path);
    close(fd);
    return path;
}
