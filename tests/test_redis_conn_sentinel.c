/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Redis connection through Sentinel: one primary, one replica, three
 * sentinels, all password-protected. Resolving the primary (past a dead
 * sentinel), an unknown master name, a wrong password, a -READONLY reply,
 * and a failover: the primary is killed and the same handle carries on
 * against the promoted replica with the data written before.
 *
 * Run by tests/redis_conn_sentinel.sh, which exports CK_SENTINEL_PORTS
 * ("p1 p2 p3"), CK_PRIMARY_PORT, CK_PRIMARY_DIR, CK_REPLICA_PORT and
 * CK_REDIS_PASSWORD; the master is named "ckmaster".
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

#include "ck_config.h"
#include "redis/redis_conn.h"
#include "test_redis_conn_util.h"

#define NKEYS 50

static int sentinel_port[3], primary_port, replica_port;
static const char *password, *primary_dir;

/* redis+sentinel://:pw@127.0.0.1:1,<three sentinels>/<master>/<db> */
static ck_redis *open_sentinel(const char *pw, const char *master, int db)
{
    char url[256];
    ck_redis *r;

    /* Port 1 has no sentinel: the client must move on to the next one. */
    snprintf(url, sizeof(url),
             "redis+sentinel://:%s@127.0.0.1:1,127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d/%s/%d",
             pw, sentinel_port[0], sentinel_port[1], sentinel_port[2], master, db);
    r = t_open(url, NULL);
    assert_non_null(r);
    return r;
}

static ck_redis *open_plain(int port)
{
    char url[160];
    ck_redis *r;

    snprintf(url, sizeof(url), "redis://:%s@127.0.0.1:%d", password, port);
    r = t_open(url, NULL);
    assert_non_null(r);
    return r;
}

static int port_of_peer(const ck_redis *r)
{
    const char *colon = strrchr(ck_redis_peer(r), ':');

    return colon ? atoi(colon + 1) : -1;
}

/* A field of SENTINEL MASTER's flat name/value array, as a number. */
static long long master_field(redisReply *rep, const char *name)
{
    for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
        if (strcmp(rep->element[i]->str, name) == 0)
            return atoll(rep->element[i + 1]->str);
    }
    return -1;
}

/* Waits (bounded) until every sentinel sees the replica and the others. */
static void wait_sentinels_ready(void)
{
    const char *q[3] = { "SENTINEL", "MASTER", "ckmaster" };
    int64_t end = t_now_ms() + 20000;

    for (int i = 0; i < 3; i++) {
        ck_redis *s = open_plain(sentinel_port[i]);
        for (;;) {
            redisReply *rep = t_cmd(s, 3, q);
            int ready = rep && master_field(rep, "num-other-sentinels") >= 2 &&
                        master_field(rep, "num-slaves") >= 1;
            if (rep)
                freeReplyObject(rep);
            if (ready)
                break;
            if (t_now_ms() > end)
                fail_msg("sentinel %d did not see its peers in time", sentinel_port[i]);
            t_sleep_ms(100);
        }
        ck_redis_free(s);
    }
}

static void test_resolve(void **state)
{
    ck_redis *r = open_sentinel(password, "ckmaster", 1);
    const char *set[3] = { "SET", "ck:sent:resolve", "1" };

    (void)state;
    if (!t_ok(r, 3, set))
        fail_msg("SET through sentinel failed: %s", ck_redis_errstr(r));
    assert_int_equal(port_of_peer(r), primary_port);
    ck_redis_free(r);
}

static void test_unknown_master(void **state)
{
    ck_redis *r = open_sentinel(password, "nosuchmaster", 0);
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;

    (void)state;
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    printf("# unknown master: %s\n", ck_redis_errstr(r));
    assert_non_null(strstr(ck_redis_errstr(r), "no master named nosuchmaster"));
    assert_non_null(strstr(ck_redis_errstr(r), "4 sentinels"));
    ck_redis_free(r);
}

static void test_wrong_password(void **state)
{
    ck_redis *r = open_sentinel("not-the-password", "ckmaster", 0);
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;

    (void)state;
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    printf("# wrong sentinel password: %s\n", ck_redis_errstr(r));
    assert_non_null(strstr(ck_redis_errstr(r), "AUTH failed"));
    assert_null(strstr(ck_redis_errstr(r), "not-the-password"));
    ck_redis_free(r);
}

/* A replica answers writes with -READONLY: a reply, and the link is dropped. */
static void test_readonly_drops(void **state)
{
    ck_redis *r = open_plain(replica_port);
    const char *set[3] = { "SET", "ck:sent:ro", "1" };
    redisReply *rep = NULL;
    long long id;

    (void)state;
    id = t_client_id(r);
    assert_true(id > 0);
    assert_int_equal(ck_redis_command(r, 3, set, NULL, &rep), 0);
    assert_int_equal(rep->type, REDIS_REPLY_ERROR);
    assert_memory_equal(rep->str, "READONLY", 8);
    freeReplyObject(rep);
    assert_true(t_client_id(r) != id);
    ck_redis_free(r);
}

static void write_keys(ck_redis *r)
{
    const char *wait[3] = { "WAIT", "1", "500" };
    redisReply *rep;
    char key[32], val[32];

    for (int i = 0; i < NKEYS; i++) {
        const char *set[3] = { "SET", key, val };
        snprintf(key, sizeof(key), "ck:sent:k%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        assert_true(t_ok(r, 3, set));
    }
    /* The replica has them before the primary dies (WAIT stays within our
     * 1 s command timeout; the first sync may still be under way). */
    for (int64_t end = t_now_ms() + 15000;; t_sleep_ms(100)) {
        long long acked;
        rep = t_cmd(r, 3, wait);
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
        acked = rep->integer;
        freeReplyObject(rep);
        if (acked >= 1)
            break;
        assert_true(t_now_ms() < end);
    }
}

static void check_keys(ck_redis *r)
{
    char key[32], val[32];

    for (int i = 0; i < NKEYS; i++) {
        const char *get[2] = { "GET", key };
        redisReply *rep;
        snprintf(key, sizeof(key), "ck:sent:k%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        rep = t_cmd(r, 2, get);
        if (!rep)
            fail_msg("GET %s failed: %s", key, ck_redis_errstr(r));
        assert_int_equal(rep->type, REDIS_REPLY_STRING);
        assert_string_equal(rep->str, val);
        freeReplyObject(rep);
    }
}

static void test_failover(void **state)
{
    ck_redis *r = open_sentinel(password, "ckmaster", 0);
    const char *set[3] = { "SET", "ck:sent:after", "1" };
    char pidfile[512], lasterr[512] = "";
    redisReply *rep = NULL;
    int64_t t0, end;
    int tries = 0, errors = 0;
    pid_t pid;

    (void)state;
    wait_sentinels_ready();
    write_keys(r);
    assert_int_equal(port_of_peer(r), primary_port);

    snprintf(pidfile, sizeof(pidfile), "%s/redis.pid", primary_dir);
    pid = t_read_pid(pidfile);
    assert_int_equal(t_kill_wait(pid, SIGKILL, 5000), 0);
    unlink(pidfile);
    t0 = t_now_ms();
    end = t0 + 30000;
    for (;;) {
        int64_t c0 = t_now_ms();
        int rc = ck_redis_command(r, 3, set, NULL, &rep);

        tries++;
        /* Every failed attempt is bounded by the timeouts. */
        assert_true(t_now_ms() - c0 < 2000 + 1000 + 500);
        if (rc == 0 && rep->type != REDIS_REPLY_ERROR)
            break;
        if (rc == 0) {
            snprintf(lasterr, sizeof(lasterr), "reply: %s", rep->str);
            freeReplyObject(rep);
        } else if (strcmp(lasterr, ck_redis_errstr(r)) != 0) {
            snprintf(lasterr, sizeof(lasterr), "%s", ck_redis_errstr(r));
            if (errors++ < 6)
                printf("# during failover: %s\n", lasterr);
        }
        if (t_now_ms() > end)
            fail_msg("no new primary after 30 s; last error: %s", lasterr);
        t_sleep_ms(50);
    }
    freeReplyObject(rep);
    printf("# failover: same handle writes again after %lld ms (%d tries), primary %s\n",
           (long long)(t_now_ms() - t0), tries, ck_redis_peer(r));
    assert_int_equal(port_of_peer(r), replica_port);
    check_keys(r);
    ck_redis_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_unknown_master),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_readonly_drops),
        cmocka_unit_test(test_failover),
    };
    const char *ports = t_env("CK_SENTINEL_PORTS");

    if (sscanf(ports, "%d %d %d", &sentinel_port[0], &sentinel_port[1],
               &sentinel_port[2]) != 3) {
        fprintf(stderr, "CK_SENTINEL_PORTS must hold three ports\n");
        return 1;
    }
    primary_port = atoi(t_env("CK_PRIMARY_PORT"));
    replica_port = atoi(t_env("CK_REPLICA_PORT"));
    primary_dir = t_env("CK_PRIMARY_DIR");
    password = t_env("CK_REDIS_PASSWORD");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
