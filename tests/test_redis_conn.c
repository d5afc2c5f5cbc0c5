/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Redis connection against a real redis-server on loopback: commands,
 * pipelines, AUTH with an ACL user, SELECT, a password file, fork(), and
 * faults (server stopped and restarted, a server that stops answering).
 *
 * Run by tests/redis_conn.sh, which starts the server and exports
 * CK_REDIS_PORT and CK_REDIS_DIR (its redis.conf and redis.pid).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ck_config.h"
#include "redis/redis_conn.h"
#include "test_redis_conn_util.h"

#define ACL_PASSWORD "p@ss:w/rd%"
#define ACL_PASSWORD_URL "p%40ss%3Aw%2Frd%25"

static int port;
static const char *server_dir;
static char base_url[64];

static ck_redis *open_default(void)
{
    ck_redis *r = t_open(base_url, NULL);

    assert_non_null(r);
    return r;
}

static void test_command(void **state)
{
    ck_redis *r = open_default();
    const char *set[3] = { "SET", "ck:conn:a", "x" };
    const char *get[2] = { "GET", "ck:conn:a" };
    const char *bin[3] = { "SET", "ck:conn:bin", "a\0b\r\n" };
    const size_t binlen[3] = { 3, 11, 5 };
    const char *getbin[2] = { "GET", "ck:conn:bin" };
    const char *bogus[1] = { "NOSUCHCOMMAND" };
    redisReply *rep = NULL;

    (void)state;
    assert_int_equal(ck_redis_command(r, 3, set, NULL, &rep), 0);
    assert_int_equal(rep->type, REDIS_REPLY_STATUS);
    assert_string_equal(rep->str, "OK");
    freeReplyObject(rep);
    assert_int_equal(ck_redis_command(r, 2, get, NULL, &rep), 0);
    assert_int_equal(rep->type, REDIS_REPLY_STRING);
    assert_string_equal(rep->str, "x");
    freeReplyObject(rep);

    /* Binary-safe arguments. */
    assert_int_equal(ck_redis_command(r, 3, bin, binlen, &rep), 0);
    freeReplyObject(rep);
    assert_int_equal(ck_redis_command(r, 2, getbin, NULL, &rep), 0);
    assert_int_equal(rep->len, 5);
    assert_memory_equal(rep->str, "a\0b\r\n", 5);
    freeReplyObject(rep);

    /* A server error is a reply, not a transport failure. */
    assert_int_equal(ck_redis_command(r, 1, bogus, NULL, &rep), 0);
    assert_int_equal(rep->type, REDIS_REPLY_ERROR);
    freeReplyObject(rep);
    assert_string_equal(ck_redis_peer(r), strchr(base_url, '/') + 2);
    ck_redis_free(r);
}

static void test_pipeline(void **state)
{
    ck_redis *r = open_default();
    const char *del[2] = { "DEL", "ck:conn:n" };
    const char *incr[2] = { "INCR", "ck:conn:n" };
    const char *big[3] = { "SET", "ck:conn:big", NULL };
    const char *getbig[2] = { "GET", "ck:conn:big" };
    const char **argv[5] = { del, incr, incr, big, getbig };
    const int argc[5] = { 2, 2, 2, 3, 2 };
    redisReply *rep[5];
    char *payload = malloc(200000);

    (void)state;
    /* Bigger than socket buffers, so writes and reads take several rounds. */
    memset(payload, 'p', 199999);
    payload[199999] = '\0';
    big[2] = payload;
    assert_int_equal(ck_redis_pipeline(r, 5, argc, argv, NULL, rep), 0);
    assert_int_equal(rep[0]->type, REDIS_REPLY_INTEGER);
    assert_int_equal(rep[1]->integer, 1);
    assert_int_equal(rep[2]->integer, 2);
    assert_string_equal(rep[3]->str, "OK");
    assert_int_equal(rep[4]->len, 199999);
    for (int i = 0; i < 5; i++)
        freeReplyObject(rep[i]);
    assert_int_equal(ck_redis_pipeline(r, 0, argc, argv, NULL, rep), 0);
    /* An empty command is refused at once, not sent to wait for nothing. */
    assert_int_equal(ck_redis_command(r, 0, del, NULL, rep), -1);
    assert_non_null(strstr(ck_redis_errstr(r), "empty command"));
    assert_true(t_ok(r, 2, getbig));
    free(payload);
    ck_redis_free(r);
}

static void test_auth_select(void **state)
{
    char url[160];
    ck_redis *r, *plain = open_default();
    const char *who[2] = { "ACL", "WHOAMI" };
    const char *set[3] = { "SET", "ck:conn:db2", "in-db-2" };
    const char *get[2] = { "GET", "ck:conn:db2" };
    redisReply *rep;

    (void)state;
    snprintf(url, sizeof(url), "redis://app:%s@127.0.0.1:%d/2", ACL_PASSWORD_URL, port);
    r = t_open(url, NULL);
    rep = t_cmd(r, 2, who);
    assert_non_null(rep);
    assert_string_equal(rep->str, "app");
    freeReplyObject(rep);
    assert_true(t_ok(r, 3, set));

    /* SELECT 2 happened: db 0 does not have the key. */
    rep = t_cmd(plain, 2, get);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_NIL);
    freeReplyObject(rep);
    rep = t_cmd(r, 2, get);
    assert_string_equal(rep->str, "in-db-2");
    freeReplyObject(rep);
    ck_redis_free(r);
    ck_redis_free(plain);
}

static void test_auth_wrong_password(void **state)
{
    char url[160];
    ck_redis *r;
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;

    (void)state;
    snprintf(url, sizeof(url), "redis://app:wrongsecret@127.0.0.1:%d", port);
    r = t_open(url, NULL);
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    assert_null(rep);
    printf("# wrong password: %s\n", ck_redis_errstr(r));
    assert_non_null(strstr(ck_redis_errstr(r), "AUTH as app failed"));
    assert_non_null(strstr(ck_redis_errstr(r), "WRONGPASS"));
    assert_null(strstr(ck_redis_errstr(r), "wrongsecret"));
    ck_redis_free(r);
}

static void test_password_file(void **state)
{
    char url[160], path[] = "/tmp/ck-test-redispw-XXXXXX";
    ck_config cfg;
    ck_redis *r;
    const char *who[2] = { "ACL", "WHOAMI" };
    redisReply *rep;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ACL_PASSWORD "\n", strlen(ACL_PASSWORD) + 1),
                     (ssize_t)strlen(ACL_PASSWORD) + 1);
    close(fd);
    ck_config_defaults(&cfg);
    cfg.redis_user = strdup("app");
    cfg.redis_password_file = strdup(path);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
    r = t_open(url, &cfg);
    assert_non_null(r);
    rep = t_cmd(r, 2, who);
    assert_non_null(rep);
    assert_string_equal(rep->str, "app");
    freeReplyObject(rep);
    ck_redis_free(r);
    /* Someone else's password file is refused (the tests run as root). */
    assert_int_equal(chown(path, 65534, 65534), 0);
    assert_null(t_open(url, &cfg));
    ck_config_free(&cfg);
    unlink(path);
}

/* The child must not use (or write to) the parent's socket. */
static void test_fork(void **state)
{
    ck_redis *r = open_default();
    long long parent_id = t_client_id(r), child_id;
    int pipefd[2], status;
    pid_t pid;

    (void)state;
    assert_true(parent_id > 0);
    assert_int_equal(pipe(pipefd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        long long id = t_client_id(r);
        ssize_t w = write(pipefd[1], &id, sizeof(id));
        _exit(w == sizeof(id) ? 0 : 1);
    }
    assert_int_equal(read(pipefd[0], &child_id, sizeof(child_id)), sizeof(child_id));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pipefd[0]);
    close(pipefd[1]);
    assert_true(child_id > 0);
    assert_true(child_id != parent_id);
    /* The parent's connection is intact: same client id. */
    assert_int_equal(t_client_id(r), parent_id);
    ck_redis_free(r);
}

static void server_stop(void)
{
    char pidfile[512];

    snprintf(pidfile, sizeof(pidfile), "%s/redis.pid", server_dir);
    assert_int_equal(t_kill_wait(t_read_pid(pidfile), SIGTERM, 10000), 0);
}

static void launch_server(void)
{
    char conf[512];
    pid_t pid;
    int status;

    snprintf(conf, sizeof(conf), "%s/redis.conf", server_dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execlp(t_env("REDIS_SERVER"), "redis-server", conf, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The server daemonizes; 1 once it answers on a handle of its own. */
static int wait_server(int timeout_ms)
{
    const char *ping[1] = { "PING" };
    int64_t end = t_now_ms() + timeout_ms;

    for (;;) {
        ck_redis *probe = open_default();
        int ok = t_ok(probe, 1, ping);
        ck_redis_free(probe);
        if (ok)
            return 1;
        if (t_now_ms() > end)
            return 0;
        t_sleep_ms(50);
    }
}

/* Starts the server again; once more if the port was not free yet. */
static void server_start(void)
{
    int64_t end = t_now_ms() + 10000;

    for (;;) {
        launch_server();
        if (wait_server(2000))
            return;
        assert_true(t_now_ms() < end);
    }
}

/* A restart while the handle was idle costs nothing: no error, no resend. */
static void test_idle_restart(void **state)
{
    ck_redis *r = open_default();
    const char *incr[2] = { "INCR", "ck:conn:once" };
    redisReply *rep;
    long long before;

    (void)state;
    before = t_client_id(r);
    assert_true(before > 0);
    server_stop();
    server_start();
    rep = t_cmd(r, 2, incr);
    if (!rep)
        fail_msg("first command after an idle restart failed: %s", ck_redis_errstr(r));
    /* The server lost its data (no persistence): 1 proves one INCR. */
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);
    ck_redis_free(r);
}

static void test_server_down_and_back(void **state)
{
    ck_redis *r = open_default();
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;
    int64_t t0, took, end;
    int tries = 0;

    (void)state;
    assert_true(t_ok(r, 1, ping));
    server_stop();

    t0 = t_now_ms();
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    took = t_now_ms() - t0;
    printf("# server down: failed in %lld ms: %s\n", (long long)took, ck_redis_errstr(r));
    assert_true(took < 1000 + 500);
    assert_non_null(strstr(ck_redis_errstr(r), "127.0.0.1"));

    /* Within the backoff delay the handle fails fast without dialling. */
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    assert_non_null(strstr(ck_redis_errstr(r), "reconnecting in"));

    server_start();
    t0 = t_now_ms();
    end = t0 + 10000;
    for (;;) {
        tries++;
        if (ck_redis_command(r, 1, ping, NULL, &rep) == 0)
            break;
        assert_true(t_now_ms() < end);
        t_sleep_ms(20);
    }
    printf("# server back: same handle ok after %lld ms, %d tries\n",
           (long long)(t_now_ms() - t0), tries);
    assert_string_equal(rep->str, "PONG");
    freeReplyObject(rep);
    ck_redis_free(r);
}

/* The server accepts but does not answer (CLIENT PAUSE): command timeout. */
static void test_command_timeout(void **state)
{
    ck_redis *r = open_default(), *admin = open_default();
    const char *pause[4] = { "CLIENT", "PAUSE", "2500", "ALL" };
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;
    int64_t t0, took, end;

    (void)state;
    assert_true(t_ok(r, 1, ping));
    assert_true(t_ok(admin, 4, pause));
    t0 = t_now_ms();
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    took = t_now_ms() - t0;
    printf("# paused server: timed out in %lld ms: %s\n", (long long)took, ck_redis_errstr(r));
    assert_true(took >= 950 && took < 1000 + 500);
    assert_non_null(strstr(ck_redis_errstr(r), "command timed out after 1000 ms"));

    /* After the pause the same handle works again. */
    end = t_now_ms() + 10000;
    while (ck_redis_command(r, 1, ping, NULL, &rep) != 0) {
        assert_true(t_now_ms() < end);
        t_sleep_ms(50);
    }
    freeReplyObject(rep);
    ck_redis_free(r);
    ck_redis_free(admin);
}

/* A listener that never accepts or answers: the command timeout holds. */
static void test_silent_listener(void **state)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    char url[64];
    ck_config cfg;
    ck_redis *r;
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;
    int64_t t0, took;

    (void)state;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", ntohs(sa.sin_port));
    ck_config_defaults(&cfg);
    cfg.command_timeout_ms = 300;
    r = t_open(url, &cfg);
    t0 = t_now_ms();
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    took = t_now_ms() - t0;
    printf("# silent listener: timed out in %lld ms: %s\n", (long long)took,
           ck_redis_errstr(r));
    assert_true(took >= 290 && took < 300 + 500);
    assert_non_null(strstr(ck_redis_errstr(r), "command timed out after 300 ms"));
    ck_redis_free(r);

    /* Over TLS the handshake gets no answer: the connect timeout holds. */
    cfg.connect_timeout_ms = 400;
    snprintf(url, sizeof(url), "rediss://127.0.0.1:%d", ntohs(sa.sin_port));
    r = t_open(url, &cfg);
    t0 = t_now_ms();
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    took = t_now_ms() - t0;
    printf("# silent TLS listener: failed in %lld ms: %s\n", (long long)took,
           ck_redis_errstr(r));
    assert_true(took >= 390 && took < 400 + 500);
    assert_non_null(strstr(ck_redis_errstr(r), "TLS handshake timed out after 400 ms"));
    ck_redis_free(r);
    ck_config_free(&cfg);
    close(lfd);
}

/*
 * A listener whose accept queue is full drops new SYNs, so connect() hangs
 * as it would towards a dead host: the connect timeout holds.
 */
static void test_connect_timeout(void **state)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int filler = socket(AF_INET, SOCK_STREAM, 0);
    char url[64];
    ck_config cfg;
    ck_redis *r;
    const char *ping[1] = { "PING" };
    redisReply *rep = NULL;
    int64_t t0, took;

    (void)state;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    assert_int_equal(connect(filler, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", ntohs(sa.sin_port));
    ck_config_defaults(&cfg);
    cfg.connect_timeout_ms = 300;
    r = t_open(url, &cfg);
    t0 = t_now_ms();
    assert_int_equal(ck_redis_command(r, 1, ping, NULL, &rep), -1);
    took = t_now_ms() - t0;
    printf("# full accept queue: failed in %lld ms: %s\n", (long long)took,
           ck_redis_errstr(r));
    assert_true(took >= 290 && took < 300 + 500);
    assert_non_null(strstr(ck_redis_errstr(r), "connect timed out after 300 ms"));
    ck_redis_free(r);
    ck_config_free(&cfg);
    close(filler);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_auth_select),
        cmocka_unit_test(test_auth_wrong_password),
        cmocka_unit_test(test_password_file),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_silent_listener),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_command_timeout),
        cmocka_unit_test(test_idle_restart),
        cmocka_unit_test(test_server_down_and_back),
    };

    port = atoi(t_env("CK_REDIS_PORT"));
    server_dir = t_env("CK_REDIS_DIR");
    snprintf(base_url, sizeof(base_url), "redis://127.0.0.1:%d", port);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
