/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * contract_common.h - helpers shared by the store contract, race and
 * bad-input tests. The store under test is named by CHECKUP_TEST_STORE
 * ("lmdb:<dir>" or a redis URL, with CHECKUP_TEST_TLS_CA and
 * CHECKUP_TEST_PASSWORD_FILE for a TLS store with an ACL user); every test
 * gets a namespace of its own (a subdirectory for LMDB, a key prefix for
 * Redis) so that counts and metrics start from zero whatever ran before.
 */
#ifndef CK_CONTRACT_COMMON_H
#define CK_CONTRACT_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ck_config.h"
#include "ck_store.h"

/* Prints the store's error detail with the statuses; never a session id. */
#define assert_status(st, got, want)                                          \
    do {                                                                      \
        ck_status g_ = (got), w_ = (want);                                    \
        if (g_ != w_)                                                         \
            fail_msg("got \"%s\", want \"%s\" (%s)", ck_status_str(g_),       \
                     ck_status_str(w_), ck_store_errstr(st));                 \
    } while (0)

#define assert_status2(st, got, want1, want2)                                 \
    do {                                                                      \
        ck_status g_ = (got), a_ = (want1), b_ = (want2);                     \
        if (g_ != a_ && g_ != b_)                                             \
            fail_msg("got \"%s\", want \"%s\" or \"%s\" (%s)",                \
                     ck_status_str(g_), ck_status_str(a_), ck_status_str(b_), \
                     ck_store_errstr(st));                                    \
    } while (0)

static inline const char *ct_url(void)
{
    const char *url = getenv("CHECKUP_TEST_STORE");

    if (!url || !*url) {
        fprintf(stderr, "CHECKUP_TEST_STORE is not set: run this test through "
                "tests/contract_lmdb.sh or tests/contract_redis.sh\n");
        exit(1);
    }
    return url;
}

static inline int ct_is_lmdb(void)
{
    return strncmp(ct_url(), "lmdb:", 5) == 0;
}

/*
 * Fills cfg for a fresh namespace called name: defaults, then the given
 * timeouts. The caller may change more fields before ck_store_open and
 * frees cfg with ck_config_free.
 */
static inline void ct_config(ck_config *cfg, const char *name, int inactivity,
                             int lifetime, int max_per_user)
{
    static unsigned serial;
    const char *url = ct_url();
    char buf[4096];

    ck_config_defaults(cfg);
    cfg->inactivity_timeout = inactivity;
    cfg->absolute_lifetime = lifetime;
    cfg->max_per_user = max_per_user;
    cfg->lmdb_map_size = (size_t)64 << 20;
    serial++;
    if (strncmp(url, "lmdb:", 5) == 0) {
        snprintf(buf, sizeof(buf), "%s/%s-%ld-%u", url + 5, name, (long)getpid(), serial);
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "mkdir %s: %s\n", buf, strerror(errno));
            exit(1);
        }
        cfg->store_url = malloc(strlen(buf) + 6);
        sprintf(cfg->store_url, "lmdb:%s", buf);
    } else {
        const char *ca = getenv("CHECKUP_TEST_TLS_CA");
        const char *pwf = getenv("CHECKUP_TEST_PASSWORD_FILE");

        cfg->store_url = strdup(url);
        snprintf(buf, sizeof(buf), "ckt:%s:%ld:%u:", name, (long)getpid(), serial);
        cfg->key_prefix = strdup(buf);
        /* A TLS store's CA and an ACL user's password (tests/contract_cluster_tls.sh). */
        if (ca && *ca)
            cfg->tls_ca_file = strdup(ca);
        if (pwf && *pwf)
            cfg->redis_password_file = strdup(pwf);
    }
}

/* A session with every identity field set, for user and method. */
static inline void ct_fill(ck_session *s, const char *user, ck_auth_method m)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->user_id, sizeof(s->user_id), "%s", user);
    snprintf(s->email, sizeof(s->email), "%s@clinic.example.sg", user);
    snprintf(s->role, sizeof(s->role), "doctor");
    snprintf(s->clinic_id, sizeof(s->clinic_id), "CL-0042");
    s->method = m;
    snprintf(s->remote_host, sizeof(s->remote_host), "192.0.2.17");
    snprintf(s->service, sizeof(s->service), "sshd");
    snprintf(s->tty, sizeof(s->tty), "pts/3");
    if (m != CK_AUTH_EMAIL)
        snprintf(s->idp_sid, sizeof(s->idp_sid), "idp-%s-%d", user, (int)m);
}

/*
 * A well-formed session id that names nothing: sid with one character of
 * its random part changed (same tag, so same user slot).
 */
static inline void ct_other_sid(const char *sid, char out[CK_SID_LEN])
{
    memcpy(out, sid, CK_SID_LEN);
    out[20] = out[20] == 'A' ? 'B' : 'A';
}

#endif
