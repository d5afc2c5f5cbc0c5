/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * checkupd.h - the HTTP half of checkup: internals shared by the files of
 * web/. Nothing here is public API; the daemon is one program.
 */
#ifndef CHECKUPD_H
#define CHECKUPD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "ck_config.h"
#include "ck_lockout.h"
#include "ck_store.h"
#include "ck_token.h"
#include "ck_users.h"

typedef struct ck_oidc_providers ck_oidc_providers;
typedef struct ckd_guard ckd_guard;
typedef struct ckd_pool ckd_pool;

#define CKD_LIST_MAX        16      /* entries per list setting */
#define CKD_URL_MAX         512
#define CKD_ADDR_MAX        64      /* text form of a client address */
#define CKD_FORM_FIELD_MAX  1024    /* email, password, rd in the login form */

/* One trusted proxy: an address with a prefix length, or the Unix socket. */
typedef struct ckd_net {
    int family;                     /* AF_INET, AF_INET6, or AF_UNIX */
    unsigned char addr[16];
    int prefix;
} ckd_net;

/* [daemon] settings. */
typedef struct ckd_conf {
    char listen[CKD_URL_MAX];       /* "127.0.0.1:8080" or "unix:/path" */
    char public_url[CKD_URL_MAX];   /* origin the browser sees, no trailing '/' */
    char cookie_domain[256];        /* empty: __Host- cookie without Domain */
    ckd_net proxies[CKD_LIST_MAX];
    size_t nproxies;
    char cors[CKD_LIST_MAX][CKD_URL_MAX];
    size_t ncors;
    char redirects[CKD_LIST_MAX][CKD_URL_MAX];
    size_t nredirects;
    int login_rate_limit;           /* POST /login per address per minute; 0 = off */
    int threads;                    /* worker threads, each with its own store */
    int connection_limit;
    int per_ip_limit;               /* connections per client address; 0 = none */
    int connection_timeout;         /* seconds idle before a connection is closed */
    int request_head_timeout;       /* seconds for a whole request (head, body); 0 = none */
    ckd_net metrics_allow[CKD_LIST_MAX];    /* who may read /metrics */
    size_t nmetrics_allow;
    size_t memory_limit;            /* per connection: request line + headers */
    size_t body_max;                /* request body bytes */
    int login_threads;              /* password hashes (pool.c) */
    int login_queue;                /* logins waiting for them; 0: 64 a thread */
    ck_hash_priority login_priority; /* the hashes' (ck_users.h); default CK_HASH_IDLE_POOLED */
    int provider_threads;           /* provider token exchanges */
    int provider_queue;             /* callbacks waiting for them */
} ckd_conf;

void ckd_conf_defaults(ckd_conf *dc);
/* ck_config_load's extra-section callback for [daemon]. */
int ckd_conf_section(void *ud, const char *section, const char *name, const char *value,
                     int lineno, char *err, size_t errlen);
int ckd_conf_check(ckd_conf *dc, char *err, size_t errlen);

/* The daemon: settings and what every thread reads but never writes. */
typedef struct ckd {
    ck_config cfg;
    ckd_conf dc;
    ck_keyring *ring;
    ck_lockout lockout;
    int https;                      /* public_url is https: HSTS */
    char origin[CKD_URL_MAX];       /* scheme://host[:port] of public_url */
    char cookie_name[64];
    int use_syslog;
    int verbose;
    ck_oidc_providers *providers;   /* [provider NAME] sections; may be empty */
    char pnames[CKD_LIST_MAX][72];  /* their names, in file order */
    size_t npnames;
    ckd_guard *guard;               /* connection limits; NULL in unit tests */
    ckd_pool *login_pool;           /* password logins; NULL: done in place */
    ckd_pool *provider_pool;        /* provider callbacks; NULL: done in place */
    ckd_pool *touch_pool;           /* keep-alives, batched; NULL: done in place */
} ckd;

/*
 * Work a request hands to a pool (pool.c) while its connection is
 * suspended. run is called on a pool thread; answer on the request
 * thread once the connection is resumed (state DONE); clear wipes and
 * frees data when the request completes.
 */
typedef enum ckd_job_state {
    CKD_JOB_QUEUED = 0,
    CKD_JOB_DONE,                   /* run has been called */
    CKD_JOB_GONE,                   /* the client hung up before its turn: not run */
    CKD_JOB_SHUTDOWN                /* the daemon stopped before its turn: not run */
} ckd_job_state;

struct ckd_req;
typedef struct ckd_job {
    struct ckd_job *next;
    ckd_pool *pool;
    struct MHD_Connection *c;
    int fd;
    ckd_job_state state;
    void (*run)(const ckd *d, struct ckd_job *job);
    enum MHD_Result (*answer)(struct MHD_Connection *c, const ckd *d, struct ckd_req *rq);
    void (*clear)(struct ckd_job *job);
    void *data;
} ckd_job;

/* A request in progress (MHD's per-connection context). */
typedef struct ckd_req {
    struct MHD_PostProcessor *pp;
    size_t body_len;
    int too_big;                    /* body over the limit: answer 413 */
    int bad_form;                   /* unreadable form: answer 400 */
    unsigned form_seen;             /* fields begun (bit 0 email, 1 password, 2 rd) */
    char email[CKD_FORM_FIELD_MAX];
    char password[CKD_FORM_FIELD_MAX];
    char rd[CKD_FORM_FIELD_MAX];
    char client[CKD_ADDR_MAX];      /* after X-Forwarded-For from a trusted proxy */
    char *logout_token;             /* POST /backchannel-logout: body_max + 1 bytes */
    size_t logout_cap;
    char bcl_provider[72];          /* POST /backchannel-logout/<provider> */
    int api;                        /* POST /v1/auth/login: answers in JSON */
    int bad_type;                   /* a body neither JSON nor a form: answer 415 */
    char *json;                     /* a JSON login's body: body_max + 1 bytes */
    ckd_job *job;                   /* handed to a pool; freed on completion */
} ckd_req;

/* Logging: stderr or syslog; never pass a token or a password. */
void ckd_log(const ckd *d, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ckd_audit(const ckd *d, const char *event, const char *user, const char *method,
               const char *rhost, const char *sid_key_hex, const char *result,
               const char *reason);
/* -1 while [audit] on_failure = deny and the audit file cannot be written. */
int ckd_audit_gate(const ckd *d);

/* libmicrohttpd's messages, through ckd_log (MHD_OPTION_EXTERNAL_LOGGER). */
void ckd_mhd_log(void *cls, const char *fmt, va_list ap);

/* The calling thread's store handle, opened on first use. */
ck_store *ckd_store(const ckd *d);
void ckd_store_close_all(void);

/* http.c: responses, cookies, addresses, origins. */
struct MHD_Response *ckd_text(const char *type, const char *body);
/*
 * Counts one event of client's under prefix in a window of window seconds
 * and returns 1 when the count is now over max. The counter's name holds
 * no address: prefix and SHA-256 hex. *err is the store's status (a store
 * that fails counts nothing: 0).
 */
int ckd_rate_over(ck_store *st, const char *prefix, const char *client, int window,
                  int64_t max, ck_status *err);
/* A response that takes body (malloc'd; freed on failure too). */
struct MHD_Response *ckd_take(const char *type, char *body);
/* A small HTML page of ours: title and text are fixed sentences, never
 * request input; back adds a link to /login. Carries a strict CSP. */
struct MHD_Response *ckd_page(const char *title, const char *text, int back);
enum MHD_Result ckd_send(struct MHD_Connection *c, const ckd *d, unsigned status,
                         struct MHD_Response *r, int identity);
enum MHD_Result ckd_error(struct MHD_Connection *c, const ckd *d, unsigned status,
                          const char *msg);
enum MHD_Result ckd_json_error(struct MHD_Connection *c, const ckd *d, unsigned status,
                               const char *code, const char *msg);
/* 1 when the request carries Authorization: Bearer (its token, not a cookie). */
int ckd_bearer_sent(struct MHD_Connection *c);
/* The session token from the cookie or Authorization: Bearer; NULL if none. */
const char *ckd_request_token(struct MHD_Connection *c, const ckd *d, size_t *len,
                              int *malformed);
void ckd_set_cookie(struct MHD_Response *r, const ckd *d, const char *token, int max_age);
int ckd_same_origin(struct MHD_Connection *c, const ckd *d);
void ckd_client_addr(struct MHD_Connection *c, const ckd *d, char out[CKD_ADDR_MAX]);
/* The same as family (AF_INET, AF_INET6, AF_UNIX) and 16 address bytes. */
void ckd_client_net(struct MHD_Connection *c, const ckd *d, int *family,
                    unsigned char addr[16]);
/* The peer's own address, X-Forwarded-For not read. */
void ckd_peer_net(struct MHD_Connection *c, int *family, unsigned char addr[16]);
void ckd_sockaddr_net(const struct sockaddr *sa, int *family, unsigned char addr[16]);
int ckd_net_list_match(const ckd_net *nets, size_t n, int family, const unsigned char *addr);
/* The client may read /metrics ([daemon] metrics_allow). */
int ckd_metrics_allowed(struct MHD_Connection *c, const ckd *d);
int ckd_redirect_ok(const ckd *d, const char *rd);
/* rd's path with %2e/%2f/%5c decoded and dot segments removed; free(). */
char *ckd_redirect_normalize(const char *rd);
/* NULL, or why a request is refused with 400 and a closed connection. */
const char *ckd_request_unsafe(struct MHD_Connection *c, const char *method, const char *url);
/* 400 with Connection: close: after it the connection's framing is not trusted. */
enum MHD_Result ckd_refuse_close(struct MHD_Connection *c, const ckd *d, const char *msg);
/* public_url or a CORS origin as browsers send it: lower-case scheme and
 * host, no default port, no trailing '/'. -1 (and a reason) when it cannot be. */
int ckd_origin_normalize(const char *url, char *out, size_t outlen, int allow_path,
                         const char **why);
/* name=value in a Cookie header; *dup = 1 when the name comes twice. */
const char *ckd_cookie_value(const char *header, const char *name, size_t *len, int *dup);
/* The client address behind trusted proxies in X-Forwarded-For (right to left). */
void ckd_forwarded_client(const char *xff, const ckd *d, int *family, unsigned char addr[16]);
int ckd_net_parse(const char *s, ckd_net *out);
int ckd_html_escape(const char *in, char *out, size_t outlen);
void ckd_cors(struct MHD_Connection *c, const ckd *d, struct MHD_Response *r);

/* guard.c: per-address connection limit and request head deadline. */
ckd_guard *ckd_guard_start(const ckd *d);
void ckd_guard_stop(ckd_guard *g);
enum MHD_Result ckd_guard_accept(void *cls, const struct sockaddr *sa, socklen_t salen);
void ckd_guard_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe);
void ckd_guard_head_done(const ckd *d, struct MHD_Connection *mc);
void ckd_guard_request_done(const ckd *d, struct MHD_Connection *mc);
/* Accept only once the client has sent something (TCP_DEFER_ACCEPT). */
void ckd_guard_defer_accept(const ckd *d, struct MHD_Daemon *mhd);

/* pool.c: bounded pools of threads for hashes and token exchanges. */
ckd_pool *ckd_pool_start(const ckd *d, const char *name, int threads, int queue_max);
/*
 * A pool whose threads take up to batch_max queued jobs at once and run
 * them with one run_batch call (the jobs' own run is not called).
 */
#define CKD_BATCH_MAX 64
typedef void (*ckd_batch_fn)(const ckd *d, struct ckd_job **jobs, size_t n);
ckd_pool *ckd_pool_start_batch(const ckd *d, const char *name, int threads, int queue_max,
                               int batch_max, ckd_batch_fn run_batch);
/*
 * Suspends c and queues job: 0. -1 when the queue is full or the pool is
 * stopping: nothing queued, c not suspended; the caller answers 503 at
 * once (ckd_busy).
 */
int ckd_pool_submit(ckd_pool *p, struct MHD_Connection *c, ckd_job *job);
/* 1 (and counted as a refusal) when a submit now would be refused. */
int ckd_pool_full(ckd_pool *p);
/* 1 for the first refusal of a second (audit it; *quiet: refusals since
 * the last audited one), 0 for the others: a flood is one event a second. */
int ckd_pool_refusal_audit(ckd_pool *p, unsigned long *quiet);
/* The request of job completed: frees it (from ckd_completed). */
void ckd_pool_release(ckd_job *job);
/* Answers queued jobs (SHUTDOWN), lets running ones finish, joins the threads. */
void ckd_pool_stop(ckd_pool *p);
/* Waits up to ms for every request with a job to complete; how many did not. */
int ckd_pool_drain(ckd_pool *p, int ms);
void ckd_pool_free(ckd_pool *p);
/* routes.c: the touch pool's batch function (every queued keep-alive at once). */
void ckd_touch_batch(const ckd *d, struct ckd_job **jobs, size_t n);
/* Prometheus text for the pools and the hash count; -1 when buf is too small. */
int ckd_pool_metrics(ckd_pool *const *pools, size_t npools, unsigned long long hashes,
                     char *buf, size_t len);
/*
 * routes.c: hands job (malloc'd, owned from here) to pool, or runs it in
 * place when pool is NULL; 1 with the handler's *ret, the answer given
 * when the job is done. 0: the queue is full (job freed): the caller
 * audits and answers ckd_busy.
 */
int ckd_job_start(struct MHD_Connection *c, const ckd *d, ckd_pool *pool, ckd_req *rq,
                  ckd_job *job, enum MHD_Result *ret);
/* 503 with Retry-After: 1 (a full login queue, a stop under way). */
enum MHD_Result ckd_busy(struct MHD_Connection *c, const ckd *d);
/* login.c: password hashes computed (checkupd_password_hashes_total). */
unsigned long long ckd_password_hashes(void);

/* routes.c */
enum MHD_Result ckd_dispatch(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version,
                             const char *upload_data, size_t *upload_data_size,
                             void **con_cls);
void ckd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                   enum MHD_RequestTerminationCode toe);

/* login.c */
enum MHD_Result ckd_login_page(struct MHD_Connection *c, const ckd *d, unsigned status,
                               const char *rd, const char *message);
enum MHD_Result ckd_login_post(struct MHD_Connection *c, const ckd *d, ckd_req *rq);
/* POST /v1/auth/login: the same login, JSON in (or a form) and JSON out. */
enum MHD_Result ckd_api_login(struct MHD_Connection *c, const ckd *d, ckd_req *rq);
/* The request's Origin is ours or in cors_origins; absent counts as allowed. */
int ckd_api_origin_ok(struct MHD_Connection *c, const ckd *d);
/* routes.c: the live session named by the request's cookie (not a Bearer
 * token), touched; 0 and *s filled when there is one. */
int ckd_cookie_session(struct MHD_Connection *c, const ckd *d, ck_session *s,
                       char sid[CK_SID_LEN]);
/* Ends the session of the request's cookie, if live (a new login replaces it). */
void ckd_replace_cookie_session(struct MHD_Connection *c, const ckd *d, const char *client);

/* oidc.c: the OIDC / CorpPass half (providers, callback, terminal logins). */
#define CKD_BIND_COOKIE "__Host-checkup_login"
/* ck_config_load's callback: [daemon] and [provider NAME] sections; ud is the ckd. */
int ckd_conf_sections(void *ud, const char *section, const char *name, const char *value,
                      int lineno, char *err, size_t errlen);
enum MHD_Result ckd_oidc_start(struct MHD_Connection *c, const ckd *d, ckd_req *rq,
                               const char *provider, const char *rd,
                               const char *terminal_code);
enum MHD_Result ckd_oidc_callback(struct MHD_Connection *c, const ckd *d, ckd_req *rq);
enum MHD_Result ckd_jwks(struct MHD_Connection *c, const ckd *d);
enum MHD_Result ckd_backchannel_logout(struct MHD_Connection *c, const ckd *d, ckd_req *rq);
enum MHD_Result ckd_terminal(struct MHD_Connection *c, const ckd *d, ckd_req *rq,
                             const char *code);
enum MHD_Result ckd_terminal_done(struct MHD_Connection *c, const ckd *d);
struct ck_oidc_result;
enum MHD_Result ckd_terminal_finish(struct MHD_Connection *c, const ckd *d, const char *code,
                                    const struct ck_oidc_result *res);
/* The provider's end-session URL for a session made by one; NULL otherwise. */
char *ckd_oidc_logout_url(const ckd *d, const ck_session *s);
/* HTML for the provider buttons of the login page ("" when none); free(). */
char *ckd_provider_buttons(const ckd *d, const char *rd);
void ckd_oidc_close_all(void);

#endif
