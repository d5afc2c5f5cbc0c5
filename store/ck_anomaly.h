/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_anomaly.h - anomaly detection: binding a session to its client, and
 * bursts of failures across many accounts from one address.
 *
 * Binding ([anomaly] bind = off | audit | enforce): a session remembers
 * the address it was opened from (remote_host) and a digest of the
 * client's user agent. A later use from an address outside the same
 * bind_prefix_v4 / bind_prefix_v6 network, or (with bind_user_agent) with
 * another user agent, is an anomaly: audited as event "anomaly", and
 * refused when bind = enforce.
 *
 * Bursts ([anomaly] spray_accounts, spray_window): when failures for that
 * many distinct accounts come from one address within the window, the
 * address is audited and locked like a host lockout ([lockout] unlock_time).
 */
#ifndef CK_ANOMALY_H
#define CK_ANOMALY_H

#include <stddef.h>

#include "ck_config.h"
#include "ck_store.h"

typedef enum ck_anomaly_result {
    CK_ANOMALY_OK = 0,      /* matches the session, or binding is off */
    CK_ANOMALY_AUDIT,       /* an anomaly: audit it, let it through */
    CK_ANOMALY_REFUSE       /* an anomaly under bind = enforce: refuse */
} ck_anomaly_result;

/* What a session stores for a user agent: "sha256:" + 32 hex, or "" for none. */
void ck_anomaly_ua_digest(const char *user_agent, char out[CK_UA_MAX]);

/*
 * 1 when addresses a and b fall in the same network of v4_bits / v6_bits
 * (an IPv4-mapped IPv6 address counts as IPv4); names that are not
 * addresses must be equal (ASCII case aside); "" matches only "".
 */
int ck_anomaly_same_network(const char *a, const char *b, int v4_bits, int v6_bits);

/*
 * Checks one use of session s from rhost with user_agent (either may be
 * NULL: unknown). why gets a short reason word for the audit
 * ("address_changed", "user_agent_changed") when the result is not OK.
 */
ck_anomaly_result ck_anomaly_check(const ck_config *cfg, const ck_session *s,
                                   const char *rhost, const char *user_agent,
                                   char *why, size_t whylen);

/*
 * Audits an anomaly: one syslog line (authpriv) and, with [audit] file, a
 * JSON line; adds one to the anomalies counter when st is not NULL.
 */
void ck_anomaly_audit(ck_store *st, const ck_config *cfg, const char *user,
                      const char *service, const char *rhost, const char *key_hex,
                      const char *reason, int refused);

/*
 * Records a failed login of account from rhost. When this makes
 * spray_accounts distinct accounts within spray_window, the address is
 * locked and audited; *host_locked = 1 then (only on the failure that
 * locked it).
 */
ck_status ck_anomaly_failure(ck_store *st, const ck_config *cfg, const char *rhost,
                             const char *account, int *host_locked);

#endif
