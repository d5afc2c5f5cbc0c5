/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * terminal.c - pending terminal logins (see ck_terminal.h).
 *
 * A pending login is the state record "term:<code>"; a completed one is
 * "termdone:<code>". Moving between them always starts with a state_take,
 * which is atomic on every backend: two checkupd callbacks racing for one
 * code cannot both take the pending record, and two PAM polls cannot both
 * take the result. The records are small JSON objects (jansson).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "backend.h"
#include "ck_clock.h"
#include "ck_terminal.h"
#include "ck_text.h"

#define PENDING_PREFIX "term:"
#define DONE_PREFIX    "termdone:"
#define RECORD_VERSION 1
/* A few seconds past the pending TTL, so a result recorded at the last
 * moment is still there when the module's final poll arrives. */
#define DONE_GRACE     30

int ck_terminal_code_parse(const char *in, char out[CK_TERMINAL_CODE_LEN])
{
    size_t n = 0;

    if (!in)
        return -1;
    for (; *in; in++) {
        char c = *in;

        if (c == '-' || c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c == '\0' || !strchr(CK_TERMINAL_ALPHABET, c) || n >= CK_TERMINAL_CODE_CHARS)
            return -1;
        out[n++] = c;
    }
    if (n != CK_TERMINAL_CODE_CHARS)
        return -1;
    out[n] = '\0';
    return 0;
}

static ck_status code_check(ck_store *st, const char *code, char canon[CK_TERMINAL_CODE_LEN])
{
    if (ck_terminal_code_parse(code, canon) != 0)
        return ck_fail(st, CK_ERR_INVALID, "malformed terminal login code");
    return CK_OK;
}

static void record_name(char *buf, size_t len, const char *prefix, const char *code)
{
    snprintf(buf, len, "%s%s", prefix, code);
}

/* 8 symbols from 32: 40 bits, each symbol from 5 random bits (no bias). */
static int code_new(char code[CK_TERMINAL_CODE_LEN])
{
    unsigned char rnd[CK_TERMINAL_CODE_CHARS];

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return -1;
    for (size_t i = 0; i < CK_TERMINAL_CODE_CHARS; i++)
        code[i] = CK_TERMINAL_ALPHABET[rnd[i] & 31];
    code[CK_TERMINAL_CODE_CHARS] = '\0';
    return 0;
}

static int text_field_ok(const char *s, size_t max)
{
    return s && strlen(s) < max && (!*s || ck_text_ok(s));
}

static int identity_ok(const ck_terminal_identity *id)
{
    return text_field_ok(id->sub, sizeof(id->sub)) &&
           text_field_ok(id->email, sizeof(id->email)) &&
           text_field_ok(id->cp_uuid, sizeof(id->cp_uuid)) &&
           text_field_ok(id->cp_entity_id, sizeof(id->cp_entity_id)) &&
           text_field_ok(id->cp_user_id, sizeof(id->cp_user_id)) &&
           text_field_ok(id->idp_sid, sizeof(id->idp_sid)) &&
           (id->sub[0] || id->email[0] || id->cp_uuid[0] || id->cp_user_id[0]);
}

/* ---- the record as JSON ---------------------------------------------------- */

static char *record_encode(const ck_terminal *t, size_t *len)
{
    json_t *o;
    char *s = NULL;

    o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I}",
                  "v", RECORD_VERSION,
                  "state", t->state == CK_TERMINAL_COMPLETED ? "completed" :
                           t->state == CK_TERMINAL_FAILED ? "failed" : "pending",
                  "provider", t->provider, "service", t->service, "rhost", t->rhost,
                  "created", (json_int_t)t->created, "expires", (json_int_t)t->expires);
    if (!o)
        return NULL;
    if (t->state == CK_TERMINAL_COMPLETED) {
        json_t *id = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                               "sub", t->id.sub, "email", t->id.email,
                               "cp_uuid", t->id.cp_uuid, "cp_entity_id", t->id.cp_entity_id,
                               "cp_user_id", t->id.cp_user_id, "idp_sid", t->id.idp_sid);
        if (!id || json_object_set_new(o, "id", id) != 0)
            goto out;
    }
    if (t->state == CK_TERMINAL_FAILED &&
        json_object_set_new(o, "reason", json_string(t->reason)) != 0)
        goto out;
    s = json_dumps(o, JSON_COMPACT);
    if (s)
        *len = strlen(s);
out:
    json_decref(o);
    return s;
}

/* Copies string member key of o into out; absent means "". */
static int copy_str(json_t *o, const char *key, char *out, size_t max)
{
    json_t *v = json_object_get(o, key);
    const char *s;

    out[0] = '\0';
    if (!v)
        return 0;
    s = json_string_value(v);
    if (!s || !text_field_ok(s, max))
        return -1;
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

static int decode_identity(json_t *o, ck_terminal_identity *id)
{
    if (!json_is_object(o))
        return -1;
    if (copy_str(o, "sub", id->sub, sizeof(id->sub)) != 0 ||
        copy_str(o, "email", id->email, sizeof(id->email)) != 0 ||
        copy_str(o, "cp_uuid", id->cp_uuid, sizeof(id->cp_uuid)) != 0 ||
        copy_str(o, "cp_entity_id", id->cp_entity_id, sizeof(id->cp_entity_id)) != 0 ||
        copy_str(o, "cp_user_id", id->cp_user_id, sizeof(id->cp_user_id)) != 0 ||
        copy_str(o, "idp_sid", id->idp_sid, sizeof(id->idp_sid)) != 0)
        return -1;
    return 0;
}

static ck_status record_decode(ck_store *st, const void *buf, size_t len, ck_terminal *out)
{
    json_error_t jerr;
    json_t *o = json_loadb(buf, len, 0, &jerr);
    json_int_t v = 0, created = 0, expires = 0;
    const char *state = NULL;
    ck_status rc = CK_ERR_CORRUPT;

    memset(out, 0, sizeof(*out));
    if (!o || json_unpack(o, "{s:I, s:s, s:I, s:I}", "v", &v, "state", &state,
                          "created", &created, "expires", &expires) != 0 ||
        v != RECORD_VERSION)
        goto out;
    if (copy_str(o, "provider", out->provider, sizeof(out->provider)) != 0 ||
        copy_str(o, "service", out->service, sizeof(out->service)) != 0 ||
        copy_str(o, "rhost", out->rhost, sizeof(out->rhost)) != 0)
        goto out;
    out->created = created;
    out->expires = expires;
    if (strcmp(state, "pending") == 0) {
        out->state = CK_TERMINAL_PENDING;
    } else if (strcmp(state, "completed") == 0) {
        out->state = CK_TERMINAL_COMPLETED;
        if (decode_identity(json_object_get(o, "id"), &out->id) != 0)
            goto out;
    } else if (strcmp(state, "failed") == 0) {
        out->state = CK_TERMINAL_FAILED;
        if (copy_str(o, "reason", out->reason, sizeof(out->reason)) != 0 || !out->reason[0])
            goto out;
    } else {
        goto out;
    }
    rc = CK_OK;
out:
    json_decref(o);
    if (rc != CK_OK)
        return ck_fail(st, rc, "a terminal login record is not what checkup wrote");
    return rc;
}

static ck_status record_put(ck_store *st, const char *name, const ck_terminal *t, int ttl)
{
    size_t len = 0;
    char *s = record_encode(t, &len);
    ck_status rc;

    if (!s)
        return ck_fail(st, CK_ERR_NOMEM, "out of memory encoding a terminal login");
    rc = ck_store_state_put(st, name, s, len, ttl);
    free(s);
    return rc;
}

/* Reads (take = 0) or takes (take = 1) one record. */
static ck_status record_read(ck_store *st, const char *name, int take, ck_terminal *out)
{
    void *buf = NULL;
    size_t len = 0;
    ck_status rc;

    if (take)
        rc = ck_store_state_take(st, name, &buf, &len);
    else
        rc = ck_store_state_get(st, name, &buf, &len);
    if (rc == CK_OK)
        rc = record_decode(st, buf, len, out);
    free(buf);
    return rc;
}

/* ---- the API ------------------------------------------------------------------ */

ck_status ck_terminal_begin(ck_store *st, const char *provider, const char *service,
                            const char *rhost, int ttl, char code[CK_TERMINAL_CODE_LEN])
{
    char name[CK_STATE_NAME_MAX];
    ck_terminal t, old;
    ck_status rc;

    code[0] = '\0';
    if (!provider || !*provider || !text_field_ok(provider, sizeof(t.provider)) ||
        (service && !text_field_ok(service, sizeof(t.service))) ||
        (rhost && !text_field_ok(rhost, sizeof(t.rhost))))
        return ck_fail(st, CK_ERR_INVALID, "terminal login: provider, service or remote "
                       "host is empty, too long or not text");
    if (ttl <= 0)
        ttl = st->pending_ttl;
    memset(&t, 0, sizeof(t));
    t.state = CK_TERMINAL_PENDING;
    memcpy(t.provider, provider, strlen(provider) + 1);
    snprintf(t.service, sizeof(t.service), "%s", service ? service : "");
    snprintf(t.rhost, sizeof(t.rhost), "%s", rhost ? rhost : "");
    t.created = ck_now();
    t.expires = t.created + ttl;
    /* A live code is never reused: draw again in the rare case it is taken. */
    for (int tries = 0; tries < 4; tries++) {
        if (code_new(code) != 0)
            return ck_fail(st, CK_ERR_INTERNAL, "the system random generator failed");
        record_name(name, sizeof(name), PENDING_PREFIX, code);
        rc = record_read(st, name, 0, &old);
        if (rc == CK_NOT_FOUND)
            return record_put(st, name, &t, ttl);
        if (rc != CK_OK && rc != CK_ERR_CORRUPT)
            break;
    }
    code[0] = '\0';
    if (rc == CK_OK || rc == CK_ERR_CORRUPT)
        return ck_fail(st, CK_ERR_INTERNAL, "no free terminal login code");
    return rc;
}

ck_status ck_terminal_lookup(ck_store *st, const char *code, ck_terminal *out)
{
    char canon[CK_TERMINAL_CODE_LEN], name[CK_STATE_NAME_MAX];
    ck_status rc = code_check(st, code, canon);

    memset(out, 0, sizeof(*out));
    if (rc != CK_OK)
        return rc;
    record_name(name, sizeof(name), PENDING_PREFIX, canon);
    rc = record_read(st, name, 0, out);
    if (rc == CK_OK && out->state != CK_TERMINAL_PENDING)
        return ck_fail(st, CK_ERR_CORRUPT, "a terminal login record is not what checkup wrote");
    return rc;
}

/* Takes the pending record of canon and puts its result t (id or reason). */
static ck_status finish(ck_store *st, const char *canon, ck_terminal *done)
{
    char name[CK_STATE_NAME_MAX];
    ck_terminal t;
    int64_t left;
    ck_status rc;

    record_name(name, sizeof(name), PENDING_PREFIX, canon);
    /* Taking the pending record is what makes completion single-use. */
    rc = record_read(st, name, 1, &t);
    if (rc != CK_OK)
        return rc;
    if (t.state != CK_TERMINAL_PENDING)
        return ck_fail(st, CK_ERR_CORRUPT, "a terminal login record is not what checkup wrote");
    left = t.expires - ck_now();
    if (left <= 0)
        return ck_fail(st, CK_NOT_FOUND, "terminal login expired");
    t.state = done->state;
    t.id = done->id;
    memcpy(t.reason, done->reason, sizeof(t.reason));
    record_name(name, sizeof(name), DONE_PREFIX, canon);
    return record_put(st, name, &t, (int)(left > 3600 ? 3600 : left) + DONE_GRACE);
}

ck_status ck_terminal_fail(ck_store *st, const char *code, const char *reason)
{
    char canon[CK_TERMINAL_CODE_LEN];
    ck_terminal done;
    ck_status rc = code_check(st, code, canon);

    if (rc != CK_OK)
        return rc;
    if (!reason || !reason[0] || !text_field_ok(reason, sizeof(done.reason)))
        return ck_fail(st, CK_ERR_INVALID, "terminal login failure reason is empty, too "
                       "long or not text");
    memset(&done, 0, sizeof(done));
    done.state = CK_TERMINAL_FAILED;
    memcpy(done.reason, reason, strlen(reason) + 1);
    return finish(st, canon, &done);
}

ck_status ck_terminal_complete(ck_store *st, const char *code, const ck_terminal_identity *id)
{
    char canon[CK_TERMINAL_CODE_LEN];
    ck_terminal done;
    ck_status rc = code_check(st, code, canon);

    if (rc != CK_OK)
        return rc;
    if (!id || !identity_ok(id))
        return ck_fail(st, CK_ERR_INVALID, "terminal login identity is empty, too long or "
                       "not text");
    memset(&done, 0, sizeof(done));
    done.state = CK_TERMINAL_COMPLETED;
    done.id = *id;
    return finish(st, canon, &done);
}

ck_status ck_terminal_poll(ck_store *st, const char *code, ck_terminal *out)
{
    char canon[CK_TERMINAL_CODE_LEN], done[CK_STATE_NAME_MAX], pend[CK_STATE_NAME_MAX];
    ck_status rc = code_check(st, code, canon);

    memset(out, 0, sizeof(*out));
    if (rc != CK_OK)
        return rc;
    record_name(done, sizeof(done), DONE_PREFIX, canon);
    record_name(pend, sizeof(pend), PENDING_PREFIX, canon);
    rc = record_read(st, done, 1, out);
    if (rc != CK_NOT_FOUND)
        return rc;
    rc = record_read(st, pend, 0, out);
    if (rc != CK_NOT_FOUND)
        return rc;
    /* checkupd may have moved pending to done between the two reads. */
    return record_read(st, done, 1, out);
}

ck_status ck_terminal_cancel(ck_store *st, const char *code)
{
    char canon[CK_TERMINAL_CODE_LEN], name[CK_STATE_NAME_MAX];
    void *buf = NULL;
    size_t len = 0;
    ck_status rc = code_check(st, code, canon);

    if (rc != CK_OK)
        return rc;
    record_name(name, sizeof(name), PENDING_PREFIX, canon);
    rc = ck_store_state_take(st, name, &buf, &len);
    free(buf);
    buf = NULL;
    if (rc != CK_OK && rc != CK_NOT_FOUND)
        return rc;
    record_name(name, sizeof(name), DONE_PREFIX, canon);
    rc = ck_store_state_take(st, name, &buf, &len);
    free(buf);
    return rc == CK_NOT_FOUND ? CK_OK : rc;
}
