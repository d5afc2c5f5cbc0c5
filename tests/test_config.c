/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * checkup.conf parsing: defaults, ranges, clear errors; and the one
 * ownership and mode policy (ck_secfile.h) for checkup.conf, secret files,
 * the audit file and the embedded store's directory.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ck_audit.h"
#include "ck_config.h"
#include "ck_secfile.h"
#include "lib/files.h"

static int load(const char *text, ck_config *cfg, char *err, size_t errlen)
{
    char *path = tf_tmp("conf", text, TF_UMASK);
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
    assert_int_equal(cfg.hash_slots, -1);
    assert_int_equal(cfg.hash_wait, 30);
    assert_null(cfg.hash_slot_file);
    ck_config_free(&cfg);
}

static void test_values(void **state)
{
    ck_config cfg;
    char err[512];

    (void)state;
    assert_int_equal(load("[session]\ninactivity_timeout = 60\nabsolute_lifetime=3600\n"
                          "[store]\nurl = redis://127.0.0.1:6380/2\nmap_size = 64M\n"
                          "tls_verify = no\n[passwords]\nhash_slots = 0\nhash_wait = 5\n"
                          "hash_slot_file = /run/x\n", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.hash_slots, 0);
    assert_int_equal(cfg.hash_wait, 5);
    assert_string_equal(cfg.hash_slot_file, "/run/x");
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
    expect_error("[passwords]\nhash_slots = -2\n", "hash_slots: -2 is out of range (-1..4096)");
    expect_error("[passwords]\nhash_wait = 0\n", "hash_wait: 0 is out of range (1..600)");
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

/* ---- the file policy ---------------------------------------------------- */

static char pdir[64];

static const char *at(const char *name)
{
    static char path[256];

    snprintf(path, sizeof(path), "%s/%s", pdir, name);
    return path;
}

static void put(const char *name, mode_t mode, const char *text)
{
    FILE *f = fopen(at(name), "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(at(name), mode), 0);
}

/* Someone else's file: the tests run as root (CI and here). */
static void give_away(const char *name)
{
    assert_int_equal(geteuid(), 0);
    assert_int_equal(chown(at(name), 65534, 65534), 0);
}

/*
 * ck_config_load on pdir/name: 0 or -1; a refusal must say want (and
 * fails the test when none was expected). at() returns one static
 * buffer: never two at() in one call.
 */
static int load_at(const char *name, const char *want)
{
    char err[512] = "";
    ck_config cfg;
    int rc;

    ck_config_defaults(&cfg);
    rc = ck_config_load(&cfg, at(name), NULL, NULL, err, sizeof(err));
    ck_config_free(&cfg);
    if (rc != 0 && !want)
        fail_msg("%s: %s", name, err);
    if (rc != 0 && want && !strstr(err, want))
        fail_msg("%s: '%s' does not say '%s'", name, err, want);
    return rc;
}

static void test_config_file_policy(void **state)
{
    (void)state;
    snprintf(pdir, sizeof(pdir), "/tmp/ck-test-policy-XXXXXX");
    assert_non_null(mkdtemp(pdir));
    put("good.conf", 0644, "[session]\ninactivity_timeout = 60\n");
    assert_int_equal(load_at("good.conf", NULL), 0);
    /* A symlink is judged by the file it names (and that file's directory). */
    assert_int_equal(symlink("good.conf", at("link.conf")), 0);
    assert_int_equal(load_at("link.conf", NULL), 0);
    put("world.conf", 0666, "[lockout]\ndeny = 0\n");
    assert_int_equal(load_at("world.conf", "mode 0666"), -1);
    put("group.conf", 0664, "");
    assert_int_equal(load_at("group.conf", "mode 0664"), -1);
    put("nobody.conf", 0644, "");
    give_away("nobody.conf");
    assert_int_equal(load_at("nobody.conf", "owned by uid 65534"), -1);
    /* Not a file: an error, never an empty configuration (nor a hang). */
    assert_int_equal(mkdir(at("dir.conf"), 0755), 0);
    assert_int_equal(load_at("dir.conf", "not a regular file"), -1);
    assert_int_equal(mkfifo(at("fifo.conf"), 0644), 0);
    assert_int_equal(load_at("fifo.conf", "not a regular file"), -1);
    assert_int_equal(symlink("loop.conf", at("loop.conf")), 0);
    assert_int_equal(load_at("loop.conf", "cannot open"), -1);
    assert_int_equal(symlink("/dev/null", at("null.conf")), 0);
    assert_int_equal(load_at("null.conf", "not a regular file"), -1);
    /* Its directory: nobody else may swap the file. */
    assert_int_equal(mkdir(at("open"), 0700), 0);
    assert_int_equal(chmod(at("open"), 0777), 0);
    put("open/c.conf", 0644, "");
    assert_int_equal(load_at("open/c.conf", "its directory"), -1);
    assert_int_equal(mkdir(at("theirs"), 0755), 0);
    put("theirs/c.conf", 0644, "");
    give_away("theirs");
    assert_int_equal(load_at("theirs/c.conf", "owned by uid 65534"), -1);
    /* A sticky directory (/tmp) lets no one replace another's file. */
    assert_int_equal(mkdir(at("sticky"), 0700), 0);
    assert_int_equal(chmod(at("sticky"), 01777), 0);
    put("sticky/c.conf", 0644, "");
    assert_int_equal(load_at("sticky/c.conf", NULL), 0);
}

static void test_secret_and_audit_policy(void **state)
{
    ck_audit_event ev = { .event = "login_failure", .user = "a@example.org",
                          .result = "failure", .reason = "bad_password" };
    char err[512], *data = NULL;
    size_t len = 0;

    (void)state;
    /* Secrets: neither group nor others may even read them. */
    put("secret", 0600, "s3cret\n");
    assert_int_equal(ck_secfile_read(at("secret"), CK_FILE_SECRET, 64, &data, &len, err,
                                     sizeof(err)), 0);
    ck_secfile_free(data, len);
    put("secret-0640", 0640, "s3cret\n");
    assert_int_equal(ck_secfile_read(at("secret-0640"), CK_FILE_SECRET, 64, &data, &len, err,
                                     sizeof(err)), -1);
    assert_non_null(strstr(err, "chmod 600"));
    put("secret-nobody", 0600, "s3cret\n");
    give_away("secret-nobody");
    assert_int_equal(ck_secfile_read(at("secret-nobody"), CK_FILE_SECRET, 64, &data, &len,
                                     err, sizeof(err)), -1);
    put("open/secret", 0600, "s3cret\n");
    assert_int_equal(ck_secfile_read(at("open/secret"), CK_FILE_SECRET, 64, &data, &len, err,
                                     sizeof(err)), -1);
    assert_non_null(strstr(err, "its directory"));

    /* The audit file root appends to: created 0600, then held to the policy. */
    assert_int_equal(ck_audit_write_json(at("audit.jsonl"), &ev, 1, err, sizeof(err)), 0);
    put("audit-0666", 0666, "");
    assert_int_equal(ck_audit_write_json(at("audit-0666"), &ev, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "mode 0666"));
    put("audit-nobody", 0600, "");
    give_away("audit-nobody");
    assert_int_equal(ck_audit_write_json(at("audit-nobody"), &ev, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "owned by uid 65534"));
    assert_int_equal(ck_audit_write_json(at("open/audit"), &ev, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "its directory"));
    assert_int_equal(symlink("audit.jsonl", at("audit-link")), 0);
    assert_int_equal(ck_audit_write_json(at("audit-link"), &ev, 1, err, sizeof(err)), -1);
    assert_int_equal(mkfifo(at("audit-fifo"), 0600), 0);
    assert_int_equal(ck_audit_write_json(at("audit-fifo"), &ev, 1, err, sizeof(err)), -1);

    /* The embedded store: group-shared, others kept out, files not symlinks. */
    assert_int_equal(mkdir(at("store"), 0700), 0);
    assert_int_equal(chmod(at("store"), 02770), 0);
    assert_int_equal(ck_secfile_check_store(at("store"), 1, err, sizeof(err)), 0);
    assert_int_equal(chmod(at("store"), 0755), 0);
    assert_int_equal(ck_secfile_check_store(at("store"), 1, err, sizeof(err)), 0);
    assert_int_equal(chmod(at("store"), 02777), 0);
    assert_int_equal(ck_secfile_check_store(at("store"), 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "o-w"));
    put("store/lock.mdb", 0664, "");
    assert_int_equal(ck_secfile_check_store(at("store/lock.mdb"), 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "o-rwx"));
    assert_int_equal(symlink("/etc/passwd", at("store/data.mdb")), 0);
    assert_int_equal(ck_secfile_check_store(at("store/data.mdb"), 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
}

/* [audit] on_failure = deny: an audit file the policy refuses refuses logins. */
static void test_audit_gate_policy(void **state)
{
    ck_config cfg;

    (void)state;
    ck_config_defaults(&cfg);
    cfg.audit_on_failure = CK_AUDIT_DENY;
    cfg.audit_file = strdup(at("audit.jsonl"));
    assert_int_equal(ck_audit_gate(&cfg, NULL, NULL), 0);
    free(cfg.audit_file);
    cfg.audit_file = strdup(at("audit-0666"));
    assert_int_equal(ck_audit_gate(&cfg, NULL, NULL), -1);
    ck_config_free(&cfg);
}

static int rm_policy_dir(void **state)
{
    char cmd[128];

    (void)state;
    /* Fixed name under /tmp made by mkdtemp: nothing to quote. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pdir);
    return pdir[0] && system(cmd) != 0;
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
        cmocka_unit_test(test_config_file_policy),
        cmocka_unit_test(test_secret_and_audit_policy),
        cmocka_unit_test(test_audit_gate_policy),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, rm_policy_dir);
}
