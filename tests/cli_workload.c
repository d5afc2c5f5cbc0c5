/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_workload - puts a known history into the store of a checkup.conf, on
 * a test clock that runs in the past, so that "checkup metrics" (on the
 * real clock, right after) must show exact figures. Users w1..w5 have two
 * sessions each (w3's second by CorpPass, w4's second by OIDC), inactivity
 * 1200 s:
 *
 *   now - 2000  create w1's, w2's and w3's first: never touched, they idle
 *               out at now - 800
 *   now - 1100  create the other 7 (Redis drops a key whose expiry is
 *               already past by real time, so these must still be live by
 *               it: now + 100)
 *   now - 1000  touch those 7
 *   now -  900  log out 2 (w1's and w2's second), revoke w5's 2
 *
 * The CorpPass and OIDC sessions are named as checkupd names them (service
 * "checkupd:<provider>", the provider's sid), for "sessions list/show".
 *
 * At the real now: 3 active (email 1, corppass 1, oidc 1), created 10,
 * ended logout 2, idle 3, lifetime 0, revoked 2; durations 3 x 1200 +
 * 4 x 200 = 4400 s. The 3 active live until now + 200.
 *
 * Usage: cli_workload CONFIG
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ck_clock.h"
#include "ck_config.h"
#include "ck_store.h"

static int64_t base;
static int64_t offset;

static int64_t test_clock(void)
{
    return base + offset;
}

static int check(ck_store *st, ck_status got, const char *what)
{
    if (got == CK_OK)
        return 0;
    fprintf(stderr, "cli_workload: %s: %s: %s\n", what, ck_status_str(got), ck_store_errstr(st));
    return -1;
}

/* Session i of the workload: user w<i/2+1>, by email unless 5 or 7. */
static int create_one(ck_store *st, int i, char *sid)
{
    ck_session s;

    memset(&s, 0, sizeof(s));
    snprintf(s.user_id, sizeof(s.user_id), "w%d@example.org", i / 2 + 1);
    snprintf(s.email, sizeof(s.email), "w%d@example.org", i / 2 + 1);
    snprintf(s.role, sizeof(s.role), "doctor");
    snprintf(s.service, sizeof(s.service), "workload");
    s.method = i == 5 ? CK_AUTH_CORPPASS : i == 7 ? CK_AUTH_OIDC : CK_AUTH_EMAIL;
    if (s.method != CK_AUTH_EMAIL) {
        snprintf(s.service, sizeof(s.service), "checkupd:%s", i == 5 ? "corppass" : "corp-idp");
        snprintf(s.idp_sid, sizeof(s.idp_sid), "idp-sid-%d", i);
    }
    return check(st, ck_store_create(st, &s, sid), "create");
}

static int run(ck_store *st)
{
    static const int untouched[10] = { 1, 0, 1, 0, 1, 0, 0, 0, 0, 0 };
    char sid[10][CK_SID_LEN];
    ck_session s;
    size_t n = 0;

    offset = -2000;
    for (int i = 0; i < 10; i++)
        if (untouched[i] && create_one(st, i, sid[i]) != 0)
            return -1;
    offset = -1100;
    for (int i = 0; i < 10; i++)
        if (!untouched[i] && create_one(st, i, sid[i]) != 0)
            return -1;
    offset = -1000;
    for (int i = 0; i < 10; i++)
        if (!untouched[i] && check(st, ck_store_touch(st, sid[i], &s), "touch") != 0)
            return -1;
    offset = -900;
    if (check(st, ck_store_delete(st, sid[1]), "logout") != 0 ||
        check(st, ck_store_delete(st, sid[3]), "logout") != 0 ||
        check(st, ck_store_revoke_user(st, "w5@example.org", &n), "revoke") != 0)
        return -1;
    if (n != 2) {
        fprintf(stderr, "cli_workload: revoked %zu sessions, want 2\n", n);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    ck_config cfg;
    ck_store *st;
    char err[512];
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: cli_workload CONFIG\n");
        return 2;
    }
    ck_config_defaults(&cfg);
    if (ck_config_load(&cfg, argv[1], NULL, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "cli_workload: %s\n", err);
        return 1;
    }
    if (cfg.inactivity_timeout != 1200) {
        fprintf(stderr, "cli_workload: the workload needs inactivity_timeout = 1200\n");
        return 1;
    }
    base = (int64_t)time(NULL);
    ck_clock_set(test_clock);
    st = ck_store_open(&cfg, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "cli_workload: %s\n", err);
        return 1;
    }
    rc = run(st);
    ck_store_close(st);
    ck_config_free(&cfg);
    return rc == 0 ? 0 : 1;
}
