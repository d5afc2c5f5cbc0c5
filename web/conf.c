/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf.c - the [daemon] section of checkup.conf, read through
 * ck_config_load's callback so that one file configures everything.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "checkupd.h"
#include "ck_hashslot.h"

void ckd_conf_defaults(ckd_conf *dc)
{
    memset(dc, 0, sizeof(*dc));
    snprintf(dc->listen, sizeof(dc->listen), "127.0.0.1:8080");
    dc->login_rate_limit = 10;
    dc->threads = 4;
    dc->connection_limit = 1024;
    /* nginx and other trusted proxies are exempt (see guard.c). */
    dc->per_ip_limit = 64;
    dc->connection_timeout = 30;
    dc->request_head_timeout = 10;
    /* /metrics: this host only, until metrics_allow says otherwise. */
    ckd_net_parse("127.0.0.0/8", &dc->metrics_allow[0]);
    ckd_net_parse("::1", &dc->metrics_allow[1]);
    dc->nmetrics_allow = 2;
    dc->memory_limit = 32 * 1024;
    dc->body_max = 8192;
    /* Hashes take what the request threads leave: one processor at least. */
    dc->login_threads = ck_hash_slots_auto();
    dc->login_priority = CK_HASH_IDLE_POOLED;
    dc->login_queue = 0;
    /* Token exchanges mostly wait on the provider, not on a processor. */
    dc->provider_threads = 4;
    dc->provider_queue = 64;
}

static int parse_int(const char *v, long lo, long hi, long *out, char *err, size_t errlen)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        snprintf(err, errlen, "'%s' is not a number in %ld..%ld", v, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

/* An IPv4/IPv6 address with an optional /prefix, or "unix". */
int ckd_net_parse(const char *s, ckd_net *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    char *slash, *end;
    long prefix;
    int max;

    memset(out, 0, sizeof(*out));
    if (strcmp(s, "unix") == 0) {
        out->family = AF_UNIX;
        return 0;
    }
    if (strlen(s) >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%s", s);
    slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    out->prefix = max;
    if (!slash)
        return 0;
    errno = 0;
    prefix = strtol(slash + 1, &end, 10);
    if (errno || end == slash + 1 || *end || prefix < 0 || prefix > max)
        return -1;
    out->prefix = (int)prefix;
    return 0;
}

/* Splits a comma or space separated list into fixed-size strings. */
static int split_list(const char *v, char (*items)[CKD_URL_MAX], size_t *n, char *err,
                      size_t errlen)
{
    const char *p = v;

    *n = 0;
    while (*p) {
        size_t len;

        p += strspn(p, ", \t");
        len = strcspn(p, ", \t");
        if (len == 0)
            break;
        if (*n == CKD_LIST_MAX || len >= CKD_URL_MAX) {
            snprintf(err, errlen, "too many or too long entries (at most %d of %d bytes)",
                     CKD_LIST_MAX, CKD_URL_MAX - 1);
            return -1;
        }
        memcpy(items[*n], p, len);
        items[*n][len] = '\0';
        (*n)++;
        p += len;
    }
    return 0;
}

static int set_nets(ckd_net *nets, size_t *count, const char *v, char *err, size_t errlen)
{
    char (*items)[CKD_URL_MAX] = calloc(CKD_LIST_MAX, CKD_URL_MAX);
    size_t n = 0;
    int rc = -1;

    if (!items) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (split_list(v, items, &n, err, errlen) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (ckd_net_parse(items[i], &nets[i]) != 0) {
            snprintf(err, errlen, "'%.64s' is not an address, address/prefix or \"unix\"",
                     items[i]);
            goto out;
        }
    }
    *count = n;
    rc = 0;
out:
    free(items);
    return rc;
}

static int set_string(char *dst, size_t size, const char *v, char *err, size_t errlen)
{
    if (strlen(v) >= size) {
        snprintf(err, errlen, "longer than %zu bytes", size - 1);
        return -1;
    }
    snprintf(dst, size, "%s", v);
    return 0;
}

static int set_number(ckd_conf *dc, const char *name, const char *v, char *err,
                      size_t errlen)
{
    long n;

    if (strcmp(name, "login_rate_limit") == 0 &&
        parse_int(v, 0, 100000, &n, err, errlen) == 0)
        dc->login_rate_limit = (int)n;
    else if (strcmp(name, "threads") == 0 && parse_int(v, 1, 256, &n, err, errlen) == 0)
        dc->threads = (int)n;
    else if (strcmp(name, "connection_limit") == 0 &&
             parse_int(v, 1, 65536, &n, err, errlen) == 0)
        dc->connection_limit = (int)n;
    else if (strcmp(name, "per_ip_connection_limit") == 0 &&
             parse_int(v, 0, 65536, &n, err, errlen) == 0)
        dc->per_ip_limit = (int)n;
    else if (strcmp(name, "connection_timeout") == 0 &&
             parse_int(v, 1, 3600, &n, err, errlen) == 0)
        dc->connection_timeout = (int)n;
    else if (strcmp(name, "request_head_timeout") == 0 &&
             parse_int(v, 0, 3600, &n, err, errlen) == 0)
        dc->request_head_timeout = (int)n;
    else if (strcmp(name, "max_header_bytes") == 0 &&
             parse_int(v, 4096, 1048576, &n, err, errlen) == 0)
        dc->memory_limit = (size_t)n;
    else if (strcmp(name, "max_body_bytes") == 0 &&
             parse_int(v, 256, 1048576, &n, err, errlen) == 0)
        dc->body_max = (size_t)n;
    else if (strcmp(name, "login_threads") == 0 && parse_int(v, 1, 256, &n, err, errlen) == 0)
        dc->login_threads = (int)n;
    else if (strcmp(name, "login_queue") == 0 &&
             parse_int(v, 1, 65536, &n, err, errlen) == 0)
        dc->login_queue = (int)n;
    else if (strcmp(name, "provider_threads") == 0 &&
             parse_int(v, 1, 256, &n, err, errlen) == 0)
        dc->provider_threads = (int)n;
    else if (strcmp(name, "provider_queue") == 0 &&
             parse_int(v, 1, 65536, &n, err, errlen) == 0)
        dc->provider_queue = (int)n;
    else
        return -1;
    return 0;
}

static int set_priority(ck_hash_priority *out, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "idle") == 0)
        *out = CK_HASH_IDLE_POOLED;
    else if (strcmp(v, "low") == 0)
        *out = CK_HASH_LOW;
    else {
        snprintf(err, errlen, "'%.64s' is not idle or low", v);
        return -1;
    }
    return 0;
}

static int is_number_key(const char *name)
{
    static const char *const keys[] = {
        "login_rate_limit", "threads", "connection_limit", "per_ip_connection_limit",
        "connection_timeout", "request_head_timeout", "max_header_bytes", "max_body_bytes",
        "login_threads", "login_queue", "provider_threads", "provider_queue",
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(name, keys[i]) == 0)
            return 1;
    return 0;
}

int ckd_conf_section(void *ud, const char *section, const char *name, const char *value,
                     int lineno, char *err, size_t errlen)
{
    ckd_conf *dc = ud;
    int rc;

    (void)lineno;
    if (strcmp(section, "daemon") != 0)
        return 0;
    if (strcmp(name, "listen") == 0)
        rc = set_string(dc->listen, sizeof(dc->listen), value, err, errlen);
    else if (strcmp(name, "public_url") == 0)
        rc = set_string(dc->public_url, sizeof(dc->public_url), value, err, errlen);
    else if (strcmp(name, "cookie_domain") == 0)
        rc = set_string(dc->cookie_domain, sizeof(dc->cookie_domain), value, err, errlen);
    else if (strcmp(name, "trusted_proxies") == 0)
        rc = set_nets(dc->proxies, &dc->nproxies, value, err, errlen);
    else if (strcmp(name, "metrics_allow") == 0)
        rc = set_nets(dc->metrics_allow, &dc->nmetrics_allow, value, err, errlen);
    else if (strcmp(name, "cors_origins") == 0)
        rc = split_list(value, dc->cors, &dc->ncors, err, errlen);
    else if (strcmp(name, "redirect_allowlist") == 0)
        rc = split_list(value, dc->redirects, &dc->nredirects, err, errlen);
    else if (strcmp(name, "login_priority") == 0)
        rc = set_priority(&dc->login_priority, value, err, errlen);
    else if (is_number_key(name))
        rc = set_number(dc, name, value, err, errlen);
    else {
        snprintf(err, errlen, "unknown key");
        rc = -1;
    }
    return rc == 0 ? 1 : 0;
}

/* A cookie Domain: letters, digits, '-' and '.', no leading dot needed. */
static int domain_ok(const char *s)
{
    if (!*s)
        return 1;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

/* An absolute http(s) URL without spaces, quotes or control characters. */
static int url_ok(const char *s)
{
    /* The scheme is case-insensitive (RFC 3986); the origin check lowers it. */
    if (strncasecmp(s, "https://", 8) != 0 && strncasecmp(s, "http://", 7) != 0)
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == '<' ||
            *p == '>' || (unsigned char)*p == 0x7f)
            return 0;
    return 1;
}

/* HOST:PORT with a numeric port; the address itself is read at bind time. */
static int listen_check(const char *v, char *err, size_t errlen)
{
    const char *colon = strrchr(v, ':');
    long port;

    if (!colon || colon == v || parse_int(colon + 1, 0, 65535, &port, err, errlen) != 0) {
        snprintf(err, errlen, "[daemon] listen: '%.64s' is not HOST:PORT or unix:PATH", v);
        return -1;
    }
    return 0;
}

/*
 * An absolute redirect_allowlist entry with its origin as browsers write
 * it (as public_url), so "HTTPS://Tool.example.org:443/" still matches the
 * rd a page sends. The path stays as written.
 */
static int redirect_url_normalize(char entry[CKD_URL_MAX])
{
    char origin[CKD_URL_MAX], norm[CKD_URL_MAX];
    const char *sep = strstr(entry, "://"), *why;
    size_t n = (size_t)(sep + 3 - entry) + strcspn(sep + 3, "/?#");
    size_t olen, rest = strlen(entry + n);

    memcpy(origin, entry, n);
    origin[n] = '\0';
    if (ckd_origin_normalize(origin, norm, sizeof(norm), 0, &why) != 0)
        return -1;
    olen = strlen(norm);
    if (olen + rest >= CKD_URL_MAX)
        return -1;
    /* The normalised origin is never longer than the one written. */
    memmove(entry + olen, entry + n, rest + 1);
    memcpy(entry, norm, olen);
    return 0;
}

int ckd_conf_check(ckd_conf *dc, char *err, size_t errlen)
{
    char norm[CKD_URL_MAX];
    const char *why = "";

    if (!dc->public_url[0]) {
        snprintf(err, errlen, "[daemon] public_url is required (e.g. https://login.example.org)");
        return -1;
    }
    if (!url_ok(dc->public_url) ||
        ckd_origin_normalize(dc->public_url, norm, sizeof(norm), 1, &why) != 0) {
        snprintf(err, errlen, "[daemon] public_url: '%.64s': %s", dc->public_url,
                 url_ok(dc->public_url) ? why : "not an http:// or https:// URL");
        return -1;
    }
    /* About a second of hashes at the default yescrypt cost, whatever the threads. */
    if (dc->login_queue == 0)
        dc->login_queue = 64 * dc->login_threads;
    /* Browsers send Origin normalised; compare it with the same form. */
    snprintf(dc->public_url, sizeof(dc->public_url), "%s", norm);
    if (!domain_ok(dc->cookie_domain)) {
        snprintf(err, errlen, "[daemon] cookie_domain: not a host name");
        return -1;
    }
    for (size_t i = 0; i < dc->ncors; i++) {
        if (!url_ok(dc->cors[i]) ||
            ckd_origin_normalize(dc->cors[i], norm, sizeof(norm), 0, &why) != 0) {
            snprintf(err, errlen, "[daemon] cors_origins: '%.64s' is not an origin",
                     dc->cors[i]);
            return -1;
        }
        snprintf(dc->cors[i], sizeof(dc->cors[i]), "%s", norm);
    }
    for (size_t i = 0; i < dc->nredirects; i++) {
        const char *r = dc->redirects[i];

        if (!(r[0] == '/' && r[1] != '/' && r[1] != '\\') &&
            (!url_ok(r) || redirect_url_normalize(dc->redirects[i]) != 0)) {
            snprintf(err, errlen,
                     "[daemon] redirect_allowlist: '%.64s' is neither a /path nor a URL", r);
            return -1;
        }
    }
    if (strncmp(dc->listen, "unix:", 5) == 0) {
        if (!dc->listen[5] || dc->listen[5] != '/') {
            snprintf(err, errlen, "[daemon] listen: unix: needs an absolute path");
            return -1;
        }
        return 0;
    }
    return listen_check(dc->listen, err, errlen);
}
