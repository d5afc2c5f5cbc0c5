/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * oidc_flow_drive.c - a small command line over liboidc for the shell
 * integration tests and the bench:
 *
 *   oidc_flow_drive CONF PROVIDER rpjwks            public JWKS of the RP keys
 *   oidc_flow_drive CONF PROVIDER begin             prints "STATE URL"
 *   oidc_flow_drive CONF PROVIDER callback QUERY STATE
 *                                                   prints the identity, key=value
 *   oidc_flow_drive CONF PROVIDER device            device grant: prints
 *       "DEVICE <verification_uri_complete>", waits, prints the identity
 *   oidc_flow_drive CONF PROVIDER logout_url        RP-initiated logout URL
 *   oidc_flow_drive CONF PROVIDER bcl TOKEN         back-channel logout token:
 *       prints sid_set=, sub=, user_id= of the sessions to end
 *   oidc_flow_drive CONF PROVIDER logins N          N logins against an
 *       authorization endpoint that redirects at once (tests/idp/mockop.mjs);
 *       prints RESULT jwks_fetches_per_1000_logins=...
 *
 * The NRIC is never printed, only whether one was parsed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ck_config.h"
#include "ck_oidc.h"
#include "ck_store.h"

typedef struct drive {
    ck_config cfg;
    ck_oidc_providers *ps;
    ck_store *st;
    ck_oidc *o;
    const ck_oidc_provider *p;
} drive;

static int drive_open(drive *d, const char *conf, const char *provider)
{
    char err[512];

    ck_config_defaults(&d->cfg);
    d->ps = ck_oidc_providers_new();
    if (!d->ps)
        return -1;
    if (ck_config_load(&d->cfg, conf, ck_oidc_config_section, d->ps, err, sizeof(err)) != 0 ||
        ck_oidc_providers_finish(d->ps, conf, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    d->p = ck_oidc_provider_find(d->ps, provider);
    if (!d->p) {
        fprintf(stderr, "%s: no [provider %s]\n", conf, provider);
        return -1;
    }
    d->st = ck_store_open(&d->cfg, err, sizeof(err));
    if (!d->st) {
        fprintf(stderr, "store: %s\n", err);
        return -1;
    }
    d->o = ck_oidc_new(d->p, d->st);
    return d->o ? 0 : -1;
}

static void drive_close(drive *d)
{
    ck_oidc_free(d->o);
    ck_store_close(d->st);
    ck_oidc_providers_free(d->ps);
    ck_config_free(&d->cfg);
}

static void print_identity(const ck_oidc_result *r)
{
    const ck_identity *id = &r->id;

    /* A CorpPass legacy sub holds the NRIC: never print it. */
    if (id->cp_nric[0] && strstr(id->user_id, id->cp_nric))
        printf("user_id=(withheld: holds the NRIC)\n");
    else
        printf("user_id=%s\n", id->user_id);
    printf("email=%s\nrole=%s\nclinic_id=%s\nidp_sid_set=%d\n", id->email, id->role, id->clinic_id, id->idp_sid[0] != '\0');
    printf("is_corppass=%d\ncp_nric_set=%d\ncp_uuid=%s\ncp_cpuid=%s\ncp_country=%s\n",
           id->is_corppass, id->cp_nric[0] != '\0', id->cp_uuid, id->cp_cpuid, id->cp_country);
    printf("cp_entity_id=%s\ncp_entity_type=%s\ncp_role=%s\nreturn_to=%s\n", id->cp_entity_id,
           id->cp_entity_type, id->cp_role, r->return_to);
}

static size_t discard(char *data, size_t size, size_t n, void *ud)
{
    (void)data;
    (void)ud;
    return size * n;
}

/* The query of the redirect the authorization endpoint answers with. */
static char *redirect_query(const char *url)
{
    CURL *c = curl_easy_init();
    char *loc = NULL, *q = NULL;

    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (curl_easy_perform(c) == CURLE_OK &&
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc && strchr(loc, '?'))
        q = strdup(strchr(loc, '?') + 1);
    curl_easy_cleanup(c);
    return q;
}

static int logins(drive *d, long n)
{
    ck_oidc_stats s;
    long i;

    for (i = 0; i < n; i++) {
        char state[CK_OIDC_STATE_LEN], *url = NULL, *q;
        ck_oidc_result r;

        if (ck_oidc_auth_begin(d->o, "/", &url, state) != CK_OIDC_OK) {
            fprintf(stderr, "begin: %s\n", ck_oidc_errstr(d->o));
            return 1;
        }
        q = redirect_query(url);
        free(url);
        if (!q || ck_oidc_callback(d->o, q, state, &r) != CK_OIDC_OK) {
            fprintf(stderr, "login %ld: %s\n", i, q ? ck_oidc_errstr(d->o) : "no redirect");
            free(q);
            return 1;
        }
        free(q);
    }
    ck_oidc_get_stats(d->o, &s);
    printf("logins=%llu discovery_fetches=%llu jwks_fetches=%llu\n",
           (unsigned long long)s.logins, (unsigned long long)s.discovery_fetches,
           (unsigned long long)s.jwks_fetches);
    printf("RESULT jwks_fetches_per_1000_logins=%.2f\n",
           s.logins ? 1000.0 * (double)s.jwks_fetches / (double)s.logins : 0.0);
    return 0;
}

static int run(drive *d, int argc, char **argv)
{
    const char *cmd = argv[3];
    ck_oidc_result r;
    char state[CK_OIDC_STATE_LEN], *url = NULL, *jwks;
    ck_oidc_status rc;

    if (!strcmp(cmd, "rpjwks")) {
        jwks = ck_oidc_provider_rp_jwks(d->p);
        if (!jwks)
            return 1;
        printf("%s\n", jwks);
        free(jwks);
        return 0;
    }
    if (!strcmp(cmd, "begin")) {
        rc = ck_oidc_auth_begin(d->o, "/after-login", &url, state);
        if (rc != CK_OIDC_OK) {
            fprintf(stderr, "begin: %s: %s\n", ck_oidc_status_str(rc), ck_oidc_errstr(d->o));
            return 1;
        }
        printf("%s %s\n", state, url);
        free(url);
        return 0;
    }
    if (!strcmp(cmd, "callback") && argc == 6) {
        rc = ck_oidc_callback(d->o, argv[4], argv[5], &r);
        if (rc != CK_OIDC_OK) {
            fprintf(stderr, "callback: %s: %s\n", ck_oidc_status_str(rc),
                    ck_oidc_errstr(d->o));
            return 1;
        }
        print_identity(&r);
        return 0;
    }
    if (!strcmp(cmd, "device")) {
        ck_oidc_device dev;

        rc = ck_oidc_device_begin(d->o, &dev);
        if (rc == CK_OIDC_OK) {
            printf("DEVICE %s\n", dev.verification_uri_complete[0] ?
                   dev.verification_uri_complete : dev.verification_uri);
            fflush(stdout);
            rc = ck_oidc_device_wait(d->o, &dev, &r);
        }
        if (rc != CK_OIDC_OK) {
            fprintf(stderr, "device: %s: %s\n", ck_oidc_status_str(rc), ck_oidc_errstr(d->o));
            return 1;
        }
        print_identity(&r);
        return 0;
    }
    if (!strcmp(cmd, "logout_url")) {
        rc = ck_oidc_logout_url(d->o, NULL, NULL, NULL, &url);
        if (rc != CK_OIDC_OK) {
            fprintf(stderr, "logout_url: %s\n", ck_oidc_errstr(d->o));
            return 1;
        }
        printf("%s\n", url);
        free(url);
        return 0;
    }
    if (!strcmp(cmd, "bcl") && argc == 5) {
        ck_oidc_logout lo;

        rc = ck_oidc_backchannel_logout(d->o, argv[4], 0, &lo);
        if (rc != CK_OIDC_OK) {
            fprintf(stderr, "bcl: %s: %s\n", ck_oidc_status_str(rc), ck_oidc_errstr(d->o));
            return 1;
        }
        printf("sid_set=%d\nsub=%s\nuser_id=%s\n", lo.sid[0] != '\0', lo.sub, lo.user_id);
        return 0;
    }
    if (!strcmp(cmd, "logins") && argc == 5)
        return logins(d, strtol(argv[4], NULL, 10));
    fprintf(stderr, "unknown command\n");
    return 2;
}

int main(int argc, char **argv)
{
    drive d;
    int rc;

    if (argc < 4) {
        fprintf(stderr, "usage: %s CONF PROVIDER rpjwks|begin|callback QUERY STATE|logins N\n",
                argv[0]);
        return 2;
    }
    memset(&d, 0, sizeof(d));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = drive_open(&d, argv[1], argv[2]) == 0 ? run(&d, argc, argv) : 1;
    drive_close(&d);
    curl_global_cleanup();
    return rc;
}
