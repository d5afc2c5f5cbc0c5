/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_conn_int.h - what redis_conn.c, redis_conn_tls.c and
 * redis_conn_sentinel.c share. Not for other components: use redis_conn.h.
 */
#ifndef CK_REDIS_CONN_INT_H
#define CK_REDIS_CONN_INT_H

#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "forkcheck.h"
#include "redis_conn.h"

/* One socket (plain or TLS) with its reply parser. */
typedef struct ck_conn {
    int fd;
    SSL *ssl;
    redisReader *reader;
    int used;                   /* a command completed on it after setup */
    int64_t last_used_ms;       /* when the last exchange ended */
    int err_no;                 /* errno of the last transport failure */
    int wait_ms;                /* plain TCP: blocking, SO_RCVTIMEO this long; else 0 */
    char peer[300];             /* "host:port" */
} ck_conn;

typedef struct ck_cluster ck_cluster;

struct ck_redis {
    ck_redis_opts o;
    ck_conn c;
    ck_cluster *cl;             /* redis+cluster://: the nodes and the slot map */
    SSL_CTX *ssl_ctx;
    ck_forkcheck owner;         /* the process that owns c */
    int attempt;                /* consecutive failures, for the backoff */
    unsigned long serial;       /* counts connections made (ck_redis_serial) */
    int64_t last_fail_ms;
    size_t next_sentinel;       /* Sentinel: who answered last */
    char peer[300];
    char errstr[384];
    size_t errmsg_off;          /* where errstr's text follows "redis peer: " */
    char lasterr[384];
};

int64_t ck_redis_now_ms(void);
/* A formatted one-line reason into err (nothing when err is NULL or errlen 0). */
void ck_redis_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ck_redis_set_error(ck_redis *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void ck_conn_init(ck_conn *c);
void ck_conn_close(ck_conn *c, int graceful);
int ck_conn_wait(ck_conn *c, short events, int64_t deadline);
int ck_conn_open(ck_redis *r, ck_conn *c, const char *host, int port);
int ck_conn_exchange(ck_redis *r, ck_conn *c, const char *buf, size_t len, size_t n,
                     redisReply **replies, int timeout_ms, int *sent_nothing);
int ck_conn_command(ck_redis *r, ck_conn *c, int argc, const char **argv,
                    redisReply **reply);
int ck_conn_setup(ck_redis *r, ck_conn *c);
/* An open connection may be written to: in steady use, or found alive while idle. */
int ck_conn_reusable(ck_conn *c);
int ck_redis_connect(ck_redis *r);

/* redis_conn_tls.c; on failure errno is set and errstr says why (EPROTO). */
int ck_tls_handshake(ck_redis *r, ck_conn *c, const char *host, int64_t deadline);
ssize_t ck_tls_write(ck_redis *r, ck_conn *c, const char *buf, size_t len, int64_t deadline);
ssize_t ck_tls_read(ck_redis *r, ck_conn *c, char *buf, size_t len, int64_t deadline);
int ck_tls_idle_ok(ck_conn *c);
void ck_tls_close(ck_conn *c, int graceful);
void ck_tls_free_ctx(ck_redis *r);

/* redis_cluster.c: the handle's side of redis_conn.h on a cluster */
int ck_cluster_new(ck_redis *r);
void ck_cluster_free(ck_redis *r, int graceful);
unsigned long ck_cluster_serial(const ck_redis *r);
int ck_cluster_pipeline(ck_redis *r, size_t n, const int *argc, const char ***argv,
                        const size_t **argvlen, redisReply **replies, int extra_ms);
int ck_cluster_primary_count(ck_redis *r);
int ck_cluster_on_primary(ck_redis *r, int i, int argc, const char **argv,
                          const size_t *argvlen, redisReply **reply);
int ck_cluster_read_shape(ck_redis *r, ck_redis_shape *s);

/* redis_conn_sentinel.c */
int ck_sentinel_connect(ck_redis *r);

#endif
