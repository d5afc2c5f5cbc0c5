/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_callback.c - the OIDC callback's query string through
 * ck_oidc_parse_callback.
 *
 * Properties: what parses holds no control character in any field; the
 * fields, %-encoded again, parse back to the same values (the round trip
 * the provider's redirect makes); what fails leaves nothing allocated.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ck_oidc.h"
#include "oidc_int.h"
#include "fuzz.h"

static const char *const names[] = { "code", "state", "iss", "error", "error_description" };

static char **field(ck_oidc_cbparams *p, size_t i)
{
    char **f[] = { &p->code, &p->state, &p->iss, &p->error, &p->error_description };

    return f[i];
}

static void check_clean(const char *v, const char *name)
{
    for (; v && *v; v++) {
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            ck_fuzz_fail("callback: control character in %s", name);
    }
}

CK_FUZZ_TARGET(callback)
{
    ck_oidc_cbparams a, b;
    char err[256], err2[256];
    char *again = NULL;
    size_t i;

    if (ck_oidc_parse_callback((const char *)data, size, &a, err, sizeof(err)) != 0) {
        if (err[0] == '\0')
            ck_fuzz_fail("callback: refused without a reason");
        return 0;
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char **v = field(&a, i);

        check_clean(*v, names[i]);
        if (*v && ck_form_add(&again, names[i], *v) != 0)
            ck_fuzz_fail("callback: out of memory re-encoding");
    }
    if (ck_oidc_parse_callback(again ? again : "", again ? strlen(again) : 0, &b, err2,
                               sizeof(err2)) != 0) {
        /* Re-encoding may only grow past the size cap. */
        if (again && strlen(again) <= CK_OIDC_QUERY_MAX)
            ck_fuzz_fail("callback: re-encoded query refused: %s", err2);
        goto out;
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *x = *field(&a, i), *y = *field(&b, i);

        if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
            ck_fuzz_fail("callback: %s did not survive the round trip", names[i]);
    }
    ck_oidc_cbparams_clear(&b);
out:
    free(again);
    ck_oidc_cbparams_clear(&a);
    return 0;
}
