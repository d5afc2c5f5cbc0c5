/* SPDX-License-Identifier: BSD-3-Clause */
/* The users file: format, escaping, lookups, passwords, safe rewrite. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/capability.h>

#include "ck_users.h"

#define H "$y$j9T$i9v21x0AhYPEt2SvjpDd./$74O04NM.paqeHZDefKTuyLAdvVKJCE/GIMhyq.9Y.m1"

static int parse(const char *text, ck_users *u, char *err, size_t errlen)
{
    return ck_users_parse(text, strlen(text), "users", u, err, errlen);
}

static void test_parse_good(void **state)
{
    ck_users u;
    char err[512];
    const ck_user *a;

    (void)state;
    assert_int_equal(parse("#checkup-users 1\n"
                           "# a comment\n"
                           "\n"
                           "alice@example.org:" H ":doctor:clinic-7:alice::\n"
                           "bob@example.org:!:admin:::disabled:s=S1234567A%2Cu=CP1%3Ac=SG\r\n",
                           &u, err, sizeof(err)), 0);
    assert_int_equal(u.count, 2);
    a = ck_users_find(&u, "ALICE@Example.org");
    assert_non_null(a);
    assert_string_equal(a->role, "doctor");
    assert_string_equal(a->clinic_id, "clinic-7");
    assert_ptr_equal(ck_users_find(&u, "alice"), a);
    assert_null(ck_users_find(&u, "Alice"));     /* local names are exact */
    a = ck_users_find(&u, "bob@example.org");
    assert_non_null(a);
    assert_true(a->disabled);
    assert_string_equal(a->corppass, "s=S1234567A,u=CP1:c=SG");
    assert_null(ck_users_find(&u, "carol@example.org"));
    assert_null(ck_users_find(&u, ""));
    ck_users_free(&u);
}

static void test_parse_errors(void **state)
{
    static const struct { const char *text; const char *want; } cases[] = {
        { "", "empty" },
        { "alice@example.org:" H ":doctor::::\n", ":1: not a checkup users file" },
        { "#checkup-users 2\n", "not a checkup users file" },
        { "#checkup-users 1\nalice@example.org:" H ":doctor\n", ":2: expected 7" },
        { "#checkup-users 1\na@b:" H ":r:::::x\n", "more than 7" },
        { "#checkup-users 1\na@b:" H ":r:%4:::\n", "two hex digits" },
        { "#checkup-users 1\na@b:" H ":r:%0A:::\n", "control character" },
        { "#checkup-users 1\na@b:" H ":r:\t:::\n", "control character" },
        { "#checkup-users 1\na@b:" H ":r:::frozen:\n", "unknown flag" },
        { "#checkup-users 1\nnot-an-email:" H ":r::::\n", "email" },
        { "#checkup-users 1\na@b:" H ":::::\n", "role" },
        { "#checkup-users 1\na@b:" H ":r::-rf::\n", "local account" },
        { "#checkup-users 1\na@b:" H ":r:\xff:::\n", "UTF-8" },
        { "#checkup-users 1\na@b:" H ":r::x::\nA@B:" H ":r::y::\n", ":3: email" },
        { "#checkup-users 1\na@b:" H ":r::x::\nc@d:" H ":r::x::\n", "local account x" },
    };
    ck_users u;
    char err[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        assert_int_equal(parse(cases[i].text, &u, err, sizeof(err)), -1);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' does not mention '%s'", i, err, cases[i].want);
        assert_null(u.items);
    }
}

static void test_nul_and_long_lines(void **state)
{
    const char text[] = "#checkup-users 1\na@b:!:r::::\0junk\n";
    char *big = malloc(10000);
    ck_users u;
    char err[512];

    (void)state;
    assert_int_equal(ck_users_parse(text, sizeof(text) - 1, "users", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "NUL"));
    snprintf(big, 10000, "#checkup-users 1\n");
    memset(big + strlen(big), 'x', 9000);
    big[9000] = '\0';
    assert_int_equal(parse(big, &u, err, sizeof(err)), -1);
    free(big);
}

static void test_format_roundtrip(void **state)
{
    ck_users u, back;
    ck_user one;
    char err[512], *text;
    size_t len;

    (void)state;
    memset(&one, 0, sizeof(one));
    snprintf(one.email, sizeof(one.email), "x@example.org");
    snprintf(one.hash, sizeof(one.hash), "%s", H);
    snprintf(one.role, sizeof(one.role), "nurse:senior");
    snprintf(one.clinic_id, sizeof(one.clinic_id), "100%% ok");
    snprintf(one.corppass, sizeof(one.corppass), "s=S1,u=2,c=SG");
    one.disabled = 1;
    u.count = 1;
    u.items = &one;
    text = ck_users_format(&u, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "nurse%3Asenior"));
    assert_non_null(strstr(text, "100%25 ok"));
    assert_int_equal(ck_users_parse(text, len, "users", &back, err, sizeof(err)), 0);
    assert_int_equal(back.count, 1);
    assert_memory_equal(&back.items[0], &one, sizeof(one));
    ck_users_free(&back);
    free(text);
}

static void test_passwords(void **state)
{
    ck_users u;
    ck_user *a;
    char err[512];

    (void)state;
    assert_int_equal(parse("#checkup-users 1\na@b:!:r::::\nc@d:*:r::::\n", &u, err,
                           sizeof(err)), 0);
    a = &u.items[0];
    assert_int_equal(ck_password_hash("s3cret pass", a->hash, sizeof(a->hash), err,
                                      sizeof(err)), 0);
    assert_memory_equal(a->hash, "$y$", 3);
    assert_int_equal(ck_password_verify(&u, a, "s3cret pass", CK_HASH_LOW), 1);
    assert_int_equal(ck_password_verify(&u, a, "s3cret pas", CK_HASH_LOW), 0);
    assert_int_equal(ck_password_verify(&u, a, "", CK_HASH_LOW), 0);
    assert_int_equal(ck_password_verify(&u, NULL, "s3cret pass", CK_HASH_LOW), 0);
    /* "*" is no password: nothing matches it, not even "*". */
    assert_int_equal(ck_password_verify(&u, &u.items[1], "*", CK_HASH_LOW), 0);
    assert_int_equal(ck_password_verify(&u, &u.items[1], "", CK_HASH_LOW), 0);
    ck_users_free(&u);
}

/*
 * The hash's own thread ("ck-hash") runs at the priority asked for, seen
 * from outside in /proc: SCHED_IDLE (policy 5), or 10 steps nicer than
 * the caller (at most 19: the test may run niced); the caller's own
 * priority stays as it was.
 */
typedef struct watch {
    volatile int stop;
    int nicer;                  /* the caller's niceness + 10, at most 19 */
    int saw_idle, saw_nicer;
} watch;

static void watch_init(watch *w)
{
    int nice;

    errno = 0;
    nice = getpriority(PRIO_PROCESS, 0);
    assert_int_equal(errno, 0);
    memset(w, 0, sizeof(*w));
    w->nicer = nice + 10 < 19 ? nice + 10 : 19;
}

static void *watch_threads(void *arg)
{
    watch *w = arg;
    char path[300], buf[1024];

    while (!w->stop) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;

        while (d && (e = readdir(d))) {
            FILE *f;
            char *p, *save = NULL;
            int field = 2;
            long nice = 0, policy = 0;

            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
            f = fopen(path, "r");
            if (!f)
                continue;
            p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
            fclose(f);
            if (!p || !strstr(buf, " (ck-hash)"))
                continue;
            /* after "pid (comm)": field 19 is nice, field 41 the policy */
            for (p = p ? strtok_r(p + 1, " ", &save) : NULL; p; p = strtok_r(NULL, " ", &save)) {
                field++;
                if (field == 19)
                    nice = atol(p);
                else if (field == 41)
                    policy = atol(p);
            }
            w->saw_idle |= policy == SCHED_IDLE;
            w->saw_nicer |= policy == SCHED_OTHER && nice == w->nicer;
        }
        if (d)
            closedir(d);
    }
    return NULL;
}

/*
 * Whether a thread of this process may leave SCHED_IDLE again, asked of
 * the kernel: the answer the hash's promotion gets.
 */
static void *try_leave_idle(void *arg)
{
    struct sched_param sp = { 0 };

    *(int *)arg = sched_setscheduler(0, SCHED_IDLE, &sp) == 0 &&
                  sched_setscheduler(0, SCHED_OTHER, &sp) == 0;
    return NULL;
}

static int may_leave_idle(void)
{
    pthread_t t;
    int may = -1;

    assert_int_equal(pthread_create(&t, NULL, try_leave_idle, &may), 0);
    pthread_join(t, NULL);
    return may;
}

/*
 * Each priority is checked twice: as the test runs (root on a host: may
 * leave SCHED_IDLE), and as in a container or a service user, without
 * CAP_SYS_NICE and with an RLIMIT_NICE of 0. The capability is dropped
 * from this thread's effective set only (threads it makes inherit that)
 * and taken back from the permitted set afterwards.
 */
typedef struct nice_rights {
    struct __user_cap_header_struct hdr;
    struct __user_cap_data_struct caps[2];
    struct rlimit rl;
} nice_rights;

static void drop_nice_rights(nice_rights *saved)
{
    struct __user_cap_data_struct caps[2];
    struct rlimit none;

    saved->hdr.version = _LINUX_CAPABILITY_VERSION_3;
    saved->hdr.pid = 0;
    assert_int_equal(syscall(SYS_capget, &saved->hdr, saved->caps), 0);
    memcpy(caps, saved->caps, sizeof(caps));
    caps[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~CAP_TO_MASK(CAP_SYS_NICE);
    assert_int_equal(syscall(SYS_capset, &saved->hdr, caps), 0);
    assert_int_equal(getrlimit(RLIMIT_NICE, &saved->rl), 0);
    none = saved->rl;
    none.rlim_cur = 0;
    assert_int_equal(setrlimit(RLIMIT_NICE, &none), 0);
}

static void restore_nice_rights(nice_rights *saved)
{
    assert_int_equal(syscall(SYS_capset, &saved->hdr, saved->caps), 0);
    assert_int_equal(setrlimit(RLIMIT_NICE, &saved->rl), 0);
}

static void check_hash_priorities(const ck_users *u, const ck_user *a, int may)
{
    for (int prio = CK_HASH_LOW; prio <= CK_HASH_IDLE_POOLED; prio++) {
        watch w;
        pthread_t t;
        int ok = 1, idle = prio == CK_HASH_IDLE_POOLED || (prio == CK_HASH_IDLE && may);

        watch_init(&w);
        assert_int_equal(pthread_create(&t, NULL, watch_threads, &w), 0);
        /* a few hashes, so that the watcher sees one under way */
        for (int i = 0; i < 5; i++)
            ok &= ck_password_verify(u, a, "pw", (ck_hash_priority)prio);
        w.stop = 1;
        pthread_join(t, NULL);
        assert_true(ok);
        assert_int_equal(w.saw_idle, idle);
        /* (an idle hash that a loaded machine starves goes on nicer: see below) */
        if (!idle)
            assert_true(w.saw_nicer);
        assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
    }
}

/*
 * check(users, user, may) as the test runs, then without the rights to
 * move a thread out of SCHED_IDLE (may is what the kernel answers).
 */
static void with_and_without_nice_rights(void (*check)(const ck_users *, const ck_user *, int))
{
    nice_rights saved;
    ck_users u;
    char err[512];

    assert_int_equal(parse("#checkup-users 1\na@b:!:r::::\n", &u, err, sizeof(err)), 0);
    assert_int_equal(ck_password_hash("pw", u.items[0].hash, sizeof(u.items[0].hash),
                                      err, sizeof(err)), 0);
    check(&u, &u.items[0], may_leave_idle());
    drop_nice_rights(&saved);
    assert_int_equal(may_leave_idle(), 0);
    check(&u, &u.items[0], 0);
    restore_nice_rights(&saved);
    ck_users_free(&u);
}

static void test_hash_priority(void **state)
{
    (void)state;
    with_and_without_nice_rights(check_hash_priorities);
}

static volatile int spin_stop;
static struct timespec spin_until;

static void *spin(void *arg)
{
    struct timespec now;

    (void)arg;
    while (!spin_stop) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > spin_until.tv_sec ||
            (now.tv_sec == spin_until.tv_sec && now.tv_nsec >= spin_until.tv_nsec))
            break;
    }
    return NULL;
}

/*
 * One hash while threads at the caller's priority spin, for seconds at
 * most. The caller, the spinners and so the hash thread (it inherits the
 * caller's) are held to one processor: the load balancer may otherwise
 * leave the hash a processor of its own for tens of milliseconds, enough
 * to finish. SCHED_IDLE is a weight (3) below nice 19's (15), not an
 * absolute, so a niced test needs more spinners to starve the hash past
 * its grace: enough for a load weight of about 230 (one at nice 0, whose
 * weight is 1024; each nice step is a factor 1.25).
 */
static int hash_under_spinners(const ck_users *u, const ck_user *a, ck_hash_priority prio,
                               int seconds, watch *w)
{
    pthread_t spinners[32], t;
    cpu_set_t all, one;
    double weight = 1024;
    long n;
    int ok, cpu = 0;

    for (int nice = getpriority(PRIO_PROCESS, 0); nice > 0; nice--)
        weight /= 1.25;
    n = (long)(230 / weight) + 1;
    assert_true(n <= 32);
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof(all), &all), 0);
    while (!CPU_ISSET(cpu, &all))
        cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    clock_gettime(CLOCK_MONOTONIC, &spin_until);
    spin_until.tv_sec += seconds;
    spin_stop = 0;
    assert_int_equal(pthread_create(&t, NULL, watch_threads, w), 0);
    assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
    for (long i = 0; i < n; i++)
        assert_int_equal(pthread_create(&spinners[i], NULL, spin, NULL), 0);
    ok = ck_password_verify(u, a, "pw", prio);
    assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof(all), &all), 0);
    w->stop = 1;
    spin_stop = 1;
    pthread_join(t, NULL);
    for (long i = 0; i < n; i++)
        pthread_join(spinners[i], NULL);
    return ok;
}

/*
 * Work at normal priority on its processor starves a SCHED_IDLE hash.
 * CK_HASH_IDLE: after its grace it goes on 10 steps nicer where the process
 * may move it (root, as sshd is), and runs so from the start where
 * it may not; either way it ends while the work goes on (the spinners stop
 * by themselves after 60 s only so that a failure cannot hang).
 * CK_HASH_IDLE_POOLED stays idle where it cannot be moved, and ends once
 * the work stops (here after 1 s).
 */
static void check_not_starved(const ck_users *u, const ck_user *a, int may)
{
    watch w, pooled;

    watch_init(&w);
    watch_init(&pooled);
    assert_true(hash_under_spinners(u, a, CK_HASH_IDLE, 60, &w));
    assert_int_equal(w.saw_idle, may);
    assert_true(w.saw_nicer);
    assert_true(hash_under_spinners(u, a, CK_HASH_IDLE_POOLED, may ? 60 : 1, &pooled));
    assert_true(pooled.saw_idle);
    assert_int_equal(pooled.saw_nicer, may);
}

static void test_idle_hash_not_starved(void **state)
{
    (void)state;
    with_and_without_nice_rights(check_not_starved);
}

/* The limit checkup states is the one yescrypt keeps: 511 bytes hash, 512 do not. */
static void test_password_limit(void **state)
{
    ck_users u;
    char pw[CK_PASSWORD_HASH_MAX + 2], hash[CK_HASH_MAX], err[512];

    (void)state;
    assert_int_equal(parse("#checkup-users 1\na@b:!:r::::\n", &u, err, sizeof(err)), 0);
    memset(pw, 'x', CK_PASSWORD_HASH_MAX);
    pw[CK_PASSWORD_HASH_MAX] = '\0';
    assert_int_equal(ck_password_hash(pw, hash, sizeof(hash), err, sizeof(err)), 0);
    snprintf(u.items[0].hash, sizeof(u.items[0].hash), "%s", hash);
    assert_int_equal(ck_password_verify(&u, &u.items[0], pw, CK_HASH_LOW), 1);
    pw[CK_PASSWORD_HASH_MAX] = 'x';
    pw[CK_PASSWORD_HASH_MAX + 1] = '\0';
    assert_int_equal(ck_password_hash(pw, hash, sizeof(hash), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer than 511 bytes"));
    assert_int_equal(ck_password_verify(&u, &u.items[0], pw, CK_HASH_LOW), 0);
    ck_users_free(&u);
}

static void test_add_and_modes(void **state)
{
    char dir[] = "/tmp/ck-test-users-XXXXXX", path[256], lock[300], err[512];
    ck_user one;
    ck_users u;
    struct stat sb;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/users", dir);
    snprintf(lock, sizeof(lock), "%s.lock", path);
    memset(&one, 0, sizeof(one));
    snprintf(one.email, sizeof(one.email), "a@example.org");
    snprintf(one.hash, sizeof(one.hash), "!");
    snprintf(one.role, sizeof(one.role), "doctor");
    snprintf(one.local_user, sizeof(one.local_user), "a");
    assert_int_equal(ck_users_add(path, &one, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* Same email (any case) or the same local name: refused. */
    snprintf(one.email, sizeof(one.email), "A@EXAMPLE.ORG");
    assert_int_equal(ck_users_add(path, &one, err, sizeof(err)), -1);
    snprintf(one.email, sizeof(one.email), "b@example.org");
    assert_int_equal(ck_users_add(path, &one, err, sizeof(err)), -1);
    snprintf(one.local_user, sizeof(one.local_user), "b");
    assert_int_equal(ck_users_add(path, &one, err, sizeof(err)), 0);
    assert_int_equal(ck_users_load(path, 1, &u, err, sizeof(err)), 0);
    assert_int_equal(u.count, 2);
    ck_users_free(&u);
    /* A readable-by-others users file is refused with a clear reason. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(ck_users_load(path, 1, &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(ck_users_add(path, &one, err, sizeof(err)), -1);
    assert_int_equal(chmod(path, 0660), 0);
    assert_int_equal(ck_users_load(path, 1, &u, err, sizeof(err)), -1);
    assert_int_equal(ck_users_load(path, 0, &u, err, sizeof(err)), 0);
    ck_users_free(&u);
    unlink(path);
    unlink(lock);
    /* Each edit left the index beside the file. */
    snprintf(lock, sizeof(lock), "%s" CK_USERS_INDEX_SUFFIX, path);
    assert_int_equal(unlink(lock), 0);
    assert_int_equal(ck_users_load(path, 1, &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open"));
    assert_int_equal(rmdir(dir), 0);
}

/*
 * A users file in a sticky directory (/tmp): a lock someone else made
 * first, which they could hold forever, is refused, not waited on.
 */
static void test_lock_of_another(void **state)
{
    char dir[] = "/tmp/ck-test-users-XXXXXX", path[256], lock[300], err[512];
    ck_user one;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 01777), 0);
    snprintf(path, sizeof(path), "%s/users", dir);
    snprintf(lock, sizeof(lock), "%s.lock", path);
    memset(&one, 0, sizeof(one));
    snprintf(one.email, sizeof(one.email), "a@example.org");
    snprintf(one.hash, sizeof(one.hash), "!");
    snprintf(one.role, sizeof(one.role), "doctor");
    assert_int_equal(ck_users_add(path, &one, err, sizeof(err)), 0);
    snprintf(one.email, sizeof(one.email), "b@example.org");
    if (geteuid() == 0) {
        assert_int_equal(chown(lock, 65534, 65534), 0);
        assert_int_equal(ck_users_add(path, &one, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "not a regular file owned by root"));
        assert_int_equal(chown(lock, 0, 0), 0);
    }
    assert_int_equal(unlink(lock), 0);
    assert_int_equal(mkfifo(lock, 0600), 0);
    assert_int_equal(ck_users_add(path, &one, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(unlink(lock), 0);
    assert_int_equal(ck_users_add(path, &one, err, sizeof(err)), 0);
    unlink(lock);
    unlink(path);
    snprintf(lock, sizeof(lock), "%s" CK_USERS_INDEX_SUFFIX, path);
    unlink(lock);
    assert_int_equal(rmdir(dir), 0);
}

/* One mapping for checkupd and the PAM terminal logins. */
static void test_map_identity(void **state)
{
    static const char text[] =
        "#checkup-users 1\n"
        "alice@example.org:!:doctor:c1:alice::0f6a1c2e-9b1d-4f00-8a11-3c2b7e9d0a01\n"
        "bob@example.org:!:nurse:c1:bob::T00000001A/S1234567A\n"
        "carol@example.org:!:admin:::disabled:dup-uuid\n"
        "dave@example.org:!:admin::dave::dup-uuid\n"
        "erin@example.org:!:admin::mallory::\n";
    ck_users u;
    char err[512];
    const ck_user *r = (const ck_user *)&u;
    ck_user_identity id;

    (void)state;
    if (parse(text, &u, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    /* CorpPass by uuid, ASCII case ignored */
    id = (ck_user_identity){ 1, "dave@example.org", "0F6A1C2E-9B1D-4F00-8A11-3C2B7E9D0A01",
                             NULL, NULL };
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_MAPPED);
    assert_string_equal(r->email, "alice@example.org");
    /* CorpPass by entity/CPUID; an email never maps a CorpPass login */
    id = (ck_user_identity){ 1, "alice@example.org", "", "T00000001A", "S1234567A" };
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_MAPPED);
    assert_string_equal(r->email, "bob@example.org");
    id.cp_cpuid = "S1234567";
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_NOT_MAPPED);
    assert_null(r);
    id = (ck_user_identity){ 1, NULL, NULL, "T00000001A/S1234567A", "" };
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_NOT_MAPPED);
    id = (ck_user_identity){ 1, NULL, NULL, "T00000001A", NULL };
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_NOT_MAPPED);
    /* two records with one identity: refused, even when one is disabled */
    r = (const ck_user *)&u;
    id = (ck_user_identity){ 1, NULL, "DUP-UUID", NULL, NULL };
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_AMBIGUOUS);
    assert_null(r);
    /* OIDC by verified email only: not by local name, not by corppass */
    id = (ck_user_identity){ 0, "ALICE@example.ORG", "dup-uuid", NULL, NULL };
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_MAPPED);
    assert_string_equal(r->email, "alice@example.org");
    id.email = "mallory";
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_NOT_MAPPED);
    id.email = "mallory@example.org";
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_NOT_MAPPED);
    id.email = "alice";
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_NOT_MAPPED);
    id.email = "";
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_NOT_MAPPED);
    /* a disabled record still maps: the caller refuses it */
    id.email = "carol@example.org";
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_MAPPED);
    assert_true(r->disabled);
    assert_int_equal(ck_users_map_identity(&u, NULL, &r), CK_USERS_NOT_MAPPED);
    ck_users_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_nul_and_long_lines),
        cmocka_unit_test(test_format_roundtrip),
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_password_limit),
        cmocka_unit_test(test_hash_priority),
        cmocka_unit_test(test_idle_hash_not_starved),
        cmocka_unit_test(test_add_and_modes),
        cmocka_unit_test(test_map_identity),
        cmocka_unit_test(test_lock_of_another),
    };

    return cmocka_run_group_tests_name("users", tests, NULL, NULL);
}
