/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_redis_url.c - the store URL parser for Redis (ck_redis_opts_from_url):
 * redis://, rediss://, redis+sentinel:// with user info, [IPv6] hosts,
 * ports, master names and db numbers.
 *
 * Properties: what parses has 1..64 hosts, each non-empty with a port in
 * 1..65535, a db in 0..15, a master name exactly for the sentinel
 * schemes; an error message never holds the password the URL carried.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ck_config.h"
#include "fuzz.h"
#include "redis/redis_conn.h"

static void check_opts(const ck_redis_opts *o, const char *url)
{
    int sentinel = strncasecmp(url, "redis+sentinel://", 17) == 0 ||
                   strncasecmp(url, "rediss+sentinel://", 18) == 0;

    if (o->naddrs < 1 || o->naddrs > 64 || !o->addrs)
        ck_fuzz_fail("url: %zu hosts", o->naddrs);
    for (size_t i = 0; i < o->naddrs; i++) {
        if (!o->addrs[i].host || !o->addrs[i].host[0])
            ck_fuzz_fail("url: empty host %zu", i);
        if (o->addrs[i].port < 1 || o->addrs[i].port > 65535)
            ck_fuzz_fail("url: port %d", o->addrs[i].port);
    }
    if (o->db < 0 || o->db > 15)
        ck_fuzz_fail("url: db %d", o->db);
    if (sentinel != (o->master_name != NULL))
        ck_fuzz_fail("url: master name without sentinel or the reverse");
    if (o->master_name && !o->master_name[0])
        ck_fuzz_fail("url: empty master name");
}

/*
 * The password must never be echoed. A substring test on the input's own
 * password would trip on coincidences ("edis+senti" is in a fixed message),
 * so the same URL is parsed again with a password no message could hold.
 */
#define MARKER "Xq9Zk3Wm7Vb1Tj5"

static void check_no_password(const char *url, const ck_config *cfg)
{
    const char *s = strstr(url, "://");
    const char *end, *at = NULL, *colon;
    char *url2, err[256];
    ck_redis_opts o;
    size_t n;

    if (!s)
        return;
    s += 3;
    end = s + strcspn(s, "/");
    for (const char *p = s; p < end; p++)
        if (*p == '@')
            at = p;
    colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
    if (!colon)
        return;
    n = (size_t)(colon + 1 - url);
    url2 = malloc(n + strlen(MARKER) + strlen(at) + 1);
    if (!url2)
        ck_fuzz_fail("out of memory");
    memcpy(url2, url, n);
    strcpy(url2 + n, MARKER);
    strcat(url2, at);
    err[0] = '\0';
    if (ck_redis_opts_from_url(&o, url2, cfg, err, sizeof(err)) == 0)
        ck_redis_opts_free(&o);
    else if (strstr(err, MARKER))
        ck_fuzz_fail("url: the error message holds the password");
    free(url2);
}

CK_FUZZ_TARGET(redis_url)
{
    char *url = ck_fuzz_strndup(data + !!size, size - !!size);
    char err[256];
    ck_redis_opts o;
    ck_config cfg;
    const ck_config *use;

    ck_config_defaults(&cfg);
    /* The first byte picks the [store] settings applied over the URL, the rest is the URL. */
    if (size && (data[0] & 1))
        cfg.tls_min_version = (char *)"1.2";
    if (size && (data[0] & 2))
        cfg.redis_user = (char *)"cfguser";
    use = size && (data[0] & 4) ? &cfg : NULL;
    err[0] = '\0';
    if (ck_redis_opts_from_url(&o, url, use, err, sizeof(err)) == 0) {
        check_opts(&o, url);
        if (o.password && !o.password[0])
            ck_fuzz_fail("url: empty password kept");
        ck_redis_opts_free(&o);
    } else {
        if (!err[0])
            ck_fuzz_fail("url: refused without a reason");
        check_no_password(url, use);
    }
    free(url);
    return 0;
}
