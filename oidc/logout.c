/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * logout.c - the two ways a provider's logout reaches us: the URL that
 * sends the browser to the provider's end_session_endpoint (RP-initiated
 * logout), and the logout token the provider POSTs to the daemon
 * (back-channel logout), which names the sessions to end.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include <cjose/cjose.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ck_clock.h"
#include "ck_encode.h"
#include "jose_internal.h"
#include "oidc_int.h"

#define BCL_EVENT "http://schemas.openid.net/event/backchannel-logout"
#define JTI_PREFIX "oidc-jti:"

ck_oidc_status ck_oidc_logout_url(ck_oidc *o, const char *id_token_hint,
                                  const char *post_logout_redirect_uri, const char *state,
                                  char **url)
{
    const ck_oidc_meta *m;
    char *q = NULL;
    size_t n;
    ck_oidc_status rc;
    int bad = 0;

    *url = NULL;
    o->err[0] = '\0';
    rc = ck_oidc_meta_get(o, &m);
    if (rc != CK_OIDC_OK)
        return rc;
    if (!m->end_session_endpoint)
        return ck_oidc_fail(o, CK_OIDC_ERR_PROVIDER,
                            "logout: the provider advertises no end_session_endpoint");
    bad |= ck_form_add(&q, "client_id", o->p->client_id);
    if (id_token_hint)
        bad |= ck_form_add(&q, "id_token_hint", id_token_hint);
    if (post_logout_redirect_uri)
        bad |= ck_form_add(&q, "post_logout_redirect_uri", post_logout_redirect_uri);
    if (state)
        bad |= ck_form_add(&q, "state", state);
    n = bad ? 0 : strlen(m->end_session_endpoint) + strlen(q) + 2;
    *url = n ? malloc(n) : NULL;
    if (*url)
        snprintf(*url, n, "%s%c%s", m->end_session_endpoint,
                 strchr(m->end_session_endpoint, '?') ? '&' : '?', q);
    free(q);
    return *url ? CK_OIDC_OK : ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
}

/*
 * Logout tokens are JWS with typ "logout+jwt", which ck_idtoken_verify
 * refuses by design (a typ keeps one kind of token from passing for
 * another). So they are verified here with cjose against the provider's
 * JWKS under the same rules: an asymmetric algorithm from the allowlist,
 * a key whose type fits it, chosen by kid.
 */
static const char *const default_algs[] = { "ES256", "RS256", "PS256", NULL };

static int alg_allowed(const ck_oidc_provider *p, const char *alg)
{
    const char *const *a = p->algs[0] ? p->algs : default_algs;

    for (; alg && *a; a++) {
        if (strcmp(*a, alg) == 0)
            return 1;
    }
    return 0;
}

static int key_fits(json_t *k, const char *alg)
{
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const char *use = json_string_value(json_object_get(k, "use"));
    const char *crv = json_string_value(json_object_get(k, "crv"));
    const char *kalg = json_string_value(json_object_get(k, "alg"));

    if (!kty || (use && strcmp(use, "sig") != 0) || (kalg && strcmp(kalg, alg) != 0))
        return 0;
    if (alg[0] == 'E')
        return strcmp(kty, "EC") == 0 && crv &&
               strcmp(crv, !strcmp(alg, "ES256") ? "P-256" :
                      !strcmp(alg, "ES384") ? "P-384" : "P-521") == 0;
    return strcmp(kty, "RSA") == 0;
}

/* 1 verified, 0 no key with this kid, -1 bad signature. */
static int jws_verify_by_kid(cjose_jws_t *jws, const char *jwks_json, const char *alg,
                             const char *kid)
{
    json_t *set = json_loads(jwks_json, 0, NULL), *k;
    size_t i;
    int found = 0, ok = 0;

    json_array_foreach(json_object_get(set, "keys"), i, k) {
        const char *kk = json_string_value(json_object_get(k, "kid"));
        cjose_jwk_t *jwk;
        cjose_err e;

        if ((kid && (!kk || strcmp(kk, kid) != 0)) || !key_fits(k, alg) ||
            !ck_jose_jwk_b64_ok(k))
            continue;
        found = 1;
        jwk = cjose_jwk_import_json((cjose_header_t *)k, &e);
        if (jwk && cjose_jws_verify(jws, jwk, &e))
            ok = 1;
        cjose_jwk_release(jwk);
        if (ok)
            break;
    }
    json_decref(set);
    return ok ? 1 : found ? -1 : 0;
}

static int has_aud(json_t *aud, const char *client_id)
{
    json_t *v;
    size_t i;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), client_id) == 0;
    json_array_foreach(aud, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), client_id) == 0)
            return 1;
    }
    return 0;
}

static ck_oidc_status check_logout_times(ck_oidc *o, json_t *c)
{
    json_t *iat = json_object_get(c, "iat"), *exp = json_object_get(c, "exp");
    int64_t now = ck_now(), skew = o->p->clock_skew;

    if (!json_is_string(json_object_get(c, "iss")) ||
        strcmp(json_string_value(json_object_get(c, "iss")), o->p->issuer) != 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: bad_iss: issuer is not the "
                            "configured one");
    if (!has_aud(json_object_get(c, "aud"), o->p->client_id))
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: bad_aud: client id not in aud");
    if (!json_is_integer(iat) || json_integer_value(iat) > now + skew)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: bad_iat: missing or in the future");
    if (!json_is_integer(exp) || json_integer_value(exp) <= now - skew)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: expired: exp missing or past");
    return CK_OIDC_OK;
}

static ck_oidc_status verify_jws(ck_oidc *o, cjose_jws_t *jws, const char *alg,
                                 const char *kid)
{
    int v = jws_verify_by_kid(jws, o->meta->jwks_json, alg, kid);
    ck_oidc_status rc;

    if (v == 0) {
        /* A key rotated in since the JWKS was fetched: one refetch. */
        rc = ck_oidc_jwks_refresh(o);
        if (rc != CK_OIDC_OK)
            return rc;
        v = jws_verify_by_kid(jws, o->meta->jwks_json, alg, kid);
    }
    if (v == 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: unknown_kid: no provider key "
                            "for this token");
    if (v < 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: bad_signature");
    return CK_OIDC_OK;
}

static size_t dots_in(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '.';
    return n;
}

/*
 * A provider that encrypts ID tokens (oidc-provider's FAPI 2.0 profile)
 * encrypts its logout tokens the same way: a compact JWE to one of our
 * enc keys around the signed JWS. It is opened with the ID token's JWE
 * code; what it holds is then verified as a plain logout token.
 */
static ck_oidc_status open_logout_jwe(ck_oidc *o, const char *token, uint8_t **inner,
                                      size_t *innerlen)
{
    char reason[160];

    *inner = NULL;
    *innerlen = 0;
    if (ck_jwe_decrypt(o->p->rp, token, strlen(token), inner, innerlen, reason,
                       sizeof(reason)) != 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: %s", reason);
    if (memchr(*inner, '\0', *innerlen) || dots_in((const char *)*inner) != 2) {
        OPENSSL_cleanse(*inner, *innerlen);
        free(*inner);
        *inner = NULL;
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: JWE content is not a compact JWS");
    }
    return CK_OIDC_OK;
}

static ck_oidc_status verify_logout_jws(ck_oidc *o, const char *token, json_t **claims);

static ck_oidc_status verify_logout_token(ck_oidc *o, const char *token, json_t **claims)
{
    uint8_t *inner = NULL;
    size_t innerlen = 0;
    ck_oidc_status rc;

    *claims = NULL;
    if (strlen(token) > CK_JOSE_MAX_INPUT)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: too large");
    if (dots_in(token) != 4)
        return verify_logout_jws(o, token, claims);
    rc = open_logout_jwe(o, token, &inner, &innerlen);
    if (rc != CK_OIDC_OK)
        return rc;
    rc = verify_logout_jws(o, (const char *)inner, claims);
    OPENSSL_cleanse(inner, innerlen);
    free(inner);
    return rc;
}

static ck_oidc_status verify_logout_jws(ck_oidc *o, const char *token, json_t **claims)
{
    cjose_jws_t *jws = NULL;
    cjose_header_t *hdr;
    const char *alg, *kid, *typ;
    uint8_t *plain = NULL;
    size_t plen = 0;
    cjose_err e;
    ck_oidc_status rc;

    *claims = NULL;
    if (strlen(token) > CK_JOSE_MAX_INPUT)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: too large");
    jws = ck_jose_compact_ok(token, strlen(token), 3) ?
          cjose_jws_import(token, strlen(token), &e) : NULL;
    hdr = jws ? cjose_jws_get_protected(jws) : NULL;
    if (!hdr) {
        rc = ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: not a compact JWS");
        goto out;
    }
    alg = cjose_header_get(hdr, "alg", &e);
    kid = cjose_header_get(hdr, "kid", &e);
    typ = cjose_header_get(hdr, "typ", &e);
    if (!alg_allowed(o->p, alg)) {
        rc = ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: bad_alg: not an allowed algorithm");
        goto out;
    }
    if (typ && strcasecmp(typ, "logout+jwt") != 0 && strcasecmp(typ, "JWT") != 0) {
        rc = ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: bad_typ: not a logout token");
        goto out;
    }
    rc = verify_jws(o, jws, alg, kid);
    if (rc != CK_OIDC_OK)
        goto out;
    if (!cjose_jws_get_plaintext(jws, &plain, &plen, &e)) {
        rc = ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: no payload");
        goto out;
    }
    *claims = json_loadb((const char *)plain, plen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(*claims)) {
        rc = ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: payload is not a JSON object");
        goto out;
    }
    rc = check_logout_times(o, *claims);
out:
    if (rc != CK_OIDC_OK) {
        json_decref(*claims);
        *claims = NULL;
    }
    cjose_jws_release(jws);
    return rc;
}

static ck_oidc_status check_logout_claims(ck_oidc *o, json_t *c, ck_oidc_logout *out)
{
    json_t *events = json_object_get(c, "events");
    json_t *sub = json_object_get(c, "sub"), *sid = json_object_get(c, "sid");

    if (!json_is_object(json_object_get(events, BCL_EVENT)))
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_no_event: no back-channel logout event");
    if (json_object_get(c, "nonce"))
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_nonce: a logout token carries no nonce");
    if (!json_is_string(json_object_get(c, "jti")) ||
        json_string_length(json_object_get(c, "jti")) == 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_no_jti: jti missing");
    if ((sub && !json_is_string(sub)) || (sid && !json_is_string(sid)) || (!sub && !sid))
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_no_subject: neither sid nor sub");
    if ((sub && json_string_length(sub) >= sizeof(out->sub)) ||
        (sid && json_string_length(sid) >= sizeof(out->sid)))
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_subject: sid or sub too long");
    if (sub)
        memcpy(out->sub, json_string_value(sub), json_string_length(sub) + 1);
    if (sid)
        memcpy(out->sid, json_string_value(sid), json_string_length(sid) + 1);
    if (sub && (!o->p->claim_user_id || strcmp(o->p->claim_user_id, "sub") == 0))
        memcpy(out->user_id, out->sub, sizeof(out->user_id));
    return CK_OIDC_OK;
}

/*
 * Marks the jti as seen. The store's failure counter is an atomic
 * increment on every backend: the first token counts 1, any replay more.
 * The name holds a hash of the jti, so its length and content are ours.
 */
static ck_oidc_status jti_once(ck_oidc *o, const char *jti, int window)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char name[CK_STATE_NAME_MAX], *h;
    int64_t count = 0;
    ck_status st;

    SHA256((const unsigned char *)jti, strlen(jti), md);
    h = ck_b64url_encode_dup(md, sizeof(md));
    if (!h)
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    snprintf(name, sizeof(name), JTI_PREFIX "%s:%s", o->p->name, h);
    free(h);
    st = ck_store_fail_add(o->st, name, window > 0 ? window : 600, &count);
    if (st != CK_OK)
        return ck_oidc_fail(o, CK_OIDC_ERR_STORE, "store: %s", ck_store_errstr(o->st));
    if (count > 1)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_replay: this logout token was seen before");
    return CK_OIDC_OK;
}

ck_oidc_status ck_oidc_backchannel_logout(ck_oidc *o, const char *logout_token, int jti_window,
                                          ck_oidc_logout *out)
{
    const ck_oidc_meta *m;
    json_t *claims = NULL;
    ck_oidc_status rc;

    memset(out, 0, sizeof(*out));
    o->err[0] = '\0';
    if (!logout_token || !logout_token[0])
        return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: missing");
    rc = ck_oidc_meta_get(o, &m);
    if (rc == CK_OIDC_OK)
        rc = verify_logout_token(o, logout_token, &claims);
    if (rc == CK_OIDC_OK)
        rc = check_logout_claims(o, claims, out);
    if (rc == CK_OIDC_OK)
        rc = jti_once(o, json_string_value(json_object_get(claims, "jti")), jti_window);
    if (rc != CK_OIDC_OK)
        memset(out, 0, sizeof(*out));
    json_decref(claims);
    return rc;
}
