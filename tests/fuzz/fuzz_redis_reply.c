/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_redis_reply.c - what a hostile or broken Redis server can answer:
 * RESP parsed by hiredis' reader inside our connection (redis_conn.c),
 * then read by the store backend (redis_backend.c: session records, lists,
 * counters, metrics), by Sentinel discovery (redis_conn_sentinel.c) and by
 * the cluster client (redis_cluster.c: CLUSTER SHARDS, MOVED, ASK).
 *
 * A fake server on 127.0.0.1 (a thread of this process) answers. Input:
 *   byte 0   the store operation (see run_op)
 *   byte 1   bit 0: URL with a password (AUTH first), bit 1: db 3
 *            (SELECT), bit 2: through a sentinel; bit 3: a Redis Cluster
 *            (redis_cluster.c: the first chunk answers CLUSTER SHARDS,
 *            later ones the commands, with MOVED and ASK), bits 0-1 then
 *            choose among four cluster URLs
 *   rest     replies, one chunk per connection, separated by "@@\n".
 * Connection k gets chunk k after its first request, all at once, with
 * the end of stream: every command after the ones the chunk
 * answers sees the end of the stream, so nothing waits on a timeout.
 * getaddrinfo() is replaced so that only 127.0.0.1 resolves (to the fake
 * server, whatever port a sentinel names): no input reaches the network.
 *
 * Property: any answer gives a status, never a crash, a leak or a hang;
 * a session returned as found has a user and sane times.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ck_config.h"
#include "ck_store.h"
#include "fuzz.h"

#define SEP "@@\n"
#define IO_WAIT_MS 2000

static struct {
    pthread_mutex_t lock;
    int listen_fd;
    char port[8];
    unsigned gen;           /* bumped per input: the server restarts at chunk 0 */
    unsigned char *input;   /* the reply chunks of the current input */
    size_t size;
} fake = { PTHREAD_MUTEX_INITIALIZER, -1, "", 0, NULL, 0 };

/* ---- name resolution: loopback only ---- */

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
                      struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    static gai_fn real;
    struct addrinfo h;

    if (!real)
        real = (gai_fn)(uintptr_t)dlsym(RTLD_NEXT, "getaddrinfo");
    if (!real || !node || strcmp(node, "127.0.0.1") != 0 || !fake.port[0])
        return EAI_NONAME;
    (void)service;
    memset(&h, 0, sizeof(h));
    if (hints)
        h = *hints;
    h.ai_family = AF_INET;
    h.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
    return real(node, fake.port, &h, res);
}

/* ---- the fake server ---- */

/* Chunk k of the current input (a copy), or NULL when there are fewer. */
static unsigned char *chunk(unsigned k, size_t *len)
{
    const unsigned char *p = fake.input, *end, *next;
    unsigned char *copy;

    /* Before any arithmetic: NULL + 0 is undefined behaviour too. */
    if (!p)
        return NULL;
    end = p + fake.size;
    for (;;) {
        next = memmem(p, (size_t)(end - p), SEP, strlen(SEP));
        if (k == 0)
            break;
        if (!next)
            return NULL;
        p = next + strlen(SEP);
        k--;
    }
    *len = next ? (size_t)(next - p) : (size_t)(end - p);
    copy = malloc(*len ? *len : 1);
    if (copy && *len)
        memcpy(copy, p, *len);
    return copy;
}

static int wait_in(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, IO_WAIT_MS) == 1 ? 0 : -1;
}

static void serve(int fd, const unsigned char *reply, size_t len)
{
    char buf[4096];
    size_t off = 0;
    int one = 1;

    if (wait_in(fd) < 0 || read(fd, buf, sizeof(buf)) <= 0)
        return;
    /*
     * Corked, the end of stream rides on the last data segment: the client
     * never sees a reply without the end after it, so whether it reuses
     * the connection does not depend on timing.
     */
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
    while (off < len) {
        ssize_t n = send(fd, reply + off, len - off, MSG_NOSIGNAL);

        if (n <= 0)
            return;
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    /* Read until the client closes, so it never meets a reset. */
    while (wait_in(fd) == 0 && read(fd, buf, sizeof(buf)) > 0)
        ;
}

typedef struct conn_job {
    int fd;
    unsigned char *reply;
    size_t len;
} conn_job;

static void *serve_thread(void *arg)
{
    conn_job *j = arg;

    if (j->reply)
        serve(j->fd, j->reply, j->len);
    free(j->reply);
    close(j->fd);
    free(j);
    return NULL;
}

/*
 * Each connection is served by a thread of its own: a cluster client keeps
 * a node's connection open while it dials the next node, which a serial
 * server would only accept once the first one closed.
 */
static void serve_async(int fd, unsigned char *reply, size_t len)
{
    conn_job *j = malloc(sizeof(*j));
    pthread_t t;

    if (j) {
        j->fd = fd;
        j->reply = reply;
        j->len = len;
        if (pthread_create(&t, NULL, serve_thread, j) == 0) {
            pthread_detach(t);
            return;
        }
        free(j);
    }
    free(reply);
    close(fd);
}

static void *server(void *arg)
{
    unsigned seen = 0, k = 0;

    (void)arg;
    for (;;) {
        int fd = accept(fake.listen_fd, NULL, NULL);
        unsigned char *reply;
        size_t len = 0;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        pthread_mutex_lock(&fake.lock);
        if (fake.gen != seen) {
            seen = fake.gen;
            k = 0;
        }
        reply = chunk(k++, &len);
        pthread_mutex_unlock(&fake.lock);
        serve_async(fd, reply, len);
    }
}

static void start_server(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    pthread_t t;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fake.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fake.listen_fd < 0 || bind(fake.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fake.listen_fd, 16) != 0 ||
        getsockname(fake.listen_fd, (struct sockaddr *)&sa, &sl) != 0)
        ck_fuzz_fail("fake redis: cannot listen on 127.0.0.1");
    snprintf(fake.port, sizeof(fake.port), "%u", (unsigned)ntohs(sa.sin_port));
    if (pthread_create(&t, NULL, server, NULL) != 0)
        ck_fuzz_fail("fake redis: cannot start its thread");
    pthread_detach(t);
}

/* ---- the client side ---- */


static void check_session(const ck_session *s)
{
    if (!s->user_id[0])
        ck_fuzz_fail("redis reply: a session without a user was accepted");
}

static ck_status run_op(ck_store *st, unsigned op)
{
    ck_session s;
    ck_session_list list = { 0, NULL };
    ck_metrics m;
    char sid[CK_SID_LEN];
    void *v = NULL;
    size_t n = 0;
    int64_t count = 0;
    ck_status rc;

    memset(&s, 0, sizeof(s));
    switch (op % 15) {
    case 0: rc = ck_store_ping(st); break;
    case 1:
        rc = ck_store_touch(st, ck_fuzz_sid(), &s);
        if (rc == CK_OK)
            check_session(&s);
        break;
    case 2:
        rc = ck_store_get(st, ck_fuzz_sid(), &s);
        if (rc == CK_OK)
            check_session(&s);
        break;
    case 3:
        snprintf(s.user_id, sizeof(s.user_id), "alice@example.org");
        snprintf(s.email, sizeof(s.email), "alice@example.org");
        snprintf(s.role, sizeof(s.role), "doctor");
        rc = ck_store_create(st, &s, sid);
        break;
    case 4: rc = ck_store_delete(st, ck_fuzz_sid()); break;
    case 5: rc = ck_store_revoke_user(st, "alice@example.org", &n); break;
    case 6:
        rc = ck_store_list_user(st, "alice@example.org", &list);
        for (size_t i = 0; rc == CK_OK && i < list.count; i++)
            check_session(&list.items[i]);
        ck_session_list_free(&list);
        break;
    case 7: rc = ck_store_state_put(st, "state1", "value", 5, 600); break;
    case 8: rc = ck_store_state_take(st, "state1", &v, &n); break;
    case 9: rc = ck_store_state_get(st, "state1", &v, &n); break;
    case 10: rc = ck_store_fail_add(st, "user:alice", 900, &count); break;
    case 11: rc = ck_store_fail_count(st, "user:alice", &count); break;
    case 12: rc = ck_store_fail_reset(st, "user:alice"); break;
    case 13: {
        ck_store_memory mem;

        rc = ck_store_memory_info(st, &mem);
        if (rc == CK_OK && (mem.used < 0 || mem.max < 0))
            ck_fuzz_fail("redis reply: negative memory figures accepted");
        break;
    }
    default: rc = ck_store_metrics(st, &m); break;
    }
    free(v);
    return rc;
}

CK_FUZZ_TARGET(redis_reply)
{
    static const char *const urls[16] = {
        "redis://127.0.0.1:6379",
        "redis://:fuzz-password@127.0.0.1:6379",
        "redis://127.0.0.1:6379/3",
        "redis://fuzzuser:fuzz-password@127.0.0.1:6379/3",
        "redis+sentinel://127.0.0.1:26379/mymaster",
        "redis+sentinel://:fuzz-password@127.0.0.1:26379/mymaster",
        "redis+sentinel://127.0.0.1:26379/mymaster/3",
        "redis+sentinel://fuzzuser:fuzz-password@127.0.0.1:26379/mymaster/3",
        "redis+cluster://127.0.0.1:7000/",
        "redis+cluster://:fuzz-password@127.0.0.1:7000/",
        "redis+cluster://127.0.0.1:7000,127.0.0.1:7001",
        "redis+cluster://fuzzuser:fuzz-password@127.0.0.1:7000,127.0.0.1:7001/",
        "redis+cluster://127.0.0.1:7000/",
        "redis+cluster://:fuzz-password@127.0.0.1:7000/",
        "redis+cluster://127.0.0.1:7000,127.0.0.1:7001",
        "redis+cluster://fuzzuser:fuzz-password@127.0.0.1:7000,127.0.0.1:7001/",
    };
    char err[512];
    ck_config cfg;
    ck_store *st;
    ck_status rc;

    if (size < 2)
        return 0;
    if (fake.listen_fd < 0)
        start_server();
    pthread_mutex_lock(&fake.lock);
    free(fake.input);
    fake.size = size - 2;
    fake.input = malloc(fake.size ? fake.size : 1);
    if (!fake.input)
        ck_fuzz_fail("out of memory");
    memcpy(fake.input, data + 2, fake.size);
    fake.gen++;
    pthread_mutex_unlock(&fake.lock);

    ck_config_defaults(&cfg);
    cfg.store_url = (char *)urls[data[1] & 15];
    cfg.connect_timeout_ms = 1000;
    cfg.command_timeout_ms = 1000;
    st = ck_store_open(&cfg, err, sizeof(err));
    if (!st)
        ck_fuzz_fail("cannot open the store: %s", err);
    rc = run_op(st, data[0]);
    /* For checking what a seed reaches: CK_FUZZ_VERBOSE=1 ckfuzz redis_reply FILE... */
    if (getenv("CK_FUZZ_VERBOSE"))
        fprintf(stderr, "op %u: %s: %s\n", data[0] % 15u, ck_status_str(rc),
                rc == CK_OK ? "" : ck_store_errstr(st));
    ck_store_close(st);
    return 0;
}
