/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * load_gen.c - the load generator of bench/load.sh and bench/faults.sh.
 *
 * Virtual users (VUs) on libcurl's multi interface, one thread, one
 * connection per VU: the requests of the design's k6 scenario
 * (bench/load.k6.js). VU i (1..n) starts at i * ramp / n seconds, logs in
 * as PREFIX<i>@example.org with POST /v1/auth/login (JSON), calls
 * GET /v1/users/me with the answer's token as a Bearer token every KEEPALIVE seconds
 * (+-25%, so the VUs do not march in step), logs out after SESSION seconds
 * (POST /v1/auth/logout) and logs in again; it stops (logging out) at
 * ramp + hold + i * down / n.
 * Each request's latency is curl's total time for it (the VU waits for the
 * answer before it thinks again, so no request queues behind another of
 * its own).
 *
 * Attackers (-a N): N more VUs, started with the others, that call
 * /v1/users/me with a token that must not pass: odd ones a forged random
 * token, even ones the token of a session they logged out themselves. Every
 * 200 they get counts as accepted_unverified.
 *
 * Strict mode (default): anything but the expected answer is an error.
 * Fault mode (-F): 503 and 401 are "refused" (the store is away), not
 * errors; a hang past the timeout, a transport error or a 5xx other than
 * 503 still is.
 *
 * The password is read from a file (-p), never from the command line, and
 * neither it nor any token is printed.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define TOKEN_MAX 512
#define COOKIE_NAME "__Host-checkup_session"

enum kind { K_LOGIN, K_ME, K_LOGOUT, K_ATTACK, K_COUNT };
static const char *const kind_name[K_COUNT] = { "login", "me", "logout", "attack" };

enum vu_state { VU_WAIT, VU_BUSY, VU_DONE };

typedef struct {
    int id;
    int attacker;           /* 0, or 1 forged, 2 revoked */
    enum vu_state state;
    enum kind pending;
    double next;            /* when to act (seconds since start) */
    double start, stop;
    double session_start;
    int have_token;
    int revoked_ready;      /* attacker 2: logged out, now replays */
    int stopping;           /* past its stop time: a last logout, then done */
    char token[TOKEN_MAX];
    char got[TOKEN_MAX];    /* Set-Cookie value of the answer in flight */
    int got_cookie;
    char resp[2048];        /* a login's JSON answer */
    size_t resp_len;
    char url[256];
    char body[512];
    CURL *h;
    struct curl_slist *hdr;
} vu;

typedef struct {
    double *v;
    size_t n, cap;
} samples;

typedef struct {
    const char *base;
    const char *origin;
    const char *prefix;
    char password[256];
    int n, attackers, fault_mode;
    double ramp, hold, down, keepalive, session, timeout;
    /* results */
    samples lat[K_COUNT];
    long ok[K_COUNT], refused[K_COUNT], errors[K_COUNT];
    long ok_hold[K_COUNT];
    long accepted_unverified;
    long me_401;            /* a session of ours answered 401: lost */
    double max_refused_ms;
    double max_refused_me_ms;   /* keep-alives alone: no password hash in them */
    uint64_t rng;
    double t0;
} run;

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rnd(run *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return (double)(r->rng >> 11) / 9007199254740992.0;
}

static int push(samples *s, double v)
{
    double *nv;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        nv = realloc(s->v, s->cap * sizeof(*nv));
        if (!nv)
            return -1;
        s->v = nv;
    }
    s->v[s->n++] = v;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double pct(samples *s, double p)
{
    size_t i;

    if (s->n == 0)
        return 0;
    qsort(s->v, s->n, sizeof(double), cmp_double);
    i = (size_t)(p * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

/* Keeps the session cookie of the answer; the value is never printed. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    vu *v = ud;
    size_t len = size * nitems, pre = strlen("Set-Cookie: " COOKIE_NAME "=");
    size_t i;

    if (len <= pre || strncasecmp(buf, "Set-Cookie: " COOKIE_NAME "=", pre) != 0)
        return len;
    for (i = pre; i < len && buf[i] != ';' && buf[i] != '\r' && buf[i] != '\n'; i++)
        ;
    if (i - pre > 0 && i - pre < TOKEN_MAX) {
        memcpy(v->got, buf + pre, i - pre);
        v->got[i - pre] = '\0';
        v->got_cookie = 1;
    }
    return len;
}

/* Keeps the start of the answer's body (a login's JSON holds the token). */
static size_t on_body(char *buf, size_t size, size_t nitems, void *ud)
{
    vu *v = ud;
    size_t len = size * nitems, room = sizeof(v->resp) - 1 - v->resp_len;

    if (len < room)
        room = len;
    memcpy(v->resp + v->resp_len, buf, room);
    v->resp_len += room;
    return len;
}

/* The token of a JSON login answer, which must also be the cookie's. */
static int take_token(vu *v)
{
    json_t *j = json_loadb(v->resp, v->resp_len, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "token"));
    int ok = t && strlen(t) < sizeof(v->token) && strcmp(t, v->got) == 0;

    if (ok)
        memcpy(v->token, t, strlen(t) + 1);
    json_decref(j);
    return ok ? 0 : -1;
}

/* The VU's headers for one request: Origin, then JSON or its Bearer token. */
static void set_headers(run *r, vu *v, enum kind k)
{
    char line[TOKEN_MAX + 64];

    curl_slist_free_all(v->hdr);
    v->hdr = NULL;
    if (r->origin) {
        snprintf(line, sizeof(line), "Origin: %s", r->origin);
        v->hdr = curl_slist_append(v->hdr, line);
    }
    if (k == K_LOGIN) {
        v->hdr = curl_slist_append(v->hdr, "Content-Type: application/json");
    } else if (v->have_token) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", v->token);
        v->hdr = curl_slist_append(v->hdr, line);
    }
    curl_easy_setopt(v->h, CURLOPT_HTTPHEADER, v->hdr);
}

static void forge(run *r, vu *v)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int i;

    for (i = 0; i < 120; i++)
        v->token[i] = b64[(int)(rnd(r) * 64) & 63];
    v->token[i] = '\0';
    v->have_token = 1;
}

static void start_request(run *r, CURLM *m, vu *v, enum kind k)
{
    char email[128];
    json_t *j;
    char *body;

    curl_easy_setopt(v->h, CURLOPT_POST, 0L);
    curl_easy_setopt(v->h, CURLOPT_HTTPGET, 1L);
    v->got_cookie = 0;
    v->resp_len = 0;
    v->pending = k;
    switch (k) {
    case K_LOGIN:
        snprintf(v->url, sizeof(v->url), "%s/v1/auth/login", r->base);
        snprintf(email, sizeof(email), "%s%d@example.org", r->prefix, v->id);
        j = json_pack("{s:s, s:s}", "email", email, "password", r->password);
        body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        snprintf(v->body, sizeof(v->body), "%s", body ? body : "");
        free(body);
        json_decref(j);
        curl_easy_setopt(v->h, CURLOPT_POSTFIELDS, v->body);
        break;
    case K_LOGOUT:
        snprintf(v->url, sizeof(v->url), "%s/v1/auth/logout", r->base);
        curl_easy_setopt(v->h, CURLOPT_POSTFIELDS, "");
        break;
    default:
        snprintf(v->url, sizeof(v->url), "%s/v1/users/me", r->base);
        break;
    }
    set_headers(r, v, k);
    curl_easy_setopt(v->h, CURLOPT_URL, v->url);
    v->state = VU_BUSY;
    curl_multi_add_handle(m, v->h);
}

static void think(run *r, vu *v, double now, double secs)
{
    v->state = VU_WAIT;
    v->next = now + secs * (0.75 + 0.5 * rnd(r));
}

/* What the VU does when its think time is over. */
static void act(run *r, CURLM *m, vu *v, double now)
{
    if (now >= v->stop) {
        if (v->have_token && !v->attacker && !v->stopping) {
            v->stopping = 1;
            start_request(r, m, v, K_LOGOUT);
            return;
        }
        v->state = VU_DONE;
        return;
    }
    if (v->attacker == 1 && !v->have_token)
        forge(r, v);
    if (v->attacker == 1 || (v->attacker == 2 && v->revoked_ready)) {
        start_request(r, m, v, K_ATTACK);
        return;
    }
    if (!v->have_token) {
        start_request(r, m, v, K_LOGIN);
        return;
    }
    if (v->attacker == 2 || now - v->session_start >= r->session) {
        start_request(r, m, v, K_LOGOUT);
        return;
    }
    start_request(r, m, v, K_ME);
}

static int expected(enum kind k, long code)
{
    switch (k) {
    case K_LOGIN:
    case K_LOGOUT:
    case K_ME:
        return code == 200;
    default:
        return code == 401;
    }
}

/* Books one finished request and decides the VU's next step. */
static void finish(run *r, vu *v, CURLcode res, double now)
{
    long code = 0;
    curl_off_t us = 0;
    enum kind k = v->pending;
    double ms;
    int in_hold = now - r->t0 >= r->ramp && now - r->t0 < r->ramp + r->hold;

    curl_easy_getinfo(v->h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(v->h, CURLINFO_TOTAL_TIME_T, &us);
    ms = (double)us / 1000.0;
    push(&r->lat[k], ms);
    if (res == CURLE_OK && k == K_ATTACK && code == 200)
        r->accepted_unverified++;
    if (res == CURLE_OK && expected(k, code) &&
        (k != K_LOGIN || (v->got_cookie && take_token(v) == 0))) {
        r->ok[k]++;
        if (in_hold)
            r->ok_hold[k]++;
        if (k == K_LOGIN) {
            v->have_token = 1;
            v->session_start = now - r->t0;
        } else if (k == K_LOGOUT) {
            v->have_token = v->attacker == 2;
            v->revoked_ready = v->attacker == 2;
        }
    } else if (res == CURLE_OK && r->fault_mode && (code == 503 || code == 401)) {
        r->refused[k]++;
        if (ms > r->max_refused_ms)
            r->max_refused_ms = ms;
        if (k == K_ME && ms > r->max_refused_me_ms)
            r->max_refused_me_ms = ms;
        /* 401 on a session of ours: it is gone, log in afresh. */
        if (code == 401 && k == K_ME) {
            r->me_401++;
            v->have_token = 0;
        }
    } else {
        r->errors[k]++;
        if (r->errors[k] <= 5)
            fprintf(stderr, "load_gen: %s: %s, HTTP %ld after %.0f ms\n", kind_name[k],
                    res == CURLE_OK ? "unexpected answer" : curl_easy_strerror(res), code,
                    ms);
        if (k == K_ME)
            v->have_token = 0;
    }
    memset(v->got, 0, sizeof(v->got));
    memset(v->resp, 0, sizeof(v->resp));
    /* A failed login thinks as long as any step; a done one moves on. */
    if ((k == K_LOGIN && v->have_token) || k == K_LOGOUT)
        think(r, v, now - r->t0, 0.05);
    else
        think(r, v, now - r->t0, r->keepalive);
}

static int vu_init(run *r, vu *v, int id, int attacker)
{
    memset(v, 0, sizeof(*v));
    v->id = id;
    v->attacker = attacker;
    v->start = r->ramp * id / (r->n + r->attackers);
    v->stop = r->ramp + r->hold + r->down * id / (r->n + r->attackers);
    v->next = v->start;
    v->h = curl_easy_init();
    if (!v->h)
        return -1;
    curl_easy_setopt(v->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(v->h, CURLOPT_HEADERDATA, v);
    curl_easy_setopt(v->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(v->h, CURLOPT_WRITEDATA, v);
    curl_easy_setopt(v->h, CURLOPT_TIMEOUT_MS, (long)(r->timeout * 1000));
    curl_easy_setopt(v->h, CURLOPT_PRIVATE, v);
    curl_easy_setopt(v->h, CURLOPT_NOSIGNAL, 1L);
    return 0;
}

static void drain(run *r, CURLM *m)
{
    CURLMsg *msg;
    int left;
    vu *v;

    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&v);
        curl_multi_remove_handle(m, msg->easy_handle);
        finish(r, v, msg->data.result, mono());
    }
}

static int loop(run *r, vu *vus, int total)
{
    CURLM *m = curl_multi_init();
    int running = 0, i, live, next_report = 10;
    double now, wait;

    if (!m)
        return -1;
    for (;;) {
        now = mono() - r->t0;
        live = 0;
        wait = 0.05;
        for (i = 0; i < total; i++) {
            if (vus[i].state == VU_WAIT && now >= vus[i].next)
                act(r, m, &vus[i], now);
            if (vus[i].state != VU_DONE)
                live++;
            if (vus[i].state == VU_WAIT && vus[i].next - now < wait)
                wait = vus[i].next - now;
        }
        if (!live)
            break;
        if (now >= next_report) {
            fprintf(stderr, "load_gen: t=%ds login=%ld me=%ld refused=%ld errors=%ld\n",
                    next_report, r->ok[K_LOGIN], r->ok[K_ME],
                    r->refused[K_LOGIN] + r->refused[K_ME],
                    r->errors[K_LOGIN] + r->errors[K_ME] + r->errors[K_LOGOUT]);
            next_report += 10;
        }
        curl_multi_perform(m, &running);
        drain(r, m);
        curl_multi_poll(m, NULL, 0, wait > 0 ? (int)(wait * 1000) + 1 : 0, NULL);
    }
    curl_multi_cleanup(m);
    return 0;
}

static int read_password(run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f) {
        fprintf(stderr, "load_gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    n = fread(r->password, 1, sizeof(r->password) - 1, f);
    fclose(f);
    r->password[n] = '\0';
    r->password[strcspn(r->password, "\r\n")] = '\0';
    return r->password[0] ? 0 : -1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: load_gen -u BASE_URL -p PASSWORD_FILE [-o ORIGIN] [-e PREFIX] [-n VUS]\n"
            "       [-a ATTACKERS] [-r RAMP_S] [-H HOLD_S] [-d DOWN_S] [-k KEEPALIVE_S]\n"
            "       [-s SESSION_S] [-t TIMEOUT_S] [-F]\n");
}

static double num(const char *s)
{
    char *end;
    double d = strtod(s, &end);

    if (end == s || *end || d < 0 || d > 1e6) {
        fprintf(stderr, "load_gen: bad number '%s'\n", s);
        exit(2);
    }
    return d;
}

static void report(run *r, double elapsed)
{
    long errors = 0, refused = 0;
    int k;

    for (k = 0; k < K_COUNT; k++) {
        errors += r->errors[k];
        refused += r->refused[k];
        printf("%-6s ok=%ld refused=%ld errors=%ld p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
               kind_name[k], r->ok[k], r->refused[k], r->errors[k], pct(&r->lat[k], 0.5),
               pct(&r->lat[k], 0.99), pct(&r->lat[k], 1.0));
    }
    printf("elapsed_s=%.1f hold_s=%.0f vus=%d attackers=%d\n", elapsed, r->hold, r->n,
           r->attackers);
    printf("GEN logins_per_s=%.2f me_per_s=%.2f hold_logins_per_s=%.2f hold_me_per_s=%.2f "
           "p99_ms=%.2f login_p99_ms=%.2f errors=%ld refused=%ld max_refused_ms=%.0f "
           "max_refused_me_ms=%.0f "
           "accepted_unverified=%ld me_401=%ld\n",
           r->ok[K_LOGIN] / elapsed, r->ok[K_ME] / elapsed,
           r->hold > 0 ? r->ok_hold[K_LOGIN] / r->hold : 0,
           r->hold > 0 ? r->ok_hold[K_ME] / r->hold : 0, pct(&r->lat[K_ME], 0.99),
           pct(&r->lat[K_LOGIN], 0.99), errors, refused, r->max_refused_ms,
           r->max_refused_me_ms,
           r->accepted_unverified, r->me_401);
}

int main(int argc, char **argv)
{
    run r;
    vu *vus;
    int c, i, total;
    const char *pwfile = NULL;

    memset(&r, 0, sizeof(r));
    r.prefix = "load";
    r.n = 100;
    r.ramp = 60, r.hold = 90, r.down = 30, r.keepalive = 3, r.session = 30, r.timeout = 10;
    while ((c = getopt(argc, argv, "u:p:o:e:n:a:r:H:d:k:s:t:F")) != -1) {
        switch (c) {
        case 'u': r.base = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'o': r.origin = optarg; break;
        case 'e': r.prefix = optarg; break;
        case 'n': r.n = (int)num(optarg); break;
        case 'a': r.attackers = (int)num(optarg); break;
        case 'r': r.ramp = num(optarg); break;
        case 'H': r.hold = num(optarg); break;
        case 'd': r.down = num(optarg); break;
        case 'k': r.keepalive = num(optarg); break;
        case 's': r.session = num(optarg); break;
        case 't': r.timeout = num(optarg); break;
        case 'F': r.fault_mode = 1; break;
        default: usage(); return 2;
        }
    }
    if (!r.base || !pwfile || r.n < 1 || r.n > 10000 || r.attackers > 10000 ||
        strlen(r.base) > 200 || strlen(r.prefix) > 64) {
        usage();
        return 2;
    }
    if (read_password(&r, pwfile) != 0)
        return 2;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    r.rng = (((uint64_t)time(NULL) * 2654435761u) ^ (uint64_t)getpid()) | 1;
    total = r.n + r.attackers;
    vus = calloc((size_t)total, sizeof(*vus));
    if (!vus)
        return 1;
    for (i = 0; i < total; i++) {
        /* Attackers are users n+1..n+a: their logouts end no VU's session. */
        if (vu_init(&r, &vus[i], i + 1, i < r.n ? 0 : (i - r.n) % 2 ? 2 : 1) != 0) {
            free(vus);      /* the bench exits: the handles go with it */
            return 1;
        }
    }
    r.t0 = mono();
    loop(&r, vus, total);
    report(&r, mono() - r.t0);
    for (i = 0; i < total; i++) {
        curl_easy_cleanup(vus[i].h);
        curl_slist_free_all(vus[i].hdr);
    }
    free(vus);
    for (i = 0; i < K_COUNT; i++)
        free(r.lat[i].v);
    memset(r.password, 0, sizeof(r.password));
    fflush(stdout);
    curl_global_cleanup();
    return 0;
}
