/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_metrics.h - the operational figures of checkup and their alerts,
 * rendered as text, JSON or Prometheus exposition; shared by
 * "checkup metrics" and the daemon's /metrics, so both say the same.
 *
 * Nothing here costs a scan of all keys: session figures come from the
 * store's metrics counters, login failures, lockouts, anomalies and lost
 * audit lines from four store counters (ck_metrics_count), memory from Redis INFO memory.
 */
#ifndef CK_METRICS_H
#define CK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ck_config.h"
#include "ck_store.h"

/* Event counters kept in the store beside the session metrics. */
typedef enum ck_counter {
    CK_COUNT_LOGIN_FAILURE = 0,
    CK_COUNT_LOCKOUT,
    CK_COUNT_ANOMALY,
    CK_COUNT_AUDIT_FAILURE,     /* audit lines the audit file did not take */
    CK_COUNTER_COUNT
} ck_counter;

/* Adds one to a counter (every process and host share it through the store). */
ck_status ck_metrics_count(ck_store *st, ck_counter which);

typedef enum ck_alert_id {
    CK_ALERT_ACTIVE_SESSIONS = 0,
    CK_ALERT_REDIS_MEMORY,
    CK_ALERT_IDLE_TIMEOUT_RATE,
    CK_ALERT_COUNT
} ck_alert_id;

typedef struct ck_alert {
    const char *name;           /* active_sessions, redis_memory_percent, idle_timeout_rate */
    int enabled;                /* threshold set (non-zero) */
    int firing;
    double value;               /* in the threshold's unit */
    double threshold;
} ck_alert;

typedef struct ck_figures {
    const char *backend;        /* "lmdb" or "redis" */
    int store_up;               /* the ping answered */
    double rtt_seconds;         /* of that ping */
    ck_metrics m;
    double timeout_rate;        /* ended by idle timeout / all ended; 0 when none ended */
    int64_t counters[CK_COUNTER_COUNT];
    int64_t metrics_lost;       /* ck_store_metrics_lost() of this process */
    int has_memory;             /* Redis: the two figures below are set */
    int64_t mem_used;
    int64_t mem_max;            /* 0 = no maxmemory */
    double mem_percent;         /* used / max * 100; 0 without maxmemory */
    ck_alert alerts[CK_ALERT_COUNT];
    char error[512];            /* why a figure is missing, or "" */
} ck_figures;

/*
 * Collects every figure. A store that does not answer still yields figures
 * (store_up = 0, error set) so that a scrape shows the outage; the status
 * says whether everything was read.
 */
ck_status ck_figures_collect(ck_store *st, const ck_config *cfg, ck_figures *out);

/* Renderings; each returns a fresh NUL-terminated string (free()) or NULL. */
char *ck_figures_text(const ck_figures *f);
char *ck_figures_json(const ck_figures *f);
char *ck_figures_prometheus(const ck_figures *f);

/*
 * One syslog warning per alert when it starts firing, not on every call:
 * the store remembers a firing alert (a counter that lives a day, so a
 * lasting condition is repeated daily), and forgets it once it clears.
 * *warned gets the number of warnings logged now.
 */
ck_status ck_figures_alert_log(ck_store *st, const ck_figures *f, int *warned);

#endif
