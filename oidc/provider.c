/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * provider.c - [provider NAME] sections of checkup.conf.
 *
 * ck_config_load hands us each key of a section it does not know; values
 * are checked here one by one (the loader prefixes file:line: [section]
 * key:), and ck_oidc_providers_finish checks what needs the whole section:
 * required keys, combinations, secrets and key files.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ck_secfile.h"
#include "oidc_int.h"

#define SECTION_PREFIX "provider "
#define CLIENT_SECRET_MAX 4096

ck_oidc_providers *ck_oidc_providers_new(void)
{
    return calloc(1, sizeof(ck_oidc_providers));
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static void provider_free(ck_oidc_provider *p)
{
    free(p->name);
    free(p->issuer);
    free(p->client_id);
    wipe_free(p->client_secret);
    free(p->client_secret_file);
    free(p->scopes);
    free(p->redirect_uri);
    free(p->claim_user_id);
    free(p->claim_email);
    free(p->claim_role);
    free(p->claim_clinic);
    free(p->algs_text);
    free(p->signing_key);
    free(p->signing_key_old);
    free(p->encryption_key);
    free(p->encryption_key_old);
    free(p->dpop_key);
    free(p->ca_file);
    free(p->acr);
    ck_rp_keys_free(p->rp);
    ck_rp_keys_free(p->dpop_keys);
    free(p);
}

void ck_oidc_providers_free(ck_oidc_providers *ps)
{
    ck_oidc_provider *p, *next;

    if (!ps)
        return;
    for (p = ps->head; p; p = next) {
        next = p->next;
        provider_free(p);
    }
    free(ps);
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return 0;
    }
    return 1;
}

static ck_oidc_provider *provider_get(ck_oidc_providers *ps, const char *name, int lineno)
{
    ck_oidc_provider *p, **tail = &ps->head;

    for (p = ps->head; p; p = p->next) {
        if (strcmp(p->name, name) == 0)
            return p;
        tail = &p->next;
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->name = strdup(name);
    if (!p->name) {
        free(p);
        return NULL;
    }
    p->client_auth = -1;
    p->profile = CK_PROF_OIDC;
    p->par = -1;
    p->dpop = -1;
    p->userinfo = -1;
    p->clock_skew = CK_IDT_DEFAULT_SKEW;
    p->http_timeout = 10;
    p->jwks_cache_ttl = 3600;
    p->jwks_refetch_min = 60;
    p->lineno = lineno;
    *tail = p;
    ps->count++;
    return p;
}

static int set_str(char **dst, const char *value, char *err, size_t errlen)
{
    char *s;

    if (value[0] == '\0') {
        snprintf(err, errlen, "empty value");
        return 0;
    }
    s = strdup(value);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    if (*dst)
        wipe_free(*dst);
    *dst = s;
    return 1;
}

static int set_int(int *dst, const char *value, long lo, long hi, char *err, size_t errlen)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (errno || end == value || *end != '\0' || v < lo || v > hi) {
        snprintf(err, errlen, "'%.64s' is not a number in %ld..%ld", value, lo, hi);
        return 0;
    }
    *dst = (int)v;
    return 1;
}

static int set_bool(int *dst, const char *value, char *err, size_t errlen)
{
    if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1")) {
        *dst = 1;
        return 1;
    }
    if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0")) {
        *dst = 0;
        return 1;
    }
    snprintf(err, errlen, "'%.64s' is not yes or no", value);
    return 0;
}

static int set_enum(int *dst, const char *value, const char *const *names, int n,
                    char *err, size_t errlen)
{
    int i;
    size_t off;

    for (i = 0; i < n; i++) {
        if (strcmp(value, names[i]) == 0) {
            *dst = i;
            return 1;
        }
    }
    off = (size_t)snprintf(err, errlen, "'%.64s' is not one of", value);
    for (i = 0; i < n && off < errlen; i++)
        off += (size_t)snprintf(err + off, errlen - off, "%s %s", i ? "," : "", names[i]);
    return 0;
}

static const char *const auth_names[] = {
    "client_secret_basic", "client_secret_post", "private_key_jwt"
};
static const char *const profile_names[] = { "oidc", "corppass", "corppass-fapi2" };
static const char *const known_algs[] = {
    "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"
};

/* allowed_algs: a comma or space separated subset of the asymmetric algorithms. */
static int set_algs(ck_oidc_provider *p, const char *value, char *err, size_t errlen)
{
    char *copy, *tok, *save = NULL;
    size_t n = 0, i;

    copy = strdup(value);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        const char *found = NULL;

        for (i = 0; i < sizeof(known_algs) / sizeof(known_algs[0]); i++) {
            if (strcmp(tok, known_algs[i]) == 0)
                found = known_algs[i];
        }
        if (!found) {
            snprintf(err, errlen, "'%.32s' is not an allowed signing algorithm "
                     "(ES256..ES512, RS256..RS512, PS256..PS512; never none or HS*)", tok);
            free(copy);
            return 0;
        }
        if (n == CK_OIDC_MAX_ALGS) {
            snprintf(err, errlen, "more than %d algorithms", CK_OIDC_MAX_ALGS);
            free(copy);
            return 0;
        }
        p->algs[n++] = found;
    }
    free(copy);
    if (n == 0) {
        snprintf(err, errlen, "no algorithm given");
        return 0;
    }
    p->algs[n] = NULL;
    return set_str(&p->algs_text, value, err, errlen);
}

static int set_url(char **dst, const char *value, char *err, size_t errlen)
{
    if (strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0) {
        snprintf(err, errlen, "'%.128s' is not an http(s) URL", value);
        return 0;
    }
    if (strchr(value, ' ') || strchr(value, '#')) {
        snprintf(err, errlen, "a URL holds no spaces or fragment");
        return 0;
    }
    return set_str(dst, value, err, errlen);
}

static int provider_key(ck_oidc_provider *p, const char *name, const char *value,
                        char *err, size_t errlen)
{
    int n_auth = (int)(sizeof(auth_names) / sizeof(auth_names[0]));
    int n_prof = (int)(sizeof(profile_names) / sizeof(profile_names[0]));

    if (!strcmp(name, "issuer"))
        return set_url(&p->issuer, value, err, errlen);
    if (!strcmp(name, "client_id"))
        return set_str(&p->client_id, value, err, errlen);
    if (!strcmp(name, "client_secret"))
        return set_str(&p->client_secret, value, err, errlen);
    if (!strcmp(name, "client_secret_file"))
        return set_str(&p->client_secret_file, value, err, errlen);
    if (!strcmp(name, "client_auth"))
        return set_enum(&p->client_auth, value, auth_names, n_auth, err, errlen);
    if (!strcmp(name, "profile"))
        return set_enum(&p->profile, value, profile_names, n_prof, err, errlen);
    if (!strcmp(name, "scopes"))
        return set_str(&p->scopes, value, err, errlen);
    if (!strcmp(name, "redirect_uri"))
        return set_url(&p->redirect_uri, value, err, errlen);
    if (!strcmp(name, "claim_user_id"))
        return set_str(&p->claim_user_id, value, err, errlen);
    if (!strcmp(name, "claim_email"))
        return set_str(&p->claim_email, value, err, errlen);
    if (!strcmp(name, "claim_role"))
        return set_str(&p->claim_role, value, err, errlen);
    if (!strcmp(name, "claim_clinic"))
        return set_str(&p->claim_clinic, value, err, errlen);
    if (!strcmp(name, "allowed_algs"))
        return set_algs(p, value, err, errlen);
    if (!strcmp(name, "signing_key"))
        return set_str(&p->signing_key, value, err, errlen);
    if (!strcmp(name, "signing_key_old"))
        return set_str(&p->signing_key_old, value, err, errlen);
    if (!strcmp(name, "encryption_key"))
        return set_str(&p->encryption_key, value, err, errlen);
    if (!strcmp(name, "encryption_key_old"))
        return set_str(&p->encryption_key_old, value, err, errlen);
    if (!strcmp(name, "dpop_key"))
        return set_str(&p->dpop_key, value, err, errlen);
    if (!strcmp(name, "ca_file"))
        return set_str(&p->ca_file, value, err, errlen);
    if (!strcmp(name, "authentication_context_type"))
        return set_str(&p->acr, value, err, errlen);
    if (!strcmp(name, "par"))
        return set_bool(&p->par, value, err, errlen);
    if (!strcmp(name, "dpop"))
        return set_bool(&p->dpop, value, err, errlen);
    if (!strcmp(name, "userinfo"))
        return set_bool(&p->userinfo, value, err, errlen);
    if (!strcmp(name, "clock_skew"))
        return set_int(&p->clock_skew, value, 0, 600, err, errlen);
    if (!strcmp(name, "http_timeout"))
        return set_int(&p->http_timeout, value, 1, 120, err, errlen);
    if (!strcmp(name, "jwks_cache_ttl"))
        return set_int(&p->jwks_cache_ttl, value, 60, 86400, err, errlen);
    if (!strcmp(name, "jwks_refetch_min"))
        return set_int(&p->jwks_refetch_min, value, 0, 3600, err, errlen);
    snprintf(err, errlen, "unknown key");
    return 0;
}

int ck_oidc_config_section(void *ud, const char *section, const char *name,
                           const char *value, int lineno, char *err, size_t errlen)
{
    ck_oidc_providers *ps = ud;
    const char *pname;
    ck_oidc_provider *p;

    if (strncmp(section, SECTION_PREFIX, strlen(SECTION_PREFIX)) != 0)
        return 0;
    pname = section + strlen(SECTION_PREFIX);
    while (*pname == ' ')
        pname++;
    if (!valid_name(pname)) {
        snprintf(err, errlen, "provider name '%.64s' is not 1-64 of A-Z a-z 0-9 . _ -", pname);
        return 0;
    }
    p = provider_get(ps, pname, lineno);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    return provider_key(p, name, value, err, errlen);
}

static int read_secret(ck_oidc_provider *p, const char *path, char *err, size_t errlen)
{
    char *data = NULL, sub[256];
    size_t len = 0;

    if (ck_secfile_read(p->client_secret_file, 1, CLIENT_SECRET_MAX, &data, &len, sub,
                        sizeof(sub)) != 0) {
        snprintf(err, errlen, "%s: [provider %s] client_secret_file: %s", path, p->name, sub);
        return -1;
    }
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        data[--len] = '\0';
    if (len == 0 || strchr(data, '\n')) {
        snprintf(err, errlen, "%s: [provider %s] client_secret_file: must hold one line",
                 path, p->name);
        ck_secfile_free(data, len);
        return -1;
    }
    wipe_free(p->client_secret);
    p->client_secret = strdup(data);
    ck_secfile_free(data, len);
    if (!p->client_secret) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/*
 * Whoever can write the CA file chooses whom we take for the provider:
 * it is held to the policy for checkup.conf itself (ck_secfile.h).
 */
static int ca_file_ok(const ck_oidc_provider *p, const char *path, char *err,
                      size_t errlen)
{
    char sub[512];
    int fd = ck_secfile_open(p->ca_file, CK_FILE_CONFIG, NULL, sub, sizeof(sub));

    if (fd < 0) {
        snprintf(err, errlen, "%s: [provider %s] ca_file: %s", path, p->name, sub);
        return -1;
    }
    close(fd);
    return 0;
}

static int load_keys(ck_oidc_provider *p, const char *path, char *err, size_t errlen)
{
    const char *sig[2], *enc[2];
    size_t nsig = 0, nenc = 0;
    char sub[256];

    if (p->signing_key)
        sig[nsig++] = p->signing_key;
    if (p->signing_key_old)
        sig[nsig++] = p->signing_key_old;
    if (p->encryption_key)
        enc[nenc++] = p->encryption_key;
    if (p->encryption_key_old)
        enc[nenc++] = p->encryption_key_old;
    if (nsig + nenc > 0 &&
        ck_rp_keys_load(sig, nsig, enc, nenc, &p->rp, sub, sizeof(sub)) != 0) {
        snprintf(err, errlen, "%s: [provider %s] keys: %s", path, p->name, sub);
        return -1;
    }
    if (p->dpop_key) {
        sig[0] = p->dpop_key;
        if (ck_rp_keys_load(sig, 1, NULL, 0, &p->dpop_keys, sub, sizeof(sub)) != 0) {
            snprintf(err, errlen, "%s: [provider %s] dpop_key: %s", path, p->name, sub);
            return -1;
        }
    }
    return 0;
}

#define NEED(field, key)                                                            \
    do {                                                                            \
        if (!(field)) {                                                             \
            snprintf(err, errlen, "%s:%d: [provider %s] %s is required", path,      \
                     p->lineno, p->name, key);                                      \
            return -1;                                                              \
        }                                                                           \
    } while (0)

static int provider_finish(ck_oidc_provider *p, const char *path, char *err, size_t errlen)
{
    NEED(p->issuer, "issuer");
    NEED(p->client_id, "client_id");
    NEED(p->redirect_uri, "redirect_uri");
    if (p->client_auth < 0)
        p->client_auth = p->profile == CK_PROF_OIDC ? CK_CA_SECRET_BASIC : CK_CA_PRIVATE_KEY_JWT;
    if (p->profile != CK_PROF_OIDC && p->client_auth != CK_CA_PRIVATE_KEY_JWT) {
        snprintf(err, errlen, "%s:%d: [provider %s] client_auth: CorpPass needs private_key_jwt",
                 path, p->lineno, p->name);
        return -1;
    }
    if (p->par < 0)
        p->par = p->profile == CK_PROF_FAPI2;
    if (p->dpop < 0)
        p->dpop = p->profile == CK_PROF_FAPI2;
    if (p->userinfo < 0)
        p->userinfo = 0;
    if (!p->scopes) {
        p->scopes = strdup("openid");
        if (!p->scopes) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (p->client_secret && p->client_secret_file) {
        snprintf(err, errlen, "%s:%d: [provider %s] client_secret and client_secret_file "
                 "are exclusive", path, p->lineno, p->name);
        return -1;
    }
    if (p->client_secret_file && read_secret(p, path, err, errlen) != 0)
        return -1;
    if (p->ca_file && ca_file_ok(p, path, err, errlen) != 0)
        return -1;
    if (p->client_auth != CK_CA_PRIVATE_KEY_JWT)
        NEED(p->client_secret, "client_secret or client_secret_file");
    if (p->client_auth == CK_CA_PRIVATE_KEY_JWT)
        NEED(p->signing_key, "signing_key (private_key_jwt)");
    if (p->profile != CK_PROF_OIDC)
        NEED(p->encryption_key, "encryption_key (CorpPass ID tokens are encrypted)");
    if (p->dpop && !p->dpop_key)
        NEED(p->signing_key, "signing_key or dpop_key (DPoP)");
    return load_keys(p, path, err, errlen);
}

int ck_oidc_providers_finish(ck_oidc_providers *ps, const char *path, char *err,
                             size_t errlen)
{
    ck_oidc_provider *p;

    for (p = ps->head; p; p = p->next) {
        if (provider_finish(p, path, err, errlen) != 0)
            return -1;
    }
    return 0;
}

const ck_oidc_provider *ck_oidc_provider_find(const ck_oidc_providers *ps, const char *name)
{
    const ck_oidc_provider *p;

    for (p = ps->head; p; p = p->next) {
        if (strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

size_t ck_oidc_providers_count(const ck_oidc_providers *ps)
{
    return ps->count;
}

const char *ck_oidc_provider_name(const ck_oidc_provider *p)
{
    return p->name;
}

char *ck_oidc_provider_rp_jwks(const ck_oidc_provider *p)
{
    return p->rp ? ck_rp_keys_jwks(p->rp) : NULL;
}
