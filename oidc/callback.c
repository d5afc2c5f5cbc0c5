/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * callback.c - the redirect back from the provider: its query string,
 * parsed strictly. OAuth 2.0 says a parameter appears at most once; we
 * refuse repeats of the ones we read rather than pick one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ck_oidc.h"
#include "ck_encode.h"
#include "ck_text.h"

static void wipe_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void ck_oidc_cbparams_clear(ck_oidc_cbparams *p)
{
    wipe_free(p->code);
    free(p->state);
    free(p->iss);
    free(p->error);
    free(p->error_description);
    memset(p, 0, sizeof(*p));
}

/* Decodes s[0..n) (+ is a space); control characters and NUL are refused. */
static char *form_decode(const char *s, size_t n, const char **why)
{
    char *out = malloc(n + 1);
    size_t i, o = 0;

    if (!out) {
        *why = "out of memory";
        return NULL;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? ck_hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? ck_hex_digit(s[i + 2]) : -1;

            if (hi < 0 || lo < 0) {
                *why = "bad %-escape";
                free(out);
                return NULL;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f) {
            *why = "control character";
            free(out);
            return NULL;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

static char **slot(ck_oidc_cbparams *p, const char *name)
{
    if (!strcmp(name, "code"))
        return &p->code;
    if (!strcmp(name, "state"))
        return &p->state;
    if (!strcmp(name, "iss"))
        return &p->iss;
    if (!strcmp(name, "error"))
        return &p->error;
    if (!strcmp(name, "error_description"))
        return &p->error_description;
    return NULL;
}

static int parse_pair(ck_oidc_cbparams *p, const char *s, size_t n, char *err, size_t errlen)
{
    const char *eq = memchr(s, '=', n);
    size_t kn = eq ? (size_t)(eq - s) : n;
    const char *why = NULL;
    char *key, *val, **dst;

    key = form_decode(s, kn, &why);
    if (!key) {
        snprintf(err, errlen, "parameter name: %s", why);
        return -1;
    }
    dst = slot(p, key);
    if (!dst) {
        free(key);
        return 0;
    }
    if (*dst) {
        snprintf(err, errlen, "parameter %s given twice", key);
        free(key);
        return -1;
    }
    val = form_decode(eq ? eq + 1 : s + n, eq ? n - kn - 1 : 0, &why);
    if (!val) {
        snprintf(err, errlen, "parameter %s: %s", key, why);
        free(key);
        return -1;
    }
    free(key);
    *dst = val;
    return 0;
}

int ck_oidc_parse_callback(const char *query, size_t len, ck_oidc_cbparams *out, char *err,
                           size_t errlen)
{
    size_t i = 0;

    memset(out, 0, sizeof(*out));
    if (!query) {
        snprintf(err, errlen, "no query string");
        return -1;
    }
    if (len > CK_OIDC_QUERY_MAX) {
        snprintf(err, errlen, "query string of %zu bytes is over %d", len, CK_OIDC_QUERY_MAX);
        return -1;
    }
    if (len > 0 && query[0] == '?') {
        query++;
        len--;
    }
    while (i < len) {
        const char *amp = memchr(query + i, '&', len - i);
        size_t n = amp ? (size_t)(amp - (query + i)) : len - i;

        if (n > 0 && parse_pair(out, query + i, n, err, errlen) != 0) {
            ck_oidc_cbparams_clear(out);
            return -1;
        }
        i += n + 1;
    }
    return 0;
}
