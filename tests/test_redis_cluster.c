/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_redis_cluster - the Redis Cluster parsers without a server: CLUSTER
 * SHARDS (a reply captured from a redis-server 7.0 cluster of 3 primaries
 * and 3 replicas, then variants and malformed ones), MOVED and ASK
 * redirections, and which argument of a command routes it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "redis/redis_cluster.h"

/* CLUSTER SHARDS of "redis-cli --cluster create ... --cluster-replicas 1". */
static const char real_shards[] =
    "*3\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:5460\r\n$5\r\nnodes\r\n*2\r\n"
    "*14\r\n$2\r\nid\r\n$40\r\nd5e0961d1676bb1b1dc91a09cdf11892956d885d\r\n"
    "$4\r\nport\r\n:7301\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\n"
    "endpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\n"
    "replication-offset\r\n:35305\r\n$6\r\nhealth\r\n$6\r\nonline\r\n"
    "*14\r\n$2\r\nid\r\n$40\r\n6d169528ca5cc85d40f6998c4f0cc64366e1416e\r\n"
    "$4\r\nport\r\n:7304\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\n"
    "endpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$18\r\n"
    "replication-offset\r\n:35305\r\n$6\r\nhealth\r\n$6\r\nonline\r\n*4\r\n"
    "$5\r\nslots\r\n*2\r\n:5461\r\n:10922\r\n$5\r\nnodes\r\n*2\r\n*14\r\n"
    "$2\r\nid\r\n$40\r\n35ad7d89f01abcc6dc7df4b9ea374c49369e04ff\r\n$4\r\n"
    "port\r\n:7302\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n"
    "$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\n"
    "replication-offset\r\n:475929\r\n$6\r\nhealth\r\n$6\r\nonline\r\n"
    "*14\r\n$2\r\nid\r\n$40\r\ncf768f58d8b304fd3aee97e90006cbdda7a9008a\r\n"
    "$4\r\nport\r\n:7305\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\n"
    "endpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$18\r\n"
    "replication-offset\r\n:475929\r\n$6\r\nhealth\r\n$6\r\nonline\r\n"
    "*4\r\n$5\r\nslots\r\n*2\r\n:10923\r\n:16383\r\n$5\r\nnodes\r\n*2\r\n"
    "*14\r\n$2\r\nid\r\n$40\r\n3cf6670c9d991aff13c42da008acbecb13fd2e99\r\n"
    "$4\r\nport\r\n:7303\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\n"
    "endpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\n"
    "replication-offset\r\n:48491\r\n$6\r\nhealth\r\n$6\r\nonline\r\n"
    "*14\r\n$2\r\nid\r\n$40\r\ne16d07381c0365c7622bbbedcd9840a8e0cd7fec\r\n"
    "$4\r\nport\r\n:7306\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\n"
    "endpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$18\r\n"
    "replication-offset\r\n:48491\r\n$6\r\nhealth\r\n$6\r\nonline\r\n";

static redisReply *resp(const char *text, size_t len)
{
    redisReader *rd = redisReaderCreate();
    void *rep = NULL;

    assert_non_null(rd);
    assert_int_equal(redisReaderFeed(rd, text, len), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &rep), REDIS_OK);
    assert_non_null(rep);
    redisReaderFree(rd);
    return rep;
}

/* ---- a small RESP writer for variants ---- */

typedef struct w {
    char b[1 << 20];
    size_t n;
} w;

static void put(w *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(w *o, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(o->b + o->n, sizeof(o->b) - o->n, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < sizeof(o->b) - o->n);
    o->n += (size_t)k;
}

static void arr(w *o, long n) { put(o, "*%ld\r\n", n); }
static void str(w *o, const char *s) { put(o, "$%zu\r\n%s\r\n", strlen(s), s); }
static void num(w *o, long long v) { put(o, ":%lld\r\n", v); }

/* A node with role, port (and tls-port when > 0), ip, endpoint, health. */
static void node(w *o, const char *role, int port, int tls_port, const char *ip,
                 const char *endpoint, const char *health)
{
    arr(o, 2 * (4 + (tls_port > 0) + (endpoint != NULL) + (health != NULL)));
    str(o, "id");
    str(o, "0123456789012345678901234567890123456789");
    str(o, "port");
    num(o, port);
    if (tls_port > 0) {
        str(o, "tls-port");
        num(o, tls_port);
    }
    str(o, "ip");
    str(o, ip);
    if (endpoint) {
        str(o, "endpoint");
        str(o, endpoint);
    }
    str(o, "role");
    str(o, role);
    if (health) {
        str(o, "health");
        str(o, health);
    }
}

static void shard_head(w *o, long lo, long hi, long nodes)
{
    arr(o, 4);
    str(o, "slots");
    arr(o, 2);
    num(o, lo);
    num(o, hi);
    str(o, "nodes");
    arr(o, nodes);
}

static int parse_w(const w *o, int tls, ck_cluster_map *m, char *err)
{
    redisReply *rep = resp(o->b, o->n);
    int rc = ck_cluster_parse_shards(rep, tls, m, err, 256);

    freeReplyObject(rep);
    return rc;
}

static int parse_text(const char *text, ck_cluster_map *m, char *err)
{
    redisReply *rep = resp(text, strlen(text));
    int rc = ck_cluster_parse_shards(rep, 0, m, err, 256);

    freeReplyObject(rep);
    return rc;
}

/* ---- CLUSTER SHARDS ---- */

static void test_shards_real(void **state)
{
    ck_cluster_map m;
    char err[256] = "";
    redisReply *rep = resp(real_shards, sizeof(real_shards) - 1);
    size_t prim = 0;

    (void)state;
    assert_int_equal(ck_cluster_parse_shards(rep, 0, &m, err, sizeof(err)), 0);
    freeReplyObject(rep);
    assert_int_equal(m.n, 6);
    for (size_t i = 0; i < m.n; i++) {
        prim += (size_t)m.nodes[i].primary;
        assert_string_equal(m.nodes[i].host, "127.0.0.1");
        assert_true(m.nodes[i].healthy);
    }
    assert_int_equal(prim, 3);
    assert_int_equal(ck_cluster_map_covered(&m), CK_REDIS_SLOTS);
    assert_int_equal(m.nodes[m.owner[0]].port, 7301);
    assert_int_equal(m.nodes[m.owner[5460]].port, 7301);
    assert_int_equal(m.nodes[m.owner[5461]].port, 7302);
    assert_int_equal(m.nodes[m.owner[10922]].port, 7302);
    assert_int_equal(m.nodes[m.owner[10923]].port, 7303);
    assert_int_equal(m.nodes[m.owner[16383]].port, 7303);
    /* The key "foo" is in slot 12182 (CLUSTER KEYSLOT foo). */
    assert_int_equal(m.nodes[m.owner[ck_redis_key_slot("foo", 3)]].port, 7303);
    ck_cluster_map_free(&m);
    assert_null(m.nodes);
}

/* rediss+cluster:// connects to tls-port; a plain handle to port. */
static void test_shards_tls_port(void **state)
{
    w o = { .n = 0 };
    ck_cluster_map m;
    char err[256] = "";

    (void)state;
    arr(&o, 1);
    shard_head(&o, 0, 16383, 2);
    node(&o, "master", 7001, 8001, "10.0.0.1", "db1.example", "online");
    node(&o, "replica", 7002, 8002, "10.0.0.2", "db2.example", "online");
    assert_int_equal(parse_w(&o, 1, &m, err), 0);
    assert_int_equal(m.nodes[m.owner[100]].port, 8001);
    assert_string_equal(m.nodes[m.owner[100]].host, "db1.example");
    ck_cluster_map_free(&m);
    assert_int_equal(parse_w(&o, 0, &m, err), 0);
    assert_int_equal(m.nodes[m.owner[100]].port, 7001);
    ck_cluster_map_free(&m);
}

/* An unknown endpoint ("?" or empty) falls back to the ip. */
static void test_shards_endpoint_fallback(void **state)
{
    w o = { .n = 0 };
    ck_cluster_map m;
    char err[256] = "";

    (void)state;
    arr(&o, 2);
    shard_head(&o, 0, 8191, 1);
    node(&o, "master", 7001, 0, "10.0.0.1", "?", NULL);
    shard_head(&o, 8192, 16383, 1);
    node(&o, "master", 7002, 0, "10.0.0.2", "", "online");
    assert_int_equal(parse_w(&o, 0, &m, err), 0);
    assert_string_equal(m.nodes[m.owner[0]].host, "10.0.0.1");
    assert_string_equal(m.nodes[m.owner[9000]].host, "10.0.0.2");
    ck_cluster_map_free(&m);
}

/* During a failover a shard may list a failed and a new primary. */
static void test_shards_failed_primary(void **state)
{
    w o = { .n = 0 };
    ck_cluster_map m;
    char err[256] = "";

    (void)state;
    arr(&o, 1);
    shard_head(&o, 0, 16383, 2);
    node(&o, "master", 7001, 0, "10.0.0.1", NULL, "failed");
    node(&o, "master", 7002, 0, "10.0.0.2", NULL, "online");
    assert_int_equal(parse_w(&o, 0, &m, err), 0);
    assert_int_equal(m.nodes[m.owner[5]].port, 7002);
    assert_false(m.nodes[0].healthy);
    ck_cluster_map_free(&m);
}

/* Slots nobody serves stay without an owner; a shard without a primary serves none. */
static void test_shards_holes(void **state)
{
    w o = { .n = 0 };
    ck_cluster_map m;
    char err[256] = "";

    (void)state;
    arr(&o, 2);
    shard_head(&o, 0, 99, 1);
    node(&o, "master", 7001, 0, "10.0.0.1", NULL, "online");
    shard_head(&o, 200, 16383, 1);
    node(&o, "replica", 7002, 0, "10.0.0.2", NULL, "online");
    assert_int_equal(parse_w(&o, 0, &m, err), 0);
    assert_int_equal(ck_cluster_map_covered(&m), 100);
    assert_int_equal(m.owner[99], 0);
    assert_int_equal(m.owner[100], -1);
    assert_int_equal(m.owner[16383], -1);
    ck_cluster_map_free(&m);
}

static void expect_refused(const char *text, const char *why)
{
    ck_cluster_map m;
    char err[256] = "";

    if (parse_text(text, &m, err) == 0)
        fail_msg("accepted: %s", why);
    print_message("refused %s: %s\n", why, err);
    assert_null(m.nodes);
    assert_true(err[0] != '\0');
}

static void expect_refused_w(const w *o, const char *why)
{
    ck_cluster_map m;
    char err[256] = "";

    if (parse_w(o, 0, &m, err) == 0)
        fail_msg("accepted: %s", why);
    assert_null(m.nodes);
    assert_true(err[0] != '\0');
}

static void test_shards_malformed(void **state)
{
    /* One shard around a node given as text: slot range and node fields vary. */
    static const struct { const char *text, *why; } cases[] = {
        { "+OK\r\n", "a status" },
        { "-ERR unknown command 'CLUSTER'\r\n", "an error" },
        { ":3\r\n", "an integer" },
        { "*0\r\n", "no shard" },
        { "*1\r\n:1\r\n", "a shard that is an integer" },
        { "*1\r\n*3\r\n$5\r\nslots\r\n*0\r\n$5\r\nnodes\r\n", "an odd shard" },
        { "*1\r\n*2\r\n$5\r\nslots\r\n*0\r\n", "a shard without nodes" },
        { "*1\r\n*2\r\n$5\r\nnodes\r\n*0\r\n", "a shard without slots" },
        { "*1\r\n*4\r\n$5\r\nslots\r\n*1\r\n:0\r\n$5\r\nnodes\r\n*0\r\n", "an odd slot list" },
        { "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16384\r\n$5\r\nnodes\r\n*0\r\n",
          "slot 16384" },
        { "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:-1\r\n:5\r\n$5\r\nnodes\r\n*0\r\n", "slot -1" },
        { "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:9\r\n:5\r\n$5\r\nnodes\r\n*0\r\n",
          "a range backwards" },
        { "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n$1\r\n0\r\n:5\r\n$5\r\nnodes\r\n*0\r\n",
          "a slot as a string" },
        { "*1\r\n*4\r\n$5\r\nslots\r\n:0\r\n$5\r\nnodes\r\n*0\r\n", "slots not a list" },
        { "*1\r\n*4\r\n$5\r\nslots\r\n*0\r\n$5\r\nnodes\r\n$1\r\nx\r\n", "nodes not a list" },
        { "*1\r\n*4\r\n$5\r\nslots\r\n*0\r\n$5\r\nnodes\r\n*1\r\n:1\r\n",
          "a node that is an integer" },
        { "*1\r\n*4\r\n$5\r\nslots\r\n*0\r\n$5\r\nnodes\r\n*1\r\n*1\r\n$4\r\nrole\r\n",
          "a node with an odd field list" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_refused(cases[i].text, cases[i].why);
}

static void test_shards_bad_nodes(void **state)
{
    static const struct { const char *role; int port; const char *ip, *why; } cases[] = {
        { "primary", 7001, "10.0.0.1", "an unknown role" },
        { "master", 0, "10.0.0.1", "port 0" },
        { "master", 65536, "10.0.0.1", "port 65536" },
        { "master", 7001, "", "an empty ip" },
        { "master", 7001, "10.0.0.1 ; rm", "a space in the ip" },
        { "master", 7001, "host\x01name", "a control character in the ip" },
    };
    char longhost[300];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        w o = { .n = 0 };

        arr(&o, 1);
        shard_head(&o, 0, 16383, 1);
        node(&o, cases[i].role, cases[i].port, 0, cases[i].ip, NULL, "online");
        expect_refused_w(&o, cases[i].why);
    }
    memset(longhost, 'a', sizeof(longhost) - 1);
    longhost[sizeof(longhost) - 1] = '\0';
    {
        w o = { .n = 0 };

        arr(&o, 1);
        shard_head(&o, 0, 16383, 1);
        node(&o, "master", 7001, 0, longhost, NULL, "online");
        expect_refused_w(&o, "a host name of 299 bytes");
    }
    {
        w o = { .n = 0 };

        /* A port given as a string, and no port at all. */
        arr(&o, 1);
        shard_head(&o, 0, 16383, 1);
        arr(&o, 6);
        str(&o, "port");
        str(&o, "7001");
        str(&o, "ip");
        str(&o, "10.0.0.1");
        str(&o, "role");
        str(&o, "master");
        expect_refused_w(&o, "a port as a string");
        o.n = 0;
        arr(&o, 1);
        shard_head(&o, 0, 16383, 1);
        arr(&o, 4);
        str(&o, "ip");
        str(&o, "10.0.0.1");
        str(&o, "role");
        str(&o, "master");
        expect_refused_w(&o, "no port");
    }
}

/* Two shards claiming one slot: the map would route it at random. */
static void test_shards_overlap(void **state)
{
    w o = { .n = 0 };

    (void)state;
    arr(&o, 2);
    shard_head(&o, 0, 9000, 1);
    node(&o, "master", 7001, 0, "10.0.0.1", NULL, "online");
    shard_head(&o, 9000, 16383, 1);
    node(&o, "master", 7002, 0, "10.0.0.2", NULL, "online");
    expect_refused_w(&o, "slot 9000 twice");
}

/* Counts past the bounds are refused before anything is believed. */
static void test_shards_huge_counts(void **state)
{
    static w o;

    (void)state;
    o.n = 0;
    arr(&o, CK_CLUSTER_NODES_MAX + 1);
    for (int i = 0; i <= CK_CLUSTER_NODES_MAX; i++)
        arr(&o, 0);
    expect_refused_w(&o, "more shards than nodes allowed");
    o.n = 0;
    arr(&o, 1);
    shard_head(&o, 0, 16383, 65);
    for (int i = 0; i < 65; i++)
        node(&o, "replica", 7000 + i, 0, "10.0.0.1", NULL, NULL);
    expect_refused_w(&o, "65 nodes in a shard");
    /* 33 shards of 32 nodes: 1056 nodes in all. */
    o.n = 0;
    arr(&o, 33);
    for (int s = 0; s < 33; s++) {
        arr(&o, 4);
        str(&o, "slots");
        arr(&o, 0);
        str(&o, "nodes");
        arr(&o, 32);
        for (int i = 0; i < 32; i++)
            node(&o, "replica", 7000 + i, 0, "10.0.0.1", NULL, NULL);
    }
    expect_refused_w(&o, "more than CK_CLUSTER_NODES_MAX nodes");
}

/* ---- redirections ---- */

static redisReply *err_reply(const char *msg)
{
    char text[512];

    snprintf(text, sizeof(text), "-%s\r\n", msg);
    return resp(text, strlen(text));
}

static int redirect(const char *msg, int *ask, unsigned *slot, char *host, int *port)
{
    redisReply *rep = err_reply(msg);
    int rc = ck_cluster_parse_redirect(rep, ask, slot, host, CK_CLUSTER_HOST_MAX + 1, port);

    freeReplyObject(rep);
    return rc;
}

static void test_redirect(void **state)
{
    char host[CK_CLUSTER_HOST_MAX + 1];
    unsigned slot = 0;
    int ask = -1, port = 0;
    redisReply *rep;
    static const char *const bad[] = {
        "MOVED", "MOVED ", "MOVED x 1.2.3.4:5", "MOVED 16384 10.0.0.1:7000",
        "MOVED 1 10.0.0.1:0", "MOVED 1 10.0.0.1:65536", "MOVED 1 10.0.0.1",
        "MOVED 1 10.0.0.1:", "MOVED 1 bad$host:7000", "MOVED -1 10.0.0.1:7000",
        "ASK 1 10.0.0.1:7x", "MOVED 1234567 10.0.0.1:7000", "ASK",
    };

    (void)state;
    assert_int_equal(redirect("MOVED 3999 127.0.0.1:6381", &ask, &slot, host, &port), 1);
    assert_int_equal(ask, 0);
    assert_int_equal(slot, 3999);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 6381);
    assert_int_equal(redirect("ASK 16383 db-2.example:7000", &ask, &slot, host, &port), 1);
    assert_int_equal(ask, 1);
    assert_int_equal(slot, 16383);
    assert_string_equal(host, "db-2.example");
    assert_int_equal(port, 7000);
    /* IPv6 comes without brackets: the port follows the last colon. */
    assert_int_equal(redirect("MOVED 0 ::1:7001", &ask, &slot, host, &port), 1);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 7001);
    /* An unknown endpoint: the node that answered, on that port. */
    assert_int_equal(redirect("MOVED 5 :7002", &ask, &slot, host, &port), 1);
    assert_string_equal(host, "");
    assert_int_equal(port, 7002);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (redirect(bad[i], &ask, &slot, host, &port) != -1)
            fail_msg("not refused: %s", bad[i]);
    }
    /* Not redirections. */
    assert_int_equal(redirect("ERR MOVED 1 a:1", &ask, &slot, host, &port), 0);
    assert_int_equal(redirect("MOVEDX 1 a:1", &ask, &slot, host, &port), 0);
    assert_int_equal(redirect("TRYAGAIN Multiple keys request during rehashing of slot",
                              &ask, &slot, host, &port), 0);
    rep = resp("+MOVED 1 10.0.0.1:7000\r\n", 24);
    assert_int_equal(ck_cluster_parse_redirect(rep, &ask, &slot, host, sizeof(host), &port), 0);
    freeReplyObject(rep);
    assert_int_equal(ck_cluster_parse_redirect(NULL, &ask, &slot, host, sizeof(host), &port), 0);
}

/* ---- routing ---- */

static const char *route(int argc, const char **argv)
{
    static char out[64];
    const char *key = NULL;
    size_t klen = 0;

    if (!ck_cluster_route_key(argc, argv, NULL, &key, &klen))
        return "(keyless)";
    snprintf(out, sizeof(out), "%.*s", (int)klen, key);
    return out;
}

static void test_route_key(void **state)
{
    const char *get[] = { "GET", "ck:s:{ab}x" };
    const char *getex[] = { "getex", "k1", "PXAT", "1" };
    const char *eval[] = { "EVALSHA", "0123", "2", "ck:s:{t}a", "ck:u:{t}b", "now" };
    const char *eval0[] = { "EVALSHA", "0123", "0", "arg" };
    const char *evalbad[] = { "EVAL", "return 1", "x", "k" };
    const char *evalshort[] = { "EVALSHA", "0123", "1" };
    const char *wait[] = { "WAIT", "1", "100" };
    const char *load[] = { "SCRIPT", "LOAD", "return 1" };
    const char *scan[] = { "SCAN", "0", "MATCH", "ck:*" };
    const char *info[] = { "INFO", "memory" };
    const char *ping[] = { "PING" };
    const char *asking[] = { "ASKING" };
    const char *zadd[] = { "ZADD", "ck:l:{x}", "GT", "5", "m" };
    const char *bin[] = { "DEL", "a\0b" };
    const size_t binlen[] = { 3, 3 };
    const char *key;
    size_t klen;

    (void)state;
    assert_string_equal(route(2, get), "ck:s:{ab}x");
    assert_string_equal(route(4, getex), "k1");
    assert_string_equal(route(6, eval), "ck:s:{t}a");
    assert_string_equal(route(4, eval0), "(keyless)");
    assert_string_equal(route(4, evalbad), "(keyless)");
    assert_string_equal(route(3, evalshort), "(keyless)");
    assert_string_equal(route(3, wait), "(keyless)");
    assert_string_equal(route(3, load), "(keyless)");
    assert_string_equal(route(4, scan), "(keyless)");
    assert_string_equal(route(2, info), "(keyless)");
    assert_string_equal(route(1, ping), "(keyless)");
    assert_string_equal(route(1, asking), "(keyless)");
    assert_string_equal(route(5, zadd), "ck:l:{x}");
    assert_int_equal(ck_cluster_route_key(2, bin, binlen, &key, &klen), 1);
    assert_int_equal(klen, 3);
    assert_memory_equal(key, "a\0b", 3);
    assert_int_equal(ck_cluster_route_key(0, NULL, NULL, &key, &klen), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_real),
        cmocka_unit_test(test_shards_tls_port),
        cmocka_unit_test(test_shards_endpoint_fallback),
        cmocka_unit_test(test_shards_failed_primary),
        cmocka_unit_test(test_shards_holes),
        cmocka_unit_test(test_shards_malformed),
        cmocka_unit_test(test_shards_bad_nodes),
        cmocka_unit_test(test_shards_overlap),
        cmocka_unit_test(test_shards_huge_counts),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_route_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
