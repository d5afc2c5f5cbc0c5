/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * device.c - the device authorization grant (RFC 8628), for terminal
 * logins: a user code to show, then polls of the token endpoint that honour
 * interval and slow_down. No nonce travels in this grant, so the ID token is
 * checked without one; everything else is as for the code flow.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ck_clock.h"
#include "oidc_int.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

static int copy_str(json_t *doc, const char *key, char *dst, size_t dstlen, int required)
{
    json_t *v = json_object_get(doc, key);

    dst[0] = '\0';
    if (!v)
        return required ? -1 : 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= dstlen)
        return -1;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static ck_oidc_status read_device_answer(ck_oidc *o, const ck_http_resp *r, ck_oidc_device *d)
{
    json_t *doc = json_loadb(r->body, r->len, 0, NULL);
    json_t *exp, *iv;
    ck_oidc_status rc = CK_OIDC_OK;

    if (!json_is_object(doc)) {
        rc = ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, "provider_bad_response",
                              "device: the answer is not a JSON object");
        goto out;
    }
    exp = json_object_get(doc, "expires_in");
    iv = json_object_get(doc, "interval");
    if (copy_str(doc, "device_code", d->device_code, sizeof(d->device_code), 1) != 0 ||
        copy_str(doc, "user_code", d->user_code, sizeof(d->user_code), 1) != 0 ||
        copy_str(doc, "verification_uri", d->verification_uri, sizeof(d->verification_uri), 1) ||
        copy_str(doc, "verification_uri_complete", d->verification_uri_complete,
                 sizeof(d->verification_uri_complete), 0) != 0 ||
        !json_is_integer(exp) || json_integer_value(exp) <= 0 ||
        json_integer_value(exp) > 86400 || (iv && !json_is_integer(iv))) {
        rc = ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, "provider_bad_response",
                              "device: a field is missing or malformed");
        goto out;
    }
    /* RFC 8628 3.2: 5 s when the provider names no interval. */
    d->interval = iv ? (int)json_integer_value(iv) : 5;
    if (d->interval < 1 || d->interval > 300)
        d->interval = 5;
    d->expires_at = ck_now() + json_integer_value(exp);
out:
    json_decref(doc);
    return rc;
}

ck_oidc_status ck_oidc_device_begin(ck_oidc *o, ck_oidc_device *d)
{
    const ck_oidc_meta *m;
    char *params = NULL;
    ck_http_resp r;
    ck_oidc_status rc;
    int bad = 0;

    memset(d, 0, sizeof(*d));
    o->err[0] = '\0';
    rc = ck_oidc_meta_get(o, &m);
    if (rc != CK_OIDC_OK)
        return rc;
    if (!m->device_authorization_endpoint)
        return ck_oidc_fail(o, CK_OIDC_ERR_PROVIDER,
                            "device: the provider advertises no device_authorization_endpoint");
    bad |= ck_form_add(&params, "client_id", o->p->client_id);
    bad |= ck_form_add(&params, "scope", o->p->scopes);
    if (bad) {
        free(params);
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    }
    rc = ck_oidc_post_form(o, "device", m->device_authorization_endpoint, params, 0, &r,
                           NULL, 0);
    free(params);
    if (rc != CK_OIDC_OK)
        return rc;
    rc = read_device_answer(o, &r, d);
    ck_http_resp_clear(&r);
    if (rc != CK_OIDC_OK)
        OPENSSL_cleanse(d, sizeof(*d));
    return rc;
}

ck_oidc_status ck_oidc_device_poll(ck_oidc *o, ck_oidc_device *d, ck_oidc_result *out)
{
    const ck_oidc_meta *m;
    char *params = NULL, code[80] = "";
    ck_http_resp r;
    ck_oidc_status rc;
    int bad = 0;

    memset(out, 0, sizeof(*out));
    o->err[0] = '\0';
    if (!d->device_code[0])
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "device: no device code");
    if (ck_now() >= d->expires_at)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "device_expired: the user code has expired");
    rc = ck_oidc_meta_get(o, &m);
    if (rc != CK_OIDC_OK)
        return rc;
    bad |= ck_form_add(&params, "grant_type", DEVICE_GRANT);
    bad |= ck_form_add(&params, "device_code", d->device_code);
    if (bad) {
        free(params);
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    }
    rc = ck_oidc_post_form(o, "token", m->token_endpoint, params, o->p->dpop, &r, code,
                           sizeof(code));
    OPENSSL_cleanse(params, strlen(params));
    free(params);
    if (rc == CK_OIDC_OK)
        return ck_oidc_tokens_finish(o, &r, NULL, NULL, out);
    if (rc != CK_OIDC_REJECT)
        return rc;
    if (strcmp(code, "authorization_pending") == 0)
        return ck_oidc_fail(o, CK_OIDC_PENDING, "authorization_pending");
    if (strcmp(code, "slow_down") == 0) {
        d->interval += 5;
        return ck_oidc_fail(o, CK_OIDC_PENDING, "slow_down: polling every %d s", d->interval);
    }
    if (strcmp(code, "access_denied") == 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "device_denied: the user refused");
    if (strcmp(code, "expired_token") == 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "device_expired: the user code has expired");
    return rc;
}

ck_oidc_status ck_oidc_device_wait(ck_oidc *o, ck_oidc_device *d, ck_oidc_result *out)
{
    ck_oidc_status rc;

    for (;;) {
        struct timespec ts = { d->interval, 0 };

        rc = ck_oidc_device_poll(o, d, out);
        if (rc != CK_OIDC_PENDING)
            return rc;
        if (ck_now() + d->interval >= d->expires_at)
            return ck_oidc_fail(o, CK_OIDC_REJECT, "device_expired: the user code has expired");
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
}
