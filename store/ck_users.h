/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_users.h - the checkup users file: who may log in with a password.
 *
 * Format (UTF-8 text, one record per line):
 *
 *   #checkup-users 1
 *   # email:hash:role:clinic:local_user:flags:corppass
 *   alice@example.org:$y$j9T$...:doctor:clinic-7:alice::
 *   bob@example.org:$y$j9T$...:admin:::disabled:
 *
 * - The first line is the version header "#checkup-users 1"; other lines
 *   starting with '#' and blank lines are comments.
 * - Seven fields separated by ':': email (required, unique, compared
 *   without regard to ASCII case), password hash (crypt(5), yescrypt "$y$"
 *   when written by checkup; "!" or "*" = no password login), role
 *   (required), clinic id, local account name (unique; the login name
 *   that maps to this email), flags (comma list; "disabled"), CorpPass
 *   identity mapping (reserved for CorpPass logins).
 * - A field never holds a control character. '%' followed by two hex
 *   digits stands for that byte, so ':' is written "%3A" and '%' "%25";
 *   any other '%' is an error.
 * - The file must not be readable or writable by group or others.
 */
#ifndef CK_USERS_H
#define CK_USERS_H

#include <stddef.h>

#include "ck_store.h"

#define CK_USERS_HEADER     "#checkup-users 1"
#ifdef CK_SYSCONFDIR
#define CK_DEFAULT_USERS_FILE   CK_SYSCONFDIR "/checkup/users"
#endif
#define CK_HASH_MAX         256
#define CK_LOCAL_USER_MAX   64

typedef struct ck_user {
    char email[CK_EMAIL_MAX];
    char hash[CK_HASH_MAX];
    char role[CK_ROLE_MAX];
    char clinic_id[CK_CLINIC_MAX];
    char local_user[CK_LOCAL_USER_MAX];
    int disabled;
    char corppass[CK_IDP_SID_MAX];
} ck_user;

typedef struct ck_users {
    size_t count;
    ck_user *items;
    size_t cap;                 /* items allocated */
    /*
     * Set by the lookups below: a yescrypt hash from the file, so that an
     * unknown user's check costs what the file's hashes cost
     * (ck_password_verify); "" when the file has none.
     */
    char twin[CK_HASH_MAX];
    /*
     * Set by a lookup that could not use or write the index: why, for the
     * caller's log. Only the first such lookup of a process says it (and
     * the first after the index worked again), so a log gets it once.
     */
    char warning[512];
} ck_users;

/*
 * Reads a users file. check_mode refuses one that group or others can
 * read or write. Returns 0, or -1 with "path:line: reason" in err.
 */
int ck_users_load(const char *path, int check_mode, ck_users *out, char *err, size_t errlen);
/* Parses users file text (for tests and the loader). */
int ck_users_parse(const char *text, size_t len, const char *where, ck_users *out,
                   char *err, size_t errlen);
void ck_users_free(ck_users *users);

/* Finds a user by email (ASCII case-insensitive) or by local account name. */
const ck_user *ck_users_find(const ck_users *users, const char *name);

/*
 * What a provider verified about a login, as the users file maps it
 * (checkupd's OIDC callback and the PAM terminal logins share this). A
 * CorpPass identity matches a record whose corppass field is its uuid in
 * lower case or "<entity id>/<CPUID>"; any other identity matches by its
 * verified email (ASCII case ignored; never a local account name). NULL
 * strings count as empty.
 */
typedef struct ck_user_identity {
    int is_corppass;
    const char *email;
    const char *cp_uuid;
    const char *cp_entity_id;
    const char *cp_cpuid;
} ck_user_identity;

typedef enum ck_users_map {
    CK_USERS_MAPPED = 0,        /* *out is the one matching record */
    CK_USERS_NOT_MAPPED = 1,    /* no record matches */
    CK_USERS_AMBIGUOUS = 2,     /* several records match: refused */
} ck_users_map;

/* Maps id to its one record; *out is NULL unless CK_USERS_MAPPED. */
ck_users_map ck_users_map_identity(const ck_users *users, const ck_user_identity *id,
                                   const ck_user **out);

/*
 * Indexed lookups: what a login reads of the users file, in time that
 * does not grow with the number of users.
 *
 * The index lives beside the file, at path + CK_USERS_INDEX_SUFFIX, under
 * the policy of the users file (CK_FILE_SECRET: it tells who the users
 * are). It maps keyed hashes of each record's email, local name and
 * CorpPass mapping to the record's byte offset, and names the file it was
 * built from (device, inode, size, mtime and ctime in ns). A lookup opens
 * the users file, seeks to the offsets the index gives and parses those
 * lines again, keeping only records that really match: an index that
 * lies or is damaged can make a lookup slow (a rebuild or a full read),
 * never return another user's record.
 *
 * When the index is missing, stale, unsafe or damaged, the lookup
 * rebuilds it from the whole file (which must then parse as
 * ck_users_load wants) and replaces it atomically; a process that cannot
 * write it keeps the rebuilt index in memory for as long as the file is
 * unchanged, and says so once in out->warning.
 *
 * out gets the matching records (zero or one for a name; every record an
 * identity matches, so that ck_users_map_identity on out tells an
 * ambiguous mapping) and out->twin. The file's mode is checked as by
 * ck_users_load(path, 1, ...). Returns 0 (found or not), or -1 with
 * "path: reason" or "path:line: reason" in err. Free out with
 * ck_users_free. Thread-safe.
 */
#define CK_USERS_INDEX_SUFFIX ".index"
int ck_users_lookup(const char *path, const char *name, ck_users *out, char *err,
                    size_t errlen);
int ck_users_lookup_identity(const char *path, const ck_user_identity *id, ck_users *out,
                             char *err, size_t errlen);

/*
 * Rebuilds the index of the users file at path now (checkup's edits do,
 * under the file's lock; `checkup users reindex` after a hand edit).
 * 0, or -1 with a reason in err (the file does not parse, the index
 * cannot be written).
 */
int ck_users_reindex(const char *path, char *err, size_t errlen);

/* Serialises users (with the header) into a fresh string; free() it. */
char *ck_users_format(const ck_users *users, size_t *len);

/*
 * Adds one user to the file at path (creating it), under a lock, rewritten
 * atomically with mode 0600, its index rebuilt. Fails when the email or
 * local name is taken.
 */
int ck_users_add(const char *path, const ck_user *user, char *err, size_t errlen);

/*
 * Read-modify-write of the users file under its lock: loads path (an
 * absent file is an empty list when create is set), calls fn, and when fn
 * returns 0 rewrites the file atomically with mode 0600 and rebuilds its
 * index (a failure there is left to the next lookup). fn returns 0 to
 * write, 1 to leave the file as it is, or -1 with a reason in err. Two
 * processes editing at once are serialised, so neither loses a record.
 */
typedef int (*ck_users_edit_fn)(ck_users *users, void *ud, char *err, size_t errlen);
int ck_users_edit(const char *path, int create, ck_users_edit_fn fn, void *ud,
                  char *err, size_t errlen);

/* Appends a checked user to a list; -1 when the email or local name is taken. */
int ck_users_append(ck_users *users, const ck_user *user, char *err, size_t errlen);

/* Checks the text fields of a user record (lengths, no control characters). */
int ck_user_check(const ck_user *user, char *err, size_t errlen);

/*
 * The longest password that can be hashed, in bytes: libxcrypt takes at
 * most CRYPT_MAX_PASSPHRASE_SIZE (512) bytes counting the NUL. A longer one
 * can never match a hash (ck_password_verify says no).
 */
#define CK_PASSWORD_HASH_MAX 511

/*
 * Hashes a password with yescrypt and a fresh salt into out. A password
 * longer than CK_PASSWORD_HASH_MAX is refused with a message that says so.
 */
int ck_password_hash(const char *password, char *out, size_t outlen,
                     char *err, size_t errlen);

/*
 * How a hash yields the processor to session checks (design.md, "Password
 * hashes at a lower priority"): the hash runs in a thread of its own at
 * one of these priorities; the caller's own never changes.
 */
typedef enum ck_hash_priority {
    CK_HASH_LOW = 0,    /* 10 steps nicer than the caller (a share of a busy processor) */
    CK_HASH_IDLE,       /* SCHED_IDLE: any session work that wakes up runs first; after
                           250 ms, nice +10. Where the process may not move a thread out
                           of SCHED_IDLE again (no CAP_SYS_NICE: a container, a service
                           user), nice +10 from the start: no login is ever starved */
    CK_HASH_IDLE_POOLED /* as CK_HASH_IDLE, but idle even where it cannot be moved out:
                           for a caller whose own pool bounds the logins that wait */
} ck_hash_priority;

/*
 * Checks password against user's hash; user may be NULL (unknown user).
 * Either way one hash of the same cost is computed, so the time taken
 * does not tell an unknown user from a wrong password. Returns 1 when the
 * password matches, 0 otherwise.
 */
int ck_password_verify(const ck_users *users, const ck_user *user, const char *password,
                       ck_hash_priority prio);

#endif
