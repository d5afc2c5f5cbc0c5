/*
 * test_web_units.c - checkupd's parsers without a server: the [daemon]
 * settings, trusted proxy networks, the redirect allowlist, HTML escaping
 * and the metrics text.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkupd.h"

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
        "https://tool.example.org/x/y?z",
    };
    static const char *const refused[] = {
        "", "/", "/apple", "//evil.example", "/\\evil.example", "/app\\..", "/app x",
        "/app\r\nX: y", "https://tool.example.org.evil/", "https://tool.example.org",
        "http://tool.example.org/", "javascript:alert(1)", " /app", "app", "https:/x",
        "/app\x7f",
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

static void test_metrics(void **state)
{
    ck_metrics m;
    char *text;

    (void)state;
    memset(&m, 0, sizeof(m));
    m.active = 3;
    m.active_by_method[CK_AUTH_EMAIL] = 2;
    m.active_by_method[CK_AUTH_OIDC] = 1;
    m.created = 10;
    m.ended_revoked = 4;
    m.avg_duration = 1.5;
    text = ckd_metrics_render(&m, "lmdb");
    assert_non_null(text);
    assert_non_null(strstr(text, "checkup_sessions_active{method=\"email\"} 2\n"));
    assert_non_null(strstr(text, "checkup_sessions_active{method=\"oidc\"} 1\n"));
    assert_non_null(strstr(text, "checkup_sessions_created_total 10\n"));
    assert_non_null(strstr(text, "checkup_sessions_ended_total{reason=\"revoked\"} 4\n"));
    assert_non_null(strstr(text, "checkup_session_duration_seconds_avg 1.500\n"));
    assert_non_null(strstr(text, "checkup_store_info{backend=\"lmdb\"} 1\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_parse),
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_conf_list_limits),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_metrics),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
