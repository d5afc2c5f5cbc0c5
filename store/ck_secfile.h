/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_secfile.h - the files checkup trusts (checkup.conf, users file, token
 * key ring, private keys, audit file): one ownership and mode policy for
 * all of them, reads that check it on the open descriptor, atomic
 * rewrites under a lock. Every component that reads or writes such a file
 * goes through here (the OIDC client's private keys, the PAM module's
 * files, the CLI's key rotation). The policy is the table in
 * checkup.conf(5), FILE SAFETY.
 */
#ifndef CK_SECFILE_H
#define CK_SECFILE_H

#include <stddef.h>

#include <sys/stat.h>

/*
 * What a file is trusted with; check_mode arguments below take one.
 * Every kind must be a regular file owned by root or the effective user,
 * in a directory owned by root or the effective user that group and
 * others cannot write (unless it is sticky, as /tmp). Beyond that:
 */
#define CK_FILE_ANY     0   /* a regular file, nothing more (tools, tests) */
#define CK_FILE_SECRET  1   /* users file, key ring, private keys: mode 0600 or less */
#define CK_FILE_CONFIG  2   /* checkup.conf: others may read, only the owner writes */
#define CK_FILE_LOG     3   /* the audit file: as CK_FILE_CONFIG */

/*
 * The policy for kind, applied to sb (an fstat of the open file, so that
 * what is checked is what is read) and to path's directory. 0, or -1
 * with a message that names the file and the fix.
 */
int ck_secfile_check(const char *path, const struct stat *sb, int kind, char *err,
                     size_t errlen);

/*
 * A directory whose every file is trusted (a CA directory): owned by root
 * or the effective user, and nobody else may add to it (no group or
 * others write, sticky or not). 0, or -1 with a message.
 */
int ck_secfile_check_dir(const char *path, char *err, size_t errlen);

/*
 * The embedded store's directory and files are shared by a group (mode
 * 2770 / 0660): others may not write the directory nor touch its files,
 * and each file is a regular file, never a symlink a group member planted
 * for root to write through. 0, or -1 with a message.
 */
int ck_secfile_check_store(const char *path, int is_dir, char *err, size_t errlen);

/*
 * Opens path for reading under the policy for kind: never blocks on a
 * FIFO, refuses a directory, device, symlink loop or anything unsafe.
 * Returns the descriptor (sb filled in when not NULL) or -1.
 */
int ck_secfile_open(const char *path, int kind, struct stat *sb, char *err, size_t errlen);

/*
 * Reads all of path (at most max bytes, else an error), opened with
 * ck_secfile_open(path, check_mode). *data is NUL-terminated and freed
 * with ck_secfile_free(data, len).
 */
int ck_secfile_read(const char *path, int check_mode, size_t max, char **data,
                    size_t *len, char *err, size_t errlen);
/*
 * stat(2) of path with the file's own checks of ck_secfile_read (type,
 * mode, owner; check_mode as there): for a caller that keeps what it
 * read and rereads only when the file changed. The directory is checked
 * at each read: a file replaced through an unsafe directory is another
 * file (ck_secfile_same), so it is read, and refused, again.
 */
int ck_secfile_stat(const char *path, int check_mode, struct stat *sb,
                    char *err, size_t errlen);

/* 1 when a and b describe the same file with the same contents' identity. */
int ck_secfile_same(const struct stat *a, const struct stat *b);

/* Wipes and frees what ck_secfile_read returned. */
void ck_secfile_free(char *data, size_t len);

/*
 * Takes an exclusive lock on "path.lock" (a regular file owned by root or
 * the effective user, never a symlink; made 0600 when missing); returns
 * its fd (close to unlock), or -1 with a message.
 */
int ck_secfile_lock(const char *path, char *err, size_t errlen);

/*
 * Replaces path with data: a temporary file in the same directory, mode
 * 0600, written and synced, then renamed over path, so a reader sees
 * either the old file or the new one, never half of one.
 */
int ck_secfile_replace(const char *path, const char *data, size_t len,
                       char *err, size_t errlen);

#endif
