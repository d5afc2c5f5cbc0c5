/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * store.c - the store front: argument checks, session ids, key hashing,
 * and dispatch to the backend named by the store URL.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "backend.h"
#include "ck_clock.h"
#include "ck_encode.h"
#include "ck_store.h"
#include "ck_text.h"

static const char *const status_names[] = {
    [CK_OK] = "ok",
    [CK_NOT_FOUND] = "not found",
    [CK_EXPIRED_IDLE] = "expired (idle)",
    [CK_EXPIRED_LIFETIME] = "expired (lifetime)",
    [CK_ERR_INVALID] = "invalid argument",
    [CK_ERR_UNAVAILABLE] = "store unavailable",
    [CK_ERR_FULL] = "store full",
    [CK_ERR_CORRUPT] = "store corrupt",
    [CK_ERR_NOMEM] = "out of memory",
    [CK_ERR_INTERNAL] = "internal error",
    [CK_ERR_NOT_DURABLE] = "not confirmed by the replicas",
};

static int64_t metrics_lost;

void ck_store_metrics_lost_add(void)
{
    __atomic_add_fetch(&metrics_lost, 1, __ATOMIC_RELAXED);
}

int64_t ck_store_metrics_lost(void)
{
    return __atomic_load_n(&metrics_lost, __ATOMIC_RELAXED);
}

const char *ck_status_str(ck_status st)
{
    if ((unsigned)st >= sizeof(status_names) / sizeof(status_names[0]))
        return "unknown status";
    return status_names[st];
}

static const char *const method_names[CK_AUTH_METHOD_COUNT] = {
    [CK_AUTH_EMAIL] = "email",
    [CK_AUTH_CORPPASS] = "corppass",
    [CK_AUTH_OIDC] = "oidc",
};

const char *ck_auth_method_name(ck_auth_method m)
{
    if ((unsigned)m >= CK_AUTH_METHOD_COUNT)
        return "unknown";
    return method_names[m];
}

int ck_auth_method_parse(const char *name, ck_auth_method *out)
{
    for (int i = 0; i < CK_AUTH_METHOD_COUNT; i++) {
        if (strcmp(name, method_names[i]) == 0) {
            *out = (ck_auth_method)i;
            return 0;
        }
    }
    return -1;
}

ck_status (ck_fail)(ck_store *st, ck_status status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(st->errstr, sizeof(st->errstr), fmt, ap);
    va_end(ap);
    return status;
}

void ck_session_list_free(ck_session_list *list)
{
    if (!list)
        return;
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* ---- keys and ids ------------------------------------------------------ */

/*
 * SHA-256 of a session id with the handle's own EVP_MD and context:
 * OpenSSL 3's one-shot SHA256() fetches the algorithm on every call (a
 * global lock and reference counting) and allocates a context, a seventh
 * of a Redis touch's client time. Kept per handle, not per process, so
 * that nothing outlives pam_end in a PAM module that the host unloads.
 */
static void sha256(ck_store *st, const void *p, size_t len,
                   unsigned char out[SHA256_DIGEST_LENGTH])
{
    if (!st->sha256 || !st->sha256_ctx ||
        EVP_DigestInit_ex2(st->sha256_ctx, st->sha256, NULL) != 1 ||
        EVP_DigestUpdate(st->sha256_ctx, p, len) != 1 ||
        EVP_DigestFinal_ex(st->sha256_ctx, out, NULL) != 1)
        SHA256(p, len, out);
}

/* The base64url alphabet, in value order (RFC 4648, section 5). */
static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

_Static_assert(sizeof(CK_TAG_FIRST) - 1 == 48, "48 first characters of a new tag");
_Static_assert(CK_TAG_NEW_COUNT <= 48 * 64, "a new tag is two characters");

/* The format of both kinds is described in backend.h: never change it. */
void ck_user_tag(const char *user_id, char tag[3])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    uint64_t v = 0;

    SHA256((const unsigned char *)user_id, strlen(user_id), md);
    for (int i = 0; i < 8; i++)
        v = v << 8 | md[i];
    ck_tag_name(CK_TAG_OLD_COUNT + (int)(v % CK_TAG_NEW_COUNT), tag);
}

void ck_user_tag_old(const char *user_id, char tag[3])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)user_id, strlen(user_id), md);
    md[0] %= CK_TAG_OLD_COUNT;
    ck_hex_encode(md, 1, tag);
}

void ck_tag_name(int index, char tag[3])
{
    if (index < CK_TAG_OLD_COUNT) {
        unsigned char b = (unsigned char)index;

        ck_hex_encode(&b, 1, tag);
        return;
    }
    index -= CK_TAG_OLD_COUNT;
    tag[0] = CK_TAG_FIRST[index / 64];
    tag[1] = b64url_alphabet[index % 64];
    tag[2] = '\0';
}

static int b64url_value(char c)
{
    const char *p = c ? strchr(b64url_alphabet, c) : NULL;

    return p ? (int)(p - b64url_alphabet) : -1;
}

/* An old tag's digit: lowercase only, as ids were always spelled. */
static int lower_hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int ck_tag_index(const char *t)
{
    const char *first;
    int v, lo;

    if (!t || !t[0])
        return -1;
    if (lower_hex_value(t[0]) >= 0) {
        lo = lower_hex_value(t[1]);
        v = lower_hex_value(t[0]) * 16 + lo;
        return lo >= 0 && v < CK_TAG_OLD_COUNT ? v : -1;
    }
    first = strchr(CK_TAG_FIRST, t[0]);
    lo = b64url_value(t[1]);
    if (!first || lo < 0)
        return -1;
    v = (int)(first - CK_TAG_FIRST) * 64 + lo;
    return v < CK_TAG_NEW_COUNT ? CK_TAG_OLD_COUNT + v : -1;
}

void ck_skey_hex(const ck_skey *key, char out[CK_KEY_HEX_LEN])
{
    out[0] = key->tag[0];
    out[1] = key->tag[1];
    ck_hex_encode(key->hash, CK_KEY_LEN, out + 2);
}

static int tag_valid(const char *t)
{
    return ck_tag_index(t) >= 0;
}

int ck_skey_from_hex(const char *hex, ck_skey *key)
{
    if (!hex || strlen(hex) != CK_KEY_HEX_LEN - 1 || !tag_valid(hex))
        return -1;
    key->tag[0] = hex[0];
    key->tag[1] = hex[1];
    key->tag[2] = '\0';
    return ck_hex_decode(hex + 2, CK_KEY_LEN, key->hash);
}

/* A session id: the tag, then 256 bits from the OS CSPRNG. */
static int sid_generate(const char tag[2], char sid[CK_SID_LEN])
{
    unsigned char rnd[32];

    if (RAND_priv_bytes(rnd, sizeof(rnd)) != 1)
        return -1;
    sid[0] = tag[0];
    sid[1] = tag[1];
    ck_b64url_encode(rnd, sizeof(rnd), sid + 2);    /* 43 characters */
    OPENSSL_cleanse(rnd, sizeof(rnd));
    return 0;
}

static int sid_to_key(ck_store *st, const char *sid, ck_skey *key)
{
    if (!sid || strlen(sid) != CK_SID_LEN - 1 || !tag_valid(sid))
        return -1;
    for (int i = 2; i < CK_SID_LEN - 1; i++)
        if (!ck_b64url_char((unsigned char)sid[i]))
            return -1;
    key->tag[0] = sid[0];
    key->tag[1] = sid[1];
    key->tag[2] = '\0';
    sha256(st, sid, CK_SID_LEN - 1, key->hash);
    return 0;
}

/* ---- argument checks --------------------------------------------------- */

/* Valid text (ck_text.h), shorter than max (with NUL). */
static int text_ok(const char *s, size_t max, int required)
{
    size_t len = strnlen(s, max);

    if (len >= max || (required && len == 0))
        return 0;
    return ck_text_ok(s);
}

#define CHECK_FIELD(st, s, field, max, required)                                 \
    do {                                                                        \
        if (!text_ok((s)->field, (max), (required)))                           \
            return ck_fail((st), CK_ERR_INVALID,                                \
                           "session field %s is %s", #field,                    \
                           strnlen((s)->field, (max)) >= (max) ? "too long"     \
                           : (required) && !(s)->field[0] ? "empty"             \
                           : "not valid UTF-8 text");                           \
    } while (0)

static ck_status session_check(ck_store *st, const ck_session *s)
{
    CHECK_FIELD(st, s, user_id, CK_USER_MAX, 1);
    CHECK_FIELD(st, s, email, CK_EMAIL_MAX, 0);
    CHECK_FIELD(st, s, role, CK_ROLE_MAX, 0);
    CHECK_FIELD(st, s, clinic_id, CK_CLINIC_MAX, 0);
    CHECK_FIELD(st, s, remote_host, CK_RHOST_MAX, 0);
    CHECK_FIELD(st, s, service, CK_SERVICE_MAX, 0);
    CHECK_FIELD(st, s, tty, CK_TTY_MAX, 0);
    CHECK_FIELD(st, s, idp_sid, CK_IDP_SID_MAX, 0);
    CHECK_FIELD(st, s, user_agent, CK_UA_MAX, 0);
    if ((unsigned)s->method >= CK_AUTH_METHOD_COUNT)
        return ck_fail(st, CK_ERR_INVALID, "unknown auth method %d", (int)s->method);
    return CK_OK;
}

static ck_status name_check(ck_store *st, const char *what, const char *name, size_t max)
{
    if (!name || !text_ok(name, max, 1))
        return ck_fail(st, CK_ERR_INVALID, "%s is empty, too long or not text", what);
    return CK_OK;
}

/* ---- open / close ------------------------------------------------------ */

/* The user info is read as the Redis URL parser reads it: up to the last
 * '@' before the first '/' after "://", the password after its first ':'. */
void ck_store_url_shown(const char *url, char *out, size_t cap)
{
    const char *s = strstr(url, "://"), *at = NULL, *colon, *end;

    if (cap == 0)
        return;
    if (!s) {
        snprintf(out, cap, "%s", url);
        return;
    }
    s += 3;
    end = s + strcspn(s, "/");
    for (const char *p = s; p < end; p++)
        if (*p == '@')
            at = p;
    colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
    if (!colon || colon + 1 == at) {
        snprintf(out, cap, "%s", url);
        return;
    }
    snprintf(out, cap, "%.*s***%s", (int)(colon + 1 - url), url, at);
}

ck_store *ck_store_open(const ck_config *cfg, char *err, size_t errlen)
{
    ck_store *st;
    const char *url = cfg->store_url ? cfg->store_url : CK_DEFAULT_STORE_URL;
    ck_status rc;

    st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->inactivity = cfg->inactivity_timeout;
    st->lifetime = cfg->absolute_lifetime;
    st->pending_ttl = cfg->pending_ttl;
    st->max_per_user = cfg->max_per_user;
    st->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    st->sha256_ctx = EVP_MD_CTX_new();

    if (strncmp(url, "lmdb:", 5) == 0) {
        rc = ck_lmdb_open(st, cfg, url + 5);
    } else if (strncmp(url, "redis://", 8) == 0 || strncmp(url, "rediss://", 9) == 0 ||
               strncmp(url, "redis+sentinel://", 17) == 0 ||
               strncmp(url, "rediss+sentinel://", 18) == 0 ||
               strncmp(url, "redis+cluster://", 16) == 0 ||
               strncmp(url, "rediss+cluster://", 17) == 0) {
        rc = ck_redis_store_open(st, cfg, url);
    } else {
        snprintf(st->errstr, sizeof(st->errstr),
                 "unknown store URL scheme (use lmdb:, redis://, rediss://, "
                 "redis+sentinel://, rediss+sentinel://, redis+cluster:// or "
                 "rediss+cluster://)");
        rc = CK_ERR_INVALID;
    }
    if (rc != CK_OK) {
        snprintf(err, errlen, "%s", st->errstr);
        EVP_MD_CTX_free(st->sha256_ctx);
        EVP_MD_free(st->sha256);
        free(st);
        return NULL;
    }
    return st;
}

void ck_store_close(ck_store *st)
{
    if (!st)
        return;
    if (st->ops && st->ops->close)
        st->ops->close(st);
    EVP_MD_CTX_free(st->sha256_ctx);
    EVP_MD_free(st->sha256);
    free(st);
}

const char *ck_store_errstr(const ck_store *st)
{
    return st->errstr;
}

const char *ck_store_backend(const ck_store *st)
{
    return st->ops->name;
}

/* ---- sessions ---------------------------------------------------------- */

/* tag: NULL for the user's new tag, the only one that production issues. */
static ck_status create(ck_store *st, ck_session *in, const char *tag,
                        char sid_out[CK_SID_LEN])
{
    ck_skey key;
    ck_status rc;
    char utag[3];
    int64_t now = ck_now();

    st->evicted = 0;
    rc = session_check(st, in);
    if (rc != CK_OK)
        return rc;
    if (!tag) {
        ck_user_tag(in->user_id, utag);
        tag = utag;
    }
    if (ck_tag_index(tag) < 0)
        return ck_fail(st, CK_ERR_INVALID, "not a session tag");
    if (sid_generate(tag, sid_out) != 0 || sid_to_key(st, sid_out, &key) != 0)
        return ck_fail(st, CK_ERR_INTERNAL, "the system random generator failed");
    in->created = now;
    in->last_activity = now;
    in->deadline = now + st->lifetime;
    in->expires = now + st->inactivity < in->deadline ? now + st->inactivity : in->deadline;
    ck_skey_hex(&key, in->key_hex);
    rc = st->ops->create(st, &key, in);
    if (rc != CK_OK)
        OPENSSL_cleanse(sid_out, CK_SID_LEN);
    return rc;
}

ck_status ck_store_create(ck_store *st, ck_session *in, char sid_out[CK_SID_LEN])
{
    return create(st, in, NULL, sid_out);
}

ck_status ck_store_create_tagged(ck_store *st, ck_session *in, const char tag[2],
                                 char sid_out[CK_SID_LEN])
{
    return create(st, in, tag, sid_out);
}

size_t ck_store_last_evicted(const ck_store *st)
{
    return st->evicted;
}

#define SID_TO_KEY(st, sid, key)                                              \
    do {                                                                      \
        if (sid_to_key((st), (sid), (key)) != 0)                              \
            return ck_fail((st), CK_ERR_INVALID, "malformed session id");     \
    } while (0)

ck_status ck_store_touch(ck_store *st, const char *sid, ck_session *out)
{
    ck_skey key;

    SID_TO_KEY(st, sid, &key);
    return st->ops->touch(st, &key, ck_now(), out);
}

int ck_store_touch_cheap(ck_store *st, const char *sid, ck_session *out, ck_status *rc)
{
    ck_skey key;

    if (!st->ops->touch_cheap || sid_to_key(st, sid, &key) != 0)
        return 0;
    return st->ops->touch_cheap(st, &key, ck_now(), out, rc);
}

void ck_store_touch_many(ck_store *st, size_t n, const char *const *sids, ck_session *const *outs,
                         ck_status *res)
{
    ck_skey keys[CK_STORE_BATCH_MAX];
    int64_t now = ck_now();
    size_t i;

    if (n > CK_STORE_BATCH_MAX)
        n = CK_STORE_BATCH_MAX;
    for (i = 0; i < n && sid_to_key(st, sids[i], &keys[i]) == 0; i++)
        ;
    if (i == n && n > 1 && st->ops->touch_many) {
        st->ops->touch_many(st, n, keys, now, outs, res);
        return;
    }
    /* One at a time when a backend cannot batch, or an id is malformed. */
    for (i = 0; i < n; i++)
        res[i] = sid_to_key(st, sids[i], &keys[i]) != 0
                 ? ck_fail(st, CK_ERR_INVALID, "malformed session id")
                 : st->ops->touch(st, &keys[i], now, outs[i]);
}

ck_status ck_store_get(ck_store *st, const char *sid, ck_session *out)
{
    ck_skey key;

    SID_TO_KEY(st, sid, &key);
    return st->ops->get(st, &key, ck_now(), out);
}

ck_status ck_store_delete(ck_store *st, const char *sid)
{
    ck_skey key;

    SID_TO_KEY(st, sid, &key);
    return st->ops->del(st, &key, ck_now(), 0);
}

ck_status ck_store_delete_key(ck_store *st, const char *key_hex)
{
    ck_skey key;

    if (ck_skey_from_hex(key_hex, &key) != 0)
        return ck_fail(st, CK_ERR_INVALID, "malformed session key (want a tag and %d hex characters)",
                       CK_KEY_HEX_LEN - 3);
    return st->ops->del(st, &key, ck_now(), 1);
}

ck_status ck_store_revoke_user(ck_store *st, const char *user_id, size_t *count)
{
    size_t dummy;
    ck_status rc = name_check(st, "user id", user_id, CK_USER_MAX);

    if (rc != CK_OK)
        return rc;
    return st->ops->revoke_user(st, user_id, ck_now(), count ? count : &dummy);
}

ck_status ck_store_list_user(ck_store *st, const char *user_id, ck_session_list *out)
{
    ck_status rc = name_check(st, "user id", user_id, CK_USER_MAX);

    out->count = 0;
    out->items = NULL;
    if (rc != CK_OK)
        return rc;
    return st->ops->list_user(st, user_id, ck_now(), out);
}

/* ---- pending logins and counters ---------------------------------------- */

ck_status ck_store_state_put(ck_store *st, const char *name, const void *value,
                             size_t len, int ttl)
{
    ck_status rc = name_check(st, "state name", name, CK_STATE_NAME_MAX);

    if (rc != CK_OK)
        return rc;
    if (len > CK_STATE_VALUE_MAX || (len && !value))
        return ck_fail(st, CK_ERR_INVALID, "state value of %zu bytes is over the %d-byte limit",
                       len, CK_STATE_VALUE_MAX);
    if (ttl <= 0)
        ttl = st->pending_ttl;
    return st->ops->state_put(st, name, value, len, ttl, ck_now());
}

static ck_status state_read(ck_store *st, const char *name, int take, void **value,
                            size_t *len)
{
    ck_status rc = name_check(st, "state name", name, CK_STATE_NAME_MAX);

    *value = NULL;
    *len = 0;
    if (rc != CK_OK)
        return rc;
    return st->ops->state_get(st, name, take, ck_now(), value, len);
}

ck_status ck_store_state_take(ck_store *st, const char *name, void **value, size_t *len)
{
    return state_read(st, name, 1, value, len);
}

ck_status ck_store_state_get(ck_store *st, const char *name, void **value, size_t *len)
{
    return state_read(st, name, 0, value, len);
}

ck_status ck_store_fail_add(ck_store *st, const char *name, int window, int64_t *count)
{
    int64_t dummy;
    ck_status rc = name_check(st, "counter name", name, CK_STATE_NAME_MAX);

    if (rc != CK_OK)
        return rc;
    if (window <= 0)
        return ck_fail(st, CK_ERR_INVALID, "counter window must be positive");
    return st->ops->fail_add(st, name, window, ck_now(), count ? count : &dummy);
}

ck_status ck_store_fail_count(ck_store *st, const char *name, int64_t *count)
{
    ck_status rc = name_check(st, "counter name", name, CK_STATE_NAME_MAX);

    *count = 0;
    if (rc != CK_OK)
        return rc;
    return st->ops->fail_count(st, name, ck_now(), count);
}

ck_status ck_store_fail_reset(ck_store *st, const char *name)
{
    ck_status rc = name_check(st, "counter name", name, CK_STATE_NAME_MAX);

    if (rc != CK_OK)
        return rc;
    return st->ops->fail_reset(st, name);
}

void ck_lock_list_free(ck_lock_list *list)
{
    if (!list)
        return;
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

ck_status ck_store_lock_note(ck_store *st, const char *name, int ttl)
{
    ck_status rc = name_check(st, "lock name", name, CK_LOCK_NAME_MAX);
    int64_t now = ck_now();

    if (rc != CK_OK)
        return rc;
    if (ttl <= 0)
        return ck_fail(st, CK_ERR_INVALID, "lock time must be positive");
    return st->ops->lock_note(st, name, now + ttl, now);
}

ck_status ck_store_lock_forget(ck_store *st, const char *name)
{
    ck_status rc = name_check(st, "lock name", name, CK_LOCK_NAME_MAX);

    if (rc != CK_OK)
        return rc;
    return st->ops->lock_forget(st, name);
}

ck_status ck_store_lock_list(ck_store *st, ck_lock_list *out)
{
    out->count = 0;
    out->items = NULL;
    return st->ops->lock_list(st, ck_now(), out);
}

ck_status ck_store_wait_replicas(ck_store *st, const char *what)
{
    if (!st->ops->wait_replicas)
        return CK_OK;
    return st->ops->wait_replicas(st, what ? what : "change");
}

ck_status ck_store_metrics(ck_store *st, ck_metrics *out)
{
    ck_status rc;
    int64_t ended;

    memset(out, 0, sizeof(*out));
    rc = st->ops->metrics(st, ck_now(), out);
    if (rc != CK_OK)
        return rc;
    ended = out->ended_logout + out->ended_idle + out->ended_lifetime + out->ended_revoked;
    out->avg_duration = ended > 0 ? (double)out->duration_sum / (double)ended : 0.0;
    return CK_OK;
}

ck_status ck_store_ping(ck_store *st)
{
    return st->ops->ping(st);
}

ck_status ck_store_sweep(ck_store *st, size_t *removed)
{
    size_t dummy;

    return st->ops->sweep(st, ck_now(), removed ? removed : &dummy);
}

ck_status ck_store_memory_info(ck_store *st, ck_store_memory *out)
{
    memset(out, 0, sizeof(*out));
    if (!st->ops->memory)
        return ck_fail(st, CK_NOT_FOUND, "the %s store has no server memory figures",
                       st->ops->name);
    return st->ops->memory(st, out);
}
