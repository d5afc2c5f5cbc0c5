/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * store_copy_fill - puts N live sessions into the store of a checkup.conf
 * (users f0..f<N/4>, four each), for the store copy tests. Prints nothing
 * of the sessions: the ids are dropped, only the count is reported.
 *
 * Usage: store_copy_fill CONFIG N
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ck_config.h"
#include "ck_store.h"

int main(int argc, char **argv)
{
    ck_config cfg;
    ck_store *st;
    char err[512], sid[CK_SID_LEN];
    long n;
    int rc = 1;

    if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
        fprintf(stderr, "usage: store_copy_fill CONFIG N\n");
        return 2;
    }
    ck_config_defaults(&cfg);
    if (ck_config_load(&cfg, argv[1], NULL, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "store_copy_fill: %s\n", err);
        return 1;
    }
    st = ck_store_open(&cfg, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "store_copy_fill: %s\n", err);
        goto out;
    }
    for (long i = 0; i < n; i++) {
        ck_session s;
        ck_status sr;

        memset(&s, 0, sizeof(s));
        snprintf(s.user_id, sizeof(s.user_id), "f%ld@example.org", i / 4);
        snprintf(s.email, sizeof(s.email), "f%ld@example.org", i / 4);
        snprintf(s.role, sizeof(s.role), "nurse");
        snprintf(s.service, sizeof(s.service), "fill");
        s.method = (ck_auth_method)(i % CK_AUTH_METHOD_COUNT);
        sr = ck_store_create(st, &s, sid);
        OPENSSL_cleanse(sid, sizeof(sid));
        if (sr != CK_OK) {
            fprintf(stderr, "store_copy_fill: create: %s: %s\n", ck_status_str(sr),
                    ck_store_errstr(st));
            goto out;
        }
    }
    printf("%ld sessions\n", n);
    rc = 0;
out:
    if (st)
        ck_store_close(st);
    ck_config_free(&cfg);
    return rc;
}
