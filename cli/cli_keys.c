/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_keys.c - "checkup keys generate | rotate | jwks".
 *
 * Without --provider, generate and rotate work on the token key ring
 * ([tokens] key_file: HMAC secrets, never published). With --provider
 * NAME they work on that provider's relying-party keys: the EC P-256
 * files named by signing_key and encryption_key in its section. A
 * rotation copies the current key to signing_key_old / encryption_key_old
 * (which liboidc loads and publishes too, so what was signed or encrypted
 * with it before still verifies and decrypts) and puts a new key in its
 * place. generate makes the files that do not exist yet and never
 * replaces one. jwks prints the public halves, as checkupd serves them.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ck_jose.h"
#include "ck_token.h"
#include "cli.h"
#include "ck_secfile.h"

#define RING_MAX (64 * 1024)
#define PEM_MAX (16 * 1024)
#define KID_MAX 64

/* What keys generate / rotate were asked for. */
typedef struct keys_req {
    const char *provider;   /* NULL: the token key ring */
    int use;                /* -1 both, else CLI_KEY_SIG or CLI_KEY_ENC */
    long keep;              /* token ring only; -1 when not given */
} keys_req;

static int parse_keys(int argc, char **argv, int with_keep, keys_req *r)
{
    static const struct option opts[] = {
        { "provider", required_argument, NULL, 'p' },
        { "use", required_argument, NULL, 'u' },
        { "keep", required_argument, NULL, 'k' },
        { NULL, 0, NULL, 0 },
    };
    char *end;
    int opt;

    memset(r, 0, sizeof(*r));
    r->use = -1;
    r->keep = -1;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            r->provider = optarg;
            break;
        case 'u':
            if (strcmp(optarg, "sig") != 0 && strcmp(optarg, "enc") != 0)
                return cli_usage("--use '%.40s' is neither sig nor enc", optarg);
            r->use = optarg[0] == 's' ? CLI_KEY_SIG : CLI_KEY_ENC;
            break;
        case 'k':
            if (!with_keep)
                return cli_usage("unknown option '%s'", argv[optind - 1]);
            errno = 0;
            r->keep = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || r->keep < 0 || r->keep > 100)
                return cli_usage("--keep '%.40s' is not a number from 0 to 100", optarg);
            break;
        default:
            return cli_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage("takes no arguments besides options");
    if (r->use >= 0 && !r->provider)
        return cli_usage("--use needs --provider");
    if (r->keep >= 0 && r->provider)
        return cli_usage("--keep is for the token key ring, not with --provider");
    return CLI_OK;
}

/* 1 when kind (CLI_KEY_SIG or CLI_KEY_ENC) was asked for. */
static int wanted(const keys_req *r, int kind)
{
    return r->use < 0 || r->use == kind;
}

/* ---- token key ring ------------------------------------------------------ */

static int ring_generate(const ck_config *cfg)
{
    char kid[CK_KID_MAX], err[512];

    if (ck_keyring_generate(cli_keys_path(cfg), kid, err, sizeof(err)) != 0)
        return cli_fail("%s", err);
    printf("new signing key %s in %s\n", kid, cli_keys_path(cfg));
    cli_audit(cfg, "key_generated", NULL, NULL, "success", kid);
    return CLI_OK;
}

/* Keeps comments and the first keep + 1 key lines of a ring; *dropped counts the rest. */
static size_t trim_ring(char *text, size_t len, long keep, size_t *dropped)
{
    size_t in = 0, out = 0;
    long keys = 0;

    *dropped = 0;
    while (in < len) {
        char *nl = memchr(text + in, '\n', len - in);
        size_t n = nl ? (size_t)(nl - (text + in)) + 1 : len - in;
        int is_key = text[in] != '#' && text[in] != '\n';

        if (is_key && keys++ > keep) {
            (*dropped)++;
        } else {
            memmove(text + out, text + in, n);
            out += n;
        }
        in += n;
    }
    return out;
}

/*
 * Under the ring's lock: keeps the first keep + 1 keys of the ring file
 * (see trim_ring), rewriting it only when a key goes. The text is key
 * material, so it is wiped on the way out.
 */
static int ring_trim_file(const char *path, long keep, size_t *dropped, char *err,
                          size_t errlen)
{
    char *text = NULL;
    size_t len = 0, newlen;
    int rc = 0;

    *dropped = 0;
    if (ck_secfile_read(path, 1, RING_MAX, &text, &len, err, errlen) != 0)
        return -1;
    newlen = trim_ring(text, len, keep, dropped);
    if (*dropped && ck_secfile_replace(path, text, newlen, err, errlen) != 0)
        rc = -1;
    ck_secfile_free(text, len);
    return rc;
}

static int ring_rotate(const ck_config *cfg, long keep)
{
    const char *path = cli_keys_path(cfg);
    char kid[CK_KID_MAX], err[512];
    size_t dropped = 0;
    int lockfd, rc;

    if (ck_keyring_generate(path, kid, err, sizeof(err)) != 0)
        return cli_fail("%s", err);
    lockfd = ck_secfile_lock(path, err, sizeof(err));
    if (lockfd < 0)
        return cli_fail("%s", err);
    rc = ring_trim_file(path, keep, &dropped, err, sizeof(err));
    /* The lock guards the file; reporting needs no lock. */
    close(lockfd);
    if (rc != 0)
        return cli_fail("%s", err);
    printf("new signing key %s in %s; %zu old key%s dropped\n", kid, path, dropped,
           dropped == 1 ? "" : "s");
    cli_audit(cfg, "key_rotated", NULL, NULL, "success", kid);
    return CLI_OK;
}

/* ---- relying-party keys -------------------------------------------------- */

static const char *kind_word(int kind)
{
    return kind == CLI_KEY_SIG ? "signing" : "encryption";
}

/* The kid (RFC 7638 thumbprint) of the key in path, from its public JWK. */
static int key_kid(const char *path, int kind, char kid[KID_MAX], char *err, size_t errlen)
{
    ck_rp_keys *k = NULL;
    const char *files[1] = { path };
    json_t *doc = NULL;
    const char *s;
    char *jwks = NULL;
    int rc = -1;

    if (ck_rp_keys_load(kind == CLI_KEY_SIG ? files : NULL, kind == CLI_KEY_SIG,
                        kind == CLI_KEY_ENC ? files : NULL, kind == CLI_KEY_ENC, &k, err,
                        errlen) != 0)
        return -1;
    jwks = ck_rp_keys_jwks(k);
    doc = jwks ? json_loads(jwks, 0, NULL) : NULL;
    s = json_string_value(json_object_get(json_array_get(json_object_get(doc, "keys"), 0),
                                          "kid"));
    if (s && strlen(s) < KID_MAX) {
        snprintf(kid, KID_MAX, "%s", s);
        rc = 0;
    } else {
        snprintf(err, errlen, "%s: no key id", path);
    }
    json_decref(doc);
    free(jwks);
    ck_rp_keys_free(k);
    return rc;
}

/* The provider's section, or NULL after saying it is missing. */
static const cli_provider *provider_arg(const ck_config *cfg, const char *name)
{
    const cli_provider *p = cli_provider_find(name);

    if (!p)
        cli_fail("no [provider %s] in %s", name, cfg->path ? cfg->path : CK_CONFIG_PATH);
    return p;
}

/* Which kinds to work on: those asked for that the section names. */
static int kinds_of(const ck_config *cfg, const cli_provider *p, const keys_req *r,
                    int chosen[2])
{
    const char *conf = cfg->path ? cfg->path : CK_CONFIG_PATH;
    int n = 0;

    for (int kind = CLI_KEY_SIG; kind <= CLI_KEY_ENC; kind += 2) {
        chosen[kind / 2] = wanted(r, kind) && p->key[kind];
        n += chosen[kind / 2];
        if (r->use == kind && !p->key[kind])
            return cli_fail("%s: [provider %s] has no %s: name the file to hold the key",
                            conf, p->name, cli_key_name(kind));
    }
    if (n == 0)
        return cli_fail("%s: [provider %s] names no signing_key or encryption_key: add the "
                        "file names (and signing_key_old / encryption_key_old for "
                        "rotation) to its section", conf, p->name);
    return CLI_OK;
}

/*
 * Makes every key file of the asked kinds that the section names and that
 * does not exist yet, *_old included: liboidc loads every file named, and
 * a spare old key is harmless (only the first signing key signs; either
 * encryption key decrypts). An existing key is never replaced.
 */
static int rp_generate(const ck_config *cfg, const keys_req *r)
{
    const cli_provider *p = provider_arg(cfg, r->provider);
    char kid[KID_MAX], err[512];
    int chosen[2] = { 0, 0 }, made = 0, rc;

    if (!p)
        return CLI_FAIL;
    rc = kinds_of(cfg, p, r, chosen);
    if (rc != CLI_OK)
        return rc;
    for (int k = 0; k < CLI_KEY_KINDS; k++) {
        int kind = k & ~1;      /* CLI_KEY_SIG or CLI_KEY_ENC */

        if (!chosen[kind / 2] || !p->key[k] || access(p->key[k], F_OK) == 0)
            continue;
        if (ck_rp_key_generate(p->key[k], err, sizeof(err)) != 0 ||
            key_kid(p->key[k], kind, kid, err, sizeof(err)) != 0)
            return cli_fail("%s", err);
        printf("new %s key %s of provider %s in %s (%s)\n", kind_word(kind), kid, p->name,
               p->key[k], cli_key_name(k));
        cli_audit(cfg, "key_generated", NULL, NULL, "success", kid);
        made++;
    }
    if (made == 0)
        return cli_fail("every key file of [provider %s] exists: 'checkup keys rotate "
                        "--provider %s' replaces keys", p->name, p->name);
    return CLI_OK;
}

/* "PATH.new" for the key being made; the caller frees it. */
static char *new_name(const char *path)
{
    size_t n = strlen(path) + sizeof(".new");
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s.new", path);
    return s;
}

/*
 * One rotation under the key file's lock: a new key beside it, the
 * current one copied over the old one, the new one renamed into place.
 * At every moment both files hold a whole key.
 */
static int rotate_one(const ck_config *cfg, const cli_provider *p, int kind)
{
    const char *cur = p->key[kind], *old = p->key[kind + 1];
    char kid_old[KID_MAX], kid_new[KID_MAX], err[512], *tmp = new_name(cur), *pem = NULL;
    size_t len = 0;
    int lockfd, rc = CLI_FAIL;

    if (!tmp)
        return cli_fail("out of memory");
    lockfd = ck_secfile_lock(cur, err, sizeof(err));
    if (lockfd < 0) {
        free(tmp);
        return cli_fail("%s", err);
    }
    if (key_kid(cur, kind, kid_old, err, sizeof(err)) != 0 ||
        ck_secfile_read(cur, 1, PEM_MAX, &pem, &len, err, sizeof(err)) != 0) {
        cli_fail("%s", err);
        goto out;
    }
    /* A PATH.new left by an interrupted rotation was never in use. */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        cli_fail("%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (ck_rp_key_generate(tmp, err, sizeof(err)) != 0 ||
        key_kid(tmp, kind, kid_new, err, sizeof(err)) != 0 ||
        ck_secfile_replace(old, pem, len, err, sizeof(err)) != 0) {
        cli_fail("%s", err);
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, cur) != 0) {
        cli_fail("%s: %s", cur, strerror(errno));
        unlink(tmp);
        goto out;
    }
    printf("new %s key %s of provider %s in %s; the previous key %s kept in %s\n",
           kind_word(kind), kid_new, p->name, cur, kid_old, old);
    cli_audit(cfg, "key_rotated", NULL, NULL, "success", kid_new);
    rc = CLI_OK;
out:
    if (pem)
        ck_secfile_free(pem, len);
    close(lockfd);
    free(tmp);
    return rc;
}

static int rp_rotate(const ck_config *cfg, const keys_req *r)
{
    const char *conf = cfg->path ? cfg->path : CK_CONFIG_PATH;
    const cli_provider *p = provider_arg(cfg, r->provider);
    int chosen[2] = { 0, 0 }, rc;

    if (!p)
        return CLI_FAIL;
    rc = kinds_of(cfg, p, r, chosen);
    if (rc != CLI_OK)
        return rc;
    /* Every precondition first, so that a rotation is all or nothing when it can be. */
    for (int kind = CLI_KEY_SIG; kind <= CLI_KEY_ENC; kind += 2) {
        if (!chosen[kind / 2])
            continue;
        if (!p->key[kind + 1])
            return cli_fail("%s: [provider %s] has no %s: without it the current %s key "
                            "would be lost at once", conf, p->name, cli_key_name(kind + 1),
                            kind_word(kind));
        if (strcmp(p->key[kind], p->key[kind + 1]) == 0)
            return cli_fail("%s: [provider %s] %s and %s name one file", conf, p->name,
                            cli_key_name(kind), cli_key_name(kind + 1));
        if (access(p->key[kind], F_OK) != 0)
            return cli_fail("%s: %s: 'checkup keys generate --provider %s' makes it",
                            p->key[kind], strerror(errno), p->name);
    }
    for (int kind = CLI_KEY_SIG; kind <= CLI_KEY_ENC; kind += 2) {
        if (chosen[kind / 2] && rotate_one(cfg, p, kind) != CLI_OK)
            return CLI_FAIL;
    }
    printf("restart checkupd (and reload anything else using these keys) to use them\n");
    return CLI_OK;
}

/* ---- the commands -------------------------------------------------------- */

int cli_keys_generate(const ck_config *cfg, int argc, char **argv)
{
    keys_req r;
    int rc = parse_keys(argc, argv, 0, &r);

    if (rc != CLI_OK)
        return rc;
    return r.provider ? rp_generate(cfg, &r) : ring_generate(cfg);
}

int cli_keys_rotate(const ck_config *cfg, int argc, char **argv)
{
    keys_req r;
    int rc = parse_keys(argc, argv, 1, &r);

    if (rc != CLI_OK)
        return rc;
    return r.provider ? rp_rotate(cfg, &r) : ring_rotate(cfg, r.keep < 0 ? 1 : r.keep);
}

/* Private members of a JWK: never printed, whatever a library hands us. */
static void strip_private(json_t *key)
{
    static const char *const priv[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

    for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
        json_object_del(key, priv[i]);
}

/* Adds the public keys of one provider to all, once per kid. */
static int add_provider_keys(const ck_config *cfg, const cli_provider *cp, json_t *all)
{
    const ck_oidc_provider *p;
    json_t *doc, *key;
    char err[768], *one;
    size_t i, j;

    p = cli_provider_finish(cp, cfg, err, sizeof(err));
    if (!p)
        return cli_fail("%s", err);
    one = ck_oidc_provider_rp_jwks(p);
    doc = one ? json_loads(one, 0, NULL) : NULL;
    free(one);
    json_array_foreach(json_object_get(doc, "keys"), i, key) {
        const char *kid = json_string_value(json_object_get(key, "kid"));
        json_t *seen;
        int dup = 0;

        json_array_foreach(all, j, seen)
            dup |= kid && json_equal(json_object_get(seen, "kid"), json_object_get(key, "kid"));
        if (dup)
            continue;
        strip_private(key);
        json_array_append(all, key);
    }
    json_decref(doc);
    return CLI_OK;
}

int cli_keys_jwks(const ck_config *cfg, int argc, char **argv)
{
    const cli_providers *ps = cli_providers_loaded();
    json_t *all, *doc;
    char *text;
    keys_req r;
    int rc = parse_keys(argc, argv, 0, &r);

    if (rc == CLI_OK && r.use >= 0)
        rc = cli_usage("--use is for generate and rotate");
    if (rc != CLI_OK)
        return rc;
    if (r.provider && !provider_arg(cfg, r.provider))
        return CLI_FAIL;
    all = json_array();
    if (!all)
        return cli_fail("out of memory");
    for (size_t i = 0; rc == CLI_OK && i < ps->count; i++)
        if (!r.provider || strcmp(ps->items[i].name, r.provider) == 0)
            rc = add_provider_keys(cfg, &ps->items[i], all);
    if (rc == CLI_OK && json_array_size(all) == 0)
        rc = cli_fail("no relying-party keys: %s%s%s has no signing_key or encryption_key "
                      "(token keys are secret and have no JWKS)",
                      r.provider ? "[provider " : "no provider",
                      r.provider ? r.provider : "", r.provider ? "]" : "");
    if (rc != CLI_OK) {
        json_decref(all);
        return rc;
    }
    doc = json_pack("{s:o}", "keys", all);
    text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        return cli_fail("out of memory");
    printf("%s\n", text);
    free(text);
    return CLI_OK;
}
