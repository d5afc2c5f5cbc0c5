/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host's password-check slots (ck_hashslot.h): how many can be held at
 * once, that a slot comes free when its holder gives it back or dies, that
 * a waiter gets one freed while it waits, and that a file another user
 * could hold is refused.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ck_hashslot.h"

static char dir[] = "/tmp/ck-hashslot.XXXXXX";     /* mkdtemp's template */
static char path[512];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int take(int slots, int wait_ms, char *err, size_t errlen)
{
    return ck_hash_slot_take(path, slots, wait_ms, err, errlen);
}

static void test_slots_bound_holders(void **state)
{
    char err[256] = "";
    int fd[3];
    struct stat sb;

    (void)state;
    assert_int_equal(take(0, 0, err, sizeof(err)), CK_HASH_SLOT_NONE);
    fd[0] = take(2, 0, err, sizeof(err));
    fd[1] = take(2, 0, err, sizeof(err));
    assert_true(fd[0] >= 0 && fd[1] >= 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(take(2, 0, err, sizeof(err)), CK_HASH_SLOT_BUSY);
    assert_non_null(strstr(err, "all 2 password-check slots of this host stayed busy"));
    ck_hash_slot_give(fd[0]);
    fd[2] = take(2, 0, err, sizeof(err));
    assert_true(fd[2] >= 0);
    ck_hash_slot_give(fd[1]);
    ck_hash_slot_give(fd[2]);
}

typedef struct holder {
    int fd;
    char err[256];
} holder;

static void *hold_one(void *arg)
{
    holder *h = arg;

    h->fd = ck_hash_slot_take(path, 1, 0, h->err, sizeof(h->err));
    return NULL;
}

/* Threads of one process take slots of their own (a threaded caller). */
static void test_threads_count_apart(void **state)
{
    holder h = { -5, "" };
    pthread_t t;
    char err[256];
    int mine;

    (void)state;
    mine = take(1, 0, err, sizeof(err));
    assert_true(mine >= 0);
    assert_int_equal(pthread_create(&t, NULL, hold_one, &h), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(h.fd, CK_HASH_SLOT_BUSY);
    ck_hash_slot_give(mine);
}

/* A child that takes the only slot, tells the parent, then waits to be killed or exits. */
static pid_t child_holding(int hold_ms)
{
    int p[2];
    pid_t pid;
    char c;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];

        close(p[0]);
        if (take(1, 0, err, sizeof(err)) < 0)
            _exit(1);
        (void)!write(p[1], "x", 1);
        if (hold_ms > 0)
            nanosleep(&(struct timespec){ hold_ms / 1000, (hold_ms % 1000) * 1000000L }, NULL);
        else
            pause();
        _exit(0);       /* the slot is never given back: the exit frees it */
    }
    close(p[1]);
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    return pid;
}

static void test_death_frees_slot(void **state)
{
    char err[256];
    pid_t pid;
    int fd, ws;

    (void)state;
    pid = child_holding(0);
    assert_int_equal(take(1, 100, err, sizeof(err)), CK_HASH_SLOT_BUSY);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    fd = take(1, 0, err, sizeof(err));
    assert_true(fd >= 0);
    ck_hash_slot_give(fd);
}

static void test_waiter_gets_freed_slot(void **state)
{
    char err[256];
    double t0, t;
    pid_t pid;
    int fd, ws;

    (void)state;
    pid = child_holding(300);
    t0 = now_s();
    fd = take(1, 10000, err, sizeof(err));
    t = now_s() - t0;
    assert_true(fd >= 0);
    assert_true(t >= 0.2 && t < 5);
    ck_hash_slot_give(fd);
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
}

/* A file someone else could open, or a link to one, is refused, never used. */
static void test_unsafe_file_refused(void **state)
{
    char other[600], link[600], err[256];

    (void)state;
    snprintf(other, sizeof(other), "%s/open-slots", dir);
    close(open(other, O_CREAT | O_WRONLY, 0600));
    assert_int_equal(chmod(other, 0666), 0);
    err[0] = '\0';
    assert_int_equal(ck_hash_slot_take(other, 1, 0, err, sizeof(err)),
                     CK_HASH_SLOT_UNUSABLE);
    assert_non_null(strstr(err, other));
    snprintf(link, sizeof(link), "%s/link-slots", dir);
    assert_int_equal(symlink(path, link), 0);
    err[0] = '\0';
    assert_int_equal(ck_hash_slot_take(link, 1, 0, err, sizeof(err)), CK_HASH_SLOT_UNUSABLE);
    assert_non_null(strstr(err, "symbolic link"));
    snprintf(other, sizeof(other), "%s/no-such-dir/slots", dir);
    err[0] = '\0';
    assert_int_equal(ck_hash_slot_take(other, 1, 0, err, sizeof(err)), CK_HASH_SLOT_UNUSABLE);
    assert_non_null(strstr(err, "No such file"));
    if (geteuid() == 0) {
        /* owned by someone else, even with mode 0600: that user could hold every slot */
        snprintf(other, sizeof(other), "%s/nobody-slots", dir);
        close(open(other, O_CREAT | O_WRONLY, 0600));
        assert_int_equal(chown(other, 65534, 65534), 0);
        assert_int_equal(ck_hash_slot_take(other, 1, 0, err, sizeof(err)),
                         CK_HASH_SLOT_UNUSABLE);
    } else {
        /* a file this user may not open: no limit for it, nothing refused */
        assert_int_equal(ck_hash_slot_take("/proc/1/mem", 1, 0, err, sizeof(err)),
                         CK_HASH_SLOT_NONE);
    }
}

static void test_auto_leaves_a_processor(void **state)
{
    (void)state;
    assert_true(ck_processors() >= 1);
    assert_int_equal(ck_hash_slots_auto(),
                     ck_processors() > 1 ? ck_processors() - 1 : 1);
}

static void remove_dir(void)
{
    const char *names[] = { "slots", "open-slots", "link-slots", "nobody-slots" };
    char p[600];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots_bound_holders),
        cmocka_unit_test(test_threads_count_apart),
        cmocka_unit_test(test_death_frees_slot),
        cmocka_unit_test(test_waiter_gets_freed_slot),
        cmocka_unit_test(test_unsafe_file_refused),
        cmocka_unit_test(test_auto_leaves_a_processor),
    };
    int rc;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/slots", dir);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    remove_dir();
    return rc;
}
