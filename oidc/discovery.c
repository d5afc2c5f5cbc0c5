/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * discovery.c - the provider's metadata and key set.
 *
 * Both are fetched together and kept in the store under
 * "oidc-meta:<provider>" for jwks_cache_ttl seconds (default an hour), so
 * every process of the host shares one copy: without key rotation a
 * thousand logins cost at most one fetch. An ID token signed with a kid we
 * do not know triggers one JWKS refetch, at most once a minute across the
 * host (the time of the last such forced refetch is part of the cached
 * record). Ordinary fetches do not count against that limit: a provider
 * that rotates its keys between the start of a login (which fetched the
 * set) and its callback must not fail the login.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ck_clock.h"
#include "oidc_int.h"

#define META_PREFIX "oidc-meta:"
#define WELL_KNOWN "/.well-known/openid-configuration"

ck_oidc_status (ck_oidc_fail)(ck_oidc *o, ck_oidc_status rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(o->err, sizeof(o->err), fmt, ap);
    va_end(ap);
    o->reason = NULL;
    return rc;
}

ck_oidc_status (ck_oidc_fail_why)(ck_oidc *o, ck_oidc_status rc, const char *reason,
                                  const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(o->err, sizeof(o->err), fmt, ap);
    va_end(ap);
    o->reason = reason;
    return rc;
}

void ck_oidc_meta_free(ck_oidc_meta *m)
{
    if (!m)
        return;
    free(m->issuer);
    free(m->authorization_endpoint);
    free(m->token_endpoint);
    free(m->userinfo_endpoint);
    free(m->jwks_uri);
    free(m->par_endpoint);
    free(m->end_session_endpoint);
    free(m->device_authorization_endpoint);
    free(m->jwks_json);
    ck_jwks_free(m->jwks);
    free(m);
}

typedef struct field {
    const char *name;
    size_t off;
    int required;
} field;

#define F(n, member, req) { n, offsetof(ck_oidc_meta, member), req }
static const field fields[] = {
    F("issuer", issuer, 1),
    F("authorization_endpoint", authorization_endpoint, 1),
    F("token_endpoint", token_endpoint, 1),
    F("jwks_uri", jwks_uri, 1),
    F("userinfo_endpoint", userinfo_endpoint, 0),
    F("pushed_authorization_request_endpoint", par_endpoint, 0),
    F("end_session_endpoint", end_session_endpoint, 0),
    F("device_authorization_endpoint", device_authorization_endpoint, 0),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static char **field_ptr(ck_oidc_meta *m, const field *f)
{
    return (char **)(void *)((char *)m + f->off);
}

/* Reads the fields we use from a discovery document (or our cached copy). */
static ck_oidc_status meta_from_json(ck_oidc *o, json_t *doc, ck_oidc_meta *m)
{
    size_t i;

    for (i = 0; i < NFIELDS; i++) {
        json_t *v = json_object_get(doc, fields[i].name);
        char **dst = field_ptr(m, &fields[i]);

        if (!v && !fields[i].required)
            continue;
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 2048)
            return ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, "provider_bad_response",
                                    "discovery: %s missing or not a string", fields[i].name);
        if (strcmp(fields[i].name, "issuer") != 0 &&
            !ck_http_url_allowed(o->p, json_string_value(v)))
            return ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, "provider_bad_response",
                                    "discovery: %s is not an https URL", fields[i].name);
        *dst = strdup(json_string_value(v));
        if (!*dst)
            return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    }
    m->iss_param = json_is_true(json_object_get(doc,
                                "authorization_response_iss_parameter_supported"));
    return CK_OIDC_OK;
}

static json_t *meta_to_json(const ck_oidc_meta *m)
{
    json_t *doc = json_object();
    size_t i;
    int bad = !doc;

    for (i = 0; !bad && i < NFIELDS; i++) {
        char *const *v = (char *const *)(const void *)((const char *)m + fields[i].off);

        if (*v)
            bad |= json_object_set_new(doc, fields[i].name, json_string(*v)) != 0;
    }
    if (!bad) {
        bad |= json_object_set_new(doc, "authorization_response_iss_parameter_supported",
                                   json_boolean(m->iss_param)) != 0;
        bad |= json_object_set_new(doc, "ck_fetched", json_integer(m->fetched)) != 0;
        bad |= json_object_set_new(doc, "ck_jwks_fetched", json_integer(m->jwks_fetched)) != 0;
        bad |= json_object_set_new(doc, "ck_jwks_forced", json_integer(m->jwks_forced)) != 0;
        bad |= json_object_set_new(doc, "ck_jwks", json_string(m->jwks_json)) != 0;
    }
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static ck_oidc_status set_jwks(ck_oidc *o, ck_oidc_meta *m, const char *json, size_t len)
{
    ck_jwks *k = NULL;
    char sub[256];
    char *copy;

    if (ck_jwks_parse(json, len, &k, sub, sizeof(sub)) != 0)
        return ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, "jwks_unavailable", "jwks: %s", sub);
    copy = strndup(json, len);
    if (!copy) {
        ck_jwks_free(k);
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    }
    ck_jwks_free(m->jwks);
    free(m->jwks_json);
    m->jwks = k;
    m->jwks_json = copy;
    return CK_OIDC_OK;
}

static void meta_name(const ck_oidc *o, char *dst, size_t len)
{
    snprintf(dst, len, META_PREFIX "%s", o->p->name);
}

/* The cached record, when there is one and it is still fresh. */
static ck_oidc_status meta_load_cached(ck_oidc *o, int64_t now, ck_oidc_meta **out)
{
    char name[CK_STATE_NAME_MAX];
    void *v = NULL;
    size_t len = 0;
    json_t *doc = NULL, *k;
    ck_oidc_meta *m = NULL;
    ck_status st;
    ck_oidc_status rc = CK_OIDC_OK;

    *out = NULL;
    meta_name(o, name, sizeof(name));
    st = ck_store_state_get(o->st, name, &v, &len);
    if (st == CK_NOT_FOUND)
        return CK_OIDC_OK;
    if (st != CK_OK)
        return ck_oidc_fail(o, CK_OIDC_ERR_STORE, "store: %s", ck_store_errstr(o->st));
    doc = json_loadb(v, len, 0, NULL);
    free(v);
    m = calloc(1, sizeof(*m));
    if (!doc || !m)
        goto out;             /* unreadable cache: fetch again */
    k = json_object_get(doc, "ck_jwks");
    m->fetched = json_integer_value(json_object_get(doc, "ck_fetched"));
    m->jwks_fetched = json_integer_value(json_object_get(doc, "ck_jwks_fetched"));
    m->jwks_forced = json_integer_value(json_object_get(doc, "ck_jwks_forced"));
    if (!json_is_string(k) || m->fetched + o->p->jwks_cache_ttl <= now || m->fetched > now)
        goto out;
    if (meta_from_json(o, doc, m) != CK_OIDC_OK || strcmp(m->issuer, o->p->issuer) != 0)
        goto out;
    if (set_jwks(o, m, json_string_value(k), json_string_length(k)) != CK_OIDC_OK)
        goto out;
    *out = m;
    m = NULL;
out:
    o->err[0] = '\0';
    ck_oidc_meta_free(m);
    json_decref(doc);
    return rc;
}

static ck_oidc_status meta_save(ck_oidc *o, const ck_oidc_meta *m)
{
    char name[CK_STATE_NAME_MAX];
    json_t *doc = meta_to_json(m);
    char *text;
    ck_status st;

    if (!doc)
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    /* Too large to share: this process keeps its own copy. */
    if (strlen(text) > CK_STATE_VALUE_MAX) {
        free(text);
        return CK_OIDC_OK;
    }
    meta_name(o, name, sizeof(name));
    st = ck_store_state_put(o->st, name, text, strlen(text), o->p->jwks_cache_ttl);
    free(text);
    if (st != CK_OK)
        return ck_oidc_fail(o, CK_OIDC_ERR_STORE, "store: %s", ck_store_errstr(o->st));
    return CK_OIDC_OK;
}

/* jwks: every fault of the key set's fetch is audited as jwks_unavailable. */
static ck_oidc_status get_json(ck_oidc *o, const char *what, const char *url, json_t **out,
                               ck_http_resp *r)
{
    ck_http_req rq = { .method = "GET", .url = url };
    char sub[384];
    json_error_t je;
    int jwks = strcmp(what, "jwks") == 0, hrc;

    *out = NULL;
    hrc = ck_http_do(o->p, &rq, r, sub, sizeof(sub));
    if (hrc != 0)
        return ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER,
                                jwks ? "jwks_unavailable" : ck_http_fault_reason(hrc),
                                "%s: %s", what, sub);
    if (r->status != 200)
        return ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER,
                                jwks ? "jwks_unavailable" : r->status >= 500 ?
                                "provider_unavailable" : "provider_bad_response",
                                "%s: HTTP status %ld", what, r->status);
    *out = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER,
                                jwks ? "jwks_unavailable" : "provider_bad_response",
                                "%s: not a JSON object", what);
    }
    return CK_OIDC_OK;
}

static ck_oidc_status fetch_jwks(ck_oidc *o, ck_oidc_meta *m, int64_t now)
{
    ck_http_resp r;
    json_t *doc = NULL;
    ck_oidc_status rc;

    o->stats.jwks_fetches++;
    rc = get_json(o, "jwks", m->jwks_uri, &doc, &r);
    json_decref(doc);
    if (rc == CK_OIDC_OK)
        rc = set_jwks(o, m, r.body, r.len);
    if (rc == CK_OIDC_OK)
        m->jwks_fetched = now;
    ck_http_resp_clear(&r);
    return rc;
}

/* Fetches discovery and JWKS; save: keep the result in the store's cache. */
static ck_oidc_status meta_fetch(ck_oidc *o, int64_t now, int save, ck_oidc_meta **out)
{
    const char *iss = o->p->issuer;
    size_t il = strlen(iss);
    char *url = malloc(il + sizeof(WELL_KNOWN));
    ck_oidc_meta *m = calloc(1, sizeof(*m));
    ck_http_resp r;
    json_t *doc = NULL;
    ck_oidc_status rc;

    memset(&r, 0, sizeof(r));
    if (!url || !m) {
        rc = ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    /* RFC 8414 / OIDC Discovery: the issuer's path, then the well-known suffix. */
    if (il > 0 && iss[il - 1] == '/')
        il--;
    snprintf(url, il + sizeof(WELL_KNOWN), "%.*s%s", (int)il, iss, WELL_KNOWN);
    o->stats.discovery_fetches++;
    rc = get_json(o, "discovery", url, &doc, &r);
    if (rc == CK_OIDC_OK)
        rc = meta_from_json(o, doc, m);
    if (rc == CK_OIDC_OK && strcmp(m->issuer, iss) != 0)
        rc = ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, "issuer_mismatch",
                              "discovery_issuer_mismatch: the document names another issuer");
    if (rc != CK_OIDC_OK)
        goto out;
    m->fetched = now;
    rc = fetch_jwks(o, m, now);
    if (rc == CK_OIDC_OK && save)
        rc = meta_save(o, m);
    if (rc == CK_OIDC_OK) {
        *out = m;
        m = NULL;
    }
out:
    json_decref(doc);
    ck_http_resp_clear(&r);
    ck_oidc_meta_free(m);
    free(url);
    return rc;
}

ck_oidc_status ck_oidc_meta_get(ck_oidc *o, const ck_oidc_meta **out)
{
    int64_t now = ck_now();
    ck_oidc_meta *m = NULL;
    ck_oidc_status rc;

    if (o->meta && o->meta->fetched + o->p->jwks_cache_ttl > now && o->meta->fetched <= now) {
        *out = o->meta;
        return CK_OIDC_OK;
    }
    rc = meta_load_cached(o, now, &m);
    if (rc == CK_OIDC_OK && !m)
        rc = meta_fetch(o, now, 1, &m);
    if (rc != CK_OIDC_OK)
        return rc;
    ck_oidc_meta_free(o->meta);
    o->meta = m;
    *out = m;
    return CK_OIDC_OK;
}

ck_oidc_status ck_oidc_jwks_refresh(ck_oidc *o)
{
    int64_t now = ck_now();
    ck_oidc_meta *cached = NULL;
    ck_oidc_status rc;

    if (!o->meta)
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "jwks refresh without metadata");
    /* Another process may have refetched already: take its copy. */
    rc = meta_load_cached(o, now, &cached);
    if (rc != CK_OIDC_OK)
        return rc;
    if (cached && cached->jwks_fetched > o->meta->jwks_fetched) {
        ck_oidc_meta_free(o->meta);
        o->meta = cached;
        return CK_OIDC_OK;
    }
    /* A refetch forced elsewhere counts here too, even one that failed. */
    if (cached && cached->jwks_forced > o->meta->jwks_forced)
        o->meta->jwks_forced = cached->jwks_forced;
    ck_oidc_meta_free(cached);
    if (o->meta->jwks_forced > 0 && now - o->meta->jwks_forced < o->p->jwks_refetch_min &&
        o->meta->jwks_forced <= now)
        return ck_oidc_fail(o, CK_OIDC_REJECT,
                            "unknown_kid: no such key, and an unknown kid refetched the "
                            "JWKS %lld s ago", (long long)(now - o->meta->jwks_forced));
    /* Recorded before the fetch, so that a failed one counts too, host-wide. */
    o->meta->jwks_forced = now;
    rc = meta_save(o, o->meta);
    if (rc == CK_OIDC_OK)
        rc = fetch_jwks(o, o->meta, now);
    if (rc == CK_OIDC_OK)
        rc = meta_save(o, o->meta);
    return rc;
}

ck_oidc_status ck_oidc_provider_probe(const ck_oidc_provider *p, size_t *nkeys, char *err,
                                      size_t errlen)
{
    ck_oidc o;
    ck_oidc_meta *m = NULL;
    ck_oidc_status rc;

    /* No store: nothing is read from the cache or written to it. */
    memset(&o, 0, sizeof(o));
    o.p = p;
    *nkeys = 0;
    rc = meta_fetch(&o, ck_now(), 0, &m);
    if (rc == CK_OIDC_OK)
        *nkeys = ck_jwks_count(m->jwks);
    snprintf(err, errlen, "%s", rc == CK_OIDC_OK ? "" : o.err);
    ck_oidc_meta_free(m);
    return rc;
}
