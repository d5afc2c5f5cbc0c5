/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.c - checkup.conf (INI, read with libinih): defaults, ranges and
 * one clear message naming the file, line and key at fault.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/crypto.h>

#include "ck_config.h"
#include "ck_secfile.h"

void ck_config_defaults(ck_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->inactivity_timeout = CK_DEFAULT_INACTIVITY;
    cfg->absolute_lifetime = CK_DEFAULT_LIFETIME;
    cfg->pending_ttl = CK_DEFAULT_PENDING_TTL;
    cfg->lmdb_map_size = (size_t)256 << 20;
    cfg->connect_timeout_ms = 2000;
    cfg->command_timeout_ms = 1000;
    cfg->wait_replicas = -1;
    cfg->wait_timeout_ms = 500;
    cfg->tls_verify = 1;
    cfg->fail_deny = 5;
    cfg->fail_interval = 900;
    cfg->unlock_time = 900;
    cfg->hash_slots = -1;
    cfg->hash_wait = 30;
    cfg->alert_active_sessions = 10000;
    cfg->alert_redis_memory_percent = 80;
    cfg->audit_on_failure = CK_AUDIT_LOG;
    cfg->bind_mode = CK_BIND_OFF;
    cfg->bind_prefix_v4 = 24;
    cfg->bind_prefix_v6 = 64;
    cfg->spray_accounts = 10;
    cfg->spray_window = 600;
}

void ck_config_free(ck_config *cfg)
{
    char **strs[] = {
        &cfg->store_url, &cfg->key_prefix, &cfg->redis_user, &cfg->redis_password,
        &cfg->redis_password_file, &cfg->tls_ca_file, &cfg->tls_ca_dir,
        &cfg->tls_cert_file, &cfg->tls_key_file, &cfg->tls_server_name,
        &cfg->tls_min_version, &cfg->users_file, &cfg->hash_slot_file, &cfg->token_key_file,
        &cfg->audit_file, &cfg->path,
    };

    if (cfg->redis_password)
        OPENSSL_cleanse(cfg->redis_password, strlen(cfg->redis_password));
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

typedef enum { T_INT, T_STR, T_BOOL, T_SIZE, T_BIND, T_ONFAIL } key_type;

typedef struct key_spec {
    const char *section;
    const char *name;
    key_type type;
    size_t offset;
    long long min, max;
} key_spec;

#define INT_KEY(sec, key, field, lo, hi) \
    { sec, key, T_INT, offsetof(ck_config, field), lo, hi }
#define STR_KEY(sec, key, field) \
    { sec, key, T_STR, offsetof(ck_config, field), 0, 0 }
#define BOOL_KEY(sec, key, field) \
    { sec, key, T_BOOL, offsetof(ck_config, field), 0, 1 }

static const key_spec keys[] = {
    INT_KEY("session", "inactivity_timeout", inactivity_timeout, 1, 86400),
    INT_KEY("session", "absolute_lifetime", absolute_lifetime, 1, 30 * 86400),
    INT_KEY("session", "pending_ttl", pending_ttl, 1, 3600),
    INT_KEY("session", "max_per_user", max_per_user, 0, 10000),
    STR_KEY("store", "url", store_url),
    { "store", "map_size", T_SIZE, offsetof(ck_config, lmdb_map_size),
      1LL << 20, 1LL << 40 },
    STR_KEY("store", "key_prefix", key_prefix),
    INT_KEY("store", "connect_timeout_ms", connect_timeout_ms, 10, 60000),
    INT_KEY("store", "command_timeout_ms", command_timeout_ms, 10, 60000),
    STR_KEY("store", "user", redis_user),
    STR_KEY("store", "password", redis_password),
    STR_KEY("store", "password_file", redis_password_file),
    BOOL_KEY("store", "tls_verify", tls_verify),
    STR_KEY("store", "tls_ca_file", tls_ca_file),
    STR_KEY("store", "tls_ca_dir", tls_ca_dir),
    STR_KEY("store", "tls_cert_file", tls_cert_file),
    STR_KEY("store", "tls_key_file", tls_key_file),
    STR_KEY("store", "tls_server_name", tls_server_name),
    STR_KEY("store", "tls_min_version", tls_min_version),
    INT_KEY("store", "wait_replicas", wait_replicas, 0, 16),
    INT_KEY("store", "wait_timeout_ms", wait_timeout_ms, 1, 10000),
    INT_KEY("lockout", "deny", fail_deny, 0, 1000),
    INT_KEY("lockout", "fail_interval", fail_interval, 1, 7 * 86400),
    INT_KEY("lockout", "unlock_time", unlock_time, 0, 7 * 86400),
    STR_KEY("users", "file", users_file),
    INT_KEY("passwords", "hash_slots", hash_slots, -1, 4096),
    INT_KEY("passwords", "hash_wait", hash_wait, 1, 600),
    STR_KEY("passwords", "hash_slot_file", hash_slot_file),
    STR_KEY("tokens", "key_file", token_key_file),
    STR_KEY("audit", "file", audit_file),
    { "audit", "on_failure", T_ONFAIL, offsetof(ck_config, audit_on_failure), 0, 1 },
    INT_KEY("alerts", "active_sessions", alert_active_sessions, 0, 1000000000),
    INT_KEY("alerts", "redis_memory_percent", alert_redis_memory_percent, 0, 100),
    INT_KEY("alerts", "idle_timeout_rate", alert_idle_timeout_rate, 0, 100),
    { "anomaly", "bind", T_BIND, offsetof(ck_config, bind_mode), 0, 2 },
    INT_KEY("anomaly", "bind_prefix_v4", bind_prefix_v4, 0, 32),
    INT_KEY("anomaly", "bind_prefix_v6", bind_prefix_v6, 0, 128),
    BOOL_KEY("anomaly", "bind_user_agent", bind_user_agent),
    INT_KEY("anomaly", "spray_accounts", spray_accounts, 0, 100000),
    INT_KEY("anomaly", "spray_window", spray_window, 1, 86400),
};

static const char *const known_sections[] = {
    "session", "store", "lockout", "users", "passwords", "tokens", "audit", "alerts",
    "anomaly",
};

typedef struct load_ctx {
    ck_config *cfg;
    const char *path;
    ck_config_section_fn extra;
    void *ud;
    char *err;
    size_t errlen;
    int failed;
    FILE *file;
    int lineno;     /* Debian's inih passes no line numbers: our reader counts */
} load_ctx;

static char *read_line(char *str, int num, void *stream)
{
    load_ctx *c = stream;
    char *line = fgets(str, num, c->file);

    if (line)
        c->lineno++;
    return line;
}

/* Sizes accept a K, M or G suffix (powers of 1024). */
static int parse_number(const char *value, int allow_suffix, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(value, &end, 10);
    if (errno || end == value)
        return -1;
    if (allow_suffix && *end) {
        int shift = 0;

        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return -1;
        }
        if (v < 0 || v > (LLONG_MAX >> shift))
            return -1;
        v <<= shift;
        end++;
    }
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *value, int *out)
{
    static const char *const yes[] = { "1", "yes", "true", "on" };
    static const char *const no[] = { "0", "no", "false", "off" };

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* One of n words (any case); *out is its index. */
static int parse_word(const char *value, const char *const *words, int n, int *out)
{
    for (int i = 0; i < n; i++) {
        if (strcasecmp(value, words[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

static int parse_bind(const char *value, int *out)
{
    static const char *const modes[] = {
        [CK_BIND_OFF] = "off", [CK_BIND_AUDIT] = "audit", [CK_BIND_ENFORCE] = "enforce",
    };

    return parse_word(value, modes, 3, out);
}

static int parse_on_failure(const char *value, int *out)
{
    static const char *const modes[] = { [CK_AUDIT_LOG] = "log", [CK_AUDIT_DENY] = "deny" };

    return parse_word(value, modes, 2, out);
}

static int set_key(load_ctx *c, const key_spec *k, const char *value, int lineno)
{
    char *field = (char *)c->cfg + k->offset;
    long long v;
    int b;

    switch (k->type) {
    case T_STR: {
        char *dup = strdup(value);

        if (!dup)
            goto nomem;
        free(*(char **)field);
        *(char **)field = dup;
        return 1;
    }
    case T_BIND:
        if (parse_bind(value, &b) != 0) {
            snprintf(c->err, c->errlen, "%s:%d: [%s] %s: '%s' is not off, audit or enforce",
                     c->path, lineno, k->section, k->name, value);
            return 0;
        }
        *(int *)field = b;
        return 1;
    case T_ONFAIL:
        if (parse_on_failure(value, &b) != 0) {
            snprintf(c->err, c->errlen, "%s:%d: [%s] %s: '%s' is not log or deny",
                     c->path, lineno, k->section, k->name, value);
            return 0;
        }
        *(int *)field = b;
        return 1;
    case T_BOOL:
        if (parse_bool(value, &b) != 0) {
            snprintf(c->err, c->errlen, "%s:%d: [%s] %s: '%s' is not yes or no",
                     c->path, lineno, k->section, k->name, value);
            return 0;
        }
        *(int *)field = b;
        return 1;
    case T_INT:
    case T_SIZE:
        if (parse_number(value, k->type == T_SIZE, &v) != 0) {
            snprintf(c->err, c->errlen, "%s:%d: [%s] %s: '%s' is not a number",
                     c->path, lineno, k->section, k->name, value);
            return 0;
        }
        if (v < k->min || v > k->max) {
            snprintf(c->err, c->errlen, "%s:%d: [%s] %s: %lld is out of range (%lld..%lld)",
                     c->path, lineno, k->section, k->name, v, k->min, k->max);
            return 0;
        }
        if (k->type == T_INT)
            *(int *)field = (int)v;
        else
            *(size_t *)field = (size_t)v;
        return 1;
    }
    return 0;
nomem:
    snprintf(c->err, c->errlen, "%s:%d: out of memory", c->path, lineno);
    return 0;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *c = user;
    int lineno = c->lineno;

    if (c->failed)
        return 0;
    for (size_t i = 0; i < sizeof(known_sections) / sizeof(known_sections[0]); i++) {
        if (strcmp(section, known_sections[i]) != 0)
            continue;
        for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
            if (strcmp(keys[j].section, section) == 0 && strcmp(keys[j].name, name) == 0) {
                if (!set_key(c, &keys[j], value, lineno))
                    c->failed = 1;
                return !c->failed;
            }
        }
        snprintf(c->err, c->errlen, "%s:%d: [%s] %s: unknown key", c->path, lineno,
                 section, name);
        c->failed = 1;
        return 0;
    }
    if (c->extra) {
        char sub[256] = "";
        int handled = c->extra(c->ud, section, name, value, lineno, sub, sizeof(sub));

        if (handled > 0)
            return 1;
        if (sub[0]) {
            snprintf(c->err, c->errlen, "%s:%d: [%s] %s: %s", c->path, lineno, section, name,
                     sub);
            c->failed = 1;
            return 0;
        }
    }
    snprintf(c->err, c->errlen, "%s:%d: unknown section [%s]", c->path, lineno, section);
    c->failed = 1;
    return 0;
}

int ck_config_load(ck_config *cfg, const char *path, ck_config_section_fn extra, void *ud,
                   char *err, size_t errlen)
{
    load_ctx c = { cfg, path, extra, ud, err, errlen, 0, NULL, 0 };
    int fd, rc;

    /*
     * Whoever can write checkup.conf can turn lockout off or aim the audit
     * file anywhere: it is held to the policy of ck_secfile.h. A directory, a
     * FIFO or a device is an error, never an empty file.
     */
    fd = ck_secfile_open(path, CK_FILE_CONFIG, NULL, err, errlen);
    if (fd < 0)
        return -1;
    c.file = fdopen(fd, "r");
    if (!c.file) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    rc = ini_parse_stream(read_line, &c, on_entry, &c);
    /* A read error ends the lines as EOF would: never take half a file. */
    if (ferror(c.file) && !c.failed) {
        snprintf(err, errlen, "%s: read error", path);
        c.failed = 1;
    }
    fclose(c.file);
    if (c.failed)
        return -1;
    if (rc > 0) {
        snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
                 path, rc);
        return -1;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    free(cfg->path);
    cfg->path = strdup(path);
    return ck_config_validate(cfg, err, errlen);
}

int ck_config_validate(const ck_config *cfg, char *err, size_t errlen)
{
    const char *where = cfg->path ? cfg->path : "configuration";

    if (cfg->absolute_lifetime < cfg->inactivity_timeout) {
        snprintf(err, errlen,
                 "%s: [session] absolute_lifetime (%d) must not be shorter than "
                 "inactivity_timeout (%d)", where, cfg->absolute_lifetime,
                 cfg->inactivity_timeout);
        return -1;
    }
    if (cfg->tls_min_version && strcmp(cfg->tls_min_version, "1.2") != 0 &&
        strcmp(cfg->tls_min_version, "1.3") != 0) {
        snprintf(err, errlen, "%s: [store] tls_min_version: '%s' is not 1.2 or 1.3", where,
                 cfg->tls_min_version);
        return -1;
    }
    if ((cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL)) {
        snprintf(err, errlen, "%s: [store] tls_cert_file and tls_key_file go together",
                 where);
        return -1;
    }
    return 0;
}

static int replace(char **field, const char *value)
{
    char *dup = strdup(value);

    if (!dup)
        return -1;
    free(*field);
    *field = dup;
    return 0;
}

/*
 * CHECKUP_STORE names the store outright; otherwise REDIS_HOST (with the
 * other REDIS_* variables) builds a redis:// or rediss:// URL. The password
 * stays out of the URL so that it never shows up in a message.
 */
int ck_config_apply_env(ck_config *cfg, char *err, size_t errlen)
{
    const char *store = getenv("CHECKUP_STORE");
    const char *host = getenv("REDIS_HOST");
    const char *port = getenv("REDIS_PORT");
    const char *db = getenv("REDIS_DB");
    const char *pass = getenv("REDIS_PASSWORD");
    const char *tls = getenv("REDIS_TLS_ENABLED");
    int use_tls = 0;
    char url[600];
    long long n;

    if (store && *store)
        return replace(&cfg->store_url, store) == 0 ? 0 : -1;
    if (!host || !*host)
        return 0;
    if (tls && *tls && parse_bool(tls, &use_tls) != 0) {
        snprintf(err, errlen, "REDIS_TLS_ENABLED: '%s' is not true or false", tls);
        return -1;
    }
    if (port && *port && (parse_number(port, 0, &n) != 0 || n < 1 || n > 65535)) {
        snprintf(err, errlen, "REDIS_PORT: '%s' is not a port number", port);
        return -1;
    }
    if (db && *db && (parse_number(db, 0, &n) != 0 || n < 0 || n > 15)) {
        snprintf(err, errlen, "REDIS_DB: '%s' is not a database number (0..15)", db);
        return -1;
    }
    if (strpbrk(host, "/@?#[] ") || strlen(host) > 255) {
        snprintf(err, errlen, "REDIS_HOST: not a host name");
        return -1;
    }
    snprintf(url, sizeof(url), "%s://%s:%s/%s", use_tls ? "rediss" : "redis", host,
             port && *port ? port : "6379", db && *db ? db : "0");
    if (replace(&cfg->store_url, url) != 0)
        return -1;
    if (pass && *pass && replace(&cfg->redis_password, pass) != 0)
        return -1;
    return 0;
}
