/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pam_checkup internals, linked from the module's convenience library:
 * argument parsing, messages, audit lines.
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
#include "module.h"

static char warned[1024];

static void warn(void *ud, const char *what, const char *arg)
{
    (void)ud;
    snprintf(warned + strlen(warned), sizeof(warned) - strlen(warned), "%s: %s\n", what, arg);
}

static int parse(int argc, const char **argv, ck_pam_args *a)
{
    warned[0] = '\0';
    return ck_pam_args_parse(argc, argv, a, warn, NULL);
}

static void test_args_defaults(void **state)
{
    ck_pam_args a;

    (void)state;
    assert_int_equal(parse(0, NULL, &a), 0);
    assert_string_equal(a.config, CK_CONFIG_PATH);
    assert_false(a.config_given);
    assert_int_equal(a.methods, CK_METHOD_PASSWORD | CK_METHOD_TOKEN);
    assert_false(a.debug);
    assert_false(a.use_first_pass);
    assert_false(a.try_first_pass);
}

static void test_args_values(void **state)
{
    const char *argv[] = { "config=/etc/x.conf", "method=token", "debug", "try_first_pass",
                           "use_first_pass" };
    ck_pam_args a;

    (void)state;
    assert_int_equal(parse(5, argv, &a), 0);
    assert_string_equal(a.config, "/etc/x.conf");
    assert_true(a.config_given);
    assert_int_equal(a.methods, CK_METHOD_TOKEN);
    assert_true(a.debug);
    assert_true(a.use_first_pass);
    assert_true(a.try_first_pass);
    assert_string_equal(warned, "");
    argv[1] = "method=password,token";
    assert_int_equal(parse(2, argv, &a), 0);
    assert_int_equal(a.methods, CK_METHOD_PASSWORD | CK_METHOD_TOKEN);
}

static void test_args_bad(void **state)
{
    const char *unknown[] = { "frobnicate", NULL, "nullok" };
    const char *bad[][1] = { { "method=" }, { "method=tokn" }, { "method=token,," },
                             { "config=relative.conf" }, { "config=" } };
    ck_pam_args a;

    (void)state;
    /* Unknown arguments: logged, ignored. */
    assert_int_equal(parse(3, unknown, &a), 0);
    assert_non_null(strstr(warned, "unknown argument ignored: frobnicate"));
    assert_non_null(strstr(warned, "nullok"));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(1, bad[i], &a), -1);
        assert_non_null(strstr(warned, bad[i][0]));
    }
}

static void test_duration(void **state)
{
    static const struct { int s; const char *want; } cases[] = {
        { 1, "1 second" }, { 8, "8 seconds" }, { 60, "1 minute" }, { 90, "90 seconds" },
        { 1200, "20 minutes" }, { 3600, "1 hour" }, { 5400, "90 minutes" },
        { 86400, "24 hours" },
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_pam_duration(cases[i].s, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_text(void **state)
{
    char buf[8];

    (void)state;
    ck_pam_text(buf, sizeof(buf), "pts/1");
    assert_string_equal(buf, "pts/1");
    ck_pam_text(buf, sizeof(buf), "a\nb\xc3\xa9 long tail");
    assert_string_equal(buf, "a?b?? l");
    ck_pam_text(buf, sizeof(buf), NULL);
    assert_string_equal(buf, "");
}

static void test_audit_line(void **state)
{
    ck_audit_event ev = {
        .event = "login_failure", .user = "eve=1 x\"\n\xff", .method = "password",
        .service = "sshd", .rhost = NULL, .sid_hash = "", .result = "failure",
        .reason = "bad_password",
    };
    char line[512];

    (void)state;
    ck_audit_format(&ev, line, sizeof(line));
    /*
     * One line, one token per key: the user cannot forge "result=success".
     * A name of no known shape is not written at all, only its hash.
     */
    assert_string_equal(line, "event=login_failure user_hash=sha256:fc1b01c008ba user_len=10 "
                              "method=password service=sshd rhost=- sid=- result=failure "
                              "reason=bad_password");
    ev.user = "eve@example.org";
    ev.service = "a b=c\"";
    ck_audit_format(&ev, line, sizeof(line));
    assert_string_equal(line, "event=login_failure user=eve@example.org "
                              "method=password service=a\\x20b\\x3dc\\x22 rhost=- sid=- "
                              "result=failure reason=bad_password");
}

static void test_audit_sid_hash(void **state)
{
    char a[CK_SID_HASH_LEN], b[CK_SID_HASH_LEN];
    const char *sid = "0aABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq";

    (void)state;
    ck_audit_sid_hash_of(sid, a);
    assert_int_equal(strlen(a), CK_SID_HASH_LEN - 1);
    assert_memory_equal(a, "0a", 2);
    assert_null(strstr(sid, a + 2));
    ck_audit_sid_hash("0a0123456789abcdef0123", b);
    assert_string_equal(b, "0a0123456789ab");
}

static void test_audit_json(void **state)
{
    char dir[] = "/tmp/ck-test-audit-XXXXXX", path[128], err[256], buf[1024];
    ck_audit_event ev = { .event = "session_open", .user = "a@example.org\xff",
                          .method = "token", .sid_hash = "0a0123456789ab",
                          .result = "success" };
    struct stat sb;
    FILE *f;
    size_t n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
    assert_int_equal(ck_audit_write_json(path, &ev, 1800000000, err, sizeof(err)), 0);
    assert_int_equal(ck_audit_write_json(path, &ev, 1800000001, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf,
        "{\"time\":1800000000,\"event\":\"session_open\",\"user_hash\":\"sha256:ed47efb013cf\","
        "\"user_len\":14,\"method\":\"token\",\"sid\":\"0a0123456789ab\",\"result\":\"success\"}\n"
        "{\"time\":1800000001,\"event\":\"session_open\",\"user_hash\":\"sha256:ed47efb013cf\","
        "\"user_len\":14,\"method\":\"token\",\"sid\":\"0a0123456789ab\",\"result\":\"success\"}\n");
    unlink(path);
    /* An unwritable place is an error with a reason, not a crash. */
    snprintf(path, sizeof(path), "%s/no/such/dir", dir);
    assert_int_equal(ck_audit_write_json(path, &ev, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open"));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_defaults),
        cmocka_unit_test(test_args_values),
        cmocka_unit_test(test_args_bad),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_audit_line),
        cmocka_unit_test(test_audit_sid_hash),
        cmocka_unit_test(test_audit_json),
    };

    return cmocka_run_group_tests_name("pam_units", tests, NULL, NULL);
}
