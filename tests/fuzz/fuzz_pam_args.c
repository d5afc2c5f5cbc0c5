/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pam_args.c - pam_checkup's module arguments (pam/cfg.c): the input
 * is split at newlines into argv, as a pam.d line would be at blanks.
 *
 * Properties: methods is always a non-empty subset of password|token,
 * or corppass alone, or oidc alone;
 * config is absolute; every complaint names an argument we were given.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "fuzz.h"

#define ARGS_MAX 64

typedef struct warn_ctx {
    int argc;
    const char **argv;
    int warned;
} warn_ctx;

static void warn(void *ud, const char *what, const char *arg)
{
    warn_ctx *w = ud;
    int ours = 0;

    for (int i = 0; i < w->argc; i++)
        ours |= arg == w->argv[i];
    if (!what || !*what || !ours)
        ck_fuzz_fail("pam args: a complaint about something we did not pass");
    w->warned++;
}

CK_FUZZ_TARGET(pam_args)
{
    char *buf = ck_fuzz_strndup(data, size), *p = buf, *nl;
    const char *argv[ARGS_MAX];
    warn_ctx w = { 0, argv, 0 };
    ck_pam_args a;
    int rc;

    while (w.argc < ARGS_MAX) {
        argv[w.argc++] = p;
        nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    rc = ck_pam_args_parse(w.argc, argv, &a, warn, &w);
    if (rc != 0 && w.warned == 0)
        ck_fuzz_fail("pam args: refused without a complaint");
    if (a.methods == 0 || ((a.methods & ~(CK_METHOD_PASSWORD | CK_METHOD_TOKEN)) &&
                           a.methods != CK_METHOD_CORPPASS && a.methods != CK_METHOD_OIDC))
        ck_fuzz_fail("pam args: methods 0x%x", a.methods);
    if (!a.config || a.config[0] != '/')
        ck_fuzz_fail("pam args: config is not an absolute path");
    free(buf);
    return 0;
}
