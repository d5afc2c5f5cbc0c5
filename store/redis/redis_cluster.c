/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_cluster.c - Redis Cluster routing under the ck_redis API.
 *
 * The handle keeps one lazy connection per node (the same open, AUTH, TLS,
 * timeout and backoff code as a single server) and a slot map read with
 * CLUSTER SHARDS from any node it knows (the URL's seeds the first time).
 * Each command goes to the primary of its key's slot; a keyless command
 * (WAIT, SCRIPT LOAD) follows the command before it in the pipeline, or
 * the handle's last command, so that WAIT reaches the node and the
 * connection that made the write. A pipeline spanning nodes is sent as one
 * write per node and the replies are put back in order.
 *
 * Redirections: MOVED updates the slot, schedules a map refresh and sends
 * the command again on the named node; ASK sends ASKING and the command
 * together on the named node, once. The commands that followed a
 * redirected one on its node (its WAIT) go with it. TRYAGAIN and
 * CLUSTERDOWN are sent again after the reconnect backoff until the
 * command timeout. A redirect is never handed to the caller, and a
 * command is sent again only after one (which proves that the node did
 * not run it) or under the idle-connection rule of redis_conn.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "redis_cluster.h"
#include "redis_conn_int.h"

#define SHARDS_MAX          CK_CLUSTER_NODES_MAX
#define SHARD_NODES_MAX     64
#define NODE_FIELDS_MAX     64      /* key/value pairs describing one node */
#define REDIRECTS_MAX       5
#define REFRESH_EVERY_MS    1000

/* ---- parsing: CLUSTER SHARDS ---------------------------------------------- */

static int is_str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) && r->str;
}

static int str_is(const redisReply *r, const char *s)
{
    return is_str(r) && r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

/* The value of key in a flat [k1, v1, k2, v2...] array, or NULL. */
static const redisReply *field(const redisReply *kv, const char *key)
{
    for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        if (str_is(kv->element[i], key))
            return kv->element[i + 1];
    }
    return NULL;
}

static int host_ok(const char *s, size_t len)
{
    if (len == 0 || len > CK_CLUSTER_HOST_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == ':'))
            return 0;
    }
    return 1;
}

static int parse_node(const redisReply *kv, int tls, ck_cluster_addr *a, char *err,
                      size_t errlen)
{
    const redisReply *role, *health, *ep, *port = NULL;

    if (kv->type != REDIS_REPLY_ARRAY || kv->elements % 2 != 0 ||
        kv->elements > 2 * NODE_FIELDS_MAX) {
        ck_redis_set_err(err, errlen, "a node is not a list of fields");
        return -1;
    }
    role = field(kv, "role");
    health = field(kv, "health");
    if (tls)
        port = field(kv, "tls-port");
    if (!port)
        port = field(kv, "port");
    ep = field(kv, "endpoint");
    if (!is_str(ep) || ep->len == 0 || str_is(ep, "?"))
        ep = field(kv, "ip");
    if (!is_str(role) || (!str_is(role, "master") && !str_is(role, "replica"))) {
        ck_redis_set_err(err, errlen, "a node has no role master or replica");
        return -1;
    }
    if (!port || port->type != REDIS_REPLY_INTEGER || port->integer < 1 ||
        port->integer > 65535) {
        ck_redis_set_err(err, errlen, "a node has no %s in 1..65535", tls ? "tls-port or port" : "port");
        return -1;
    }
    /*
     * A node that never met another one knows no address of its own: an
     * empty ip then means the node that answered (a host of "" here).
     */
    if (!is_str(ep) || (ep->len > 0 && !host_ok(ep->str, ep->len))) {
        ck_redis_set_err(err, errlen, "a node has no valid endpoint or ip");
        return -1;
    }
    if (health && !is_str(health)) {
        ck_redis_set_err(err, errlen, "a node's health is not a string");
        return -1;
    }
    memcpy(a->host, ep->str, ep->len);
    a->host[ep->len] = '\0';
    a->port = (int)port->integer;
    a->primary = str_is(role, "master");
    a->healthy = !health || str_is(health, "online");
    return 0;
}

/* Gives [start, end] pairs of slots to node index owner. */
static int parse_slots(const redisReply *slots, int owner, ck_cluster_map *m, char *err,
                       size_t errlen)
{
    if (slots->type != REDIS_REPLY_ARRAY || slots->elements % 2 != 0 ||
        slots->elements > 2 * CK_REDIS_SLOTS) {
        ck_redis_set_err(err, errlen, "a shard's slots are not a list of ranges");
        return -1;
    }
    for (size_t i = 0; i < slots->elements; i += 2) {
        const redisReply *a = slots->element[i], *b = slots->element[i + 1];

        if (a->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_INTEGER ||
            a->integer < 0 || b->integer < a->integer || b->integer >= CK_REDIS_SLOTS) {
            ck_redis_set_err(err, errlen, "a slot range is not within 0..%d", CK_REDIS_SLOTS - 1);
            return -1;
        }
        if (owner < 0)
            continue;
        for (long long s = a->integer; s <= b->integer; s++) {
            if (m->owner[s] >= 0) {
                ck_redis_set_err(err, errlen, "slot %lld is claimed by two shards", s);
                return -1;
            }
            m->owner[s] = (int16_t)owner;
        }
    }
    return 0;
}

static int parse_shard(const redisReply *sh, int tls, ck_cluster_map *m, char *err,
                       size_t errlen)
{
    const redisReply *slots, *nodes;
    int owner = -1;

    if (sh->type != REDIS_REPLY_ARRAY || sh->elements % 2 != 0 || sh->elements > 16) {
        ck_redis_set_err(err, errlen, "a shard is not a list of fields");
        return -1;
    }
    slots = field(sh, "slots");
    nodes = field(sh, "nodes");
    if (!slots || !nodes || nodes->type != REDIS_REPLY_ARRAY ||
        nodes->elements > SHARD_NODES_MAX) {
        ck_redis_set_err(err, errlen, "a shard has no slots or nodes list (at most %d nodes)",
                SHARD_NODES_MAX);
        return -1;
    }
    for (size_t i = 0; i < nodes->elements; i++) {
        ck_cluster_addr *a;

        if (m->n >= CK_CLUSTER_NODES_MAX) {
            ck_redis_set_err(err, errlen, "more than %d nodes", CK_CLUSTER_NODES_MAX);
            return -1;
        }
        a = &m->nodes[m->n];
        if (parse_node(nodes->element[i], tls, a, err, errlen) < 0)
            return -1;
        /* The shard's primary; an online one wins over a failed one. */
        if (a->primary && (owner < 0 || (!m->nodes[owner].healthy && a->healthy)))
            owner = (int)m->n;
        m->n++;
    }
    return parse_slots(slots, owner, m, err, errlen);
}

void ck_cluster_map_free(ck_cluster_map *m)
{
    if (!m)
        return;
    free(m->nodes);
    m->nodes = NULL;
    m->n = 0;
    for (size_t s = 0; s < CK_REDIS_SLOTS; s++)
        m->owner[s] = -1;
}

int ck_cluster_parse_shards(const redisReply *rep, int tls, ck_cluster_map *m, char *err,
                            size_t errlen)
{
    m->nodes = NULL;
    ck_cluster_map_free(m);
    if (!rep || rep->type != REDIS_REPLY_ARRAY) {
        ck_redis_set_err(err, errlen, "CLUSTER SHARDS answered %s%.120s",
                rep && rep->type == REDIS_REPLY_ERROR ? "" : "no list",
                rep && rep->type == REDIS_REPLY_ERROR && rep->str ? rep->str : "");
        return -1;
    }
    if (rep->elements == 0 || rep->elements > SHARDS_MAX) {
        ck_redis_set_err(err, errlen, "CLUSTER SHARDS listed %zu shards (1..%d expected)",
                rep->elements, SHARDS_MAX);
        return -1;
    }
    m->nodes = calloc(CK_CLUSTER_NODES_MAX, sizeof(*m->nodes));
    if (!m->nodes) {
        ck_redis_set_err(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        if (parse_shard(rep->element[i], tls, m, err, errlen) < 0) {
            ck_cluster_map_free(m);
            return -1;
        }
    }
    return 0;
}

size_t ck_cluster_map_covered(const ck_cluster_map *m)
{
    size_t n = 0;

    for (size_t s = 0; s < CK_REDIS_SLOTS; s++)
        n += m->owner[s] >= 0;
    return n;
}

/* ---- parsing: redirections and routing ------------------------------------ */

static int parse_uint(const char *s, size_t len, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;

    if (len == 0 || len > 6)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int ck_cluster_parse_redirect(const redisReply *rep, int *ask, unsigned *slot, char *host,
                              size_t hostlen, int *port)
{
    const char *s, *end, *sp, *colon;
    unsigned long v;

    if (!rep || rep->type != REDIS_REPLY_ERROR || !rep->str)
        return 0;
    s = rep->str;
    end = s + rep->len;
    /* "MOVED" or "ASK" alone is a redirection too: a malformed one. */
    if (rep->len >= 5 && memcmp(s, "MOVED", 5) == 0 && (rep->len == 5 || s[5] == ' ')) {
        *ask = 0;
        s += rep->len == 5 ? 5 : 6;
    } else if (rep->len >= 3 && memcmp(s, "ASK", 3) == 0 && (rep->len == 3 || s[3] == ' ')) {
        *ask = 1;
        s += rep->len == 3 ? 3 : 4;
    } else {
        return 0;
    }
    sp = memchr(s, ' ', (size_t)(end - s));
    if (!sp || parse_uint(s, (size_t)(sp - s), CK_REDIS_SLOTS - 1, &v) < 0)
        return -1;
    *slot = (unsigned)v;
    s = sp + 1;
    colon = NULL;
    for (const char *p = s; p < end; p++) {
        if (*p == ':')
            colon = p;     /* the last one: an IPv6 address has several */
    }
    if (!colon || parse_uint(colon + 1, (size_t)(end - colon - 1), 65535, &v) < 0 || v == 0)
        return -1;
    *port = (int)v;
    if (colon > s && !host_ok(s, (size_t)(colon - s)))
        return -1;
    if ((size_t)(colon - s) >= hostlen)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    return 1;
}

static int name_is(const char *a, size_t alen, const char *name)
{
    return alen == strlen(name) && strncasecmp(a, name, alen) == 0;
}

static size_t arg_len(const char **argv, const size_t *argvlen, int i)
{
    return argvlen ? argvlen[i] : strlen(argv[i]);
}

int ck_cluster_route_key(int argc, const char **argv, const size_t *argvlen, const char **key,
                         size_t *klen)
{
    static const char *const keyless[] = {
        "WAIT", "WAITAOF", "SCRIPT", "ASKING", "READONLY", "READWRITE", "PING", "INFO",
        "SCAN", "CLUSTER", "AUTH", "HELLO", "SELECT", "TIME", "ECHO", "DBSIZE", "FLUSHALL",
        "FLUSHDB", "CLIENT", "CONFIG", "DEBUG", "FUNCTION", "COMMAND", "ROLE", "ACL",
        "SLOWLOG", "LATENCY", "MEMORY", "LASTSAVE", "SAVE", "BGSAVE", "BGREWRITEAOF",
        "MULTI", "EXEC", "DISCARD", "UNWATCH", "QUIT", "RESET", "SHUTDOWN", "SWAPDB",
    };
    size_t n0;

    if (argc < 1 || !argv || !argv[0])
        return 0;
    n0 = arg_len(argv, argvlen, 0);
    for (size_t i = 0; i < sizeof(keyless) / sizeof(keyless[0]); i++) {
        if (name_is(argv[0], n0, keyless[i]))
            return 0;
    }
    if (name_is(argv[0], n0, "EVALSHA") || name_is(argv[0], n0, "EVAL") ||
        name_is(argv[0], n0, "EVALSHA_RO") || name_is(argv[0], n0, "EVAL_RO") ||
        name_is(argv[0], n0, "FCALL") || name_is(argv[0], n0, "FCALL_RO")) {
        unsigned long nk;

        if (argc < 4 || parse_uint(argv[2], arg_len(argv, argvlen, 2), 100000, &nk) < 0 ||
            nk == 0)
            return 0;
        *key = argv[3];
        *klen = arg_len(argv, argvlen, 3);
        return 1;
    }
    if (argc < 2)
        return 0;
    *key = argv[1];
    *klen = arg_len(argv, argvlen, 1);
    return 1;
}

/* ---- the handle's cluster state ------------------------------------------- */

typedef struct cnode {
    char host[CK_CLUSTER_HOST_MAX + 1];
    int port;
    char peer[300];
    ck_conn c;
    unsigned long conn_id;      /* which of the handle's connections c is */
    int attempt;                /* consecutive failures, for the backoff */
    int64_t last_fail_ms;
    char lasterr[384];
} cnode;

struct ck_cluster {
    cnode *nodes[CK_CLUSTER_NODES_MAX];     /* seeds, primaries, redirect targets */
    size_t n;
    int16_t slot[CK_REDIS_SLOTS];           /* node index, or -1 */
    int16_t prim[CK_CLUSTER_NODES_MAX];     /* primaries serving slots, by first slot */
    size_t nprim;
    ck_cluster_map map;                     /* the last map read, for the shape */
    int have_map;
    int refresh_due;
    int64_t last_refresh_ms;
    int last_node;                          /* of the handle's last command, or -1 */
    unsigned long last_conn_id;
    /* Nodes sent a keyed command since the last lone WAIT, and over which connection. */
    unsigned char written[CK_CLUSTER_NODES_MAX];
    unsigned long written_conn[CK_CLUSTER_NODES_MAX];
};

static int find_node(ck_cluster *cl, const char *host, int port)
{
    for (size_t i = 0; i < cl->n; i++) {
        if (cl->nodes[i]->port == port && strcasecmp(cl->nodes[i]->host, host) == 0)
            return (int)i;
    }
    return -1;
}

/* The node's index, added if new; -1 (errstr set) when full or out of memory. */
static int node_of(ck_redis *r, const char *host, int port)
{
    ck_cluster *cl = r->cl;
    int i = find_node(cl, host, port);
    cnode *nd;

    if (i >= 0)
        return i;
    if (cl->n >= CK_CLUSTER_NODES_MAX || strlen(host) > CK_CLUSTER_HOST_MAX) {
        ck_redis_set_error(r, "more than %d cluster nodes", CK_CLUSTER_NODES_MAX);
        return -1;
    }
    nd = calloc(1, sizeof(*nd));
    if (!nd) {
        ck_redis_set_error(r, "out of memory");
        return -1;
    }
    snprintf(nd->host, sizeof(nd->host), "%s", host);
    nd->port = port;
    snprintf(nd->peer, sizeof(nd->peer), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    ck_conn_init(&nd->c);
    cl->nodes[cl->n] = nd;
    return (int)cl->n++;
}

int ck_cluster_new(ck_redis *r)
{
    ck_cluster *cl = calloc(1, sizeof(*cl));

    if (!cl)
        return -1;
    r->cl = cl;
    cl->last_node = -1;
    for (size_t s = 0; s < CK_REDIS_SLOTS; s++)
        cl->slot[s] = -1;
    ck_cluster_map_free(&cl->map);
    for (size_t i = 0; i < r->o.naddrs; i++) {
        if (node_of(r, r->o.addrs[i].host, r->o.addrs[i].port) < 0)
            return -1;
    }
    return 0;
}

static void close_all(ck_cluster *cl, int graceful)
{
    for (size_t i = 0; i < cl->n; i++)
        ck_conn_close(&cl->nodes[i]->c, graceful);
}

void ck_cluster_free(ck_redis *r, int graceful)
{
    ck_cluster *cl = r->cl;

    if (!cl)
        return;
    close_all(cl, graceful);
    for (size_t i = 0; i < cl->n; i++)
        free(cl->nodes[i]);
    ck_cluster_map_free(&cl->map);
    free(cl);
    r->cl = NULL;
}

unsigned long ck_cluster_serial(const ck_redis *r)
{
    return r->cl->last_conn_id;
}

/* A forked child drops the parent's sockets without writing to them. */
static void fork_check(ck_redis *r)
{
    if (!ck_forkcheck_forked(&r->owner))
        return;
    close_all(r->cl, 0);
    for (size_t i = 0; i < r->cl->n; i++)
        r->cl->nodes[i]->attempt = 0;
    /* The parent's writes are not this process's to wait for. */
    memset(r->cl->written, 0, sizeof(r->cl->written));
    ck_forkcheck_arm(&r->owner);
}

/* ---- one node's connection ------------------------------------------------- */

static void node_failed(ck_redis *r, cnode *nd)
{
    snprintf(nd->lasterr, sizeof(nd->lasterr), "%s", r->errstr + r->errmsg_off);
    ck_conn_close(&nd->c, 0);
    if (nd->attempt < 1000)
        nd->attempt++;
    nd->last_fail_ms = ck_redis_now_ms();
    r->cl->refresh_due = 1;
}

/* Connected (and authenticated) to nd, honouring its backoff. */
static int node_ready(ck_redis *r, cnode *nd)
{
    snprintf(r->peer, sizeof(r->peer), "%s", nd->peer);
    if (nd->c.fd >= 0) {
        if (ck_conn_reusable(&nd->c))
            return 0;
        ck_conn_close(&nd->c, 0);
    }
    if (nd->attempt > 0) {
        int64_t delay = (int64_t)nd->attempt * 50, waited;

        if (delay > 2000)
            delay = 2000;
        waited = ck_redis_now_ms() - nd->last_fail_ms;
        if (waited < delay) {
            ck_redis_set_error(r, "reconnecting in %lld ms (last error: %.200s)",
                               (long long)(delay - waited), nd->lasterr);
            return -1;
        }
    }
    if (ck_conn_open(r, &nd->c, nd->host, nd->port) < 0 || ck_conn_setup(r, &nd->c) < 0) {
        node_failed(r, nd);
        return -1;
    }
    nd->attempt = 0;
    nd->conn_id = ++r->serial;
    return 0;
}

static void replies_free(redisReply **rep, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (rep[i])
            freeReplyObject(rep[i]);
        rep[i] = NULL;
    }
}

static int reply_starts(const redisReply *rep, const char *prefix)
{
    size_t n = strlen(prefix);

    return rep && rep->type == REDIS_REPLY_ERROR && rep->str && rep->len >= n &&
           memcmp(rep->str, prefix, n) == 0;
}

/* Sends buf (n commands) to nd and reads n replies: send_buf for one node. */
static int node_send(ck_redis *r, cnode *nd, const char *buf, size_t len, size_t n,
                     redisReply **replies, int timeout_ms)
{
    int reused, sent_nothing, rc;

    if (node_ready(r, nd) < 0)
        return -1;
    reused = nd->c.used;
    rc = ck_conn_exchange(r, &nd->c, buf, len, n, replies, timeout_ms, &sent_nothing);
    if (rc < 0 && reused && sent_nothing &&
        (nd->c.err_no == EPIPE || nd->c.err_no == ECONNRESET)) {
        /* Closed while idle: nothing reached the node, send it once anew. */
        replies_free(replies, n);
        ck_conn_close(&nd->c, 0);
        if (node_ready(r, nd) < 0)
            return -1;
        rc = ck_conn_exchange(r, &nd->c, buf, len, n, replies, timeout_ms, &sent_nothing);
    }
    if (rc < 0) {
        replies_free(replies, n);
        node_failed(r, nd);
        return -1;
    }
    nd->c.used = 1;
    for (size_t i = 0; i < n; i++) {
        if (reply_starts(replies[i], "READONLY") || reply_starts(replies[i], "LOADING") ||
            reply_starts(replies[i], "MASTERDOWN")) {
            /* No longer a primary, or not ready: ask for the map again. */
            ck_conn_close(&nd->c, 1);
            r->cl->refresh_due = 1;
            break;
        }
    }
    return 0;
}

static int node_command(ck_redis *r, cnode *nd, int argc, const char **argv,
                        redisReply **reply)
{
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, NULL), rc;

    *reply = NULL;
    if (len < 0) {
        ck_redis_set_error(r, "out of memory");
        return -1;
    }
    rc = node_send(r, nd, cmd, (size_t)len, 1, reply, r->o.command_timeout_ms);
    redisFreeCommand(cmd);
    return rc;
}

/* ---- the slot map ----------------------------------------------------------- */

/* Takes the map m read from a node: slots, primaries (by first slot). */
static int apply_map(ck_redis *r, ck_cluster_map *m)
{
    ck_cluster *cl = r->cl;
    int16_t idx[CK_CLUSTER_NODES_MAX] = { 0 };
    unsigned char seen[CK_CLUSTER_NODES_MAX] = { 0 };

    for (size_t i = 0; i < m->n; i++) {
        int k = m->nodes[i].primary ? node_of(r, m->nodes[i].host, m->nodes[i].port) : -1;

        if (m->nodes[i].primary && k < 0)
            return -1;
        idx[i] = (int16_t)k;
    }
    cl->nprim = 0;
    for (size_t s = 0; s < CK_REDIS_SLOTS; s++) {
        int k = m->owner[s] >= 0 ? idx[m->owner[s]] : -1;

        cl->slot[s] = (int16_t)k;
        if (k >= 0 && !seen[k]) {
            seen[k] = 1;
            cl->prim[cl->nprim++] = (int16_t)k;
        }
    }
    ck_cluster_map_free(&cl->map);
    cl->map = *m;
    m->nodes = NULL;
    cl->have_map = 1;
    cl->refresh_due = 0;
    return 0;
}

static int refresh_from(ck_redis *r, cnode *nd)
{
    static const char *q[2] = { "CLUSTER", "SHARDS" };
    ck_cluster_map *m = calloc(1, sizeof(*m));
    redisReply *rep = NULL;
    char err[256];
    int rc = -1;

    if (!m) {
        ck_redis_set_error(r, "out of memory");
        return -1;
    }
    if (node_command(r, nd, 2, q, &rep) < 0)
        goto out;
    if (ck_cluster_parse_shards(rep, r->o.tls, m, err, sizeof(err)) < 0) {
        ck_redis_set_error(r, "bad CLUSTER SHARDS reply: %s", err);
        /* Whatever answered that is no cluster node we can follow. */
        node_failed(r, nd);
        goto out;
    }
    for (size_t i = 0; i < m->n; i++) {
        if (!m->nodes[i].host[0])
            snprintf(m->nodes[i].host, sizeof(m->nodes[i].host), "%s", nd->host);
    }
    rc = apply_map(r, m);
out:
    if (rep)
        freeReplyObject(rep);
    ck_cluster_map_free(m);
    free(m);
    return rc;
}

/*
 * Reads the slot map when there is none, or when one is due (after MOVED
 * or a node's failure) and the last was read over a second ago, or when
 * force. The primaries are asked first, then every other node known.
 */
static int refresh(ck_redis *r, int force)
{
    ck_cluster *cl = r->cl;
    int64_t now = ck_redis_now_ms();
    char last[384] = "";

    if (cl->have_map && !force &&
        (!cl->refresh_due || now - cl->last_refresh_ms < REFRESH_EVERY_MS))
        return 0;
    cl->last_refresh_ms = now;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cl->n; i++) {
            int is_prim = 0;

            /* Nodes that do not answer cost a connect timeout each: bounded. */
            if (ck_redis_now_ms() - now > r->o.connect_timeout_ms + r->o.command_timeout_ms)
                goto out;
            for (size_t p = 0; p < cl->nprim; p++)
                is_prim |= cl->prim[p] == (int16_t)i;
            if (is_prim != (pass == 0))
                continue;
            if (refresh_from(r, cl->nodes[i]) == 0)
                return 0;
            snprintf(last, sizeof(last), "%s", r->errstr + r->errmsg_off);
        }
    }
out:
    if (cl->have_map)
        return 0;       /* keep the old map: its nodes answer or fail on their own */
    ck_redis_set_error(r, "no cluster node answered CLUSTER SHARDS (last error: %.250s)",
                       last[0] ? last : "no node known");
    return -1;
}

/* ---- routing ---------------------------------------------------------------- */

typedef struct route {
    char **cmd;                 /* each command formatted */
    int *clen;
    int *node;
    int *anchor;                /* the keyed command this one follows, or -1 */
    int *ask;
    int *pending;
    unsigned long *conn;        /* the connection its reply came over */
    size_t n;
} route;

static void route_free(route *rt)
{
    for (size_t i = 0; rt->cmd && i < rt->n; i++) {
        if (rt->cmd[i])
            redisFreeCommand(rt->cmd[i]);
    }
    free(rt->cmd);      /* one block holds every array */
}

/* Formats the commands and picks each one's node; forced: keyless head's node. */
static int route_init(ck_redis *r, route *rt, size_t n, const int *argc, const char ***argv,
                      const size_t **argvlen, int forced)
{
    ck_cluster *cl = r->cl;

    memset(rt, 0, sizeof(*rt));
    /* One allocation per call: the pointers first, then the aligned rest. */
    rt->cmd = n <= SIZE_MAX / (sizeof(char *) + sizeof(unsigned long) + 5 * sizeof(int))
              ? calloc(n, sizeof(char *) + sizeof(unsigned long) + 5 * sizeof(int)) : NULL;
    if (!rt->cmd) {
        ck_redis_set_error(r, "out of memory");
        return -1;
    }
    rt->n = n;
    rt->conn = (unsigned long *)(rt->cmd + n);
    rt->clen = (int *)(rt->conn + n);
    rt->node = rt->clen + n;
    rt->anchor = rt->node + n;
    rt->ask = rt->anchor + n;
    rt->pending = rt->ask + n;
    for (size_t i = 0; i < n; i++) {
        const size_t *lens = argvlen ? argvlen[i] : NULL;
        const char *key;
        size_t klen;

        rt->clen[i] = redisFormatCommandArgv(&rt->cmd[i], argc[i], argv[i], lens);
        if (rt->clen[i] < 0) {
            rt->cmd[i] = NULL;
            ck_redis_set_error(r, "out of memory");
            return -1;
        }
        rt->pending[i] = 1;
        if (ck_cluster_route_key(argc[i], argv[i], lens, &key, &klen)) {
            unsigned slot = ck_redis_key_slot(key, klen);

            rt->anchor[i] = (int)i;
            rt->node[i] = cl->slot[slot];
            if (rt->node[i] < 0) {
                cl->refresh_due = 1;
                ck_redis_set_error(r, "slot %u is not served by any node", slot);
                return -1;
            }
        } else if (i > 0) {
            rt->anchor[i] = rt->anchor[i - 1];
            rt->node[i] = rt->node[i - 1];
        } else {
            rt->anchor[i] = -1;
            rt->node[i] = forced >= 0 ? forced : cl->last_node >= 0 ? cl->last_node
                        : cl->nprim > 0 ? cl->prim[0] : 0;
        }
    }
    return 0;
}

static const char ASKING_CMD[] = "*1\r\n$6\r\nASKING\r\n";

/* Sends the pending commands of node g in one write; their replies in place. */
static int send_group(ck_redis *r, route *rt, int g, redisReply **replies, int64_t deadline)
{
    cnode *nd = r->cl->nodes[g];
    size_t len = 0, k = 0, nrep = 0;
    char *buf = NULL;
    redisReply **tmp = NULL;
    int *who = NULL, rc = -1, left;

    for (size_t i = 0; i < rt->n; i++) {
        if (rt->pending[i] && rt->node[i] == g) {
            len += (size_t)rt->clen[i] + (rt->ask[i] ? sizeof(ASKING_CMD) - 1 : 0);
            nrep += 1 + (rt->ask[i] != 0);
            k = i;
        }
    }
    if (nrep == 1 && !rt->ask[k]) {
        /* The common case, one command: sent as hiredis formatted it. */
        left = (int)(deadline - ck_redis_now_ms());
        if (node_send(r, nd, rt->cmd[k], len, 1, &replies[k], left > 0 ? left : 1) < 0)
            return -1;
        rt->pending[k] = 0;
        rt->conn[k] = nd->conn_id;
        return 0;
    }
    k = 0;
    buf = malloc(len);
    tmp = calloc(nrep, sizeof(redisReply *));
    who = calloc(nrep, sizeof(*who));
    if (!buf || !tmp || !who) {
        ck_redis_set_error(r, "out of memory");
        goto out;
    }
    len = 0;
    for (size_t i = 0; i < rt->n; i++) {
        if (!rt->pending[i] || rt->node[i] != g)
            continue;
        if (rt->ask[i]) {
            memcpy(buf + len, ASKING_CMD, sizeof(ASKING_CMD) - 1);
            len += sizeof(ASKING_CMD) - 1;
            who[k++] = -1;
        }
        memcpy(buf + len, rt->cmd[i], (size_t)rt->clen[i]);
        len += (size_t)rt->clen[i];
        who[k++] = (int)i;
    }
    left = (int)(deadline - ck_redis_now_ms());
    if (node_send(r, nd, buf, len, nrep, tmp, left > 0 ? left : 1) < 0)
        goto out;
    for (k = 0; k < nrep; k++) {
        if (who[k] < 0) {
            freeReplyObject(tmp[k]);
            continue;
        }
        replies[who[k]] = tmp[k];
        rt->pending[who[k]] = 0;
        rt->conn[who[k]] = nd->conn_id;
    }
    rc = 0;
out:
    free(buf);
    free(tmp);
    free(who);
    return rc;
}

/* Command i goes again to node t, with the keyless commands that follow it. */
static void requeue(route *rt, size_t i, int t, redisReply **replies)
{
    for (size_t j = i; j < rt->n && (j == i || rt->anchor[j] == (int)i); j++) {
        if (replies[j])
            freeReplyObject(replies[j]);
        replies[j] = NULL;
        rt->node[j] = t;
        rt->pending[j] = 1;
    }
}

/* host:port is a node of the last slot map read (any role). */
static int in_map(const ck_cluster *cl, const char *host, int port)
{
    for (size_t i = 0; i < cl->map.n; i++) {
        if (cl->map.nodes[i].port == port && strcasecmp(cl->map.nodes[i].host, host) == 0)
            return 1;
    }
    return 0;
}

/*
 * A redirection names where to send the command, and the handle would
 * log in there with its ACL password: only to a node the slot map lists
 * (read again once when the target is new, as after a node joined).
 * Anything else is a node lying or a cluster changing under us, refused.
 */
static int redirect_target(ck_redis *r, const char *host, int port)
{
    ck_cluster *cl = r->cl;

    if (!in_map(cl, host, port)) {
        if (refresh(r, 1) < 0 || !in_map(cl, host, port)) {
            ck_redis_set_error(r, "redirected to %s:%d, which the cluster's slot map does not "
                               "list: refused", host, port);
            return -1;
        }
    }
    return node_of(r, host, port);
}

/*
 * Looks at the replies of the keyed commands: redirections and "try
 * again" answers are requeued, never handed out. Returns 0, or -1 on a
 * malformed redirection; *moved and *busy say what was seen.
 */
static int check_replies(ck_redis *r, route *rt, redisReply **replies, int *moved,
                         int *busy, char *why, size_t whylen)
{
    for (size_t i = 0; i < rt->n; i++) {
        char host[CK_CLUSTER_HOST_MAX + 1];
        unsigned slot;
        int ask, port, t, rc;

        if (rt->anchor[i] != (int)i || !replies[i] || rt->pending[i])
            continue;
        rc = ck_cluster_parse_redirect(replies[i], &ask, &slot, host, sizeof(host), &port);
        if (rc < 0) {
            snprintf(r->peer, sizeof(r->peer), "%s", r->cl->nodes[rt->node[i]]->peer);
            ck_redis_set_error(r, "malformed redirection: %.100s", replies[i]->str);
            return -1;
        }
        if (rc == 1) {
            t = redirect_target(r, host[0] ? host : r->cl->nodes[rt->node[i]]->host, port);
            if (t < 0)
                return -1;
            if (!ask) {
                r->cl->slot[slot] = (int16_t)t;
                r->cl->refresh_due = 1;
            }
            snprintf(why, whylen, "%s %u to %.260s", ask ? "ASK" : "MOVED", slot,
                     r->cl->nodes[t]->peer);
            rt->ask[i] = ask;
            requeue(rt, i, t, replies);
            *moved = 1;
        } else if (reply_starts(replies[i], "TRYAGAIN") ||
                   reply_starts(replies[i], "CLUSTERDOWN")) {
            snprintf(why, whylen, "%.100s", replies[i]->str);
            requeue(rt, i, rt->node[i], replies);
            *busy = 1;
        }
    }
    return 0;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int route_run(ck_redis *r, route *rt, redisReply **replies, int timeout_ms)
{
    int64_t deadline = ck_redis_now_ms() + timeout_ms;
    int redirects = 0, attempt = 0;
    char why[300] = "";

    for (;;) {
        int moved = 0, busy = 0;

        for (size_t i = 0; i < rt->n; i++) {
            if (rt->pending[i] && send_group(r, rt, rt->node[i], replies, deadline) < 0)
                return -1;
        }
        if (check_replies(r, rt, replies, &moved, &busy, why, sizeof(why)) < 0)
            return -1;
        if (!moved && !busy)
            return 0;
        if (moved && ++redirects > REDIRECTS_MAX) {
            ck_redis_set_error(r, "more than %d redirections (last: %.200s): the cluster's "
                               "slot map does not settle", REDIRECTS_MAX, why);
            return -1;
        }
        if (busy) {
            int64_t delay = (int64_t)++attempt * 50;

            if (delay > 2000)
                delay = 2000;
            if (ck_redis_now_ms() + delay >= deadline) {
                ck_redis_set_error(r, "the cluster answered %.150s for %d ms: giving up",
                                   why, timeout_ms);
                return -1;
            }
            sleep_ms(delay);
        }
        if (ck_redis_now_ms() >= deadline) {
            ck_redis_set_error(r, "command timed out after %d ms of redirections (last: "
                               "%.200s)", timeout_ms, why);
            return -1;
        }
    }
}

static int run(ck_redis *r, size_t n, const int *argc, const char ***argv,
               const size_t **argvlen, redisReply **replies, int extra_ms, int forced)
{
    ck_cluster *cl = r->cl;
    route rt;
    int rc = -1;

    if (refresh(r, 0) < 0)
        return -1;
    if (route_init(r, &rt, n, argc, argv, argvlen, forced) == 0 &&
        route_run(r, &rt, replies, r->o.command_timeout_ms + extra_ms) == 0) {
        for (size_t i = 0; i < n; i++) {
            int nd = rt.node[i];

            if (rt.anchor[i] == (int)i && nd >= 0 && !cl->written[nd]) {
                cl->written[nd] = 1;
                cl->written_conn[nd] = rt.conn[i];
            }
        }
        cl->last_node = rt.node[n - 1];
        cl->last_conn_id = rt.conn[n - 1];
        snprintf(r->peer, sizeof(r->peer), "%s", cl->nodes[cl->last_node]->peer);
        rc = 0;
    }
    if (rc < 0)
        replies_free(replies, n);
    route_free(&rt);
    return rc;
}

static int is_script_load(int argc, const char **argv, const size_t *argvlen)
{
    return argc >= 2 && name_is(argv[0], arg_len(argv, argvlen, 0), "SCRIPT") &&
           name_is(argv[1], arg_len(argv, argvlen, 1), "LOAD");
}

/*
 * SCRIPT LOAD goes to every primary: a -NOSCRIPT from any of them (the
 * metrics read runs on all) is then cured by one load. The answer is the
 * first error, else the first primary's.
 */
static int script_load_all(ck_redis *r, int argc, const char **argv, const size_t *argvlen,
                           redisReply **reply)
{
    const char **av[1] = { argv };
    const size_t *lv[1] = { argvlen };

    *reply = NULL;
    if (refresh(r, 0) < 0)
        return -1;
    for (size_t p = 0; p < r->cl->nprim || p == 0; p++) {
        redisReply *rep = NULL;
        int node = r->cl->nprim ? r->cl->prim[p] : -1;

        if (run(r, 1, &argc, av, lv, &rep, 0, node) < 0) {
            if (*reply)
                freeReplyObject(*reply);
            *reply = NULL;
            return -1;
        }
        if (!*reply || (rep->type == REDIS_REPLY_ERROR && (*reply)->type != REDIS_REPLY_ERROR)) {
            if (*reply)
                freeReplyObject(*reply);
            *reply = rep;
        } else {
            freeReplyObject(rep);
        }
    }
    return 0;
}

static int is_wait(int argc, const char **argv, const size_t *argvlen)
{
    return argc >= 1 && name_is(argv[0], arg_len(argv, argvlen, 0), "WAIT");
}

/*
 * A lone WAIT follows a change made of several commands (a lockout: its
 * counter, the lock index and a metric; a user's revocation over two
 * tags), which a cluster may have sent to several primaries. It goes to
 * every node sent a keyed command since the last lone WAIT, each on the
 * connection the command went over (a node reconnected since fails it:
 * WAIT on a new connection vouches for nothing), and the answer is the
 * lowest count (or the first reply that is not a count). The handle's
 * last command stays what it was, so the caller's own connection check
 * still compares the write with itself.
 */
static int wait_written(ck_redis *r, int argc, const char **argv, const size_t *argvlen,
                        redisReply **reply, int extra_ms)
{
    ck_cluster *cl = r->cl;
    const char **av[1] = { argv };
    const size_t *lv[1] = { argvlen };
    int last_node = cl->last_node, rc = 0, any = 0;
    unsigned long last_conn = cl->last_conn_id;

    *reply = NULL;
    for (size_t i = 0; i < cl->n && rc == 0; i++) {
        redisReply *rep = NULL;

        if (!cl->written[i])
            continue;
        any = 1;
        if (run(r, 1, &argc, av, lv, &rep, extra_ms, (int)i) < 0) {
            rc = -1;
        } else if (cl->last_conn_id != cl->written_conn[i]) {
            ck_redis_set_error(r, "reconnected to %s since the write, before WAIT",
                               cl->nodes[i]->peer);
            freeReplyObject(rep);
            rc = -1;
        } else if (!*reply || ((*reply)->type == REDIS_REPLY_INTEGER &&
                               (rep->type != REDIS_REPLY_INTEGER ||
                                rep->integer < (*reply)->integer))) {
            if (*reply)
                freeReplyObject(*reply);
            *reply = rep;
        } else {
            freeReplyObject(rep);
        }
    }
    memset(cl->written, 0, sizeof(cl->written));
    if (rc < 0) {
        if (*reply)
            freeReplyObject(*reply);
        *reply = NULL;
        return -1;
    }
    if (!any)
        return run(r, 1, &argc, av, lv, reply, extra_ms, -1);
    cl->last_node = last_node;
    cl->last_conn_id = last_conn;
    if (last_node >= 0)
        snprintf(r->peer, sizeof(r->peer), "%s", cl->nodes[last_node]->peer);
    return 0;
}

int ck_cluster_pipeline(ck_redis *r, size_t n, const int *argc, const char ***argv,
                        const size_t **argvlen, redisReply **replies, int extra_ms)
{
    fork_check(r);
    if (n == 1 && is_script_load(argc[0], argv[0], argvlen ? argvlen[0] : NULL))
        return script_load_all(r, argc[0], argv[0], argvlen ? argvlen[0] : NULL, replies);
    if (n == 1 && is_wait(argc[0], argv[0], argvlen ? argvlen[0] : NULL))
        return wait_written(r, argc[0], argv[0], argvlen ? argvlen[0] : NULL, replies,
                            extra_ms);
    return run(r, n, argc, argv, argvlen, replies, extra_ms, -1);
}

/* ---- whole-cluster operations ----------------------------------------------- */

int ck_cluster_primary_count(ck_redis *r)
{
    fork_check(r);
    if (refresh(r, 0) < 0)
        return -1;
    if (r->cl->nprim == 0) {
        ck_redis_set_error(r, "the cluster's slot map names no primary");
        return -1;
    }
    return (int)r->cl->nprim;
}

int ck_cluster_on_primary(ck_redis *r, int i, int argc, const char **argv,
                          const size_t *argvlen, redisReply **reply)
{
    const char **av[1] = { argv };
    const size_t *lv[1] = { argvlen };

    *reply = NULL;
    if (ck_cluster_primary_count(r) < 0)
        return -1;
    if (i < 0 || (size_t)i >= r->cl->nprim) {
        ck_redis_set_error(r, "no primary number %d (the cluster has %zu)", i,
                           r->cl->nprim);
        return -1;
    }
    return run(r, 1, &argc, av, lv, reply, 0, r->cl->prim[i]);
}

/* Connects to a on a connection of its own, authenticates and PINGs. */
static int probe(ck_redis *r, const ck_cluster_addr *a)
{
    static const char *ping[1] = { "PING" };
    redisReply *rep = NULL;
    ck_conn c;
    int ok;

    snprintf(r->peer, sizeof(r->peer), strchr(a->host, ':') ? "[%s]:%d" : "%s:%d", a->host,
             a->port);
    if (ck_conn_open(r, &c, a->host, a->port) < 0)
        return -1;
    ok = ck_conn_setup(r, &c) == 0 && ck_conn_command(r, &c, 1, ping, &rep) == 0 &&
         rep->type == REDIS_REPLY_STATUS;
    if (rep && !ok && rep->type == REDIS_REPLY_ERROR)
        ck_redis_set_error(r, "PING: %.120s", rep->str);
    if (rep)
        freeReplyObject(rep);
    ck_conn_close(&c, 1);
    return ok ? 0 : -1;
}

int ck_cluster_read_shape(ck_redis *r, ck_redis_shape *s)
{
    ck_cluster *cl = r->cl;
    size_t used = 0;

    memset(s, 0, sizeof(*s));
    fork_check(r);
    if (refresh(r, 1) < 0)
        return -1;
    s->slots_covered = ck_cluster_map_covered(&cl->map);
    for (size_t i = 0; i < cl->map.n; i++) {
        const ck_cluster_addr *a = &cl->map.nodes[i];

        if (a->primary)
            s->primaries++;
        else
            s->replicas++;
        if (probe(r, a) == 0)
            continue;
        s->unreachable++;
        if (used + 2 < sizeof(s->unreachable_nodes)) {
            int w = snprintf(s->unreachable_nodes + used, sizeof(s->unreachable_nodes) - used,
                             "%s%s", used ? ", " : "", r->peer);
            if (w > 0)
                used += (size_t)w;
            if (used >= sizeof(s->unreachable_nodes))
                used = sizeof(s->unreachable_nodes) - 1;
        }
    }
    return 0;
}

/* ---- ck_cluster.h ------------------------------------------------------------ */

int ck_cluster_shape_read(const ck_config *cfg, ck_cluster_shape *out, char *err,
                          size_t errlen)
{
    const char *url = cfg && cfg->store_url ? cfg->store_url : "";
    ck_redis_opts o;
    ck_redis *r;
    int rc;

    memset(out, 0, sizeof(*out));
    if (strncmp(url, "redis+cluster://", 16) != 0 && strncmp(url, "rediss+cluster://", 17) != 0)
        return 0;
    if (ck_redis_opts_from_url(&o, url, cfg, err, errlen) != 0)
        return -1;
    r = ck_redis_new(&o);
    if (!r) {
        ck_redis_opts_free(&o);
        ck_redis_set_err(err, errlen, "out of memory");
        return -1;
    }
    rc = ck_redis_cluster_shape(r, out);
    if (rc != 0)
        ck_redis_set_err(err, errlen, "%s", ck_redis_errstr(r));
    ck_redis_free(r);
    return rc == 0 ? 1 : -1;
}
