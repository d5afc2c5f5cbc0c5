/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_terminal (pending terminal logins) on the store named by
 * CHECKUP_TEST_STORE: run through tests/pam_corppass_store_lmdb.sh and
 * tests/pam_corppass_store_redis.sh.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ck_store.h"
#include "ck_terminal.h"
#include "contract_common.h"

typedef struct fixture {
    ck_config cfg;
    ck_store *st;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    char err[512];

    if (!fx)
        return -1;
    ct_config(&fx->cfg, "term", 1200, 86400, 0);
    fx->st = ck_store_open(&fx->cfg, err, sizeof(err));
    if (!fx->st) {
        fprintf(stderr, "ck_store_open: %s\n", err);
        ck_config_free(&fx->cfg);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    ck_store_close(fx->st);
    ck_config_free(&fx->cfg);
    free(fx);
    return 0;
}

static void identity(ck_terminal_identity *id)
{
    memset(id, 0, sizeof(*id));
    snprintf(id->sub, sizeof(id->sub), "s=S1234567A,uuid=0b5d9c1e-7f11-4a55-9a3c-1f2e3d4c5b6a,"
             "u=CP001,c=SG");
    snprintf(id->email, sizeof(id->email), "alice@example.org");
    snprintf(id->cp_uuid, sizeof(id->cp_uuid), "0b5d9c1e-7f11-4a55-9a3c-1f2e3d4c5b6a");
    snprintf(id->cp_entity_id, sizeof(id->cp_entity_id), "T09LL0001B");
    snprintf(id->cp_user_id, sizeof(id->cp_user_id), "CP001");
    snprintf(id->idp_sid, sizeof(id->idp_sid), "idp-session-42");
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- tests -------------------------------------------------------------- */

static void test_code_parse(void **state)
{
    char out[CK_TERMINAL_CODE_LEN];

    (void)state;
    assert_int_equal(ck_terminal_code_parse("ABCD2345", out), 0);
    assert_string_equal(out, "ABCD2345");
    assert_int_equal(ck_terminal_code_parse("abcd-2345", out), 0);
    assert_string_equal(out, "ABCD2345");
    assert_int_equal(ck_terminal_code_parse(" wxyz 9876 ", out), 0);
    assert_string_equal(out, "WXYZ9876");
    /* 0, O, 1 and I are not in the alphabet: typing them is a mistake. */
    assert_int_equal(ck_terminal_code_parse("ABCD2340", out), -1);
    assert_int_equal(ck_terminal_code_parse("ABCD234O", out), -1);
    assert_int_equal(ck_terminal_code_parse("ABCD2341", out), -1);
    assert_int_equal(ck_terminal_code_parse("ABCD234I", out), -1);
    assert_int_equal(ck_terminal_code_parse("ABCD234", out), -1);
    assert_int_equal(ck_terminal_code_parse("ABCD23456", out), -1);
    assert_int_equal(ck_terminal_code_parse("", out), -1);
    assert_int_equal(ck_terminal_code_parse(NULL, out), -1);
    assert_int_equal(ck_terminal_code_parse("ABCD/../", out), -1);
    assert_int_equal(ck_terminal_code_parse("ABCD\xc3\xa9" "2345", out), -1);
}

static void test_begin_lookup(void **state)
{
    fixture *fx = *state;
    char a[CK_TERMINAL_CODE_LEN], b[CK_TERMINAL_CODE_LEN], canon[CK_TERMINAL_CODE_LEN];
    char lower[CK_TERMINAL_CODE_LEN];
    ck_terminal t;

    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", "sshd", "192.0.2.5", 60, a),
                  CK_OK);
    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", NULL, NULL, 60, b), CK_OK);
    assert_int_equal(strlen(a), CK_TERMINAL_CODE_CHARS);
    assert_int_equal(ck_terminal_code_parse(a, canon), 0);
    assert_string_equal(canon, a);
    assert_string_not_equal(a, b);
    assert_status(fx->st, ck_terminal_lookup(fx->st, a, &t), CK_OK);
    assert_int_equal(t.state, CK_TERMINAL_PENDING);
    assert_string_equal(t.provider, "corppass");
    assert_string_equal(t.service, "sshd");
    assert_string_equal(t.rhost, "192.0.2.5");
    assert_true(t.expires - t.created == 60);
    /* As a user may type it. */
    for (size_t i = 0; i <= strlen(a); i++)
        lower[i] = (char)(a[i] >= 'A' && a[i] <= 'Z' ? a[i] - 'A' + 'a' : a[i]);
    assert_status(fx->st, ck_terminal_lookup(fx->st, lower, &t), CK_OK);
    assert_status(fx->st, ck_terminal_lookup(fx->st, b, &t), CK_OK);
    assert_string_equal(t.service, "");
    assert_status(fx->st, ck_terminal_lookup(fx->st, "2222AAAA", &t), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_lookup(fx->st, "nope", &t), CK_ERR_INVALID);
}

static void test_begin_bad_input(void **state)
{
    fixture *fx = *state;
    char code[CK_TERMINAL_CODE_LEN], big[300];

    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_status(fx->st, ck_terminal_begin(fx->st, "", NULL, NULL, 60, code), CK_ERR_INVALID);
    assert_status(fx->st, ck_terminal_begin(fx->st, NULL, NULL, NULL, 60, code),
                  CK_ERR_INVALID);
    assert_status(fx->st, ck_terminal_begin(fx->st, big, NULL, NULL, 60, code),
                  CK_ERR_INVALID);
    assert_status(fx->st, ck_terminal_begin(fx->st, "cp", "ss\nhd", NULL, 60, code),
                  CK_ERR_INVALID);
    assert_status(fx->st, ck_terminal_begin(fx->st, "cp", NULL, big, 60, code),
                  CK_ERR_INVALID);
    assert_string_equal(code, "");
}

static void test_complete_poll_once(void **state)
{
    fixture *fx = *state;
    char code[CK_TERMINAL_CODE_LEN];
    ck_terminal_identity id;
    ck_terminal t;

    identity(&id);
    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", "login", "", 60, code), CK_OK);
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_OK);
    assert_int_equal(t.state, CK_TERMINAL_PENDING);
    assert_status(fx->st, ck_terminal_complete(fx->st, code, &id), CK_OK);
    /* A code completes once: a replayed callback finds nothing. */
    assert_status(fx->st, ck_terminal_complete(fx->st, code, &id), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_lookup(fx->st, code, &t), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_OK);
    assert_int_equal(t.state, CK_TERMINAL_COMPLETED);
    assert_string_equal(t.provider, "corppass");
    assert_string_equal(t.service, "login");
    assert_string_equal(t.id.cp_uuid, id.cp_uuid);
    assert_string_equal(t.id.cp_entity_id, "T09LL0001B");
    assert_string_equal(t.id.cp_user_id, "CP001");
    assert_string_equal(t.id.email, "alice@example.org");
    assert_string_equal(t.id.sub, id.sub);
    assert_string_equal(t.id.idp_sid, "idp-session-42");
    /* The result is used once. */
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_NOT_FOUND);
}

/* A failed browser login: recorded once, polled once with its reason. */
static void test_fail_poll_once(void **state)
{
    fixture *fx = *state;
    char code[CK_TERMINAL_CODE_LEN], big[CK_TERMINAL_REASON_MAX + 8];
    ck_terminal_identity id;
    ck_terminal t;

    identity(&id);
    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", "login", "", 60, code), CK_OK);
    assert_status(fx->st, ck_terminal_fail(fx->st, code, ""), CK_ERR_INVALID);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_status(fx->st, ck_terminal_fail(fx->st, code, big), CK_ERR_INVALID);
    assert_status(fx->st, ck_terminal_fail(fx->st, code, "provider_timeout"), CK_OK);
    /* Failed is final: neither a second failure nor a completion takes. */
    assert_status(fx->st, ck_terminal_fail(fx->st, code, "provider_timeout"), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_complete(fx->st, code, &id), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_OK);
    assert_int_equal(t.state, CK_TERMINAL_FAILED);
    assert_string_equal(t.reason, "provider_timeout");
    assert_string_equal(t.provider, "corppass");
    assert_string_equal(t.id.email, "");
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_fail(fx->st, "3333BBBB", "x"), CK_NOT_FOUND);
}

static void test_complete_bad(void **state)
{
    fixture *fx = *state;
    char code[CK_TERMINAL_CODE_LEN];
    ck_terminal_identity id;
    ck_terminal t;

    assert_status(fx->st, ck_terminal_complete(fx->st, "3333BBBB", NULL), CK_ERR_INVALID);
    identity(&id);
    assert_status(fx->st, ck_terminal_complete(fx->st, "3333BBBB", &id), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_complete(fx->st, "3333BBB0", &id), CK_ERR_INVALID);
    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", NULL, NULL, 60, code), CK_OK);
    /* A bad identity leaves the login pending, for a good one. */
    snprintf(id.email, sizeof(id.email), "a\x01@example.org");
    assert_status(fx->st, ck_terminal_complete(fx->st, code, &id), CK_ERR_INVALID);
    memset(&id, 0, sizeof(id));
    assert_status(fx->st, ck_terminal_complete(fx->st, code, &id), CK_ERR_INVALID);
    assert_status(fx->st, ck_terminal_lookup(fx->st, code, &t), CK_OK);
    identity(&id);
    assert_status(fx->st, ck_terminal_complete(fx->st, code, &id), CK_OK);
}

static void test_cancel(void **state)
{
    fixture *fx = *state;
    char code[CK_TERMINAL_CODE_LEN];
    ck_terminal_identity id;
    ck_terminal t;

    identity(&id);
    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", NULL, NULL, 60, code), CK_OK);
    assert_status(fx->st, ck_terminal_cancel(fx->st, code), CK_OK);
    assert_status(fx->st, ck_terminal_lookup(fx->st, code, &t), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_complete(fx->st, code, &id), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_cancel(fx->st, code), CK_OK);
    /* Cancelling a completed login drops its result too. */
    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", NULL, NULL, 60, code), CK_OK);
    assert_status(fx->st, ck_terminal_complete(fx->st, code, &id), CK_OK);
    assert_status(fx->st, ck_terminal_cancel(fx->st, code), CK_OK);
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_cancel(fx->st, "x"), CK_ERR_INVALID);
}

static void test_expires(void **state)
{
    fixture *fx = *state;
    char code[CK_TERMINAL_CODE_LEN], done[CK_TERMINAL_CODE_LEN];
    ck_terminal_identity id;
    ck_terminal t;

    identity(&id);
    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", NULL, NULL, 1, code), CK_OK);
    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", NULL, NULL, 1, done), CK_OK);
    assert_status(fx->st, ck_terminal_complete(fx->st, done, &id), CK_OK);
    sleep_ms(2100);
    assert_status(fx->st, ck_terminal_lookup(fx->st, code, &t), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_NOT_FOUND);
    assert_status(fx->st, ck_terminal_complete(fx->st, code, &id), CK_NOT_FOUND);
    /* A result recorded in time is still there a moment past the TTL. */
    assert_status(fx->st, ck_terminal_poll(fx->st, done, &t), CK_OK);
    assert_int_equal(t.state, CK_TERMINAL_COMPLETED);
}

static void test_corrupt_record(void **state)
{
    fixture *fx = *state;
    static const char *bad[] = {
        "", "{", "[]", "{\"v\":2}", "{\"v\":1,\"state\":\"pending\"}",
        "{\"v\":1,\"state\":\"odd\",\"created\":1,\"expires\":2}",
        "{\"v\":1,\"state\":\"completed\",\"created\":1,\"expires\":2}",
        "{\"v\":1,\"state\":\"pending\",\"created\":1,\"expires\":2,\"provider\":7}",
    };
    ck_terminal t;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_status(fx->st, ck_store_state_put(fx->st, "term:4444CCCC", bad[i],
                                                 strlen(bad[i]), 60), CK_OK);
        assert_status(fx->st, ck_terminal_lookup(fx->st, "4444CCCC", &t), CK_ERR_CORRUPT);
        assert_status(fx->st, ck_terminal_poll(fx->st, "4444CCCC", &t), CK_ERR_CORRUPT);
    }
    assert_status(fx->st, ck_terminal_cancel(fx->st, "4444CCCC"), CK_OK);
}

/* Eight processes complete one code at once: exactly one succeeds. */
static void test_complete_race(void **state)
{
    fixture *fx = *state;
    char code[CK_TERMINAL_CODE_LEN];
    pid_t pids[8];
    int ok = 0, notfound = 0;
    ck_terminal t;

    assert_status(fx->st, ck_terminal_begin(fx->st, "corppass", NULL, NULL, 60, code), CK_OK);
    for (int i = 0; i < 8; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            ck_terminal_identity id;
            char err[512];
            ck_store *st = ck_store_open(&fx->cfg, err, sizeof(err));
            ck_status s;

            if (!st)
                _exit(3);
            identity(&id);
            snprintf(id.cp_user_id, sizeof(id.cp_user_id), "CP00%d", i);
            s = ck_terminal_complete(st, code, &id);
            ck_store_close(st);
            _exit(s == CK_OK ? 0 : s == CK_NOT_FOUND ? 1 : 2);
        }
    }
    for (int i = 0; i < 8; i++) {
        int ws = 0;

        assert_int_equal(waitpid(pids[i], &ws, 0), pids[i]);
        assert_true(WIFEXITED(ws));
        ok += WEXITSTATUS(ws) == 0;
        notfound += WEXITSTATUS(ws) == 1;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(notfound, 7);
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_OK);
    assert_int_equal(t.state, CK_TERMINAL_COMPLETED);
    assert_status(fx->st, ck_terminal_poll(fx->st, code, &t), CK_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_parse),
        cmocka_unit_test_setup_teardown(test_begin_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complete_poll_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_poll_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complete_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complete_race, setup, teardown),
    };

    return cmocka_run_group_tests_name(ct_is_lmdb() ? "ck_terminal (lmdb)"
                                                    : "ck_terminal (redis)",
                                       tests, NULL, NULL);
}
