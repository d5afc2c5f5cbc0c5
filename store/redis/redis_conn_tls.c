/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_conn_tls.c - OpenSSL 3 under ck_conn: peer and host-name
 * verification (on by default), SNI, CA file or dir or the system store,
 * an optional client certificate, a minimum protocol version.
 *
 * The socket is non-blocking; every SSL call that wants I/O is followed by
 * a poll() against the caller's deadline.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "redis_conn_int.h"
#include "ck_secfile.h"

/*
 * OpenSSL writes with write(2), which raises SIGPIPE on a closed socket and
 * would kill a host process (sshd, login) that has not ignored it. Block it
 * around SSL calls and swallow one that we caused.
 */
typedef struct sigpipe_guard {
    sigset_t old;
    int was_pending;
} sigpipe_guard;

static void sigpipe_block(sigpipe_guard *g)
{
    sigset_t set, pending;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_restore(sigpipe_guard *g)
{
    sigset_t set, pending;
    struct timespec zero = { 0, 0 };

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE)) {
        int saved = errno;
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ;
        errno = saved;
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* The most relevant OpenSSL error, for messages. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long last = 0;

    for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error())
        last = e;
    if (!last)
        return "unknown TLS error";
    ERR_error_string_n(last, buf, len);
    return buf;
}

/* Never prompt on a terminal for a key passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *ud)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)ud;
    return 0;
}

/*
 * The CA file chooses whom we take for the server: held to the policy of
 * checkup.conf (ck_secfile.h) before OpenSSL reads it. Only root or our own
 * user may write it or its directory, so nobody else can swap it after
 * the check. The client certificate alike.
 */
static int trusted_file(ck_redis *r, const char *what, const char *path)
{
    char ferr[512];
    int fd;

    if (!path)
        return 0;
    fd = ck_secfile_open(path, CK_FILE_CONFIG, NULL, ferr, sizeof(ferr));
    if (fd < 0) {
        ck_redis_set_error(r, "TLS setup: %s %s", what, ferr);
        return -1;
    }
    close(fd);
    return 0;
}

/* Every certificate in the CA directory is trusted: nobody else may add one. */
static int trusted_dir(ck_redis *r, const char *path)
{
    char ferr[512];

    if (!path || ck_secfile_check_dir(path, ferr, sizeof(ferr)) == 0)
        return 0;
    ck_redis_set_error(r, "TLS setup: tls_ca_dir %s", ferr);
    return -1;
}

/*
 * The client key under the secret-file policy (ck_secfile.h), read by us
 * and handed to OpenSSL from memory, so that what was checked is what is
 * used. No passphrase: the key is read unattended.
 */
static int use_key_file(ck_redis *r, SSL_CTX *ctx, const char *path, const char *cert)
{
    char *data = NULL, ferr[512], why[256];
    size_t len = 0;
    EVP_PKEY *key = NULL;
    BIO *bio = NULL;
    int rc = -1;

    if (ck_secfile_read(path, CK_FILE_SECRET, 64 * 1024, &data, &len, ferr,
                        sizeof(ferr)) != 0) {
        ck_redis_set_error(r, "TLS setup: tls_key_file %s", ferr);
        return -1;
    }
    bio = BIO_new_mem_buf(data, (int)len);
    key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    if (!key || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
        ck_redis_set_error(r, "TLS setup: client certificate %s, tls_key_file %s: %s", cert,
                           path, ssl_reason(why, sizeof(why)));
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(key);
    BIO_free(bio);
    ck_secfile_free(data, len);
    return rc;
}

static int tls_ctx(ck_redis *r)
{
    const ck_redis_opts *o = &r->o;
    SSL_CTX *ctx;
    char why[256];

    if (r->ssl_ctx)
        return 0;
    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ck_redis_set_error(r, "TLS setup: %s", ssl_reason(why, sizeof(why)));
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, o->tls_min_version ? o->tls_min_version
                                                           : TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    SSL_CTX_set_verify(ctx, o->tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (trusted_file(r, "tls_ca_file", o->tls_ca_file) != 0 ||
        trusted_file(r, "tls_cert_file", o->tls_cert_file) != 0 ||
        trusted_dir(r, o->tls_ca_dir) != 0)
        goto fail;
    if (o->tls_ca_file || o->tls_ca_dir) {
        if (SSL_CTX_load_verify_locations(ctx, o->tls_ca_file, o->tls_ca_dir) != 1) {
            ck_redis_set_error(r, "TLS setup: cannot load CA %s: %s",
                               o->tls_ca_file ? o->tls_ca_file : o->tls_ca_dir,
                               ssl_reason(why, sizeof(why)));
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        ck_redis_set_error(r, "TLS setup: no system CA store: %s",
                           ssl_reason(why, sizeof(why)));
        goto fail;
    }
    if (o->tls_cert_file) {
        if (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert_file) != 1) {
            ck_redis_set_error(r, "TLS setup: client certificate %s: %s", o->tls_cert_file,
                               ssl_reason(why, sizeof(why)));
            goto fail;
        }
        if (use_key_file(r, ctx, o->tls_key_file, o->tls_cert_file) != 0)
            goto fail;
        if (SSL_CTX_check_private_key(ctx) != 1) {
            ck_redis_set_error(r, "TLS setup: client certificate %s: %s", o->tls_cert_file,
                               ssl_reason(why, sizeof(why)));
            goto fail;
        }
    }
    r->ssl_ctx = ctx;
    return 0;
fail:
    SSL_CTX_free(ctx);
    return -1;
}

void ck_tls_free_ctx(ck_redis *r)
{
    SSL_CTX_free(r->ssl_ctx);
    r->ssl_ctx = NULL;
}

static int is_ip_literal(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Which name to check: tls_server_name, else the host we dialled. */
static int set_peer_name(ck_redis *r, SSL *ssl, const char *host)
{
    const char *name = r->o.tls_server_name ? r->o.tls_server_name : host;
    int ok = 1;

    if (is_ip_literal(name)) {
        /* No SNI for an address (RFC 6066); match it against the IP SANs. */
        if (r->o.tls_verify)
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
    } else {
        ok = SSL_set_tlsext_host_name(ssl, name) == 1;
        if (ok && r->o.tls_verify) {
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(ssl, name) == 1;
        }
    }
    if (!ok)
        ck_redis_set_error(r, "TLS setup: cannot use server name %s", name);
    return ok ? 0 : -1;
}

/* After SSL_get_error: poll for what OpenSSL wants, or fail with errno set. */
static int want_io(ck_redis *r, ck_conn *c, int err, int64_t deadline, const char *what)
{
    char why[256];
    long vr;

    switch (err) {
    case SSL_ERROR_WANT_READ:
        return ck_conn_wait(c, POLLIN, deadline);
    case SSL_ERROR_WANT_WRITE:
        return ck_conn_wait(c, POLLOUT, deadline);
    case SSL_ERROR_ZERO_RETURN:
        errno = ECONNRESET;
        return -1;
    case SSL_ERROR_SYSCALL:
        if (errno == 0)
            errno = ECONNRESET;
        ERR_clear_error();
        return -1;
    default:
        vr = SSL_get_verify_result(c->ssl);
        if (vr != X509_V_OK) {
            ERR_clear_error();
            ck_redis_set_error(r, "TLS certificate verification failed: %s",
                               X509_verify_cert_error_string(vr));
        } else {
            ck_redis_set_error(r, "TLS %s failed: %s", what, ssl_reason(why, sizeof(why)));
        }
        errno = EPROTO;
        return -1;
    }
}

int ck_tls_handshake(ck_redis *r, ck_conn *c, const char *host, int64_t deadline)
{
    sigpipe_guard g;
    int rc = -1;

    if (tls_ctx(r) < 0)
        return -1;
    c->ssl = SSL_new(r->ssl_ctx);
    if (!c->ssl) {
        ck_redis_set_error(r, "out of memory");
        return -1;
    }
    if (SSL_set_fd(c->ssl, c->fd) != 1 || set_peer_name(r, c->ssl, host) < 0)
        return -1;
    sigpipe_block(&g);
    for (;;) {
        int ret;

        ERR_clear_error();
        ret = SSL_connect(c->ssl);
        if (ret == 1) {
            rc = 0;
            break;
        }
        if (want_io(r, c, SSL_get_error(c->ssl, ret), deadline, "handshake") < 0)
            break;
    }
    sigpipe_restore(&g);
    if (rc < 0 && errno == ETIMEDOUT)
        ck_redis_set_error(r, "TLS handshake timed out after %d ms", r->o.connect_timeout_ms);
    else if (rc < 0 && errno != EPROTO)
        ck_redis_set_error(r, "TLS handshake: %s", strerror(errno));
    return rc;
}

/* SSL_write or SSL_read until some bytes move, the deadline passes or the
 * connection fails (TLS may need to read to write and the other way round). */
static ssize_t tls_io(ck_redis *r, ck_conn *c, void *buf, size_t len, int64_t deadline,
                      int writing)
{
    sigpipe_guard g;
    ssize_t rc = -1;
    int n;

    if (len > INT32_MAX)
        len = INT32_MAX;
    sigpipe_block(&g);
    for (;;) {
        ERR_clear_error();
        n = writing ? SSL_write(c->ssl, buf, (int)len) : SSL_read(c->ssl, buf, (int)len);
        if (n > 0) {
            rc = n;
            break;
        }
        if (want_io(r, c, SSL_get_error(c->ssl, n), deadline, writing ? "write" : "read") < 0)
            break;
    }
    sigpipe_restore(&g);
    return rc;
}

ssize_t ck_tls_write(ck_redis *r, ck_conn *c, const char *buf, size_t len, int64_t deadline)
{
    return tls_io(r, c, (void *)buf, len, deadline, 1);
}

ssize_t ck_tls_read(ck_redis *r, ck_conn *c, char *buf, size_t len, int64_t deadline)
{
    return tls_io(r, c, buf, len, deadline, 0);
}

/*
 * The idle socket is readable: a TLS 1.3 session ticket is harmless, a
 * close_notify, EOF or application data means the connection is unusable.
 */
int ck_tls_idle_ok(ck_conn *c)
{
    sigpipe_guard g;
    char b;
    int n, err;

    if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
        return 0;
    sigpipe_block(&g);
    ERR_clear_error();
    n = SSL_peek(c->ssl, &b, 1);
    err = n > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, n);
    ERR_clear_error();
    sigpipe_restore(&g);
    return n <= 0 && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE);
}

void ck_tls_close(ck_conn *c, int graceful)
{
    sigpipe_guard g;

    if (!c->ssl)
        return;
    if (graceful) {
        /* One non-blocking close_notify; we do not wait for the answer. */
        sigpipe_block(&g);
        ERR_clear_error();
        SSL_shutdown(c->ssl);
        ERR_clear_error();
        sigpipe_restore(&g);
    }
    SSL_free(c->ssl);
    c->ssl = NULL;
}
