/* checkup.conf parsing: defaults, ranges, clear errors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ck_config.h"

static char *write_conf(const char *text)
{
    char *path = strdup("/tmp/ck-test-conf-XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int load(const char *text, ck_config *cfg, char *err, size_t errlen)
{
    char *path = write_conf(text);
    int rc;

    ck_config_defaults(cfg);
    rc = ck_config_load(cfg, path, NULL, NULL, err, errlen);
    unlink(path);
    free(path);
    return rc;
}

static void test_defaults(void **state)
{
    ck_config cfg;
    char err[512];

    (void)state;
    assert_int_equal(load("", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.inactivity_timeout, 1200);
    assert_int_equal(cfg.absolute_lifetime, 86400);
    assert_int_equal(cfg.pending_ttl, 600);
    assert_int_equal(cfg.connect_timeout_ms, 2000);
    assert_int_equal(cfg.command_timeout_ms, 1000);
    assert_int_equal(cfg.tls_verify, 1);
    assert_null(cfg.store_url);
    ck_config_free(&cfg);
}

static void test_values(void **state)
{
    ck_config cfg;
    char err[512];

    (void)state;
    assert_int_equal(load("[session]\ninactivity_timeout = 60\nabsolute_lifetime=3600\n"
                          "[store]\nurl = redis://127.0.0.1:6380/2\nmap_size = 64M\n"
                          "tls_verify = no\n", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.inactivity_timeout, 60);
    assert_int_equal(cfg.absolute_lifetime, 3600);
    assert_string_equal(cfg.store_url, "redis://127.0.0.1:6380/2");
    assert_int_equal(cfg.lmdb_map_size, 64 << 20);
    assert_int_equal(cfg.tls_verify, 0);
    ck_config_free(&cfg);
}

static void expect_error(const char *text, const char *fragment)
{
    ck_config cfg;
    char err[512] = "";

    assert_int_equal(load(text, &cfg, err, sizeof(err)), -1);
    if (!strstr(err, fragment))
        fail_msg("error '%s' does not mention '%s'", err, fragment);
    ck_config_free(&cfg);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[session]\ninactivity_timeout = 0\n",
                 ":2: [session] inactivity_timeout: 0 is out of range (1..86400)");
    expect_error("[session]\ninactivity_timeout = soon\n", "'soon' is not a number");
    expect_error("[session]\ninactivity_timeout = 99999999999999999999\n", "not a number");
    expect_error("[session]\nidle = 5\n", ":2: [session] idle: unknown key");
    expect_error("[nonsense]\na = b\n", "unknown section [nonsense]");
    expect_error("[store]\ntls_verify = maybe\n", "'maybe' is not yes or no");
    expect_error("[store]\nmap_size = 12Q\n", "not a number");
    expect_error("[session]\ninactivity_timeout = 600\nabsolute_lifetime = 60\n",
                 "must not be shorter than inactivity_timeout");
    expect_error("[store]\ntls_min_version = 1.0\n", "'1.0' is not 1.2 or 1.3");
    expect_error("this is not ini\n", ":1: syntax error");
    expect_error("[audit]\non_failure = ignore\n", "'ignore' is not log or deny");
    expect_error("[audit]\non_failure =\n", "'' is not log or deny");
}

/* [audit] on_failure: log by default, deny when asked. */
static void test_audit_on_failure(void **state)
{
    ck_config cfg;
    char err[512] = "";

    (void)state;
    assert_int_equal(load("", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.audit_on_failure, CK_AUDIT_LOG);
    ck_config_free(&cfg);
    assert_int_equal(load("[audit]\non_failure = deny\n", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.audit_on_failure, CK_AUDIT_DENY);
    ck_config_free(&cfg);
    assert_int_equal(load("[audit]\non_failure = log\n", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.audit_on_failure, CK_AUDIT_LOG);
    ck_config_free(&cfg);
}

static void test_missing_file(void **state)
{
    ck_config cfg;
    char err[512];

    (void)state;
    ck_config_defaults(&cfg);
    assert_int_equal(ck_config_load(&cfg, "/nonexistent/checkup.conf", NULL, NULL, err,
                                    sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/checkup.conf: cannot open"));
    ck_config_free(&cfg);
}

static void test_env(void **state)
{
    ck_config cfg;
    char err[512];

    (void)state;
    ck_config_defaults(&cfg);
    unsetenv("CHECKUP_STORE");
    setenv("REDIS_HOST", "127.0.0.1", 1);
    setenv("REDIS_PORT", "6390", 1);
    setenv("REDIS_DB", "3", 1);
    setenv("REDIS_PASSWORD", "pw", 1);
    setenv("REDIS_TLS_ENABLED", "true", 1);
    assert_int_equal(ck_config_apply_env(&cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.store_url, "rediss://127.0.0.1:6390/3");
    assert_string_equal(cfg.redis_password, "pw");
    setenv("REDIS_PORT", "99999", 1);
    assert_int_equal(ck_config_apply_env(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "REDIS_PORT"));
    unsetenv("REDIS_PORT");
    setenv("CHECKUP_STORE", "lmdb:/tmp/x", 1);
    assert_int_equal(ck_config_apply_env(&cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.store_url, "lmdb:/tmp/x");
    ck_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_audit_on_failure),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_env),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
