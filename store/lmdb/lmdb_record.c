/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lmdb_record.c - the stored form of a session and of the metrics counters.
 *
 * Session record, version 2 (all integers big-endian):
 *   u8 version (2), u8 method,
 *   i64 created, i64 last_activity, i64 deadline, i64 expires,
 *   then 9 strings, each u16 length + bytes without NUL, in the order
 *   user_id, email, role, clinic_id, remote_host, service, tty, idp_sid,
 *   user_agent.
 * Version 1 is the same without user_agent; it is still read, so that
 * sessions written before the upgrade stay valid. The record is exactly
 * that long; anything else fails to parse.
 *
 * Counters: u8 version (1), u8 n, then n i64 values.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "lmdb_internal.h"

#define REC_VERSION   2
#define REC_V1_FIELDS 8
#define REC_FIXED     34
#define CNT_VERSION   1
#define CNT_N         (2 + CK_END_COUNT + CK_AUTH_METHOD_COUNT)

static const struct rec_field {
    size_t offset;
    size_t max;             /* buffer size, including the NUL */
} rec_fields[] = {
    { offsetof(ck_session, user_id), CK_USER_MAX },
    { offsetof(ck_session, email), CK_EMAIL_MAX },
    { offsetof(ck_session, role), CK_ROLE_MAX },
    { offsetof(ck_session, clinic_id), CK_CLINIC_MAX },
    { offsetof(ck_session, remote_host), CK_RHOST_MAX },
    { offsetof(ck_session, service), CK_SERVICE_MAX },
    { offsetof(ck_session, tty), CK_TTY_MAX },
    { offsetof(ck_session, idp_sid), CK_IDP_SID_MAX },
    { offsetof(ck_session, user_agent), CK_UA_MAX },
};

#define REC_NFIELDS (sizeof(rec_fields) / sizeof(rec_fields[0]))

static const char *field_of(const ck_session *s, size_t i)
{
    return (const char *)s + rec_fields[i].offset;
}

size_t ck_lmdb_rec_size(const ck_session *s)
{
    size_t n = REC_FIXED;

    for (size_t i = 0; i < REC_NFIELDS; i++)
        n += 2 + strnlen(field_of(s, i), rec_fields[i].max - 1);
    return n;
}

void ck_lmdb_rec_encode(const ck_session *s, unsigned char *buf)
{
    unsigned char *p = buf;

    *p++ = REC_VERSION;
    *p++ = (unsigned char)s->method;
    ck_be64_put(p, s->created);
    ck_be64_put(p + 8, s->last_activity);
    ck_be64_put(p + 16, s->deadline);
    ck_be64_put(p + 24, s->expires);
    p += 32;
    for (size_t i = 0; i < REC_NFIELDS; i++) {
        const char *f = field_of(s, i);
        size_t len = strnlen(f, rec_fields[i].max - 1);

        *p++ = (unsigned char)(len >> 8);
        *p++ = (unsigned char)(len & 0xff);
        memcpy(p, f, len);
        p += len;
    }
}

int ck_lmdb_rec_decode(const void *buf, size_t len, ck_session *s, const char **why)
{
    const unsigned char *p = buf, *end = p + len;
    size_t nfields;

    memset(s, 0, sizeof(*s));
    if (len < REC_FIXED) {
        *why = "record shorter than its fixed part";
        return -1;
    }
    if (p[0] != REC_VERSION && p[0] != 1) {
        *why = "unknown record version";
        return -1;
    }
    nfields = p[0] == 1 ? REC_V1_FIELDS : REC_NFIELDS;
    if (p[1] >= CK_AUTH_METHOD_COUNT) {
        *why = "unknown auth method";
        return -1;
    }
    s->method = (ck_auth_method)p[1];
    s->created = ck_be64_get(p + 2);
    s->last_activity = ck_be64_get(p + 10);
    s->deadline = ck_be64_get(p + 18);
    s->expires = ck_be64_get(p + 26);
    p += REC_FIXED;
    for (size_t i = 0; i < nfields; i++) {
        size_t flen;
        char *f = (char *)s + rec_fields[i].offset;

        if (end - p < 2) {
            *why = "record truncated";
            return -1;
        }
        flen = ((size_t)p[0] << 8) | p[1];
        p += 2;
        if (flen >= rec_fields[i].max || (size_t)(end - p) < flen ||
            memchr(p, '\0', flen)) {
            *why = "field length or content out of range";
            return -1;
        }
        memcpy(f, p, flen);
        f[flen] = '\0';
        p += flen;
    }
    if (p != end) {
        *why = "trailing bytes after the record";
        return -1;
    }
    if (!s->user_id[0] || s->deadline < s->created || s->expires > s->deadline) {
        *why = "inconsistent fields";
        return -1;
    }
    return 0;
}

void ck_lmdb_counters_encode(const ck_lmdb_counters *c, unsigned char *buf, size_t *len)
{
    int64_t v[CNT_N];
    size_t k = 0;

    v[k++] = c->created;
    for (int i = 0; i < CK_END_COUNT; i++)
        v[k++] = c->ended[i];
    v[k++] = c->duration_sum;
    for (int i = 0; i < CK_AUTH_METHOD_COUNT; i++)
        v[k++] = c->active[i];
    buf[0] = CNT_VERSION;
    buf[1] = CNT_N;
    for (size_t i = 0; i < CNT_N; i++)
        ck_be64_put(buf + 2 + 8 * i, v[i]);
    *len = 2 + 8 * CNT_N;
}

int ck_lmdb_counters_decode(const void *buf, size_t len, ck_lmdb_counters *c)
{
    const unsigned char *p = buf;
    size_t k = 0;

    if (len != 2 + 8 * CNT_N || p[0] != CNT_VERSION || p[1] != CNT_N)
        return -1;
    p += 2;
    c->created = ck_be64_get(p + 8 * k++);
    for (int i = 0; i < CK_END_COUNT; i++)
        c->ended[i] = ck_be64_get(p + 8 * k++);
    c->duration_sum = ck_be64_get(p + 8 * k++);
    for (int i = 0; i < CK_AUTH_METHOD_COUNT; i++)
        c->active[i] = ck_be64_get(p + 8 * k++);
    return 0;
}
