/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_units.c - metrics rendering and alerts, anomaly detection (binding,
 * per-user cap, failure bursts) and their configuration, against the
 * store named by CHECKUP_TEST_STORE (run through tests/cli_units_lmdb.sh
 * and tests/cli_units_redis.sh).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ck_anomaly.h"
#include "ck_clock.h"
#include "ck_lockout.h"
#include "ck_metrics.h"
#include "contract_common.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

static ck_store *open_store(ck_config *cfg, const char *name, int max_per_user)
{
    char err[512];
    ck_store *st;

    ct_config(cfg, name, 1200, 86400, max_per_user);
    st = ck_store_open(cfg, err, sizeof(err));
    if (!st)
        fail_msg("store: %s", err);
    return st;
}

static void session_for(ck_session *s, const char *user, const char *rhost, const char *ua)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->user_id, sizeof(s->user_id), "%s", user);
    snprintf(s->email, sizeof(s->email), "%s", user);
    snprintf(s->remote_host, sizeof(s->remote_host), "%s", rhost);
    ck_anomaly_ua_digest(ua, s->user_agent);
    s->method = CK_AUTH_EMAIL;
}

/* ---- binding ------------------------------------------------------------- */

static void test_same_network(void **state)
{
    (void)state;
    assert_true(ck_anomaly_same_network("192.0.2.10", "192.0.2.200", 24, 64));
    assert_false(ck_anomaly_same_network("192.0.2.10", "192.0.3.10", 24, 64));
    assert_true(ck_anomaly_same_network("192.0.2.10", "192.0.3.10", 16, 64));
    assert_false(ck_anomaly_same_network("192.0.2.10", "192.0.2.11", 32, 64));
    assert_true(ck_anomaly_same_network("192.0.2.10", "::ffff:192.0.2.99", 24, 64));
    assert_true(ck_anomaly_same_network("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", 24, 64));
    assert_false(ck_anomaly_same_network("2001:db8:1:2::1", "2001:db8:1:3::1", 24, 64));
    assert_false(ck_anomaly_same_network("192.0.2.10", "2001:db8::1", 0, 0));
    assert_true(ck_anomaly_same_network("Host.Example", "host.example", 24, 64));
    assert_false(ck_anomaly_same_network("host.example", "other.example", 24, 64));
    assert_true(ck_anomaly_same_network("", NULL, 24, 64));
    assert_false(ck_anomaly_same_network("", "192.0.2.1", 24, 64));
    /* Prefix lengths that are not whole bytes. */
    assert_true(ck_anomaly_same_network("10.0.0.1", "10.0.15.1", 20, 64));
    assert_false(ck_anomaly_same_network("10.0.0.1", "10.0.16.1", 20, 64));
}

static void test_binding(void **state)
{
    ck_config cfg;
    ck_session s;
    char why[64];

    (void)state;
    ck_config_defaults(&cfg);
    session_for(&s, "ann@example.org", "192.0.2.10", "Mozilla/5.0 A");
    assert_int_equal(ck_anomaly_check(&cfg, &s, "203.0.113.9", "x", why, sizeof(why)),
                     CK_ANOMALY_OK);
    cfg.bind_mode = CK_BIND_AUDIT;
    assert_int_equal(ck_anomaly_check(&cfg, &s, "192.0.2.77", "other", why, sizeof(why)),
                     CK_ANOMALY_OK);
    assert_int_equal(ck_anomaly_check(&cfg, &s, "203.0.113.9", "Mozilla/5.0 A", why,
                                      sizeof(why)), CK_ANOMALY_AUDIT);
    assert_string_equal(why, "address_changed");
    cfg.bind_mode = CK_BIND_ENFORCE;
    assert_int_equal(ck_anomaly_check(&cfg, &s, "203.0.113.9", "Mozilla/5.0 A", why,
                                      sizeof(why)), CK_ANOMALY_REFUSE);
    cfg.bind_user_agent = 1;
    assert_int_equal(ck_anomaly_check(&cfg, &s, "192.0.2.77", "Mozilla/5.0 A", why,
                                      sizeof(why)), CK_ANOMALY_OK);
    assert_int_equal(ck_anomaly_check(&cfg, &s, "192.0.2.77", "Mozilla/5.0 B", why,
                                      sizeof(why)), CK_ANOMALY_REFUSE);
    assert_string_equal(why, "user_agent_changed");
    cfg.bind_prefix_v4 = 32;
    assert_int_equal(ck_anomaly_check(&cfg, &s, "192.0.2.77", "Mozilla/5.0 A", why,
                                      sizeof(why)), CK_ANOMALY_REFUSE);
    assert_string_equal(why, "address_changed");
}

static void test_ua_digest(void **state)
{
    char a[CK_UA_MAX], b[CK_UA_MAX];

    (void)state;
    ck_anomaly_ua_digest("Mozilla/5.0 (X11; Linux x86_64)", a);
    ck_anomaly_ua_digest("Mozilla/5.0 (X11; Linux x86_64)", b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 39);
    assert_memory_equal(a, "sha256:", 7);
    assert_null(strstr(a, "Mozilla"));
    ck_anomaly_ua_digest("", a);
    assert_string_equal(a, "");
    ck_anomaly_ua_digest(NULL, a);
    assert_string_equal(a, "");
}

/* The session keeps the digest through a round trip of the store. */
static void test_ua_stored(void **state)
{
    ck_config cfg;
    ck_store *st = open_store(&cfg, "ua", 0);
    ck_session s, back;
    char sid[CK_SID_LEN];

    (void)state;
    session_for(&s, "ua@example.org", "192.0.2.1", "curl/8.0");
    assert_status(st, ck_store_create(st, &s, sid), CK_OK);
    assert_status(st, ck_store_get(st, sid, &back), CK_OK);
    assert_string_equal(back.user_agent, s.user_agent);
    assert_true(back.user_agent[0] != '\0');
    /* A control character is refused like any other field. */
    session_for(&s, "ua@example.org", "", NULL);
    memcpy(s.user_agent, "a\nb", 4);
    assert_status(st, ck_store_create(st, &s, sid), CK_ERR_INVALID);
    ck_store_close(st);
    ck_config_free(&cfg);
}

/* ---- per-user cap -------------------------------------------------------- */

static void test_cap_evicts_oldest(void **state)
{
    ck_config cfg;
    ck_store *st;
    ck_session s, got;
    ck_session_list list = { 0, NULL };
    ck_metrics m;
    char sid[3][CK_SID_LEN], keys[3][CK_KEY_HEX_LEN];

    (void)state;
    fake_now = 1800000000;
    ck_clock_set(fake_clock);
    st = open_store(&cfg, "cap", 2);
    for (int i = 0; i < 3; i++) {
        fake_now += 10;
        session_for(&s, "cap@example.org", "192.0.2.1", NULL);
        assert_status(st, ck_store_create(st, &s, sid[i]), CK_OK);
        memcpy(keys[i], s.key_hex, sizeof(keys[i]));
        assert_int_equal(ck_store_last_evicted(st), i == 2 ? 1 : 0);
    }
    assert_status(st, ck_store_get(st, sid[0], &got), CK_NOT_FOUND);
    assert_status(st, ck_store_get(st, sid[1], &got), CK_OK);
    assert_status(st, ck_store_list_user(st, "cap@example.org", &list), CK_OK);
    assert_int_equal(list.count, 2);
    for (size_t i = 0; i < list.count; i++)
        assert_string_not_equal(list.items[i].key_hex, keys[0]);
    ck_session_list_free(&list);
    assert_status(st, ck_store_metrics(st, &m), CK_OK);
    assert_int_equal(m.ended_revoked, 1);
    assert_int_equal(m.active, 2);
    ck_store_close(st);
    ck_config_free(&cfg);
    ck_clock_set(NULL);
}

/* ---- failure bursts ------------------------------------------------------ */

static void test_failure_burst_locks_address(void **state)
{
    ck_config cfg;
    ck_lockout lo;
    ck_store *st = open_store(&cfg, "spray", 0);
    const char *addr = "198.51.100.7";
    char acct[64];
    int locked = 0, hl = 0;
    ck_figures f;

    (void)state;
    cfg.spray_accounts = 3;
    cfg.spray_window = 600;
    ck_lockout_from_config(&lo, &cfg);
    /* The same account again and again is not a burst across accounts. */
    for (int i = 0; i < 4; i++) {
        assert_status(st, ck_anomaly_failure(st, &cfg, addr, "same@example.org", &locked),
                      CK_OK);
        assert_false(locked);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(acct, sizeof(acct), "u%d@example.org", i);
        assert_status(st, ck_anomaly_failure(st, &cfg, addr, acct, &locked), CK_OK);
        assert_int_equal(locked, i == 1);
    }
    assert_status(st, ck_lockout_check(st, &lo, CK_LOCK_HOST, addr, &hl), CK_OK);
    assert_true(hl);
    assert_status(st, ck_lockout_check(st, &lo, CK_LOCK_HOST, "198.51.100.8", &hl), CK_OK);
    assert_false(hl);
    /* Already locked: a further account does not lock (or count) it again. */
    assert_status(st, ck_anomaly_failure(st, &cfg, addr, "u9@example.org", &locked), CK_OK);
    assert_false(locked);
    assert_status(st, ck_figures_collect(st, &cfg, &f), CK_OK);
    assert_int_equal(f.counters[CK_COUNT_LOCKOUT], 1);
    assert_int_equal(f.counters[CK_COUNT_ANOMALY], 1);
    ck_store_close(st);
    ck_config_free(&cfg);
}

static void test_lockout_counts(void **state)
{
    ck_config cfg;
    ck_lockout lo;
    ck_store *st = open_store(&cfg, "lockcount", 0);
    int64_t count;
    int locked;
    ck_figures f;

    (void)state;
    cfg.fail_deny = 3;
    ck_lockout_from_config(&lo, &cfg);
    for (int i = 0; i < 4; i++)
        assert_status(st, ck_lockout_fail(st, &lo, CK_LOCK_ACCOUNT, "lc@example.org", &count,
                                          &locked), CK_OK);
    /* A host failure is the same failed login: not counted twice. */
    assert_status(st, ck_lockout_fail(st, &lo, CK_LOCK_HOST, "192.0.2.1", &count, &locked),
                  CK_OK);
    assert_status(st, ck_figures_collect(st, &cfg, &f), CK_OK);
    assert_int_equal(f.counters[CK_COUNT_LOGIN_FAILURE], 4);
    assert_int_equal(f.counters[CK_COUNT_LOCKOUT], 1);
    ck_store_close(st);
    ck_config_free(&cfg);
}

/* ---- the lock index ------------------------------------------------------- */

static const ck_lock_info *find_lock(const ck_lock_info *locks, size_t n, ck_lock_kind kind,
                                     const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (locks[i].kind == kind && strcmp(locks[i].id, id) == 0)
            return &locks[i];
    return NULL;
}

/* Every way a lock starts is listed, with its end; a reset unlists it. */
static void test_lock_list(void **state)
{
    ck_config cfg;
    ck_lockout lo;
    ck_store *st = open_store(&cfg, "locklist", 0);
    ck_lock_info *locks;
    const ck_lock_info *li;
    char id[CK_LOCK_ID_LEN], idh[CK_LOCK_ID_LEN];
    const char *addr = "203.0.113.5\x01\xff";
    int64_t count;
    size_t n;
    int locked;

    (void)state;
    fake_now = 1700000000;
    ck_clock_set(fake_clock);
    cfg.fail_deny = 2;
    cfg.unlock_time = 300;
    ck_lockout_from_config(&lo, &cfg);
    assert_status(st, ck_lockout_list(st, &locks, &n), CK_OK);
    assert_int_equal(n, 0);
    free(locks);
    for (int i = 0; i < 2; i++)
        assert_status(st, ck_lockout_fail(st, &lo, CK_LOCK_ACCOUNT, "ll@example.org", &count,
                                          &locked), CK_OK);
    assert_true(locked);
    assert_status(st, ck_lockout_lock(st, &lo, CK_LOCK_HOST, addr, &locked), CK_OK);
    assert_true(locked);
    assert_status(st, ck_lockout_list(st, &locks, &n), CK_OK);
    assert_int_equal(n, 2);
    ck_lockout_id("ll@example.org", id);
    li = find_lock(locks, n, CK_LOCK_ACCOUNT, id);
    assert_non_null(li);
    assert_string_equal(li->address, "");       /* the store keeps no user name */
    assert_int_equal(li->until, fake_now + 300);
    assert_false(li->forever);
    ck_lockout_id(addr, idh);
    li = find_lock(locks, n, CK_LOCK_HOST, idh);
    assert_non_null(li);
    assert_string_equal(li->address, "203.0.113.5??");
    free(locks);
    /* A reset unlists the lock; an ended lock is not listed. */
    assert_status(st, ck_lockout_reset(st, CK_LOCK_ACCOUNT, "ll@example.org"), CK_OK);
    assert_status(st, ck_lockout_list(st, &locks, &n), CK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(locks[0].kind, CK_LOCK_HOST);
    free(locks);
    fake_now += 301;
    assert_status(st, ck_lockout_list(st, &locks, &n), CK_OK);
    assert_int_equal(n, 0);
    free(locks);
    /* unlock_time = 0: until an administrator clears it. */
    lo.unlock_time = 0;
    assert_status(st, ck_lockout_lock(st, &lo, CK_LOCK_ACCOUNT, "ll@example.org", &locked),
                  CK_OK);
    assert_status(st, ck_lockout_list(st, &locks, &n), CK_OK);
    assert_int_equal(n, 1);
    assert_true(locks[0].forever);
    free(locks);
    /* An entry whose lock went another way is dropped, not listed. */
    assert_status(st, ck_store_lock_note(st, "u:00000000000000000000000000000000", 60), CK_OK);
    assert_status(st, ck_store_lock_note(st, "not one of ours", 60), CK_OK);
    assert_status(st, ck_lockout_list(st, &locks, &n), CK_OK);
    assert_int_equal(n, 1);
    assert_string_equal(locks[0].id, id);
    free(locks);
    assert_status(st, ck_lockout_reset(st, CK_LOCK_ACCOUNT, "ll@example.org"), CK_OK);
    ck_clock_set(NULL);
    ck_store_close(st);
    ck_config_free(&cfg);
}

/* The index takes only text of bounded size, and lists it back as written. */
static void test_lock_index_bounds(void **state)
{
    ck_config cfg;
    ck_store *st = open_store(&cfg, "lockbounds", 0);
    ck_lock_list l = { 0, NULL };
    char big[CK_LOCK_NAME_MAX + 1];

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(ck_store_lock_note(st, big, 60), CK_ERR_INVALID);
    big[CK_LOCK_NAME_MAX - 1] = '\0';
    assert_status(st, ck_store_lock_note(st, big, 60), CK_OK);
    assert_int_equal(ck_store_lock_note(st, "", 60), CK_ERR_INVALID);
    assert_int_equal(ck_store_lock_note(st, "a\nb", 60), CK_ERR_INVALID);
    assert_int_equal(ck_store_lock_note(st, "x", 0), CK_ERR_INVALID);
    assert_status(st, ck_store_lock_note(st, big, 120), CK_OK);    /* moves its end */
    assert_status(st, ck_store_lock_list(st, &l), CK_OK);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].name, big);
    ck_lock_list_free(&l);
    assert_status(st, ck_store_lock_forget(st, big), CK_OK);
    assert_status(st, ck_store_lock_forget(st, big), CK_OK);
    assert_status(st, ck_store_lock_list(st, &l), CK_OK);
    assert_int_equal(l.count, 0);
    ck_lock_list_free(&l);
    ck_store_close(st);
    ck_config_free(&cfg);
}

/* ---- alerts -------------------------------------------------------------- */

static void test_alerts_fire_once(void **state)
{
    ck_config cfg;
    ck_store *st = open_store(&cfg, "alerts", 0);
    ck_session s;
    ck_figures f;
    char sid[CK_SID_LEN];
    size_t n;
    int warned;

    (void)state;
    cfg.alert_active_sessions = 2;
    cfg.alert_idle_timeout_rate = 50;
    for (int i = 0; i < 2; i++) {
        session_for(&s, "al@example.org", "", NULL);
        assert_status(st, ck_store_create(st, &s, sid), CK_OK);
    }
    assert_status(st, ck_figures_collect(st, &cfg, &f), CK_OK);
    assert_true(f.alerts[CK_ALERT_ACTIVE_SESSIONS].firing);
    assert_false(f.alerts[CK_ALERT_IDLE_TIMEOUT_RATE].firing);
    assert_status(st, ck_figures_alert_log(st, &f, &warned), CK_OK);
    assert_int_equal(warned, 1);
    assert_status(st, ck_figures_alert_log(st, &f, &warned), CK_OK);
    assert_int_equal(warned, 0);
    assert_status(st, ck_store_revoke_user(st, "al@example.org", &n), CK_OK);
    assert_status(st, ck_figures_collect(st, &cfg, &f), CK_OK);
    assert_false(f.alerts[CK_ALERT_ACTIVE_SESSIONS].firing);
    assert_status(st, ck_figures_alert_log(st, &f, &warned), CK_OK);
    assert_int_equal(warned, 0);
    /* Cleared, then crossed again: warned again. */
    for (int i = 0; i < 2; i++) {
        session_for(&s, "al@example.org", "", NULL);
        assert_status(st, ck_store_create(st, &s, sid), CK_OK);
    }
    assert_status(st, ck_figures_collect(st, &cfg, &f), CK_OK);
    assert_status(st, ck_figures_alert_log(st, &f, &warned), CK_OK);
    assert_int_equal(warned, 1);
    if (ct_is_lmdb()) {
        assert_false(f.has_memory);
    } else {
        assert_true(f.has_memory);
        assert_true(f.mem_used > 0);
    }
    ck_store_close(st);
    ck_config_free(&cfg);
}

/* ---- rendering ----------------------------------------------------------- */

static void known_figures(ck_figures *f)
{
    memset(f, 0, sizeof(*f));
    f->backend = "redis";
    f->store_up = 1;
    f->m.active = 3;
    f->m.active_by_method[CK_AUTH_EMAIL] = 2;
    f->m.active_by_method[CK_AUTH_CORPPASS] = 1;
    f->m.created = 10;
    f->m.ended_logout = 2;
    f->m.ended_idle = 3;
    f->m.ended_revoked = 2;
    f->m.duration_sum = 700;
    f->m.avg_duration = 100;
    f->timeout_rate = 3.0 / 7.0;
    f->counters[CK_COUNT_LOGIN_FAILURE] = 5;
    f->counters[CK_COUNT_LOCKOUT] = 1;
    f->has_memory = 1;
    f->mem_used = 900;
    f->mem_max = 1000;
    f->mem_percent = 90;
    f->alerts[0] = (ck_alert){ "active_sessions", 1, 0, 3, 10000 };
    f->alerts[1] = (ck_alert){ "redis_memory_percent", 1, 1, 90, 80 };
    f->alerts[2] = (ck_alert){ "idle_timeout_rate", 0, 0, 42.9, 0 };
}

static void test_render(void **state)
{
    ck_figures f;
    char *json, *prom, *text;

    (void)state;
    known_figures(&f);
    json = ck_figures_json(&f);
    prom = ck_figures_prometheus(&f);
    text = ck_figures_text(&f);
    assert_non_null(json);
    assert_non_null(prom);
    assert_non_null(text);
    assert_non_null(strstr(json, "\"sessions\":{\"active\":3,\"active_by_method\":{\"email\":2,"
                                 "\"corppass\":1,\"oidc\":0},\"created\":10,\"ended\":{\"logout\":2,"
                                 "\"idle\":3,\"lifetime\":0,\"revoked\":2}"));
    assert_non_null(strstr(json, "\"login_failures\":5,\"lockouts\":1,\"anomalies\":0"));
    assert_non_null(strstr(json, "\"redis_memory\":{\"used_bytes\":900,\"max_bytes\":1000"));
    assert_non_null(strstr(prom, "\ncheckup_sessions_active 3\n"));
    assert_non_null(strstr(prom, "\ncheckup_sessions_ended_total{reason=\"idle\"} 3\n"));
    assert_non_null(strstr(prom, "\ncheckup_session_timeout_ratio 0.428571429\n"));
    assert_non_null(strstr(prom, "\ncheckup_redis_memory_ratio 0.9\n"));
    assert_non_null(strstr(prom, "\ncheckup_alert{name=\"redis_memory_percent\"} 1\n"));
    assert_non_null(strstr(prom, "\ncheckup_alert{name=\"active_sessions\"} 0\n"));
    assert_non_null(strstr(prom, "# TYPE checkup_sessions_created_total counter\n"));
    assert_non_null(strstr(text, "redis memory:     900 of 1000 bytes (90.0 %)"));
    assert_non_null(strstr(text, "FIRING"));
    free(json);
    free(prom);
    free(text);
}

/* A store that does not answer still renders, with the store down. */
static void test_store_down(void **state)
{
    ck_config cfg;
    ck_store *st;
    ck_figures f;
    char err[256], *prom;

    (void)state;
    ck_config_defaults(&cfg);
    cfg.store_url = strdup("redis://127.0.0.1:1/0");
    cfg.connect_timeout_ms = 200;
    st = ck_store_open(&cfg, err, sizeof(err));
    assert_non_null(st);
    assert_int_not_equal(ck_figures_collect(st, &cfg, &f), CK_OK);
    assert_false(f.store_up);
    assert_true(f.error[0] != '\0');
    prom = ck_figures_prometheus(&f);
    assert_non_null(strstr(prom, "checkup_store_up{backend=\"redis\"} 0\n"));
    free(prom);
    ck_store_close(st);
    ck_config_free(&cfg);
}

/* ---- configuration ------------------------------------------------------- */

static int load_text(ck_config *cfg, const char *text, char *err, size_t errlen)
{
    char path[] = "/tmp/ck-cli-conf.XXXXXX";
    int fd = mkstemp(path), rc;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    ck_config_defaults(cfg);
    rc = ck_config_load(cfg, path, NULL, NULL, err, errlen);
    unlink(path);
    return rc;
}

static void test_config_sections(void **state)
{
    ck_config cfg;
    char err[512];

    (void)state;
    ck_config_defaults(&cfg);
    assert_int_equal(cfg.alert_active_sessions, 10000);
    assert_int_equal(cfg.alert_redis_memory_percent, 80);
    assert_int_equal(cfg.bind_mode, CK_BIND_OFF);
    assert_int_equal(cfg.bind_prefix_v4, 24);
    assert_int_equal(cfg.bind_prefix_v6, 64);
    assert_int_equal(load_text(&cfg, "[alerts]\nactive_sessions = 50\nredis_memory_percent = 90\n"
                                     "idle_timeout_rate = 30\n[anomaly]\nbind = enforce\n"
                                     "bind_prefix_v4 = 16\nbind_prefix_v6 = 48\n"
                                     "bind_user_agent = yes\nspray_accounts = 4\n",
                               err, sizeof(err)), 0);
    assert_int_equal(cfg.alert_active_sessions, 50);
    assert_int_equal(cfg.alert_redis_memory_percent, 90);
    assert_int_equal(cfg.alert_idle_timeout_rate, 30);
    assert_int_equal(cfg.bind_mode, CK_BIND_ENFORCE);
    assert_int_equal(cfg.bind_prefix_v4, 16);
    assert_int_equal(cfg.bind_prefix_v6, 48);
    assert_int_equal(cfg.bind_user_agent, 1);
    assert_int_equal(cfg.spray_accounts, 4);
    ck_config_free(&cfg);
    assert_int_equal(load_text(&cfg, "[anomaly]\nbind = sometimes\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: [anomaly] bind: 'sometimes' is not off, audit or enforce"));
    ck_config_free(&cfg);
    assert_int_equal(load_text(&cfg, "[anomaly]\nbind_prefix_v4 = 33\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bind_prefix_v4: 33 is out of range (0..32)"));
    ck_config_free(&cfg);
    assert_int_equal(load_text(&cfg, "[alerts]\nredis_memory_percent = 101\n", err,
                               sizeof(err)), -1);
    assert_non_null(strstr(err, "[alerts] redis_memory_percent: 101 is out of range"));
    ck_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_network),
        cmocka_unit_test(test_binding),
        cmocka_unit_test(test_ua_digest),
        cmocka_unit_test(test_ua_stored),
        cmocka_unit_test(test_cap_evicts_oldest),
        cmocka_unit_test(test_failure_burst_locks_address),
        cmocka_unit_test(test_lockout_counts),
        cmocka_unit_test(test_lock_list),
        cmocka_unit_test(test_lock_index_bounds),
        cmocka_unit_test(test_alerts_fire_once),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_store_down),
        cmocka_unit_test(test_config_sections),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
