/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_lockout.h - lockout after repeated failures, like pam_faillock, but
 * shared by every process and host through the store's failure counters.
 *
 * An account and, separately, a remote host are locked once deny failures
 * fall within fail_interval seconds; the lock lasts unlock_time seconds
 * (0 = until an administrator resets it). A success resets the account's
 * counter. Counter names carry a SHA-256 of the name, so any input (empty,
 * huge, invalid UTF-8) makes a valid, fixed-size counter name and the
 * store holds no user names.
 *
 * Each lock that starts is also noted in the store's lock index
 * (ck_store_lock_note) so that an administrator can list the locks in
 * force without a scan of the store: an account by its hash only, a host
 * with its address for display.
 */
#ifndef CK_LOCKOUT_H
#define CK_LOCKOUT_H

#include <stdint.h>

#include "ck_config.h"
#include "ck_store.h"

typedef enum ck_lock_kind { CK_LOCK_ACCOUNT = 0, CK_LOCK_HOST } ck_lock_kind;

typedef struct ck_lockout {
    int deny;               /* 0 = lockout off */
    int fail_interval;
    int unlock_time;
} ck_lockout;

void ck_lockout_from_config(ck_lockout *lo, const ck_config *cfg);

/* *locked = 1 while the account (or host) is locked. */
ck_status ck_lockout_check(ck_store *st, const ck_lockout *lo, ck_lock_kind kind,
                           const char *name, int *locked);

/*
 * Records one failure; *now_locked = 1 when this failure started a lock
 * (the caller audits it once). *count gets the failures in the window.
 * Each account failure and each new lock is also counted in the metrics
 * (login failures, lockouts), with lockout on or off.
 */
ck_status ck_lockout_fail(ck_store *st, const ck_lockout *lo, ck_lock_kind kind,
                          const char *name, int64_t *count, int *now_locked);

/*
 * After a successful login: clears the account's failures, if any. Only
 * reads when there is nothing to clear, so a busy keep-alive path costs no
 * extra write.
 */
ck_status ck_lockout_success(ck_store *st, const ck_lockout *lo, const char *name);

/*
 * Locks an account or host now, whatever its failure count (a burst of
 * failures across accounts, see ck_anomaly.h); *now_locked = 1 when it was
 * not locked before. Counted as a lockout in the metrics.
 */
ck_status ck_lockout_lock(ck_store *st, const ck_lockout *lo, ck_lock_kind kind,
                          const char *name, int *now_locked);

/*
 * Clears the failures (and any lock) of an account or host. Like a lock
 * that lock starts, it is confirmed by [store] wait_replicas replicas
 * (ck_store_wait_replicas): CK_ERR_NOT_DURABLE when it was not.
 */
ck_status ck_lockout_reset(ck_store *st, ck_lock_kind kind, const char *name);

#define CK_LOCK_ID_LEN 33   /* 32 hex characters of SHA-256(name) + NUL */

/* The id under which a name's counters and lock are kept. */
void ck_lockout_id(const char *name, char out[CK_LOCK_ID_LEN]);

/* One lock in force. */
typedef struct ck_lock_info {
    ck_lock_kind kind;
    char id[CK_LOCK_ID_LEN];        /* match an account with ck_lockout_id(email) */
    char address[CK_LOCK_NAME_MAX]; /* a host's address (bytes that do not print
                                       as '?', long ones cut); "" for an account */
    int64_t until;
    int forever;                    /* made with unlock_time = 0: until cleared */
} ck_lock_info;

/*
 * The locks in force, from the lock index, each one confirmed against its
 * lock (an index entry whose lock is gone is dropped). Free *out with free().
 * A lock made before the index existed is not listed; reset still clears it.
 */
ck_status ck_lockout_list(ck_store *st, ck_lock_info **out, size_t *count);

#endif
