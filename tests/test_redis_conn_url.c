/* SPDX-License-Identifier: BSD-3-Clause */
/* Redis URL parsing and [store] settings: good URLs, malformed ones, secrets. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "ck_config.h"
#include "redis/redis_conn.h"
#include "lib/files.h"

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse(ck_redis_opts *o, const char *url, const ck_config *cfg, char *err)
{
    return ck_redis_opts_from_url(o, url, cfg, err, 256);
}

static void test_plain_defaults(void **state)
{
    ck_redis_opts o;
    char err[256] = "";

    (void)state;
    assert_int_equal(parse(&o, "redis://127.0.0.1", NULL, err), 0);
    assert_false(o.tls);
    assert_int_equal(o.naddrs, 1);
    assert_string_equal(o.addrs[0].host, "127.0.0.1");
    assert_int_equal(o.addrs[0].port, 6379);
    assert_int_equal(o.db, 0);
    assert_null(o.user);
    assert_null(o.password);
    assert_null(o.master_name);
    assert_int_equal(o.connect_timeout_ms, 2000);
    assert_int_equal(o.command_timeout_ms, 1000);
    assert_int_equal(o.tls_verify, 1);
    assert_int_equal(o.tls_min_version, TLS1_3_VERSION);
    ck_redis_opts_free(&o);
}

static void test_full_url(void **state)
{
    ck_redis_opts o;
    char err[256] = "";

    (void)state;
    assert_int_equal(parse(&o, "rediss://app:p%40ss%3Aw%2Frd%25@cache.example:6380/7",
                           NULL, err), 0);
    assert_true(o.tls);
    assert_string_equal(o.addrs[0].host, "cache.example");
    assert_int_equal(o.addrs[0].port, 6380);
    assert_int_equal(o.db, 7);
    assert_string_equal(o.user, "app");
    assert_string_equal(o.password, "p@ss:w/rd%");
    ck_redis_opts_free(&o);

    assert_int_equal(parse(&o, "redis://:only%20pw@localhost/", NULL, err), 0);
    assert_null(o.user);
    assert_string_equal(o.password, "only pw");
    assert_int_equal(o.db, 0);
    ck_redis_opts_free(&o);

    assert_int_equal(parse(&o, "redis://someone@localhost:1/15", NULL, err), 0);
    assert_string_equal(o.user, "someone");
    assert_null(o.password);
    assert_int_equal(o.addrs[0].port, 1);
    assert_int_equal(o.db, 15);
    ck_redis_opts_free(&o);
}

static void test_ipv6(void **state)
{
    ck_redis_opts o;
    char err[256] = "";

    (void)state;
    assert_int_equal(parse(&o, "redis://[::1]:6390/2", NULL, err), 0);
    assert_string_equal(o.addrs[0].host, "::1");
    assert_int_equal(o.addrs[0].port, 6390);
    assert_int_equal(o.db, 2);
    ck_redis_opts_free(&o);
    assert_int_equal(parse(&o, "redis://[fe80::1]", NULL, err), 0);
    assert_string_equal(o.addrs[0].host, "fe80::1");
    assert_int_equal(o.addrs[0].port, 6379);
    ck_redis_opts_free(&o);
}

static void test_sentinel(void **state)
{
    ck_redis_opts o;
    char err[256] = "";

    (void)state;
    assert_int_equal(parse(&o, "redis+sentinel://u:pw@10.0.0.1:26379,[::1]:26380,s3/mymaster/3",
                           NULL, err), 0);
    assert_false(o.tls);
    assert_int_equal(o.naddrs, 3);
    assert_string_equal(o.addrs[0].host, "10.0.0.1");
    assert_int_equal(o.addrs[0].port, 26379);
    assert_string_equal(o.addrs[1].host, "::1");
    assert_int_equal(o.addrs[1].port, 26380);
    assert_string_equal(o.addrs[2].host, "s3");
    assert_int_equal(o.addrs[2].port, 26379);
    assert_string_equal(o.master_name, "mymaster");
    assert_int_equal(o.db, 3);
    assert_string_equal(o.user, "u");
    assert_string_equal(o.password, "pw");
    ck_redis_opts_free(&o);

    assert_int_equal(parse(&o, "rediss+sentinel://127.0.0.1:5000/m", NULL, err), 0);
    assert_true(o.tls);
    assert_string_equal(o.master_name, "m");
    assert_int_equal(o.db, 0);
    ck_redis_opts_free(&o);
}

/* Cluster URLs: several seeds, no database, the same options as the others. */
static void test_cluster(void **state)
{
    ck_redis_opts o;
    ck_config cfg;
    char err[256] = "", url[2048];
    size_t n;

    (void)state;
    assert_int_equal(parse(&o, "redis+cluster://u:p%40w@10.0.0.1:7000,[::1]:7001,node3/",
                           NULL, err), 0);
    assert_true(o.cluster);
    assert_false(o.tls);
    assert_null(o.master_name);
    assert_int_equal(o.db, 0);
    assert_int_equal(o.naddrs, 3);
    assert_string_equal(o.addrs[0].host, "10.0.0.1");
    assert_int_equal(o.addrs[0].port, 7000);
    assert_string_equal(o.addrs[1].host, "::1");
    assert_int_equal(o.addrs[1].port, 7001);
    assert_string_equal(o.addrs[2].host, "node3");
    assert_int_equal(o.addrs[2].port, 6379);
    assert_string_equal(o.user, "u");
    assert_string_equal(o.password, "p@w");
    ck_redis_opts_free(&o);

    /* No path at all is fine too; rediss+ speaks TLS and takes [store] TLS settings. */
    ck_config_defaults(&cfg);
    cfg.command_timeout_ms = 250;
    cfg.redis_user = strdup("acluser");
    cfg.redis_password = strdup("cfgpw");
    cfg.tls_ca_file = strdup("/ca.pem");
    assert_int_equal(parse(&o, "rediss+cluster://c1.example:6380", &cfg, err), 0);
    assert_true(o.cluster);
    assert_true(o.tls);
    assert_int_equal(o.naddrs, 1);
    assert_int_equal(o.command_timeout_ms, 250);
    assert_string_equal(o.user, "acluser");
    assert_string_equal(o.password, "cfgpw");
    assert_string_equal(o.tls_ca_file, "/ca.pem");
    ck_redis_opts_free(&o);
    ck_config_free(&cfg);

    /* Plain URLs are no cluster, and several hosts still need a scheme that takes them. */
    assert_int_equal(parse(&o, "redis://h", NULL, err), 0);
    assert_false(o.cluster);
    ck_redis_opts_free(&o);
    assert_int_equal(parse(&o, "redis://a,b", NULL, err), -1);
    assert_non_null(strstr(err, "redis+cluster://"));

    /* At most 64 seeds. */
    n = (size_t)snprintf(url, sizeof(url), "redis+cluster://n0:7000");
    for (int i = 1; i < 65; i++)
        n += (size_t)snprintf(url + n, sizeof(url) - n, ",n%d:7000", i);
    assert_true(n < sizeof(url));
    assert_int_equal(parse(&o, url, NULL, err), -1);
    assert_non_null(strstr(err, "seed"));
}

/* Each malformed URL fails with a reason, and never echoes the password. */
static void test_malformed(void **state)
{
    static const struct { const char *url, *reason; } bad[] = {
        { "http://127.0.0.1", "must start with" },
        { "127.0.0.1:6379", "must start with" },
        { "redis://", "empty host" },
        { "redis://u:sekrit@", "empty host" },
        { "redis://u:sekrit@:6379", "empty host" },
        { "redis://h:0", "port" },
        { "redis://h:65536", "port" },
        { "redis://h:-1", "port" },
        { "redis://h:63a", "port" },
        { "redis://h:", "port" },
        { "redis://h/16", "database" },
        { "redis://h/-1", "database" },
        { "redis://h/x", "database" },
        { "redis://h/1/2", "database" },
        { "redis://h?db=1", "query" },
        { "redis://h#x", "fragment" },
        { "redis://[::1", "unterminated" },
        { "redis://[::1]x", "after ']'" },
        { "redis://[nothex]:1", "IPv6" },
        { "redis://a,b/0", "sentinel" },
        { "redis://ho st", "space" },
        { "redis://h$t", "invalid character" },
        { "redis://u:sekrit%zz@h", "percent-encoding in password" },
        { "redis://u:sekrit%4@h", "percent-encoding in password" },
        { "redis://u:sekr%00it@h", "percent-encoding in password" },
        { "redis://u%g1:sekrit@h", "percent-encoding in user" },
        { "redis+sentinel://s1:26379", "master name" },
        { "redis+sentinel://s1:26379/", "master name" },
        { "redis+sentinel://s1:26379/m/99", "database" },
        { "redis+sentinel://s1:26379,,s2/m", "empty host" },
        { "redis+sentinel://u:sekrit@s1:99999/m", "port" },
        { "redis+cluster://u:sekrit@n1:7000/0", "no database" },
        { "redis+cluster://u:sekrit@n1:7000/1", "no database" },
        { "rediss+cluster://u:sekrit@n1:7000,n2:7001/mymaster", "no database" },
        { "redis+cluster://u:sekrit@n1:7000//", "no database" },
        { "redis+cluster://u:sekrit@n1:7000,,n2/", "empty host" },
        { "redis+cluster://u:sekrit@n1:0/", "port" },
        { "redis+cluster://u:sekrit@/", "empty host" },
        { "redis+cluster://n1?x=1", "query" },
        { "redis+clusters://n1/", "must start with" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_redis_opts o;
        char err[256] = "";

        if (parse(&o, bad[i].url, NULL, err) != -1)
            fail_msg("accepted %s", bad[i].url);
        if (!strstr(err, bad[i].reason))
            fail_msg("%s: reason \"%s\" lacks \"%s\"", bad[i].url, err, bad[i].reason);
        assert_null(strstr(err, "sekrit"));
        assert_null(strchr(err, '\n'));
        assert_null(o.addrs);
        assert_null(o.password);
    }
}

static void test_config(void **state)
{
    ck_config cfg;
    ck_redis_opts o;
    char err[256] = "";
    char *pwfile = tf_tmp("redispw", "from-file\n", 0600);

    (void)state;
    ck_config_defaults(&cfg);
    cfg.connect_timeout_ms = 300;
    cfg.command_timeout_ms = 400;
    cfg.redis_user = strdup("cfguser");
    cfg.redis_password_file = strdup(pwfile);
    cfg.tls_verify = 0;
    cfg.tls_ca_file = strdup("/ca.pem");
    cfg.tls_server_name = strdup("name.example");
    cfg.tls_min_version = strdup("1.2");

    assert_int_equal(parse(&o, "rediss://h", &cfg, err), 0);
    assert_int_equal(o.connect_timeout_ms, 300);
    assert_int_equal(o.command_timeout_ms, 400);
    assert_string_equal(o.user, "cfguser");
    assert_string_equal(o.password, "from-file");
    assert_int_equal(o.tls_verify, 0);
    assert_string_equal(o.tls_ca_file, "/ca.pem");
    assert_string_equal(o.tls_server_name, "name.example");
    assert_int_equal(o.tls_min_version, TLS1_2_VERSION);
    ck_redis_opts_free(&o);

    /* The URL's user and password win over the configuration. */
    assert_int_equal(parse(&o, "redis://urluser:urlpw@h", &cfg, err), 0);
    assert_string_equal(o.user, "urluser");
    assert_string_equal(o.password, "urlpw");
    ck_redis_opts_free(&o);

    free(cfg.tls_min_version);
    cfg.tls_min_version = strdup("1.1");
    assert_int_equal(parse(&o, "redis://h", &cfg, err), -1);
    assert_non_null(strstr(err, "tls_min_version"));

    free(cfg.tls_min_version);
    cfg.tls_min_version = NULL;
    cfg.tls_cert_file = strdup("/c.pem");
    assert_int_equal(parse(&o, "redis://h", &cfg, err), -1);
    assert_non_null(strstr(err, "tls_key_file"));

    ck_config_free(&cfg);
    unlink(pwfile);
    free(pwfile);
}

static void test_password_file(void **state)
{
    ck_config cfg;
    ck_redis_opts o;
    char err[256] = "";
    char *crlf = tf_tmp("redispw", "s3cr3t\r\n", 0400);
    char *open_to_group = tf_tmp("redispw", "s3cr3t\n", 0640);
    char *empty = tf_tmp("redispw", "\n", 0600);

    (void)state;
    ck_config_defaults(&cfg);
    cfg.redis_password_file = strdup(crlf);
    assert_int_equal(parse(&o, "redis://h", &cfg, err), 0);
    assert_string_equal(o.password, "s3cr3t");
    ck_redis_opts_free(&o);

    free(cfg.redis_password_file);
    cfg.redis_password_file = strdup(open_to_group);
    assert_int_equal(parse(&o, "redis://h", &cfg, err), -1);
    assert_non_null(strstr(err, "group or others"));
    assert_null(strstr(err, "s3cr3t"));

    free(cfg.redis_password_file);
    cfg.redis_password_file = strdup(empty);
    assert_int_equal(parse(&o, "redis://h", &cfg, err), -1);
    assert_non_null(strstr(err, "empty"));

    free(cfg.redis_password_file);
    cfg.redis_password_file = strdup("/nonexistent/ck-pw");
    assert_int_equal(parse(&o, "redis://h", &cfg, err), -1);
    assert_non_null(strstr(err, "/nonexistent/ck-pw"));

    ck_config_free(&cfg);
    unlink(crlf);
    unlink(open_to_group);
    unlink(empty);
    free(crlf);
    free(open_to_group);
    free(empty);
}

/* No server behind the port: a clear, bounded error, and the backoff. */
static void test_refused_and_backoff(void **state)
{
    ck_redis_opts o;
    ck_redis *r;
    redisReply *rep = (redisReply *)1;
    const char *ping[1] = { "PING" };
    char err[256] = "";

    (void)state;
    /* Port 1 on loopback: nothing listens there in a test environment. */
    assert_int_equal(parse(&o, "redis://127.0.0.1:1", NULL, err), 0);
    r = ck_redis_new(&o);
    assert_non_null(r);
    assert_null(o.addrs);
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    assert_null(rep);
    assert_non_null(strstr(ck_redis_errstr(r), "redis 127.0.0.1:1: connect:"));
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    assert_non_null(strstr(ck_redis_errstr(r), "reconnecting in"));
    assert_string_equal(ck_redis_peer(r), "127.0.0.1:1");

    /*
     * Hammered every 10 ms for 1.5 s, the handle dials only when the delay
     * min(attempt * 50 ms, 2 s) has passed: about 7 times, not 150.
     */
    {
        int dials = 0, fast = 0;
        int64_t end = now_ms() + 1500;

        while (now_ms() < end) {
            int64_t t0 = now_ms();
            assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
            assert_true(now_ms() - t0 < 500);
            if (strstr(ck_redis_errstr(r), "reconnecting in"))
                fast++;
            else
                dials++;
            usleep(10000);
        }
        printf("# backoff: %d dials, %d fast failures in 1.5 s\n", dials, fast);
        assert_true(dials >= 3 && dials <= 12);
        assert_true(fast > dials);
    }
    ck_redis_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_defaults),
        cmocka_unit_test(test_full_url),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_sentinel),
        cmocka_unit_test(test_cluster),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_password_file),
        cmocka_unit_test(test_refused_and_backoff),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
