/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * guard.c - connections before they are requests: at most
 * per_ip_connection_limit at once from one client address (trusted
 * proxies exempt: nginx opens many from 127.0.0.1), and a deadline for a
 * complete request (head and body), so a client that trickles a header
 * line or a body byte now and then cannot hold a connection
 * (libmicrohttpd's own timeout is an idle timeout that every byte resets).
 *
 * libmicrohttpd tells us of each connection (MHD_OPTION_NOTIFY_CONNECTION)
 * and asks before accepting one (the accept policy); a sweeper thread
 * shuts down the sockets of heads past their deadline, and libmicrohttpd
 * then closes them as it would any connection its peer ended. The entry of
 * a connection leaves the list (under the lock) before libmicrohttpd
 * closes its socket, so the sweeper never touches a socket number that
 * could have been reused.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>

#include "checkupd.h"

typedef struct conn {
    struct conn *prev, *next;
    int family;
    unsigned char addr[16];
    MHD_socket fd;
    long long start_ms;         /* when the current request head began */
    int head_done;              /* the request arrived: the deadline is off */
    int cut;                    /* shut down by the sweeper */
    int refused;                /* answered 400 here: closed after a grace */
} conn;

struct ckd_guard {
    const ckd *d;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int running, stop;
    conn *head;
    unsigned long refused, cut, garbage;    /* since the last log line */
    long long last_log_ms;
};

#define SWEEP_MS 250
#define REFUSED_GRACE_MS 1000   /* for the client to read our 400 and close */
#define PEEK_MAX 256
#define LOG_EVERY_MS 10000

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Refusals are counted and logged at most every 10 s: a flood is one line. */
static void log_counts(ckd_guard *g, long long now)
{
    unsigned long refused, cut, garbage;

    pthread_mutex_lock(&g->mu);
    refused = g->refused;
    cut = g->cut;
    garbage = g->garbage;
    if ((refused == 0 && cut == 0 && garbage == 0) || now - g->last_log_ms < LOG_EVERY_MS) {
        pthread_mutex_unlock(&g->mu);
        return;
    }
    g->refused = g->cut = g->garbage = 0;
    g->last_log_ms = now;
    pthread_mutex_unlock(&g->mu);
    ckd_log(g->d, LOG_WARNING,
            "connections refused over per_ip_connection_limit: %lu; closed past "
            "request_head_timeout: %lu; not HTTP: %lu", refused, cut, garbage);
}

/* RFC 9110 tchar. */
static int tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/*
 * Whether the first bytes can begin a request line (RFC 9112 3):
 * method SP request-target SP HTTP-version CRLF, after any empty lines.
 * Only as far as the bytes go: a prefix of a good line is good.
 */
static int line_prefix_ok(const unsigned char *b, size_t n)
{
    static const char ver[] = "HTTP/";
    size_t i = 0, start;

    while (i < n && (b[i] == '\r' || b[i] == '\n'))
        i++;
    for (start = i; i < n && tchar(b[i]); i++)
        ;
    if (i == n)
        return 1;
    if (i == start || b[i] != ' ')
        return 0;
    for (start = ++i; i < n && b[i] > ' ' && b[i] < 0x7f; i++)
        ;
    if (i == n)
        return 1;
    if (i == start || b[i] != ' ')
        return 0;
    for (start = ++i; i < n && i - start < sizeof(ver) - 1; i++)
        if (b[i] != (unsigned char)ver[i - start])
            return 0;
    for (; i < n && b[i] != '\r'; i++)
        if (!((b[i] >= '0' && b[i] <= '9') || b[i] == '.'))
            return 0;
    return i + 1 >= n || b[i + 1] == '\n';
}

/*
 * What the client sent before libmicrohttpd read anything (the listening
 * socket defers accept until data arrives): bytes that cannot start a
 * request line get an immediate 400 and the end of our side; the sweeper
 * closes the connection after a grace in which the client reads it.
 */
static int refuse_garbage(conn *c)
{
    static const char resp[] =
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 27\r\n\r\n"
        "400 malformed request line\n";
    unsigned char buf[PEEK_MAX];
    ssize_t n;

    if (c->family == AF_UNIX)
        return 0;
    n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0 || line_prefix_ok(buf, (size_t)n))
        return 0;
    if (send(c->fd, resp, sizeof(resp) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        return 0;
    shutdown(c->fd, SHUT_WR);
    /* Unread bytes at close would turn our FIN into a reset. */
    while (recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
    return 1;
}

static void *sweeper(void *arg)
{
    ckd_guard *g = arg;
    long long limit = (long long)g->d->dc.request_head_timeout * 1000;

    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts;
        long long now = now_ms();

        for (conn *c = g->head; c; c = c->next) {
            if (c->head_done || c->cut)
                continue;
            if (c->refused ? now - c->start_ms < REFUSED_GRACE_MS
                           : limit <= 0 || now - c->start_ms < limit)
                continue;
            /* libmicrohttpd sees the end of the stream and closes it. */
            shutdown(c->fd, SHUT_RDWR);
            c->cut = 1;
            g->cut++;
        }
        pthread_mutex_unlock(&g->mu);
        log_counts(g, now);
        pthread_mutex_lock(&g->mu);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SWEEP_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!g->stop)
            pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

ckd_guard *ckd_guard_start(const ckd *d)
{
    ckd_guard *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    g->d = d;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    if (pthread_create(&g->th, NULL, sweeper, g) != 0) {
        ckd_log(d, LOG_ERR, "cannot start the connection sweeper: %s", strerror(errno));
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return NULL;
    }
    g->running = 1;
    return g;
}

/* After MHD_stop_daemon: every connection is closed, the list is empty. */
void ckd_guard_stop(ckd_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    if (g->running)
        pthread_join(g->th, NULL);
    while (g->head) {
        conn *c = g->head;

        g->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

static int exempt(const ckd *d, int family, const unsigned char *addr)
{
    return family == AF_UNIX || d->dc.per_ip_limit <= 0 ||
           ckd_net_list_match(d->dc.proxies, d->dc.nproxies, family, addr);
}

enum MHD_Result ckd_guard_accept(void *cls, const struct sockaddr *sa, socklen_t salen)
{
    ckd_guard *g = cls;
    unsigned char addr[16];
    int family, n = 0;

    (void)salen;
    ckd_sockaddr_net(sa, &family, addr);
    if (exempt(g->d, family, addr))
        return MHD_YES;
    pthread_mutex_lock(&g->mu);
    for (conn *c = g->head; c && n < g->d->dc.per_ip_limit; c = c->next)
        if (c->family == family && memcmp(c->addr, addr, 16) == 0 && !c->cut)
            n++;
    if (n >= g->d->dc.per_ip_limit)
        g->refused++;
    pthread_mutex_unlock(&g->mu);
    return n >= g->d->dc.per_ip_limit ? MHD_NO : MHD_YES;
}

void ckd_guard_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
    ckd_guard *g = cls;
    const union MHD_ConnectionInfo *ci;
    conn *c = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return;     /* not tracked: only the idle timeout applies */
        ckd_peer_net(mc, &c->family, c->addr);
        ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = ci ? ci->connect_fd : MHD_INVALID_SOCKET;
        c->start_ms = now_ms();
        c->head_done = c->fd == MHD_INVALID_SOCKET;
        c->refused = !c->head_done && refuse_garbage(c);
        pthread_mutex_lock(&g->mu);
        g->garbage += (unsigned long)c->refused;
        c->next = g->head;
        if (g->head)
            g->head->prev = c;
        g->head = c;
        pthread_mutex_unlock(&g->mu);
        *socket_context = c;
        return;
    }
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->mu);
    free(c);
    *socket_context = NULL;
}

static void mark(const ckd *d, struct MHD_Connection *mc, int done)
{
    const union MHD_ConnectionInfo *ci;
    conn *c;

    if (!d->guard)
        return;
    ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    c = ci ? ci->socket_context : NULL;
    if (!c)
        return;
    pthread_mutex_lock(&d->guard->mu);
    c->head_done = done;
    if (!done)
        c->start_ms = now_ms();
    pthread_mutex_unlock(&d->guard->mu);
}

/* The request is complete, head and body (the handler's last call). */
void ckd_guard_head_done(const ckd *d, struct MHD_Connection *mc)
{
    mark(d, mc, 1);
}

/* A request ended: the next one on this connection has its own deadline. */
void ckd_guard_request_done(const ckd *d, struct MHD_Connection *mc)
{
    mark(d, mc, 0);
}

/*
 * The kernel hands a connection over once its first bytes are there, so
 * refuse_garbage sees them; a connection that sends nothing waits in the
 * kernel, not in a slot of ours, for up to request_head_timeout.
 */
void ckd_guard_defer_accept(const ckd *d, struct MHD_Daemon *mhd)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_LISTEN_FD);
    int secs = d->dc.request_head_timeout > 0 ? d->dc.request_head_timeout : 10;

    if (strncmp(d->dc.listen, "unix:", 5) == 0 || !info)
        return;
    if (setsockopt(info->listen_fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)) != 0)
        ckd_log(d, LOG_WARNING, "TCP_DEFER_ACCEPT: %s", strerror(errno));
}
