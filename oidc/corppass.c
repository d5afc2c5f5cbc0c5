/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * corppass.c - verified claims to the identity a session stores: the
 * mapped generic fields, and for CorpPass the legacy sub
 * ("s=<id>,uuid=<uuid>,u=<CPUID>,c=<country>", keys in any order) with
 * userInfo / entityInfo, or the FAPI 2.0 claims (sub = entity, act = the
 * acting user, sub_attributes). Errors name the claim, never its value:
 * CorpPass identity numbers must not reach a log.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "ck_idtoken.h"
#include "jose_internal.h"

/* Copies a string into a fixed field: -1 when it does not fit. */
static int copy_field(char *dst, size_t dstlen, const char *src)
{
    size_t n = strlen(src);

    if (n >= dstlen)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* An optional string claim in obj; absent leaves dst empty, a non-string
 * or an oversized value is an error. */
static int opt_claim(json_t *obj, const char *name, char *dst, size_t dstlen,
                     char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        ck_jose_err(err, errlen, "claim %s is not a string", name);
        return -1;
    }
    if (copy_field(dst, dstlen, json_string_value(v)) != 0) {
        ck_jose_err(err, errlen, "claim %s is too long", name);
        return -1;
    }
    return 0;
}

/* An optional object member of obj into *out: absent (NULL) or an object is
 * fine, any other JSON type is an error (-1). */
static int opt_object(json_t *obj, const char *name, json_t **out)
{
    *out = json_object_get(obj, name);
    return *out == NULL || json_is_object(*out) ? 0 : -1;
}

static int legacy_pair(ck_identity *out, const char *key, size_t klen,
                       const char *val, size_t vlen, unsigned *seen, char *err,
                       size_t errlen)
{
    static const struct {
        const char *key;
        size_t off, len;
    } fields[] = {
        { "s", offsetof(ck_identity, cp_nric), sizeof(out->cp_nric) },
        { "uuid", offsetof(ck_identity, cp_uuid), sizeof(out->cp_uuid) },
        { "u", offsetof(ck_identity, cp_cpuid), sizeof(out->cp_cpuid) },
        { "c", offsetof(ck_identity, cp_country), sizeof(out->cp_country) },
    };
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strlen(fields[i].key) != klen || memcmp(fields[i].key, key, klen) != 0)
            continue;
        if (*seen & (1u << i) || vlen >= fields[i].len) {
            ck_jose_err(err, errlen, "corppass sub: field %s repeated or too long",
                        fields[i].key);
            return -1;
        }
        *seen |= 1u << i;
        memcpy((char *)out + fields[i].off, val, vlen);
        ((char *)out + fields[i].off)[vlen] = '\0';
        return 0;
    }
    /* Keys CorpPass may add later are not an error. */
    return 0;
}

/* Legacy sub: comma-separated key=value pairs, parsed by key. */
static int legacy_sub(const char *sub, ck_identity *out, char *err, size_t errlen)
{
    const char *p = sub, *end, *eq;
    unsigned seen = 0;

    while (*p != '\0') {
        end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        eq = memchr(p, '=', (size_t)(end - p));
        if (eq == NULL || eq == p) {
            ck_jose_err(err, errlen, "corppass sub: an element is not key=value");
            return -1;
        }
        if (legacy_pair(out, p, (size_t)(eq - p), eq + 1, (size_t)(end - eq - 1),
                        &seen, err, errlen) != 0)
            return -1;
        p = *end == ',' ? end + 1 : end;
    }
    /* s (bit 0), uuid (bit 1) or u (bit 2) identifies the user. */
    if ((seen & 7u) == 0) {
        ck_jose_err(err, errlen, "corppass sub: no s, uuid or u");
        return -1;
    }
    return 0;
}

static int corppass_legacy(json_t *claims, const char *sub, ck_identity *out,
                           char *err, size_t errlen)
{
    json_t *ui, *ei;

    if (legacy_sub(sub, out, err, errlen) != 0)
        return -1;
    if (opt_object(claims, "userInfo", &ui) != 0 || opt_object(claims, "entityInfo", &ei) != 0) {
        ck_jose_err(err, errlen, "corppass: userInfo or entityInfo is not an object");
        return -1;
    }
    if (opt_claim(ui, "CPAccType", out->cp_role, sizeof(out->cp_role), err, errlen) != 0 ||
        opt_claim(ei, "CPEntID", out->cp_entity_id, sizeof(out->cp_entity_id), err, errlen) != 0 ||
        opt_claim(ei, "CPEnt_TYPE", out->cp_entity_type, sizeof(out->cp_entity_type), err, errlen) != 0)
        return -1;
    return 0;
}

/* FAPI 2.0: sub is the entity, act the acting user (act.sub = the user's
 * uuid, act.sub_attributes.identity_number with the user.identity
 * scope), sub_attributes describe the entity. */
static int corppass_fapi(json_t *claims, const char *sub, ck_identity *out,
                         char *err, size_t errlen)
{
    json_t *sa, *act, *acc, *asa;

    if (opt_object(claims, "sub_attributes", &sa) != 0 || opt_object(claims, "act", &act) != 0 ||
        opt_object(claims, "sub_account", &acc) != 0 ||
        opt_object(act, "sub_attributes", &asa) != 0) {
        ck_jose_err(err, errlen, "corppass: act, sub_account or sub_attributes is not an object");
        return -1;
    }
    if (copy_field(out->cp_entity_id, sizeof(out->cp_entity_id), sub) != 0) {
        ck_jose_err(err, errlen, "claim sub is too long for an entity id");
        return -1;
    }
    if (opt_claim(sa, "entity_type", out->cp_entity_type, sizeof(out->cp_entity_type), err, errlen) != 0 ||
        opt_claim(act, "sub", out->cp_uuid, sizeof(out->cp_uuid), err, errlen) != 0 ||
        opt_claim(asa, "identity_number", out->cp_nric, sizeof(out->cp_nric), err, errlen) != 0 ||
        opt_claim(asa, "account_type", out->cp_role, sizeof(out->cp_role), err, errlen) != 0 ||
        opt_claim(acc, "sub", out->cp_cpuid, sizeof(out->cp_cpuid), err, errlen) != 0)
        return -1;
    if (out->cp_uuid[0] == '\0') {
        ck_jose_err(err, errlen, "corppass: no acting user (act.sub)");
        return -1;
    }
    return 0;
}

/* The legacy sub always carries '=' pairs; a FAPI entity id never does. */
static int is_legacy_sub(const char *sub)
{
    return strchr(sub, '=') != NULL;
}

int ck_identity_from_claims(json_t *claims, const ck_claim_map *map,
                            int corppass, ck_identity *out, char *err,
                            size_t errlen)
{
    const char *uid = map != NULL && map->user_id != NULL ? map->user_id : "sub";
    const char *email = map != NULL && map->email != NULL ? map->email : "email";
    const char *role = map != NULL && map->role != NULL ? map->role : "role";
    const char *clinic = map != NULL && map->clinic_id != NULL ? map->clinic_id : "clinic_id";
    const char *sub;
    int rc;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    sub = json_string_value(json_object_get(claims, "sub"));
    if (!json_is_object(claims) || sub == NULL || sub[0] == '\0') {
        ck_jose_err(err, errlen, "claim sub missing or empty");
        return -1;
    }
    if (copy_field(out->sub, sizeof(out->sub), sub) != 0) {
        ck_jose_err(err, errlen, "claim sub is too long");
        return -1;
    }
    if (opt_claim(claims, uid, out->user_id, sizeof(out->user_id), err, errlen) != 0 ||
        opt_claim(claims, email, out->email, sizeof(out->email), err, errlen) != 0 ||
        opt_claim(claims, role, out->role, sizeof(out->role), err, errlen) != 0 ||
        opt_claim(claims, clinic, out->clinic_id, sizeof(out->clinic_id), err, errlen) != 0 ||
        opt_claim(claims, "sid", out->idp_sid, sizeof(out->idp_sid), err, errlen) != 0)
        goto fail;
    if (out->user_id[0] == '\0') {
        ck_jose_err(err, errlen, "claim %s (user id) missing or empty", uid);
        goto fail;
    }
    if (!corppass)
        return 0;
    out->is_corppass = 1;
    rc = is_legacy_sub(sub) ? corppass_legacy(claims, sub, out, err, errlen)
                            : corppass_fapi(claims, sub, out, err, errlen);
    if (rc == 0)
        return 0;
fail:
    /* Leave nothing half-filled, the identity number least of all. */
    memset(out, 0, sizeof(*out));
    return -1;
}
