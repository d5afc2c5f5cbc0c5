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
        else
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    if (m == 0)
        return -1;
    *out = m;
    return 0;
}

int ck_pam_args_parse(int argc, const char **argv, ck_pam_args *out,
                      ck_pam_warn_fn warn, void *ud)
{
    int rc = 0;

    out->config = CK_CONFIG_PATH;
    out->config_given = 0;
    out->methods = CK_METHOD_PASSWORD | CK_METHOD_TOKEN;
    out->debug = 0;
    out->use_first_pass = 0;
    out->try_first_pass = 0;
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
            if (parse_methods(a + 7, &out->methods) != 0) {
                warn(ud, "method= takes password, token or password,token", a);
                rc = -1;
            }
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
    return rc;
}
