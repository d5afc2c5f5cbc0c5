/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_config.h - checkup.conf, an INI file read with libinih.
 *
 * Every value has a default and a range; a bad value is reported with the
 * file, line and key at fault. Sections other than the ones below are
 * handed to an optional callback so that other components (OIDC providers,
 * the daemon) keep their own settings beside these.
 */
#ifndef CK_CONFIG_H
#define CK_CONFIG_H

#include <stddef.h>

#define CK_DEFAULT_STORE_URL        "lmdb:/run/checkup"
#define CK_DEFAULT_INACTIVITY       1200
#define CK_DEFAULT_LIFETIME         86400
#define CK_DEFAULT_PENDING_TTL      600

/* [anomaly] bind */
#define CK_BIND_OFF      0
#define CK_BIND_AUDIT    1
#define CK_BIND_ENFORCE  2

/* [audit] on_failure: what a login does while the audit file cannot be written. */
#define CK_AUDIT_LOG     0      /* say so once in syslog, count it, go on */
#define CK_AUDIT_DENY    1      /* and refuse logins until it can be written */

typedef struct ck_config {
    /* [session] */
    int inactivity_timeout;     /* seconds, 1 .. 86400 */
    int absolute_lifetime;      /* seconds, >= inactivity_timeout, <= 30 days */
    int pending_ttl;            /* seconds, 1 .. 3600 */
    int max_per_user;           /* 0 = no cap */

    /* [store] */
    char *store_url;
    size_t lmdb_map_size;       /* bytes */
    char *key_prefix;           /* Redis key prefix, default "ck:" */
    int connect_timeout_ms;     /* default 2000 */
    int command_timeout_ms;     /* default 1000 */
    char *redis_user;           /* ACL user; the URL may also carry one */
    char *redis_password;       /* inline; prefer redis_password_file */
    char *redis_password_file;
    int tls_verify;             /* 1 = verify peer and host name (default) */
    char *tls_ca_file;
    char *tls_ca_dir;
    char *tls_cert_file;        /* client certificate */
    char *tls_key_file;
    char *tls_server_name;      /* SNI and name check; default the URL host */
    char *tls_min_version;      /* "1.2" or "1.3" (default) */
    int wait_replicas;          /* Redis: replicas that must confirm an end of a
                                   session, a login or a lockout change; 0..16,
                                   -1 (default) = 1 with Sentinel, else 0 */
    int wait_timeout_ms;        /* how long WAIT may take, 1..10000, default 500 */

    /* [lockout] */
    int fail_deny;              /* failures before lockout, default 5 */
    int fail_interval;          /* seconds, default 900 */
    int unlock_time;            /* seconds, default 900 */

    /* [users] */
    char *users_file;

    /* [passwords] */
    int hash_slots;             /* host-wide hashes at once (PAM, CLI); -1 (default) =
                                   processors - 1, at least 1; 0 = no limit */
    int hash_wait;              /* seconds a login waits for a slot, 1..600, default 30 */
    char *hash_slot_file;       /* NULL = CK_DEFAULT_HASH_SLOT_FILE (ck_hashslot.h) */

    /* [tokens] */
    char *token_key_file;       /* key ring: "kid base64url-secret" lines */

    /* [audit] */
    char *audit_file;           /* JSON lines; NULL = syslog only */
    int audit_on_failure;       /* CK_AUDIT_LOG (default) or CK_AUDIT_DENY */

    /* [alerts] thresholds; 0 turns one off */
    int alert_active_sessions;      /* live sessions, default 10000 */
    int alert_redis_memory_percent; /* used_memory / maxmemory, default 80 */
    int alert_idle_timeout_rate;    /* percent of ended sessions that idled out, default 0 */

    /* [anomaly] */
    int bind_mode;              /* CK_BIND_OFF (default), CK_BIND_AUDIT, CK_BIND_ENFORCE */
    int bind_prefix_v4;         /* bits of the address that must match, default 24 */
    int bind_prefix_v6;         /* default 64 */
    int bind_user_agent;        /* the user agent must match too, default no */
    int spray_accounts;         /* distinct accounts failing from one address, default 10; 0 = off */
    int spray_window;           /* seconds, default 600 */

    /* Where the values came from, for messages. */
    char *path;
} ck_config;

/* Handler for sections this file does not know; return 1 if handled. */
typedef int (*ck_config_section_fn)(void *ud, const char *section,
                                    const char *name, const char *value,
                                    int lineno, char *err, size_t errlen);

void ck_config_defaults(ck_config *cfg);

/*
 * Reads path over the defaults. Returns 0, or -1 with a message such as
 * "/etc/checkup/checkup.conf:12: [session] inactivity_timeout: 0 is out of
 * range (1..86400)" in err.
 */
int ck_config_load(ck_config *cfg, const char *path, ck_config_section_fn extra,
                   void *ud, char *err, size_t errlen);

/*
 * Applies the process environment (CHECKUP_STORE, REDIS_HOST, REDIS_PORT,
 * REDIS_PASSWORD, REDIS_DB, REDIS_TLS_ENABLED). For the daemon and the CLI
 * only: the PAM module never calls it.
 */
int ck_config_apply_env(ck_config *cfg, char *err, size_t errlen);

/* Checks cross-field rules after loading (lifetime >= inactivity, ...). */
int ck_config_validate(const ck_config *cfg, char *err, size_t errlen);

void ck_config_free(ck_config *cfg);

#endif
