/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_store.h - checkup sessions, pending logins and failure counters.
 *
 * One API over every backend: the embedded LMDB store ("lmdb:/run/checkup",
 * the default) and Redis ("redis://", "rediss://", "redis+sentinel://").
 * Every function returns a ck_status; on an error the detail is kept in the
 * handle and read with ck_store_errstr().
 *
 * A handle belongs to one process: open it after fork(), never before.
 */
#ifndef CK_STORE_H
#define CK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ck_config.h"

typedef enum ck_status {
    CK_OK = 0,
    CK_NOT_FOUND,          /* no such session, state or counter */
    CK_EXPIRED_IDLE,       /* idle longer than the inactivity timeout; deleted */
    CK_EXPIRED_LIFETIME,   /* past the absolute deadline; deleted */
    CK_ERR_INVALID,        /* bad argument: oversized field, malformed id */
    CK_ERR_UNAVAILABLE,    /* store unreachable or too slow: fail closed */
    CK_ERR_FULL,           /* no room: map size or disk (LMDB), maxmemory (Redis) */
    CK_ERR_CORRUPT,        /* store content is not what checkup wrote */
    CK_ERR_NOMEM,
    CK_ERR_INTERNAL,
    CK_ERR_NOT_DURABLE     /* done on the Redis primary, but fewer replicas than
                              [store] wait_replicas confirmed it in time: it may
                              not survive a failover (see ck_store_delete) */
} ck_status;

const char *ck_status_str(ck_status st);

typedef enum ck_auth_method {
    CK_AUTH_EMAIL = 0,
    CK_AUTH_CORPPASS,
    CK_AUTH_OIDC,
    CK_AUTH_METHOD_COUNT
} ck_auth_method;

const char *ck_auth_method_name(ck_auth_method m);
int ck_auth_method_parse(const char *name, ck_auth_method *out);

/* Field limits, including the terminating NUL. */
#define CK_SID_LEN        46   /* 2 tag chars + 43 base64url chars (256 bits) + NUL */
#define CK_KEY_LEN        32   /* SHA-256 of the session id */
#define CK_KEY_HEX_LEN    67   /* 2 tag chars + 64 hex chars */
#define CK_USER_MAX      256
#define CK_EMAIL_MAX     255
#define CK_ROLE_MAX       64
#define CK_CLINIC_MAX     64
#define CK_RHOST_MAX     256
#define CK_SERVICE_MAX    64
#define CK_TTY_MAX        64
#define CK_IDP_SID_MAX   256
#define CK_UA_MAX         48   /* "sha256:" + 32 hex: a digest, never the raw agent */

/*
 * A session as stored. The session id itself is never stored: only
 * key = SHA-256(id), so a copy of the store holds no usable token.
 * Strings are NUL-terminated UTF-8 without control characters; an empty
 * clinic_id or idp_sid means "none".
 */
typedef struct ck_session {
    char key_hex[CK_KEY_HEX_LEN];      /* tag + hex SHA-256 of the id, for admins */
    char user_id[CK_USER_MAX];
    char email[CK_EMAIL_MAX];
    char role[CK_ROLE_MAX];
    char clinic_id[CK_CLINIC_MAX];
    ck_auth_method method;
    int64_t created;                   /* seconds since the epoch */
    int64_t last_activity;
    int64_t deadline;                  /* created + absolute lifetime */
    int64_t expires;                   /* min(last_activity + inactivity, deadline) */
    char remote_host[CK_RHOST_MAX];
    char service[CK_SERVICE_MAX];
    char tty[CK_TTY_MAX];
    char idp_sid[CK_IDP_SID_MAX];
    char user_agent[CK_UA_MAX];        /* digest of the client's user agent, or "" */
} ck_session;

typedef struct ck_session_list {
    size_t count;
    ck_session *items;
} ck_session_list;

void ck_session_list_free(ck_session_list *list);

typedef struct ck_metrics {
    int64_t active;                               /* live sessions now */
    int64_t active_by_method[CK_AUTH_METHOD_COUNT];
    int64_t created;                              /* since the store began */
    int64_t ended_logout;
    int64_t ended_idle;
    int64_t ended_lifetime;
    int64_t ended_revoked;
    int64_t duration_sum;       /* seconds, over every ended session */
    double avg_duration;        /* duration_sum / ended, 0 when none ended */
} ck_metrics;

typedef struct ck_store ck_store;

/*
 * Opens the store named by cfg->store_url. Nothing is connected yet for
 * Redis until the first operation needs it; LMDB opens its environment
 * here. On failure returns NULL and writes a one-line reason into err.
 */
ck_store *ck_store_open(const ck_config *cfg, char *err, size_t errlen);
void ck_store_close(ck_store *st);

/*
 * A store URL as a message or log may show it: the password of a Redis
 * URL's user info becomes "***" (the user name stays). Truncated to cap.
 */
void ck_store_url_shown(const char *url, char *out, size_t cap);

/* The last error's detail, e.g. "redis 127.0.0.1:6379: connect timed out". */
const char *ck_store_errstr(const ck_store *st);

/*
 * Metrics updates this process could not write because the store was full
 * (Redis at maxmemory, the embedded store out of room); the sessions
 * themselves were answered. Counted since the process started.
 */
int64_t ck_store_metrics_lost(void);

/* Backend name: "lmdb" or "redis". */
const char *ck_store_backend(const ck_store *st);

/*
 * Creates a session from the identity fields of *in (user_id, email, role,
 * clinic_id, method, remote_host, service, tty, idp_sid, user_agent). created,
 * last_activity, deadline, expires and key_hex are filled in *in by the
 * store. The new session id is written to sid_out: hand it to the client
 * (inside a token), it cannot be recovered from the store later. When the
 * configured per-user cap is reached the oldest session of the user is
 * evicted (counted as revoked); ck_store_last_evicted() then tells how
 * many, so that the caller can audit it.
 */
ck_status ck_store_create(ck_store *st, ck_session *in, char sid_out[CK_SID_LEN]);
/*
 * Durability (Redis with [store] wait_replicas = N > 0): create, delete,
 * delete_key and revoke_user send WAIT N wait_timeout_ms in the same round
 * trip as their write, on the same connection, and answer only once N
 * replicas have it. CK_ERR_NOT_DURABLE means fewer confirmed in time (or
 * WAIT failed): an end of a session then happened on the primary but may
 * come back after a failover, so callers report it as not done (errstr
 * says "... may not survive a failover"); a create then deleted the new
 * session again (best effort), wiped sid_out, and the login must be
 * refused. Touches, gets and reads never wait. LMDB ignores the setting.
 */
/* Sessions the last ck_store_create evicted under the per-user cap. */
size_t ck_store_last_evicted(const ck_store *st);

/*
 * How long after its end an expired session is still told apart from one
 * that never existed: for CK_STORE_END_GRACE seconds after its expiry,
 * the first touch or get reports CK_EXPIRED_IDLE or CK_EXPIRED_LIFETIME
 * (lifetime once now is past the deadline), on every backend, whatever
 * ran in between (sweeps, metrics reads, the server's own expiry);
 * afterwards, or once reported by a touch, it is CK_NOT_FOUND.
 */
#define CK_STORE_END_GRACE 300

/* Validate-and-refresh; see the store contract in docs/design.md. */
ck_status ck_store_touch(ck_store *st, const char *sid, ck_session *out);
/*
 * Touches n sessions at once (a daemon's queued keep-alives): res[i] and
 * *outs[i] are what ck_store_touch(st, sids[i], outs[i]) would give, in
 * as few round trips and transactions as the backend can (one Redis
 * pipeline, one LMDB write transaction). n is at most CK_STORE_BATCH_MAX.
 * ck_store_errstr() tells the last failure's reason.
 */
#define CK_STORE_BATCH_MAX 64
/*
 * A touch answered only when that costs no write and no round trip (the
 * embedded store's session was already touched this second): 1 with *rc
 * as ck_store_touch would answer, else 0 and nothing done (then use
 * ck_store_touch or ck_store_touch_many).
 */
int ck_store_touch_cheap(ck_store *st, const char *sid, ck_session *out, ck_status *rc);
void ck_store_touch_many(ck_store *st, size_t n, const char *const *sids, ck_session *const *outs,
                         ck_status *res);
/* Read without refreshing; expired sessions report EXPIRED_* as touch does. */
ck_status ck_store_get(ck_store *st, const char *sid, ck_session *out);
/* Logout. Idempotent: deleting a missing session is CK_OK. */
ck_status ck_store_delete(ck_store *st, const char *sid);
/* Admin logout by the hex key shown in listings. */
ck_status ck_store_delete_key(ck_store *st, const char *key_hex);
/* Logout from all devices. */
ck_status ck_store_revoke_user(ck_store *st, const char *user_id, size_t *count);
ck_status ck_store_list_user(ck_store *st, const char *user_id, ck_session_list *out);

/*
 * Pending logins (OIDC state, terminal logins). The value is an opaque blob
 * of at most CK_STATE_VALUE_MAX bytes that lives pending_ttl seconds.
 * take returns it and removes it in one atomic step: a second take of the
 * same name is CK_NOT_FOUND. Free *value with free().
 */
#define CK_STATE_NAME_MAX   256
#define CK_STATE_VALUE_MAX  16384
ck_status ck_store_state_put(ck_store *st, const char *name,
                             const void *value, size_t len, int ttl);
ck_status ck_store_state_take(ck_store *st, const char *name,
                              void **value, size_t *len);
/* Read a pending login without taking it (terminal logins poll this). */
ck_status ck_store_state_get(ck_store *st, const char *name,
                             void **value, size_t *len);

/*
 * Windowed failure counters for rate limiting and lockout. A counter
 * starts at the first failure and vanishes window seconds later.
 * fail_add returns the count after adding one.
 */
ck_status ck_store_fail_add(ck_store *st, const char *name, int window,
                            int64_t *count);
ck_status ck_store_fail_count(ck_store *st, const char *name, int64_t *count);
ck_status ck_store_fail_reset(ck_store *st, const char *name);

/*
 * The lock index: the names of the locks now in force, each with its end,
 * so that an administrator can list them by reading one small set instead
 * of scanning the store (ck_lockout.h keeps it). A name is text of at most
 * CK_LOCK_NAME_MAX - 1 bytes; noting a name again moves its end. list
 * returns the entries whose end is still ahead, at most CK_LOCK_LIST_MAX of
 * them; ended ones go as the store expires them. Free the list with
 * ck_lock_list_free().
 */
#define CK_LOCK_NAME_MAX   200
#define CK_LOCK_LIST_MAX   10000
typedef struct ck_lock_entry {
    char name[CK_LOCK_NAME_MAX];
    int64_t until;              /* seconds since the epoch */
} ck_lock_entry;

typedef struct ck_lock_list {
    size_t count;
    ck_lock_entry *items;
} ck_lock_list;

void ck_lock_list_free(ck_lock_list *list);
ck_status ck_store_lock_note(ck_store *st, const char *name, int ttl);
ck_status ck_store_lock_forget(ck_store *st, const char *name);
ck_status ck_store_lock_list(ck_store *st, ck_lock_list *out);

/*
 * Waits until [store] wait_replicas replicas have every write this handle
 * made so far (one WAIT), for a change made of several writes (a lockout
 * change). CK_OK at once when wait_replicas is 0 or the backend has no
 * replicas (LMDB); CK_ERR_NOT_DURABLE when too few confirm in time or the
 * connection changed since the last write, what naming the change in the
 * message ("lockout change").
 */
ck_status ck_store_wait_replicas(ck_store *st, const char *what);

ck_status ck_store_metrics(ck_store *st, ck_metrics *out);

/* Reachability check with one round trip (health endpoints). */
ck_status ck_store_ping(ck_store *st);

/*
 * Memory use of the store server (Redis INFO memory): used_memory and
 * maxmemory in bytes; max = 0 when no limit is set. CK_NOT_FOUND when the
 * backend has no such figure (the embedded store).
 */
typedef struct ck_store_memory {
    int64_t used;
    int64_t max;
} ck_store_memory;
ck_status ck_store_memory_info(ck_store *st, ck_store_memory *out);

/* Remove expired entries now (embedded store; a no-op on Redis). Sessions
 * that ended under CK_STORE_END_GRACE seconds ago stay, to be reported. */
ck_status ck_store_sweep(ck_store *st, size_t *removed);

#endif
