/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg.c - pam_checkup module arguments.
 */
#include "config.h"

#include <string.h>

#include "cfg.h"

#ifndef CK_CONFIG_PATH
#error "CK_CONFIG_PATH must be defined by the build"
#endif

static int parse_methods(const char *list, unsigned *out)
{
    unsigned m = 0;
    const char *p = list;

    while (*p) {
        size_t n = strcspn(p, ",");

        if (n == 8 && strncmp(p, "password", 8) == 0)
            m |= CK_METHOD_PASSWORD;
        else if (n == 5 && strncmp(p, "token", 5) == 0)
            m |= CK_METHOD_TOKEN;
        else if (n == 8 && strncmp(p, "corppass", 8) == 0)
            m |= CK_METHOD_CORPPASS;
        else if (n == 4 && strncmp(p, "oidc", 4) == 0)
            m |= CK_METHOD_OIDC;
        else
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    /* A terminal login asks for no secret: it cannot share a line with one. */
    if (m == 0 || ((m & CK_METHOD_TERMINAL) && m != CK_METHOD_CORPPASS && m != CK_METHOD_OIDC))
        return -1;
    *out = m;
    return 0;
}

/* A provider name as checkup.conf's [provider NAME] sections allow. */
static int provider_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= CK_PROVIDER_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* Cross-argument rules, after every argument is read. */
static int args_check(ck_pam_args *out, const char *method_arg, ck_pam_warn_fn warn,
                      void *ud)
{
    if (out->methods == CK_METHOD_CORPPASS && !out->provider)
        out->provider = "corppass";
    if (out->methods == CK_METHOD_OIDC && !out->provider) {
        /* The complaint names the argument as the admin wrote it. */
        warn(ud, "method=oidc needs provider=NAME", method_arg);
        return -1;
    }
    return 0;
}

int ck_pam_args_parse(int argc, const char **argv, ck_pam_args *out,
                      ck_pam_warn_fn warn, void *ud)
{
    const char *method_arg = NULL;
    int rc = 0;

    out->config = CK_CONFIG_PATH;
    out->config_given = 0;
    out->methods = CK_METHOD_PASSWORD | CK_METHOD_TOKEN;
    out->debug = 0;
    out->use_first_pass = 0;
    out->try_first_pass = 0;
    out->provider = NULL;
    out->noprompt = 0;
    out->noqr = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];

        if (!a)
            continue;
        if (strncmp(a, "config=", 7) == 0) {
            if (a[7] != '/') {
                warn(ud, "config= needs an absolute path", a);
                rc = -1;
                continue;
            }
            out->config = a + 7;
            out->config_given = 1;
        } else if (strncmp(a, "method=", 7) == 0) {
            method_arg = a;
            if (parse_methods(a + 7, &out->methods) != 0) {
                warn(ud, "method= takes password, token or password,token; "
                     "or corppass or oidc alone", a);
                rc = -1;
            }
        } else if (strncmp(a, "provider=", 9) == 0) {
            if (!provider_ok(a + 9)) {
                warn(ud, "provider= takes a name of letters, digits, '-', '_' and '.'", a);
                rc = -1;
                continue;
            }
            out->provider = a + 9;
        } else if (strcmp(a, "noprompt") == 0) {
            out->noprompt = 1;
        } else if (strcmp(a, "noqr") == 0) {
            out->noqr = 1;
        } else if (strcmp(a, "debug") == 0) {
            out->debug = 1;
        } else if (strcmp(a, "use_first_pass") == 0) {
            out->use_first_pass = 1;
        } else if (strcmp(a, "try_first_pass") == 0) {
            out->try_first_pass = 1;
        } else {
            warn(ud, "unknown argument ignored", a);
        }
    }
    if (rc == 0)
        rc = args_check(out, method_arg, warn, ud);
    return rc;
}
