/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Redis connection over TLS against real redis-server processes with
 * certificates made at test time: verification by IP and by name, CA file
 * and CA dir, untrusted CA, wrong host name, client certificates, minimum
 * protocol version, timeouts, a connection killed while idle, fork().
 *
 * Run by tests/redis_conn_tls.sh, which exports CK_TLS_DIR (certificates),
 * CK_TLS_CADIR (a hashed CA directory), CK_TLS_PORT (client certificate
 * optional), CK_MTLS_PORT (client certificate required) and CK_TLS12_PORT
 * (a server that speaks only TLS 1.2).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cmocka.h>

#include "ck_config.h"
#include "redis/redis_conn.h"
#include "test_redis_conn_util.h"

static const char *certs;
static int tls_port, mtls_port, tls12_port;

static char *cert(const char *name)
{
    char *p = malloc(strlen(certs) + strlen(name) + 2);

    sprintf(p, "%s/%s", certs, name);
    return p;
}

/* A config trusting the test CA; the caller may change it before opening. */
static void trusting(ck_config *cfg)
{
    ck_config_defaults(cfg);
    cfg->tls_ca_file = cert("ca.crt");
}

static ck_redis *open_tls(const char *host, int port, const ck_config *cfg)
{
    char url[128];
    ck_redis *r;

    snprintf(url, sizeof(url), "rediss://%s:%d", host, port);
    r = t_open(url, cfg);
    assert_non_null(r);
    return r;
}

/* Expects the first command to fail; returns the error text. */
static void expect_fail(ck_redis *r, const char *what, const char *needle)
{
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;
    int64_t t0 = t_now_ms();

    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    assert_null(rep);
    printf("# %s: %lld ms: %s\n", what, (long long)(t_now_ms() - t0), ck_redis_errstr(r));
    if (needle && !strstr(ck_redis_errstr(r), needle))
        fail_msg("%s: error lacks \"%s\"", what, needle);
}

static void expect_pong(ck_redis *r)
{
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;

    if (ck_redis_command(r, 1, ping, NULL, &rep) < 0)
        fail_msg("PING failed: %s", ck_redis_errstr(r));
    assert_string_equal(rep->str, "PONG");
    freeReplyObject(rep);
}

static void test_verify_ip(void **state)
{
    ck_config cfg;
    ck_redis *r;
    const char *set[3] = { "SET", "ck:tls:big", NULL };
    const char *get[2] = { "GET", "ck:tls:big" };
    const char **argv[2] = { set, get };
    const int argc[2] = { 3, 2 };
    redisReply *rep[2];
    char *payload = malloc(300001);

    (void)state;
    trusting(&cfg);
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_pong(r);
    /* Several TLS records each way. */
    memset(payload, 'q', 300000);
    payload[300000] = '\0';
    set[2] = payload;
    assert_int_equal(ck_redis_pipeline(r, 2, argc, argv, NULL, rep), 0);
    assert_string_equal(rep[0]->str, "OK");
    assert_int_equal(rep[1]->len, 300000);
    freeReplyObject(rep[0]);
    freeReplyObject(rep[1]);
    free(payload);
    ck_redis_free(r);
    ck_config_free(&cfg);
}

static void test_verify_name_and_cadir(void **state)
{
    ck_config cfg;
    ck_redis *r;

    (void)state;
    trusting(&cfg);
    r = open_tls("localhost", tls_port, &cfg);
    expect_pong(r);
    ck_redis_free(r);

    /* tls_server_name is checked instead of the host we dial. */
    cfg.tls_server_name = strdup("localhost");
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_pong(r);
    ck_redis_free(r);
    ck_config_free(&cfg);

    ck_config_defaults(&cfg);
    cfg.tls_ca_dir = strdup(t_env("CK_TLS_CADIR"));
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_pong(r);
    ck_redis_free(r);
    ck_config_free(&cfg);
}

static void test_untrusted_ca(void **state)
{
    ck_config cfg;
    ck_redis *r;

    (void)state;
    ck_config_defaults(&cfg);
    cfg.tls_ca_file = cert("other-ca.crt");
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_fail(r, "untrusted CA", "certificate verification failed");
    ck_redis_free(r);

    /* Only with verification off (an explicit choice) does it connect. */
    cfg.tls_verify = 0;
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_pong(r);
    ck_redis_free(r);
    ck_config_free(&cfg);

    /* The system store does not know the test CA either. */
    ck_config_defaults(&cfg);
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_fail(r, "system CA store", "certificate verification failed");
    ck_redis_free(r);
    ck_config_free(&cfg);
}

static void test_wrong_name(void **state)
{
    ck_config cfg;
    ck_redis *r;

    (void)state;
    trusting(&cfg);
    cfg.tls_server_name = strdup("wrong.example");
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_fail(r, "wrong host name", "certificate verification failed");
    ck_redis_free(r);

    free(cfg.tls_server_name);
    cfg.tls_server_name = strdup("127.0.0.2");
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_fail(r, "wrong IP address", "certificate verification failed");
    ck_redis_free(r);
    ck_config_free(&cfg);
}

static void test_client_cert(void **state)
{
    ck_config cfg;
    ck_redis *r;

    (void)state;
    trusting(&cfg);
    r = open_tls("127.0.0.1", mtls_port, &cfg);
    expect_fail(r, "no client certificate", NULL);
    ck_redis_free(r);

    cfg.tls_cert_file = cert("client.crt");
    cfg.tls_key_file = cert("client.key");
    r = open_tls("127.0.0.1", mtls_port, &cfg);
    expect_pong(r);
    ck_redis_free(r);

    /* A key that does not match the certificate is a setup error. */
    free(cfg.tls_key_file);
    cfg.tls_key_file = cert("server.key");
    r = open_tls("127.0.0.1", mtls_port, &cfg);
    expect_fail(r, "mismatched client key", "client certificate");
    ck_redis_free(r);
    ck_config_free(&cfg);
}

/* Copies the test file name into a new temporary file (mode 0600), path in out. */
static void copy_cert(const char *name, char *out)
{
    char *src = cert(name), buf[8192];
    FILE *in = fopen(src, "r");
    size_t n;
    int fd = mkstemp(out);

    assert_true(fd >= 0);
    assert_non_null(in);
    n = fread(buf, 1, sizeof(buf), in);
    fclose(in);
    free(src);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    OPENSSL_cleanse(buf, sizeof(buf));
    close(fd);
}

/*
 * The client key is a secret, the CA file and directory choose whom we
 * trust: each held to the one file policy (ck_secfile.h).
 */
static void test_client_key_policy(void **state)
{
    char key[] = "/tmp/ck-test-tlskey-XXXXXX", ca[] = "/tmp/ck-test-tlsca-XXXXXX";
    char cadir[] = "/tmp/ck-test-tlscadir-XXXXXX";
    ck_config cfg;
    ck_redis *r;

    (void)state;
    copy_cert("client.key", key);
    trusting(&cfg);
    cfg.tls_cert_file = cert("client.crt");
    cfg.tls_key_file = strdup(key);
    r = open_tls("127.0.0.1", mtls_port, &cfg);
    expect_pong(r);
    ck_redis_free(r);
    assert_int_equal(chmod(key, 0644), 0);
    r = open_tls("127.0.0.1", mtls_port, &cfg);
    expect_fail(r, "client key readable by others", "tls_key_file");
    ck_redis_free(r);
    /* Someone else's (the tests run as root). */
    assert_int_equal(chmod(key, 0600), 0);
    assert_int_equal(chown(key, 65534, 65534), 0);
    r = open_tls("127.0.0.1", mtls_port, &cfg);
    expect_fail(r, "another user's client key", "owned by uid 65534");
    ck_redis_free(r);
    ck_config_free(&cfg);
    unlink(key);

    /* The CA file chooses whom we trust: nobody else may write it. */
    copy_cert("ca.crt", ca);
    ck_config_defaults(&cfg);
    cfg.tls_ca_file = strdup(ca);
    assert_int_equal(chmod(ca, 0644), 0);
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_pong(r);
    ck_redis_free(r);
    assert_int_equal(chmod(ca, 0666), 0);
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_fail(r, "CA file others can write", "tls_ca_file");
    ck_redis_free(r);
    ck_config_free(&cfg);
    unlink(ca);

    /* A CA directory others may add a certificate to (sticky or not). */
    assert_non_null(mkdtemp(cadir));
    assert_int_equal(chmod(cadir, 01777), 0);
    ck_config_defaults(&cfg);
    cfg.tls_ca_dir = strdup(cadir);
    r = open_tls("127.0.0.1", tls_port, &cfg);
    expect_fail(r, "CA directory others can write", "tls_ca_dir");
    ck_redis_free(r);
    ck_config_free(&cfg);
    rmdir(cadir);
}

static void test_min_version(void **state)
{
    ck_config cfg;
    ck_redis *r;

    (void)state;
    trusting(&cfg);
    r = open_tls("127.0.0.1", tls12_port, &cfg);
    expect_fail(r, "TLS 1.2 server, TLS 1.3 minimum", "TLS");
    ck_redis_free(r);

    cfg.tls_min_version = strdup("1.2");
    r = open_tls("127.0.0.1", tls12_port, &cfg);
    expect_pong(r);
    ck_redis_free(r);
    ck_config_free(&cfg);
}

static void test_tls_timeout(void **state)
{
    ck_config cfg;
    ck_redis *r, *admin;
    const char *pause[4] = { "CLIENT", "PAUSE", "2000", "ALL" };
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;
    int64_t t0, took, end;

    (void)state;
    trusting(&cfg);
    cfg.command_timeout_ms = 500;
    r = open_tls("127.0.0.1", tls_port, &cfg);
    admin = open_tls("127.0.0.1", tls_port, &cfg);
    expect_pong(r);
    assert_true(t_ok(admin, 4, pause));
    t0 = t_now_ms();
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    took = t_now_ms() - t0;
    printf("# TLS paused server: %lld ms: %s\n", (long long)took, ck_redis_errstr(r));
    assert_true(took >= 450 && took < 500 + 500);
    assert_non_null(strstr(ck_redis_errstr(r), "command timed out after 500 ms"));
    end = t_now_ms() + 10000;
    while (ck_redis_command(r, 1, ping, NULL, &rep) != 0) {
        assert_true(t_now_ms() < end);
        t_sleep_ms(50);
    }
    freeReplyObject(rep);
    ck_redis_free(r);
    ck_redis_free(admin);
    ck_config_free(&cfg);
}

/* The server drops an idle connection: the next command goes out once. */
static void test_killed_while_idle(void **state)
{
    ck_config cfg;
    ck_redis *r, *admin;
    const char *del[2] = { "DEL", "ck:tls:once" };
    const char *incr[2] = { "INCR", "ck:tls:once" };
    const char *kill[4] = { "CLIENT", "KILL", "ID", NULL };
    char idstr[32];
    redisReply *rep;
    long long id;

    (void)state;
    trusting(&cfg);
    r = open_tls("127.0.0.1", tls_port, &cfg);
    admin = open_tls("127.0.0.1", tls_port, &cfg);
    assert_true(t_ok(admin, 2, del));
    id = t_client_id(r);
    assert_true(id > 0);
    snprintf(idstr, sizeof(idstr), "%lld", id);
    kill[3] = idstr;
    rep = t_cmd(admin, 4, kill);
    assert_non_null(rep);
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);
    t_sleep_ms(100);
    rep = t_cmd(r, 2, incr);
    if (!rep)
        fail_msg("first command after the kill failed: %s", ck_redis_errstr(r));
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);
    assert_true(t_client_id(r) != id);
    ck_redis_free(r);
    ck_redis_free(admin);
    ck_config_free(&cfg);
}

/* A child must not write to (or shut down) the parent's TLS session. */
static void test_tls_fork(void **state)
{
    ck_config cfg;
    ck_redis *r;
    long long parent_id;
    int status;
    pid_t pid;

    (void)state;
    trusting(&cfg);
    r = open_tls("127.0.0.1", tls_port, &cfg);
    parent_id = t_client_id(r);
    assert_true(parent_id > 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        long long id = t_client_id(r);
        ck_redis_free(r);
        _exit(id > 0 && id != parent_id ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(t_client_id(r), parent_id);
    ck_redis_free(r);
    ck_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_ip),
        cmocka_unit_test(test_verify_name_and_cadir),
        cmocka_unit_test(test_untrusted_ca),
        cmocka_unit_test(test_wrong_name),
        cmocka_unit_test(test_client_cert),
        cmocka_unit_test(test_client_key_policy),
        cmocka_unit_test(test_min_version),
        cmocka_unit_test(test_tls_timeout),
        cmocka_unit_test(test_killed_while_idle),
        cmocka_unit_test(test_tls_fork),
    };

    certs = t_env("CK_TLS_DIR");
    tls_port = atoi(t_env("CK_TLS_PORT"));
    mtls_port = atoi(t_env("CK_MTLS_PORT"));
    tls12_port = atoi(t_env("CK_TLS12_PORT"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
