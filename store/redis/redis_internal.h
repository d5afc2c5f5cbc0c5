/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_internal.h - pieces of the Redis backend (redis_backend.c) that
 * its other files use: the connection, the key spellings and the record
 * encoder, so that there is one of each. Internal to libcheckup.
 */
#ifndef CK_REDIS_INTERNAL_H
#define CK_REDIS_INTERNAL_H

#include <stddef.h>

#include "backend.h"
#include "redis_conn.h"

#define CK_RS_KEY_MAX 1024

/* The handle's connection and key prefix ("ck:"). */
ck_redis *ck_rs_conn(ck_store *st);
const char *ck_rs_prefix(ck_store *st);
/* A session record as create writes it; 0 when the times do not fit. */
size_t ck_rs_rec_encode(const ck_session *s, unsigned char *buf, size_t cap);
/* "P s:{b}" + the 32 raw bytes of the hash (b: redis_tags.h); returns its length (binary). */
size_t ck_rs_key_session(ck_store *st, const ck_skey *k, char *out);
/* "P <kind>:{b}<rest>" (b: the tag's hash tag), NUL-terminated, at most CK_RS_KEY_MAX bytes. */
void ck_rs_key_tag(ck_store *st, const char *kind, const char *tag, const char *rest,
                   char *out);
/* An error reply as the store's status, with the server's text in errstr. */
ck_status ck_rs_reply_error(ck_store *st, const redisReply *rep);

/* redis_copy.c: the copy_* operations of backend.h. */
ck_status ck_rs_copy_scan(ck_store *st, int kind, char cursor[CK_COPY_CURSOR_MAX],
                          int64_t now, ck_copy_page *page);
ck_status ck_rs_copy_import(ck_store *st, const ck_copy_entry *e, size_t n, int64_t now,
                            int *res);
ck_status ck_rs_copy_raise(ck_store *st, const ck_metrics *m, int64_t now);

#endif
