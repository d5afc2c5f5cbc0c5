/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_redis_cluster_faults - the cluster client against fake nodes
 * (tests/lib/fake_cluster_node.py on loopback): a node answering garbage,
 * a MOVED to a port nobody listens on, a MOVED loop, a slot map with
 * holes, a cluster that stays down, and two nodes splitting the slots
 * (pipelines put back in order, WAIT following its write, ASK). Each
 * failure is a clear error within the command timeout, never a redirect
 * handed out as data.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "ck_cluster.h"
#include "ck_config.h"
#include "redis/redis_conn.h"
#include "redis/redis_slot.h"

#define TIMEOUT_MS 500

typedef struct fake {
    pid_t pid;
    int n;
    int port[5];
    char dir[64];
} fake;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fake_start(fake *f, const char *mode)
{
    const char *src = getenv("top_srcdir");
    char script[4096], pf[128];
    FILE *fp = NULL;

    memset(f, 0, sizeof(*f));
    if (!src)
        fail_msg("top_srcdir is not set: run through make check");
    snprintf(script, sizeof(script), "%s/tests/lib/fake_cluster_node.py", src);
    snprintf(f->dir, sizeof(f->dir), "/tmp/ck-fakecl-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(pf, sizeof(pf), "%s/ports", f->dir);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        execlp("python3", "python3", script, "--mode", mode, "--port-file", pf,
               "--max-seconds", "60", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && !fp; i++) {
        fp = fopen(pf, "r");
        if (!fp)
            usleep(10000);
    }
    if (!fp)
        fail_msg("the fake cluster node (%s) did not start", mode);
    assert_int_equal(fscanf(fp, "%d", &f->n), 1);
    for (int i = 0; i < f->n && i < 5; i++)
        assert_int_equal(fscanf(fp, "%d", &f->port[i]), 1);
    fclose(fp);
    unlink(pf);
}

static void fake_stop(fake *f)
{
    kill(f->pid, SIGTERM);
    waitpid(f->pid, NULL, 0);
    rmdir(f->dir);
}

static ck_redis *handle(const fake *f)
{
    ck_redis_opts o;
    char url[128], err[256];
    ck_redis *r;

    snprintf(url, sizeof(url), "redis+cluster://127.0.0.1:%d/", f->port[0]);
    assert_int_equal(ck_redis_opts_from_url(&o, url, NULL, err, sizeof(err)), 0);
    o.command_timeout_ms = TIMEOUT_MS;
    o.connect_timeout_ms = TIMEOUT_MS;
    r = ck_redis_new(&o);
    assert_non_null(r);
    return r;
}

/* GET key: -1 with errstr holding want, within the command timeout and a margin. */
static void expect_failure(ck_redis *r, const char *key, const char *want, int64_t min_ms)
{
    const char *argv[2] = { "GET", key };
    redisReply *rep = (redisReply *)1;
    int64_t t0 = now_ms(), took;

    assert_int_equal(ck_redis_command(r, 2, argv, NULL, &rep), -1);
    took = now_ms() - t0;
    assert_null(rep);
    printf("# %s: %s (%lld ms)\n", key, ck_redis_errstr(r), (long long)took);
    if (!strstr(ck_redis_errstr(r), want))
        fail_msg("\"%s\" lacks \"%s\"", ck_redis_errstr(r), want);
    assert_true(took >= min_ms);
    assert_true(took < 2 * TIMEOUT_MS + 500);
}

static void test_garbage(void **state)
{
    fake f;
    ck_redis *r;

    (void)state;
    fake_start(&f, "garbage");
    r = handle(&f);
    expect_failure(r, "k", "CLUSTER SHARDS", 0);
    assert_non_null(strstr(ck_redis_errstr(r), "protocol error"));
    /* Asked again at once: the backoff answers, nothing hangs. */
    expect_failure(r, "k", "CLUSTER SHARDS", 0);
    assert_int_equal(ck_redis_primary_count(r), -1);
    ck_redis_free(r);
    fake_stop(&f);
}

static void test_moved_refused(void **state)
{
    fake f;
    ck_redis *r;

    (void)state;
    fake_start(&f, "moved-refused");
    r = handle(&f);
    expect_failure(r, "k", "Connection refused", 0);
    ck_redis_free(r);
    fake_stop(&f);
}

/*
 * A node that redirects to an address the slot map does not list (a node
 * lying, to collect the ACL password it would be sent): refused, though
 * the address answers and would serve the command.
 */
static void test_moved_stranger(void **state)
{
    fake f;
    ck_redis *r;

    (void)state;
    fake_start(&f, "moved-stranger");
    r = handle(&f);
    expect_failure(r, "k", "does not list: refused", 0);
    ck_redis_free(r);
    fake_stop(&f);
}

static void test_moved_loop(void **state)
{
    fake f;
    ck_redis *r;

    (void)state;
    fake_start(&f, "moved-loop");
    r = handle(&f);
    expect_failure(r, "k", "redirections", 0);
    assert_non_null(strstr(ck_redis_errstr(r), "MOVED"));
    ck_redis_free(r);
    fake_stop(&f);
}

/*
 * Seeds that never answer cost a command timeout each: reading the slot
 * map gives up after the connect and command timeouts, not 5 x 500 ms.
 */
static void test_silent_seeds(void **state)
{
    fake f;
    ck_redis_opts o;
    ck_redis *r;
    char url[256], err[256];
    const char *argv[2] = { "GET", "k" };
    redisReply *rep = NULL;
    int64_t t0, took;

    (void)state;
    fake_start(&f, "silent");
    assert_int_equal(f.n, 5);
    snprintf(url, sizeof(url), "redis+cluster://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d,"
             "127.0.0.1:%d,127.0.0.1:%d/", f.port[0], f.port[1], f.port[2], f.port[3],
             f.port[4]);
    assert_int_equal(ck_redis_opts_from_url(&o, url, NULL, err, sizeof(err)), 0);
    o.command_timeout_ms = TIMEOUT_MS;
    o.connect_timeout_ms = TIMEOUT_MS;
    r = ck_redis_new(&o);
    assert_non_null(r);
    t0 = now_ms();
    assert_int_equal(ck_redis_command(r, 2, argv, NULL, &rep), -1);
    took = now_ms() - t0;
    printf("# silent seeds: %s (%lld ms)\n", ck_redis_errstr(r), (long long)took);
    assert_null(rep);
    assert_non_null(strstr(ck_redis_errstr(r), "timed out"));
    assert_true(took < 4 * TIMEOUT_MS);
    ck_redis_free(r);
    fake_stop(&f);
}

/* A key whose slot is below (want_low) or above 99. */
static void key_in(int want_low, char *out, size_t cap)
{
    for (int i = 0;; i++) {
        snprintf(out, cap, "k%d", i);
        if ((ck_redis_key_slot(out, strlen(out)) < 100) == want_low)
            return;
    }
}

static void test_holes(void **state)
{
    fake f;
    ck_redis *r;
    char lo[32], hi[32], want[64];
    const char *argv[2] = { "GET", NULL };
    redisReply *rep = NULL;

    (void)state;
    fake_start(&f, "holes");
    r = handle(&f);
    key_in(1, lo, sizeof(lo));
    key_in(0, hi, sizeof(hi));
    argv[1] = lo;
    assert_int_equal(ck_redis_command(r, 2, argv, NULL, &rep), 0);
    assert_int_equal(rep->type, REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    snprintf(want, sizeof(want), "slot %u is not served by any node",
             ck_redis_key_slot(hi, strlen(hi)));
    expect_failure(r, hi, want, 0);
    ck_redis_free(r);
    fake_stop(&f);
}

/* -CLUSTERDOWN is tried again with the backoff until the command timeout. */
static void test_clusterdown(void **state)
{
    fake f;
    ck_redis *r;

    (void)state;
    fake_start(&f, "clusterdown");
    r = handle(&f);
    expect_failure(r, "k", "CLUSTERDOWN", TIMEOUT_MS / 2);
    assert_non_null(strstr(ck_redis_errstr(r), "giving up"));
    ck_redis_free(r);
    fake_stop(&f);
}

/* A key in the first node's slots (0..8191) or the second's. */
static void key_on(int node, char *out, size_t cap, int skip)
{
    for (int i = 0;; i++) {
        snprintf(out, cap, "key%d", i);
        if ((ck_redis_key_slot(out, strlen(out)) >= 8192) == node && skip-- == 0)
            return;
    }
}

static void expect_str(const redisReply *rep, const char *want)
{
    assert_non_null(rep);
    if (rep->type != REDIS_REPLY_STRING)
        fail_msg("type %d (%s) instead of \"%s\"", rep->type, rep->str ? rep->str : "", want);
    assert_string_equal(rep->str, want);
}

static void replies_free2(redisReply **rep, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        freeReplyObject(rep[i]);
        rep[i] = NULL;
    }
}

static void test_split(void **state)
{
    fake f;
    ck_redis *r;
    char a[32], b[32], c[32], w0[48], w1[48], w2[48], moved[32], wm[48];
    const char *ga[2] = { "GET", a }, *gb[2] = { "GET", b }, *gc[2] = { "GET", c };
    const char *gm[2] = { "GET", moved };
    const char *wait[3] = { "WAIT", "1", "0" }, *ask[2] = { "GET", "askme" };
    const char *ping[1] = { "PING" };
    const char **argv[5] = { ga, gb, wait, gc, wait };
    int argc[5] = { 2, 2, 3, 2, 3 };
    redisReply *rep[5] = { NULL };
    unsigned long s_a, s_b;
    ck_redis_shape shape;

    (void)state;
    fake_start(&f, "split");
    r = handle(&f);
    key_on(0, a, sizeof(a), 0);
    key_on(1, b, sizeof(b), 0);
    key_on(0, c, sizeof(c), 1);
    snprintf(w0, sizeof(w0), "node0:%s", a);
    snprintf(w1, sizeof(w1), "node1:%s", b);
    snprintf(w2, sizeof(w2), "node0:%s", c);

    /* One pipeline over both nodes: replies in order, each WAIT on its write's node. */
    assert_int_equal(ck_redis_pipeline(r, 5, argc, argv, NULL, rep), 0);
    expect_str(rep[0], w0);
    expect_str(rep[1], w1);
    assert_int_equal(rep[2]->type, REDIS_REPLY_INTEGER);
    assert_int_equal(rep[2]->integer, 1);
    expect_str(rep[3], w2);
    assert_int_equal(rep[4]->type, REDIS_REPLY_INTEGER);
    assert_int_equal(rep[4]->integer, 0);
    for (int i = 0; i < 5; i++)
        freeReplyObject(rep[i]);

    /* The serial names the connection of the last command: one per node. */
    assert_int_equal(ck_redis_command(r, 2, ga, NULL, &rep[0]), 0);
    freeReplyObject(rep[0]);
    s_a = ck_redis_serial(r);
    assert_int_equal(ck_redis_command(r, 2, gb, NULL, &rep[0]), 0);
    freeReplyObject(rep[0]);
    s_b = ck_redis_serial(r);
    assert_true(s_a != s_b);
    /*
     * A lone WAIT (after a change of several commands) goes to every node
     * written since the last lone WAIT, on the connections the writes went
     * over, and answers the lowest count (the fake WAIT answers its node's
     * number): here both nodes. The serial stays the last command's.
     */
    assert_int_equal(ck_redis_command(r, 3, wait, NULL, &rep[0]), 0);
    assert_int_equal(rep[0]->integer, 0);
    freeReplyObject(rep[0]);
    assert_int_equal(ck_redis_serial(r), s_b);
    /* nothing written since: the last command's node alone */
    assert_int_equal(ck_redis_command(r, 3, wait, NULL, &rep[0]), 0);
    assert_int_equal(rep[0]->integer, 1);
    freeReplyObject(rep[0]);
    /* a write on node 0, then one on node 1: node 0's is waited for too */
    assert_int_equal(ck_redis_command(r, 2, ga, NULL, &rep[0]), 0);
    freeReplyObject(rep[0]);
    assert_int_equal(ck_redis_command(r, 2, gb, NULL, &rep[0]), 0);
    freeReplyObject(rep[0]);
    assert_int_equal(ck_redis_command(r, 3, wait, NULL, &rep[0]), 0);
    assert_int_equal(rep[0]->integer, 0);
    freeReplyObject(rep[0]);
    assert_int_equal(ck_redis_serial(r), s_b);
    /* only node 1 written */
    assert_int_equal(ck_redis_command(r, 2, gb, NULL, &rep[0]), 0);
    freeReplyObject(rep[0]);
    assert_int_equal(ck_redis_command(r, 3, wait, NULL, &rep[0]), 0);
    assert_int_equal(rep[0]->integer, 1);
    freeReplyObject(rep[0]);
    assert_int_equal(ck_redis_command(r, 2, gc, NULL, &rep[0]), 0);
    freeReplyObject(rep[0]);
    assert_int_equal(ck_redis_serial(r), s_a);

    /* ASK: ASKING and the command together on the named node. */
    assert_int_equal(ck_redis_command(r, 2, ask, NULL, &rep[0]), 0);
    expect_str(rep[0], "node1:askme");
    freeReplyObject(rep[0]);

    /* A redirected write takes its WAIT along: [ASKING, GET, WAIT] on node 1. */
    argv[0] = ask;
    argv[1] = wait;
    argc[1] = 3;
    assert_int_equal(ck_redis_pipeline(r, 2, argc, argv, NULL, rep), 0);
    expect_str(rep[0], "node1:askme");
    assert_int_equal(rep[1]->type, REDIS_REPLY_INTEGER);
    assert_int_equal(rep[1]->integer, 1);
    replies_free2(rep, 2);
    assert_int_equal(ck_redis_serial(r), s_b);

    /* MOVED: followed, and the WAIT after it too. */
    for (int i = 0;; i++) {
        snprintf(moved, sizeof(moved), "moved%d", i);
        if (ck_redis_key_slot(moved, strlen(moved)) < 8192)
            break;
    }
    snprintf(wm, sizeof(wm), "node1:%s", moved);
    argv[0] = gm;
    assert_int_equal(ck_redis_pipeline(r, 2, argc, argv, NULL, rep), 0);
    expect_str(rep[0], wm);
    assert_int_equal(rep[1]->integer, 1);
    replies_free2(rep, 2);
    assert_int_equal(ck_redis_serial(r), s_b);

    /* Whole-cluster operations. */
    assert_int_equal(ck_redis_primary_count(r), 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ck_redis_command_on_primary(r, i, 1, ping, NULL, &rep[0]), 0);
        assert_int_equal(rep[0]->type, REDIS_REPLY_STATUS);
        freeReplyObject(rep[0]);
    }
    assert_int_equal(ck_redis_command_on_primary(r, 2, 1, ping, NULL, &rep[0]), -1);
    assert_int_equal(ck_redis_cluster_shape(r, &shape), 0);
    assert_int_equal(shape.primaries, 2);
    assert_int_equal(shape.replicas, 0);
    assert_int_equal(shape.slots_covered, CK_REDIS_SLOTS);
    assert_int_equal(shape.unreachable, 0);
    ck_redis_free(r);
    fake_stop(&f);
}

/*
 * A forked child drops the inherited node connections without writing to
 * them and connects anew; the parent's connections still work after.
 */
static void test_fork(void **state)
{
    fake f;
    ck_redis *r;
    char a[32], b[32], wa[48], wb[48];
    const char *ga[2] = { "GET", a }, *gb[2] = { "GET", b };
    redisReply *rep = NULL;
    unsigned long before;
    pid_t pid;
    int status = -1;

    (void)state;
    fake_start(&f, "split");
    r = handle(&f);
    key_on(0, a, sizeof(a), 0);
    key_on(1, b, sizeof(b), 0);
    snprintf(wa, sizeof(wa), "node0:%s", a);
    snprintf(wb, sizeof(wb), "node1:%s", b);
    assert_int_equal(ck_redis_command(r, 2, ga, NULL, &rep), 0);
    freeReplyObject(rep);
    assert_int_equal(ck_redis_command(r, 2, gb, NULL, &rep), 0);
    freeReplyObject(rep);
    before = ck_redis_serial(r);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int ok = ck_redis_command(r, 2, gb, NULL, &rep) == 0 && rep->type == REDIS_REPLY_STRING &&
                 strcmp(rep->str, wb) == 0 && ck_redis_serial(r) != before;

        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Same connections as before the fork: the child never wrote to them. */
    assert_int_equal(ck_redis_command(r, 2, gb, NULL, &rep), 0);
    expect_str(rep, wb);
    freeReplyObject(rep);
    assert_int_equal(ck_redis_serial(r), before);
    assert_int_equal(ck_redis_command(r, 2, ga, NULL, &rep), 0);
    expect_str(rep, wa);
    freeReplyObject(rep);
    ck_redis_free(r);
    fake_stop(&f);
}

/* What "checkup config check" reports: holes and unreachable nodes. */
static void shape_of(const char *mode, ck_cluster_shape *s, fake *f)
{
    ck_config cfg;
    char url[128], err[256] = "";

    fake_start(f, mode);
    ck_config_defaults(&cfg);
    snprintf(url, sizeof(url), "redis+cluster://127.0.0.1:%d/", f->port[0]);
    cfg.store_url = strdup(url);
    cfg.connect_timeout_ms = TIMEOUT_MS;
    cfg.command_timeout_ms = TIMEOUT_MS;
    if (ck_cluster_shape_read(&cfg, s, err, sizeof(err)) != 1)
        fail_msg("no shape: %s", err);
    ck_config_free(&cfg);
    fake_stop(f);
}

static void test_shape(void **state)
{
    ck_cluster_shape s;
    ck_config cfg;
    fake f = { 0 };
    char err[256] = "", want[64];

    (void)state;
    shape_of("holes", &s, &f);
    assert_int_equal(s.primaries, 1);
    assert_int_equal(s.slots_covered, 100);
    assert_int_equal(s.unreachable, 0);
    shape_of("unreachable", &s, &f);
    assert_int_equal(s.primaries, 1);
    assert_int_equal(s.replicas, 1);
    assert_int_equal(s.slots_covered, CK_CLUSTER_SLOTS);
    assert_int_equal(s.unreachable, 1);
    snprintf(want, sizeof(want), "127.0.0.1:%d", f.port[0]);
    assert_null(strstr(s.unreachable_nodes, want));
    assert_non_null(strstr(s.unreachable_nodes, "127.0.0.1:"));
    /* Not a cluster: nothing to report. */
    ck_config_defaults(&cfg);
    cfg.store_url = strdup("redis://127.0.0.1:1");
    assert_int_equal(ck_cluster_shape_read(&cfg, &s, err, sizeof(err)), 0);
    ck_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_moved_refused),
        cmocka_unit_test(test_moved_loop),
        cmocka_unit_test(test_moved_stranger),
        cmocka_unit_test(test_holes),
        cmocka_unit_test(test_clusterdown),
        cmocka_unit_test(test_silent_seeds),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_shape),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
