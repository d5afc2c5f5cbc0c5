/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_cluster.h - Redis Cluster inside the connection layer (internal to
 * libcheckup; the store backend uses redis_conn.h only).
 *
 * A handle made from a redis+cluster:// URL routes each command by the
 * hash slot of its key (ck_cluster_route_key) through a slot map read with
 * CLUSTER SHARDS (ck_cluster_parse_shards), and follows MOVED and ASK
 * redirections (ck_cluster_parse_redirect). The parsers are pure functions
 * so that unit tests and the fuzz target can feed them anything.
 */
#ifndef CK_REDIS_CLUSTER_H
#define CK_REDIS_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "redis_slot.h"

#define CK_CLUSTER_NODES_MAX    1024    /* nodes in a map (primaries + replicas) */
#define CK_CLUSTER_HOST_MAX     253

typedef struct ck_cluster_addr {
    char host[CK_CLUSTER_HOST_MAX + 1];
    int port;
    int primary;                /* role "master" */
    int healthy;                /* health "online" */
} ck_cluster_addr;

typedef struct ck_cluster_map {
    ck_cluster_addr *nodes;     /* every node of every shard */
    size_t n;
    int16_t owner[CK_REDIS_SLOTS];  /* index in nodes of the slot's primary, or -1 */
} ck_cluster_map;

/*
 * Parses a CLUSTER SHARDS reply (Redis 7, RESP2). Each shard's node with
 * role "master" owns its slot ranges (the online one if several say so);
 * a node's address is its "endpoint" (else "ip") and its "tls-port" when
 * tls (else "port"). Sizes are bounded; a slot claimed twice, a range out
 * of 0..16383, a wrong type or a missing field refuses the whole reply.
 * Returns 0 (free m with ck_cluster_map_free), or -1 with err set and m
 * empty.
 */
int ck_cluster_parse_shards(const redisReply *rep, int tls, ck_cluster_map *m, char *err,
                            size_t errlen);
void ck_cluster_map_free(ck_cluster_map *m);

/* Slots of m that have an owner. */
size_t ck_cluster_map_covered(const ck_cluster_map *m);

/*
 * "-MOVED slot host:port" or "-ASK slot host:port". Returns 1 with *ask,
 * *slot, host and *port set (an empty host means "the node that answered"),
 * 0 when rep is no redirection, -1 when it is a malformed one.
 */
int ck_cluster_parse_redirect(const redisReply *rep, int *ask, unsigned *slot, char *host,
                              size_t hostlen, int *port);

/*
 * The key that decides where a command goes: argv[3] of EVAL/EVALSHA with
 * at least one key, else argv[1], except for the commands that name no key
 * (WAIT, SCRIPT, PING, INFO, SCAN, ...). Returns 1 with *key and *klen set,
 * 0 for a keyless command.
 */
int ck_cluster_route_key(int argc, const char **argv, const size_t *argvlen, const char **key,
                         size_t *klen);

#endif
