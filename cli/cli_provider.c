/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_provider.c - the [provider NAME] sections of checkup.conf as the
 * checkup tool sees them.
 *
 * liboidc parses each section (ck_oidc_config_section). Every provider
 * gets a set of its own, so that "config check" can finish and report
 * each one apart (a bad provider does not hide the others), and the file
 * names of the relying-party keys are kept here as well: "keys generate"
 * and "keys rotate" write files that liboidc could not load yet.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define SECTION_PREFIX "provider "

static cli_providers loaded;

const cli_providers *cli_providers_loaded(void)
{
    return &loaded;
}

static void item_free(cli_provider *p)
{
    ck_oidc_providers_free(p->ps);
    free(p->issuer);
    for (int i = 0; i < CLI_KEY_KINDS; i++)
        free(p->key[i]);
}

void cli_providers_free(void)
{
    for (size_t i = 0; i < loaded.count; i++)
        item_free(&loaded.items[i]);
    free(loaded.items);
    memset(&loaded, 0, sizeof(loaded));
}

/* The entry for a section name (created on first sight); NULL without memory. */
static cli_provider *item_get(const char *name)
{
    cli_provider *items;

    for (size_t i = 0; i < loaded.count; i++)
        if (strcmp(loaded.items[i].name, name) == 0)
            return &loaded.items[i];
    items = realloc(loaded.items, (loaded.count + 1) * sizeof(*items));
    if (!items)
        return NULL;
    loaded.items = items;
    items = &loaded.items[loaded.count];
    memset(items, 0, sizeof(*items));
    items->ps = ck_oidc_providers_new();
    if (!items->ps)
        return NULL;
    snprintf(items->name, sizeof(items->name), "%s", name);
    loaded.count++;
    return items;
}

static const char *const key_names[CLI_KEY_KINDS] = {
    [CLI_KEY_SIG] = "signing_key",
    [CLI_KEY_SIG_OLD] = "signing_key_old",
    [CLI_KEY_ENC] = "encryption_key",
    [CLI_KEY_ENC_OLD] = "encryption_key_old",
};

const char *cli_key_name(int kind)
{
    return key_names[kind];
}

/* Keeps a copy of value in *dst; 0, or -1 without memory. */
static int keep(char **dst, const char *value)
{
    char *s = strdup(value);

    if (!s)
        return -1;
    free(*dst);
    *dst = s;
    return 0;
}

static int remember(cli_provider *p, const char *name, const char *value, char *err,
                    size_t errlen)
{
    int rc = 0;

    if (strcmp(name, "issuer") == 0)
        rc = keep(&p->issuer, value);
    for (int i = 0; rc == 0 && i < CLI_KEY_KINDS; i++)
        if (strcmp(name, key_names[i]) == 0)
            rc = keep(&p->key[i], value);
    if (rc != 0) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    return 1;
}

int cli_config_section(void *ud, const char *section, const char *name, const char *value,
                       int lineno, char *err, size_t errlen)
{
    const char *pname = section + strlen(SECTION_PREFIX);
    cli_provider *p;

    (void)ud;
    /* Sections of other components (the daemon's) are theirs to check. */
    if (strncmp(section, SECTION_PREFIX, strlen(SECTION_PREFIX)) != 0)
        return 1;
    while (*pname == ' ')
        pname++;
    if (strlen(pname) >= sizeof(p->name)) {
        snprintf(err, errlen, "provider name '%.64s...' is longer than %zu bytes", pname,
                 sizeof(p->name) - 1);
        return 0;
    }
    p = item_get(pname);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    if (!p->lineno)
        p->lineno = lineno;
    if (ck_oidc_config_section(p->ps, section, name, value, lineno, err, errlen) <= 0)
        return 0;
    return remember(p, name, value, err, errlen);
}

const cli_provider *cli_provider_find(const char *name)
{
    for (size_t i = 0; i < loaded.count; i++)
        if (strcmp(loaded.items[i].name, name) == 0)
            return &loaded.items[i];
    return NULL;
}

const ck_oidc_provider *cli_provider_finish(const cli_provider *p, const ck_config *cfg,
                                            char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : CK_CONFIG_PATH;

    if (ck_oidc_providers_finish(p->ps, path, err, errlen) != 0)
        return NULL;
    return ck_oidc_provider_find(p->ps, p->name);
}

/* ---- config check -------------------------------------------------------- */

/* 1 when any of the words is in s. */
static int mentions(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strstr(s, *words))
            return 1;
    return 0;
}

/*
 * Names what is wrong in a word an administrator acts on, then the
 * detail: libcurl's and liboidc's messages say the rest.
 */
static const char *probe_kind(const char *err)
{
    static const char *const tls[] = { "SSL", "TLS", "certificate", "handshake", NULL };
    static const char *const down[] = {
        "connect", "resolve", "no complete answer", "Timeout", "timed out",
        "HTTP status", "Empty reply", "receiv", "Send failure", NULL
    };

    if (strncmp(err, "discovery_issuer_mismatch", 25) == 0)
        return "issuer mismatch";
    if (strstr(err, "missing or not a string") || strstr(err, "is not an https URL"))
        return "missing endpoint";
    if (mentions(err, tls))
        return "TLS failure";
    if (mentions(err, down))
        return "unreachable";
    return "bad answer";
}

/* One line for one provider: its section, its keys, discovery and JWKS. */
static int check_provider(const ck_config *cfg, const cli_provider *cp)
{
    const ck_oidc_provider *p;
    char what[96], err[768], detail[1024];
    const char *iss = cp->issuer ? cp->issuer : "";
    size_t nkeys = 0;

    snprintf(what, sizeof(what), "provider %s", cp->name);
    p = cli_provider_finish(cp, cfg, err, sizeof(err));
    if (!p)
        return cli_check_line(0, what, err);
    if (ck_oidc_provider_probe(p, &nkeys, err, sizeof(err)) != CK_OIDC_OK) {
        const char *kind = probe_kind(err);

        if (strcmp(kind, "issuer mismatch") == 0)
            snprintf(detail, sizeof(detail), "issuer mismatch: the discovery document of "
                     "%.512s names another issuer", iss);
        else
            snprintf(detail, sizeof(detail), "%s: %.900s", kind, err);
        return cli_check_line(0, what, detail);
    }
    snprintf(detail, sizeof(detail), "%.512s: discovery and JWKS fetched, %zu signing key%s",
             iss, nkeys, nkeys == 1 ? "" : "s");
    return cli_check_line(1, what, detail);
}

int cli_check_providers(const ck_config *cfg)
{
    int bad = 0;

    for (size_t i = 0; i < loaded.count; i++)
        bad += check_provider(cfg, &loaded.items[i]);
    return bad;
}
