/*
 * lockout.c - account and host lockout on top of the store's windowed
 * failure counters: "lf:" counts failures in fail_interval, "lk:" exists
 * while a lock holds (a counter whose window is unlock_time).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

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

static void counter_name(const char *prefix, ck_lock_kind kind, const char *name,
                         char out[80])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    int n;

    SHA256((const unsigned char *)name, strlen(name), md);
    n = snprintf(out, 80, "%s%c:", prefix, kind == CK_LOCK_HOST ? 'h' : 'u');
    for (int i = 0; i < 16; i++)
        n += snprintf(out + n, (size_t)(80 - n), "%02x", md[i]);
}

ck_status ck_lockout_check(ck_store *st, const ck_lockout *lo, ck_lock_kind kind,
                           const char *name, int *locked)
{
    char cname[80];
    int64_t count = 0;
    ck_status rc;

    *locked = 0;
    if (lo->deny <= 0 || !name || !*name)
        return CK_OK;
    counter_name("lk:", kind, name, cname);
    rc = ck_store_fail_count(st, cname, &count);
    if (rc == CK_NOT_FOUND)
        return CK_OK;
    if (rc != CK_OK)
        return rc;
    *locked = count > 0;
    return CK_OK;
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
    if (lo->deny <= 0 || !name || !*name)
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
    return ck_metrics_count(st, CK_COUNT_LOCKOUT);
}

ck_status ck_lockout_reset(ck_store *st, ck_lock_kind kind, const char *name)
{
    char cname[80];
    ck_status rc;

    if (!name || !*name)
        return CK_OK;
    counter_name("lf:", kind, name, cname);
    rc = ck_store_fail_reset(st, cname);
    if (rc != CK_OK && rc != CK_NOT_FOUND)
        return rc;
    counter_name("lk:", kind, name, cname);
    rc = ck_store_fail_reset(st, cname);
    return rc == CK_NOT_FOUND ? CK_OK : rc;
}

ck_status ck_lockout_success(ck_store *st, const ck_lockout *lo, const char *name)
{
    char cname[80];
    int64_t count = 0;
    ck_status rc;

    if (lo->deny <= 0 || !name || !*name)
        return CK_OK;
    counter_name("lf:", CK_LOCK_ACCOUNT, name, cname);
    rc = ck_store_fail_count(st, cname, &count);
    if (rc == CK_NOT_FOUND || (rc == CK_OK && count == 0))
        return CK_OK;
    if (rc != CK_OK)
        return rc;
    rc = ck_store_fail_reset(st, cname);
    return rc == CK_NOT_FOUND ? CK_OK : rc;
}
