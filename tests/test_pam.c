/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pam_checkup.so through the real libpam, with service files in a temp
 * directory (pam_wrapper) and the conversation run by libpamtest or, where
 * a test must wait between two calls on one handle, by a small one here.
 *
 * The program re-executes itself once with pam_wrapper preloaded, after
 * writing the users file, the key ring, the configurations and the
 * service files into a fresh temporary directory.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

#include "ck_hashslot.h"
#include "ck_token.h"
#include "ck_users.h"
#include "lib/files.h"
#include "lib/pamconv.h"

#define ALICE_PW "correct horse battery"
#define HUGE_LEN (100 * 1024)

static const char *dir;     /* the temp directory, set in the re-executed child */

/* ---- setup (before re-exec) ------------------------------------------- */

static void die(const char *what)
{
    fprintf(stderr, "test_pam setup: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void add_user(const char *users, const char *email, const char *pw, const char *local,
                     int disabled)
{
    ck_user u;
    char err[512];

    memset(&u, 0, sizeof(u));
    snprintf(u.email, sizeof(u.email), "%s", email);
    snprintf(u.role, sizeof(u.role), "doctor");
    snprintf(u.clinic_id, sizeof(u.clinic_id), "clinic-7");
    snprintf(u.local_user, sizeof(u.local_user), "%s", local);
    u.disabled = disabled;
    if (ck_password_hash(pw, u.hash, sizeof(u.hash), err, sizeof(err)) != 0 ||
        ck_users_add(users, &u, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_pam setup: %s\n", err);
        exit(1);
    }
}

/*
 * store is a directory name under d for the embedded store, unless
 * CK_TEST_STORE_URL names another store (the Redis run): then store only
 * picks a key prefix, so that the configurations keep apart.
 */
static void write_conf_keys(const char *d, const char *name, const char *store, int inactivity,
                            int lifetime, const char *users, const char *keys, int deny);

static void write_conf_deny(const char *d, const char *name, const char *store, int inactivity,
                            int lifetime, const char *users, int deny)
{
    write_conf_keys(d, name, store, inactivity, lifetime, users, "keys", deny);
}

static void write_conf_keys(const char *d, const char *name, const char *store, int inactivity,
                            int lifetime, const char *users, const char *keys, int deny)
{
    const char *url = getenv("CK_TEST_STORE_URL");
    char storeconf[1024];

    if (url && strcmp(store, "users/store") != 0)
        snprintf(storeconf, sizeof(storeconf), "url = %s\nkey_prefix = %s:\n", url, store);
    else
        snprintf(storeconf, sizeof(storeconf), "url = lmdb:%s/%s\n", d, store);
    tf_printf_at(d, name, 0644,
                 "[session]\ninactivity_timeout = %d\nabsolute_lifetime = %d\n"
                 "[store]\n%s"
                 "[users]\nfile = %s/%s\n"
                 "[tokens]\nkey_file = %s/%s\n"
                 "[audit]\nfile = %s/audit.jsonl\n"
                 "[lockout]\ndeny = %d\nfail_interval = 60\nunlock_time = 2\n"
                 "[passwords]\nhash_slots = 2\nhash_wait = 1\nhash_slot_file = %s/hash-slots\n"
                 "[daemon]\nsomething = for another component\n",
                 inactivity, lifetime, storeconf, d, users, d, keys, d, deny, d);
}

static void write_conf(const char *d, const char *name, const char *store, int inactivity,
                       int lifetime, const char *users)
{
    write_conf_deny(d, name, store, inactivity, lifetime, users, 3);
}

static void write_service(const char *d, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void write_service(const char *d, const char *name, const char *fmt, ...)
{
    char path[4096], body[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/services", d);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "services/%s", name);
    tf_printf_at(d, path, 0644, "%s", body);
}

static void must(int ok, const char *what)
{
    if (!ok)
        die(what);
}

/*
 * Key rings and configurations that must be refused, each named by a
 * configuration of its own (the service files come in setup_dir). The
 * tests run as root: "someone else" is uid 65534.
 */
static void unsafe_files(const char *d)
{
    static const char *const rings[] = { "keys-none", "keys-empty", "keys-0644",
                                         "keys-nobody", "wdir/keys" };
    char path[4096], conf[64];

    tf_printf_at(d, "keys-empty", 0600, "%s", "");
    tf_printf_at(d, "keys-0644", 0644, "k1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    tf_printf_at(d, "keys-nobody", 0600, "k1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    snprintf(path, sizeof(path), "%s/keys-nobody", d);
    must(chown(path, 65534, 65534) == 0, "chown keys-nobody");
    snprintf(path, sizeof(path), "%s/wdir", d);
    must(mkdir(path, 0700) == 0 && chmod(path, 0777) == 0, "mkdir wdir");
    tf_printf_at(d, "wdir/keys", 0600, "k1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    for (size_t i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
        snprintf(conf, sizeof(conf), "ring%zu.conf", i);
        write_conf_keys(d, conf, "store-main", 2, 3600, "users", rings[i], 3);
    }
    /* Configurations nobody may trust: another's, writable by all, not a file. */
    write_conf(d, "conf-nobody.conf", "store-main", 2, 3600, "users");
    snprintf(path, sizeof(path), "%s/conf-nobody.conf", d);
    must(chown(path, 65534, 65534) == 0, "chown conf-nobody.conf");
    write_conf(d, "conf-0666.conf", "store-main", 2, 3600, "users");
    snprintf(path, sizeof(path), "%s/conf-0666.conf", d);
    must(chmod(path, 0666) == 0, "chmod conf-0666.conf");
    snprintf(path, sizeof(path), "%s/conf-dir.conf", d);
    must(mkdir(path, 0755) == 0, "mkdir conf-dir.conf");
    snprintf(path, sizeof(path), "%s/conf-fifo.conf", d);
    must(mkfifo(path, 0644) == 0, "mkfifo conf-fifo.conf");
    snprintf(path, sizeof(path), "%s/conf-loop.conf", d);
    must(symlink(path, path) == 0, "symlink conf-loop.conf");
    /* An embedded store directory that others may write. */
    snprintf(path, sizeof(path), "%s/store-open", d);
    must(mkdir(path, 0700) == 0 && chmod(path, 0777) == 0, "mkdir store-open");
    tf_printf_at(d, "storeopen.conf", 0644,
                 "[store]\nurl = lmdb:%s/store-open\n[users]\nfile = %s/users\n"
                 "[tokens]\nkey_file = %s/keys\n", d, d, d);
}

static void setup_dir(char *d)
{
    const char *b = getenv("top_builddir");
    char mod[4096], users[4096], err[512], kid[CK_KID_MAX], path[4096];

    snprintf(mod, sizeof(mod), "%s/.libs/pam_checkup.so", b ? b : ".");
    if (access(mod, R_OK) != 0)
        die(mod);
    snprintf(users, sizeof(users), "%s/users", d);
    add_user(users, "alice@example.org", ALICE_PW, "alice", 0);
    add_user(users, "bob@example.org", "bob's password", "bob", 0);
    add_user(users, "carol@example.org", "carol's password", "carol", 1);
    add_user(users, "dave@example.org", "dave's password", "", 0);
    add_user(users, "erin@example.org", "erin's password", "erin", 0);
    add_user(users, "mallory@example.org", "mallory's password", "mallory", 0);
    add_user(users, "frank@example.org", "frank's password", "frank", 0);
    add_user(users, "grace@example.org", "grace's password", "grace", 0);
    add_user(users, "heidi@example.org", "heidi's password", "heidi", 0);
    snprintf(path, sizeof(path), "%s/keys", d);
    if (ck_keyring_generate(path, kid, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_pam setup: %s\n", err);
        exit(1);
    }
    tf_printf_at(d, "users-open", 0644, "%s\n", CK_USERS_HEADER);
    write_conf(d, "main.conf", "store-main", 2, 3600, "users");
    write_conf(d, "life.conf", "store-life", 5, 6, "users");
    write_conf_deny(d, "nolock.conf", "store-main", 2, 3600, "users", 0);
    write_conf(d, "nousers.conf", "store-main", 2, 3600, "missing-users");
    write_conf(d, "openusers.conf", "store-main", 2, 3600, "users-open");
    write_conf(d, "nostore.conf", "users/store", 2, 3600, "users");
    tf_printf_at(d, "noredis.conf", 0644,
                 "[store]\nurl = redis://127.0.0.1:1/0\nconnect_timeout_ms = 200\n"
                 "[users]\nfile = %s/users\n[tokens]\nkey_file = %s/keys\n", d, d);
    tf_printf_at(d, "broken.conf", 0644, "[session\ninactivity_timeout = 2\n");
    tf_printf_at(d, "badvalue.conf", 0644, "[session]\ninactivity_timeout = 0\n");

    unsafe_files(d);

#define ALL3(cfg, extra)                                                         \
    "auth required %s config=%s/" cfg " " extra "\n"                             \
    "account required %s config=%s/" cfg "\n"                                    \
    "session required %s config=%s/" cfg "\n", mod, d, mod, d, mod, d
    /* libpam falls back to "other" for anything unknown: deny it all. */
    write_service(d, "other", "auth required pam_deny.so\naccount required pam_deny.so\n"
                  "session required pam_deny.so\n");
    write_service(d, "ck", ALL3("main.conf", ""));
    write_service(d, "ck_life", ALL3("life.conf", ""));
    write_service(d, "ck_pw", ALL3("main.conf", "method=password debug"));
    write_service(d, "ck_nolock", ALL3("nolock.conf", "method=password"));
    write_service(d, "ck_tok", ALL3("main.conf", "method=token"));
    write_service(d, "ck_unknownarg", ALL3("main.conf", "frobnicate=1 debug"));
    write_service(d, "ck_badarg", ALL3("main.conf", "method=bogus"));
    write_service(d, "ck_broken", ALL3("broken.conf", ""));
    write_service(d, "ck_badvalue", ALL3("badvalue.conf", ""));
    write_service(d, "ck_nousers", ALL3("nousers.conf", ""));
    write_service(d, "ck_openusers", ALL3("openusers.conf", ""));
    write_service(d, "ck_nostore", ALL3("nostore.conf", ""));
    write_service(d, "ck_noredis", ALL3("noredis.conf", ""));
    write_service(d, "ck_missingconf", ALL3("no-such.conf", ""));
    write_service(d, "stack_sufficient",
                  "auth sufficient %s config=%s/main.conf\nauth required pam_deny.so\n"
                  "account required pam_permit.so\n", mod, d);
    write_service(d, "stack_permit_first",
                  "auth required pam_permit.so\nauth required %s config=%s/main.conf\n"
                  "account required pam_permit.so\n", mod, d);
    write_service(d, "stack_acct",
                  "auth required pam_permit.so\n"
                  "account [success=ok user_unknown=ignore default=bad] %s config=%s/main.conf\n"
                  "account required pam_permit.so\n", mod, d);
    /* Only the first line names the configuration; a later one conflicts. */
    write_service(d, "ck_config_once",
                  "auth required %s config=%s/main.conf\naccount required %s\n", mod, d, mod);
    write_service(d, "ck_config_conflict",
                  "auth required %s config=%s/main.conf\naccount required %s config=%s/life.conf\n",
                  mod, d, mod, d);
    /* No session line: authenticate and account alone must refuse. */
    for (int i = 0; i < 5; i++) {
        char svc[64];

        snprintf(svc, sizeof(svc), "ck_ring%d", i);
        write_service(d, svc, "auth required %s config=%s/ring%d.conf\n"
                      "account required pam_permit.so\n", mod, d, i);
        snprintf(svc, sizeof(svc), "ck_ring%d_acct", i);
        write_service(d, svc, "auth required pam_permit.so\n"
                      "account required %s config=%s/ring%d.conf\n", mod, d, i);
    }
    write_service(d, "ck_conf_nobody", ALL3("conf-nobody.conf", ""));
    write_service(d, "ck_conf_0666", ALL3("conf-0666.conf", ""));
    write_service(d, "ck_conf_dir", ALL3("conf-dir.conf", ""));
    write_service(d, "ck_conf_fifo", ALL3("conf-fifo.conf", ""));
    write_service(d, "ck_conf_loop", ALL3("conf-loop.conf", ""));
    write_service(d, "ck_storeopen", ALL3("storeopen.conf", ""));
    /* common-account and common-session as pam-auth-update writes them. */
    write_service(d, "stack_nostore",
                  "account [success=ok user_unknown=ignore default=bad] %s config=%s/nostore.conf\n"
                  "account required pam_permit.so\n"
                  "session required pam_permit.so\nsession required %s config=%s/nostore.conf\n",
                  mod, d, mod, d);
    write_service(d, "stack_storeopen",
                  "account [success=ok user_unknown=ignore default=bad] %s config=%s/storeopen.conf\n"
                  "account required pam_permit.so\n"
                  "session required pam_permit.so\nsession required %s config=%s/storeopen.conf\n",
                  mod, d, mod, d);
    write_service(d, "stack_auth_only",
                  "auth required %s config=%s/nolock.conf\naccount required pam_permit.so\n",
                  mod, d);
    write_service(d, "stack_first_pass",
                  "auth required %s config=%s/main.conf use_first_pass\n", mod, d);
}

static void reexec(char **argv)
{
    char tmpl[] = "/tmp/ck-test-pam-XXXXXX";
    char *d = mkdtemp(tmpl), svc[4096], asan[1024];
    const char *old = getenv("ASAN_OPTIONS");

    if (!d)
        die("mkdtemp");
    setup_dir(d);
    snprintf(svc, sizeof(svc), "%s/services", d);
    /* pam_wrapper comes first in the preload list; ASan must accept that. */
    snprintf(asan, sizeof(asan), "%s%sverify_asan_link_order=0", old ? old : "",
             old && *old ? ":" : "");
    if (setenv("CK_TEST_DIR", d, 1) != 0 || setenv("PAM_WRAPPER", "1", 1) != 0 ||
        setenv("PAM_WRAPPER_SERVICE_DIR", svc, 1) != 0 ||
        setenv("PAM_WRAPPER_DISABLE_DEEPBIND", "1", 1) != 0 ||
        /* pam_wrapper 1.1.4 (bookworm) reads the variable under this name. */
        setenv("UID_WRAPPER_DISABLE_DEEPBIND", "1", 1) != 0 ||
        setenv("LD_PRELOAD", "libpam_wrapper.so", 1) != 0 ||
        setenv("ASAN_OPTIONS", asan, 1) != 0)
        die("setenv");
    execv("/proc/self/exe", argv);
    die("execv");
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* ---- helpers in the test process --------------------------------------- */

/* Our own conversation: one secret, messages collected into one string. */
typedef struct handle {
    pam_handle_t *ph;
    tp_conv cc;
    struct pam_conv pc;
} handle;

static void h_start(handle *h, const char *svc, const char *user, const char *secret,
                    const char *rhost)
{
    memset(h, 0, sizeof(*h));
    h->cc.secret = secret;
    h->pc.conv = tp_conv_fn;
    h->pc.appdata_ptr = &h->cc;
    assert_int_equal(pam_start(svc, user, &h->pc, &h->ph), PAM_SUCCESS);
    if (rhost)
        assert_int_equal(pam_set_item(h->ph, PAM_RHOST, rhost), PAM_SUCCESS);
    assert_int_equal(pam_set_item(h->ph, PAM_TTY, "pts/7"), PAM_SUCCESS);
}

static void h_end(handle *h, int status)
{
    assert_int_equal(pam_end(h->ph, status), PAM_SUCCESS);
}

/* Password login and open_session; the token goes to tok (if given). */
static void login(const char *svc, const char *user, const char *pw, char *tok, size_t toklen)
{
    handle h;
    const char *env;

    h_start(&h, svc, user, pw, "192.0.2.10");
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_SUCCESS);
    assert_int_equal(pam_acct_mgmt(h.ph, 0), PAM_SUCCESS);
    assert_int_equal(pam_open_session(h.ph, 0), PAM_SUCCESS);
    env = pam_getenv(h.ph, "CHECKUP_SESSION");
    assert_non_null(env);
    assert_true(ck_token_looks_like(env));
    if (tok)
        snprintf(tok, toklen, "%s", env);
    h_end(&h, PAM_SUCCESS);
}

/* One authenticate (+ account) with a secret; returns the first failure. */
static int try_auth(const char *svc, const char *user, const char *secret, const char *rhost,
                    char *msgs, size_t msglen)
{
    handle h;
    int rc;

    h_start(&h, svc, user, secret, rhost);
    rc = pam_authenticate(h.ph, 0);
    if (rc == PAM_SUCCESS)
        rc = pam_acct_mgmt(h.ph, 0);
    if (msgs)
        snprintf(msgs, msglen, "%s", h.cc.msgs);
    h_end(&h, rc);
    return rc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *read_audit(void)
{
    char path[4096];
    FILE *f;
    char *buf = calloc(1, 1 << 20);
    size_t n;

    assert_non_null(buf);
    snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* ---- tests -------------------------------------------------------------- */

static void test_login_sets_session(void **state)
{
    const char *in[] = { ALICE_PW, NULL };
    struct pamtest_conv_data cd = { .in_echo_off = in };
    struct pam_testcase tests[] = {
        pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
        pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
        pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
        pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
    };
    enum pamtest_err perr;
    int found = 0;
    char *audit;

    (void)state;
    perr = run_pamtest("ck", "alice@example.org", &cd, tests, NULL);
    assert_int_equal(perr, PAMTEST_ERR_OK);
    for (char **e = tests[3].case_out.envlist; e && *e; e++) {
        if (strncmp(*e, "CHECKUP_SESSION=", 16) == 0) {
            found = 1;
            assert_true(ck_token_looks_like(*e + 16));
            audit = read_audit();
            /* The audit trail names sessions by hash, never by token. */
            assert_null(strstr(audit, *e + 16));
            assert_non_null(strstr(audit, "\"event\":\"session_open\""));
            free(audit);
        }
    }
    pamtest_free_env(tests[3].case_out.envlist);
    assert_true(found);
}

static void test_login_by_local_name(void **state)
{
    (void)state;
    login("ck", "alice", ALICE_PW, NULL, 0);
}

static void test_wrong_password(void **state)
{
    (void)state;
    assert_int_equal(try_auth("ck_pw", "erin", "not erin's password", "192.0.2.20", NULL, 0),
                     PAM_AUTH_ERR);
}

static void test_unknown_user_same_answer(void **state)
{
    double t0, t, t_unknown = 1e9, t_wrong = 1e9;

    (void)state;
    /*
     * The fastest of three each (a busy machine only ever adds time), with
     * lockout off so that every attempt is checked in full.
     */
    for (int i = 0; i < 3; i++) {
        t0 = now_s();
        assert_int_equal(try_auth("ck_nolock", "nobody@example.org", "whatever", "192.0.2.21",
                                  NULL, 0), PAM_AUTH_ERR);
        t = now_s() - t0;
        t_unknown = t < t_unknown ? t : t_unknown;
        t0 = now_s();
        assert_int_equal(try_auth("ck_nolock", "erin@example.org", "whatever", "192.0.2.22",
                                  NULL, 0), PAM_AUTH_ERR);
        t = now_s() - t0;
        t_wrong = t < t_wrong ? t : t_wrong;
    }
    /* Both hashed once with the same cost: neither answers early. */
    assert_true(t_unknown > t_wrong / 2);
    assert_true(t_wrong > t_unknown / 2);
}

static void test_lockout_and_unlock(void **state)
{
    char msgs[2048];
    double t0;

    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(try_auth("ck", "bob", "guess", "192.0.2.30", NULL, 0), PAM_AUTH_ERR);
    t0 = now_s();
    /* Locked: even the right password is refused, with a reason. */
    assert_int_equal(try_auth("ck", "bob@example.org", "bob's password", "192.0.2.31", msgs,
                              sizeof(msgs)), PAM_AUTH_ERR);
    assert_non_null(strstr(msgs, "Too many failed logins"));
    /* unlock_time is 2 s; wait it out, bounded. */
    sleep_ms((long)((2.3 - (now_s() - t0)) * 1000));
    assert_int_equal(try_auth("ck", "bob", "bob's password", "192.0.2.31", NULL, 0),
                     PAM_SUCCESS);
}

static void test_success_resets_counter(void **state)
{
    (void)state;
    assert_int_equal(try_auth("ck", "erin", "erin's password", NULL, NULL, 0), PAM_SUCCESS);
    for (int i = 0; i < 2; i++)
        assert_int_equal(try_auth("ck", "erin", "guess", NULL, NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", "erin", "erin's password", NULL, NULL, 0), PAM_SUCCESS);
    for (int i = 0; i < 2; i++)
        assert_int_equal(try_auth("ck", "erin", "guess", NULL, NULL, 0), PAM_AUTH_ERR);
    /* 2 + 2 failures with a success between: not 3 in a row, not locked. */
    assert_int_equal(try_auth("ck", "erin", "erin's password", NULL, NULL, 0), PAM_SUCCESS);
}

static void test_host_lockout(void **state)
{
    const char *names[] = { "x1@example.org", "x2@example.org", "x3@example.org" };

    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(try_auth("ck", names[i], "guess", "198.51.100.9", NULL, 0),
                         PAM_AUTH_ERR);
    /* A different, innocent account from the same host is refused too... */
    assert_int_equal(try_auth("ck", "dave@example.org", "dave's password", "198.51.100.9",
                              NULL, 0), PAM_AUTH_ERR);
    /* ...but not from another host. */
    assert_int_equal(try_auth("ck", "dave@example.org", "dave's password", "198.51.100.10",
                              NULL, 0), PAM_SUCCESS);
}

/*
 * The host's password-check slots (2 in these configurations) all held by
 * others: a login waits hash_wait (1 s), then is refused as unavailable,
 * with a reason, audited once and never counted as a failure; a locked
 * account is refused at once, without waiting for a slot or hashing.
 */
static void test_busy_host(void **state)
{
    char path[4096], err[256], msgs[2048], *audit;
    int held[2];
    double t0, t;

    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(try_auth("ck", "ghost@example.org", "guess", "192.0.2.50", NULL, 0),
                         PAM_AUTH_ERR);
    snprintf(path, sizeof(path), "%s/hash-slots", dir);
    for (int i = 0; i < 2; i++) {
        held[i] = ck_hash_slot_take(path, 2, 0, err, sizeof(err));
        assert_true(held[i] >= 0);
    }
    t0 = now_s();
    assert_int_equal(try_auth("ck", "ghost@example.org", "guess", "192.0.2.52", msgs,
                              sizeof(msgs)), PAM_AUTH_ERR);
    assert_true(now_s() - t0 < 0.9);
    assert_non_null(strstr(msgs, "Too many failed logins"));
    /* deny is 3: three refusals for want of a slot would lock erin if they counted */
    for (int i = 0; i < 3; i++) {
        t0 = now_s();
        assert_int_equal(try_auth("ck", "erin", "erin's password", "192.0.2.51", msgs,
                                  sizeof(msgs)), PAM_AUTHINFO_UNAVAIL);
        t = now_s() - t0;
        assert_true(t >= 0.9);
        assert_non_null(strstr(msgs, "Too many logins at once"));
    }
    audit = read_audit();
    assert_non_null(strstr(audit, "\"reason\":\"queue_full\""));
    free(audit);
    ck_hash_slot_give(held[0]);
    assert_int_equal(try_auth("ck", "erin", "erin's password", "192.0.2.51", NULL, 0),
                     PAM_SUCCESS);
    ck_hash_slot_give(held[1]);
}

static void test_token_keeps_session_alive(void **state)
{
    char tok[CK_TOKEN_MAX + 1];

    (void)state;
    login("ck", "alice", ALICE_PW, tok, sizeof(tok));
    /*
     * inactivity is 2 s (whole seconds in the store): four uses 0.7 s
     * apart span 2.8 s, longer than the timeout, and all find it alive.
     */
    for (int i = 0; i < 4; i++) {
        sleep_ms(700);
        assert_int_equal(try_auth("ck_tok", "alice", tok, NULL, NULL, 0), PAM_SUCCESS);
    }
    /* A token is tied to its user. */
    assert_int_equal(try_auth("ck_tok", "erin", tok, NULL, NULL, 0), PAM_AUTH_ERR);
}

static void test_idle_expiry_fails_account(void **state)
{
    char tok[CK_TOKEN_MAX + 1];
    handle h;
    char *audit;

    (void)state;
    login("ck", "alice", ALICE_PW, tok, sizeof(tok));
    h_start(&h, "ck", "alice", tok, NULL);
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_SUCCESS);
    sleep_ms(2300);     /* inactivity_timeout = 2 */
    assert_int_equal(pam_acct_mgmt(h.ph, 0), PAM_PERM_DENIED);
    assert_non_null(strstr(h.cc.msgs, "expired after 2 seconds of inactivity"));
    h_end(&h, PAM_PERM_DENIED);
    /* And the session is gone for good. */
    assert_int_equal(try_auth("ck", "alice", tok, NULL, NULL, 0), PAM_AUTH_ERR);
    audit = read_audit();
    assert_non_null(strstr(audit, "\"event\":\"session_expired_idle\""));
    assert_non_null(strstr(audit, "\"reason\":\"expired_idle\""));
    assert_null(strstr(audit, tok));
    free(audit);
}

static void test_lifetime_expiry_fails_account(void **state)
{
    char tok[CK_TOKEN_MAX + 1];
    handle h;

    (void)state;
    /* inactivity 5 s, lifetime 6 s: 2.5 s of slack for a busy machine at
     * the first use, 1.1 s at the second */
    login("ck_life", "alice", ALICE_PW, tok, sizeof(tok));
    sleep_ms(2500);
    h_start(&h, "ck_life", "alice", tok, NULL);
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_SUCCESS);
    sleep_ms(3900);     /* idle 3.9 s < 5 s, but 6.4 s > 6 s since login */
    assert_int_equal(pam_acct_mgmt(h.ph, 0), PAM_PERM_DENIED);
    assert_non_null(strstr(h.cc.msgs, "reached its 6 seconds limit"));
    h_end(&h, PAM_PERM_DENIED);
}

/* The last line of the audit file that holds needle, or NULL (freed with free()). */
static char *last_audit(const char *needle)
{
    char *all = read_audit(), *line = NULL, *p = all, *nl;

    while (*p) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (strstr(p, needle)) {
            free(line);
            line = strdup(p);
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    free(all);
    return line;
}

/*
 * A token login after the session ended is told why, and audited with
 * the end reason, on every store: idle (on Redis the session's key
 * expired by the server's own clock) and lifetime (the token's exp is the
 * deadline, checked before the store is asked; never "token_expired").
 */
static void test_token_after_idle_end(void **state)
{
    char tok[CK_TOKEN_MAX + 1], *line;
    handle h;

    (void)state;
    login("ck", "alice", ALICE_PW, tok, sizeof(tok));
    sleep_ms(2300);     /* inactivity_timeout = 2 */
    h_start(&h, "ck_tok", "alice", tok, NULL);
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_AUTH_ERR);
    assert_non_null(strstr(h.cc.msgs, "expired after 2 seconds of inactivity"));
    h_end(&h, PAM_AUTH_ERR);
    line = last_audit("\"method\":\"token\"");
    assert_non_null(line);
    assert_non_null(strstr(line, "\"event\":\"session_expired_idle\""));
    assert_non_null(strstr(line, "\"reason\":\"expired_idle\""));
    assert_non_null(strstr(line, "\"sid\":\""));
    free(line);
}

static void test_token_after_lifetime_end(void **state)
{
    char tok[CK_TOKEN_MAX + 1], *line;
    handle h;

    (void)state;
    /* inactivity 5 s, lifetime 6 s: kept alive, it ends at its deadline */
    login("ck_life", "alice", ALICE_PW, tok, sizeof(tok));
    sleep_ms(2500);
    assert_int_equal(try_auth("ck_life", "alice", tok, NULL, NULL, 0), PAM_SUCCESS);
    sleep_ms(3900);
    h_start(&h, "ck_life", "alice", tok, NULL);
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_AUTH_ERR);
    assert_non_null(strstr(h.cc.msgs, "reached its 6 seconds limit"));
    h_end(&h, PAM_AUTH_ERR);
    line = last_audit("\"method\":\"token\"");
    assert_non_null(line);
    assert_non_null(strstr(line, "\"event\":\"session_expired_lifetime\""));
    assert_non_null(strstr(line, "\"reason\":\"expired_lifetime\""));
    assert_non_null(strstr(line, "\"sid\":\""));
    free(line);
    line = read_audit();
    assert_null(strstr(line, "token_expired"));
    free(line);
}

static void test_close_session_logs_out(void **state)
{
    const char *in[] = { ALICE_PW, NULL };
    struct pamtest_conv_data cd = { .in_echo_off = in };
    struct pam_testcase tests[] = {
        pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
        pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
        pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
        pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
    };
    char tok[CK_TOKEN_MAX + 1] = "";

    (void)state;
    assert_int_equal(run_pamtest("ck", "alice", &cd, tests, NULL), PAMTEST_ERR_OK);
    for (char **e = tests[2].case_out.envlist; e && *e; e++)
        if (strncmp(*e, "CHECKUP_SESSION=", 16) == 0)
            snprintf(tok, sizeof(tok), "%s", *e + 16);
    pamtest_free_env(tests[2].case_out.envlist);
    assert_true(ck_token_looks_like(tok));
    /* Logged out: the token no longer opens anything. */
    assert_int_equal(try_auth("ck_tok", "alice", tok, NULL, NULL, 0), PAM_AUTH_ERR);
}

static void test_close_leaves_attached_session(void **state)
{
    char tok[CK_TOKEN_MAX + 1];
    handle h;

    (void)state;
    login("ck", "alice", ALICE_PW, tok, sizeof(tok));
    h_start(&h, "ck_tok", "alice", tok, NULL);
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_SUCCESS);
    assert_int_equal(pam_open_session(h.ph, 0), PAM_SUCCESS);
    assert_string_equal(pam_getenv(h.ph, "CHECKUP_SESSION"), tok);
    assert_int_equal(pam_close_session(h.ph, 0), PAM_SUCCESS);
    h_end(&h, PAM_SUCCESS);
    /* The session belonged to the first login: still alive. */
    assert_int_equal(try_auth("ck_tok", "alice", tok, NULL, NULL, 0), PAM_SUCCESS);
}

static size_t audit_size(void)
{
    char *a = read_audit();
    size_t n = strlen(a);

    free(a);
    return n;
}

/* How often needle occurs in the audit lines written since size before. */
static int audit_count_since(size_t before, const char *needle)
{
    char *a = read_audit();
    int n = 0;

    assert_true(strlen(a) >= before);
    for (const char *p = a + before; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(a);
    return n;
}

/*
 * A disabled account's right password is refused at authenticate with a
 * wrong password's answer, message and timing, audited once: a stack that
 * asks another module for account lets no one in, and no one learns
 * whether the password was right.
 */
static void test_disabled_account(void **state)
{
    char msgs[2048], wrong[2048];
    double t0, t, t_right = 1e9, t_wrong = 1e9;
    size_t before;

    (void)state;
    before = audit_size();
    assert_int_equal(try_auth("ck", "carol", "carol's password", NULL, msgs, sizeof(msgs)),
                     PAM_AUTH_ERR);
    assert_int_equal(audit_count_since(before, "login_failure"), 1);
    assert_int_equal(audit_count_since(before, "account_disabled"), 1);
    assert_int_equal(audit_count_since(before, "login_success"), 0);
    assert_int_equal(try_auth("ck", "carol", "not carol's password", NULL, wrong, sizeof(wrong)),
                     PAM_AUTH_ERR);
    assert_string_equal(msgs, wrong);
    assert_null(strstr(msgs, "disabled"));
    /* auth by pam_checkup, account by another module. */
    assert_int_equal(try_auth("stack_auth_only", "carol", "carol's password", NULL, NULL, 0),
                     PAM_AUTH_ERR);
    assert_int_equal(try_auth("stack_sufficient", "carol", "carol's password", NULL, NULL, 0),
                     PAM_AUTH_ERR);
    /* The fastest of seven each, lockout off: both hash and count once (the
     * minimum, so that a busy machine's pauses do not decide the answer). */
    for (int i = 0; i < 7; i++) {
        t0 = now_s();
        assert_int_equal(try_auth("ck_nolock", "carol", "carol's password", "192.0.2.23",
                                  NULL, 0), PAM_AUTH_ERR);
        t = now_s() - t0;
        t_right = t < t_right ? t : t_right;
        t0 = now_s();
        assert_int_equal(try_auth("ck_nolock", "carol", "not carol's password", "192.0.2.24",
                                  NULL, 0), PAM_AUTH_ERR);
        t = now_s() - t0;
        t_wrong = t < t_wrong ? t : t_wrong;
    }
    assert_true(t_right > t_wrong / 2);
    assert_true(t_wrong > t_right / 2);
}

static int set_heidi(ck_users *users, void *ud, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    for (size_t i = 0; i < users->count; i++)
        if (strcmp(users->items[i].email, "heidi@example.org") == 0)
            users->items[i].disabled = *(int *)ud;
    return 0;
}

/*
 * A session of an account disabled by hand (not by "checkup user
 * disable", which ends them): its token is refused at authenticate.
 */
static void test_disabled_token(void **state)
{
    char tok[CK_TOKEN_MAX + 1], users[4096], err[512];
    size_t before;
    int on = 1, off = 0;

    (void)state;
    snprintf(users, sizeof(users), "%s/users", dir);
    login("ck", "heidi", "heidi's password", tok, sizeof(tok));
    assert_int_equal(ck_users_edit(users, 0, set_heidi, &on, err, sizeof(err)), 0);
    before = audit_size();
    assert_int_equal(try_auth("stack_auth_only", "heidi", tok, NULL, NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck_tok", "heidi", tok, NULL, NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(audit_count_since(before, "account_disabled"), 2);
    assert_int_equal(audit_count_since(before, "login_success"), 0);
    assert_int_equal(ck_users_edit(users, 0, set_heidi, &off, err, sizeof(err)), 0);
    assert_int_equal(try_auth("ck_tok", "heidi", tok, NULL, NULL, 0), PAM_SUCCESS);
}

/*
 * A key ring that is missing, empty, readable by others, someone else's
 * or in a directory others can write: authenticate refuses (no session
 * line in the stack to catch it), and so does account for our users.
 */
static void test_unusable_key_ring(void **state)
{
    char svc[64];

    (void)state;
    for (int i = 0; i < 5; i++) {
        snprintf(svc, sizeof(svc), "ck_ring%d", i);
        assert_int_equal(try_auth(svc, "alice", ALICE_PW, NULL, NULL, 0),
                         PAM_AUTHINFO_UNAVAIL);
        assert_int_equal(try_auth(svc, "alice", "wrong", NULL, NULL, 0), PAM_AUTHINFO_UNAVAIL);
        snprintf(svc, sizeof(svc), "ck_ring%d_acct", i);
        assert_int_equal(try_auth(svc, "alice", "", NULL, NULL, 0), PAM_AUTHINFO_UNAVAIL);
        /* Not ours: left to the rest of the stack, as with a good ring. */
        assert_int_equal(try_auth(svc, "root", "", NULL, NULL, 0), PAM_USER_UNKNOWN);
    }
}

/*
 * checkup.conf as ck_secfile.h's policy has it: someone else's, writable by
 * others, a directory, a FIFO (which must not block), a symlink loop:
 * each a configuration error, never the built-in defaults.
 */
static void test_unsafe_config(void **state)
{
    static const char *const svcs[] = { "ck_conf_nobody", "ck_conf_0666", "ck_conf_dir",
                                        "ck_conf_fifo", "ck_conf_loop" };

    (void)state;
    for (size_t i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++)
        assert_int_equal(try_auth(svcs[i], "alice", ALICE_PW, NULL, NULL, 0),
                         PAM_SERVICE_ERR);
    /* An embedded store directory that others may write is not used. */
    assert_int_equal(try_auth("ck_storeopen", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_AUTHINFO_UNAVAIL);
}

static void test_stacking(void **state)
{
    (void)state;
    assert_int_equal(try_auth("stack_sufficient", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_SUCCESS);
    assert_int_equal(try_auth("stack_sufficient", "alice", "wrong", NULL, NULL, 0),
                     PAM_AUTH_ERR);
    assert_int_equal(try_auth("stack_permit_first", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_SUCCESS);
    assert_int_equal(try_auth("stack_permit_first", "alice", "wrong", NULL, NULL, 0),
                     PAM_AUTH_ERR);
    /* A user checkup does not know is left to the rest of the stack. */
    assert_int_equal(try_auth("stack_acct", "root", "x", NULL, NULL, 0), PAM_SUCCESS);
    assert_int_equal(try_auth("stack_acct", "carol", "x", NULL, NULL, 0), PAM_PERM_DENIED);
    /* use_first_pass with nothing before it: no prompt, no success. */
    assert_int_equal(try_auth("stack_first_pass", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_AUTH_ERR);
}

/* acct_mgmt, then open_session and close_session: the first failure. */
static int try_acct_session(const char *svc, const char *user)
{
    handle h;
    int rc;

    h_start(&h, svc, user, "", NULL);
    rc = pam_acct_mgmt(h.ph, 0);
    if (rc == PAM_SUCCESS)
        rc = pam_open_session(h.ph, 0);
    if (rc == PAM_SUCCESS)
        rc = pam_close_session(h.ph, 0);
    h_end(&h, rc);
    return rc;
}

/*
 * A store that cannot be opened (a file where its directory should be;
 * a directory others may write) refuses checkup's users, in account and
 * session, and leaves everyone else to the rest of the stack: root's su,
 * sudo and login never depend on it.
 */
static void test_broken_store_spares_others(void **state)
{
    static const char *const svcs[] = { "stack_nostore", "stack_storeopen" };

    (void)state;
    for (size_t i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
        assert_int_equal(try_acct_session(svcs[i], "root"), PAM_SUCCESS);
        assert_int_equal(try_acct_session(svcs[i], "nobody-of-ours"), PAM_SUCCESS);
        assert_int_equal(try_acct_session(svcs[i], "alice"), PAM_AUTHINFO_UNAVAIL);
        assert_int_equal(try_acct_session(svcs[i], "bob@example.org"), PAM_AUTHINFO_UNAVAIL);
    }
}

static void test_broken_setups(void **state)
{
    (void)state;
    assert_int_equal(try_auth("ck_broken", "alice", ALICE_PW, NULL, NULL, 0), PAM_SERVICE_ERR);
    assert_int_equal(try_auth("ck_badvalue", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_SERVICE_ERR);
    assert_int_equal(try_auth("ck_missingconf", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_SERVICE_ERR);
    assert_int_equal(try_auth("ck_badarg", "alice", ALICE_PW, NULL, NULL, 0), PAM_SERVICE_ERR);
    assert_int_equal(try_auth("ck_nousers", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(try_auth("ck_openusers", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(try_auth("ck_nostore", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_AUTHINFO_UNAVAIL);
    /* Nothing listens on port 1: refused fast, and never a success. */
    assert_int_equal(try_auth("ck_noredis", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(try_auth("ck_config_once", "alice", ALICE_PW, NULL, NULL, 0), PAM_SUCCESS);
    assert_int_equal(try_auth("ck_config_conflict", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_SERVICE_ERR);
    /* Unknown arguments are logged and ignored. */
    assert_int_equal(try_auth("ck_unknownarg", "alice", ALICE_PW, NULL, NULL, 0), PAM_SUCCESS);
}

static void test_hostile_inputs(void **state)
{
    char *huge = malloc(HUGE_LEN + 1), *huge_tok = malloc(HUGE_LEN + 1);
    const char nul_pw[] = "correct\0 horse battery";
    const char bad_utf8[] = "correct horse \xff\xfe battery";

    (void)state;
    assert_non_null(huge);
    assert_non_null(huge_tok);
    memset(huge, 'A', HUGE_LEN);
    huge[HUGE_LEN] = '\0';
    memcpy(huge_tok, huge, HUGE_LEN + 1);
    memcpy(huge_tok, "eyJ.", 4);
    huge_tok[HUGE_LEN / 2] = '.';
    assert_int_equal(try_auth("ck", "mallory", "", "192.0.2.40", NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", "mallory", huge, "192.0.2.41", NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", "mallory", huge_tok, "192.0.2.42", NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", "mallory", nul_pw, "192.0.2.43", NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", "mallory", bad_utf8, "192.0.2.44", NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", huge, ALICE_PW, "192.0.2.45", NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", "\xc3\x28\xff", ALICE_PW, "192.0.2.46", NULL, 0),
                     PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", "alice", ALICE_PW, huge, NULL, 0), PAM_SUCCESS);
    assert_int_equal(try_auth("ck", "mallory", "eyJhbGciOiJub25lIn0.e30.", "192.0.2.47",
                              NULL, 0), PAM_AUTH_ERR);
    free(huge);
    free(huge_tok);
    /* Through all of that (mallory is locked by now), alice was never touched. */
    assert_int_equal(try_auth("ck", "alice", ALICE_PW, NULL, NULL, 0), PAM_SUCCESS);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_no_fd_left_after_pam_end(void **state)
{
    char tok[CK_TOKEN_MAX + 1];
    int before;

    (void)state;
    login("ck", "alice", ALICE_PW, NULL, 0);     /* warm up libraries loaded once */
    before = count_fds();
    login("ck", "alice", ALICE_PW, tok, sizeof(tok));
    assert_int_equal(try_auth("ck", "alice", tok, NULL, NULL, 0), PAM_SUCCESS);
    assert_int_equal(try_auth("ck_nousers", "alice", ALICE_PW, NULL, NULL, 0),
                     PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(count_fds(), before);
}

/* The host forks between calls (sshd, login): both sides carry on. */
static void test_fork_and_call_again(void **state)
{
    handle h;
    pid_t pid;
    int ws = 0;

    (void)state;
    h_start(&h, "ck", "alice", ALICE_PW, NULL);
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_SUCCESS);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc = pam_acct_mgmt(h.ph, 0);

        if (rc == PAM_SUCCESS)
            rc = pam_open_session(h.ph, 0);
        if (rc == PAM_SUCCESS && !pam_getenv(h.ph, "CHECKUP_SESSION"))
            rc = PAM_SYSTEM_ERR;
        if (rc == PAM_SUCCESS)
            rc = pam_close_session(h.ph, 0);
        pam_end(h.ph, rc);
        _exit(rc == PAM_SUCCESS ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    assert_int_equal(pam_acct_mgmt(h.ph, 0), PAM_SUCCESS);
    assert_int_equal(pam_open_session(h.ph, 0), PAM_SUCCESS);
    assert_non_null(pam_getenv(h.ph, "CHECKUP_SESSION"));
    assert_int_equal(pam_close_session(h.ph, 0), PAM_SUCCESS);
    h_end(&h, PAM_SUCCESS);
}

/* Runs the checkup CLI on main.conf, without pam_wrapper; returns its exit status. */
static int run_cli(const char *a1, const char *a2, const char *a3)
{
    const char *b = getenv("top_builddir");
    char exe[4096], conf[4096];
    pid_t pid;
    int ws = 0;

    snprintf(exe, sizeof(exe), "%s/checkup", b ? b : ".");
    snprintf(conf, sizeof(conf), "%s/main.conf", dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        if (null >= 0)
            dup2(null, 1);
        unsetenv("LD_PRELOAD");
        execl(exe, exe, "-c", conf, a1, a2, a3, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

/*
 * Waits until path last changed over 2 s ago: the module trusts its stat
 * of the users file only then (it rereads a file changed more recently on
 * every call), and this test wants the stat comparison itself to see the
 * next edit.
 */
static void settle(const char *path)
{
    struct stat sb;
    time_t newest;

    assert_int_equal(stat(path, &sb), 0);
    newest = sb.st_mtime > sb.st_ctime ? sb.st_mtime : sb.st_ctime;
    while (time(NULL) - newest < 3)
        sleep_ms(200);
}

/* An authenticate + account cycle on an open handle, as bench/pam runs it. */
static int cycle(handle *h)
{
    int rc = pam_authenticate(h->ph, 0);

    return rc == PAM_SUCCESS ? pam_acct_mgmt(h->ph, 0) : rc;
}

/* A token handle for user, cycled twice: the second runs on the parsed file. */
static void start_cycled(handle *h, const char *users, const char *user, const char *password,
                         char *tok, size_t toklen)
{
    settle(users);
    login("ck", user, password, tok, toklen);
    h_start(h, "ck_tok", user, tok, NULL);
    assert_int_equal(cycle(h), PAM_SUCCESS);
    assert_int_equal(cycle(h), PAM_SUCCESS);
}

/*
 * The module keeps the users file parsed per handle: an edit with the CLI
 * (or an unsafe mode) while a handle is open counts from its next call.
 */
static void test_users_edit_on_open_handle(void **state)
{
    char tok[CK_TOKEN_MAX + 1], users[4096];
    handle h;

    (void)state;
    snprintf(users, sizeof(users), "%s/users", dir);
    start_cycled(&h, users, "frank", "frank's password", tok, sizeof(tok));
    assert_int_equal(run_cli("user", "disable", "frank@example.org"), 0);
    assert_int_equal(pam_acct_mgmt(h.ph, 0), PAM_PERM_DENIED);
    assert_non_null(strstr(h.cc.msgs, "disabled"));
    /* Disabling ended his session as well: its token opens nothing. */
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_AUTH_ERR);
    assert_int_equal(run_cli("user", "enable", "frank@example.org"), 0);
    /* A new login; the open handle takes the new token. */
    login("ck", "frank", "frank's password", tok, sizeof(tok));
    assert_int_equal(cycle(&h), PAM_SUCCESS);
    /* The mode is checked on every call, not only when the file changed. */
    assert_int_equal(chmod(users, 0644), 0);
    assert_int_equal(pam_acct_mgmt(h.ph, 0), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(chmod(users, 0600), 0);
    assert_int_equal(cycle(&h), PAM_SUCCESS);
    h_end(&h, PAM_SUCCESS);

    start_cycled(&h, users, "grace", "grace's password", tok, sizeof(tok));
    assert_int_equal(run_cli("user", "del", "grace@example.org"), 0);
    assert_int_equal(pam_acct_mgmt(h.ph, 0), PAM_USER_UNKNOWN);
    /* Her session ended with her account. */
    assert_int_equal(pam_authenticate(h.ph, 0), PAM_AUTH_ERR);
    h_end(&h, PAM_AUTH_ERR);
}

/* Lockout guards passwords; running sessions are judged by their token. */
static void test_lockout_and_tokens(void **state)
{
    char tok[CK_TOKEN_MAX + 1], forged[CK_TOKEN_MAX + 1];
    size_t n;

    (void)state;
    login("ck", "dave@example.org", "dave's password", tok, sizeof(tok));
    /* The token's use between the hashes keeps the session within its 2 s idle time. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(try_auth("ck", "dave@example.org", "guess", "203.0.113.70", NULL, 0),
                         PAM_AUTH_ERR);
        assert_int_equal(try_auth("ck", "dave@example.org", tok, "203.0.113.71", NULL, 0),
                         PAM_SUCCESS);
    }
    assert_int_equal(try_auth("ck", "dave@example.org", "dave's password", "203.0.113.71",
                              NULL, 0), PAM_AUTH_ERR);
    /* Someone guessing dave's password cannot end his session. */
    assert_int_equal(try_auth("ck", "dave@example.org", tok, "203.0.113.71", NULL, 0),
                     PAM_SUCCESS);
    /* Forged tokens count like wrong passwords: three lock the host out. */
    snprintf(forged, sizeof(forged), "%s", tok);
    n = strlen(forged);
    forged[n - 3] = forged[n - 3] == 'x' ? 'y' : 'x';
    for (int i = 0; i < 3; i++)
        assert_int_equal(try_auth("ck", "erin", forged, "203.0.113.72", NULL, 0),
                         PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", "bob", "bob's password", "203.0.113.72", NULL, 0),
                     PAM_AUTH_ERR);
    assert_int_equal(try_auth("ck", "bob", "bob's password", "203.0.113.73", NULL, 0),
                     PAM_SUCCESS);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_sets_session),
        cmocka_unit_test(test_login_by_local_name),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_unknown_user_same_answer),
        cmocka_unit_test(test_lockout_and_unlock),
        cmocka_unit_test(test_success_resets_counter),
        cmocka_unit_test(test_host_lockout),
        cmocka_unit_test(test_busy_host),
        cmocka_unit_test(test_token_keeps_session_alive),
        cmocka_unit_test(test_idle_expiry_fails_account),
        cmocka_unit_test(test_lifetime_expiry_fails_account),
        cmocka_unit_test(test_token_after_idle_end),
        cmocka_unit_test(test_token_after_lifetime_end),
        cmocka_unit_test(test_close_session_logs_out),
        cmocka_unit_test(test_close_leaves_attached_session),
        cmocka_unit_test(test_disabled_account),
        cmocka_unit_test(test_disabled_token),
        cmocka_unit_test(test_unusable_key_ring),
        cmocka_unit_test(test_unsafe_config),
        cmocka_unit_test(test_stacking),
        cmocka_unit_test(test_broken_setups),
        cmocka_unit_test(test_broken_store_spares_others),
        cmocka_unit_test(test_hostile_inputs),
        cmocka_unit_test(test_no_fd_left_after_pam_end),
        cmocka_unit_test(test_fork_and_call_again),
        cmocka_unit_test(test_lockout_and_tokens),
        cmocka_unit_test(test_users_edit_on_open_handle),
    };
    int rc;

    dir = getenv("CK_TEST_DIR");
    if (!dir)
        reexec(argv);
    rc = cmocka_run_group_tests_name("pam_checkup", tests, NULL, NULL);
    if (!getenv("CK_TEST_KEEP"))
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
