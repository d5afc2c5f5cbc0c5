/* SPDX-License-Identifier: BSD-3-Clause */
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

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "checkupd.h"
#include "ck_encode.h"
#include "ck_encode.h"

#define HSTS "max-age=31536000; includeSubDomains"

struct MHD_Response *ckd_text(const char *type, const char *body)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r && type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return r;
}

int ckd_rate_over(ck_store *st, const char *prefix, const char *client, int window,
                  int64_t max, ck_status *err)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char name[80];
    size_t n = strlen(prefix);
    int64_t count = 0;

    if (n > sizeof(name) - 33) {
        *err = CK_ERR_INTERNAL;
        return 0;
    }
    SHA256((const unsigned char *)client, strlen(client), md);
    memcpy(name, prefix, n);
    ck_hex_encode(md, 16, name + n);
    *err = ck_store_fail_add(st, name, window, &count);
    return *err == CK_OK && count > max;
}

struct MHD_Response *ckd_take(const char *type, char *body)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return r;
}

struct MHD_Response *ckd_page(const char *title, const char *text, int back)
{
    char body[2048];
    struct MHD_Response *r;

    snprintf(body, sizeof(body),
             "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<title>%s - checkup</title>\n</head>\n<body>\n<main>\n<h1>%s</h1>\n"
             "<p>%s</p>\n%s</main>\n</body>\n</html>\n", title, title, text,
             back ? "<p><a href=\"/login\">Back to sign in</a></p>\n" : "");
    r = ckd_text("text/html; charset=utf-8", body);
    if (r)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
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

static int cors_listed(const ckd *d, const char *origin)
{
    for (size_t i = 0; i < d->dc.ncors; i++)
        if (strcmp(origin, d->dc.cors[i]) == 0)
            return 1;
    return 0;
}

/* CORS for the /v1 API: only listed origins, with credentials. */
void ckd_cors(struct MHD_Connection *c, const ckd *d, struct MHD_Response *r)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");

    MHD_add_response_header(r, "Vary", "Origin");
    if (origin && cors_listed(d, origin)) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
    }
}

/*
 * A browser names the page's origin on every POST, so a request without
 * one comes from a program (no cookie was sent for it by a third-party
 * page); one that names an origin must be ours or listed in cors_origins.
 */
int ckd_api_origin_ok(struct MHD_Connection *c, const ckd *d)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");

    return !origin || strcmp(origin, d->origin) == 0 || cors_listed(d, origin);
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
 * the session cookie. Any other Authorization scheme (Basic for a tool
 * behind auth_request, say) is not ours and falls through to the cookie.
 * *malformed is set when something was sent but cannot be a token (empty
 * or over-long Bearer, two cookies, over CK_TOKEN_MAX).
 */
/* The request names its token in Authorization: Bearer (not a cookie). */
int ckd_bearer_sent(struct MHD_Connection *c)
{
    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_AUTHORIZATION);

    return authz && strncasecmp(authz, "Bearer", 6) == 0 &&
           (authz[6] == ' ' || authz[6] == '\0');
}

const char *ckd_request_token(struct MHD_Connection *c, const ckd *d, size_t *len,
                              int *malformed)
{
    const char *authz, *cookies, *tok;
    int dup = 0;

    *malformed = 0;
    authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (ckd_bearer_sent(c)) {
        tok = authz + 6;
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
    /* The line held the token: leave no copy in freed memory (a memset
     * before free() is a dead store the compiler may drop). */
    OPENSSL_cleanse(line, len);
    free(line);
}

/* RFC 9110 tchar: what a method may be made of. */
static int is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

typedef struct framing {
    int content_length, transfer_encoding, te_chunked_only;
} framing;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    framing *f = cls;

    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->content_length++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        f->te_chunked_only = value && strcasecmp(value, "chunked") == 0;
    }
    return MHD_YES;
}

/*
 * Requests whose framing a proxy in front may read otherwise than we do
 * (RFC 9112 6.1 and 6.3: Content-Length beside Transfer-Encoding, a
 * transfer coding other than chunked, Content-Length twice) are the
 * stuff of request smuggling; a method or target with bytes no client
 * sends is garbage. Either way the rest of the connection cannot be read
 * safely, so it gets a 400 and is closed.
 */
const char *ckd_request_unsafe(struct MHD_Connection *c, const char *method, const char *url)
{
    framing f = { 0, 0, 0 };

    if (!method[0])
        return "malformed request line";
    for (const char *p = method; *p; p++)
        if (!is_tchar((unsigned char)*p))
            return "malformed request line";
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f)
            return "malformed request line";
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
    if (f.transfer_encoding && f.content_length)
        return "both Content-Length and Transfer-Encoding";
    if (f.transfer_encoding > 1 || (f.transfer_encoding && !f.te_chunked_only))
        return "unsupported Transfer-Encoding";
    if (f.content_length > 1)
        return "more than one Content-Length";
    return NULL;
}

enum MHD_Result ckd_refuse_close(struct MHD_Connection *c, const ckd *d, const char *msg)
{
    char body[256];
    struct MHD_Response *r;

    snprintf(body, sizeof(body), "400 %s\n", msg);
    r = ckd_text("text/plain; charset=utf-8", body);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    return ckd_send(c, d, MHD_HTTP_BAD_REQUEST, r, 1);
}

static int host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.';
}

static int ip6_char(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
           ch == ':' || ch == '.';
}

/*
 * An origin as a browser serialises it (RFC 6454): lower-case scheme and
 * host, the port only when it is not the scheme's default. The host is a
 * DNS name, an IPv4 address or a bracketed IPv6 address; user info,
 * percent escapes or an empty or out-of-range port cannot be normalised
 * and are refused. allow_path: a path may follow (public_url); its
 * trailing '/' are dropped. Query and fragment are refused.
 */
int ckd_origin_normalize(const char *url, char *out, size_t outlen, int allow_path,
                         const char **why)
{
    const char *p, *host, *port = NULL, *end;
    size_t hlen, n;
    int https;
    long pnum = 0;

    *why = "not an http:// or https:// URL";
    if (strncasecmp(url, "https://", 8) == 0)
        https = 1;
    else if (strncasecmp(url, "http://", 7) == 0)
        https = 0;
    else
        return -1;
    host = url + (https ? 8 : 7);
    end = host + strcspn(host, "/?#");
    *why = "the host is missing or has characters a host name cannot have";
    if (host[0] == '[') {
        p = host + 1;
        while (p < end && ip6_char(*p))
            p++;
        if (p == host + 1 || p >= end || *p != ']')
            return -1;
        p++;
    } else {
        p = host;
        while (p < end && host_char(*p))
            p++;
        if (p == host)
            return -1;
    }
    hlen = (size_t)(p - host);
    if (p < end) {
        char *e;

        *why = "the port is not a number in 1..65535";
        if (*p != ':' || p + 1 == end || p[1] < '0' || p[1] > '9')
            return -1;
        port = p + 1;
        pnum = strtol(port, &e, 10);
        if (e != end || pnum < 1 || pnum > 65535)
            return -1;
    }
    *why = allow_path ? "a query or fragment is not allowed" : "an origin has no path";
    if (strpbrk(end, "?#") || (!allow_path && end[strspn(end, "/")] != '\0'))
        return -1;
    if (port && pnum == (https ? 443 : 80))
        port = NULL;
    *why = "too long";
    n = (size_t)snprintf(out, outlen, "%s", https ? "https://" : "http://");
    if (n + hlen + 8 >= outlen)
        return -1;
    for (size_t i = 0; i < hlen; i++)
        out[n++] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
    if (port)
        n += (size_t)snprintf(out + n, outlen - n, ":%ld", pnum);
    out[n] = '\0';
    if (allow_path) {
        size_t plen = strlen(end);

        while (plen > 0 && end[plen - 1] == '/')
            plen--;
        if (n + plen >= outlen)
            return -1;
        memcpy(out + n, end, plen);
        out[n + plen] = '\0';
    }
    return 0;
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

int ckd_net_list_match(const ckd_net *nets, size_t n, int family, const unsigned char *addr);

static int trusted(const ckd *d, int family, const unsigned char *addr)
{
    return ckd_net_list_match(d->dc.proxies, d->dc.nproxies, family, addr);
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

int ckd_net_list_match(const ckd_net *nets, size_t n, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < n; i++)
        if (net_match(&nets[i], family, addr))
            return 1;
    return 0;
}

/* The peer's own address: family AF_INET, AF_INET6 or AF_UNIX. */
void ckd_peer_net(struct MHD_Connection *c, int *family, unsigned char addr[16])
{
    const union MHD_ConnectionInfo *ci;

    memset(addr, 0, 16);
    *family = AF_UNIX;
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    ckd_sockaddr_net(ci->client_addr, family, addr);
}

void ckd_sockaddr_net(const struct sockaddr *sa, int *family, unsigned char addr[16])
{
    memset(addr, 0, 16);
    *family = AF_UNIX;
    if (!sa)
        return;
    if (sa->sa_family == AF_INET) {
        *family = AF_INET;
        memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

        /* A dual-stack socket's ::ffff:a.b.c.d is the IPv4 client a.b.c.d. */
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            *family = AF_INET;
            memcpy(addr, s6->sin6_addr.s6_addr + 12, 4);
            return;
        }
        *family = AF_INET6;
        memcpy(addr, &s6->sin6_addr, 16);
    }
}

void ckd_client_net(struct MHD_Connection *c, const ckd *d, int *family,
                    unsigned char addr[16])
{
    const char *xff;

    ckd_peer_net(c, family, addr);
    xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff && trusted(d, *family, addr))
        ckd_forwarded_client(xff, d, family, addr);
}

void ckd_client_addr(struct MHD_Connection *c, const ckd *d, char out[CKD_ADDR_MAX])
{
    unsigned char addr[16];
    int family;

    ckd_client_net(c, d, &family, addr);
    addr_text(family, addr, out);
}

/*
 * /metrics only for the addresses of metrics_allow. The address is the
 * client's as for everything else: behind a trusted proxy the one it
 * forwards, so a proxy that passes /metrics on does not open it to all.
 */
int ckd_metrics_allowed(struct MHD_Connection *c, const ckd *d)
{
    unsigned char addr[16];
    int family;

    ckd_client_net(c, d, &family, addr);
    return ckd_net_list_match(d->dc.metrics_allow, d->dc.nmetrics_allow, family, addr);
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
 * Decodes the escapes that can hide path structure: %2e ('.'), %2f ('/')
 * and %5c (backslash); browsers read %2e as a dot in a path, and a back end
 * may decode the others. Other escapes stay as they are.
 */
static void decode_structure(char *p)
{
    char *w = p;

    for (; *p; p++) {
        if (p[0] == '%' && ck_hex_digit(p[1]) >= 0 && ck_hex_digit(p[2]) >= 0) {
            char ch = (char)(ck_hex_digit(p[1]) * 16 + ck_hex_digit(p[2]));

            if (ch == '.' || ch == '/' || ch == '\\') {
                *w++ = ch;
                p += 2;
                continue;
            }
        }
        *w++ = *p;
    }
    *w = '\0';
}

/* RFC 3986 5.2.4 remove_dot_segments, in place (the output never grows). */
static void remove_dots(char *in)
{
    char *out = in, *i = in;

    while (*i) {
        if (strncmp(i, "../", 3) == 0)
            i += 3;
        else if (strncmp(i, "./", 2) == 0 || strncmp(i, "/./", 3) == 0)
            i += 2;
        else if (strcmp(i, "/.") == 0)
            i[1] = '\0';
        else if (strncmp(i, "/../", 4) == 0 || strcmp(i, "/..") == 0) {
            /* The prefix becomes "/" and the last output segment goes. */
            if (i[3] == '/')
                i += 3;
            else
                *(i += 2) = '/';
            while (out > in && *--out != '/')
                ;
        } else if (strcmp(i, ".") == 0 || strcmp(i, "..") == 0)
            i += strlen(i);
        else {
            do
                *out++ = *i++;
            while (*i && *i != '/');
        }
    }
    *out = '\0';
}

/*
 * rd as the browser and the back end will read it: the path (up to '?'
 * or '#') with structural escapes decoded and dot segments removed, so
 * "/app/../x" or "/app/%2e%2e/x" is matched as "/x". NULL without memory.
 */
char *ckd_redirect_normalize(const char *rd)
{
    size_t n = strlen(rd), start = 0, end;
    const char *sep = strstr(rd, "://");
    char *path, *out;

    if (sep && (strncmp(rd, "https://", 8) == 0 || strncmp(rd, "http://", 7) == 0))
        start = (size_t)(sep + 3 - rd) + strcspn(sep + 3, "/?#");
    end = start + strcspn(rd + start, "?#");
    out = malloc(n + 1);
    path = malloc(end - start + 1);
    if (!out || !path) {
        free(out);
        free(path);
        return NULL;
    }
    memcpy(path, rd + start, end - start);
    path[end - start] = '\0';
    decode_structure(path);
    /* Dots are only resolved in an absolute path: "x/../y" is refused anyway. */
    if (path[0] == '/')
        remove_dots(path);
    memcpy(out, rd, start);
    snprintf(out + start, n + 1 - start, "%s%s", path, rd + end);
    free(path);
    return out;
}

static int redirect_ok_norm(const ckd *d, const char *rd)
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

/*
 * Where a login may send the browser afterwards: a path under a listed
 * /prefix, or a URL under a listed absolute URL. With no list, any plain
 * path of this site. Nothing else, so no open redirect. Both rd as sent
 * and rd normalised must pass: "/app/../x" is "/x", not under "/app/".
 */
int ckd_redirect_ok(const ckd *d, const char *rd)
{
    char *norm;
    int ok;

    if (!redirect_ok_norm(d, rd))
        return 0;
    norm = ckd_redirect_normalize(rd);
    ok = norm && redirect_ok_norm(d, norm);
    free(norm);
    return ok;
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
