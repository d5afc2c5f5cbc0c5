/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Redis store over the other transports: TLS (rediss://, verified
 * against a CA made at test time) and Sentinel discovery
 * (redis+sentinel://). Servers are started by tests/redis_store_peers.sh.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ck_config.h"
#include "ck_store.h"

#define assert_status(st, got, want)                                          \
    do {                                                                      \
        ck_status g_ = (got), w_ = (want);                                    \
        if (g_ != w_)                                                         \
            fail_msg("got \"%s\", want \"%s\" (%s)", ck_status_str(g_),       \
                     ck_status_str(w_), ck_store_errstr(st));                 \
    } while (0)

static const char *env(const char *name)
{
    const char *v = getenv(name);

    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run tests/redis_store_peers.sh\n", name);
        exit(1);
    }
    return v;
}

/* Every session operation once, and the metrics that follow. */
static void exercise(ck_store *st, const char *user)
{
    char sid[2][CK_SID_LEN], key0[CK_KEY_HEX_LEN];
    ck_session s, got;
    ck_session_list list;
    ck_metrics m;
    size_t count;
    void *v;
    size_t len;

    memset(&s, 0, sizeof(s));
    snprintf(s.user_id, sizeof(s.user_id), "%s", user);
    snprintf(s.email, sizeof(s.email), "%s@clinic.example.sg", user);
    s.method = CK_AUTH_CORPPASS;
    assert_status(st, ck_store_ping(st), CK_OK);
    assert_status(st, ck_store_create(st, &s, sid[0]), CK_OK);
    memcpy(key0, s.key_hex, sizeof(key0));
    assert_status(st, ck_store_create(st, &s, sid[1]), CK_OK);
    assert_status(st, ck_store_touch(st, sid[0], &got), CK_OK);
    assert_string_equal(got.user_id, user);
    assert_string_equal(got.key_hex, key0);
    assert_status(st, ck_store_list_user(st, user, &list), CK_OK);
    assert_int_equal(list.count, 2);
    ck_session_list_free(&list);
    assert_status(st, ck_store_delete(st, sid[1]), CK_OK);
    assert_status(st, ck_store_state_put(st, "state:1", "abc", 3, 0), CK_OK);
    assert_status(st, ck_store_state_take(st, "state:1", &v, &len), CK_OK);
    assert_int_equal(len, 3);
    free(v);
    assert_status(st, ck_store_metrics(st, &m), CK_OK);
    assert_int_equal(m.created, 2);
    assert_int_equal(m.active, 1);
    assert_int_equal(m.active_by_method[CK_AUTH_CORPPASS], 1);
    assert_int_equal(m.ended_logout, 1);
    assert_status(st, ck_store_revoke_user(st, user, &count), CK_OK);
    assert_int_equal(count, 1);
    assert_status(st, ck_store_touch(st, sid[0], &got), CK_NOT_FOUND);
}

static ck_store *open_cfg(ck_config *cfg)
{
    char err[512];
    ck_store *st = ck_store_open(cfg, err, sizeof(err));

    if (!st)
        fail_msg("ck_store_open: %s", err);
    return st;
}

static void test_tls(void **state)
{
    ck_config cfg;
    ck_store *st;
    char url[64], ca[1024];

    (void)state;
    ck_config_defaults(&cfg);
    snprintf(url, sizeof(url), "rediss://127.0.0.1:%s", env("CK_TLS_PORT"));
    snprintf(ca, sizeof(ca), "%s/ca.crt", env("CK_TLS_DIR"));
    cfg.store_url = strdup(url);
    cfg.tls_ca_file = strdup(ca);
    cfg.key_prefix = strdup("tls:");
    st = open_cfg(&cfg);
    exercise(st, "tls-user");
    ck_store_close(st);
    ck_config_free(&cfg);
}

/* An untrusted server certificate: fails closed, as unavailable. */
static void test_tls_untrusted(void **state)
{
    ck_config cfg;
    ck_store *st;
    char url[64], ca[1024], sid[CK_SID_LEN];
    ck_session s;

    (void)state;
    ck_config_defaults(&cfg);
    snprintf(url, sizeof(url), "rediss://127.0.0.1:%s", env("CK_TLS_PORT"));
    snprintf(ca, sizeof(ca), "%s/other-ca.crt", env("CK_TLS_DIR"));
    cfg.store_url = strdup(url);
    cfg.tls_ca_file = strdup(ca);
    st = open_cfg(&cfg);
    memset(&s, 0, sizeof(s));
    snprintf(s.user_id, sizeof(s.user_id), "mallory");
    assert_status(st, ck_store_create(st, &s, sid), CK_ERR_UNAVAILABLE);
    ck_store_close(st);
    ck_config_free(&cfg);
}

static void test_sentinel(void **state)
{
    ck_config cfg;
    ck_store *st;
    char url[128];

    (void)state;
    ck_config_defaults(&cfg);
    snprintf(url, sizeof(url), "redis+sentinel://127.0.0.1:%s/ckmaster",
             env("CK_SENTINEL_PORT"));
    cfg.store_url = strdup(url);
    cfg.key_prefix = strdup("sen:");
    /* A primary without replicas here (tests/faults_wait.sh has WAIT). */
    cfg.wait_replicas = 0;
    st = open_cfg(&cfg);
    exercise(st, "sentinel-user");
    ck_store_close(st);
    ck_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_tls_untrusted),
        cmocka_unit_test(test_sentinel),
    };

    return cmocka_run_group_tests_name("redis store over TLS and Sentinel", tests, NULL, NULL);
}
