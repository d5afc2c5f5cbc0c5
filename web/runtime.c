/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * runtime.c - what every request handler leans on: logging (standard
 * error or syslog), audit events, and one store handle per worker thread.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "checkupd.h"
#include "ck_audit.h"
#include "ck_clock.h"

/* ---- logging ------------------------------------------------------------ */

/*
 * One record, one write(2) of a whole line: stdio writes the prefix, the
 * message and the newline as separate writes, and lines from different
 * worker threads then interleave on one line of the log. A line break
 * inside the message (a peer's error text) becomes a space, so a record
 * is always one line; a record longer than the buffer is cut with "...".
 */
#define LOG_LINE_MAX 2048

static void vlog(int use_syslog, int prio, const char *fmt, va_list ap)
{
    static const char *const names[] = { "emerg", "alert", "crit", "error",
                                         "warning", "notice", "info", "debug" };
    char line[LOG_LINE_MAX];
    size_t len, head;
    ssize_t n;
    int m;

    if (use_syslog) {
        vsyslog(prio, fmt, ap);
        return;
    }
    m = snprintf(line, sizeof(line), "checkupd: %s: ", names[prio & 7]);
    head = m > 0 ? (size_t)m : 0;
    m = vsnprintf(line + head, sizeof(line) - head - 1, fmt, ap);
    len = head + (m > 0 ? (size_t)m : 0);
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
        memcpy(line + len - 3, "...", 3);
    }
    for (size_t i = head; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    do {
        n = write(STDERR_FILENO, line, len);
    } while (n < 0 && errno == EINTR);
}

void ckd_log(const ckd *d, int prio, const char *fmt, ...)
{
    va_list ap;

    if (prio >= LOG_DEBUG && !d->verbose)
        return;
    va_start(ap, fmt);
    vlog(d->use_syslog, prio, fmt, ap);
    va_end(ap);
}

/* ck_audit_emit's log: the daemon's log (standard error or syslog). */
static void ckd_audit_log(void *ud, int prio, const char *msg)
{
    ckd_log(ud, prio, "%s", msg);
}

void ckd_audit(const ckd *d, const char *event, const char *user, const char *method,
               const char *rhost, const char *sid_key_hex, const char *result,
               const char *reason)
{
    char sid[CK_SID_HASH_LEN] = "";
    ck_audit_event ev;

    if (sid_key_hex && sid_key_hex[0])
        ck_audit_sid_hash(sid_key_hex, sid);
    ev.event = event;
    ev.user = user;
    ev.method = method;
    ev.service = "checkupd";
    ev.rhost = rhost;
    ev.sid_hash = sid;
    ev.result = result;
    ev.reason = reason;
    (void)ck_audit_emit(&d->cfg, ckd_store(d), &ev, LOG_NOTICE, ckd_audit_log, (void *)d);
}

int ckd_audit_gate(const ckd *d)
{
    return ck_audit_gate(&d->cfg, ckd_audit_log, (void *)d);
}

void ckd_mhd_log(void *cls, const char *fmt, va_list ap)
{
    const ckd *d = cls;
    char msg[512];
    size_t n;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    ckd_log(d, LOG_WARNING, "http: %s", msg);
}

/* ---- one store handle per worker thread --------------------------------- */

typedef struct handle {
    ck_store *st;
    struct handle *next;
} handle;

static __thread ck_store *thread_store;
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static handle *handles;

/*
 * A ck_store belongs to one thread at a time, so each libmicrohttpd
 * worker opens its own on first use; all are closed after the workers
 * have stopped.
 */
ck_store *ckd_store(const ckd *d)
{
    char err[512];
    handle *h;

    if (thread_store)
        return thread_store;
    h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->st = ck_store_open(&d->cfg, err, sizeof(err));
    if (!h->st) {
        ckd_log(d, LOG_ERR, "store: %s", err);
        free(h);
        return NULL;
    }
    pthread_mutex_lock(&handles_lock);
    h->next = handles;
    handles = h;
    pthread_mutex_unlock(&handles_lock);
    thread_store = h->st;
    return h->st;
}

void ckd_store_close_all(void)
{
    pthread_mutex_lock(&handles_lock);
    while (handles) {
        handle *h = handles;

        handles = h->next;
        ck_store_close(h->st);
        free(h);
    }
    pthread_mutex_unlock(&handles_lock);
}
