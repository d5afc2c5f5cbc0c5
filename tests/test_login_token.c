/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_login_token.c - ck_login_token_check, the token login the PAM
 * module and the SASL plugin share: every outcome on an embedded store in
 * a temp dir, with the test clock (ck_clock_set) stepping through idle
 * and lifetime ends, and the bind = enforce rule that a refused use
 * leaves the idle clock where it was.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ck_clock.h"
#include "ck_config.h"
#include "ck_login.h"
#include "ck_store.h"
#include "ck_token.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

typedef struct fixture {
    char dir[256];
    ck_config cfg;
    ck_store *st;
    ck_keyring *ring;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char path[400], kid[CK_KID_MAX], err[512];
    const char *tmp = getenv("TMPDIR");

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "%s/ck-logintok-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof(path), "%s/keys", f->dir);
    assert_int_equal(ck_keyring_generate(path, kid, err, sizeof(err)), 0);
    assert_int_equal(ck_keyring_load(path, 1, &f->ring, err, sizeof(err)), 0);
    ck_config_defaults(&f->cfg);
    f->cfg.inactivity_timeout = 60;
    f->cfg.absolute_lifetime = 300;
    snprintf(path, sizeof(path), "lmdb:%s/store", f->dir);
    f->cfg.store_url = strdup(path);
    assert_non_null(f->cfg.store_url);
    fake_now = 1800000000;
    ck_clock_set(fake_clock);
    f->st = ck_store_open(&f->cfg, err, sizeof(err));
    assert_non_null(f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[400];

    ck_store_close(f->st);
    ck_keyring_free(f->ring);
    ck_config_free(&f->cfg);
    ck_clock_set(NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* A session of user and its token (free() it). */
static char *login(fixture *f, const char *user)
{
    char sid[CK_SID_LEN], *tok = NULL;
    ck_session s;

    memset(&s, 0, sizeof(s));
    snprintf(s.user_id, sizeof(s.user_id), "%s", user);
    snprintf(s.email, sizeof(s.email), "%s", user);
    snprintf(s.remote_host, sizeof(s.remote_host), "192.0.2.10");
    assert_int_equal(ck_store_create(f->st, &s, sid), CK_OK);
    assert_int_equal(ck_token_sign(f->ring, sid, s.created, s.deadline, &tok), CK_TOKEN_OK);
    return tok;
}

typedef struct check_ud {
    const char *want;           /* the user the check accepts */
    int calls;
} check_ud;

static int check_user(void *ud, const ck_session *s)
{
    check_ud *c = ud;

    c->calls++;
    return strcmp(s->user_id, c->want) == 0 ? 0 : -1;
}

static void init(ck_login_token *tl, fixture *f, check_ud *c, const char *rhost)
{
    memset(tl, 0, sizeof(*tl));
    tl->store = f->st;
    tl->cfg = &f->cfg;
    tl->ring = f->ring;
    tl->rhost = rhost;
    tl->service = "test";
    tl->check = c ? check_user : NULL;
    tl->ud = c;
}

static ck_login_token_result run(fixture *f, check_ud *c, const char *rhost, const char *tok,
                                 ck_login_token *tl)
{
    init(tl, f, c, rhost);
    return ck_login_token_check(tl, tok, strlen(tok));
}

static void test_ok_touches(void **state)
{
    fixture *f = *state;
    check_ud c = { "alice@example.org", 0 };
    char *tok = login(f, "alice@example.org");
    ck_login_token tl;

    fake_now += 30;
    assert_int_equal(run(f, &c, "192.0.2.10", tok, &tl), CK_LOGIN_TOKEN_OK);
    assert_int_equal(c.calls, 1);
    assert_string_equal(tl.sess.user_id, "alice@example.org");
    assert_int_equal(tl.sess.last_activity, fake_now);
    assert_int_equal(tl.sess.expires, fake_now + 60);
    assert_int_equal(strlen(tl.sid_hash), CK_SID_HASH_LEN - 1);
    assert_memory_equal(tl.sid_hash, tl.sess.key_hex, CK_SID_HASH_LEN - 1);
    ck_login_token_done(&tl);
    assert_int_equal(tl.sid[0], '\0');
    free(tok);
}

static void test_forged(void **state)
{
    fixture *f = *state;
    check_ud c = { "alice@example.org", 0 };
    char *tok = login(f, "alice@example.org");
    ck_login_token tl;
    size_t n = strlen(tok);

    tok[n - 2] = tok[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(run(f, &c, NULL, tok, &tl), CK_LOGIN_TOKEN_REJECTED);
    assert_string_equal(tl.reason, "bad_signature");
    assert_int_equal(tl.forged, 1);
    assert_int_equal(tl.sid_hash[0], '\0');     /* a forged token names no session */
    assert_int_equal(c.calls, 0);
    assert_int_equal(run(f, &c, NULL, "not.a.token", &tl), CK_LOGIN_TOKEN_REJECTED);
    assert_string_equal(tl.reason, "malformed");
    assert_int_equal(tl.forged, 1);
    free(tok);
}

static void test_logged_out(void **state)
{
    fixture *f = *state;
    check_ud c = { "alice@example.org", 0 };
    char *tok = login(f, "alice@example.org");
    size_t count = 0;
    ck_login_token tl;

    assert_int_equal(ck_store_revoke_user(f->st, "alice@example.org", &count), CK_OK);
    assert_int_equal(count, 1);
    assert_int_equal(run(f, &c, NULL, tok, &tl), CK_LOGIN_TOKEN_REJECTED);
    assert_string_equal(tl.reason, "session_not_found");
    assert_int_equal(tl.forged, 0);             /* not counted: no guess */
    assert_int_not_equal(tl.sid_hash[0], '\0');
    free(tok);
}

static void test_idle_and_lifetime(void **state)
{
    fixture *f = *state;
    char *idle = login(f, "alice@example.org"), *life = login(f, "alice@example.org");
    ck_login_token tl;

    /* Kept alive every 50 s, the second session reaches its 300 s lifetime. */
    for (int i = 0; i < 5; i++) {
        fake_now += 50;
        assert_int_equal(run(f, NULL, NULL, life, &tl), CK_LOGIN_TOKEN_OK);
    }
    assert_int_equal(run(f, NULL, NULL, idle, &tl), CK_LOGIN_TOKEN_ENDED);
    assert_int_equal(tl.ended, CK_EXPIRED_IDLE);
    assert_int_not_equal(tl.sid_hash[0], '\0');
    fake_now += 51;
    assert_int_equal(run(f, NULL, NULL, life, &tl), CK_LOGIN_TOKEN_ENDED);
    assert_int_equal(tl.ended, CK_EXPIRED_LIFETIME);
    assert_int_not_equal(tl.sid_hash[0], '\0');
    free(idle);
    free(life);
}

/* Under bind = enforce a use refused by the check or the binding is not a touch. */
static void test_enforce_refusals_do_not_touch(void **state)
{
    fixture *f = *state;
    check_ud bob = { "bob@example.org", 0 }, alice = { "alice@example.org", 0 };
    char *tok = login(f, "alice@example.org");
    int64_t created = fake_now;
    ck_login_token tl;
    ck_session s;

    f->cfg.bind_mode = CK_BIND_ENFORCE;
    fake_now += 20;
    assert_int_equal(run(f, &bob, "192.0.2.10", tok, &tl), CK_LOGIN_TOKEN_CHECK_FAILED);
    fake_now += 20;
    assert_int_equal(run(f, &alice, "198.51.100.7", tok, &tl), CK_LOGIN_TOKEN_ANOMALY);
    assert_int_equal(ck_store_get(f->st, tl.sid, &s), CK_OK);
    assert_int_equal(s.last_activity, created);
    /* From the session's own network: allowed, and only now touched. */
    assert_int_equal(run(f, &alice, "192.0.2.99", tok, &tl), CK_LOGIN_TOKEN_OK);
    assert_int_equal(tl.sess.last_activity, fake_now);
    assert_int_equal(ck_store_get(f->st, tl.sid, &s), CK_OK);
    assert_int_equal(s.last_activity, fake_now);
    ck_login_token_done(&tl);
    free(tok);
}

static void test_enforce_refusal_keeps_last_activity(void **state)
{
    fixture *f = *state;
    check_ud bob = { "bob@example.org", 0 };
    char *tok = login(f, "alice@example.org");
    int64_t created = fake_now;
    ck_login_token tl;

    f->cfg.bind_mode = CK_BIND_ENFORCE;
    fake_now += 20;
    assert_int_equal(run(f, &bob, "192.0.2.10", tok, &tl), CK_LOGIN_TOKEN_CHECK_FAILED);
    assert_int_equal(tl.sess.last_activity, created);   /* read, not touched */
    /* Without enforce the session is touched before the check. */
    f->cfg.bind_mode = CK_BIND_OFF;
    assert_int_equal(run(f, &bob, "192.0.2.10", tok, &tl), CK_LOGIN_TOKEN_CHECK_FAILED);
    assert_int_equal(tl.sess.last_activity, fake_now);
    free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok_touches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logged_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_and_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enforce_refusals_do_not_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enforce_refusal_keeps_last_activity, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
