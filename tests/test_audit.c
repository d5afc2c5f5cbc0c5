/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The audit writer: which user names are written as they are, the JSON
 * line (parsed back with jansson), and what happens when the audit file
 * cannot be written ([audit] on_failure).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ck_audit.h"
#include "ck_config.h"

static void test_name_shape(void **state)
{
    static const char *const ok[] = {
        "root", "auser", "a.b_c-d", "a@example.org", "first.last+tag@mail.example.org",
        "o'brien@example.org", "user@localhost",
        "0f8fad5b-d9cb-469f-a165-70867728950e",     /* a provider's UUID subject */
    };
    static const char *const bad[] = {
        "", "-root", "two words", "tab\there", "eve\n", "caf\xc3\xa9",
        "a@@example.org", "a@b@example.org", "@example.org", "a@", ".a@example.org",
        "a.@example.org", "a@-example.org", "a@example-.org", "a@example..org",
        "a@example.org.", "Sp!ke", "pass%word",
        /* a checkup token: three base64url parts, far longer than a name */
        "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzaWQiOiIwYUFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFla"
        "YWJjZCIsImlhdCI6MTgwMDAwMDAwMCwiZXhwIjoxODAwMDg2NDAwfQ.c2lnbmF0dXJlc2lnbmF0dXJlc2ln",
    };
    char long_name[300];

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!ck_audit_name_ok(ok[i]))
            fail_msg("'%s' should be written as it is", ok[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ck_audit_name_ok(bad[i]))
            fail_msg("'%s' should be hashed", bad[i]);
    assert_false(ck_audit_name_ok(NULL));
    /* 64 is the longest plain name, 254 the longest address. */
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    assert_false(ck_audit_name_ok(long_name));
    long_name[64] = '\0';
    assert_true(ck_audit_name_ok(long_name));
    memset(long_name, 'a', 64);
    long_name[64] = '@';
    memset(long_name + 65, 'b', 190);
    for (int i = 100; i < 255; i += 50)
        long_name[i] = '.';     /* labels shorter than 64 */
    long_name[255] = '\0';
    assert_false(ck_audit_name_ok(long_name));     /* 255 bytes */
    long_name[254] = '\0';
    assert_true(ck_audit_name_ok(long_name));
}

/* Writes ev to a fresh file and parses the one line back. */
static json_t *round_trip(const ck_audit_event *ev)
{
    char dir[] = "/tmp/ck-test-audit-XXXXXX", path[128], err[256];
    json_error_t jerr;
    json_t *j;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
    assert_int_equal(ck_audit_write_json(path, ev, 1800000000, err, sizeof(err)), 0);
    j = json_load_file(path, 0, &jerr);
    if (!j)
        fail_msg("not JSON: %s", jerr.text);
    unlink(path);
    rmdir(dir);
    return j;
}

static void test_json_strings(void **state)
{
    ck_audit_event ev = { .event = "login_failure", .user = "a@example.org",
                          .method = "password", .service = "my service",
                          .rhost = "host \"x\" \\ caf\xc3\xa9", .result = "failure",
                          .reason = "bad_password" };
    char long_host[600];
    json_t *j;

    (void)state;
    /* Spaces, quotes, backslashes and UTF-8 come back as they went in. */
    j = round_trip(&ev);
    assert_int_equal(json_integer_value(json_object_get(j, "time")), 1800000000);
    assert_string_equal(json_string_value(json_object_get(j, "user")), "a@example.org");
    assert_string_equal(json_string_value(json_object_get(j, "service")), "my service");
    assert_string_equal(json_string_value(json_object_get(j, "rhost")),
                        "host \"x\" \\ caf\xc3\xa9");
    json_decref(j);
    /* Not UTF-8: \xNN text, still one valid JSON string. */
    ev.rhost = "bad\xff\x01 byte";
    j = round_trip(&ev);
    assert_string_equal(json_string_value(json_object_get(j, "rhost")), "bad\\xff\\x01 byte");
    json_decref(j);
    /* Long UTF-8 is cut at a character boundary. */
    for (size_t i = 0; i + 2 < sizeof(long_host); i += 2)
        memcpy(long_host + i, "\xc3\xa9", 2);
    long_host[sizeof(long_host) - 2] = '\0';
    ev.rhost = long_host;
    j = round_trip(&ev);
    assert_true(strlen(json_string_value(json_object_get(j, "rhost"))) <= 256);
    json_decref(j);
    /* A name of no known shape: its hash and length, never the name. */
    ev.user = "S3cret pass!";
    ev.rhost = NULL;
    j = round_trip(&ev);
    assert_null(json_object_get(j, "user"));
    assert_int_equal(json_integer_value(json_object_get(j, "user_len")), 12);
    assert_int_equal(strncmp(json_string_value(json_object_get(j, "user_hash")), "sha256:", 7),
                     0);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "user_hash"))), 19);
    json_decref(j);
}

static char logged[4096];
static int errors_logged;

static void capture(void *ud, int prio, const char *msg)
{
    (void)ud;
    if (prio == LOG_ERR)
        errors_logged++;
    snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "%d %s\n", prio, msg);
}

/* A path no one, root included, can create: its parent is a regular file. */
static void broken_path(char *dir, char *path, size_t len)
{
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(path, len, "%s/file", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, len, "%s/file/audit.jsonl", dir);
}

static void test_emit_once(void **state)
{
    char dir[] = "/tmp/ck-test-audit-XXXXXX", path[160], good[160];
    ck_audit_event ev = { .event = "login_success", .user = "a@example.org",
                          .result = "success" };
    ck_config cfg;

    (void)state;
    ck_config_defaults(&cfg);
    broken_path(dir, path, sizeof(path));
    cfg.audit_file = path;
    logged[0] = '\0';
    errors_logged = 0;
    /* The syslog line always; the broken file said once, not per event. */
    assert_int_equal(ck_audit_emit(&cfg, NULL, &ev, LOG_NOTICE, capture, NULL), -1);
    assert_int_equal(ck_audit_emit(&cfg, NULL, &ev, LOG_NOTICE, capture, NULL), -1);
    assert_int_equal(ck_audit_emit(&cfg, NULL, &ev, LOG_NOTICE, capture, NULL), -1);
    assert_int_equal(errors_logged, 1);
    assert_non_null(strstr(logged, "audit file: "));
    assert_non_null(strstr(logged, "Not a directory"));
    assert_int_equal(strstr(strstr(logged, "event=login_success") + 1, "event=login_success") !=
                     NULL, 1);
    /* Working again: said so, and a later break is said again. */
    snprintf(good, sizeof(good), "%s/audit.jsonl", dir);
    cfg.audit_file = good;
    assert_int_equal(ck_audit_emit(&cfg, NULL, &ev, LOG_NOTICE, capture, NULL), 0);
    assert_non_null(strstr(logged, "audit file: written again"));
    cfg.audit_file = path;
    assert_int_equal(ck_audit_emit(&cfg, NULL, &ev, LOG_NOTICE, capture, NULL), -1);
    assert_int_equal(errors_logged, 2);
    cfg.audit_file = good;
    assert_int_equal(ck_audit_emit(&cfg, NULL, &ev, LOG_NOTICE, capture, NULL), 0);
    unlink(good);
    snprintf(good, sizeof(good), "%s/file", dir);
    unlink(good);
    rmdir(dir);
    cfg.audit_file = NULL;
    ck_config_free(&cfg);
}

static void test_gate(void **state)
{
    char dir[] = "/tmp/ck-test-audit-XXXXXX", path[160], good[160];
    ck_config cfg;

    (void)state;
    ck_config_defaults(&cfg);
    broken_path(dir, path, sizeof(path));
    errors_logged = 0;
    /* No file, or on_failure = log: logins go on. */
    assert_int_equal(ck_audit_gate(&cfg, capture, NULL), 0);
    cfg.audit_file = path;
    assert_int_equal(ck_audit_gate(&cfg, capture, NULL), 0);
    /* deny: refused while the file cannot be opened, said once. */
    cfg.audit_on_failure = CK_AUDIT_DENY;
    assert_int_equal(ck_audit_gate(&cfg, capture, NULL), -1);
    assert_int_equal(ck_audit_gate(&cfg, capture, NULL), -1);
    assert_int_equal(errors_logged, 1);
    /* A directory where the file should be fails too. */
    cfg.audit_file = dir;
    assert_int_equal(ck_audit_gate(&cfg, capture, NULL), -1);
    snprintf(good, sizeof(good), "%s/audit.jsonl", dir);
    cfg.audit_file = good;
    assert_int_equal(ck_audit_gate(&cfg, capture, NULL), 0);
    unlink(good);
    snprintf(good, sizeof(good), "%s/file", dir);
    unlink(good);
    rmdir(dir);
    cfg.audit_file = NULL;
    ck_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_shape),
        cmocka_unit_test(test_json_strings),
        cmocka_unit_test(test_emit_once),
        cmocka_unit_test(test_gate),
    };

    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
