/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_conn.c - checkup's own Redis connection: URL parsing, a socket with
 * connect and command timeouts, AUTH and SELECT, reconnect with backoff.
 *
 * hiredis formats commands and parses replies; every byte goes through the
 * conn_* functions below, which poll() against a deadline so that no step
 * can block longer than its timeout.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>

#include "redis_conn_int.h"
#include "ck_encode.h"
#include "ck_text.h"
#include "ck_secfile.h"

/* ---- time ---- */

int64_t ck_redis_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(int64_t deadline)
{
    int64_t left = deadline - ck_redis_now_ms();

    if (left <= 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* ---- errors ---- */

void ck_redis_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void ck_redis_set_error(ck_redis *r, const char *fmt, ...)
{
    va_list ap;
    int n;

    n = snprintf(r->errstr, sizeof(r->errstr), "redis %s: ",
                 r->peer[0] ? r->peer : "(not connected)");
    if (n < 0 || (size_t)n >= sizeof(r->errstr))
        return;
    r->errmsg_off = (size_t)n;
    va_start(ap, fmt);
    vsnprintf(r->errstr + n, sizeof(r->errstr) - (size_t)n, fmt, ap);
    va_end(ap);
}

static void set_peer(char *buf, size_t len, const char *host, int port)
{
    if (strchr(host, ':'))
        snprintf(buf, len, "[%s]:%d", host, port);
    else
        snprintf(buf, len, "%s:%d", host, port);
}

/* ---- options and URL parsing ---- */

static void wipe_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void ck_redis_opts_free(ck_redis_opts *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->naddrs; i++)
        free(o->addrs[i].host);
    free(o->addrs);
    free(o->master_name);
    free(o->user);
    wipe_free(o->password);
    free(o->tls_ca_file);
    free(o->tls_ca_dir);
    free(o->tls_cert_file);
    free(o->tls_key_file);
    free(o->tls_server_name);
    memset(o, 0, sizeof(*o));
}

/* Decodes %XX in [s, s+len); refuses bad escapes and NUL. NULL on error. */
static char *pct_decode(const char *s, size_t len)
{
    char *out = len < SIZE_MAX ? malloc(len + 1) : NULL;
    size_t j = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[j++] = s[i];
            continue;
        }
        if (i + 2 >= len)
            goto bad;
        int hi = ck_hex_digit((unsigned char)s[i + 1]);
        int lo = hi < 0 ? -1 : ck_hex_digit((unsigned char)s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            goto bad;
        out[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[j] = '\0';
    return out;
bad:
    OPENSSL_cleanse(out, len + 1);
    free(out);
    return NULL;
}

/* Parses decimal digits [s, s+len) into lo..hi. */
static int parse_num(const char *s, size_t len, long lo, long hi, long *out)
{
    long v = 0;

    if (len == 0 || len > 6)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int host_char_ok(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* One "host[:port]" or "[v6][:port]" in [s, s+len). */
static int parse_hostport(const char *s, size_t len, int default_port, ck_redis_addr *a,
                          char *err, size_t errlen)
{
    const char *hs = s, *he, *ps = NULL;
    size_t plen = 0;
    long port = default_port;

    if (len > 0 && s[0] == '[') {
        he = memchr(s, ']', len);
        if (!he) {
            ck_redis_set_err(err, errlen, "unterminated '[' in host");
            return -1;
        }
        hs = s + 1;
        if ((size_t)(he + 1 - s) < len) {
            if (he[1] != ':') {
                ck_redis_set_err(err, errlen, "unexpected text after ']' in host");
                return -1;
            }
            ps = he + 2;
            plen = len - (size_t)(ps - s);
        }
    } else {
        he = memchr(s, ':', len);
        if (he) {
            ps = he + 1;
            plen = len - (size_t)(ps - s);
        } else {
            he = s + len;
        }
        for (const char *p = hs; p < he; p++) {
            if (!host_char_ok((unsigned char)*p)) {
                ck_redis_set_err(err, errlen, "invalid character in host name");
                return -1;
            }
        }
    }
    if (he == hs) {
        ck_redis_set_err(err, errlen, "empty host");
        return -1;
    }
    if (he - hs > 253) {
        ck_redis_set_err(err, errlen, "host name too long");
        return -1;
    }
    if (ps && parse_num(ps, plen, 1, 65535, &port) < 0) {
        ck_redis_set_err(err, errlen, "port must be a number in 1..65535");
        return -1;
    }
    a->host = strndup(hs, (size_t)(he - hs));
    if (!a->host) {
        ck_redis_set_err(err, errlen, "out of memory");
        return -1;
    }
    if (s[0] == '[') {
        struct in6_addr in6;
        if (inet_pton(AF_INET6, a->host, &in6) != 1) {
            ck_redis_set_err(err, errlen, "invalid IPv6 address in brackets");
            return -1;
        }
    }
    a->port = (int)port;
    return 0;
}

static int parse_userinfo(ck_redis_opts *o, const char *s, size_t len, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', len);
    size_t ulen = colon ? (size_t)(colon - s) : len;

    if (ulen > 0) {
        o->user = pct_decode(s, ulen);
        if (!o->user) {
            ck_redis_set_err(err, errlen, "bad percent-encoding in user name");
            return -1;
        }
    }
    if (colon && (size_t)(colon + 1 - s) < len) {
        o->password = pct_decode(colon + 1, len - ulen - 1);
        if (!o->password) {
            ck_redis_set_err(err, errlen, "bad percent-encoding in password");
            return -1;
        }
    }
    return 0;
}

static int parse_hosts(ck_redis_opts *o, const char *s, size_t len, int sentinel,
                       char *err, size_t errlen)
{
    size_t n = 1;

    for (size_t i = 0; i < len; i++)
        n += s[i] == ',';
    if (n > 1 && !sentinel && !o->cluster) {
        ck_redis_set_err(err, errlen, "several hosts need redis+sentinel:// or redis+cluster://");
        return -1;
    }
    if (n > 64) {
        ck_redis_set_err(err, errlen, o->cluster ? "too many seed nodes (at most 64)"
                                        : "too many sentinels");
        return -1;
    }
    o->addrs = calloc(n, sizeof(*o->addrs));
    if (!o->addrs) {
        ck_redis_set_err(err, errlen, "out of memory");
        return -1;
    }
    while (o->naddrs < n) {
        const char *comma = memchr(s, ',', len);
        size_t part = comma ? (size_t)(comma - s) : len;

        o->naddrs++;
        if (parse_hostport(s, part, sentinel ? 26379 : 6379, &o->addrs[o->naddrs - 1],
                           err, errlen) < 0)
            return -1;
        if (comma) {
            len -= part + 1;
            s = comma + 1;
        }
    }
    return 0;
}

static int parse_db(ck_redis_opts *o, const char *s, size_t len, char *err, size_t errlen)
{
    long db;

    if (len == 0)
        return 0;
    if (parse_num(s, len, 0, 15, &db) < 0) {
        ck_redis_set_err(err, errlen, "database must be a number in 0..15");
        return -1;
    }
    o->db = (int)db;
    return 0;
}

static int parse_path(ck_redis_opts *o, const char *s, int sentinel, char *err, size_t errlen)
{
    const char *slash;
    size_t len;

    if (*s == '/')
        s++;
    if (o->cluster) {
        /* A cluster has only database 0, and the hosts are only seeds. */
        if (*s) {
            ck_redis_set_err(err, errlen, "redis+cluster:// takes no database or path after the "
                    "hosts (a cluster has only database 0)");
            return -1;
        }
        return 0;
    }
    if (!sentinel)
        return parse_db(o, s, strlen(s), err, errlen);
    slash = strchr(s, '/');
    len = slash ? (size_t)(slash - s) : strlen(s);
    if (len == 0) {
        ck_redis_set_err(err, errlen, "redis+sentinel:// needs a master name after the hosts");
        return -1;
    }
    o->master_name = pct_decode(s, len);
    if (!o->master_name) {
        ck_redis_set_err(err, errlen, "bad percent-encoding in master name");
        return -1;
    }
    for (const char *p = o->master_name; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            ck_redis_set_err(err, errlen, "master name has a space or control character");
            return -1;
        }
    }
    return slash ? parse_db(o, slash + 1, strlen(slash + 1), err, errlen) : 0;
}

static int parse_url(ck_redis_opts *o, const char *url, char *err, size_t errlen)
{
    static const struct { const char *prefix; int tls, sentinel, cluster; } schemes[] = {
        { "redis://", 0, 0, 0 },
        { "rediss://", 1, 0, 0 },
        { "redis+sentinel://", 0, 1, 0 },
        { "rediss+sentinel://", 1, 1, 0 },
        { "redis+cluster://", 0, 0, 1 },
        { "rediss+cluster://", 1, 0, 1 },
    };
    const char *s = NULL, *auth_end, *at = NULL;
    int sentinel = 0;

    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncasecmp(url, schemes[i].prefix, n) == 0) {
            s = url + n;
            o->tls = schemes[i].tls;
            sentinel = schemes[i].sentinel;
            o->cluster = schemes[i].cluster;
            break;
        }
    }
    if (!s) {
        ck_redis_set_err(err, errlen, "URL must start with redis://, rediss://, redis+sentinel:// "
                "or redis+cluster:// (rediss+ for TLS)");
        return -1;
    }
    if (strpbrk(s, "?#")) {
        ck_redis_set_err(err, errlen, "query strings and fragments are not supported in the URL");
        return -1;
    }
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            ck_redis_set_err(err, errlen, "URL contains a space or control character");
            return -1;
        }
    }
    auth_end = s + strcspn(s, "/");
    for (const char *p = s; p < auth_end; p++) {
        if (*p == '@')
            at = p;
    }
    if (at) {
        if (parse_userinfo(o, s, (size_t)(at - s), err, errlen) < 0)
            return -1;
        s = at + 1;
    }
    if (parse_hosts(o, s, (size_t)(auth_end - s), sentinel, err, errlen) < 0)
        return -1;
    return parse_path(o, auth_end, sentinel, err, errlen);
}

/* Reads a password file under the secret-file policy (ck_secfile.h); strips one line end. */
static int read_password_file(const char *path, char **out, char *err, size_t errlen)
{
    char *data = NULL, ferr[512];
    size_t len = 0, n;
    int rc = -1;

    if (ck_secfile_read(path, CK_FILE_SECRET, 1023, &data, &len, ferr, sizeof(ferr)) != 0) {
        ck_redis_set_err(err, errlen, "redis_password_file %s", ferr);
        return -1;
    }
    n = len;
    while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
        n--;
    if (n == 0 || memchr(data, '\0', n)) {
        ck_redis_set_err(err, errlen, "redis_password_file %s: empty or binary", path);
        goto out;
    }
    *out = strndup(data, n);
    if (!*out) {
        ck_redis_set_err(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    ck_secfile_free(data, len);
    return rc;
}

static int dup_opt(char **dst, const char *src, char *err, size_t errlen)
{
    if (!src || *dst)
        return 0;
    *dst = strdup(src);
    if (!*dst) {
        ck_redis_set_err(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int apply_config(ck_redis_opts *o, const ck_config *cfg, char *err, size_t errlen)
{
    o->connect_timeout_ms = 2000;
    o->command_timeout_ms = 1000;
    o->tls_verify = 1;
    o->tls_min_version = TLS1_3_VERSION;
    if (!cfg)
        return 0;
    if (cfg->connect_timeout_ms > 0)
        o->connect_timeout_ms = cfg->connect_timeout_ms;
    if (cfg->command_timeout_ms > 0)
        o->command_timeout_ms = cfg->command_timeout_ms;
    o->tls_verify = cfg->tls_verify;
    if (cfg->tls_min_version) {
        if (strcmp(cfg->tls_min_version, "1.2") == 0) {
            o->tls_min_version = TLS1_2_VERSION;
        } else if (strcmp(cfg->tls_min_version, "1.3") != 0) {
            ck_redis_set_err(err, errlen, "tls_min_version must be \"1.2\" or \"1.3\"");
            return -1;
        }
    }
    if (dup_opt(&o->user, cfg->redis_user, err, errlen) < 0 ||
        dup_opt(&o->password, cfg->redis_password, err, errlen) < 0 ||
        dup_opt(&o->tls_ca_file, cfg->tls_ca_file, err, errlen) < 0 ||
        dup_opt(&o->tls_ca_dir, cfg->tls_ca_dir, err, errlen) < 0 ||
        dup_opt(&o->tls_cert_file, cfg->tls_cert_file, err, errlen) < 0 ||
        dup_opt(&o->tls_key_file, cfg->tls_key_file, err, errlen) < 0 ||
        dup_opt(&o->tls_server_name, cfg->tls_server_name, err, errlen) < 0)
        return -1;
    if (!!o->tls_cert_file != !!o->tls_key_file) {
        ck_redis_set_err(err, errlen, "tls_cert_file and tls_key_file go together");
        return -1;
    }
    if (!o->password && cfg->redis_password_file &&
        read_password_file(cfg->redis_password_file, &o->password, err, errlen) < 0)
        return -1;
    return 0;
}

int ck_redis_opts_from_url(ck_redis_opts *o, const char *url, const ck_config *cfg,
                           char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    if (!url) {
        ck_redis_set_err(err, errlen, "no Redis URL");
        return -1;
    }
    if (parse_url(o, url, err, errlen) < 0 || apply_config(o, cfg, err, errlen) < 0) {
        ck_redis_opts_free(o);
        return -1;
    }
    return 0;
}

/* ---- the reply parser ---- */

/*
 * hiredis 0.14 believes a server's array length and allocates for it at
 * once: the 14 bytes "*2147483647\r\n" ask calloc for 16 GiB, and nested
 * headers multiply that. No reply checkup reads comes near this bound (a
 * user's session list is 2 x max_per_user <= 20000), so a larger one,
 * counted over all the arrays of one reply, is refused as a protocol error.
 */
#define REPLY_ELEMENTS_MAX  (1 << 20)

typedef struct reply_budget {
    size_t used;        /* elements allocated for the reply being read */
    int refused;
} reply_budget;

static redisReplyObjectFunctions bounded_fns;
static void *(*hiredis_create_array)(const redisReadTask *, int);
static pthread_once_t bounded_once = PTHREAD_ONCE_INIT;

static void *bounded_create_array(const redisReadTask *task, int elements)
{
    reply_budget *b = task->privdata;

    if (!task->parent)
        b->used = 0;    /* a new reply starts */
    if (elements > REPLY_ELEMENTS_MAX || b->used + (size_t)elements > REPLY_ELEMENTS_MAX) {
        b->refused = 1;
        return NULL;    /* hiredis reports it as an error */
    }
    b->used += (size_t)elements;
    return hiredis_create_array(task, elements);
}

static void bounded_init(void)
{
    redisReader *tmp = redisReaderCreate();

    /* hiredis does not export its default functions: copy them from a reader. */
    if (!tmp)
        return;
    bounded_fns = *tmp->fn;
    hiredis_create_array = bounded_fns.createArray;
    bounded_fns.createArray = bounded_create_array;
    redisReaderFree(tmp);
}

static redisReader *reader_new(void)
{
    redisReader *rd;
    reply_budget *b;

    if (pthread_once(&bounded_once, bounded_init) != 0 || !hiredis_create_array)
        return NULL;
    b = calloc(1, sizeof(*b));
    rd = b ? redisReaderCreateWithFunctions(&bounded_fns) : NULL;
    if (!rd) {
        free(b);
        return NULL;
    }
    rd->privdata = b;
    return rd;
}

static void reader_free(redisReader *rd)
{
    if (!rd)
        return;
    free(rd->privdata);
    redisReaderFree(rd);
}

/* Says why the reader failed, naming our own bound rather than "Out of memory". */
static void reader_error(ck_redis *r, const redisReader *rd)
{
    const reply_budget *b = rd->privdata;

    if (b && b->refused)
        ck_redis_set_error(r, "protocol error: a reply with more than %d array elements",
                           REPLY_ELEMENTS_MAX);
    else
        ck_redis_set_error(r, "protocol error: %s", rd->errstr);
}

/* ---- the socket ---- */

void ck_conn_init(ck_conn *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* Drops the connection. graceful = 0 in a forked child: write nothing. */
void ck_conn_close(ck_conn *c, int graceful)
{
    ck_tls_close(c, graceful);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    reader_free(c->reader);
    c->reader = NULL;
    c->used = 0;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    int rc;

    do {
        rc = poll(&pfd, 1, ms_left(deadline));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

int ck_conn_wait(ck_conn *c, short events, int64_t deadline)
{
    return wait_fd(c->fd, events, deadline);
}

static int tcp_connect_one(const struct addrinfo *ai, int64_t deadline)
{
    int fd, one = 1, soerr = 0;
    socklen_t sl = sizeof(soerr);

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS)
            goto fail;
        if (wait_fd(fd, POLLOUT, deadline) < 0)
            goto fail;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            goto fail;
        if (soerr) {
            errno = soerr;
            goto fail;
        }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    return fd;
fail:
    soerr = errno;
    close(fd);
    errno = soerr;
    return -1;
}

/* TCP (and TLS) connect to host:port within the connect timeout. */
/*
 * A plain connection blocks its reads for at most the command timeout
 * (every other call passes MSG_DONTWAIT). TLS keeps a non-blocking socket:
 * OpenSSL reads it on its own.
 */
static void conn_set_wait(ck_conn *c, int timeout_ms)
{
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    int fl = fcntl(c->fd, F_GETFL);

    if (timeout_ms <= 0 || fl < 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return;
    c->wait_ms = timeout_ms;
}

int ck_conn_open(ck_redis *r, ck_conn *c, const char *host, int port)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    int64_t deadline = ck_redis_now_ms() + r->o.connect_timeout_ms;
    char portstr[8];
    int gai, saved = ECONNREFUSED;

    ck_conn_init(c);
    set_peer(c->peer, sizeof(c->peer), host, port);
    snprintf(portstr, sizeof(portstr), "%d", port);
    gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        ck_redis_set_error(r, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    for (struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next) {
        c->fd = tcp_connect_one(ai, deadline);
        if (c->fd < 0)
            saved = errno;
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        if (saved == ETIMEDOUT)
            ck_redis_set_error(r, "connect timed out after %d ms", r->o.connect_timeout_ms);
        else
            ck_redis_set_error(r, "connect: %s", strerror(saved));
        return -1;
    }
    c->reader = reader_new();
    if (!c->reader) {
        ck_redis_set_error(r, "out of memory");
        goto fail;
    }
    if (r->o.tls && ck_tls_handshake(r, c, host, deadline) < 0)
        goto fail;
    if (!r->o.tls)
        conn_set_wait(c, r->o.command_timeout_ms);
    return 0;
fail:
    ck_conn_close(c, 0);
    return -1;
}

static ssize_t conn_write_some(ck_redis *r, ck_conn *c, const char *buf, size_t len,
                               int64_t deadline)
{
    for (;;) {
        ssize_t n;

        if (c->ssl)
            return ck_tls_write(r, c, buf, len, deadline);
        n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (ck_conn_wait(c, POLLOUT, deadline) < 0)
            return -1;
    }
}

static ssize_t conn_read_some(ck_redis *r, ck_conn *c, char *buf, size_t len,
                              int64_t deadline)
{
    for (;;) {
        ssize_t n;

        if (c->ssl)
            return ck_tls_read(r, c, buf, len, deadline);
        n = recv(c->fd, buf, len, MSG_DONTWAIT);
        if (n > 0)
            return n;
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (ck_conn_wait(c, POLLIN, deadline) < 0)
            return -1;
    }
}

/*
 * The first read of a reply on a plain connection: one recv that sleeps
 * until the reply comes or SO_RCVTIMEO (the command timeout) passes, where
 * poll + recv took two system calls per command.
 */
static ssize_t conn_read_wait(ck_conn *c, char *buf, size_t len)
{
    ssize_t n;

    do
        n = recv(c->fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        errno = ECONNRESET;
    else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        errno = ETIMEDOUT;
    return n > 0 ? n : -1;
}

static void io_error(ck_redis *r, const char *what, int timeout_ms)
{
    if (errno == ETIMEDOUT)
        ck_redis_set_error(r, "command timed out after %d ms", timeout_ms);
    else if (errno == ECONNRESET)
        ck_redis_set_error(r, "connection closed by the server while %s", what);
    else if (errno == EPROTO)
        ; /* the TLS layer already said why */
    else
        ck_redis_set_error(r, "%s: %s", what, strerror(errno));
}

/*
 * Writes buf and reads n replies within timeout_ms. On a transport error
 * *sent_nothing tells whether the server can have seen any of it, and
 * c->err_no holds the errno.
 */
int ck_conn_exchange(ck_redis *r, ck_conn *c, const char *buf, size_t len, size_t n,
                     redisReply **replies, int timeout_ms, int *sent_nothing)
{
    int64_t deadline = ck_redis_now_ms() + timeout_ms;
    size_t off = 0, got = 0;
    char rbuf[16384];
    int first;

    *sent_nothing = 1;
    while (off < len) {
        ssize_t w = conn_write_some(r, c, buf + off, len - off, deadline);
        if (w < 0) {
            c->err_no = errno;
            io_error(r, "sending", timeout_ms);
            return -1;
        }
        *sent_nothing = 0;
        off += (size_t)w;
    }
    /*
     * The reply cannot be there yet: wait for it instead of trying a read
     * that would only say EAGAIN (TLS may hold decrypted bytes: it reads).
     */
    first = !c->ssl;
    if (first && c->wait_ms != timeout_ms && ck_conn_wait(c, POLLIN, deadline) < 0) {
        c->err_no = errno;
        io_error(r, "reading", timeout_ms);
        return -1;
    }
    while (got < n) {
        void *reply = NULL;
        ssize_t rd;

        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            c->err_no = EPROTO;
            reader_error(r, c->reader);
            return -1;
        }
        if (reply) {
            replies[got++] = reply;
            continue;
        }
        if (first && c->wait_ms == timeout_ms)
            rd = conn_read_wait(c, rbuf, sizeof(rbuf));
        else
            rd = conn_read_some(r, c, rbuf, sizeof(rbuf), deadline);
        first = 0;
        if (rd < 0) {
            c->err_no = errno;
            io_error(r, "reading", timeout_ms);
            return -1;
        }
        if (redisReaderFeed(c->reader, rbuf, (size_t)rd) != REDIS_OK) {
            c->err_no = EPROTO;
            reader_error(r, c->reader);
            return -1;
        }
    }
    c->last_used_ms = ck_redis_now_ms();
    return 0;
}

/*
 * A reused connection may have been closed by the server while idle (it
 * restarted, or timed the client out). Noticing that before writing means
 * the command is sent on a fresh connection and never twice.
 */
#define IDLE_CHECK_MS 100

static int conn_idle_ok(ck_conn *c);

int ck_conn_reusable(ck_conn *c)
{
    /* A connection in steady use needs no idle check (a system call). */
    return ck_redis_now_ms() - c->last_used_ms < IDLE_CHECK_MS || conn_idle_ok(c);
}

static int conn_idle_ok(ck_conn *c)
{
    struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
    char b;
    ssize_t n;

    if (poll(&pfd, 1, 0) <= 0)
        return 1;
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
        return 0;
    if (c->ssl)
        return ck_tls_idle_ok(c);
    n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    /* Unsolicited bytes on an idle RESP2 connection mean we lost track. */
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- the handle ---- */

ck_redis *ck_redis_new(ck_redis_opts *o)
{
    ck_redis *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->o = *o;
    memset(o, 0, sizeof(*o));
    /* Options built by hand may leave these out; never wait forever. */
    if (r->o.connect_timeout_ms <= 0)
        r->o.connect_timeout_ms = 2000;
    if (r->o.command_timeout_ms <= 0)
        r->o.command_timeout_ms = 1000;
    ck_conn_init(&r->c);
    ck_forkcheck_init(&r->owner);
    if (r->o.cluster && ck_cluster_new(r) < 0) {
        ck_redis_free(r);
        return NULL;
    }
    return r;
}

void ck_redis_free(ck_redis *r)
{
    if (!r)
        return;
    ck_conn_close(&r->c, !ck_forkcheck_forked(&r->owner));
    ck_cluster_free(r, !ck_forkcheck_forked(&r->owner));
    ck_forkcheck_free(&r->owner);
    ck_tls_free_ctx(r);
    ck_redis_opts_free(&r->o);
    free(r);
}

unsigned long ck_redis_serial(const ck_redis *r)
{
    /* On a cluster: the connection the last command went over. */
    return r->cl ? ck_cluster_serial(r) : r->serial;
}

int ck_redis_is_cluster(const ck_redis *r)
{
    return r->cl != NULL;
}

int ck_redis_primary_count(ck_redis *r)
{
    return r->cl ? ck_cluster_primary_count(r) : 1;
}

int ck_redis_command_on_primary(ck_redis *r, int i, int argc, const char **argv,
                                const size_t *argvlen, redisReply **reply)
{
    if (r->cl)
        return ck_cluster_on_primary(r, i, argc, argv, argvlen, reply);
    if (i != 0) {
        *reply = NULL;
        ck_redis_set_error(r, "no primary number %d (one server)", i);
        return -1;
    }
    return ck_redis_command(r, argc, argv, argvlen, reply);
}

int ck_redis_cluster_shape(ck_redis *r, ck_redis_shape *s)
{
    if (!r->cl) {
        memset(s, 0, sizeof(*s));
        ck_redis_set_error(r, "not a redis+cluster:// store");
        return -1;
    }
    return ck_cluster_read_shape(r, s);
}

const char *ck_redis_errstr(const ck_redis *r)
{
    return r->errstr;
}

const char *ck_redis_peer(const ck_redis *r)
{
    return r->peer;
}

static void free_replies(redisReply **replies, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (replies[i])
            freeReplyObject(replies[i]);
        replies[i] = NULL;
    }
}

/* Sends one setup command (AUTH, SELECT, ROLE...) on c; 0 with *reply. */
int ck_conn_command(ck_redis *r, ck_conn *c, int argc, const char **argv,
                    redisReply **reply)
{
    char *cmd = NULL;
    int len, rc, sent_nothing;

    len = redisFormatCommandArgv(&cmd, argc, argv, NULL);
    if (len < 0) {
        ck_redis_set_error(r, "out of memory");
        return -1;
    }
    *reply = NULL;
    rc = ck_conn_exchange(r, c, cmd, (size_t)len, 1, reply, r->o.command_timeout_ms,
                          &sent_nothing);
    /* It may be an AUTH: do not leave the password in freed memory. */
    OPENSSL_cleanse(cmd, (size_t)len);
    redisFreeCommand(cmd);
    return rc;
}

/* AUTH and SELECT on a fresh connection to the data server. */
int ck_conn_setup(ck_redis *r, ck_conn *c)
{
    redisReply *reply = NULL;
    char dbstr[4];
    int rc = -1;

    if (r->o.password) {
        const char *auth[3] = { "AUTH", r->o.user ? r->o.user : r->o.password,
                                r->o.password };
        if (ck_conn_command(r, c, r->o.user ? 3 : 2, auth, &reply) < 0)
            return -1;
        if (reply->type == REDIS_REPLY_ERROR) {
            /* The server's text names neither the user's password nor ours. */
            ck_redis_set_error(r, "AUTH%s%s failed: %.120s", r->o.user ? " as " : "",
                               r->o.user ? r->o.user : "", reply->str);
            goto out;
        }
        freeReplyObject(reply);
        reply = NULL;
    }
    if (r->o.db != 0) {
        const char *sel[2] = { "SELECT", dbstr };
        snprintf(dbstr, sizeof(dbstr), "%d", r->o.db);
        if (ck_conn_command(r, c, 2, sel, &reply) < 0)
            return -1;
        if (reply->type == REDIS_REPLY_ERROR) {
            ck_redis_set_error(r, "SELECT %d failed: %.120s", r->o.db, reply->str);
            goto out;
        }
    }
    rc = 0;
out:
    if (reply)
        freeReplyObject(reply);
    return rc;
}

static void note_failure(ck_redis *r)
{
    if (r->attempt < 1000)
        r->attempt++;
    r->last_fail_ms = ck_redis_now_ms();
}

/* After a transport failure there is nothing worth saying to the server. */
static void drop(ck_redis *r)
{
    ck_conn_close(&r->c, 0);
}

/* Connects to the server (or resolves the primary), honouring the backoff. */
static int ensure_connected(ck_redis *r)
{
    int64_t delay, waited;

    if (ck_forkcheck_forked(&r->owner)) {
        /* The parent owns the socket and the TLS state: write nothing. */
        ck_conn_close(&r->c, 0);
        ck_forkcheck_arm(&r->owner);
        r->attempt = 0;
    }
    if (r->c.fd >= 0) {
        if (ck_conn_reusable(&r->c))
            return 0;
        drop(r);
    }
    if (r->attempt > 0) {
        delay = (int64_t)r->attempt * 50;
        if (delay > 2000)
            delay = 2000;
        waited = ck_redis_now_ms() - r->last_fail_ms;
        if (waited < delay) {
            ck_redis_set_error(r, "reconnecting in %lld ms (last error: %.200s)",
                               (long long)(delay - waited), r->lasterr);
            return -1;
        }
    }
    if (ck_redis_connect(r) < 0) {
        snprintf(r->lasterr, sizeof(r->lasterr), "%s", r->errstr + r->errmsg_off);
        note_failure(r);
        return -1;
    }
    r->attempt = 0;
    r->serial++;
    return 0;
}

/* Plain server: connect, AUTH, SELECT. Sentinel lives in ck_sentinel_connect. */
int ck_redis_connect(ck_redis *r)
{
    if (r->o.naddrs == 0 || !r->o.addrs) {
        ck_redis_set_error(r, "no server address configured");
        return -1;
    }
    if (r->o.master_name)
        return ck_sentinel_connect(r);
    set_peer(r->peer, sizeof(r->peer), r->o.addrs[0].host, r->o.addrs[0].port);
    if (ck_conn_open(r, &r->c, r->o.addrs[0].host, r->o.addrs[0].port) < 0)
        return -1;
    if (ck_conn_setup(r, &r->c) < 0) {
        ck_conn_close(&r->c, 1);
        return -1;
    }
    return 0;
}

static int is_failover_reply(const redisReply *rep)
{
    return rep && rep->type == REDIS_REPLY_ERROR && rep->str &&
           (strncmp(rep->str, "READONLY", 8) == 0 || strncmp(rep->str, "LOADING", 7) == 0 ||
            strncmp(rep->str, "MASTERDOWN", 10) == 0);
}

static int send_buf(ck_redis *r, const char *buf, size_t len, size_t n, redisReply **replies,
                    int extra_ms)
{
    int reused, sent_nothing, rc;
    int timeout_ms = r->o.command_timeout_ms + extra_ms;

    if (ensure_connected(r) < 0)
        return -1;
    reused = r->c.used;
    rc = ck_conn_exchange(r, &r->c, buf, len, n, replies, timeout_ms, &sent_nothing);
    if (rc < 0 && reused && sent_nothing &&
        (r->c.err_no == EPIPE || r->c.err_no == ECONNRESET)) {
        /* The server went away while we were idle; nothing reached it. */
        free_replies(replies, n);
        drop(r);
        if (ensure_connected(r) < 0)
            return -1;
        rc = ck_conn_exchange(r, &r->c, buf, len, n, replies, timeout_ms, &sent_nothing);
    }
    if (rc < 0) {
        free_replies(replies, n);
        snprintf(r->lasterr, sizeof(r->lasterr), "%s", r->errstr + r->errmsg_off);
        drop(r);
        note_failure(r);
        return -1;
    }
    r->c.used = 1;
    for (size_t i = 0; i < n; i++) {
        if (is_failover_reply(replies[i])) {
            /* The server is no longer the primary: find it again next time. */
            ck_conn_close(&r->c, 1);
            break;
        }
    }
    return 0;
}

int ck_redis_pipeline(ck_redis *r, size_t n, const int *argc, const char ***argv,
                      const size_t **argvlen, redisReply **replies)
{
    return ck_redis_pipeline_ext(r, n, argc, argv, argvlen, replies, 0);
}

int ck_redis_pipeline_ext(ck_redis *r, size_t n, const int *argc, const char ***argv,
                          const size_t **argvlen, redisReply **replies, int extra_ms)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;

    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        /* Redis answers nothing to an empty command: we would wait in vain. */
        if (argc[i] < 1 || !argv[i]) {
            ck_redis_set_error(r, "empty command in position %zu", i);
            return -1;
        }
    }
    if (r->cl)
        return ck_cluster_pipeline(r, n, argc, argv, argvlen, replies, extra_ms);
    if (n == 1) {
        /* The common case: send the formatted command as it is. */
        int clen = redisFormatCommandArgv(&buf, argc[0], argv[0], argvlen ? argvlen[0] : NULL);

        if (clen < 0) {
            ck_redis_set_error(r, "out of memory");
            return -1;
        }
        rc = send_buf(r, buf, (size_t)clen, 1, replies, extra_ms);
        redisFreeCommand(buf);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        char *cmd = NULL;
        int clen = redisFormatCommandArgv(&cmd, argc[i], argv[i],
                                          argvlen ? argvlen[i] : NULL);
        if (clen < 0) {
            ck_redis_set_error(r, "out of memory");
            goto out;
        }
        if (len + (size_t)clen > cap) {
            size_t ncap = (len + (size_t)clen) * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                redisFreeCommand(cmd);
                ck_redis_set_error(r, "out of memory");
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        memcpy(buf + len, cmd, (size_t)clen);
        len += (size_t)clen;
        redisFreeCommand(cmd);
    }
    rc = send_buf(r, buf, len, n, replies, extra_ms);
out:
    free(buf);
    return rc;
}

int ck_redis_command(ck_redis *r, int argc, const char **argv, const size_t *argvlen,
                     redisReply **reply)
{
    const char **argvs[1] = { argv };
    const size_t *lens[1] = { argvlen };

    return ck_redis_pipeline(r, 1, &argc, argvs, lens, reply);
}
