/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * files.h - the files C tests write, in one place. A setup that cannot
 * write its files has nothing to test: each helper prints what failed and
 * exits the test program with status 1, which fails the test.
 */
#ifndef CK_TEST_FILES_H
#define CK_TEST_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* Mode for a file left as the umask creates it (no chmod). */
#define TF_UMASK ((mode_t)-1)

/* Writes len bytes of data to dir/name (created or truncated), then mode. */
void tf_write_at(const char *dir, const char *name, mode_t mode, const void *data,
                 size_t len);

/* Writes the formatted text to path, then mode. */
void tf_printf(const char *path, mode_t mode, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the formatted text to dir/name, then mode. */
void tf_printf_at(const char *dir, const char *name, mode_t mode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A new file under $TMPDIR (or /tmp) named ck-test-what-XXXXXX holding
 * text, mode set; returns its path (the caller unlinks and frees it). */
char *tf_tmp(const char *what, const char *text, mode_t mode);

#endif
