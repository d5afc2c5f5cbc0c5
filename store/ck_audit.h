/*
 * ck_audit.h - audit events: one key=value line (for syslog, authpriv)
 * and, when [audit] file is set, the same event as a JSON line.
 *
 * An event never carries a token or a password: sessions are named by a
 * short prefix of their store key (tag + 12 hex digits of SHA-256 of the
 * id), which matches the start of the key "checkup sessions list" shows.
 * Values from users (names, hosts) are escaped: bytes outside printable
 * ASCII become \xNN, so a log line is one line of plain text.
 */
#ifndef CK_AUDIT_H
#define CK_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "ck_store.h"

#define CK_SID_HASH_LEN 15      /* 2 tag + 12 hex + NUL */

typedef struct ck_audit_event {
    const char *event;      /* login_success, login_failure, locked, ... */
    const char *user;
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

/* Formats "event=... user=... ..." into buf (always NUL-terminated). */
void ck_audit_format(const ck_audit_event *ev, char *buf, size_t len);

/*
 * Appends the event as one JSON line {"time":..., "event":..., ...} to
 * path (created 0600). One write(2) per line with O_APPEND, so lines of
 * concurrent processes never interleave. Returns 0 or -1 with err set.
 */
int ck_audit_write_json(const char *path, const ck_audit_event *ev, int64_t now,
                        char *err, size_t errlen);

#endif
