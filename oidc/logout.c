/*
 * logout.c - the two ways a provider's logout reaches us: the URL that
 * sends the browser to the provider's end_session_endpoint (RP-initiated
 * logout), and the logout token the provider POSTs to the daemon
 * (back-channel logout), which names the sessions to end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ck_clock.h"
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

static ck_oidc_status verify_logout_token(ck_oidc *o, const char *token, json_t **claims)
{
    ck_idtoken_policy pol;
    char reason[256];
    ck_idt_status vs;
    ck_oidc_status rc;
    int attempt;

    memset(&pol, 0, sizeof(pol));
    pol.issuer = o->p->issuer;
    pol.client_id = o->p->client_id;
    pol.nonce = NULL;
    pol.skew = o->p->clock_skew ? o->p->clock_skew : -1;
    pol.algs = o->p->algs[0] ? o->p->algs : NULL;
    for (attempt = 0; attempt < 2; attempt++) {
        pol.now = ck_now();
        vs = ck_idtoken_verify(token, strlen(token), &pol, o->meta->jwks, o->p->rp, claims,
                               reason, sizeof(reason));
        if (vs == CK_IDT_OK)
            return CK_OIDC_OK;
        if (vs != CK_IDT_UNKNOWN_KID || attempt > 0)
            break;
        rc = ck_oidc_jwks_refresh(o);
        if (rc != CK_OIDC_OK)
            return rc;
    }
    return ck_oidc_fail(o, CK_OIDC_REJECT, "logout_token: %s", reason);
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
    h = ck_b64url(md, sizeof(md));
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
