/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_web_headers.c - what checkupd reads from a request before it
 * trusts anything: the Cookie header, X-Forwarded-For, the rd redirect
 * target, and [daemon] settings. The input is split at newlines: cookie,
 * forwarded-for, rd, then "name=value" daemon settings.
 *
 * Properties: a cookie value lies inside its header; the client address
 * is an IPv4 or IPv6 one; an accepted rd is a plain path of this site or
 * under a listed URL, never "//host" or with a backslash; escaped HTML
 * holds no markup character.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checkupd.h"
#include "fuzz.h"

static void check_cookie(const char *h)
{
    size_t len = 0;
    int dup = 0;
    const char *v = ckd_cookie_value(h, "__Host-checkup", &len, &dup);

    if (v && (v < h || v + len > h + strlen(h)))
        ck_fuzz_fail("cookie value outside its header");
}

static void check_xff(const char *xff, const ckd *d)
{
    int family = AF_INET;
    unsigned char addr[16] = { 127, 0, 0, 1 };

    ckd_forwarded_client(xff, d, &family, addr);
    if (family != AF_INET && family != AF_INET6)
        ck_fuzz_fail("client address of family %d", family);
}

static void check_rd(const char *rd, const ckd *d)
{
    char out[4 * CKD_FORM_FIELD_MAX];

    if (ckd_redirect_ok(d, rd) && rd[0] == '/' && (rd[1] == '/' || strchr(rd, '\\')))
        ck_fuzz_fail("open redirect accepted");
    if (ckd_html_escape(rd, out, sizeof(out)) == 0 && strpbrk(out, "<>\"'"))
        ck_fuzz_fail("markup survived escaping");
}

#define MAX_LINES 32

CK_FUZZ_TARGET(web_headers)
{
    static ckd d;
    char *buf = malloc(size + 1), *line[MAX_LINES], *p, err[256];
    size_t n = 0;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (p = buf; n < MAX_LINES && p; n++) {
        line[n] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    for (size_t i = n; i < 3; i++)
        line[i] = "";
    memset(&d, 0, sizeof(d));
    ckd_conf_defaults(&d.dc);
    ckd_net_parse("127.0.0.0/8", &d.dc.proxies[d.dc.nproxies++]);
    ckd_net_parse("::1/128", &d.dc.proxies[d.dc.nproxies++]);
    /* Lines after the third are [daemon] settings, applied first. */
    for (size_t i = 3; i < n; i++) {
        char *eq = strchr(line[i], '=');

        if (eq) {
            *eq = '\0';
            ckd_conf_section(&d.dc, "daemon", line[i], eq + 1, (int)i, err, sizeof(err));
        }
    }
    check_cookie(line[0]);
    check_xff(line[1], &d);
    check_rd(line[2], &d);
    free(buf);
    return 0;
}
