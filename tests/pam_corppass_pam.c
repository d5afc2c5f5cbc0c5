/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pam_checkup method=corppass / method=oidc through the real libpam
 * (pam_wrapper; libpamtest or a handle of our own). The conversation
 * receives the link; the test then plays checkupd's part by calling
 * ck_terminal_complete with a fixed identity, at once or from a child
 * process a moment later. The browser round trip through mockpass is
 * tested with checkupd (tests/web*).
 *
 * Like tests/test_pam.c, the program re-executes itself once with
 * pam_wrapper preloaded after writing the users file, key ring,
 * configurations and service files into a fresh temporary directory.
 * CK_TEST_STORE_URL (tests/pam_corppass_redis.sh) moves the store to Redis.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

#include "ck_clock.h"
#include "ck_store.h"
#include "ck_terminal.h"
#include "ck_token.h"
#include "ck_users.h"
#include "lib/files.h"

#define UUID_ALICE "0b5d9c1e-7f11-4a55-9a3c-1f2e3d4c5b6a"
#define UUID_CAROL "6f1c2d3e-4b5a-4c6d-8e7f-a1b2c3d4e5f6"
#define PUBLIC_URL "https://login.example.org"
#define TTL        3

static const char *dir;

/* ---- setup (before re-exec) ------------------------------------------- */

static void die(const char *what)
{
    fprintf(stderr, "pam_corppass setup: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void add_user(const char *users, const char *email, const char *local,
                     const char *corppass, int disabled)
{
    ck_user u;
    char err[512];

    memset(&u, 0, sizeof(u));
    snprintf(u.email, sizeof(u.email), "%s", email);
    snprintf(u.hash, sizeof(u.hash), "!");
    snprintf(u.role, sizeof(u.role), "doctor");
    snprintf(u.clinic_id, sizeof(u.clinic_id), "clinic-7");
    snprintf(u.local_user, sizeof(u.local_user), "%s", local);
    snprintf(u.corppass, sizeof(u.corppass), "%s", corppass);
    u.disabled = disabled;
    if (ck_users_add(users, &u, err, sizeof(err)) != 0) {
        fprintf(stderr, "pam_corppass setup: %s\n", err);
        exit(1);
    }
}

static void write_conf(const char *d, const char *name, const char *daemon)
{
    const char *url = getenv("CK_TEST_STORE_URL");
    char storeconf[1024];

    if (url)
        snprintf(storeconf, sizeof(storeconf), "url = %s\nkey_prefix = cpt%ld:\n", url,
                 (long)getpid());
    else
        snprintf(storeconf, sizeof(storeconf), "url = lmdb:%s/store\n", d);
    tf_printf_at(d, name, TF_UMASK,
                 "[session]\npending_ttl = %d\n[store]\n%s"
                 "[users]\nfile = %s/users\n[tokens]\nkey_file = %s/keys\n"
                 "[passwords]\nhash_slot_file = %s/hash-slots\n"
                 "[audit]\nfile = %s/audit.jsonl\n"
                 "[lockout]\ndeny = 3\nfail_interval = 60\nunlock_time = 2\n"
                 "[daemon]\n%s\n",
                 TTL, storeconf, d, d, d, d, daemon);
}

static void write_service(const char *d, const char *name, const char *mod, const char *conf,
                          const char *args)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/services", d);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "services/%s", name);
    tf_printf_at(d, path, TF_UMASK, "auth required %s config=%s/%s %s\naccount required %s config=%s/%s\n"
                 "session required %s config=%s/%s\n", mod, d, conf, args, mod, d, conf,
                 mod, d, conf);
}

static void setup_dir(const char *d)
{
    const char *b = getenv("top_builddir");
    char mod[4096], users[4096], path[4096], err[512], kid[CK_KID_MAX];

    snprintf(mod, sizeof(mod), "%s/.libs/pam_checkup.so", b ? b : ".");
    if (access(mod, R_OK) != 0)
        die(mod);
    snprintf(users, sizeof(users), "%s/users", d);
    add_user(users, "alice@example.org", "alice", UUID_ALICE, 0);
    add_user(users, "bob@example.org", "bob", "T09LL0001B/CPBOB", 0);
    add_user(users, "carol@example.org", "carol", UUID_CAROL, 1);
    add_user(users, "dave@example.org", "dave", "", 0);
    snprintf(path, sizeof(path), "%s/keys", d);
    if (ck_keyring_generate(path, kid, err, sizeof(err)) != 0) {
        fprintf(stderr, "pam_corppass setup: %s\n", err);
        exit(1);
    }
    write_conf(d, "main.conf", "public_url = " PUBLIC_URL "/\nport = 8080");
    write_conf(d, "nourl.conf", "port = 8080");
    /* No key ring: the session could never be signed, so no login starts. */
    tf_printf_at(d, "noring.conf", TF_UMASK, "[store]\nurl = lmdb:%s/store\n[users]\nfile = %s/users\n"
                 "[tokens]\nkey_file = %s/no-such-keys\n[daemon]\npublic_url = %s/\n",
                 d, d, d, PUBLIC_URL);
    tf_printf_at(d, "services/other", TF_UMASK, "auth required pam_deny.so\n");
    write_service(d, "cp", mod, "main.conf", "method=corppass");
    write_service(d, "cp_noprompt", mod, "main.conf", "method=corppass noprompt noqr");
    write_service(d, "cp_nourl", mod, "nourl.conf", "method=corppass");
    write_service(d, "cp_noring", mod, "noring.conf", "method=corppass");
    write_service(d, "oidc", mod, "main.conf", "method=oidc provider=testidp");
    write_service(d, "oidc_noprov", mod, "main.conf", "method=oidc");
    write_service(d, "cp_mixed", mod, "main.conf", "method=corppass,password");
}

static void reexec(char **argv)
{
    char tmpl[] = "/tmp/ck-test-cp-XXXXXX";
    char *d = mkdtemp(tmpl), svc[4096], asan[1024];
    const char *old = getenv("ASAN_OPTIONS");

    if (!d)
        die("mkdtemp");
    snprintf(svc, sizeof(svc), "%s/services", d);
    mkdir(svc, 0755);
    setup_dir(d);
    snprintf(asan, sizeof(asan), "%s%sverify_asan_link_order=0", old ? old : "",
             old && *old ? ":" : "");
    if (setenv("CK_TEST_DIR", d, 1) != 0 || setenv("PAM_WRAPPER", "1", 1) != 0 ||
        setenv("PAM_WRAPPER_SERVICE_DIR", svc, 1) != 0 ||
        setenv("PAM_WRAPPER_DISABLE_DEEPBIND", "1", 1) != 0 ||
        setenv("UID_WRAPPER_DISABLE_DEEPBIND", "1", 1) != 0 ||
        setenv("LD_PRELOAD", "libpam_wrapper.so", 1) != 0 ||
        setenv("ASAN_OPTIONS", asan, 1) != 0)
        die("setenv");
    execv("/proc/self/exe", argv);
    die("execv");
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ---- checkupd's part ------------------------------------------------------ */

static int other_section(void *ud, const char *section, const char *name, const char *value,
                         int lineno, char *err, size_t errlen)
{
    (void)ud; (void)section; (void)name; (void)value; (void)lineno; (void)err; (void)errlen;
    return 1;
}

static ck_store *open_store(ck_config *cfg)
{
    char path[4096], err[512];
    ck_store *st;

    snprintf(path, sizeof(path), "%s/main.conf", dir);
    ck_config_defaults(cfg);
    if (ck_config_load(cfg, path, other_section, NULL, err, sizeof(err)) != 0)
        fail_msg("config: %s", err);
    st = ck_store_open(cfg, err, sizeof(err));
    if (!st)
        fail_msg("store: %s", err);
    return st;
}

typedef enum who {
    ID_ALICE_UUID,      /* alice's UUID, in upper case */
    ID_BOB_ENTITY,      /* bob's ENTITY/USER */
    ID_CAROL,           /* a disabled account */
    ID_NOBODY,          /* maps to no one */
    ID_DAVE_EMAIL,      /* generic OIDC: by email */
    ID_PROVIDER_FAILS   /* checkupd records a failure: the provider timed out */
} who;

static void identity(who w, ck_terminal_identity *id)
{
    memset(id, 0, sizeof(*id));
    snprintf(id->sub, sizeof(id->sub), "sub-%d", (int)w);
    snprintf(id->idp_sid, sizeof(id->idp_sid), "idp-sid-%d", (int)w);
    switch (w) {
    case ID_ALICE_UUID:
        snprintf(id->cp_uuid, sizeof(id->cp_uuid), "0B5D9C1E-7F11-4A55-9A3C-1F2E3D4C5B6A");
        snprintf(id->cp_entity_id, sizeof(id->cp_entity_id), "T09LL0001B");
        snprintf(id->cp_user_id, sizeof(id->cp_user_id), "CPALICE");
        break;
    case ID_BOB_ENTITY:
        snprintf(id->cp_entity_id, sizeof(id->cp_entity_id), "T09LL0001B");
        snprintf(id->cp_user_id, sizeof(id->cp_user_id), "CPBOB");
        break;
    case ID_CAROL:
        snprintf(id->cp_uuid, sizeof(id->cp_uuid), "%s", UUID_CAROL);
        break;
    case ID_NOBODY:
        snprintf(id->cp_uuid, sizeof(id->cp_uuid), "11111111-2222-4333-8444-555555555555");
        snprintf(id->email, sizeof(id->email), "nobody@example.org");
        break;
    case ID_DAVE_EMAIL:
        snprintf(id->email, sizeof(id->email), "DAVE@example.org");
        break;
    case ID_PROVIDER_FAILS:
        break;
    }
}

static ck_status complete(const char *code, who w)
{
    ck_terminal_identity id;
    ck_config cfg;
    ck_store *st = open_store(&cfg);
    ck_status s;

    identity(w, &id);
    s = w == ID_PROVIDER_FAILS ? ck_terminal_fail(st, code, "provider_timeout")
                               : ck_terminal_complete(st, code, &id);
    ck_store_close(st);
    ck_config_free(&cfg);
    return s;
}

static ck_status lookup(const char *code, ck_terminal *t)
{
    ck_config cfg;
    ck_store *st = open_store(&cfg);
    ck_status s = ck_terminal_lookup(st, code, t);

    ck_store_close(st);
    ck_config_free(&cfg);
    return s;
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

/* ---- the conversation ------------------------------------------------------ */

typedef enum when {
    AT_ENTER,           /* complete when asked to press Enter, then answer */
    LATER,              /* a child completes 1.5 s after the link is shown */
    NEVER,              /* the user walks away */
    REFUSE_PROMPT       /* the conversation cannot ask anything */
} when;

typedef struct tconv {
    when when;
    who who;
    char code[CK_TERMINAL_CODE_LEN];
    char info[8192];
    char errors[2048];
    int prompts;
    int secret_prompts;
    ck_status completed;        /* what ck_terminal_complete answered */
    ck_terminal seen;           /* lookup before completing (checkupd's /t/) */
    double t_enter;             /* when the first Enter was answered */
    pid_t child;
} tconv;

static void take_code(tconv *tc, const char *msg)
{
    const char *p = strstr(msg, PUBLIC_URL "/t/");

    if (!p || tc->code[0])
        return;
    snprintf(tc->code, sizeof(tc->code), "%.*s", CK_TERMINAL_CODE_CHARS,
             p + strlen(PUBLIC_URL "/t/"));
}

static void complete_later(tconv *tc)
{
    tc->child = fork();
    assert_true(tc->child >= 0);
    if (tc->child == 0) {
        sleep_ms(1500);
        _exit(complete(tc->code, tc->who) == CK_OK ? 0 : 1);
    }
}

static void on_prompt(tconv *tc)
{
    if (tc->prompts++ == 0)
        tc->t_enter = now_s();
    if (tc->when == AT_ENTER && tc->prompts == 1) {
        tc->completed = lookup(tc->code, &tc->seen);
        if (tc->completed == CK_OK)
            tc->completed = complete(tc->code, tc->who);
    }
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *ud)
{
    tconv *tc = ud;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));

    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        switch (msg[i]->msg_style) {
        case PAM_TEXT_INFO:
            snprintf(tc->info + strlen(tc->info), sizeof(tc->info) - strlen(tc->info),
                     "%s\n", msg[i]->msg);
            take_code(tc, msg[i]->msg);
            if (tc->when == LATER && tc->code[0] && !tc->child)
                complete_later(tc);
            break;
        case PAM_ERROR_MSG:
            snprintf(tc->errors + strlen(tc->errors), sizeof(tc->errors) - strlen(tc->errors),
                     "%s\n", msg[i]->msg);
            break;
        case PAM_PROMPT_ECHO_ON:
            on_prompt(tc);
            if (tc->when == REFUSE_PROMPT || tc->prompts > 30) {
                free(r);
                return PAM_CONV_ERR;
            }
            r[i].resp = strdup("");
            break;
        default:
            /* No terminal login asks for a secret. */
            tc->secret_prompts++;
            free(r);
            return PAM_CONV_ERR;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

static void reap(tconv *tc)
{
    int ws = 0;

    if (tc->child <= 0)
        return;
    assert_int_equal(waitpid(tc->child, &ws, 0), tc->child);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    tc->child = 0;
}

/* One authenticate (+ account) on a handle of our own; PAM_USER may be NULL. */
static int try_login(const char *svc, const char *user, tconv *tc, char *user_out,
                     size_t ulen)
{
    struct pam_conv pc = { conv, tc };
    pam_handle_t *ph = NULL;
    const void *item = NULL;
    int rc;

    assert_int_equal(pam_start(svc, user, &pc, &ph), PAM_SUCCESS);
    assert_int_equal(pam_set_item(ph, PAM_RHOST, "192.0.2.30"), PAM_SUCCESS);
    rc = pam_authenticate(ph, 0);
    if (rc == PAM_SUCCESS)
        rc = pam_acct_mgmt(ph, 0);
    if (user_out) {
        assert_int_equal(pam_get_item(ph, PAM_USER, &item), PAM_SUCCESS);
        snprintf(user_out, ulen, "%s", item ? (const char *)item : "");
    }
    assert_int_equal(pam_end(ph, rc), PAM_SUCCESS);
    reap(tc);
    return rc;
}

static char *read_audit(void)
{
    char path[4096];
    char *buf = calloc(1, 1 << 20);
    size_t n = 0;
    FILE *f;

    assert_non_null(buf);
    snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
    f = fopen(path, "r");
    if (f) {
        n = fread(buf, 1, (1 << 20) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

/* Every line of the QR code fits 80 columns (one column per code point). */
static void assert_fits_80(const char *text)
{
    int cols = 0, qr_rows = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n') {
            cols = 0;
            continue;
        }
        if ((*p & 0xc0) != 0x80)
            cols++;
        if (*p == 0xe2)
            qr_rows++;
        assert_true(cols <= 80);
    }
    assert_true(qr_rows > 100);   /* a QR code was drawn at all */
}

/* ---- tests -------------------------------------------------------------- */

static void test_corppass_success(void **state)
{
    tconv tc = { .when = AT_ENTER, .who = ID_ALICE_UUID };
    struct pam_testcase tests[] = {
        pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
        pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
        pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
        pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
    };
    char path[4096], err[512], sid[CK_SID_LEN];
    const char *token = NULL;
    ck_keyring *ring = NULL;
    ck_session s;
    ck_config cfg;
    ck_store *st;
    char *audit;

    (void)state;
    assert_int_equal(_pamtest_conv("cp", "alice", conv, &tc, tests, 4, NULL), PAMTEST_ERR_OK);
    assert_int_equal(tc.completed, CK_OK);
    assert_string_equal(tc.seen.provider, "corppass");
    assert_int_equal(tc.prompts, 1);
    assert_int_equal(tc.secret_prompts, 0);
    assert_non_null(strstr(tc.info, "Log in with CorpPass in a browser: open "
                                    PUBLIC_URL "/t/"));
    assert_fits_80(tc.info);
    for (char **e = tests[3].case_out.envlist; e && *e; e++) {
        if (strncmp(*e, "CHECKUP_SESSION=", 16) == 0)
            token = *e + 16;
    }
    if (!token)
        fail_msg("no CHECKUP_SESSION in the PAM environment");
    /* The session is a CorpPass one, with the provider's session id. */
    snprintf(path, sizeof(path), "%s/keys", dir);
    assert_int_equal(ck_keyring_load(path, 1, &ring, err, sizeof(err)), 0);
    assert_int_equal(ck_token_verify(ring, token, strlen(token), ck_now(), sid, NULL, NULL),
                     CK_TOKEN_OK);
    st = open_store(&cfg);
    assert_int_equal(ck_store_get(st, sid, &s), CK_OK);
    assert_string_equal(s.user_id, "alice@example.org");
    assert_int_equal(s.method, CK_AUTH_CORPPASS);
    assert_string_equal(s.idp_sid, "idp-sid-0");
    ck_store_close(st);
    ck_config_free(&cfg);
    ck_keyring_free(ring);
    audit = read_audit();
    assert_non_null(strstr(audit, "\"event\":\"login_success\""));
    assert_non_null(strstr(audit, "\"method\":\"corppass\""));
    /* The code is a bearer secret while it lives: never in the audit trail. */
    assert_null(strstr(audit, tc.code));
    assert_null(strstr(audit, token));
    free(audit);
    pamtest_free_env(tests[3].case_out.envlist);
}

/* Enter checks at once: no wait for the next poll. */
static void test_enter_checks_at_once(void **state)
{
    tconv tc = { .when = AT_ENTER, .who = ID_ALICE_UUID };
    double t_end;

    (void)state;
    assert_int_equal(try_login("cp", "alice", &tc, NULL, 0), PAM_SUCCESS);
    t_end = now_s();
    assert_int_equal(tc.prompts, 1);
    assert_true(t_end - tc.t_enter < 0.9);
}

/* The module polls while the browser login finishes. */
static void test_completed_while_polling(void **state)
{
    tconv tc = { .when = LATER, .who = ID_ALICE_UUID };
    tconv np = { .when = LATER, .who = ID_BOB_ENTITY };
    double t0 = now_s();

    (void)state;
    assert_int_equal(try_login("cp", "alice", &tc, NULL, 0), PAM_SUCCESS);
    assert_true(now_s() - t0 >= 1.4);
    assert_int_equal(tc.prompts, 1);
    /* noprompt: only polling, nothing is asked. */
    assert_int_equal(try_login("cp_noprompt", "bob", &np, NULL, 0), PAM_SUCCESS);
    assert_int_equal(np.prompts, 0);
    /* noqr: the link alone. */
    assert_null(strstr(np.info, "\xe2\x96"));
}

/* With PAM_USER empty, the login names the account. */
static void test_empty_user_is_set(void **state)
{
    tconv tc = { .when = AT_ENTER, .who = ID_BOB_ENTITY };
    char user[256];

    (void)state;
    assert_int_equal(try_login("cp", NULL, &tc, user, sizeof(user)), PAM_SUCCESS);
    assert_string_equal(user, "bob");
}

static void test_unmapped_refused(void **state)
{
    tconv tc = { .when = AT_ENTER, .who = ID_NOBODY };
    char *audit;

    (void)state;
    assert_int_equal(try_login("cp", "alice", &tc, NULL, 0), PAM_AUTH_ERR);
    assert_int_equal(tc.completed, CK_OK);
    assert_non_null(strstr(tc.errors, "not linked to a checkup account"));
    audit = read_audit();
    assert_non_null(strstr(audit, "identity_not_mapped"));
    free(audit);
}

static void test_other_user_refused(void **state)
{
    tconv tc = { .when = AT_ENTER, .who = ID_BOB_ENTITY };
    char *audit;

    (void)state;
    assert_int_equal(try_login("cp", "alice@example.org", &tc, NULL, 0), PAM_AUTH_ERR);
    assert_non_null(strstr(tc.errors, "belongs to another account"));
    audit = read_audit();
    assert_non_null(strstr(audit, "user_mismatch"));
    free(audit);
}

static void test_disabled_refused(void **state)
{
    tconv tc = { .when = AT_ENTER, .who = ID_CAROL };

    (void)state;
    assert_int_equal(try_login("cp", "carol", &tc, NULL, 0), PAM_AUTH_ERR);
    assert_non_null(strstr(tc.errors, "disabled"));
}

static void test_abandoned(void **state)
{
    tconv tc = { .when = NEVER };
    tconv np = { .when = NEVER };
    ck_terminal t;
    double t0 = now_s(), took;

    (void)state;
    assert_int_equal(try_login("cp", "alice", &tc, NULL, 0), PAM_AUTH_ERR);
    took = now_s() - t0;
    assert_true(took >= TTL - 1 && took < TTL + 5);
    assert_non_null(strstr(tc.errors, "not completed within 3 seconds"));
    assert_int_equal(lookup(tc.code, &t), CK_NOT_FOUND);
    assert_int_equal(complete(tc.code, ID_ALICE_UUID), CK_NOT_FOUND);
    t0 = now_s();
    assert_int_equal(try_login("cp_noprompt", "alice", &np, NULL, 0), PAM_AUTH_ERR);
    took = now_s() - t0;
    assert_true(took >= TTL - 1 && took < TTL + 5);
    assert_int_equal(np.prompts, 0);
    assert_non_null(strstr(np.errors, "not completed within"));
}

/* The browser half failed: the terminal is told at once, and one login_failure says why. */
static void test_browser_failed(void **state)
{
    tconv tc = { .when = AT_ENTER, .who = ID_PROVIDER_FAILS };
    char *audit, *p;
    int n = 0;
    double took, t0 = now_s();

    (void)state;
    assert_int_equal(try_login("cp", "alice", &tc, NULL, 0), PAM_AUTH_ERR);
    took = now_s() - t0;
    assert_int_equal(tc.completed, CK_OK);
    assert_true(took < TTL - 1);    /* not left to run out */
    assert_non_null(strstr(tc.errors, "The CorpPass login failed (provider_timeout)"));
    audit = read_audit();
    for (p = audit; (p = strstr(p, "\"reason\":\"provider_timeout\"")); p++)
        n++;
    assert_int_equal(n, 1);
    p = strstr(audit, "\"reason\":\"provider_timeout\"");
    while (p > audit && p[-1] != '\n')
        p--;
    assert_true(strncmp(strstr(p, "\"event\":"), "\"event\":\"login_failure\"", 23) == 0);
    free(audit);
}

/* A conversation that cannot prompt ends the login and its record at once. */
static void test_conversation_gone(void **state)
{
    tconv tc = { .when = REFUSE_PROMPT };
    ck_terminal t;

    (void)state;
    assert_int_equal(try_login("cp", "alice", &tc, NULL, 0), PAM_CONV_ERR);
    assert_int_equal(strlen(tc.code), CK_TERMINAL_CODE_CHARS);
    assert_int_equal(lookup(tc.code, &t), CK_NOT_FOUND);
}

/* A code completes once, and its result serves one login. */
static void test_code_once(void **state)
{
    tconv tc = { .when = AT_ENTER, .who = ID_ALICE_UUID };

    (void)state;
    assert_int_equal(try_login("cp", "alice", &tc, NULL, 0), PAM_SUCCESS);
    assert_int_equal(complete(tc.code, ID_ALICE_UUID), CK_NOT_FOUND);
    assert_int_equal(complete(tc.code, ID_BOB_ENTITY), CK_NOT_FOUND);
}

static void test_oidc_by_email(void **state)
{
    tconv tc = { .when = AT_ENTER, .who = ID_DAVE_EMAIL };
    tconv cp = { .when = AT_ENTER, .who = ID_DAVE_EMAIL };

    (void)state;
    assert_int_equal(try_login("oidc", "dave", &tc, NULL, 0), PAM_SUCCESS);
    assert_string_equal(tc.seen.provider, "testidp");
    assert_non_null(strstr(tc.info, "Log in with testidp"));
    /* CorpPass maps by its own identifiers, never by an email. */
    assert_int_equal(try_login("cp", "dave", &cp, NULL, 0), PAM_AUTH_ERR);
}

static void test_bad_setup(void **state)
{
    tconv a = { .when = AT_ENTER }, b = { .when = AT_ENTER }, c = { .when = AT_ENTER };

    (void)state;
    assert_int_equal(try_login("oidc_noprov", "dave", &a, NULL, 0), PAM_SERVICE_ERR);
    assert_int_equal(try_login("cp_mixed", "alice", &b, NULL, 0), PAM_SERVICE_ERR);
    assert_int_equal(try_login("cp_nourl", "alice", &c, NULL, 0), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(a.prompts + b.prompts + c.prompts, 0);
    assert_string_equal(c.code, "");
}

/* An unusable key ring refuses the terminal login before it shows a link. */
static void test_no_key_ring(void **state)
{
    tconv a = { .when = AT_ENTER };

    (void)state;
    assert_int_equal(try_login("cp_noring", "alice", &a, NULL, 0), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(a.prompts, 0);
    assert_string_equal(a.code, "");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corppass_success),
        cmocka_unit_test(test_enter_checks_at_once),
        cmocka_unit_test(test_completed_while_polling),
        cmocka_unit_test(test_empty_user_is_set),
        cmocka_unit_test(test_unmapped_refused),
        cmocka_unit_test(test_other_user_refused),
        cmocka_unit_test(test_disabled_refused),
        cmocka_unit_test(test_no_key_ring),
        cmocka_unit_test(test_abandoned),
        cmocka_unit_test(test_browser_failed),
        cmocka_unit_test(test_conversation_gone),
        cmocka_unit_test(test_code_once),
        cmocka_unit_test(test_oidc_by_email),
        cmocka_unit_test(test_bad_setup),
    };
    int rc;

    dir = getenv("CK_TEST_DIR");
    if (!dir)
        reexec(argv);
    rc = cmocka_run_group_tests_name(getenv("CK_TEST_STORE_URL") ? "pam corppass (redis)"
                                                                  : "pam corppass (lmdb)",
                                     tests, NULL, NULL);
    if (!getenv("CK_TEST_KEEP"))
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
