/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.c - every request to an identity provider, through libcurl.
 *
 * TLS verification is always on (a CA file may be named for tests);
 * redirects are never followed (a token endpoint that redirects is a
 * fault, and discovery must come from the issuer itself); the response is
 * capped at CK_HTTP_MAX_BODY and the transfer aborted past it; connect and
 * total timeouts bound every call. Plain http is allowed only to the
 * loopback address, and only when the issuer itself is http://127.0.0.1
 * (the integration tests). Bodies are never logged: they carry tokens.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "oidc_int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void ck_http_resp_clear(ck_http_resp *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static int is_loopback_http(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int ok = 0;

    if (!u)
        return 0;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    ok = strcmp(scheme, "http") == 0 && strcmp(host, "127.0.0.1") == 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

int ck_http_url_allowed(const ck_oidc_provider *p, const char *url)
{
    if (strncmp(url, "https://", 8) == 0)
        return 1;
    return is_loopback_http(p->issuer) && is_loopback_http(url);
}

typedef struct sink {
    ck_http_resp *r;
    size_t cap;
    int overflow;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    char *grown;

    if (s->r->len + n > CK_HTTP_MAX_BODY) {
        s->overflow = 1;
        return 0;           /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (s->r->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;

        while (cap < s->r->len + n + 1)
            cap *= 2;
        grown = realloc(s->r->body, cap);
        if (!grown)
            return 0;
        s->r->body = grown;
        s->cap = cap;
    }
    memcpy(s->r->body + s->r->len, data, n);
    s->r->len += n;
    s->r->body[s->r->len] = '\0';
    return n;
}

/* Copies the value of header "name:" into dst when this line is it. */
static void header_value(const char *line, size_t n, const char *name, char *dst,
                         size_t dstlen)
{
    size_t nl = strlen(name), vl;

    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    line += nl + 1;
    n -= nl + 1;
    while (n > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
        n--;
    vl = n < dstlen - 1 ? n : dstlen - 1;
    memcpy(dst, line, vl);
    dst[vl] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    ck_http_resp *r = ud;
    size_t n = size * nmemb;

    header_value(data, n, "Content-Type", r->content_type, sizeof(r->content_type));
    header_value(data, n, "DPoP-Nonce", r->dpop_nonce, sizeof(r->dpop_nonce));
    header_value(data, n, "WWW-Authenticate", r->www_authenticate,
                 sizeof(r->www_authenticate));
    return n;
}

static struct curl_slist *add_header(struct curl_slist *h, const char *name,
                                     const char *value, int *fail)
{
    char *line;
    struct curl_slist *n;
    size_t len;

    if (!value || *fail)
        return h;
    len = strlen(name) + strlen(value) + 3;
    line = malloc(len);
    if (!line) {
        *fail = 1;
        return h;
    }
    snprintf(line, len, "%s: %s", name, value);
    n = curl_slist_append(h, line);
    free(line);
    if (!n) {
        *fail = 1;
        return h;
    }
    return n;
}

static int set_options(CURL *c, const ck_oidc_provider *p, const ck_http_req *rq,
                       struct curl_slist *h, sink *s)
{
    long total_ms = (long)p->http_timeout * 1000;
    long connect_ms = total_ms < 5000 ? total_ms : 5000;
    int bad = 0;

    bad |= curl_easy_setopt(c, CURLOPT_URL, rq->url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                            (curl_off_t)CK_HTTP_MAX_BODY) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, s) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, s->r) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "checkup-oidc/1") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) != CURLE_OK;
    if (p->ca_file)
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_file) != CURLE_OK;
    if (rq->form) {
        bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->form) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                                (curl_off_t)strlen(rq->form)) != CURLE_OK;
    }
    if (rq->basic_user) {
        bad |= curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_USERNAME, rq->basic_user) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_PASSWORD, rq->basic_pass) != CURLE_OK;
    }
    return bad ? -1 : 0;
}

/* The endpoint without its query, for messages: queries may carry codes. */
static void url_for_msg(const char *url, char *dst, size_t dstlen)
{
    size_t n = strcspn(url, "?#");

    if (n > dstlen - 1)
        n = dstlen - 1;
    memcpy(dst, url, n);
    dst[n] = '\0';
}

int ck_http_do(const ck_oidc_provider *p, const ck_http_req *rq, ck_http_resp *out,
               char *err, size_t errlen)
{
    CURL *c = NULL;
    struct curl_slist *h = NULL;
    sink s = { out, 0, 0 };
    char where[256];
    CURLcode crc;
    int fail = 0, rc = -1, fault = CK_HTTP_NO_ANSWER;

    memset(out, 0, sizeof(*out));
    url_for_msg(rq->url, where, sizeof(where));
    if (!ck_http_url_allowed(p, rq->url)) {
        snprintf(err, errlen, "%s: only https is allowed", where);
        return -1;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(curl_init_rc));
        return -1;
    }
    c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "libcurl: cannot create a handle");
        return -1;
    }
    h = add_header(h, "Accept", rq->accept ? rq->accept : "application/json", &fail);
    h = add_header(h, "Authorization", rq->authorization, &fail);
    h = add_header(h, "DPoP", rq->dpop, &fail);
    if (rq->form)
        h = add_header(h, "Content-Type", "application/x-www-form-urlencoded", &fail);
    h = add_header(h, "Expect", "", &fail);
    if (fail || set_options(c, p, rq, h, &s) != 0) {
        snprintf(err, errlen, "libcurl: cannot set up the request");
        goto out;
    }
    crc = curl_easy_perform(c);
    if (s.overflow || crc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "%s: response larger than %d bytes, aborted", where,
                 CK_HTTP_MAX_BODY);
        fault = CK_HTTP_TOO_LARGE;
        goto out;
    }
    if (crc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(err, errlen, "%s: no complete answer within %d s", where, p->http_timeout);
        fault = CK_HTTP_TIMEOUT;
        goto out;
    }
    if (crc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", where, curl_easy_strerror(crc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    if (!out->body) {
        out->body = calloc(1, 1);
        if (!out->body) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    if (rc != 0) {
        ck_http_resp_clear(out);
        rc = fault;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

const char *ck_http_fault_reason(int hrc)
{
    if (hrc == CK_HTTP_TIMEOUT)
        return "provider_timeout";
    if (hrc == CK_HTTP_TOO_LARGE)
        return "provider_bad_response";
    return "provider_unavailable";
}
