/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_audit.h - audit events: one key=value line (for syslog, authpriv)
 * and, when [audit] file is set, the same event as a JSON line.
 *
 * An event never carries a token or a password: sessions are named by a
 * short prefix of their store key (tag + 12 hex digits of SHA-256 of the
 * id), which matches the start of the key "checkup sessions list" shows.
 *
 * A user name is typed by whoever logs in, so it may be a token or a
 * password pasted at the wrong prompt. Only a name of a known shape
 * (ck_audit_name_ok) is written as it is; any other name is written as
 * user_hash=sha256:<first 12 hex digits> and user_len=<bytes>, in the
 * syslog line and the JSON line alike. Every front end writes its events
 * through ck_audit_emit, so this is the one place the rule lives.
 *
 * Other values from users (hosts, services) are escaped in the syslog
 * line: bytes outside printable ASCII, space, '"', '\\' and '=' become
 * \xNN, so a line is one line of unambiguous key=value text. The JSON
 * line carries them as JSON strings (jansson's escaping; text that is not
 * valid UTF-8 is written with \xNN escapes instead).
 */
#ifndef CK_AUDIT_H
#define CK_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "ck_config.h"
#include "ck_store.h"

#define CK_SID_HASH_LEN 15      /* 2 tag + 12 hex + NUL */
#define CK_AUDIT_NAME_MAX 254   /* longest name written as it is (RFC 5321 path) */

typedef struct ck_audit_event {
    const char *event;      /* login_success, login_failure, locked, ... */
    const char *user;       /* as typed: see ck_audit_name_ok */
    const char *method;     /* password, token */
    const char *service;
    const char *rhost;
    const char *sid_hash;   /* from ck_audit_sid_hash, or NULL */
    const char *result;     /* success, failure */
    const char *reason;     /* short word: bad_password, expired_idle, ... */
} ck_audit_event;

/* The short session name for logs, from a store key (ck_session.key_hex). */
void ck_audit_sid_hash(const char *key_hex, char out[CK_SID_HASH_LEN]);

/* The same short name computed from a session id (when the store has none). */
void ck_audit_sid_hash_of(const char *sid, char out[CK_SID_HASH_LEN]);

/*
 * 1 when name is of a known shape and may be logged as it is:
 *  - a plain name: 1..64 of A-Z a-z 0-9 _ . - not starting with '-'
 *    (a Linux account name, the users file's local names, an identity
 *    provider's UUID subject), or
 *  - an email address: at most CK_AUDIT_NAME_MAX bytes, exactly one '@',
 *    a local part of 1..64 of A-Z a-z 0-9 and . _ % + - ' (not starting
 *    or ending with '.'), and a domain of dot-separated labels of 1..63 of
 *    A-Z a-z 0-9 - (not starting or ending with '-').
 * Anything else (spaces, control characters, non-ASCII, other
 * punctuation, longer) is 0 and gets hashed.
 */
int ck_audit_name_ok(const char *name);

/* Formats "event=... user=... ..." into buf (always NUL-terminated). */
void ck_audit_format(const ck_audit_event *ev, char *buf, size_t len);

/*
 * Appends the event as one JSON line {"time":..., "event":..., ...} to
 * path (created 0600). One write(2) per line with O_APPEND, so lines of
 * concurrent processes never interleave. Returns 0 or -1 with err set.
 */
int ck_audit_write_json(const char *path, const ck_audit_event *ev, int64_t now,
                        char *err, size_t errlen);

/* Where ck_audit_emit sends its lines: syslog, pam_syslog, stderr, ... */
typedef void (*ck_audit_log_fn)(void *ud, int prio, const char *msg);

/*
 * Writes ev everywhere, once: the key=value line through log at prio, and
 * the JSON line to cfg->audit_file when set. A file that cannot be written
 * is said through log (LOG_ERR) once per process until a line gets through
 * again, and every line lost is counted in the store (CK_COUNT_AUDIT_FAILURE,
 * when st is not NULL). Returns 0, or -1 when the file was not written.
 */
int ck_audit_emit(const ck_config *cfg, ck_store *st, const ck_audit_event *ev, int prio,
                  ck_audit_log_fn log, void *ud);

/*
 * Whether a login may go ahead as far as the audit trail goes: 0 when
 * [audit] on_failure = log, when no file is set, or when the file opens for
 * appending; -1 (a login must be refused) when on_failure = deny and it
 * does not, said through log like ck_audit_emit. The caller audits its
 * refusal with reason "audit_unavailable".
 */
int ck_audit_gate(const ck_config *cfg, ck_audit_log_fn log, void *ud);

/* The ck_audit_log_fn for plain syslog(3); ud is unused. */
void ck_audit_syslog(void *ud, int prio, const char *msg);

#endif
