/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * checkupd.c - the daemon: command line, configuration, logging, one store
 * handle per worker thread, the libmicrohttpd daemon, and a clean stop on
 * SIGTERM or SIGINT.
 *
 * Exit status: 0 after a clean stop, 1 when it cannot start (store, key
 * ring, listening socket), 2 for a usage or configuration error.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "checkupd.h"
#include "ck_audit.h"
#include "ck_clock.h"
#include "ck_oidc.h"

static const char usage_text[] =
    "Usage: checkupd [-c CONFIG] [--syslog] [-v]\n"
    "The checkup HTTP daemon: browser logins, session cookies and the\n"
    "/session endpoint for nginx auth_request. Runs in the foreground.\n"
    "\n"
    "  -c, --config FILE  configuration file (default " CK_CONFIG_PATH ")\n"
    "  -s, --syslog       log to syslog instead of standard error\n"
    "  -v, --verbose      log more (never tokens or passwords)\n"
    "  -h, --help         show this help\n"
    "  -V, --version      show the version\n"
    "\n"
    "Exit status: 0 clean stop, 1 cannot start, 2 usage or configuration error.\n";

/* ---- listening ---------------------------------------------------------- */

/* A Unix socket made here (mode 0660) and handed to libmicrohttpd. */
static int unix_listen(const ckd *d, const char *path)
{
    struct sockaddr_un sa;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        ckd_log(d, LOG_ERR, "listen: socket path too long");
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    /* A socket left by an earlier run would make bind fail. */
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0660) != 0 ||
        listen(fd, SOMAXCONN) != 0)
        goto fail;
    return fd;
fail:
    ckd_log(d, LOG_ERR, "listen %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* "127.0.0.1:8080", "[::1]:8080" into a socket address. */
static int tcp_addr(const char *listen, struct sockaddr_storage *ss, uint16_t *port)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(listen, ':');
    char *end;
    unsigned long p;
    size_t hlen;

    if (!colon)
        return -1;
    hlen = (size_t)(colon - listen);
    if (hlen == 0 || hlen >= sizeof(host))
        return -1;
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p > 65535)
        return -1;
    *port = (uint16_t)p;
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[' && host[hlen - 1] == ']') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

        host[hlen - 1] = '\0';
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(*port);
        return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -1;
    }
    {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons(*port);
        return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
    }
}

static struct MHD_Daemon *start_http(ckd *d)
{
    /* Turbo: read and write optimistically before asking epoll (measured). */
    /* Suspend/resume: logins wait for the pools off the request threads. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_storage ss;
    struct MHD_Daemon *mhd;
    uint16_t port = 0;
    int fd = -1;

    memset(&ss, 0, sizeof(ss));
    if (strncmp(d->dc.listen, "unix:", 5) == 0) {
        fd = unix_listen(d, d->dc.listen + 5);
        if (fd < 0)
            return NULL;
    } else if (tcp_addr(d->dc.listen, &ss, &port) != 0) {
        ckd_log(d, LOG_ERR, "[daemon] listen: '%s' is not HOST:PORT or unix:PATH",
                d->dc.listen);
        return NULL;
    }
    if (ss.ss_family == AF_INET6 && fd < 0)
        flags |= MHD_USE_IPv6;
    d->guard = ckd_guard_start(d);
    if (!d->guard) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    /* The per-address limit is ours (guard.c): trusted proxies are exempt. */
    mhd = MHD_start_daemon(
        flags, port, ckd_guard_accept, d->guard, ckd_dispatch, d,
        MHD_OPTION_EXTERNAL_LOGGER, ckd_mhd_log, d,
        fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
        fd >= 0 ? (void *)(intptr_t)fd : (void *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)d->dc.threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)d->dc.connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)d->dc.connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, d->dc.memory_limit,
        MHD_OPTION_NOTIFY_COMPLETED, ckd_completed, d,
        MHD_OPTION_NOTIFY_CONNECTION, ckd_guard_notify, d->guard,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_END);
    if (!mhd) {
        ckd_log(d, LOG_ERR, "cannot listen on %s (address in use or not allowed?)",
                d->dc.listen);
        if (fd >= 0)
            close(fd);
        ckd_guard_stop(d->guard);
        d->guard = NULL;
    }
    return mhd;
}

static void announce(const ckd *d, struct MHD_Daemon *mhd)
{
    const union MHD_DaemonInfo *info;

    if (strncmp(d->dc.listen, "unix:", 5) == 0) {
        ckd_log(d, LOG_NOTICE, "listening on %s", d->dc.listen);
        return;
    }
    info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
    /* The bound port: a test may ask for port 0 and read it here. */
    ckd_log(d, LOG_NOTICE, "listening on port %u (%d threads; logins: %d threads, "
            "queue %d; providers: %d threads, queue %d)", info ? (unsigned)info->port : 0u,
            d->dc.threads, d->dc.login_threads, d->dc.login_queue, d->dc.provider_threads,
            d->dc.provider_queue);
}

/* ---- configuration ------------------------------------------------------ */

static int origin_from(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    size_t n;

    if (!p)
        return -1;
    n = (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
    if (n >= outlen)
        return -1;
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}

static int load(ckd *d, const char *path)
{
    char err[1024];

    ck_config_defaults(&d->cfg);
    ckd_conf_defaults(&d->dc);
    d->providers = ck_oidc_providers_new();
    if (!d->providers)
        return 1;
    if (ck_config_load(&d->cfg, path, ckd_conf_sections, d, err, sizeof(err)) != 0 ||
        ck_oidc_providers_finish(d->providers, path, err, sizeof(err)) != 0 ||
        ck_config_apply_env(&d->cfg, err, sizeof(err)) != 0 ||
        ck_config_validate(&d->cfg, err, sizeof(err)) != 0 ||
        ckd_conf_check(&d->dc, err, sizeof(err)) != 0) {
        ckd_log(d, LOG_ERR, "%s", err);
        return 2;
    }
    if (!d->cfg.users_file) {
        d->cfg.users_file = strdup(CK_SYSCONFDIR "/checkup/users");
        if (!d->cfg.users_file)
            return 1;
    }
    d->https = strncmp(d->dc.public_url, "https://", 8) == 0;
    if (origin_from(d->dc.public_url, d->origin, sizeof(d->origin)) != 0) {
        ckd_log(d, LOG_ERR, "[daemon] public_url: no host");
        return 2;
    }
    snprintf(d->cookie_name, sizeof(d->cookie_name), "%s",
             d->dc.cookie_domain[0] ? "checkup_session" : "__Host-checkup_session");
    ck_lockout_from_config(&d->lockout, &d->cfg);
    if (ck_keyring_load(d->cfg.token_key_file ? d->cfg.token_key_file
                                              : CK_SYSCONFDIR "/checkup/token.keys",
                        1, &d->ring, err, sizeof(err)) != 0) {
        ckd_log(d, LOG_ERR, "token keys: %s", err);
        return 1;
    }
    return 0;
}

/* Opens the store once before listening, so a bad store stops the start. */
static int probe_store(const ckd *d)
{
    char err[512];
    ck_store *st = ck_store_open(&d->cfg, err, sizeof(err));
    ck_status cs;

    if (!st) {
        ckd_log(d, LOG_ERR, "store: %s", err);
        return -1;
    }
    cs = ck_store_ping(st);
    if (cs != CK_OK)
        ckd_log(d, LOG_WARNING, "store not reachable yet: %s", ck_store_errstr(st));
    ck_store_close(st);
    return 0;
}

/* ---- the login pools ---------------------------------------------------- */

static int start_pools(ckd *d)
{
    d->login_pool = ckd_pool_start(d, "login", d->dc.login_threads, d->dc.login_queue);
    if (d->login_pool && d->npnames > 0)
        d->provider_pool = ckd_pool_start(d, "provider", d->dc.provider_threads,
                                          d->dc.provider_queue);
    if (d->login_pool)
        d->touch_pool = ckd_pool_start_batch(d, "touch", 1, 4096, CKD_BATCH_MAX,
                                             ckd_touch_batch);
    if (d->login_pool && d->touch_pool && (d->npnames == 0 || d->provider_pool))
        return 0;
    ckd_log(d, LOG_ERR, "cannot start the login threads");
    return -1;
}

/*
 * Before libmicrohttpd stops: queued logins are answered 503, running ones
 * finish, and their answers get a moment to go out. No connection may be
 * left suspended when MHD_stop_daemon runs.
 */
static void stop_pools(ckd *d)
{
    int left;

    ckd_pool_stop(d->login_pool);
    ckd_pool_stop(d->provider_pool);
    ckd_pool_stop(d->touch_pool);
    left = ckd_pool_drain(d->login_pool, 2000) + ckd_pool_drain(d->provider_pool, 1000) +
           ckd_pool_drain(d->touch_pool, 1000);
    if (left > 0)
        ckd_log(d, LOG_WARNING, "stopping with %d login answers unsent", left);
}

/* ---- main --------------------------------------------------------------- */

static int parse_args(int argc, char **argv, ckd *d, const char **path)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "syslog", no_argument, NULL, 's' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int ch;

    while ((ch = getopt_long(argc, argv, "c:svhV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': *path = optarg; break;
        case 's': d->use_syslog = 1; break;
        case 'v': d->verbose = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': printf("checkupd %s\n", PACKAGE_VERSION); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "checkupd: unexpected argument '%s'\n%s", argv[optind], usage_text);
        return 2;
    }
    return -1;
}

static int wait_for_stop(const ckd *d, const sigset_t *set)
{
    int sig = 0;

    for (;;) {
        if (sigwait(set, &sig) != 0)
            return 1;
        if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    ckd_log(d, LOG_NOTICE, "stopping on signal %d", sig);
    return 0;
}

int main(int argc, char **argv)
{
    static ckd d;
    const char *path = CK_CONFIG_PATH;
    struct MHD_Daemon *mhd = NULL;
    sigset_t set;
    int rc;

    rc = parse_args(argc, argv, &d, &path);
    if (rc >= 0)
        return rc;
    if (d.use_syslog)
        openlog("checkupd", LOG_PID, LOG_AUTHPRIV);
    /* Workers inherit this mask: only the main thread takes the signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = load(&d, path);
    if (rc == 0 && probe_store(&d) != 0)
        rc = 1;
    if (rc == 0 && start_pools(&d) != 0)
        rc = 1;
    if (rc == 0) {
        mhd = start_http(&d);
        rc = mhd ? 0 : 1;
    }
    if (rc == 0) {
        ckd_guard_defer_accept(&d, mhd);
        announce(&d, mhd);
        rc = wait_for_stop(&d, &set);
        stop_pools(&d);
        MHD_stop_daemon(mhd);
        ckd_guard_stop(d.guard);
        if (strncmp(d.dc.listen, "unix:", 5) == 0)
            unlink(d.dc.listen + 5);
    }
    /* Joined already; a failed start leaves threads to stop. */
    ckd_pool_stop(d.login_pool);
    ckd_pool_stop(d.provider_pool);
    ckd_pool_stop(d.touch_pool);
    ckd_pool_free(d.login_pool);
    ckd_pool_free(d.provider_pool);
    ckd_pool_free(d.touch_pool);
    ckd_oidc_close_all();
    ckd_store_close_all();
    ck_oidc_providers_free(d.providers);
    ck_keyring_free(d.ring);
    ck_config_free(&d.cfg);
    return rc;
}
