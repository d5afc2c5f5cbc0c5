/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_users.c - the users file through ck_users_parse.
 *
 * Properties: what parses is formatted back by ck_users_format into text
 * that parses to the same records (escaping round-trips); every parsed
 * user passes ck_user_check and is found by its email in any ASCII case
 * and by its local name.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ck_users.h"
#include "fuzz.h"

static void check_find(const ck_users *u)
{
    char upper[CK_EMAIL_MAX];

    for (size_t i = 0; i < u->count; i++) {
        const ck_user *x = &u->items[i];

        for (size_t j = 0; j < sizeof(upper); j++) {
            unsigned char c = (unsigned char)x->email[j];

            upper[j] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
            if (!c)
                break;
        }
        if (ck_users_find(u, upper) != x)
            ck_fuzz_fail("user %zu not found by its email in upper case", i);
        if (x->local_user[0] && ck_users_find(u, x->local_user) == NULL)
            ck_fuzz_fail("user %zu not found by its local name", i);
    }
}

static int same_user(const ck_user *a, const ck_user *b)
{
    return strcmp(a->email, b->email) == 0 && strcmp(a->hash, b->hash) == 0 &&
           strcmp(a->role, b->role) == 0 && strcmp(a->clinic_id, b->clinic_id) == 0 &&
           strcmp(a->local_user, b->local_user) == 0 && a->disabled == b->disabled &&
           strcmp(a->corppass, b->corppass) == 0;
}

CK_FUZZ_TARGET(users)
{
    ck_users u, again;
    char err[512];
    char *text;
    size_t len = 0;

    if (ck_users_parse((const char *)data, size, "fuzz", &u, err, sizeof(err)) != 0) {
        if (strncmp(err, "fuzz", 4) != 0)
            ck_fuzz_fail("an error that does not name the file: %s", err);
        return 0;
    }
    for (size_t i = 0; i < u.count; i++)
        if (ck_user_check(&u.items[i], err, sizeof(err)) != 0)
            ck_fuzz_fail("a parsed user fails ck_user_check: %s", err);
    check_find(&u);
    text = ck_users_format(&u, &len);
    if (!text)
        ck_fuzz_fail("ck_users_format failed");
    if (ck_users_parse(text, len, "formatted", &again, err, sizeof(err)) != 0)
        ck_fuzz_fail("formatted users do not parse: %s", err);
    if (again.count != u.count)
        ck_fuzz_fail("formatted users parse to %zu records, not %zu", again.count, u.count);
    for (size_t i = 0; i < u.count; i++)
        if (!same_user(&u.items[i], &again.items[i]))
            ck_fuzz_fail("formatted user %zu parses to a different record", i);
    free(text);
    ck_users_free(&again);
    ck_users_free(&u);
    return 0;
}
