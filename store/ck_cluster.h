/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_cluster.h - the shape of a Redis Cluster store, for "checkup config
 * check" and other reports.
 */
#ifndef CK_CLUSTER_H
#define CK_CLUSTER_H

#include <stddef.h>

#include "ck_config.h"

#define CK_CLUSTER_SLOTS 16384

typedef struct ck_cluster_shape {
    size_t primaries;           /* nodes with role master in the slot map */
    size_t replicas;
    size_t slots_covered;       /* slots with a primary, of CK_CLUSTER_SLOTS */
    size_t unreachable;         /* nodes that did not answer PING */
    char unreachable_nodes[512];    /* "host:port, ..." (may be cut short) */
} ck_cluster_shape;

/*
 * When cfg's store URL is redis+cluster:// or rediss+cluster://, reads the
 * slot map anew (CLUSTER SHARDS from the seeds) and PINGs every node on a
 * connection of its own, with the store's user, password, TLS settings and
 * timeouts. Returns 1 with *out filled, 0 when the store is no cluster,
 * or -1 with a one-line reason in err (never the password).
 */
int ck_cluster_shape_read(const ck_config *cfg, ck_cluster_shape *out, char *err,
                          size_t errlen);

#endif
