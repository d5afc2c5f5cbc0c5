/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The embedded LMDB store: environment handling (modes, corrupt files,
 * map full, fork, dead writers and readers), expiry sweeping and metrics,
 * the record format, and two processes writing at once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"
#include "ck_clock.h"
#include "ck_store.h"
#include "lmdb/lmdb_internal.h"
#include "lib/files.h"

static int64_t fake_now = 1700000000;

/* A child that waits to be killed: teardown stops it if a test failed first. */
static pid_t child_pid;

static int64_t fake_clock(void)
{
    return fake_now;
}

typedef struct fixture {
    char dir[64];           /* mkdtemp directory */
    char store[128];        /* dir/db: created by the store itself */
    char url[160];
    ck_config cfg;
    ck_store *st;
} fixture;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void fixture_cfg(fixture *f)
{
    ck_config_defaults(&f->cfg);
    f->cfg.store_url = f->url;
    f->cfg.lmdb_map_size = (size_t)8 << 20;
    f->cfg.command_timeout_ms = 2000;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/ck-lmdb-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->store, sizeof(f->store), "%s/db", f->dir);
    snprintf(f->url, sizeof(f->url), "lmdb:%s", f->store);
    fixture_cfg(f);
    fake_now = 1700000000;
    ck_clock_set(fake_clock);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    if (child_pid > 0) {
        kill(child_pid, SIGKILL);
        waitpid(child_pid, NULL, 0);
        child_pid = 0;
    }
    ck_store_close(f->st);
    ck_clock_set(NULL);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static ck_store *open_store(fixture *f)
{
    char err[512];
    ck_store *st = ck_store_open(&f->cfg, err, sizeof(err));

    if (!st)
        fail_msg("ck_store_open: %s", err);
    return st;
}

static void new_session(ck_session *s, const char *user, ck_auth_method m)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->user_id, sizeof(s->user_id), "%s", user);
    snprintf(s->email, sizeof(s->email), "%s@example.org", user);
    snprintf(s->role, sizeof(s->role), "nurse");
    snprintf(s->service, sizeof(s->service), "sshd");
    s->method = m;
}

static ck_status create(ck_store *st, const char *user, ck_auth_method m, char sid[CK_SID_LEN])
{
    ck_session s;

    new_session(&s, user, m);
    return ck_store_create(st, &s, sid);
}

/* Entries in one of the environment's databases, read with LMDB directly. */
static size_t db_entries(ck_store *st, const char *name)
{
    MDB_env *env = ck_lmdb_test_env(st);
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat ms;

    assert_non_null(env);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &ms), 0);
    mdb_txn_abort(txn);
    return ms.ms_entries;
}

static void read_all(int fd, void *buf, size_t len);
static int wait_exit(pid_t pid);

/* ---- sessions and policy through the backend --------------------------- */

static void test_lifecycle(void **state)
{
    fixture *f = *state;
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session s;
    ck_session_list l;
    size_t n;

    f->st = open_store(f);
    assert_string_equal(ck_store_backend(f->st), "lmdb");
    assert_int_equal(ck_store_ping(f->st), CK_OK);
    assert_int_equal(create(f->st, "alice", CK_AUTH_EMAIL, a), CK_OK);
    assert_int_equal(create(f->st, "alice", CK_AUTH_CORPPASS, b), CK_OK);
    fake_now += 100;
    assert_int_equal(ck_store_touch(f->st, a, &s), CK_OK);
    assert_string_equal(s.user_id, "alice");
    assert_string_equal(s.email, "alice@example.org");
    assert_int_equal(s.last_activity, fake_now);
    assert_int_equal(s.expires, fake_now + 1200);
    assert_int_equal(ck_store_get(f->st, b, &s), CK_OK);
    assert_int_equal(s.method, CK_AUTH_CORPPASS);
    assert_int_equal(s.last_activity, fake_now - 100);
    assert_int_equal(ck_store_list_user(f->st, "alice", &l), CK_OK);
    assert_int_equal(l.count, 2);
    ck_session_list_free(&l);
    assert_int_equal(ck_store_delete(f->st, a), CK_OK);
    assert_int_equal(ck_store_delete(f->st, a), CK_OK);
    assert_int_equal(ck_store_touch(f->st, a, &s), CK_NOT_FOUND);
    assert_int_equal(ck_store_revoke_user(f->st, "alice", &n), CK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ck_store_get(f->st, b, &s), CK_NOT_FOUND);
    assert_int_equal(db_entries(f->st, "sessions"), 0);
    assert_int_equal(db_entries(f->st, "users"), 0);
    assert_int_equal(db_entries(f->st, "expiry"), 0);
}

static void test_idle_and_lifetime(void **state)
{
    fixture *f = *state;
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session s;
    ck_metrics m;

    f->st = open_store(f);
    assert_int_equal(create(f->st, "bob", CK_AUTH_EMAIL, a), CK_OK);
    assert_int_equal(create(f->st, "bob", CK_AUTH_OIDC, b), CK_OK);
    fake_now += 1000;
    assert_int_equal(ck_store_touch(f->st, b, &s), CK_OK);
    /* a was idle 1200 s: ended by touch, before any sweep could see it. */
    fake_now += 200;
    assert_int_equal(ck_store_touch(f->st, a, &s), CK_EXPIRED_IDLE);
    assert_int_equal(ck_store_touch(f->st, a, &s), CK_NOT_FOUND);
    /* b stays active every 1000 s until its 24-hour deadline. */
    fake_now -= 200;
    for (int i = 1; i < 86; i++) {
        fake_now += 1000;
        assert_int_equal(ck_store_touch(f->st, b, &s), CK_OK);
        assert_true(s.expires <= s.deadline);
    }
    fake_now = 1700000000 + 86400;
    assert_int_equal(ck_store_get(f->st, b, &s), CK_EXPIRED_LIFETIME);
    assert_int_equal(ck_store_touch(f->st, b, &s), CK_EXPIRED_LIFETIME);
    assert_int_equal(ck_store_metrics(f->st, &m), CK_OK);
    assert_int_equal(m.created, 2);
    assert_int_equal(m.active, 0);
    assert_int_equal(m.ended_idle, 1);
    assert_int_equal(m.ended_lifetime, 1);
    /* a ended at its expiry (created + 1200), b at its deadline. */
    assert_int_equal(m.duration_sum, 1200 + 86400);
}

static void test_cap_evicts_oldest(void **state)
{
    fixture *f = *state;
    char sid[3][CK_SID_LEN];
    ck_session s;
    ck_metrics m;

    f->cfg.max_per_user = 2;
    f->st = open_store(f);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(create(f->st, "carol", CK_AUTH_EMAIL, sid[i]), CK_OK);
        fake_now += 10;
    }
    assert_int_equal(ck_store_get(f->st, sid[0], &s), CK_NOT_FOUND);
    assert_int_equal(ck_store_get(f->st, sid[1], &s), CK_OK);
    assert_int_equal(ck_store_get(f->st, sid[2], &s), CK_OK);
    assert_int_equal(ck_store_metrics(f->st, &m), CK_OK);
    assert_int_equal(m.active, 2);
    assert_int_equal(m.ended_revoked, 1);
    assert_int_equal(m.duration_sum, 20);
}

static void test_states_and_counters(void **state)
{
    fixture *f = *state;
    void *v;
    size_t len;
    int64_t n;

    f->st = open_store(f);
    assert_int_equal(ck_store_state_put(f->st, "st-1", "hello", 5, 0), CK_OK);
    assert_int_equal(ck_store_state_get(f->st, "st-1", &v, &len), CK_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(v, "hello", 5);
    free(v);
    assert_int_equal(ck_store_state_take(f->st, "st-1", &v, &len), CK_OK);
    free(v);
    assert_int_equal(ck_store_state_take(f->st, "st-1", &v, &len), CK_NOT_FOUND);
    assert_null(v);
    assert_int_equal(ck_store_state_put(f->st, "st-2", "", 0, 60), CK_OK);
    fake_now += 60;
    assert_int_equal(ck_store_state_get(f->st, "st-2", &v, &len), CK_NOT_FOUND);

    assert_int_equal(ck_store_fail_add(f->st, "user:dave", 100, &n), CK_OK);
    assert_int_equal(n, 1);
    fake_now += 50;
    assert_int_equal(ck_store_fail_add(f->st, "user:dave", 100, &n), CK_OK);
    assert_int_equal(n, 2);
    fake_now += 49;
    assert_int_equal(ck_store_fail_count(f->st, "user:dave", &n), CK_OK);
    assert_int_equal(n, 2);
    fake_now += 1;      /* the window started at the first failure */
    assert_int_equal(ck_store_fail_count(f->st, "user:dave", &n), CK_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ck_store_fail_add(f->st, "user:dave", 100, &n), CK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ck_store_fail_reset(f->st, "user:dave"), CK_OK);
    assert_int_equal(ck_store_fail_count(f->st, "user:dave", &n), CK_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ck_store_fail_reset(f->st, "user:nobody"), CK_OK);
}

/* ---- sweeping -------------------------------------------------------------- */

static void test_sweep_counts_expiries(void **state)
{
    fixture *f = *state;
    char sid[CK_SID_LEN], live[CK_SID_LEN];
    size_t removed = 0;
    ck_metrics m;
    int64_t n;
    ck_session s;

    f->st = open_store(f);
    for (int i = 0; i < 10; i++)
        assert_int_equal(create(f->st, i % 2 ? "erin" : "frank", CK_AUTH_EMAIL, sid), CK_OK);
    assert_int_equal(ck_store_state_put(f->st, "pending", "x", 1, 900), CK_OK);
    assert_int_equal(ck_store_fail_add(f->st, "ip:127.0.0.1", 900, &n), CK_OK);
    fake_now += 600;
    /* Expires 600 s after the others: survives the sweep. */
    assert_int_equal(create(f->st, "erin", CK_AUTH_CORPPASS, live), CK_OK);
    fake_now += 600 + CK_STORE_END_GRACE;
    assert_int_equal(ck_store_sweep(f->st, &removed), CK_OK);
    assert_int_equal(removed, 12);
    assert_int_equal(ck_store_sweep(f->st, &removed), CK_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(db_entries(f->st, "sessions"), 1);
    assert_int_equal(db_entries(f->st, "users"), 1);
    assert_int_equal(db_entries(f->st, "expiry"), 1);
    assert_int_equal(db_entries(f->st, "states"), 0);
    assert_int_equal(db_entries(f->st, "fails"), 0);
    assert_int_equal(ck_store_metrics(f->st, &m), CK_OK);
    assert_int_equal(m.created, 11);
    assert_int_equal(m.ended_idle, 10);
    assert_int_equal(m.active, 1);
    assert_int_equal(m.active_by_method[CK_AUTH_CORPPASS], 1);
    assert_int_equal(m.active_by_method[CK_AUTH_EMAIL], 0);
    assert_int_equal(m.duration_sum, 10 * 1200);
    assert_int_equal(ck_store_get(f->st, live, &s), CK_OK);
}

/* Writes sweep a few entries in passing, once their grace has passed. */
static void test_incremental_sweep(void **state)
{
    fixture *f = *state;
    char a[CK_SID_LEN], b[CK_SID_LEN], c[CK_SID_LEN];
    ck_session s;
    ck_metrics m;

    f->st = open_store(f);
    assert_int_equal(create(f->st, "quinn", CK_AUTH_EMAIL, a), CK_OK);
    assert_int_equal(create(f->st, "quinn", CK_AUTH_EMAIL, b), CK_OK);
    /* Within the grace an unrelated write leaves them for touch to explain. */
    fake_now += 1200;
    assert_int_equal(create(f->st, "rita", CK_AUTH_EMAIL, c), CK_OK);
    assert_int_equal(db_entries(f->st, "sessions"), 3);
    assert_int_equal(ck_store_touch(f->st, a, &s), CK_EXPIRED_IDLE);
    /* After it, the next write removes b and counts it. */
    fake_now += CK_LMDB_SWEEP_GRACE;
    assert_int_equal(ck_store_touch(f->st, c, &s), CK_OK);
    assert_int_equal(db_entries(f->st, "sessions"), 1);
    assert_int_equal(db_entries(f->st, "expiry"), 1);
    assert_int_equal(db_entries(f->st, "users"), 1);
    assert_int_equal(ck_store_touch(f->st, b, &s), CK_NOT_FOUND);
    assert_int_equal(ck_store_metrics(f->st, &m), CK_OK);
    assert_int_equal(m.ended_idle, 2);
    assert_int_equal(m.active, 1);
    assert_int_equal(m.duration_sum, 2 * 1200);
}

/* A backlog bigger than one sweep batch, ended only by time passing. */
static void test_sweep_backlog(void **state)
{
    fixture *f = *state;
    char sid[CK_SID_LEN];
    size_t removed = 0;
    ck_metrics m;

    f->st = open_store(f);
    for (int i = 0; i < 1500; i++)
        assert_int_equal(create(f->st, "gina", CK_AUTH_OIDC, sid), CK_OK);
    fake_now += 86400;
    assert_int_equal(ck_store_sweep(f->st, &removed), CK_OK);
    assert_int_equal(removed, 1500);
    assert_int_equal(ck_store_metrics(f->st, &m), CK_OK);
    /* Never touched: they went idle long before their deadline. */
    assert_int_equal(m.ended_idle, 1500);
    assert_int_equal(m.active, 0);
    assert_int_equal(db_entries(f->st, "users"), 0);
}

/* ---- files, modes, corruption ------------------------------------------------ */

static void assert_mode(const char *dir, const char *name, mode_t want)
{
    char p[256];
    struct stat sb;

    snprintf(p, sizeof(p), "%s%s%s", dir, name[0] ? "/" : "", name);
    assert_int_equal(stat(p, &sb), 0);
    if ((sb.st_mode & 07777) != want)
        fail_msg("%s has mode %04o, want %04o", p, (unsigned)(sb.st_mode & 07777),
                 (unsigned)want);
}

static void test_modes(void **state)
{
    fixture *f = *state;
    mode_t old = umask(0077);

    f->st = open_store(f);
    umask(old);
    assert_mode(f->store, "", 02770);
    assert_mode(f->store, "data.mdb", 0660);
    assert_mode(f->store, "lock.mdb", 0660);
    assert_mode(f->store, "write.lock", 0660);
}

/*
 * The deployment shape: an admin-made group directory (setgid, 2770), the
 * store's files take its group, and a process of another user in that
 * group shares the environment (lock table, mutexes, data). As non-root
 * only the group inheritance can be checked.
 */
static void test_shared_group(void **state)
{
    fixture *f = *state;
    gid_t gid = geteuid() == 0 ? 65534 : getegid();
    char a[CK_SID_LEN], b[CK_SID_LEN], p[256];
    ck_session s;
    struct stat sb;
    int fds[2];
    pid_t pid;

    assert_int_equal(chmod(f->dir, 0711), 0);     /* the other user passes through */
    assert_int_equal(mkdir(f->store, 0700), 0);
    assert_int_equal(chown(f->store, geteuid(), gid), 0);
    assert_int_equal(chmod(f->store, 02770), 0);
    f->st = open_store(f);
    snprintf(p, sizeof(p), "%s/lock.mdb", f->store);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_gid, gid);
    assert_int_equal(create(f->st, "tom", CK_AUTH_EMAIL, a), CK_OK);
    if (geteuid() != 0)
        return;
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512];
        ck_store *st;
        int bad = 0;

        close(fds[0]);
        if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(65534) != 0)
            _exit(2);
        st = ck_store_open(&f->cfg, err, sizeof(err));
        if (!st)
            _exit(3);
        bad |= ck_store_touch(st, a, &s) != CK_OK;
        bad |= create(st, "tom", CK_AUTH_OIDC, b) != CK_OK;
        bad |= write(fds[1], b, sizeof(b)) != (ssize_t)sizeof(b);
        ck_store_close(st);
        _exit(bad);
    }
    close(fds[1]);
    read_all(fds[0], b, sizeof(b));
    close(fds[0]);
    assert_int_equal(wait_exit(pid), 0);
    assert_int_equal(ck_store_touch(f->st, b, &s), CK_OK);
    assert_int_equal(s.method, CK_AUTH_OIDC);
}

static void test_corrupt_data_file(void **state)
{
    fixture *f = *state;
    unsigned char junk[16384];
    ck_store raw;
    char err[512];

    assert_int_equal(mkdir(f->store, 0700), 0);
    srand(7);
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)rand();
    tf_write_at(f->store, "data.mdb", 0600, junk, sizeof(junk));
    memset(&raw, 0, sizeof(raw));
    assert_int_equal(ck_lmdb_open(&raw, &f->cfg, f->store), CK_ERR_CORRUPT);
    assert_non_null(strstr(raw.errstr, "data.mdb"));
    assert_non_null(strstr(raw.errstr, f->store));
    assert_null(ck_store_open(&f->cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "not a usable LMDB file"));
}

/* A data file cut short is refused before anything reads past its end. */
static void test_truncated_data_file(void **state)
{
    fixture *f = *state;
    char sid[CK_SID_LEN], p[256], err[512];

    f->st = open_store(f);
    for (int i = 0; i < 300; i++)
        assert_int_equal(create(f->st, "vera", CK_AUTH_EMAIL, sid), CK_OK);
    ck_store_close(f->st);
    f->st = NULL;
    snprintf(p, sizeof(p), "%s/data.mdb", f->store);
    assert_int_equal(truncate(p, 3 * 4096), 0);
    assert_null(ck_store_open(&f->cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "data.mdb is truncated"));
}

/* A write.lock that is not ours: a clear error, in both shapes. */
static void test_corrupt_lock_file(void **state)
{
    fixture *f = *state;
    ck_store raw;
    char junk[256];

    assert_int_equal(mkdir(f->store, 0700), 0);
    memset(junk, 'x', sizeof(junk));
    tf_write_at(f->store, "write.lock", 0600, junk, 7);
    memset(&raw, 0, sizeof(raw));
    assert_int_equal(ck_lmdb_open(&raw, &f->cfg, f->store), CK_ERR_CORRUPT);
    assert_non_null(strstr(raw.errstr, "write.lock is not a checkup lock file"));
    /* Right size, wrong content: sized from a real one. */
    {
        char p[256];

        snprintf(p, sizeof(p), "%s/write.lock", f->store);
        assert_int_equal(unlink(p), 0);
    }
    f->st = open_store(f);
    ck_store_close(f->st);
    f->st = NULL;
    {
        char p[256];
        struct stat sb;

        snprintf(p, sizeof(p), "%s/write.lock", f->store);
        assert_int_equal(stat(p, &sb), 0);
        assert_true((size_t)sb.st_size <= sizeof(junk));
        tf_write_at(f->store, "write.lock", 0600, junk, (size_t)sb.st_size);
    }
    assert_int_equal(ck_lmdb_open(&raw, &f->cfg, f->store), CK_ERR_CORRUPT);
    assert_non_null(strstr(raw.errstr, "write.lock is not a checkup lock file"));
}

/* A child that closed every descriptor and reused the numbers (a daemon
 * detaching) keeps its new files: only the store's own are closed. */
static void test_fork_reused_fds(void **state)
{
    fixture *f = *state;
    char a[CK_SID_LEN];
    ck_session s;
    pid_t pid;

    f->st = open_store(f);
    assert_int_equal(create(f->st, "walt", CK_AUTH_EMAIL, a), CK_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int bad = 0, fd;

        for (fd = 3; fd < 64; fd++)
            close(fd);
        for (fd = 3; fd < 64; fd++)
            if (open("/dev/null", O_RDONLY) != fd)
                _exit(2);
        bad |= ck_store_touch(f->st, a, &s) != CK_OK;
        for (fd = 3; fd < 64; fd++) {
            char p[64], link[64];
            ssize_t n;

            snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
            n = readlink(p, link, sizeof(link) - 1);
            bad |= n != 9 || memcmp(link, "/dev/null", 9) != 0;
        }
        _exit(bad);
    }
    assert_int_equal(wait_exit(pid), 0);
    assert_int_equal(ck_store_touch(f->st, a, &s), CK_OK);
}

/* A child may just close what it inherited, then open its own. */
static void test_fork_close_inherited(void **state)
{
    fixture *f = *state;
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session s;
    ck_metrics m;
    pid_t pid;

    f->st = open_store(f);
    assert_int_equal(create(f->st, "uma", CK_AUTH_EMAIL, a), CK_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512];
        ck_store *st;
        int bad = 0;

        ck_store_close(f->st);
        st = ck_store_open(&f->cfg, err, sizeof(err));
        if (!st)
            _exit(1);
        bad |= ck_store_touch(st, a, &s) != CK_OK;
        bad |= create(st, "uma", CK_AUTH_EMAIL, b) != CK_OK;
        ck_store_close(st);
        _exit(bad);
    }
    assert_int_equal(wait_exit(pid), 0);
    assert_int_equal(ck_store_touch(f->st, a, &s), CK_OK);
    assert_int_equal(ck_store_metrics(f->st, &m), CK_OK);
    assert_int_equal(m.created, 2);
}

/* An LMDB environment written by something else is refused, not adopted. */
static void test_foreign_lmdb(void **state)
{
    fixture *f = *state;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = { 3, (void *)"foo" }, v = { 3, (void *)"bar" };
    ck_store raw;

    assert_int_equal(mkdir(f->store, 0700), 0);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, f->store, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    memset(&raw, 0, sizeof(raw));
    assert_int_equal(ck_lmdb_open(&raw, &f->cfg, f->store), CK_ERR_CORRUPT);
    assert_non_null(strstr(raw.errstr, "not a checkup store"));
}

static void test_bad_paths(void **state)
{
    fixture *f = *state;
    ck_store raw;
    char p[256];

    memset(&raw, 0, sizeof(raw));
    assert_int_equal(ck_lmdb_open(&raw, &f->cfg, "relative/dir"), CK_ERR_INVALID);
    tf_write_at(f->dir, "plain", 0600, "x", 1);
    snprintf(p, sizeof(p), "%s/plain", f->dir);
    assert_int_equal(ck_lmdb_open(&raw, &f->cfg, p), CK_ERR_UNAVAILABLE);
    assert_non_null(strstr(raw.errstr, "not a directory"));
    snprintf(p, sizeof(p), "%s/missing/db", f->dir);
    assert_int_equal(ck_lmdb_open(&raw, &f->cfg, p), CK_ERR_UNAVAILABLE);
    assert_non_null(strstr(raw.errstr, "cannot create directory"));
}

/* A record that does not parse is reported, and can still be logged out. */
static void test_corrupt_record(void **state)
{
    fixture *f = *state;
    char sid[CK_SID_LEN];
    ck_session s;
    ck_skey key;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    unsigned char kb[CK_LMDB_SKEY_LEN];
    MDB_val k = { sizeof(kb), kb }, v = { 5, (void *)"\x01junk" };

    f->st = open_store(f);
    new_session(&s, "hank", CK_AUTH_EMAIL);
    assert_int_equal(ck_store_create(f->st, &s, sid), CK_OK);
    assert_int_equal(ck_skey_from_hex(s.key_hex, &key), 0);
    kb[0] = (unsigned char)key.tag[0];
    kb[1] = (unsigned char)key.tag[1];
    memcpy(kb + 2, key.hash, CK_KEY_LEN);
    env = ck_lmdb_test_env(f->st);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "sessions", 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);

    assert_int_equal(ck_store_touch(f->st, sid, &s), CK_ERR_CORRUPT);
    assert_non_null(strstr(ck_store_errstr(f->st), "does not parse"));
    assert_null(strstr(ck_store_errstr(f->st), sid));
    assert_int_equal(ck_store_get(f->st, sid, &s), CK_ERR_CORRUPT);
    assert_int_equal(ck_store_delete(f->st, sid), CK_OK);
    assert_int_equal(ck_store_get(f->st, sid, &s), CK_NOT_FOUND);
}

static void test_record_format(void **state)
{
    ck_session s, back;
    unsigned char buf[2048];
    const char *why;
    size_t n;

    (void)state;
    new_session(&s, "ivy", CK_AUTH_CORPPASS);
    snprintf(s.idp_sid, sizeof(s.idp_sid), "idp-123");
    s.created = 10;
    s.last_activity = 20;
    s.deadline = 1000;
    s.expires = 900;
    n = ck_lmdb_rec_size(&s);
    assert_true(n <= sizeof(buf));
    ck_lmdb_rec_encode(&s, buf);
    assert_int_equal(ck_lmdb_rec_decode(buf, n, &back, &why), 0);
    assert_string_equal(back.user_id, "ivy");
    assert_string_equal(back.idp_sid, "idp-123");
    assert_int_equal(back.method, CK_AUTH_CORPPASS);
    assert_int_equal(back.expires, 900);
    /* Every truncation, and every single-byte change, parses or fails cleanly. */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ck_lmdb_rec_decode(buf, i, &back, &why), -1);
    for (size_t i = 0; i < n; i++) {
        unsigned char save = buf[i];

        buf[i] ^= 0xff;
        (void)ck_lmdb_rec_decode(buf, n, &back, &why);
        buf[i] = save;
    }
    /* A version 1 record (before user_agent) is the same without the last field. */
    assert_int_equal(s.user_agent[0], '\0');
    buf[0] = 1;
    assert_int_equal(ck_lmdb_rec_decode(buf, n - 2, &back, &why), 0);
    assert_string_equal(back.idp_sid, "idp-123");
    assert_int_equal(ck_lmdb_rec_decode(buf, n, &back, &why), -1);
    buf[0] = 3;
    assert_int_equal(ck_lmdb_rec_decode(buf, n, &back, &why), -1);
    assert_string_equal(why, "unknown record version");
}

/* ---- map full ----------------------------------------------------------------- */

static void test_map_full(void **state)
{
    fixture *f = *state;
    char (*sids)[CK_SID_LEN] = calloc(100000, CK_SID_LEN);
    size_t made = 0;
    ck_status rc = CK_OK;
    ck_session s;

    assert_non_null(sids);
    f->cfg.lmdb_map_size = (size_t)1 << 20;
    f->st = open_store(f);
    while (made < 100000) {
        new_session(&s, made % 2 ? "jack" : "kate", CK_AUTH_EMAIL);
        memset(s.remote_host, 'h', 200);
        rc = ck_store_create(f->st, &s, sids[made]);
        if (rc != CK_OK)
            break;
        made++;
    }
    assert_int_equal(rc, CK_ERR_FULL);
    assert_true(made > 100);
    assert_string_equal(ck_store_errstr(f->st),
                        "store full (map size 1 MiB reached; raise [store] map_size)");
    /* A full store still takes logouts and touches (pages are kept in
     * reserve for them), and works again once logouts freed room. */
    assert_int_equal(ck_store_touch(f->st, sids[made - 1], &s), CK_OK);
    for (size_t i = 0; i < made / 2; i++)
        assert_int_equal(ck_store_delete(f->st, sids[i]), CK_OK);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(create(f->st, "luke", CK_AUTH_EMAIL, sids[i]), CK_OK);
    assert_int_equal(ck_store_touch(f->st, sids[made - 1], &s), CK_OK);
    free(sids);
}

/* ---- processes ------------------------------------------------------------------ */

static void read_all(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);

        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n > 0);
        got += (size_t)n;
    }
}

static int wait_exit(pid_t pid)
{
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Another process raised map_size and grew the file past our map: we adopt
 * its size instead of failing. */
static void test_map_raised_elsewhere(void **state)
{
    fixture *f = *state;
    char sid[CK_SID_LEN];
    static unsigned char blob[CK_STATE_VALUE_MAX];
    ck_session s;
    void *v;
    size_t len;
    pid_t pid;

    f->cfg.lmdb_map_size = (size_t)1 << 20;
    f->st = open_store(f);
    assert_int_equal(create(f->st, "sam", CK_AUTH_EMAIL, sid), CK_OK);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512], name[32];
        ck_store *big;
        int bad = 0;

        f->cfg.lmdb_map_size = (size_t)8 << 20;
        big = ck_store_open(&f->cfg, err, sizeof(err));
        if (!big)
            _exit(1);
        for (int i = 0; i < 200; i++) {
            snprintf(name, sizeof(name), "big-%d", i);
            bad |= ck_store_state_put(big, name, blob, sizeof(blob), 0) != CK_OK;
        }
        ck_store_close(big);
        _exit(bad);
    }
    assert_int_equal(wait_exit(pid), 0);
    assert_int_equal(ck_store_touch(f->st, sid, &s), CK_OK);
    assert_int_equal(create(f->st, "sam", CK_AUTH_EMAIL, sid), CK_OK);
    assert_int_equal(ck_store_state_get(f->st, "big-199", &v, &len), CK_OK);
    assert_int_equal(len, sizeof(blob));
    free(v);
}

/* Descriptors of this process open on the store's data.mdb or lock.mdb. */
static int env_fd_count(const char *store)
{
    char p[256], link[512];
    int n = 0;

    for (int fd = 0; fd < 1024; fd++) {
        ssize_t len;

        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        len = readlink(p, link, sizeof(link) - 1);
        if (len <= 0)
            continue;
        link[len] = '\0';
        if (strncmp(link, store, strlen(store)) == 0 &&
            (strstr(link, "/data.mdb") || strstr(link, "/lock.mdb")))
            n++;
    }
    return n;
}

/* Parent opens and uses the store, forks; both keep using it, and the
 * child's inherited environment is replaced, not added to. */
static void test_fork(void **state)
{
    fixture *f = *state;
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session s;
    int fds[2];
    pid_t pid;

    f->st = open_store(f);
    assert_int_equal(create(f->st, "mia", CK_AUTH_EMAIL, a), CK_OK);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int bad = 0, inherited = env_fd_count(f->store);

        close(fds[0]);
        bad |= inherited < 2;
        bad |= ck_store_touch(f->st, a, &s) != CK_OK;
        bad |= env_fd_count(f->store) != inherited;
        bad |= create(f->st, "mia", CK_AUTH_OIDC, b) != CK_OK;
        bad |= write(fds[1], b, sizeof(b)) != (ssize_t)sizeof(b);
        bad |= ck_store_ping(f->st) != CK_OK;
        ck_store_close(f->st);
        _exit(bad);
    }
    close(fds[1]);
    read_all(fds[0], b, sizeof(b));
    close(fds[0]);
    assert_int_equal(wait_exit(pid), 0);
    assert_int_equal(ck_store_touch(f->st, b, &s), CK_OK);
    assert_int_equal(s.method, CK_AUTH_OIDC);
    assert_int_equal(ck_store_touch(f->st, a, &s), CK_OK);
    assert_int_equal(create(f->st, "mia", CK_AUTH_EMAIL, a), CK_OK);
}

/* A child that holds a write transaction until the parent says otherwise. */
static pid_t spawn_holder(fixture *f)
{
    int fds[2];
    char c;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ck_store *st;
        char err[512];

        close(fds[0]);
        st = ck_store_open(&f->cfg, err, sizeof(err));
        if (!st || ck_lmdb_test_hold_write(st) != CK_OK)
            _exit(1);
        if (write(fds[1], "h", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    child_pid = pid;
    close(fds[1]);
    read_all(fds[0], &c, 1);
    close(fds[0]);
    return pid;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A live writer that never finishes costs a bounded wait and a clear error;
 * killed with SIGKILL, it wedges nothing (robust mutex, flock released). */
static void test_dead_writer(void **state)
{
    fixture *f = *state;
    char sid[CK_SID_LEN], other[CK_SID_LEN];
    ck_session s;
    ck_metrics m;
    int64_t t0;
    pid_t pid;

    f->cfg.command_timeout_ms = 300;
    f->st = open_store(f);
    assert_int_equal(create(f->st, "nina", CK_AUTH_EMAIL, sid), CK_OK);
    pid = spawn_holder(f);
    t0 = mono_ms();
    assert_int_equal(create(f->st, "nina", CK_AUTH_EMAIL, other), CK_ERR_UNAVAILABLE);
    assert_true(mono_ms() - t0 < 3000);
    assert_non_null(strstr(ck_store_errstr(f->st), "busy"));
    /* Readers are never blocked by a writer. */
    assert_int_equal(ck_store_get(f->st, sid, &s), CK_OK);
    assert_int_equal(kill(pid, SIGKILL), 0);
    child_pid = 0;
    assert_int_equal(wait_exit(pid), 128 + SIGKILL);
    /* Without a robust mutex this would hang: the alarm fails the test. */
    alarm(20);
    assert_int_equal(create(f->st, "nina", CK_AUTH_EMAIL, sid), CK_OK);
    assert_int_equal(ck_store_touch(f->st, sid, &s), CK_OK);
    assert_int_equal(ck_store_metrics(f->st, &m), CK_OK);
    alarm(0);
    assert_int_equal(m.created, 2);
    assert_int_equal(m.active, 2);
}

typedef struct reader_scan {
    pid_t pid;
    int found;
} reader_scan;

static int reader_line(const char *msg, void *ctx)
{
    reader_scan *r = ctx;
    long pid;

    if (sscanf(msg, "%ld", &pid) == 1 && pid == (long)r->pid)
        r->found = 1;
    return 0;
}

static int has_reader(MDB_env *env, pid_t pid)
{
    reader_scan r = { pid, 0 };

    mdb_reader_list(env, reader_line, &r);
    return r.found;
}

static void test_stale_reader(void **state)
{
    fixture *f = *state;
    ck_store *again;
    int fds[2];
    char c;
    pid_t pid;

    f->st = open_store(f);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        MDB_env *env = ck_lmdb_test_env(f->st);
        MDB_txn *txn;

        close(fds[0]);
        if (!env || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
            _exit(1);
        if (write(fds[1], "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    child_pid = pid;
    close(fds[1]);
    read_all(fds[0], &c, 1);
    close(fds[0]);
    assert_int_equal(kill(pid, SIGKILL), 0);
    child_pid = 0;
    assert_int_equal(wait_exit(pid), 128 + SIGKILL);
    assert_true(has_reader(ck_lmdb_test_env(f->st), pid));
    again = open_store(f);
    assert_false(has_reader(ck_lmdb_test_env(f->st), pid));
    ck_store_close(again);
}

/*
 * While a process has the store open it holds LMDB's shared lock on byte 0
 * of lock.mdb (the file is in use), and after a read its liveness lock at
 * its pid: another process must see both, also after this process opened
 * and closed another handle. Without the first, the next process to open
 * the store would initialise lock.mdb again under the live one (reader
 * slots emptied, the last commit read again from the meta pages); without
 * the second, its reader slots would be cleared as a dead process's.
 */
static int locks_seen_elsewhere(const char *lockfile, pid_t holder)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        struct flock byte0 = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0,
                               .l_len = 1 };
        struct flock alive = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = holder,
                               .l_len = 1 };
        int fd = open(lockfile, O_RDWR);

        if (fd < 0 || fcntl(fd, F_GETLK, &byte0) != 0 || fcntl(fd, F_GETLK, &alive) != 0)
            _exit(8);
        _exit((byte0.l_type == F_UNLCK ? 1 : 0) | (alive.l_type == F_UNLCK ? 2 : 0));
    }
    return wait_exit(pid);
}

static void test_lock_file_held(void **state)
{
    fixture *f = *state;
    char sid[CK_SID_LEN], path[600];
    ck_store *again;
    ck_session s;

    f->st = open_store(f);
    assert_int_equal(create(f->st, "held", CK_AUTH_EMAIL, sid), CK_OK);
    assert_int_equal(ck_store_get(f->st, sid, &s), CK_OK);
    snprintf(path, sizeof(path), "%s/lock.mdb", f->store);
    assert_int_equal(locks_seen_elsewhere(path, getpid()), 0);
    again = open_store(f);
    assert_int_equal(ck_store_get(again, sid, &s), CK_OK);
    ck_store_close(again);
    assert_int_equal(locks_seen_elsewhere(path, getpid()), 0);
}

/* Two processes create, touch and delete at once: every write counts. */
#define RACE_ROUNDS 150

static int race_child(fixture *f, const char *user)
{
    char err[512], sid[CK_SID_LEN], keep[CK_SID_LEN];
    ck_store *st = ck_store_open(&f->cfg, err, sizeof(err));
    ck_session s;
    int bad = 0;

    if (!st)
        return 1;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        bad |= create(st, user, i % 2 ? CK_AUTH_EMAIL : CK_AUTH_OIDC, sid) != CK_OK;
        bad |= ck_store_touch(st, sid, &s) != CK_OK;
        if (i % 3 == 0) {
            memcpy(keep, sid, sizeof(keep));
            continue;
        }
        bad |= ck_store_delete(st, sid) != CK_OK;
        bad |= ck_store_touch(st, sid, &s) != CK_NOT_FOUND;
    }
    bad |= ck_store_touch(st, keep, &s) != CK_OK;
    ck_store_close(st);
    return bad;
}

static void test_two_writers(void **state)
{
    fixture *f = *state;
    const char *users[2] = { "olga", "pete" };
    pid_t pid[2];
    ck_metrics m;
    ck_session_list l;
    int kept = (RACE_ROUNDS + 2) / 3;

    f->st = open_store(f);
    for (int i = 0; i < 2; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0)
            _exit(race_child(f, users[i]));
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(wait_exit(pid[i]), 0);
    assert_int_equal(ck_store_metrics(f->st, &m), CK_OK);
    assert_int_equal(m.created, 2 * RACE_ROUNDS);
    assert_int_equal(m.ended_logout, 2 * (RACE_ROUNDS - kept));
    assert_int_equal(m.active, 2 * kept);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ck_store_list_user(f->st, users[i], &l), CK_OK);
        assert_int_equal(l.count, kept);
        ck_session_list_free(&l);
    }
    assert_int_equal(db_entries(f->st, "sessions"), 2 * kept);
    assert_int_equal(db_entries(f->st, "expiry"), 2 * kept);
}

/* The daemon's model: one ck_store per thread, all on one environment. */
#define THREADS 4

typedef struct thread_arg {
    fixture *f;
    char user[16];
    int bad;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    char err[512], sid[CK_SID_LEN];
    ck_store *st = ck_store_open(&a->f->cfg, err, sizeof(err));
    ck_session s;

    if (!st) {
        a->bad = 1;
        return NULL;
    }
    for (int i = 0; i < 200; i++) {
        a->bad |= create(st, a->user, CK_AUTH_EMAIL, sid) != CK_OK;
        a->bad |= ck_store_touch(st, sid, &s) != CK_OK;
        if (i % 2)
            a->bad |= ck_store_delete(st, sid) != CK_OK;
    }
    ck_store_close(st);
    return NULL;
}

static void test_threads(void **state)
{
    fixture *f = *state;
    pthread_t tid[THREADS];
    thread_arg args[THREADS];
    ck_metrics m;

    f->st = open_store(f);
    for (int i = 0; i < THREADS; i++) {
        args[i].f = f;
        args[i].bad = 0;
        snprintf(args[i].user, sizeof(args[i].user), "thread%d", i);
        assert_int_equal(pthread_create(&tid[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(args[i].bad, 0);
    }
    assert_int_equal(ck_store_metrics(f->st, &m), CK_OK);
    assert_int_equal(m.created, THREADS * 200);
    assert_int_equal(m.ended_logout, THREADS * 100);
    assert_int_equal(m.active, THREADS * 100);
    assert_int_equal(db_entries(f->st, "sessions"), THREADS * 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_and_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_evicts_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_states_and_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_counts_expiries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incremental_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_backlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_data_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_data_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_lock_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_lmdb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record, setup, teardown),
        cmocka_unit_test(test_record_format),
        cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_raised_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_close_inherited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_reused_fds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_file_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };

    return cmocka_run_group_tests_name("lmdb", tests, NULL, NULL);
}
