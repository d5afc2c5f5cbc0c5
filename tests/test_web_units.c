/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_web_units.c - checkupd's parsers without a server: the [daemon]
 * settings, trusted proxy networks, the redirect allowlist, HTML escaping
 * and the metrics text; and the log, one whole line per record from many
 * threads at once.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "checkupd.h"
#include "ck_oidc.h"

static int set(ckd_conf *dc, const char *name, const char *value, char *err, size_t len)
{
    err[0] = '\0';
    return ckd_conf_section(dc, "daemon", name, value, 1, err, len);
}

static void test_net_parse(void **state)
{
    static const char *const good[] = { "127.0.0.1", "10.0.0.0/8", "::1", "fe80::/10",
                                        "unix", "0.0.0.0/0", "192.168.1.7/32" };
    static const char *const bad[] = { "10.0.0.0/33", "abc", "1.2.3.4/", "", "::1/129",
                                       "1.2.3.4/-1", "1.2.3.4/8x", "300.1.1.1" };
    ckd_net n;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(ckd_net_parse(good[i], &n), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ckd_net_parse(bad[i], &n), -1);
    assert_int_equal(ckd_net_parse("10.1.0.0/16", &n), 0);
    assert_int_equal(n.prefix, 16);
}

static void test_conf(void **state)
{
    ckd_conf dc;
    char err[256];

    (void)state;
    ckd_conf_defaults(&dc);
    assert_int_equal(ckd_conf_section(&dc, "other", "x", "y", 1, err, sizeof(err)), 0);
    assert_int_equal(set(&dc, "public_url", "https://login.example.org//", err, sizeof(err)), 1);
    assert_int_equal(set(&dc, "threads", "8", err, sizeof(err)), 1);
    assert_int_equal(dc.threads, 8);
    assert_int_equal(set(&dc, "threads", "0", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "1..256"));
    assert_int_equal(set(&dc, "threads", "4x", err, sizeof(err)), 0);
    assert_int_equal(set(&dc, "nonsense", "1", err, sizeof(err)), 0);
    assert_string_equal(err, "unknown key");
    assert_int_equal(set(&dc, "trusted_proxies", "127.0.0.1, ::1 unix", err, sizeof(err)), 1);
    assert_int_equal(dc.nproxies, 3);
    assert_int_equal(set(&dc, "trusted_proxies", "127.0.0.1, nope", err, sizeof(err)), 0);
    assert_int_equal(set(&dc, "cors_origins", "https://a.example, https://b.example", err,
                         sizeof(err)), 1);
    assert_int_equal(dc.ncors, 2);
    assert_string_equal(dc.cors[1], "https://b.example");
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), 0);
    assert_string_equal(dc.public_url, "https://login.example.org");
    assert_int_equal(set(&dc, "listen", "unix:relative.sock", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
    assert_int_equal(set(&dc, "listen", "127.0.0.1:70000", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
    assert_int_equal(set(&dc, "listen", ":80", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
    assert_int_equal(set(&dc, "listen", "[::1]:8080", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), 0);

    assert_int_equal(set(&dc, "cors_origins", "javascript:x", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cors_origins"));
    assert_int_equal(set(&dc, "cors_origins", "", err, sizeof(err)), 1);
    assert_int_equal(set(&dc, "redirect_allowlist", "//evil.example", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
    assert_int_equal(set(&dc, "redirect_allowlist", "/app", err, sizeof(err)), 1);
    assert_int_equal(set(&dc, "cookie_domain", "exa mple.org", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);

    ckd_conf_defaults(&dc);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "public_url is required"));
    assert_int_equal(set(&dc, "public_url", "ftp://x", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
}

/* The login pools' settings: defaults leave the request threads a processor. */
static void test_conf_pools(void **state)
{
    ckd_conf dc;
    char err[256];

    (void)state;
    ckd_conf_defaults(&dc);
    assert_true(dc.login_threads >= 1);
    assert_int_equal(dc.provider_threads, 4);
    assert_int_equal(dc.provider_queue, 64);
    assert_int_equal(set(&dc, "public_url", "https://login.example.org", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), 0);
    assert_int_equal(dc.login_queue, 64 * dc.login_threads);

    ckd_conf_defaults(&dc);
    assert_int_equal(set(&dc, "public_url", "https://login.example.org", err, sizeof(err)), 1);
    assert_int_equal(set(&dc, "login_threads", "3", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), 0);
    assert_int_equal(dc.login_queue, 192);
    assert_int_equal(set(&dc, "login_queue", "5", err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), 0);
    assert_int_equal(dc.login_queue, 5);
    assert_int_equal(set(&dc, "provider_threads", "2", err, sizeof(err)), 1);
    assert_int_equal(set(&dc, "provider_queue", "7", err, sizeof(err)), 1);
    assert_int_equal(dc.provider_threads, 2);
    assert_int_equal(dc.provider_queue, 7);
    assert_int_equal(set(&dc, "login_threads", "0", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "1..256"));
    assert_int_equal(set(&dc, "login_queue", "0", err, sizeof(err)), 0);
    assert_int_equal(set(&dc, "provider_queue", "70000", err, sizeof(err)), 0);
    assert_int_equal(set(&dc, "provider_threads", "x", err, sizeof(err)), 0);
    /* hashes at SCHED_IDLE unless told otherwise */
    ckd_conf_defaults(&dc);
    assert_int_equal(dc.login_priority, CK_HASH_IDLE_POOLED);
    assert_int_equal(set(&dc, "login_priority", "low", err, sizeof(err)), 1);
    assert_int_equal(dc.login_priority, CK_HASH_LOW);
    assert_int_equal(set(&dc, "login_priority", "idle", err, sizeof(err)), 1);
    assert_int_equal(dc.login_priority, CK_HASH_IDLE_POOLED);
    assert_int_equal(set(&dc, "login_priority", "realtime", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "'realtime' is not idle or low"));
}

static void test_conf_list_limits(void **state)
{
    ckd_conf dc;
    char err[256], big[CKD_URL_MAX + 10], many[2048] = "";

    (void)state;
    ckd_conf_defaults(&dc);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(set(&dc, "cors_origins", big, err, sizeof(err)), 0);
    for (int i = 0; i < CKD_LIST_MAX + 1; i++)
        strcat(many, "/a,");
    assert_int_equal(set(&dc, "redirect_allowlist", many, err, sizeof(err)), 0);
    assert_int_equal(set(&dc, "public_url", big, err, sizeof(err)), 0);
}

static void test_redirects(void **state)
{
    static ckd d;
    static const char *const ok[] = {
        "/app", "/app/", "/app/x?y=1", "/app?x", "/app#frag", "https://tool.example.org/",
        "https://tool.example.org/x/y?z", "/app/a/../b", "/app/./x", "/app/x?y=/../..",
        "https://tool.example.org/a/../b",
    };
    static const char *const refused[] = {
        "", "/", "/apple", "//evil.example", "/\\evil.example", "/app\\..", "/app x",
        "/app\r\nX: y", "https://tool.example.org.evil/", "https://tool.example.org",
        "http://tool.example.org/", "javascript:alert(1)", " /app", "app", "https:/x",
        "/app\x7f", "/app/../../x", "/app/..", "/app/%2e%2e/x", "/app/%2E%2E/%2e%2e/x",
        "/app/..%2f..%2fx", "/app/x/%2e%2e/%2e%2e/y", "/app/%5c..",
    };
    char err[256];

    (void)state;
    ckd_conf_defaults(&d.dc);
    assert_int_equal(set(&d.dc, "redirect_allowlist", "/app, https://tool.example.org/", err,
                         sizeof(err)), 1);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (!ckd_redirect_ok(&d, ok[i]))
            fail_msg("refused %s", ok[i]);
    }
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (ckd_redirect_ok(&d, refused[i]))
            fail_msg("allowed %s", refused[i]);
    }
    /* No list: our own paths only. */
    d.dc.nredirects = 0;
    assert_true(ckd_redirect_ok(&d, "/"));
    assert_true(ckd_redirect_ok(&d, "/anything"));
    assert_false(ckd_redirect_ok(&d, "https://tool.example.org/"));
    assert_false(ckd_redirect_ok(&d, "//evil.example"));
    /* Dot segments and encoded slashes cannot reach another host. */
    assert_false(ckd_redirect_ok(&d, "/%2f%2fevil.example"));
    assert_false(ckd_redirect_ok(&d, "/%2e%2e/%2fevil.example"));
    assert_false(ckd_redirect_ok(&d, "/x/..//evil.example"));
    assert_true(ckd_redirect_ok(&d, "/x/../y"));
}

static void check_norm(const char *in, const char *want)
{
    char *out = ckd_redirect_normalize(in);

    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void test_redirect_normalize(void **state)
{
    (void)state;
    check_norm("/app/../../x", "/x");
    check_norm("/a/b/../c/./d", "/a/c/d");
    check_norm("/a/b/..", "/a/");
    check_norm("/a/.", "/a/");
    check_norm("/app/%2E%2e/x%2Fy%5Cz%41", "/x/y\\z%41");
    check_norm("/a/..?q=/../#/..", "/?q=/../#/..");
    check_norm("https://t.example/x/../y?q=/../", "https://t.example/y?q=/../");
    check_norm("https://t.example", "https://t.example");
    check_norm("/", "/");
}

static void check_origin(const char *in, int allow_path, const char *want)
{
    char out[CKD_URL_MAX];
    const char *why = NULL;
    int rc = ckd_origin_normalize(in, out, sizeof(out), allow_path, &why);

    if (!want) {
        if (rc == 0)
            fail_msg("normalised %s to %s", in, out);
        assert_non_null(why);
        return;
    }
    if (rc != 0)
        fail_msg("refused %s: %s", in, why);
    assert_string_equal(out, want);
}

static void test_origin_normalize(void **state)
{
    ckd_conf dc;
    char err[256];

    (void)state;
    check_origin("https://Login.Example.org:443/", 1, "https://login.example.org");
    check_origin("HTTPS://LOGIN.example.org", 1, "https://login.example.org");
    check_origin("http://x.example:80", 1, "http://x.example");
    check_origin("http://x.example:443", 1, "http://x.example:443");
    check_origin("https://x.example:8443//", 1, "https://x.example:8443");
    check_origin("https://x.example:08443", 1, "https://x.example:8443");
    check_origin("https://[::1]:443/", 1, "https://[::1]");
    check_origin("https://x.example/sso/", 1, "https://x.example/sso");
    check_origin("https://A.example:443", 0, "https://a.example");
    check_origin("https://a.example/", 0, "https://a.example");
    static const char *const bad[] = {
        "https://user@x.example", "https://x.example:0", "https://x.example:",
        "https://x.example:99999", "https://ex%41mple.org", "https://x.example/?q",
        "https://x.example#f", "https://[::1", "https://", "https://:443", "ftp://x.example",
        "https://x.example:44a3", "https://x_y.example",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_origin(bad[i], 1, NULL);
    check_origin("https://a.example/path", 0, NULL);

    /* At load: public_url and cors_origins end up as browsers send Origin. */
    ckd_conf_defaults(&dc);
    assert_int_equal(set(&dc, "public_url", "https://Login.Example.org:443/", err,
                         sizeof(err)), 1);
    assert_int_equal(set(&dc, "cors_origins", "HTTPS://Tool.example.org:443", err,
                         sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), 0);
    assert_string_equal(dc.public_url, "https://login.example.org");
    assert_string_equal(dc.cors[0], "https://tool.example.org");
    assert_int_equal(set(&dc, "public_url", "https://admin@login.example.org", err,
                         sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "public_url"));
    assert_int_equal(set(&dc, "public_url", "https://login.example.org", err, sizeof(err)), 1);
    /* An absolute redirect_allowlist entry: its origin normalised, its path kept. */
    assert_int_equal(set(&dc, "redirect_allowlist", "/App/, HTTPS://Tool.Example.org:443/X/",
                         err, sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), 0);
    assert_string_equal(dc.redirects[0], "/App/");
    assert_string_equal(dc.redirects[1], "https://tool.example.org/X/");
    assert_int_equal(set(&dc, "redirect_allowlist", "https://u@tool.example.org/", err,
                         sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "redirect_allowlist"));
    assert_int_equal(set(&dc, "redirect_allowlist", "", err, sizeof(err)), 1);
    assert_int_equal(set(&dc, "cors_origins", "https://tool.example.org/app", err,
                         sizeof(err)), 1);
    assert_int_equal(ckd_conf_check(&dc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cors_origins"));
}

/* The connection guard and /metrics settings: safe defaults, checked values. */
static void test_conf_guard(void **state)
{
    ckd_conf dc;
    char err[256];
    unsigned char lo[16] = { 127, 0, 0, 1 }, other[16] = { 192, 0, 2, 7 };

    (void)state;
    ckd_conf_defaults(&dc);
    assert_int_equal(dc.per_ip_limit, 64);
    assert_int_equal(dc.request_head_timeout, 10);
    assert_true(ckd_net_list_match(dc.metrics_allow, dc.nmetrics_allow, AF_INET, lo));
    assert_false(ckd_net_list_match(dc.metrics_allow, dc.nmetrics_allow, AF_INET, other));
    assert_int_equal(set(&dc, "request_head_timeout", "3", err, sizeof(err)), 1);
    assert_int_equal(dc.request_head_timeout, 3);
    assert_int_equal(set(&dc, "request_head_timeout", "-1", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "0..3600"));
    assert_int_equal(set(&dc, "metrics_allow", "192.0.2.0/24", err, sizeof(err)), 1);
    assert_int_equal(dc.nmetrics_allow, 1);
    assert_false(ckd_net_list_match(dc.metrics_allow, dc.nmetrics_allow, AF_INET, lo));
    assert_true(ckd_net_list_match(dc.metrics_allow, dc.nmetrics_allow, AF_INET, other));
    assert_int_equal(set(&dc, "metrics_allow", "192.0.2.0/24, everyone", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "everyone"));
}

/* A dual-stack socket's ::ffff:127.0.0.1 is 127.0.0.1 for every address list. */
static void test_mapped_addr(void **state)
{
    struct sockaddr_in6 s6;
    unsigned char addr[16];
    int family;

    (void)state;
    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr), 1);
    ckd_sockaddr_net((const struct sockaddr *)&s6, &family, addr);
    assert_int_equal(family, AF_INET);
    assert_memory_equal(addr, "\x7f\0\0\x01", 4);
    assert_int_equal(inet_pton(AF_INET6, "::1", &s6.sin6_addr), 1);
    ckd_sockaddr_net((const struct sockaddr *)&s6, &family, addr);
    assert_int_equal(family, AF_INET6);
    ckd_sockaddr_net(NULL, &family, addr);
    assert_int_equal(family, AF_UNIX);
}

static void test_html_escape(void **state)
{
    char out[64], tiny[4];

    (void)state;
    assert_int_equal(ckd_html_escape("<a href=\"x\">'&'</a>", out, sizeof(out)), 0);
    assert_string_equal(out, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    assert_int_equal(ckd_html_escape("<<<", tiny, sizeof(tiny)), -1);
    assert_int_equal(ckd_html_escape("", tiny, sizeof(tiny)), 0);
    assert_string_equal(tiny, "");
}

/* [daemon] and [provider NAME] through the one callback; names kept in order. */
static void test_provider_sections(void **state)
{
    static ckd d;
    char err[256] = "";
    char *html;

    (void)state;
    memset(&d, 0, sizeof(d));
    ckd_conf_defaults(&d.dc);
    d.providers = ck_oidc_providers_new();
    assert_non_null(d.providers);
    assert_int_equal(ckd_conf_sections(&d, "daemon", "threads", "2", 1, err, sizeof(err)), 1);
    assert_int_equal(d.dc.threads, 2);
    assert_int_equal(ckd_conf_sections(&d, "provider corp", "client_id", "c1", 2, err,
                                       sizeof(err)), 1);
    assert_int_equal(ckd_conf_sections(&d, "provider fapi", "client_id", "c2", 3, err,
                                       sizeof(err)), 1);
    assert_int_equal(ckd_conf_sections(&d, "provider corp", "scopes", "openid", 4, err,
                                       sizeof(err)), 1);
    assert_int_equal(d.npnames, 2);
    assert_string_equal(d.pnames[0], "corp");
    assert_string_equal(d.pnames[1], "fapi");
    /* A bad key is the OIDC library's error, passed through. */
    assert_int_equal(ckd_conf_sections(&d, "provider corp", "client_auth", "bogus", 5, err,
                                       sizeof(err)), 0);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(ckd_conf_sections(&d, "session", "x", "y", 6, err, sizeof(err)), 0);
    /* The login page's buttons carry rd encoded and escaped, never raw. */
    html = ckd_provider_buttons(&d, "/app/x?a=1&b=\"<");
    assert_non_null(html);
    assert_non_null(strstr(html, "href=\"/login/corp?rd=%2Fapp%2Fx%3Fa%3D1%26b%3D%22%3C\""));
    assert_non_null(strstr(html, "Sign in with fapi"));

    free(html);
    ck_oidc_providers_free(d.providers);
}

/* ---- the log: one record, one line ---------------------------------------- */

#define LOG_THREADS 8
#define LOG_RECORDS 400

typedef struct log_arg {
    ckd *d;
    int id;
} log_arg;

static void *log_many(void *p)
{
    log_arg *a = p;

    for (int i = 0; i < LOG_RECORDS; i++)
        ckd_log(a->d, LOG_ERR, "thread %d record %d: %s%c", a->id, i,
                "a message long enough that its pieces take a while to write", 'Z');
    return NULL;
}

/*
 * Threads logging at once must never share a line: every line of the
 * captured standard error is exactly one record, and none is missing.
 */
static void test_log_one_line_per_record(void **state)
{
    static ckd d;
    pthread_t th[LOG_THREADS];
    log_arg args[LOG_THREADS];
    char path[] = "/tmp/ck-logtest.XXXXXX", line[512];
    int fd = mkstemp(path), saved = dup(STDERR_FILENO), good = 0, bad = 0;
    int seen[LOG_THREADS] = { 0 };
    FILE *fp;

    (void)state;
    assert_true(fd >= 0 && saved >= 0);
    unlink(path);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    for (int t = 0; t < LOG_THREADS; t++) {
        args[t].d = &d;
        args[t].id = t;
        assert_int_equal(pthread_create(&th[t], NULL, log_many, &args[t]), 0);
    }
    for (int t = 0; t < LOG_THREADS; t++)
        pthread_join(th[t], NULL);
    /* A record with a line break in its text is still one line. */
    ckd_log(&d, LOG_WARNING, "peer said: %s", "first\nsecond");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    fp = fdopen(fd, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        int t = -1, i = -1, n = 0;

        if (strcmp(line, "checkupd: warning: peer said: first second\n") == 0) {
            good++;
            continue;
        }
        if (sscanf(line, "checkupd: error: thread %d record %d: a message long enough that "
                   "its pieces take a while to writeZ\n%n", &t, &i, &n) == 2 &&
            (size_t)n == strlen(line) && t >= 0 && t < LOG_THREADS && seen[t] == i) {
            seen[t]++;
            good++;
        } else {
            bad++;
        }
    }
    fclose(fp);
    assert_int_equal(bad, 0);
    assert_int_equal(good, LOG_THREADS * LOG_RECORDS + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_parse),
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_conf_pools),
        cmocka_unit_test(test_conf_list_limits),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_redirect_normalize),
        cmocka_unit_test(test_origin_normalize),
        cmocka_unit_test(test_conf_guard),
        cmocka_unit_test(test_mapped_addr),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_provider_sections),
        cmocka_unit_test(test_log_one_line_per_record),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
