/*
 * metrics.c - ck_store_metrics as Prometheus text exposition (format
 * 0.0.4). A minimal rendering kept here until the shared one in
 * libcheckup (store/metrics_fmt.c, written for the CLI) lands.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkupd.h"

typedef struct buf {
    char *p;
    size_t len, cap;
    int failed;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf *b, const char *fmt, ...)
{
    va_list ap;
    char *grown;
    int n;

    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len)
            break;
        grown = realloc(b->p, b->cap * 2 + (size_t)n);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->p = grown;
        b->cap = b->cap * 2 + (size_t)n;
    }
    b->len += (size_t)n;
}

static void counter(buf *b, const char *name, const char *help, const char *type,
                    int64_t v)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", name, help, name, type, name,
        (long long)v);
}

/* Returns a malloc'd text, or NULL when out of memory. */
char *ckd_metrics_render(const ck_metrics *m, const char *backend)
{
    buf b = { malloc(2048), 0, 2048, 0 };

    if (!b.p)
        return NULL;
    put(&b, "# HELP checkup_sessions_active Live sessions now, by login method.\n"
            "# TYPE checkup_sessions_active gauge\n");
    for (int i = 0; i < CK_AUTH_METHOD_COUNT; i++)
        put(&b, "checkup_sessions_active{method=\"%s\"} %lld\n",
            ck_auth_method_name((ck_auth_method)i), (long long)m->active_by_method[i]);
    counter(&b, "checkup_sessions_active_total", "Live sessions now.", "gauge", m->active);
    counter(&b, "checkup_sessions_created_total", "Sessions created.", "counter", m->created);
    put(&b, "# HELP checkup_sessions_ended_total Sessions ended, by reason.\n"
            "# TYPE checkup_sessions_ended_total counter\n"
            "checkup_sessions_ended_total{reason=\"logout\"} %lld\n"
            "checkup_sessions_ended_total{reason=\"idle\"} %lld\n"
            "checkup_sessions_ended_total{reason=\"lifetime\"} %lld\n"
            "checkup_sessions_ended_total{reason=\"revoked\"} %lld\n",
        (long long)m->ended_logout, (long long)m->ended_idle, (long long)m->ended_lifetime,
        (long long)m->ended_revoked);
    counter(&b, "checkup_session_duration_seconds_sum",
            "Seconds lived by every ended session.", "counter", m->duration_sum);
    put(&b, "# HELP checkup_session_duration_seconds_avg Average life of an ended session.\n"
            "# TYPE checkup_session_duration_seconds_avg gauge\n"
            "checkup_session_duration_seconds_avg %.3f\n", m->avg_duration);
    put(&b, "# HELP checkup_store_info The session store in use.\n"
            "# TYPE checkup_store_info gauge\ncheckup_store_info{backend=\"%s\"} 1\n",
        backend);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
