/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_store_records.c - what the embedded store reads back from its
 * files (lmdb_record.c: session records and metrics counters) and the
 * session keys admins type (ck_skey_from_hex, "checkup sessions delete").
 * A damaged or foreign data.mdb must give CK_ERR_CORRUPT, never a crash.
 *
 * Properties: a record that decodes survives re-encoding, and one of the
 * current version encodes back to the very same bytes; a key that parses prints back the same up to
 * the case of its hex digits.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "fuzz.h"
#include "lmdb/lmdb_internal.h"

static int same_session(const ck_session *a, const ck_session *b)
{
    return a->method == b->method && a->created == b->created &&
           a->last_activity == b->last_activity && a->deadline == b->deadline &&
           a->expires == b->expires && strcmp(a->user_id, b->user_id) == 0 &&
           strcmp(a->email, b->email) == 0 && strcmp(a->role, b->role) == 0 &&
           strcmp(a->clinic_id, b->clinic_id) == 0 &&
           strcmp(a->remote_host, b->remote_host) == 0 &&
           strcmp(a->service, b->service) == 0 && strcmp(a->tty, b->tty) == 0 &&
           strcmp(a->idp_sid, b->idp_sid) == 0 && strcmp(a->user_agent, b->user_agent) == 0;
}

/*
 * A record that decodes re-encodes (in the current version) to one that
 * decodes to the same session; a current-version record to the very same
 * bytes (one spelling per record).
 */
static void check_record(const uint8_t *data, size_t size)
{
    ck_session s, again;
    const char *why = NULL;
    unsigned char *back;
    size_t n;

    if (ck_lmdb_rec_decode(data, size, &s, &why) != 0) {
        if (!why || !*why)
            ck_fuzz_fail("lmdb record refused without a reason");
        return;
    }
    n = ck_lmdb_rec_size(&s);
    back = malloc(n);
    if (!back)
        ck_fuzz_fail("out of memory");
    ck_lmdb_rec_encode(&s, back);
    if (ck_lmdb_rec_decode(back, n, &again, &why) != 0 || !same_session(&s, &again))
        ck_fuzz_fail("lmdb record does not survive re-encoding");
    if (back[0] == data[0] && (n != size || memcmp(back, data, size) != 0))
        ck_fuzz_fail("lmdb record re-encodes to different bytes in the same version");
    free(back);
}

static void check_counters(const uint8_t *data, size_t size)
{
    ck_lmdb_counters c;
    unsigned char back[256];
    size_t len = 0;

    if (ck_lmdb_counters_decode(data, size, &c) != 0)
        return;
    ck_lmdb_counters_encode(&c, back, &len);
    if (len != size || memcmp(back, data, size) != 0)
        ck_fuzz_fail("lmdb counters re-encode to different bytes");
}

static void check_key(const uint8_t *data, size_t size)
{
    char *hex = ck_fuzz_strndup(data, size), back[CK_KEY_HEX_LEN];
    ck_skey key;
    ck_auth_method m;

    if (ck_skey_from_hex(hex, &key) == 0) {
        ck_skey_hex(&key, back);
        if (strcasecmp(back, hex) != 0)
            ck_fuzz_fail("session key prints back differently");
    }
    if (ck_auth_method_parse(hex, &m) == 0 &&
        strcmp(ck_auth_method_name(m), hex) != 0)
        ck_fuzz_fail("auth method name does not round-trip");
    free(hex);
}

CK_FUZZ_TARGET(store_records)
{
    check_record(data, size);
    check_counters(data, size);
    check_key(data, size);
    return 0;
}
