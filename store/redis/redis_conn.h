/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_conn.h - a Redis connection of our own (internal to libcheckup).
 *
 * Debian's hiredis 0.14 has no TLS, so hiredis only formats commands
 * (redisFormatCommandArgv) and parses replies (redisReader); the socket is
 * ours: plain TCP or OpenSSL TLS, with connect and command timeouts,
 * AUTH (ACL user + password), SELECT, reconnect with backoff
 * min(attempt * 50 ms, 2 s), and Sentinel discovery of the primary.
 *
 * With redis+cluster:// (redis_cluster.c) the same API routes each command
 * to the primary of its key's hash slot and follows MOVED and ASK itself.
 *
 * Nothing connects until the first command. A handle belongs to one
 * process and one thread; after fork() the child drops the inherited
 * socket without writing to it and connects anew.
 */
#ifndef CK_REDIS_CONN_H
#define CK_REDIS_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "ck_cluster.h"
#include "ck_config.h"

typedef struct ck_redis_addr {
    char *host;
    int port;
} ck_redis_addr;

typedef struct ck_redis_opts {
    int tls;                    /* rediss:// */
    ck_redis_addr *addrs;       /* the server, or the sentinels */
    size_t naddrs;
    char *master_name;          /* set for redis+sentinel:// */
    int cluster;                /* redis+cluster://: addrs are seed nodes */
    int db;
    char *user;                 /* ACL user, may be NULL */
    char *password;             /* may be NULL */
    int connect_timeout_ms;
    int command_timeout_ms;
    int tls_verify;
    char *tls_ca_file;
    char *tls_ca_dir;
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_server_name;
    int tls_min_version;        /* TLS1_2_VERSION or TLS1_3_VERSION */
} ck_redis_opts;

/*
 * Parses redis://[user[:password]@]host[:port][/db], rediss://...,
 * redis+sentinel://[user[:password]@]host:port[,host:port...]/master[/db]
 * (rediss+sentinel:// speaks TLS to the sentinels and the primary alike) and
 * redis+cluster://[user[:password]@]host[:port][,host[:port]...][/] (the
 * hosts are seed nodes; no database; rediss+cluster:// for TLS).
 * Hosts may be [IPv6] literals; user and password are percent-decoded; db is
 * 0..15; the default port is 6379 (26379 for a sentinel).
 * Then applies the [store] settings of cfg, which may be NULL for defaults:
 * timeouts, TLS, redis_user and a password, taken from the URL, else
 * redis_password, else redis_password_file (refused if group or others may
 * read or write it; one trailing line end is stripped).
 * Returns 0, or -1 with a one-line reason in err that never holds the
 * password.
 */
int ck_redis_opts_from_url(ck_redis_opts *o, const char *url, const ck_config *cfg,
                           char *err, size_t errlen);
void ck_redis_opts_free(ck_redis_opts *o);

typedef struct ck_redis ck_redis;

/* Takes ownership of *o (which is zeroed). Never fails except on memory. */
ck_redis *ck_redis_new(ck_redis_opts *o);
void ck_redis_free(ck_redis *r);

/*
 * Sends one command and waits for its reply, connecting first if needed.
 * Returns 0 with *reply set (free it with freeReplyObject; it may be a
 * REDIS_REPLY_ERROR, which is the server's answer, not a transport error),
 * or -1 when the server could not be reached or answered too late; then
 * ck_redis_errstr() says why and the connection is dropped so that a later
 * command reconnects (after the backoff delay).
 * A "-READONLY" or "-LOADING" reply after a failover also drops the
 * connection and, with Sentinel, re-resolves the primary.
 */
int ck_redis_command(ck_redis *r, int argc, const char **argv, const size_t *argvlen,
                     redisReply **reply);

/*
 * Sends n commands in one write and reads n replies (a pipeline). The
 * command timeout covers the whole exchange. On -1 every replies[i] is NULL.
 *
 * A command is not sent twice: the only retry is on a reused connection
 * found closed while idle (or whose first write fails with EPIPE or
 * ECONNRESET), which is reconnected and the commands sent once on it.
 */
int ck_redis_pipeline(ck_redis *r, size_t n, const int *argc, const char ***argv,
                      const size_t **argvlen, redisReply **replies);

/*
 * ck_redis_pipeline with extra_ms more than the command timeout for the
 * whole exchange: for a pipeline that ends with WAIT, which the server may
 * hold for up to its own timeout (extra_ms) before answering.
 */
int ck_redis_pipeline_ext(ck_redis *r, size_t n, const int *argc, const char ***argv,
                          const size_t **argvlen, redisReply **replies, int extra_ms);

/*
 * Counts the connections this handle has made. Unchanged across two
 * commands means both went over one connection: WAIT only vouches for the
 * writes made on its own connection.
 */
unsigned long ck_redis_serial(const ck_redis *r);

const char *ck_redis_errstr(const ck_redis *r);

/*
 * "host:port" of the server in use (the primary, with Sentinel; the node of
 * the last command, on a cluster), for messages.
 */
const char *ck_redis_peer(const ck_redis *r);

/*
 * Commands sent to the node of one primary rather than routed by key: for
 * what concerns every primary (PING, INFO, SCAN). A single server (or the
 * Sentinel's primary) is one primary. ck_redis_primary_count returns the
 * number of primaries serving slots, reading the slot map if needed, or
 * -1 (errstr says why). ck_redis_command_on_primary is ck_redis_command on
 * primary i (0 <= i < count); a keyed command still goes by its key.
 * The order of the primaries (by their first slot) holds until the slot
 * map changes.
 */
int ck_redis_is_cluster(const ck_redis *r);
int ck_redis_primary_count(ck_redis *r);
int ck_redis_command_on_primary(ck_redis *r, int i, int argc, const char **argv,
                                const size_t *argvlen, redisReply **reply);

/* The shape of a cluster (ck_cluster.h). */
typedef ck_cluster_shape ck_redis_shape;

/*
 * Reads the slot map anew and PINGs every node on a connection of its own.
 * Returns 0, or -1 when the handle is no cluster or no node gave a map.
 */
int ck_redis_cluster_shape(ck_redis *r, ck_redis_shape *s);

#endif
