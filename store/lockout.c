/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lockout.c - account and host lockout on top of the store's windowed
 * failure counters: "lf:" counts failures in fail_interval, "lk:" exists
 * while a lock holds (a counter whose window is unlock_time). The lock
 * index entry of a lock is its counter name without "lk:" ("u:ID" for an
 * account, "h:ID:ADDRESS" for a host).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "ck_clock.h"
#include "ck_lockout.h"
#include "ck_metrics.h"

/* With unlock_time = 0 the lock holds until reset: ten years is as good. */
#define FOREVER (10 * 365 * 86400)

void ck_lockout_from_config(ck_lockout *lo, const ck_config *cfg)
{
    lo->deny = cfg->fail_deny;
    lo->fail_interval = cfg->fail_interval;
    lo->unlock_time = cfg->unlock_time;
}

void ck_lockout_id(const char *name, char out[CK_LOCK_ID_LEN])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)name, strlen(name), md);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void counter_name(const char *prefix, ck_lock_kind kind, const char *name,
                         char out[80])
{
    char id[CK_LOCK_ID_LEN];

    ck_lockout_id(name, id);
    snprintf(out, 80, "%s%c:%s", prefix, kind == CK_LOCK_HOST ? 'h' : 'u', id);
}

/* Whether failures against name are counted at all: lockout is on (deny > 0)
 * and there is a name to count them against. */
static int counts(const ck_lockout *lo, const char *name)
{
    return lo->deny > 0 && name && *name;
}

/* Reads the counter prefix+kind+name into cname and *count; a counter that
 * does not exist, or one lockout does not keep (see counts), reads as 0. */
static ck_status counter_read(ck_store *st, const ck_lockout *lo, const char *prefix,
                              ck_lock_kind kind, const char *name, char cname[80],
                              int64_t *count)
{
    ck_status rc;

    *count = 0;
    if (!counts(lo, name))
        return CK_OK;
    counter_name(prefix, kind, name, cname);
    rc = ck_store_fail_count(st, cname, count);
    return rc == CK_NOT_FOUND ? CK_OK : rc;
}

/* The address shown for a host lock: printable ASCII, at most ADDR_SHOWN bytes. */
#define ADDR_SHOWN 150

static void index_name(ck_lock_kind kind, const char *name, char out[CK_LOCK_NAME_MAX])
{
    char id[CK_LOCK_ID_LEN];
    size_t n;

    ck_lockout_id(name, id);
    if (kind != CK_LOCK_HOST) {
        snprintf(out, CK_LOCK_NAME_MAX, "u:%s", id);
        return;
    }
    n = (size_t)snprintf(out, CK_LOCK_NAME_MAX, "h:%s:", id);
    for (size_t i = 0; i < ADDR_SHOWN && name[i]; i++)
        out[n++] = name[i] > ' ' && name[i] < 0x7f ? name[i] : '?';
    out[n] = '\0';
}

/* A lock just started: note it in the index for "checkup lockout list". */
static ck_status index_note(ck_store *st, const ck_lockout *lo, ck_lock_kind kind,
                            const char *name)
{
    char iname[CK_LOCK_NAME_MAX];

    index_name(kind, name, iname);
    return ck_store_lock_note(st, iname, lo->unlock_time > 0 ? lo->unlock_time : FOREVER);
}

ck_status ck_lockout_check(ck_store *st, const ck_lockout *lo, ck_lock_kind kind,
                           const char *name, int *locked)
{
    char cname[80];
    int64_t count;
    ck_status rc = counter_read(st, lo, "lk:", kind, name, cname, &count);

    *locked = rc == CK_OK && count > 0;
    return rc;
}

ck_status ck_lockout_fail(ck_store *st, const ck_lockout *lo, ck_lock_kind kind,
                          const char *name, int64_t *count, int *now_locked)
{
    char cname[80];
    int64_t dummy;
    ck_status rc;

    *count = 0;
    *now_locked = 0;
    /* One failed login is reported once per account (the host is the same event). */
    if (kind == CK_LOCK_ACCOUNT) {
        rc = ck_metrics_count(st, CK_COUNT_LOGIN_FAILURE);
        if (rc != CK_OK)
            return rc;
    }
    if (!counts(lo, name))
        return CK_OK;
    counter_name("lf:", kind, name, cname);
    rc = ck_store_fail_add(st, cname, lo->fail_interval, count);
    if (rc != CK_OK || *count < lo->deny)
        return rc;
    counter_name("lk:", kind, name, cname);
    rc = ck_store_fail_add(st, cname, lo->unlock_time > 0 ? lo->unlock_time : FOREVER, &dummy);
    if (rc != CK_OK)
        return rc;
    *now_locked = dummy == 1;
    if (*now_locked) {
        rc = index_note(st, lo, kind, name);
        if (rc == CK_OK)
            rc = ck_metrics_count(st, CK_COUNT_LOCKOUT);
        if (rc != CK_OK)
            return rc;
    }
    /* The lock now carries the state; failures start afresh after it. */
    counter_name("lf:", kind, name, cname);
    return ck_store_fail_reset(st, cname);
}

ck_status ck_lockout_lock(ck_store *st, const ck_lockout *lo, ck_lock_kind kind,
                          const char *name, int *now_locked)
{
    char cname[80];
    int64_t n = 0;
    ck_status rc;

    *now_locked = 0;
    if (!name || !*name)
        return CK_OK;
    counter_name("lk:", kind, name, cname);
    rc = ck_store_fail_add(st, cname, lo->unlock_time > 0 ? lo->unlock_time : FOREVER, &n);
    if (rc != CK_OK || n != 1)
        return rc;
    *now_locked = 1;
    rc = index_note(st, lo, kind, name);
    if (rc == CK_OK)
        rc = ck_metrics_count(st, CK_COUNT_LOCKOUT);
    /* A lock lost in a failover would let the attack it stopped go on. */
    return rc == CK_OK ? ck_store_wait_replicas(st, "lockout change") : rc;
}

ck_status ck_lockout_reset(ck_store *st, ck_lock_kind kind, const char *name)
{
    char cname[80], iname[CK_LOCK_NAME_MAX];
    ck_status rc;

    if (!name || !*name)
        return CK_OK;
    counter_name("lf:", kind, name, cname);
    rc = ck_store_fail_reset(st, cname);
    if (rc != CK_OK && rc != CK_NOT_FOUND)
        return rc;
    counter_name("lk:", kind, name, cname);
    rc = ck_store_fail_reset(st, cname);
    if (rc != CK_OK && rc != CK_NOT_FOUND)
        return rc;
    index_name(kind, name, iname);
    rc = ck_store_lock_forget(st, iname);
    if (rc != CK_OK && rc != CK_NOT_FOUND)
        return rc;
    return ck_store_wait_replicas(st, "lockout change");
}

/* Parses an index entry; -1 when it is not one lockout.c wrote. */
static int index_parse(const ck_lock_entry *e, ck_lock_info *li)
{
    size_t len = strlen(e->name);

    memset(li, 0, sizeof(*li));
    if (len < 2 + 32 || e->name[1] != ':' || (e->name[0] != 'u' && e->name[0] != 'h'))
        return -1;
    li->kind = e->name[0] == 'h' ? CK_LOCK_HOST : CK_LOCK_ACCOUNT;
    memcpy(li->id, e->name + 2, 32);
    li->id[32] = '\0';
    if (li->kind == CK_LOCK_HOST) {
        if (len < 2 + 32 + 1 || e->name[2 + 32] != ':')
            return -1;
        snprintf(li->address, sizeof(li->address), "%s", e->name + 2 + 32 + 1);
    } else if (len != 2 + 32) {
        return -1;
    }
    li->until = e->until;
    li->forever = e->until - ck_now() > FOREVER / 2;
    return 0;
}

/* 1 when the lock an index entry points at still holds (0 drops the entry). */
static ck_status index_confirm(ck_store *st, const ck_lock_entry *e, int *holds)
{
    char cname[80];
    int64_t count = 0;
    ck_status rc;

    snprintf(cname, sizeof(cname), "lk:%.34s", e->name);
    rc = ck_store_fail_count(st, cname, &count);
    if (rc != CK_OK && rc != CK_NOT_FOUND)
        return rc;
    *holds = count > 0;
    if (*holds)
        return CK_OK;
    rc = ck_store_lock_forget(st, e->name);
    return rc == CK_NOT_FOUND ? CK_OK : rc;
}

ck_status ck_lockout_list(ck_store *st, ck_lock_info **out, size_t *count)
{
    ck_lock_list idx = { 0, NULL };
    ck_status rc;
    int holds;

    *out = NULL;
    *count = 0;
    rc = ck_store_lock_list(st, &idx);
    if (rc != CK_OK)
        return rc;
    *out = calloc(idx.count ? idx.count : 1, sizeof(**out));
    if (!*out) {
        rc = CK_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < idx.count; i++) {
        if (index_parse(&idx.items[i], &(*out)[*count]) != 0)
            continue;
        rc = index_confirm(st, &idx.items[i], &holds);
        if (rc != CK_OK)
            goto out;
        if (holds)
            (*count)++;
    }
out:
    ck_lock_list_free(&idx);
    if (rc != CK_OK) {
        free(*out);
        *out = NULL;
        *count = 0;
    }
    return rc;
}

ck_status ck_lockout_success(ck_store *st, const ck_lockout *lo, const char *name)
{
    char cname[80];
    int64_t count;
    ck_status rc = counter_read(st, lo, "lf:", CK_LOCK_ACCOUNT, name, cname, &count);

    if (rc != CK_OK || count == 0)
        return rc;
    rc = ck_store_fail_reset(st, cname);
    return rc == CK_NOT_FOUND ? CK_OK : rc;
}
