/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * util.c - small helpers for the fuzz targets.
 */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

void ck_fuzz_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("ckfuzz: property broken: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

char *ck_fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        ck_fuzz_fail("out of memory");
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

const char *ck_fuzz_sid(void)
{
    static char sid[CK_SID_LEN];

    if (!sid[0]) {
        memset(sid, 'A', sizeof(sid) - 1);
        sid[0] = '0';
        sid[1] = 'a';
        sid[sizeof(sid) - 1] = '\0';
    }
    return sid;
}

static char tmpdir[4096];

/* Files are flat: the targets never make subdirectories. */
static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[sizeof(tmpdir) + 256];

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

const char *ck_fuzz_tmpdir(void)
{
    const char *base = getenv("TMPDIR");

    if (tmpdir[0])
        return tmpdir;
    snprintf(tmpdir, sizeof(tmpdir), "%s/ckfuzz-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        ck_fuzz_fail("cannot make a temporary directory under %s", base ? base : "/tmp");
    atexit(remove_tmpdir);
    return tmpdir;
}
