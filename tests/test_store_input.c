/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bad input to the store: malformed URLs, oversized and non-text fields,
 * malformed session ids and keys, oversized pending logins, and a Redis
 * that cannot be reached or never answers. Every case must give a clear
 * error, store nothing, and neither crash nor hang; no error message may
 * carry a password.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ck_config.h"
#include "ck_store.h"
#include "contract_common.h"

#define SECRET_URL  "Hunter2Secret"
#define SECRET_CFG  "CfgSecretPw9"

typedef struct fixture {
    ck_config cfg;
    ck_store *st;
    int sock;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    fx->sock = -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    ck_store_close(fx->st);
    ck_config_free(&fx->cfg);
    if (fx->sock >= 0)
        close(fx->sock);
    free(fx);
    return 0;
}

static ck_store *open_ns(void **state, const char *name)
{
    fixture *fx = *state;
    char err[512] = "";

    ct_config(&fx->cfg, name, 1200, 86400, 0);
    fx->st = ck_store_open(&fx->cfg, err, sizeof(err));
    if (!fx->st)
        fail_msg("ck_store_open: %s", err);
    return fx->st;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void assert_nothing_stored(ck_store *st, const char *user)
{
    ck_metrics m;
    ck_session_list l;

    assert_status(st, ck_store_metrics(st, &m), CK_OK);
    assert_int_equal(m.created, 0);
    assert_int_equal(m.active, 0);
    assert_status(st, ck_store_list_user(st, user, &l), CK_OK);
    assert_int_equal(l.count, 0);
    ck_session_list_free(&l);
}

/* ---- store URLs --------------------------------------------------------- */

static void test_bad_urls(void **state)
{
    static const char *const urls[] = {
        "",
        "garbage",
        "redis",
        "foo://127.0.0.1:6379",
        "http://127.0.0.1:6379",
        "redis://",
        "rediss://",
        "redis://host:99999",
        "redis://127.0.0.1:0",
        "redis://127.0.0.1:-5",
        "redis://127.0.0.1:65536",
        "redis://127.0.0.1:12ab",
        "redis://127.0.0.1:",
        "redis://:@",
        "redis://user:" SECRET_URL "@",
        "redis://admin:" SECRET_URL "@127.0.0.1:99999",
        "redis://127.0.0.1:6379/notadb",
        "redis://127.0.0.1:6379/-1",
        "redis://127.0.0.1:6379/99999999999999999999",
        "redis+sentinel://h:1",
        "redis+sentinel://h:1/",
        "redis+sentinel://:" SECRET_URL "@h:1",
        "redis+sentinel://",
        "redis+sentinel:///mymaster",
        "redis+sentinel://h:99999/mymaster",
        "lmdb:/proc/ck-contract-no-such-dir/store",
    };
    char err[512];
    ck_config cfg;

    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        ck_store *st;

        ck_config_defaults(&cfg);
        cfg.store_url = strdup(urls[i]);
        memset(err, 0, sizeof(err));
        st = ck_store_open(&cfg, err, sizeof(err));
        ck_config_free(&cfg);
        if (st) {
            ck_store_close(st);
            fail_msg("ck_store_open accepted \"%s\"", strstr(urls[i], SECRET_URL)
                     ? "(a URL with a password)" : urls[i]);
        }
        if (strlen(err) < 8)
            fail_msg("no clear message for \"%s\": \"%s\"", urls[i], err);
        if (strstr(err, SECRET_URL))
            fail_msg("the message for a URL with a password shows the password");
        print_message("  %-45s -> %s\n", strstr(urls[i], SECRET_URL) ? "(password URL)"
                      : urls[i], err);
    }
}

/* An LMDB path that is a regular file, not a directory. */
static void test_lmdb_path_is_file(void **state)
{
    fixture *fx = *state;
    char path[] = "/tmp/ck-contract-file-XXXXXX";
    char err[512] = "";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not lmdb\n", 9), 9);
    close(fd);
    ck_config_defaults(&fx->cfg);
    if (asprintf(&fx->cfg.store_url, "lmdb:%s", path) < 0)
        fail();
    fx->st = ck_store_open(&fx->cfg, err, sizeof(err));
    unlink(path);
    if (fx->st)
        fail_msg("ck_store_open accepted a regular file as the store directory");
    assert_true(strlen(err) >= 8);
    print_message("  lmdb:<regular file> -> %s\n", err);
}

/* A 5000-character host name must not overflow anything. */
static void test_huge_url(void **state)
{
    char *url = malloc(5100);
    char err[512] = "";
    ck_config cfg;
    ck_store *st;

    (void)state;
    assert_non_null(url);
    strcpy(url, "redis://");
    memset(url + 8, 'a', 5000);
    strcpy(url + 5008, ":6379/0");
    ck_config_defaults(&cfg);
    cfg.store_url = url;
    st = ck_store_open(&cfg, err, sizeof(err));
    /* rejecting it is best; accepting it (and failing on connect) is tolerated */
    if (!st)
        assert_true(strlen(err) > 0 && strlen(err) < sizeof(err));
    ck_store_close(st);
    ck_config_free(&cfg);
}

/* ---- session fields ------------------------------------------------------ */

/* One field at a time filled to its array size without a NUL. */
static void test_fields_oversized(void **state)
{
    ck_store *st = open_ns(state, "oversize");
    char sid[CK_SID_LEN];
    ck_session s;
    size_t offs[] = {
        offsetof(ck_session, user_id), offsetof(ck_session, email),
        offsetof(ck_session, role), offsetof(ck_session, clinic_id),
        offsetof(ck_session, remote_host), offsetof(ck_session, service),
        offsetof(ck_session, tty), offsetof(ck_session, idp_sid),
    };
    size_t sizes[] = {
        CK_USER_MAX, CK_EMAIL_MAX, CK_ROLE_MAX, CK_CLINIC_MAX,
        CK_RHOST_MAX, CK_SERVICE_MAX, CK_TTY_MAX, CK_IDP_SID_MAX,
    };
    char big[1001];

    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        ct_fill(&s, "victim", CK_AUTH_OIDC);
        memset((char *)&s + offs[i], 'x', sizes[i]);
        assert_status(st, ck_store_create(st, &s, sid), CK_ERR_INVALID);
        assert_true(strlen(ck_store_errstr(st)) > 0);
    }
    /* user id of 300 and email of 1000 characters, cut only by the arrays */
    ct_fill(&s, "victim", CK_AUTH_EMAIL);
    memset(big, 'u', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(s.user_id, big, sizeof(s.user_id));
    assert_status(st, ck_store_create(st, &s, sid), CK_ERR_INVALID);
    ct_fill(&s, "victim", CK_AUTH_EMAIL);
    memcpy(s.email, big, sizeof(s.email));
    assert_status(st, ck_store_create(st, &s, sid), CK_ERR_INVALID);

    big[300] = '\0';
    assert_status(st, ck_store_revoke_user(st, big, NULL), CK_ERR_INVALID);
    {
        ck_session_list l;

        assert_status(st, ck_store_list_user(st, big, &l), CK_ERR_INVALID);
        assert_int_equal(l.count, 0);
    }
    assert_nothing_stored(st, "victim");
}

/* The longest legal values are stored and come back whole. */
static void test_fields_max_length(void **state)
{
    ck_store *st = open_ns(state, "maxlen");
    char sid[CK_SID_LEN];
    ck_session s, got;
    ck_session_list l;

    memset(&s, 0, sizeof(s));
    memset(s.user_id, 'U', CK_USER_MAX - 1);
    memset(s.email, 'e', CK_EMAIL_MAX - 1);
    memset(s.role, 'r', CK_ROLE_MAX - 1);
    memset(s.clinic_id, 'c', CK_CLINIC_MAX - 1);
    memset(s.remote_host, 'h', CK_RHOST_MAX - 1);
    memset(s.service, 's', CK_SERVICE_MAX - 1);
    memset(s.tty, 't', CK_TTY_MAX - 1);
    memset(s.idp_sid, 'i', CK_IDP_SID_MAX - 1);
    s.method = CK_AUTH_CORPPASS;
    assert_status(st, ck_store_create(st, &s, sid), CK_OK);
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
    assert_string_equal(got.user_id, s.user_id);
    assert_string_equal(got.email, s.email);
    assert_string_equal(got.role, s.role);
    assert_string_equal(got.clinic_id, s.clinic_id);
    assert_string_equal(got.remote_host, s.remote_host);
    assert_string_equal(got.service, s.service);
    assert_string_equal(got.tty, s.tty);
    assert_string_equal(got.idp_sid, s.idp_sid);
    assert_status(st, ck_store_list_user(st, s.user_id, &l), CK_OK);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].key_hex, s.key_hex);
    ck_session_list_free(&l);
}

static void test_fields_not_text(void **state)
{
    static const char *const bad[] = {
        "a\x01z", "line\nbreak", "tab\there", "del\x7f", "esc\x1b[0m",
        "\xff", "caf\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xe2\x82", "\xf5\x80\x80\x80", "\xf4\x90\x80\x80", "\x80",
    };
    size_t offs[] = {
        offsetof(ck_session, user_id), offsetof(ck_session, email),
        offsetof(ck_session, role), offsetof(ck_session, clinic_id),
        offsetof(ck_session, remote_host), offsetof(ck_session, service),
        offsetof(ck_session, tty), offsetof(ck_session, idp_sid),
    };
    ck_store *st = open_ns(state, "nottext");
    char sid[CK_SID_LEN];
    ck_session s;

    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
            ct_fill(&s, "victim", CK_AUTH_EMAIL);
            strcpy((char *)&s + offs[i], bad[j]);
            if (ck_store_create(st, &s, sid) != CK_ERR_INVALID)
                fail_msg("field %zu accepted bad text #%zu", i, j);
        }
    }
    ct_fill(&s, "", CK_AUTH_EMAIL);                   /* user id is required */
    assert_status(st, ck_store_create(st, &s, sid), CK_ERR_INVALID);
    ct_fill(&s, "victim", CK_AUTH_EMAIL);
    s.method = CK_AUTH_METHOD_COUNT;
    assert_status(st, ck_store_create(st, &s, sid), CK_ERR_INVALID);
    s.method = (ck_auth_method)-1;
    assert_status(st, ck_store_create(st, &s, sid), CK_ERR_INVALID);
    assert_status(st, ck_store_revoke_user(st, "bad\nuser", NULL), CK_ERR_INVALID);
    assert_status(st, ck_store_revoke_user(st, "", NULL), CK_ERR_INVALID);
    assert_nothing_stored(st, "victim");
}

/* ---- session ids and keys ------------------------------------------------ */

static void expect_invalid_sid(ck_store *st, const char *sid, const char *what)
{
    ck_session got;
    ck_status a = ck_store_touch(st, sid, &got);
    ck_status b = ck_store_get(st, sid, &got);
    ck_status c = ck_store_delete(st, sid);

    if (a != CK_ERR_INVALID || b != CK_ERR_INVALID || c != CK_ERR_INVALID)
        fail_msg("%s: touch %s, get %s, delete %s; want invalid", what, ck_status_str(a),
                 ck_status_str(b), ck_status_str(c));
}

static void test_bad_session_ids(void **state)
{
    ck_store *st = open_ns(state, "badsid");
    char sid[CK_SID_LEN], v[CK_SID_LEN + 8];
    ck_session s, got;
    const char badc[] = "+/=. !*\x7f\xc3";

    ct_fill(&s, "holder", CK_AUTH_EMAIL);
    assert_status(st, ck_store_create(st, &s, sid), CK_OK);

    expect_invalid_sid(st, NULL, "NULL");
    expect_invalid_sid(st, "", "empty");
    expect_invalid_sid(st, "x", "one character");
    snprintf(v, sizeof(v), "%.43s", sid);
    expect_invalid_sid(st, v, "43 characters");
    snprintf(v, sizeof(v), "%sA", sid);
    expect_invalid_sid(st, v, "45 characters");
    for (size_t i = 0; i < sizeof(badc) - 1; i++) {
        snprintf(v, sizeof(v), "%s", sid);
        v[30] = badc[i];
        expect_invalid_sid(st, v, "bad character");
    }
    /* An old tag is "00".."3f" in lowercase hex; a new one any base64url
     * character that is not lowercase hex, then any base64url character. */
    static const char *const tags[] = {"40", "ff", "3F", "0g", "a-", "  ", "+A", "A=", "z/"};
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        snprintf(v, sizeof(v), "%s", sid);
        memcpy(v, tags[i], 2);
        expect_invalid_sid(st, v, "bad tag");
    }
    static const char *const new_tags[] = {"zz", "A0", "-1", "__", "gA", "3f", "00"};
    for (size_t i = 0; i < sizeof(new_tags) / sizeof(new_tags[0]); i++) {
        snprintf(v, sizeof(v), "%s", sid);
        memcpy(v, new_tags[i], 2);
        assert_status(st, ck_store_touch(st, v, &got), CK_NOT_FOUND);
    }
    /* another valid tag is well formed: it names nothing */
    snprintf(v, sizeof(v), "%s", sid);
    v[1] = v[1] == '0' ? '1' : '0';
    assert_status(st, ck_store_touch(st, v, &got), CK_NOT_FOUND);
    /* none of this disturbed the real session */
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
}

static void test_bad_keys(void **state)
{
    ck_store *st = open_ns(state, "badkey");
    char sid[CK_SID_LEN], v[CK_KEY_HEX_LEN + 8];
    ck_session s, got;

    ct_fill(&s, "holder", CK_AUTH_EMAIL);
    assert_status(st, ck_store_create(st, &s, sid), CK_OK);
    assert_status(st, ck_store_delete_key(st, NULL), CK_ERR_INVALID);
    assert_status(st, ck_store_delete_key(st, ""), CK_ERR_INVALID);
    snprintf(v, sizeof(v), "%.65s", s.key_hex);
    assert_status(st, ck_store_delete_key(st, v), CK_ERR_INVALID);
    snprintf(v, sizeof(v), "%s0", s.key_hex);
    assert_status(st, ck_store_delete_key(st, v), CK_ERR_INVALID);
    snprintf(v, sizeof(v), "%s", s.key_hex);
    v[40] = 'g';
    assert_status(st, ck_store_delete_key(st, v), CK_ERR_INVALID);
    snprintf(v, sizeof(v), "%s", s.key_hex);
    v[40] = 'A';                            /* hex is lowercase */
    assert_status(st, ck_store_delete_key(st, v), CK_ERR_INVALID);
    snprintf(v, sizeof(v), "%s", s.key_hex);
    memcpy(v, "ff", 2);
    assert_status(st, ck_store_delete_key(st, v), CK_ERR_INVALID);
    memcpy(v, "3F", 2);                     /* an old tag is lowercase */
    assert_status(st, ck_store_delete_key(st, v), CK_ERR_INVALID);
    memcpy(v, "+A", 2);
    assert_status(st, ck_store_delete_key(st, v), CK_ERR_INVALID);
    /* the session is untouched; a sid is not a key */
    assert_status(st, ck_store_delete_key(st, sid), CK_ERR_INVALID);
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
}

/* ---- pending logins and counters ---------------------------------------- */

static void test_state_bad(void **state)
{
    ck_store *st = open_ns(state, "badstate");
    unsigned char *blob = calloc(1, CK_STATE_VALUE_MAX + 2);
    char name[CK_STATE_NAME_MAX + 10];
    void *v;
    size_t len;
    int64_t n;

    assert_non_null(blob);
    assert_status(st, ck_store_state_put(st, "big", blob, CK_STATE_VALUE_MAX + 1, 600),
                  CK_ERR_INVALID);
    assert_status(st, ck_store_state_put(st, "big", blob, (size_t)-1, 600), CK_ERR_INVALID);
    assert_status(st, ck_store_state_get(st, "big", &v, &len), CK_NOT_FOUND);
    assert_status(st, ck_store_state_put(st, "", "x", 1, 600), CK_ERR_INVALID);
    assert_status(st, ck_store_state_put(st, NULL, "x", 1, 600), CK_ERR_INVALID);
    assert_status(st, ck_store_state_put(st, "bad\nname", "x", 1, 600), CK_ERR_INVALID);
    assert_status(st, ck_store_state_put(st, "bad\xffname", "x", 1, 600), CK_ERR_INVALID);
    assert_status(st, ck_store_state_put(st, "nullvalue", NULL, 5, 600), CK_ERR_INVALID);
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_status(st, ck_store_state_put(st, name, "x", 1, 600), CK_ERR_INVALID);
    assert_status(st, ck_store_state_take(st, name, &v, &len), CK_ERR_INVALID);
    assert_null(v);
    name[CK_STATE_NAME_MAX - 1] = '\0';     /* the longest legal name */
    assert_status(st, ck_store_state_put(st, name, "ok", 2, 600), CK_OK);
    assert_status(st, ck_store_state_take(st, name, &v, &len), CK_OK);
    assert_int_equal(len, 2);
    free(v);

    assert_status(st, ck_store_fail_add(st, "f", 0, &n), CK_ERR_INVALID);
    assert_status(st, ck_store_fail_add(st, "f", -5, &n), CK_ERR_INVALID);
    assert_status(st, ck_store_fail_add(st, "", 60, &n), CK_ERR_INVALID);
    memset(name, 'f', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_status(st, ck_store_fail_add(st, name, 60, &n), CK_ERR_INVALID);
    assert_status(st, ck_store_fail_count(st, "ctl\x01", &n), CK_ERR_INVALID);
    assert_status(st, ck_store_fail_reset(st, ""), CK_ERR_INVALID);
    n = -1;
    assert_status2(st, ck_store_fail_count(st, "f", &n), CK_OK, CK_NOT_FOUND);
    assert_int_equal(n, 0);
    free(blob);
}

/* ---- an unreachable or silent Redis --------------------------------------- */

/* A loopback port nothing listens on: bind one, note it, close it. */
static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* A loopback socket that listens but never accepts nor answers. */
static int silent_listener(int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 64), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* One operation: must fail closed, in time, naming the server, hiding secrets. */
#define EXPECT_DOWN(st, call, limit, hostport)                                        \
    do {                                                                              \
        double t_ = now_s();                                                          \
        ck_status rc_ = (call);                                                       \
        double el_ = now_s() - t_;                                                    \
        if (rc_ != CK_ERR_UNAVAILABLE)                                                \
            fail_msg("%s: got \"%s\" (%s), want \"store unavailable\"", #call,        \
                     ck_status_str(rc_), ck_store_errstr(st));                        \
        if (el_ > (limit))                                                            \
            fail_msg("%s took %.2f s (limit %.2f s)", #call, el_, (double)(limit));   \
        if (!strstr(ck_store_errstr(st), hostport))                                   \
            fail_msg("%s: message \"%s\" does not name %s", #call,                    \
                     ck_store_errstr(st), hostport);                                  \
        if (strstr(ck_store_errstr(st), SECRET_URL) ||                                \
            strstr(ck_store_errstr(st), SECRET_CFG))                                  \
            fail_msg("%s: the message shows a password", #call);                      \
    } while (0)

static void down_store_checks(ck_store *st, const char *hostport, double limit)
{
    char sid[CK_SID_LEN];
    char known[CK_SID_LEN];
    ck_session s, got;
    ck_session_list l;
    ck_metrics m;
    void *v;
    size_t len, n;
    int64_t cnt;

    /* a well-formed id: fails for the store, not for its shape */
    memset(known, 'A', sizeof(known) - 1);
    memcpy(known, "00", 2);
    known[sizeof(known) - 1] = '\0';
    {
        double t = now_s();

        EXPECT_DOWN(st, ck_store_ping(st), limit, hostport);
        print_message("  ping: %.2f s: %s\n", now_s() - t, ck_store_errstr(st));
    }
    ct_fill(&s, "someone", CK_AUTH_EMAIL);
    EXPECT_DOWN(st, ck_store_create(st, &s, sid), limit, hostport);
    /* fail closed: never OK, and never NOT_FOUND either */
    EXPECT_DOWN(st, ck_store_touch(st, known, &got), limit, hostport);
    EXPECT_DOWN(st, ck_store_get(st, known, &got), limit, hostport);
    EXPECT_DOWN(st, ck_store_delete(st, known), limit, hostport);
    EXPECT_DOWN(st, ck_store_revoke_user(st, "someone", &n), limit, hostport);
    EXPECT_DOWN(st, ck_store_list_user(st, "someone", &l), limit, hostport);
    assert_int_equal(l.count, 0);
    EXPECT_DOWN(st, ck_store_state_put(st, "p", "x", 1, 60), limit, hostport);
    EXPECT_DOWN(st, ck_store_state_take(st, "p", &v, &len), limit, hostport);
    EXPECT_DOWN(st, ck_store_fail_add(st, "f", 60, &cnt), limit, hostport);
    EXPECT_DOWN(st, ck_store_metrics(st, &m), limit, hostport);
}

static void test_redis_refused(void **state)
{
    fixture *fx = *state;
    char err[512] = "", hostport[64];
    int port = free_port();
    double t;

    ck_config_defaults(&fx->cfg);
    fx->cfg.connect_timeout_ms = 500;
    fx->cfg.command_timeout_ms = 500;
    if (asprintf(&fx->cfg.store_url, "redis://checkup:" SECRET_URL "@127.0.0.1:%d/0",
                 port) < 0)
        fail();
    snprintf(hostport, sizeof(hostport), "127.0.0.1:%d", port);
    t = now_s();
    fx->st = ck_store_open(&fx->cfg, err, sizeof(err));
    if (!fx->st)
        fail_msg("ck_store_open must not connect yet: %s", err);
    assert_true(now_s() - t < 0.5);
    /* connect timeout, plus at most the 2 s reconnect backoff */
    down_store_checks(fx->st, hostport, 0.5 + 2.0 + 0.5);
}

static void test_redis_silent(void **state)
{
    fixture *fx = *state;
    char err[512] = "", hostport[64];
    int port;

    fx->sock = silent_listener(&port);
    ck_config_defaults(&fx->cfg);
    fx->cfg.connect_timeout_ms = 300;
    fx->cfg.command_timeout_ms = 300;
    fx->cfg.redis_password = strdup(SECRET_CFG);
    if (asprintf(&fx->cfg.store_url, "redis://127.0.0.1:%d", port) < 0)
        fail();
    snprintf(hostport, sizeof(hostport), "127.0.0.1:%d", port);
    fx->st = ck_store_open(&fx->cfg, err, sizeof(err));
    if (!fx->st)
        fail_msg("ck_store_open: %s", err);
    /* connect + command timeout, plus at most the 2 s reconnect backoff */
    down_store_checks(fx->st, hostport, 0.3 + 0.3 + 2.0 + 0.5);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_bad_urls),
        T(test_huge_url),
        T(test_lmdb_path_is_file),
        T(test_fields_oversized),
        T(test_fields_max_length),
        T(test_fields_not_text),
        T(test_bad_session_ids),
        T(test_bad_keys),
        T(test_state_bad),
        T(test_redis_refused),
        T(test_redis_silent),
    };

    return cmocka_run_group_tests_name(ct_is_lmdb() ? "store bad input (lmdb)"
                                                    : "store bad input (redis)",
                                       tests, NULL, NULL);
}
