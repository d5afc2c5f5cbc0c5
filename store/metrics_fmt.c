/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics_fmt.c - the figures of "checkup metrics" and /metrics: collected
 * once, rendered as text, JSON (jansson) or Prometheus exposition.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <jansson.h>

#include "ck_metrics.h"

/*
 * The event counters are store failure counters with a window of ten
 * years: they survive restarts, are shared by every process and host, and
 * cost one round trip to add to or read.
 */
#define COUNTER_WINDOW  (10 * 365 * 86400)
/* A firing alert is remembered for a day, so a lasting one is repeated daily. */
#define ALERT_MEMORY    86400

static const char *const counter_names[CK_COUNTER_COUNT] = {
    [CK_COUNT_LOGIN_FAILURE] = "m:login_failures",
    [CK_COUNT_LOCKOUT] = "m:lockouts",
    [CK_COUNT_ANOMALY] = "m:anomalies",
    [CK_COUNT_AUDIT_FAILURE] = "m:audit_failures",
};

static const char *const alert_names[CK_ALERT_COUNT] = {
    [CK_ALERT_ACTIVE_SESSIONS] = "active_sessions",
    [CK_ALERT_REDIS_MEMORY] = "redis_memory_percent",
    [CK_ALERT_IDLE_TIMEOUT_RATE] = "idle_timeout_rate",
};

ck_status ck_metrics_count(ck_store *st, ck_counter which)
{
    if ((unsigned)which >= CK_COUNTER_COUNT)
        return CK_ERR_INVALID;
    return ck_store_fail_add(st, counter_names[which], COUNTER_WINDOW, NULL);
}

/* ---- collecting ---------------------------------------------------------- */

static double mono_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ck_status read_counters(ck_store *st, ck_figures *f)
{
    for (int i = 0; i < CK_COUNTER_COUNT; i++) {
        ck_status rc = ck_store_fail_count(st, counter_names[i], &f->counters[i]);

        if (rc == CK_NOT_FOUND) {
            f->counters[i] = 0;
            continue;
        }
        if (rc != CK_OK)
            return rc;
    }
    return CK_OK;
}

static ck_status read_memory(ck_store *st, ck_figures *f)
{
    ck_store_memory mem;
    ck_status rc = ck_store_memory_info(st, &mem);

    if (rc == CK_NOT_FOUND)
        return CK_OK;       /* the embedded store has no server memory */
    if (rc != CK_OK)
        return rc;
    f->has_memory = 1;
    f->mem_used = mem.used;
    f->mem_max = mem.max;
    f->mem_percent = mem.max > 0 ? (double)mem.used * 100.0 / (double)mem.max : 0.0;
    return CK_OK;
}

static void set_alert(ck_figures *f, ck_alert_id id, int threshold, double value, int known)
{
    ck_alert *a = &f->alerts[id];

    a->name = alert_names[id];
    a->enabled = threshold > 0;
    a->threshold = threshold;
    a->value = value;
    a->firing = a->enabled && known && value >= (double)threshold;
}

static void evaluate_alerts(const ck_config *cfg, ck_figures *f)
{
    set_alert(f, CK_ALERT_ACTIVE_SESSIONS, cfg->alert_active_sessions, (double)f->m.active,
              f->store_up);
    set_alert(f, CK_ALERT_REDIS_MEMORY, cfg->alert_redis_memory_percent, f->mem_percent,
              f->has_memory && f->mem_max > 0);
    set_alert(f, CK_ALERT_IDLE_TIMEOUT_RATE, cfg->alert_idle_timeout_rate,
              f->timeout_rate * 100.0, f->store_up);
}

ck_status ck_figures_collect(ck_store *st, const ck_config *cfg, ck_figures *out)
{
    ck_status rc;
    double t0;
    int64_t ended;

    memset(out, 0, sizeof(*out));
    out->backend = ck_store_backend(st);
    out->metrics_lost = ck_store_metrics_lost();
    t0 = mono_seconds();
    rc = ck_store_ping(st);
    out->rtt_seconds = mono_seconds() - t0;
    if (rc == CK_OK)
        rc = ck_store_metrics(st, &out->m);
    if (rc == CK_OK)
        rc = read_counters(st, out);
    if (rc == CK_OK)
        rc = read_memory(st, out);
    out->store_up = rc == CK_OK;
    if (rc != CK_OK) {
        snprintf(out->error, sizeof(out->error), "%s: %s", ck_status_str(rc),
                 ck_store_errstr(st));
        memset(&out->m, 0, sizeof(out->m));
    }
    ended = out->m.ended_logout + out->m.ended_idle + out->m.ended_lifetime +
            out->m.ended_revoked;
    out->timeout_rate = ended > 0 ? (double)out->m.ended_idle / (double)ended : 0.0;
    evaluate_alerts(cfg, out);
    return rc;
}

/* ---- text ---------------------------------------------------------------- */

/* Runs emit into a memory stream; the text, or NULL on failure. */
static char *render(const ck_figures *f, void (*emit)(FILE *, const ck_figures *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    if (!fp)
        return NULL;
    emit(fp, f);
    /* open_memstream sets buf only when the stream is closed. */
    if (fclose(fp) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void text_write(FILE *fp, const ck_figures *f)
{
    fprintf(fp, "store:            %s, %s, round trip %.3f ms\n", f->backend,
            f->store_up ? "up" : "DOWN", f->rtt_seconds * 1000.0);
    if (f->error[0])
        fprintf(fp, "error:            %s\n", f->error);
    fprintf(fp, "sessions active:  %lld", (long long)f->m.active);
    for (int i = 0; i < CK_AUTH_METHOD_COUNT; i++)
        fprintf(fp, "%s%s %lld", i ? ", " : " (", ck_auth_method_name((ck_auth_method)i),
                (long long)f->m.active_by_method[i]);
    fprintf(fp, ")\n");
    fprintf(fp, "sessions created: %lld\n", (long long)f->m.created);
    fprintf(fp, "sessions ended:   logout %lld, idle %lld, lifetime %lld, revoked %lld\n",
            (long long)f->m.ended_logout, (long long)f->m.ended_idle,
            (long long)f->m.ended_lifetime, (long long)f->m.ended_revoked);
    fprintf(fp, "timeout rate:     %.1f %%\n", f->timeout_rate * 100.0);
    fprintf(fp, "average duration: %.0f s\n", f->m.avg_duration);
    fprintf(fp, "login failures:   %lld\n", (long long)f->counters[CK_COUNT_LOGIN_FAILURE]);
    fprintf(fp, "lockouts:         %lld\n", (long long)f->counters[CK_COUNT_LOCKOUT]);
    fprintf(fp, "anomalies:        %lld\n", (long long)f->counters[CK_COUNT_ANOMALY]);
    fprintf(fp, "audit failures:   %lld\n", (long long)f->counters[CK_COUNT_AUDIT_FAILURE]);
    fprintf(fp, "metrics lost:     %lld\n", (long long)f->metrics_lost);
    if (f->has_memory && f->mem_max > 0)
        fprintf(fp, "redis memory:     %lld of %lld bytes (%.1f %%)\n", (long long)f->mem_used,
                (long long)f->mem_max, f->mem_percent);
    else if (f->has_memory)
        fprintf(fp, "redis memory:     %lld bytes (no maxmemory)\n", (long long)f->mem_used);
    for (int i = 0; i < CK_ALERT_COUNT; i++) {
        const ck_alert *a = &f->alerts[i];

        if (!a->enabled)
            fprintf(fp, "alert %-22s off\n", a->name);
        else
            fprintf(fp, "alert %-22s %s (%.1f, threshold %.0f)\n", a->name,
                    a->firing ? "FIRING" : "ok", a->value, a->threshold);
    }
}

char *ck_figures_text(const ck_figures *f)
{
    return render(f, text_write);
}

/* ---- JSON ---------------------------------------------------------------- */

static int jset(json_t *obj, const char *key, json_t *v)
{
    return json_object_set_new(obj, key, v);
}

static json_t *json_sessions(const ck_figures *f)
{
    json_t *s = json_object(), *by = json_object(), *ended = json_object();
    int bad = !s || !by || !ended;

    for (int i = 0; !bad && i < CK_AUTH_METHOD_COUNT; i++)
        bad |= jset(by, ck_auth_method_name((ck_auth_method)i),
                    json_integer(f->m.active_by_method[i]));
    bad = bad || jset(ended, "logout", json_integer(f->m.ended_logout)) ||
          jset(ended, "idle", json_integer(f->m.ended_idle)) ||
          jset(ended, "lifetime", json_integer(f->m.ended_lifetime)) ||
          jset(ended, "revoked", json_integer(f->m.ended_revoked));
    if (bad || jset(s, "active", json_integer(f->m.active)) ||
        json_object_set(s, "active_by_method", by) ||
        jset(s, "created", json_integer(f->m.created)) ||
        json_object_set(s, "ended", ended) ||
        jset(s, "timeout_rate", json_real(f->timeout_rate)) ||
        jset(s, "duration_sum_seconds", json_integer(f->m.duration_sum)) ||
        jset(s, "avg_duration_seconds", json_real(f->m.avg_duration))) {
        json_decref(s);
        s = NULL;
    }
    json_decref(by);
    json_decref(ended);
    return s;
}

static json_t *json_alerts(const ck_figures *f)
{
    json_t *al = json_object();

    for (int i = 0; al && i < CK_ALERT_COUNT; i++) {
        const ck_alert *a = &f->alerts[i];
        json_t *one = json_pack("{s:b,s:b,s:f,s:f}", "enabled", a->enabled, "firing",
                                a->firing, "value", a->value, "threshold", a->threshold);

        if (!one || jset(al, a->name, one)) {
            json_decref(al);
            return NULL;
        }
    }
    return al;
}

static json_t *json_store(const ck_figures *f)
{
    json_t *s = json_pack("{s:s,s:b,s:f}", "backend", f->backend ? f->backend : "",
                          "up", f->store_up, "rtt_seconds", f->rtt_seconds);

    if (s && f->error[0] && jset(s, "error", json_string(f->error))) {
        json_decref(s);
        return NULL;
    }
    if (s && f->has_memory &&
        jset(s, "redis_memory", json_pack("{s:I,s:I,s:f}", "used_bytes",
                                          (json_int_t)f->mem_used, "max_bytes",
                                          (json_int_t)f->mem_max, "percent",
                                          f->mem_percent))) {
        json_decref(s);
        return NULL;
    }
    return s;
}

char *ck_figures_json(const ck_figures *f)
{
    json_t *root = json_object();
    char *text = NULL;

    if (!root || jset(root, "store", json_store(f)) ||
        jset(root, "sessions", json_sessions(f)) ||
        jset(root, "login_failures", json_integer(f->counters[CK_COUNT_LOGIN_FAILURE])) ||
        jset(root, "lockouts", json_integer(f->counters[CK_COUNT_LOCKOUT])) ||
        jset(root, "anomalies", json_integer(f->counters[CK_COUNT_ANOMALY])) ||
        jset(root, "audit_failures", json_integer(f->counters[CK_COUNT_AUDIT_FAILURE])) ||
        jset(root, "metrics_lost", json_integer(f->metrics_lost)) ||
        jset(root, "alerts", json_alerts(f)))
        goto out;
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
    json_decref(root);
    return text;
}

/* ---- Prometheus ---------------------------------------------------------- */

static void prom_head(FILE *fp, const char *name, const char *type, const char *help)
{
    fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_int(FILE *fp, const char *name, const char *type, const char *help,
                     int64_t v)
{
    prom_head(fp, name, type, help);
    fprintf(fp, "%s %lld\n", name, (long long)v);
}

static void prom_real(FILE *fp, const char *name, const char *help, double v)
{
    prom_head(fp, name, "gauge", help);
    fprintf(fp, "%s %.9g\n", name, v);
}

static void prom_sessions(FILE *fp, const ck_figures *f)
{
    prom_int(fp, "checkup_sessions_active", "gauge", "Live sessions.", f->m.active);
    prom_head(fp, "checkup_sessions_active_by_method", "gauge",
              "Live sessions by authentication method.");
    for (int i = 0; i < CK_AUTH_METHOD_COUNT; i++)
        fprintf(fp, "checkup_sessions_active_by_method{method=\"%s\"} %lld\n",
                ck_auth_method_name((ck_auth_method)i), (long long)f->m.active_by_method[i]);
    prom_int(fp, "checkup_sessions_created_total", "counter", "Sessions created.",
             f->m.created);
    prom_head(fp, "checkup_sessions_ended_total", "counter", "Sessions ended, by reason.");
    fprintf(fp, "checkup_sessions_ended_total{reason=\"logout\"} %lld\n"
                "checkup_sessions_ended_total{reason=\"idle\"} %lld\n"
                "checkup_sessions_ended_total{reason=\"lifetime\"} %lld\n"
                "checkup_sessions_ended_total{reason=\"revoked\"} %lld\n",
            (long long)f->m.ended_logout, (long long)f->m.ended_idle,
            (long long)f->m.ended_lifetime, (long long)f->m.ended_revoked);
    prom_real(fp, "checkup_session_timeout_ratio",
              "Share of ended sessions that ended by the inactivity timeout.",
              f->timeout_rate);
    prom_int(fp, "checkup_session_duration_seconds_sum", "counter",
             "Summed duration of ended sessions.", f->m.duration_sum);
    prom_real(fp, "checkup_session_duration_seconds_avg", "Average duration of ended sessions.",
              f->m.avg_duration);
}

static void prom_write(FILE *fp, const ck_figures *f)
{
    prom_head(fp, "checkup_store_up", "gauge", "1 when the session store answered.");
    fprintf(fp, "checkup_store_up{backend=\"%s\"} %d\n", f->backend ? f->backend : "",
            f->store_up);
    prom_real(fp, "checkup_store_rtt_seconds", "Round trip of one store ping.",
              f->rtt_seconds);
    prom_sessions(fp, f);
    prom_int(fp, "checkup_login_failures_total", "counter", "Failed logins.",
             f->counters[CK_COUNT_LOGIN_FAILURE]);
    prom_int(fp, "checkup_lockouts_total", "counter", "Accounts and addresses locked.",
             f->counters[CK_COUNT_LOCKOUT]);
    prom_int(fp, "checkup_anomalies_total", "counter", "Audited session anomalies.",
             f->counters[CK_COUNT_ANOMALY]);
    prom_int(fp, "checkup_audit_write_failures_total", "counter",
             "Audit lines the audit file could not take (syslog still has them).",
             f->counters[CK_COUNT_AUDIT_FAILURE]);
    prom_int(fp, "checkup_metrics_lost_total", "counter",
             "Session metrics updates a full store refused (this process).", f->metrics_lost);
    if (f->has_memory) {
        prom_int(fp, "checkup_redis_used_memory_bytes", "gauge", "Redis used_memory.",
                 f->mem_used);
        prom_int(fp, "checkup_redis_maxmemory_bytes", "gauge", "Redis maxmemory (0 = none).",
                 f->mem_max);
        prom_real(fp, "checkup_redis_memory_ratio", "used_memory / maxmemory (0 without one).",
                  f->mem_percent / 100.0);
    }
    prom_head(fp, "checkup_alert", "gauge", "1 while an alert threshold is crossed.");
    for (int i = 0; i < CK_ALERT_COUNT; i++)
        fprintf(fp, "checkup_alert{name=\"%s\"} %d\n", f->alerts[i].name, f->alerts[i].firing);
}

char *ck_figures_prometheus(const ck_figures *f)
{
    return render(f, prom_write);
}

/* ---- alert warnings ------------------------------------------------------ */

ck_status ck_figures_alert_log(ck_store *st, const ck_figures *f, int *warned)
{
    char name[64];
    int64_t n;
    ck_status rc;

    *warned = 0;
    for (int i = 0; i < CK_ALERT_COUNT; i++) {
        const ck_alert *a = &f->alerts[i];

        snprintf(name, sizeof(name), "m:alert:%s", a->name);
        if (!a->firing) {
            rc = ck_store_fail_reset(st, name);
            if (rc != CK_OK && rc != CK_NOT_FOUND)
                return rc;
            continue;
        }
        rc = ck_store_fail_add(st, name, ALERT_MEMORY, &n);
        if (rc != CK_OK)
            return rc;
        if (n != 1)
            continue;
        syslog(LOG_AUTHPRIV | LOG_WARNING, "checkup alert %s: %.1f crossed the threshold %.0f",
               a->name, a->value, a->threshold);
        (*warned)++;
    }
    return CK_OK;
}
