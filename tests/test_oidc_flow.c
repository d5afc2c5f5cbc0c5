/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_oidc_flow.c - the relying party's protocol half against
 * tests/idp/mockop.mjs (started by tests/oidc_flow_mock.sh, which passes
 * CK_MOCKOP_URL, CK_MOCKOP_SECRET and CK_TEST_DIR): configuration errors,
 * the callback parser, a good login, every callback rejection, key
 * rotation, JWKS fetch counts and the token endpoint's faults.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "ck_clock.h"
#include "ck_config.h"
#include "ck_oidc.h"
#include "ck_store.h"
#include "lib/files.h"

static const char *mock_url;
static const char *mock_secret;
static const char *test_dir;
static const char *mock_tls_url;
static const char *mock_ca;
static int64_t clock_offset;

static int64_t shifted_clock(void)
{
    return (int64_t)time(NULL) + clock_offset;
}

typedef struct env {
    ck_config cfg;
    ck_oidc_providers *ps;
    ck_store *st;
    ck_oidc *o;
} env;

/* Loads text as checkup.conf; returns 0 or -1 with the message in err. */
static int load_conf(env *e, const char *text, char *err, size_t errlen)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/checkup.conf", test_dir);
    tf_printf(path, 0600, "%s", text);
    ck_config_defaults(&e->cfg);
    e->ps = ck_oidc_providers_new();
    assert_non_null(e->ps);
    if (ck_config_load(&e->cfg, path, ck_oidc_config_section, e->ps, err, errlen) != 0)
        return -1;
    return ck_oidc_providers_finish(e->ps, path, err, errlen);
}

static void env_close(env *e)
{
    ck_oidc_free(e->o);
    ck_store_close(e->st);
    ck_oidc_providers_free(e->ps);
    ck_config_free(&e->cfg);
    memset(e, 0, sizeof(*e));
}

/* The store: LMDB in a directory per test, or Redis ($CK_TEST_REDIS_URL)
 * with a key prefix per test, so that no test sees another's cache. */
static void store_conf(char *buf, size_t len, const char *store)
{
    const char *redis = getenv("CK_TEST_REDIS_URL");

    if (redis)
        snprintf(buf, len, "[store]\nurl = %s\nkey_prefix = ck-%s-%ld:\n", redis, store,
                 (long)getpid());
    else
        snprintf(buf, len, "[store]\nurl = lmdb:%s/%s\n", test_dir, store);
}

static void mock_conf(char *buf, size_t len, const char *store)
{
    char st[512];

    store_conf(st, sizeof(st), store);
    snprintf(buf, len,
             "%s"
             "[provider mock]\nissuer = %s\nclient_id = mock-client\n"
             "client_secret = %s\nredirect_uri = https://rp.example/cb\n"
             "scopes = openid email\nclaim_clinic = clinic_id\nhttp_timeout = 2\n"
             "[provider other]\nissuer = %s\nclient_id = mock-client\n"
             "client_secret = %s\nredirect_uri = https://rp.example/cb\n"
             "[provider tls]\nissuer = %s\nclient_id = mock-client\nca_file = %s\n"
             "client_secret = %s\nredirect_uri = https://rp.example/cb\n"
             "[provider tls-noca]\nissuer = %s\nclient_id = mock-client\n"
             "client_secret = %s\nredirect_uri = https://rp.example/cb\n"
             "[provider mock-ui]\nissuer = %s\nclient_id = mock-client\nuserinfo = yes\n"
             "client_secret = %s\nredirect_uri = https://rp.example/cb\n"
             "claim_role = phone\n"
             "[provider cleartext]\nissuer = http://localhost:1\nclient_id = mock-client\n"
             "client_secret = x\nredirect_uri = https://rp.example/cb\n",
             st, mock_url, mock_secret, mock_url, mock_secret, mock_tls_url,
             mock_ca, mock_secret, mock_tls_url, mock_secret, mock_url, mock_secret);
}

static void env_open(env *e, const char *provider, const char *store)
{
    char conf[4096], err[512], dir[512];
    const ck_oidc_provider *p;

    snprintf(dir, sizeof(dir), "%s/%s", test_dir, store);
    mkdir(dir, 0700);
    mock_conf(conf, sizeof(conf), store);
    if (load_conf(e, conf, err, sizeof(err)) != 0)
        fail_msg("config: %s", err);
    e->st = ck_store_open(&e->cfg, err, sizeof(err));
    if (!e->st)
        fail_msg("store: %s", err);
    p = ck_oidc_provider_find(e->ps, provider);
    assert_non_null(p);
    e->o = ck_oidc_new(p, e->st);
    assert_non_null(e->o);
}

/* ---- the test's side of HTTP -------------------------------------------- */

static size_t discard(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

static void ctl(const char *query)
{
    char url[1024];
    CURL *c = curl_easy_init();
    long status = 0;

    snprintf(url, sizeof(url), "%s/ctl?%s", mock_url, query);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    curl_easy_cleanup(c);
}

typedef struct buf {
    char data[8192];
    size_t len;
} buf;

static size_t keep(char *d, size_t s, size_t n, void *u)
{
    buf *b = u;

    if (b->len + s * n >= sizeof(b->data))
        return 0;
    memcpy(b->data + b->len, d, s * n);
    b->len += s * n;
    b->data[b->len] = '\0';
    return s * n;
}

/* A logout token minted by the mock: {"token":"..."} -> the token. */
static char *logout_token(const char *query)
{
    char url[1024], *t, *end;
    CURL *c = curl_easy_init();
    buf b;

    memset(&b, 0, sizeof(b));
    snprintf(url, sizeof(url), "%s/ctl/logout_token?%s", mock_url, query);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    t = strstr(b.data, "\"token\":\"");
    assert_non_null(t);
    t += 9;
    end = strchr(t, '"');
    assert_non_null(end);
    return strndup(t, (size_t)(end - t));
}

/* Plays the browser: GET the authorization URL, return the query of the redirect. */
static char *browse(const char *url)
{
    CURL *c = curl_easy_init();
    char *loc = NULL, *q;

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_CAINFO, mock_ca);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
    assert_non_null(loc);
    assert_true(strncmp(loc, "https://rp.example/cb?", 22) == 0);
    q = strdup(strchr(loc, '?') + 1);
    curl_easy_cleanup(c);
    return q;
}

static char *begin(env *e, char state[CK_OIDC_STATE_LEN])
{
    char *url = NULL, *q;
    ck_oidc_status rc = ck_oidc_auth_begin(e->o, "/after", &url, state);

    if (rc != CK_OIDC_OK)
        fail_msg("auth_begin: %s", ck_oidc_errstr(e->o));
    q = browse(url);
    free(url);
    return q;
}

static void expect_reject(env *e, const char *query, const char *bound, const char *word)
{
    ck_oidc_result r;
    ck_oidc_status rc = ck_oidc_callback(e->o, query, bound, &r);

    if (rc != CK_OIDC_REJECT || strncmp(ck_oidc_errstr(e->o), word, strlen(word)) != 0)
        fail_msg("expected %s, got %s: %s", word, ck_oidc_status_str(rc),
                 ck_oidc_errstr(e->o));
    assert_string_equal(r.id.user_id, "");
}

/* ---- configuration -------------------------------------------------------- */

static void expect_conf_error(const char *text, const char *want)
{
    env e;
    char err[512] = "";

    memset(&e, 0, sizeof(e));
    assert_int_equal(load_conf(&e, text, err, sizeof(err)), -1);
    if (!strstr(err, want))
        fail_msg("config error '%s' lacks '%s'", err, want);
    env_close(&e);
}

static void test_config_errors(void **state)
{
    char text[1024], path[512];

    (void)state;
    expect_conf_error("[provider a]\nclient_auth = magic\n",
                      "checkup.conf:2: [provider a] client_auth: 'magic' is not one of");
    expect_conf_error("[provider a]\nprofile = saml\n", ":2: [provider a] profile:");
    expect_conf_error("[provider a]\nhttp_timeout = 0\n", ":2: [provider a] http_timeout");
    expect_conf_error("[provider a]\nallowed_algs = ES256 HS256\n", "'HS256' is not an allowed");
    expect_conf_error("[provider a]\nallowed_algs = none\n", "'none' is not an allowed");
    expect_conf_error("[provider a]\nredirect_uri = ftp://x\n", "is not an http(s) URL");
    expect_conf_error("[provider a]\nbogus = 1\n", ":2: [provider a] bogus: unknown key");
    expect_conf_error("[provider bad name!]\nissuer = https://x\n", "provider name");
    expect_conf_error("[provider a]\nissuer = https://idp.example\n", "client_id is required");
    expect_conf_error("[provider a]\nissuer = https://idp.example\nclient_id = c\n"
                      "redirect_uri = https://rp.example/cb\n",
                      "client_secret or client_secret_file is required");
    expect_conf_error("[provider a]\nissuer = https://idp.example\nclient_id = c\n"
                      "redirect_uri = https://rp.example/cb\nprofile = corppass\n"
                      "client_auth = client_secret_basic\nclient_secret = s\n",
                      "CorpPass needs private_key_jwt");
    snprintf(path, sizeof(path), "%s/secret", test_dir);
    tf_printf(path, 0644, "%s", "s3cret\n");
    snprintf(text, sizeof(text), "[provider a]\nissuer = https://idp.example\nclient_id = c\n"
             "redirect_uri = https://rp.example/cb\nclient_secret_file = %s\n", path);
    expect_conf_error(text, "client_secret_file:");
    /* A CA file others can write would let them choose whom we trust. */
    snprintf(path, sizeof(path), "%s/ca-0666.pem", test_dir);
    tf_printf(path, 0666, "%s", "not read\n");
    snprintf(text, sizeof(text), "[provider a]\nissuer = https://idp.example\nclient_id = c\n"
             "redirect_uri = https://rp.example/cb\nclient_secret = s\nca_file = %s\n", path);
    expect_conf_error(text, "ca_file:");
}

static void test_config_good(void **state)
{
    env e;
    char text[1024], path[512], err[512] = "";
    const ck_oidc_provider *p;

    (void)state;
    memset(&e, 0, sizeof(e));
    snprintf(path, sizeof(path), "%s/secret-ok", test_dir);
    tf_printf(path, 0600, "%s", "s3cret\n");
    snprintf(text, sizeof(text), "[provider a]\nissuer = https://idp.example\nclient_id = c\n"
             "redirect_uri = https://rp.example/cb\nclient_secret_file = %s\n"
             "allowed_algs = ES256, PS256\njwks_cache_ttl = 3600\n"
             "[provider b]\nissuer = https://idp2.example\nclient_id = c\n"
             "redirect_uri = https://rp.example/cb\nclient_secret = x\n"
             "client_auth = client_secret_post\n", path);
    if (load_conf(&e, text, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(ck_oidc_providers_count(e.ps), 2);
    p = ck_oidc_provider_find(e.ps, "b");
    assert_non_null(p);
    assert_string_equal(ck_oidc_provider_name(p), "b");
    assert_null(ck_oidc_provider_find(e.ps, "c"));
    assert_null(ck_oidc_provider_rp_jwks(p));
    env_close(&e);
}

/* ---- callback query parser ---------------------------------------------- */

static void test_parse_callback(void **state)
{
    ck_oidc_cbparams p;
    char err[256];
    const char *q = "code=a%2Bb&state=s+1&iss=https%3A%2F%2Fidp&extra=1&&x";
    char big[CK_OIDC_QUERY_MAX + 2];

    (void)state;
    assert_int_equal(ck_oidc_parse_callback(q, strlen(q), &p, err, sizeof(err)), 0);
    assert_string_equal(p.code, "a+b");
    assert_string_equal(p.state, "s 1");
    assert_string_equal(p.iss, "https://idp");
    assert_null(p.error);
    ck_oidc_cbparams_clear(&p);
    q = "error=access_denied&state=";
    assert_int_equal(ck_oidc_parse_callback(q, strlen(q), &p, err, sizeof(err)), 0);
    assert_string_equal(p.error, "access_denied");
    assert_string_equal(p.state, "");
    ck_oidc_cbparams_clear(&p);
    q = "code=1&code=2";
    assert_int_equal(ck_oidc_parse_callback(q, strlen(q), &p, err, sizeof(err)), -1);
    assert_string_equal(err, "parameter code given twice");
    q = "state=%zz";
    assert_int_equal(ck_oidc_parse_callback(q, strlen(q), &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bad %-escape"));
    q = "state=abc%";
    assert_int_equal(ck_oidc_parse_callback(q, strlen(q), &p, err, sizeof(err)), -1);
    q = "state=a%00b";
    assert_int_equal(ck_oidc_parse_callback(q, strlen(q), &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "control character"));
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(ck_oidc_parse_callback(big, strlen(big), &p, err, sizeof(err)), -1);
    assert_int_equal(ck_oidc_parse_callback(NULL, 0, &p, err, sizeof(err)), -1);
}

/* ---- flows against the mock provider ------------------------------------ */

static void test_good_login_and_replay(void **state)
{
    env e;
    char st[CK_OIDC_STATE_LEN], *q;
    ck_oidc_result r;
    ck_oidc_status rc;

    (void)state;
    env_open(&e, "mock", "s-good");
    q = begin(&e, st);
    assert_true(strlen(st) >= 22);      /* >= 128 bits of base64url */
    rc = ck_oidc_callback(e.o, q, st, &r);
    if (rc != CK_OIDC_OK)
        fail_msg("callback: %s", ck_oidc_errstr(e.o));
    assert_string_equal(r.id.user_id, "alice");
    assert_string_equal(r.id.email, "alice@clinic.example");
    assert_string_equal(r.id.role, "doctor");
    assert_string_equal(r.id.clinic_id, "c-17");
    assert_string_equal(r.id.idp_sid, "idp-session-1");
    assert_string_equal(r.return_to, "/after");
    /* The same callback again: the pending login is gone. */
    expect_reject(&e, q, st, "unknown_state");
    free(q);
    env_close(&e);
}

static void test_state_rejections(void **state)
{
    env e;
    char st[CK_OIDC_STATE_LEN], *q;

    (void)state;
    env_open(&e, "mock", "s-state");
    q = begin(&e, st);
    /* The browser's binding cookie names another login. */
    expect_reject(&e, q, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "state_mismatch");
    /* Still pending: the mismatch did not burn it, the right browser can finish. */
    expect_reject(&e, "code=x&state=nosuchstate", NULL, "unknown_state");
    expect_reject(&e, "code=x", NULL, "missing_state");
    expect_reject(&e, "code=x&code=y&state=s", NULL, "bad_callback");
    {
        ck_oidc_result r;

        assert_int_equal(ck_oidc_callback(e.o, q, st, &r), CK_OIDC_OK);
    }
    free(q);
    env_close(&e);
}

static void test_iss_parameter(void **state)
{
    env e;
    char st[CK_OIDC_STATE_LEN], *q;

    (void)state;
    env_open(&e, "mock", "s-iss");
    ctl("iss_mode=missing");
    q = begin(&e, st);
    expect_reject(&e, q, st, "missing_iss");
    /* A failed callback burnt the pending login too. */
    expect_reject(&e, q, st, "unknown_state");
    free(q);
    ctl("iss_mode=wrong");
    q = begin(&e, st);
    expect_reject(&e, q, st, "wrong_iss");
    free(q);
    ctl("iss_mode=ok");
    env_close(&e);
}

static void test_idp_error(void **state)
{
    env e;
    char st[CK_OIDC_STATE_LEN], *q, query[256];

    (void)state;
    env_open(&e, "mock", "s-err");
    q = begin(&e, st);
    snprintf(query, sizeof(query), "error=access_denied%%0A&state=%s&iss=%s", st, mock_url);
    expect_reject(&e, query, st, "bad_callback");  /* control character */
    snprintf(query, sizeof(query), "error=access_denied&state=%s", st);
    expect_reject(&e, query, st, "idp_error: access_denied");
    free(q);
    env_close(&e);
}

static void test_discovery_issuer_mismatch(void **state)
{
    env e;
    char st[CK_OIDC_STATE_LEN], *url = NULL;

    (void)state;
    env_open(&e, "other", "s-disc");
    ctl("disc_issuer=https%3A%2F%2Fimpostor.example");
    assert_int_equal(ck_oidc_auth_begin(e.o, NULL, &url, st), CK_OIDC_ERR_PROVIDER);
    assert_null(url);
    assert_non_null(strstr(ck_oidc_errstr(e.o), "discovery_issuer_mismatch"));
    ctl("disc_issuer=");
    env_close(&e);
}

static void test_key_rotation(void **state)
{
    env e;
    char st[CK_OIDC_STATE_LEN], *q;
    ck_oidc_result r;
    ck_oidc_stats s;

    (void)state;
    env_open(&e, "mock", "s-rot");
    /* The start of the login fetched the JWKS; the provider rotates before
     * the callback: the unknown kid refetches at once and the login works. */
    q = begin(&e, st);
    ctl("rotate=1");
    if (ck_oidc_callback(e.o, q, st, &r) != CK_OIDC_OK)
        fail_msg("rotation between start and callback: %s", ck_oidc_errstr(e.o));
    free(q);
    ck_oidc_get_stats(e.o, &s);
    assert_int_equal(s.jwks_fetches, 2);
    /* A second unknown kid within the minute: no refetch (rate limit). */
    ctl("rotate=1");
    q = begin(&e, st);
    expect_reject(&e, q, st, "unknown_kid");
    free(q);
    ck_oidc_get_stats(e.o, &s);
    assert_int_equal(s.jwks_fetches, 2);
    /* A minute later the new key is fetched once and the login accepted. */
    clock_offset = 61;
    ck_clock_set(shifted_clock);
    q = begin(&e, st);
    if (ck_oidc_callback(e.o, q, st, &r) != CK_OIDC_OK)
        fail_msg("after rotation: %s", ck_oidc_errstr(e.o));
    free(q);
    ck_oidc_get_stats(e.o, &s);
    assert_int_equal(s.jwks_fetches, 3);
    ck_clock_set(NULL);
    clock_offset = 0;
    env_close(&e);
}

/* Logins on one handle and on a second one sharing the store (another process). */
static void test_jwks_cached(void **state)
{
    env e, e2;
    char st[CK_OIDC_STATE_LEN], *q;
    ck_oidc_result r;
    ck_oidc_stats s;
    int i;

    (void)state;
    env_open(&e, "mock", "s-cache");
    for (i = 0; i < 20; i++) {
        q = begin(&e, st);
        assert_int_equal(ck_oidc_callback(e.o, q, st, &r), CK_OIDC_OK);
        free(q);
    }
    ck_oidc_get_stats(e.o, &s);
    assert_int_equal(s.discovery_fetches, 1);
    assert_int_equal(s.jwks_fetches, 1);
    assert_int_equal(s.logins, 20);
    env_close(&e);
    env_open(&e2, "mock", "s-cache");
    q = begin(&e2, st);
    assert_int_equal(ck_oidc_callback(e2.o, q, st, &r), CK_OIDC_OK);
    free(q);
    ck_oidc_get_stats(e2.o, &s);
    assert_int_equal(s.discovery_fetches, 0);
    assert_int_equal(s.jwks_fetches, 0);
    env_close(&e2);
}

/* TLS: verified against the configured CA; refused without it; no cleartext. */
static void test_tls(void **state)
{
    env e;
    char st[CK_OIDC_STATE_LEN], *q, *url = NULL;
    ck_oidc_result r;

    (void)state;
    env_open(&e, "tls", "s-tls");
    q = begin(&e, st);
    if (ck_oidc_callback(e.o, q, st, &r) != CK_OIDC_OK)
        fail_msg("tls login: %s", ck_oidc_errstr(e.o));
    assert_string_equal(r.id.user_id, "alice");
    free(q);
    env_close(&e);
    env_open(&e, "tls-noca", "s-tls");
    assert_int_equal(ck_oidc_auth_begin(e.o, NULL, &url, st), CK_OIDC_ERR_PROVIDER);
    assert_null(url);
    if (!strstr(ck_oidc_errstr(e.o), "certificate"))
        fail_msg("no CA: %s", ck_oidc_errstr(e.o));
    env_close(&e);
    env_open(&e, "cleartext", "s-tls");
    assert_int_equal(ck_oidc_auth_begin(e.o, NULL, &url, st), CK_OIDC_ERR_PROVIDER);
    assert_non_null(strstr(ck_oidc_errstr(e.o), "only https is allowed"));
    env_close(&e);
}

/* Userinfo fills claims the ID token lacks; another subject there is refused. */
static void test_userinfo(void **state)
{
    env e;
    char st[CK_OIDC_STATE_LEN], *q;
    ck_oidc_result r;

    (void)state;
    env_open(&e, "mock-ui", "s-ui");
    q = begin(&e, st);
    if (ck_oidc_callback(e.o, q, st, &r) != CK_OIDC_OK)
        fail_msg("userinfo login: %s", ck_oidc_errstr(e.o));
    assert_string_equal(r.id.role, "+65 0000 0000");
    free(q);
    ctl("ui_sub=mallory");
    q = begin(&e, st);
    expect_reject(&e, q, st, "userinfo_sub_mismatch");
    free(q);
    ctl("ui_sub=");
    env_close(&e);
}

/* RFC 8628 against the mock: pending, slow_down (+5 s), approval; denial. */
static void test_device_flow(void **state)
{
    env e;
    ck_oidc_device d;
    ck_oidc_result r;

    (void)state;
    env_open(&e, "mock", "s-device");
    ctl("device=pending");
    if (ck_oidc_device_begin(e.o, &d) != CK_OIDC_OK)
        fail_msg("device begin: %s", ck_oidc_errstr(e.o));
    assert_string_equal(d.user_code, "WDJB-MJHT");
    assert_non_null(strstr(d.verification_uri, "/activate"));
    assert_int_equal(d.interval, 1);
    assert_int_equal(ck_oidc_device_poll(e.o, &d, &r), CK_OIDC_PENDING);
    assert_string_equal(ck_oidc_errstr(e.o), "authorization_pending");
    ctl("device=slow");
    assert_int_equal(ck_oidc_device_poll(e.o, &d, &r), CK_OIDC_PENDING);
    assert_int_equal(d.interval, 6);
    ctl("device=approve");
    if (ck_oidc_device_poll(e.o, &d, &r) != CK_OIDC_OK)
        fail_msg("device poll: %s", ck_oidc_errstr(e.o));
    assert_string_equal(r.id.user_id, "alice");
    assert_string_equal(r.id.clinic_id, "c-17");
    /* The device code was single use. */
    assert_int_equal(ck_oidc_device_poll(e.o, &d, &r), CK_OIDC_REJECT);
    ctl("device=deny");
    assert_int_equal(ck_oidc_device_begin(e.o, &d), CK_OIDC_OK);
    assert_int_equal(ck_oidc_device_poll(e.o, &d, &r), CK_OIDC_REJECT);
    assert_non_null(strstr(ck_oidc_errstr(e.o), "device_denied"));
    /* An expired code is refused without asking the provider. */
    d.expires_at = 1;
    assert_int_equal(ck_oidc_device_poll(e.o, &d, &r), CK_OIDC_REJECT);
    assert_non_null(strstr(ck_oidc_errstr(e.o), "device_expired"));
    ctl("device=pending");
    env_close(&e);
}

static void expect_logout_reject(env *e, const char *query, const char *word)
{
    char *t = logout_token(query);
    ck_oidc_logout lo;
    ck_oidc_status rc = ck_oidc_backchannel_logout(e->o, t, 0, &lo);

    if (rc != CK_OIDC_REJECT || !strstr(ck_oidc_errstr(e->o), word))
        fail_msg("logout token (%s): expected %s, got %s: %s", query, word,
                 ck_oidc_status_str(rc), ck_oidc_errstr(e->o));
    assert_string_equal(lo.sid, "");
    free(t);
}

static void test_logout(void **state)
{
    env e;
    ck_oidc_logout lo;
    char *t, *url = NULL;

    (void)state;
    env_open(&e, "mock", "s-logout");
    t = logout_token("jti=first");
    if (ck_oidc_backchannel_logout(e.o, t, 0, &lo) != CK_OIDC_OK)
        fail_msg("logout token: %s", ck_oidc_errstr(e.o));
    assert_string_equal(lo.sid, "idp-session-1");
    assert_string_equal(lo.sub, "alice");
    assert_string_equal(lo.user_id, "alice");
    /* The same token again: its jti was seen. */
    assert_int_equal(ck_oidc_backchannel_logout(e.o, t, 0, &lo), CK_OIDC_REJECT);
    assert_non_null(strstr(ck_oidc_errstr(e.o), "logout_replay"));
    free(t);
    expect_logout_reject(&e, "nonce=1", "logout_nonce");
    expect_logout_reject(&e, "noevent=1", "logout_no_event");
    expect_logout_reject(&e, "aud=someone-else", "logout_token: bad_aud");
    expect_logout_reject(&e, "typ=at%2Bjwt", "logout_token: bad_typ");
    t = logout_token("jti=tampered");
    t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(ck_oidc_backchannel_logout(e.o, t, 0, &lo), CK_OIDC_REJECT);
    assert_non_null(strstr(ck_oidc_errstr(e.o), "logout_token: bad_signature"));
    free(t);
    assert_int_equal(ck_oidc_backchannel_logout(e.o, "not.a.token", 0, &lo), CK_OIDC_REJECT);
    /* A JWE logout token: this provider has no enc key, and garbage is refused. */
    assert_int_equal(ck_oidc_backchannel_logout(e.o, "eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.a.b.c.d",
                                                0, &lo), CK_OIDC_REJECT);
    assert_non_null(strstr(ck_oidc_errstr(e.o), "logout_token: no_enc_key"));
    assert_int_equal(ck_oidc_backchannel_logout(e.o, "....", 0, &lo), CK_OIDC_REJECT);
    assert_int_equal(ck_oidc_backchannel_logout(e.o, "", 0, &lo), CK_OIDC_REJECT);
    t = logout_token("nosid=1");
    assert_int_equal(ck_oidc_backchannel_logout(e.o, t, 0, &lo), CK_OIDC_OK);
    assert_string_equal(lo.sid, "");
    assert_string_equal(lo.user_id, "alice");
    free(t);
    t = logout_token("nosub=1");
    assert_int_equal(ck_oidc_backchannel_logout(e.o, t, 0, &lo), CK_OIDC_OK);
    assert_string_equal(lo.sid, "idp-session-1");
    assert_string_equal(lo.user_id, "");
    free(t);
    expect_logout_reject(&e, "nosub=1&nosid=1", "logout_no_subject");
    /* RP-initiated logout */
    assert_int_equal(ck_oidc_logout_url(e.o, NULL, "https://rp.example/bye", "s 1", &url),
                     CK_OIDC_OK);
    assert_non_null(strstr(url, "/logout?client_id=mock-client&"
                           "post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&state=s%201"));
    free(url);
    env_close(&e);
}

static long maxrss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void fault(env *e, const char *mode, ck_oidc_status want, const char *msg)
{
    char st[CK_OIDC_STATE_LEN], *q, ctlq[64];
    ck_oidc_result r;
    ck_oidc_status rc;
    struct timespec t0, t1;
    double secs;

    snprintf(ctlq, sizeof(ctlq), "token_mode=%s", mode);
    ctl(ctlq);
    q = begin(e, st);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = ck_oidc_callback(e->o, q, st, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# token endpoint %-9s -> %s in %.2f s: %s\n", mode, ck_oidc_status_str(rc), secs,
           ck_oidc_errstr(e->o));
    if (rc != want || !strstr(ck_oidc_errstr(e->o), msg))
        fail_msg("%s: expected '%s', got %s: %s", mode, msg, ck_oidc_status_str(rc),
                 ck_oidc_errstr(e->o));
    /* http_timeout = 2 bounds every answer, the slow one included. */
    assert_true(secs < 4.0);
    free(q);
}

static void test_token_endpoint_faults(void **state)
{
    env e;
    long before;

    (void)state;
    env_open(&e, "mock", "s-fault");
    before = maxrss_kb();
    fault(&e, "400", CK_OIDC_REJECT, "token: HTTP status 400, error invalid_grant");
    fault(&e, "500html", CK_OIDC_ERR_PROVIDER, "token: HTTP status 500, error (not JSON)");
    fault(&e, "redirect", CK_OIDC_ERR_PROVIDER, "token: HTTP status 307");
    fault(&e, "truncated", CK_OIDC_ERR_PROVIDER, "token: the answer is not a JSON object");
    fault(&e, "huge", CK_OIDC_ERR_PROVIDER, "response larger than 1048576 bytes, aborted");
    fault(&e, "hang", CK_OIDC_ERR_PROVIDER, "no complete answer within 2 s");
    ctl("token_mode=ok");
    /* A 50 MB answer left no more than the 1 MiB cap (plus slack) behind. */
    printf("# max RSS grew by %ld KiB over the faults\n", maxrss_kb() - before);
    assert_true(maxrss_kb() - before < 16 * 1024);
    env_close(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_good),
        cmocka_unit_test(test_parse_callback),
        cmocka_unit_test(test_good_login_and_replay),
        cmocka_unit_test(test_state_rejections),
        cmocka_unit_test(test_iss_parameter),
        cmocka_unit_test(test_idp_error),
        cmocka_unit_test(test_discovery_issuer_mismatch),
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_jwks_cached),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_userinfo),
        cmocka_unit_test(test_device_flow),
        cmocka_unit_test(test_logout),
        cmocka_unit_test(test_token_endpoint_faults),
    };

    mock_url = getenv("CK_MOCKOP_URL");
    mock_secret = getenv("CK_MOCKOP_SECRET");
    test_dir = getenv("CK_TEST_DIR");
    mock_tls_url = getenv("CK_MOCKOP_TLS_URL");
    mock_ca = getenv("CK_MOCKOP_CA");
    if (!mock_url || !mock_secret || !test_dir || !mock_tls_url || !mock_ca) {
        fprintf(stderr, "run through tests/oidc_flow_mock.sh\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("# store: %s\n", getenv("CK_TEST_REDIS_URL") ? "redis" : "lmdb");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
