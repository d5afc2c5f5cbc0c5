/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * anomaly.c - session binding to its client and failure bursts across
 * accounts from one address (see ck_anomaly.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ck_anomaly.h"
#include "ck_audit.h"
#include "ck_clock.h"
#include "ck_encode.h"
#include "ck_lockout.h"
#include "ck_metrics.h"

void ck_anomaly_ua_digest(const char *user_agent, char out[CK_UA_MAX])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    out[0] = '\0';
    if (!user_agent || !*user_agent)
        return;
    /* A digest: the store keeps no browser fingerprint, only "same or not". */
    SHA256((const unsigned char *)user_agent, strlen(user_agent), md);
    memcpy(out, "sha256:", 7);
    ck_hex_encode(md, 16, out + 7);
}

/* Parses an address into 16 bytes; IPv4 (and IPv4-mapped IPv6) as ::ffff:a.b.c.d. */
static int parse_addr(const char *s, unsigned char out[16], int *v4)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    struct in_addr a4;

    if (inet_pton(AF_INET, s, &a4) == 1) {
        memcpy(out, mapped, 12);
        memcpy(out + 12, &a4, 4);
        *v4 = 1;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) != 1)
        return -1;
    *v4 = memcmp(out, mapped, 12) == 0;
    return 0;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    unsigned char mask;

    if (memcmp(a, b, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int ck_anomaly_same_network(const char *a, const char *b, int v4_bits, int v6_bits)
{
    unsigned char x[16], y[16];
    int xv4, yv4;

    a = a ? a : "";
    b = b ? b : "";
    if (parse_addr(a, x, &xv4) != 0 || parse_addr(b, y, &yv4) != 0)
        return strcasecmp(a, b) == 0;
    if (xv4 != yv4)
        return 0;
    if (xv4)
        return prefix_equal(x + 12, y + 12, v4_bits);
    return prefix_equal(x, y, v6_bits);
}

ck_anomaly_result ck_anomaly_check(const ck_config *cfg, const ck_session *s,
                                   const char *rhost, const char *user_agent,
                                   char *why, size_t whylen)
{
    char ua[CK_UA_MAX];
    const char *reason = NULL;

    if (whylen)
        why[0] = '\0';
    if (cfg->bind_mode == CK_BIND_OFF)
        return CK_ANOMALY_OK;
    if (!s)     /* nothing to compare with: not a use of a session */
        return CK_ANOMALY_REFUSE;
    if (!ck_anomaly_same_network(s->remote_host, rhost, cfg->bind_prefix_v4,
                                 cfg->bind_prefix_v6)) {
        reason = "address_changed";
    } else if (cfg->bind_user_agent) {
        ck_anomaly_ua_digest(user_agent, ua);
        if (strcmp(ua, s->user_agent) != 0)
            reason = "user_agent_changed";
    }
    if (!reason)
        return CK_ANOMALY_OK;
    snprintf(why, whylen, "%s", reason);
    return cfg->bind_mode == CK_BIND_ENFORCE ? CK_ANOMALY_REFUSE : CK_ANOMALY_AUDIT;
}

void ck_anomaly_audit(ck_store *st, const ck_config *cfg, const char *user,
                      const char *service, const char *rhost, const char *key_hex,
                      const char *reason, int refused)
{
    ck_audit_event ev;
    char sid[CK_SID_HASH_LEN];

    memset(&ev, 0, sizeof(ev));
    ev.event = "anomaly";
    ev.user = user;
    ev.service = service;
    ev.rhost = rhost;
    if (key_hex && *key_hex) {
        ck_audit_sid_hash(key_hex, sid);
        ev.sid_hash = sid;
    }
    ev.result = refused ? "failure" : "success";
    ev.reason = reason;
    (void)ck_audit_emit(cfg, st, &ev, LOG_WARNING, ck_audit_syslog, NULL);
    if (st)
        (void)ck_metrics_count(st, CK_COUNT_ANOMALY);   /* the audit line is what matters */
}

/* "sp:" pair counters and "sa:" address counters carry digests, never names. */
static void counter_name(const char *prefix, const char *a, const char *b, char out[80])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    memset(md, 0, sizeof(md));
    /* With a's NUL: ("ab", "c") and ("a", "bc") are different pairs. */
    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(c, a, strlen(a) + 1) != 1 ||
        (b && EVP_DigestUpdate(c, b, strlen(b)) != 1) ||
        EVP_DigestFinal_ex(c, md, &mdlen) != 1)
        mdlen = 0;      /* all-zero name: still a valid, if shared, counter */
    EVP_MD_CTX_free(c);
    memcpy(out, prefix, 3);
    ck_hex_encode(md, 16, out + 3);
}

ck_status ck_anomaly_failure(ck_store *st, const ck_config *cfg, const char *rhost,
                             const char *account, int *host_locked)
{
    char name[80];
    int64_t n = 0;
    ck_lockout lo;
    ck_status rc;

    *host_locked = 0;
    if (cfg->spray_accounts <= 0 || !rhost || !*rhost || !account)
        return CK_OK;
    counter_name("sp:", rhost, account, name);
    rc = ck_store_fail_add(st, name, cfg->spray_window, &n);
    if (rc != CK_OK || n != 1)
        return rc;          /* this account failed from here already: not a new one */
    counter_name("sa:", rhost, NULL, name);
    rc = ck_store_fail_add(st, name, cfg->spray_window, &n);
    if (rc != CK_OK || n < cfg->spray_accounts)
        return rc;
    ck_lockout_from_config(&lo, cfg);
    rc = ck_lockout_lock(st, &lo, CK_LOCK_HOST, rhost, host_locked);
    if (rc != CK_OK || !*host_locked)
        return rc;
    ck_anomaly_audit(st, cfg, NULL, NULL, rhost, NULL, "failure_burst", 1);
    return CK_OK;
}
