/*
 * http.c - what every endpoint needs: responses with the security headers,
 * the session cookie, the token of a request, the client's address behind
 * trusted proxies, same-origin checks and the redirect allowlist.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "checkupd.h"

#define HSTS "max-age=31536000; includeSubDomains"

struct MHD_Response *ckd_text(const char *type, const char *body)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r && type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return r;
}

/*
 * Queues r with the headers every answer carries. identity: the answer
 * tells who someone is (or sets a cookie), so no cache may keep it.
 */
enum MHD_Result ckd_send(struct MHD_Connection *c, const ckd *d, unsigned status,
                         struct MHD_Response *r, int identity)
{
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    if (d->https)
        MHD_add_response_header(r, "Strict-Transport-Security", HSTS);
    if (identity)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result ckd_error(struct MHD_Connection *c, const ckd *d, unsigned status,
                          const char *msg)
{
    char body[512];

    snprintf(body, sizeof(body), "%u %s\n", status, msg);
    return ckd_send(c, d, status, ckd_text("text/plain; charset=utf-8", body), 1);
}

enum MHD_Result ckd_json_error(struct MHD_Connection *c, const ckd *d, unsigned status,
                               const char *code, const char *msg)
{
    struct MHD_Response *r;
    char body[512];

    /* code and msg are fixed strings of ours: nothing to escape. */
    snprintf(body, sizeof(body), "{\"error\":\"%s\",\"message\":\"%s\"}\n", code, msg);
    r = ckd_text("application/json", body);
    if (r) {
        ckd_cors(c, d, r);
        if (status == MHD_HTTP_UNAUTHORIZED)
            MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                    "Bearer realm=\"checkup\"");
    }
    return ckd_send(c, d, status, r, 1);
}

/* CORS for the /v1 API: only listed origins, with credentials. */
void ckd_cors(struct MHD_Connection *c, const ckd *d, struct MHD_Response *r)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");

    MHD_add_response_header(r, "Vary", "Origin");
    if (!origin)
        return;
    for (size_t i = 0; i < d->dc.ncors; i++) {
        if (strcmp(origin, d->dc.cors[i]) == 0) {
            MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
            MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
            return;
        }
    }
}

/* Finds name=value in a Cookie header; several cookies of one name are refused. */
const char *ckd_cookie_value(const char *header, const char *name, size_t *len, int *dup)
{
    size_t nlen = strlen(name);
    const char *p = header, *found = NULL;

    *dup = 0;
    while (*p) {
        size_t vlen;

        p += strspn(p, " \t;");
        vlen = strcspn(p, ";");
        if (vlen > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            if (found)
                *dup = 1;
            found = p + nlen + 1;
            *len = vlen - nlen - 1;
            while (*len > 0 && (found[*len - 1] == ' ' || found[*len - 1] == '\t'))
                (*len)--;
        }
        p += vlen;
    }
    return found;
}

/*
 * The token of a request: Authorization: Bearer first (API clients), then
 * the session cookie. *malformed is set when something was sent but cannot
 * be a token (wrong scheme, two cookies, over CK_TOKEN_MAX).
 */
const char *ckd_request_token(struct MHD_Connection *c, const ckd *d, size_t *len,
                              int *malformed)
{
    const char *authz, *cookies, *tok;
    int dup = 0;

    *malformed = 0;
    authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0) {
            *malformed = 1;
            return NULL;
        }
        tok = authz + 7;
        tok += strspn(tok, " ");
        *len = strlen(tok);
        if (*len == 0 || *len > CK_TOKEN_MAX) {
            *malformed = 1;
            return NULL;
        }
        return tok;
    }
    cookies = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    if (!cookies)
        return NULL;
    tok = ckd_cookie_value(cookies, d->cookie_name, len, &dup);
    if (!tok)
        return NULL;
    if (dup || *len == 0 || *len > CK_TOKEN_MAX) {
        *malformed = 1;
        return NULL;
    }
    return tok;
}

void ckd_set_cookie(struct MHD_Response *r, const ckd *d, const char *token, int max_age)
{
    char domain[300] = "";
    size_t len;
    char *line;

    if (d->dc.cookie_domain[0])
        snprintf(domain, sizeof(domain), "; Domain=%s", d->dc.cookie_domain);
    len = strlen(d->cookie_name) + strlen(token) + strlen(domain) + 128;
    line = malloc(len);
    if (!line)
        return;
    snprintf(line, len, "%s=%s%s; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=%d",
             d->cookie_name, token, domain, max_age);
    MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, line);
    /* The line held the token: leave no copy in freed memory. */
    memset(line, 0, len);
    free(line);
}

/* scheme://host[:port] of a URL (without path), or "" when it has none. */
static void origin_of(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    size_t n;

    out[0] = '\0';
    if (!p)
        return;
    p += 3;
    n = (size_t)(p - url) + strcspn(p, "/?#");
    if (n >= outlen)
        return;
    memcpy(out, url, n);
    out[n] = '\0';
}

/*
 * State-changing requests must come from our own pages: the Origin header
 * (every current browser sends it on POST) or, failing that, the Referer.
 */
int ckd_same_origin(struct MHD_Connection *c, const ckd *d)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *referer;
    char ref_origin[CKD_URL_MAX];

    if (origin)
        return strcmp(origin, d->origin) == 0;
    referer = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_REFERER);
    if (!referer)
        return 0;
    origin_of(referer, ref_origin, sizeof(ref_origin));
    return strcmp(ref_origin, d->origin) == 0;
}

static int net_match(const ckd_net *n, int family, const unsigned char *addr)
{
    int full, rest;

    if (n->family != family)
        return 0;
    if (family == AF_UNIX)
        return 1;
    full = n->prefix / 8;
    rest = n->prefix % 8;
    if (memcmp(n->addr, addr, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((n->addr[full] ^ addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static int trusted(const ckd *d, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < d->dc.nproxies; i++)
        if (net_match(&d->dc.proxies[i], family, addr))
            return 1;
    return 0;
}

/* Parses one X-Forwarded-For element into family/addr; 0 on success. */
static int parse_addr(const char *s, size_t len, int *family, unsigned char addr[16])
{
    char buf[INET6_ADDRSTRLEN];

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = AF_INET6;
        return 0;
    }
    return -1;
}

static void addr_text(int family, const unsigned char *addr, char out[CKD_ADDR_MAX])
{
    if (family == AF_UNIX || !inet_ntop(family, addr, out, CKD_ADDR_MAX))
        snprintf(out, CKD_ADDR_MAX, "unix");
}

/*
 * Walks X-Forwarded-For from the right while the hop is a trusted proxy:
 * the first untrusted address is the client. Anything unreadable stops
 * the walk at the last address we could trust.
 */
void ckd_forwarded_client(const char *xff, const ckd *d, int *family,
                          unsigned char addr[16])
{
    size_t end = strlen(xff);

    while (end > 0) {
        size_t start = end, s, e;
        int fam;
        unsigned char a[16];

        while (start > 0 && xff[start - 1] != ',')
            start--;
        s = start + strspn(xff + start, " \t");
        e = end;
        while (e > s && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
            e--;
        if (parse_addr(xff + s, e - s, &fam, a) != 0)
            return;
        *family = fam;
        memcpy(addr, a, 16);
        if (!trusted(d, fam, a))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}

void ckd_client_addr(struct MHD_Connection *c, const ckd *d, char out[CKD_ADDR_MAX])
{
    const union MHD_ConnectionInfo *ci;
    const char *xff;
    unsigned char addr[16] = { 0 };
    int family = AF_UNIX;

    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        family = ci->client_addr->sa_family;
        if (family == AF_INET)
            memcpy(addr, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, 4);
        else if (family == AF_INET6)
            memcpy(addr, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr,
                   16);
        else
            family = AF_UNIX;
    }
    xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff && trusted(d, family, addr))
        ckd_forwarded_client(xff, d, &family, addr);
    addr_text(family, addr, out);
}

/* A path of ours: "/x...", never "//host" or "/\host", no controls. */
static int plain_path(const char *rd)
{
    if (rd[0] != '/' || rd[1] == '/' || rd[1] == '\\')
        return 0;
    for (const char *p = rd; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '\\' || (unsigned char)*p == 0x7f)
            return 0;
    return 1;
}

/* rd starts with entry, at a boundary (end, '/', '?' or '#' after it). */
static int prefix_match(const char *rd, const char *entry)
{
    size_t n = strlen(entry);

    if (strncmp(rd, entry, n) != 0)
        return 0;
    return entry[n - 1] == '/' || rd[n] == '\0' || rd[n] == '/' || rd[n] == '?' ||
           rd[n] == '#';
}

/*
 * Where a login may send the browser afterwards: a path under a listed
 * /prefix, or a URL under a listed absolute URL. With no list, any plain
 * path of this site. Nothing else, so no open redirect.
 */
int ckd_redirect_ok(const ckd *d, const char *rd)
{
    int absolute = strncmp(rd, "https://", 8) == 0 || strncmp(rd, "http://", 7) == 0;

    if (!absolute && !plain_path(rd))
        return 0;
    for (const char *p = rd; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '\\' || (unsigned char)*p == 0x7f)
            return 0;
    if (d->dc.nredirects == 0)
        return !absolute;
    for (size_t i = 0; i < d->dc.nredirects; i++) {
        const char *e = d->dc.redirects[i];
        int e_abs = e[0] != '/';

        if (e_abs == absolute && prefix_match(rd, e))
            return 1;
    }
    return 0;
}

/* HTML text escaping; returns -1 when out is too small. */
int ckd_html_escape(const char *in, char *out, size_t outlen)
{
    size_t o = 0;

    for (const char *p = in; *p; p++) {
        const char *rep = NULL;
        char one[2] = { *p, '\0' };
        size_t n;

        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: rep = one; break;
        }
        n = strlen(rep);
        if (o + n >= outlen)
            return -1;
        memcpy(out + o, rep, n);
        o += n;
    }
    out[o] = '\0';
    return 0;
}
