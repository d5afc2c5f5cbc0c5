/*
 * secfile.h - small files holding secrets (users file, token key ring):
 * read with a mode check, rewrite atomically under a lock. Internal to
 * libcheckup.
 */
#ifndef CK_SECFILE_H
#define CK_SECFILE_H

#include <stddef.h>

#include <sys/stat.h>

/*
 * Reads all of path (at most max bytes, else an error). With check_mode, a
 * file that is not a regular file, is readable or writable by group or
 * others, or belongs to neither root nor the effective user is refused.
 * *data is NUL-terminated and freed with ck_secfile_free(data, len).
 */
int ck_secfile_read(const char *path, int check_mode, size_t max, char **data,
                    size_t *len, char *err, size_t errlen);
/*
 * stat(2) of path with the checks of ck_secfile_read (check_mode as
 * there; a regular file either way): for a caller that keeps what it
 * read and rereads only when the file changed.
 */
int ck_secfile_stat(const char *path, int check_mode, struct stat *sb,
                    char *err, size_t errlen);

/* 1 when a and b describe the same file with the same contents' identity. */
int ck_secfile_same(const struct stat *a, const struct stat *b);

/* Wipes and frees what ck_secfile_read returned. */
void ck_secfile_free(char *data, size_t len);

/* Takes an exclusive lock on "path.lock"; returns its fd (close to unlock). */
int ck_secfile_lock(const char *path, char *err, size_t errlen);

/*
 * Replaces path with data: a temporary file in the same directory, mode
 * 0600, written and synced, then renamed over path, so a reader sees
 * either the old file or the new one, never half of one.
 */
int ck_secfile_replace(const char *path, const char *data, size_t len,
                       char *err, size_t errlen);

#endif
