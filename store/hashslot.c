/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hashslot.c - the host-wide slots a password hash runs in (ck_hashslot.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ck_hashslot.h"
#include "ck_secfile.h"

int ck_processors(void)
{
    cpu_set_t set;
    long n;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 4096 ? (int)n : 1;
}

int ck_hash_slots_auto(void)
{
    int n = ck_processors() - 1;

    return n < 1 ? 1 : n;
}

const char *ck_hash_slot_file(const ck_config *cfg)
{
    return cfg->hash_slot_file ? cfg->hash_slot_file : CK_DEFAULT_HASH_SLOT_FILE;
}

int ck_hash_slot_count(const ck_config *cfg)
{
    return cfg->hash_slots < 0 ? ck_hash_slots_auto() : cfg->hash_slots;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1: took a slot; 0: all busy; -1: errno says why. */
static int try_slots(int fd, int slots, int start)
{
    for (int k = 0; k < slots; k++) {
        struct flock fl = {
            .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (start + k) % slots, .l_len = 1,
        };

        if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
            return 1;
        if (errno != EAGAIN && errno != EACCES)
            return -1;
    }
    return 0;
}

int ck_hash_slot_take(const char *path, int slots, int wait_ms, char *err, size_t errlen)
{
    long deadline = now_ms() + wait_ms, pause_ms = 1;
    struct stat sb;
    int fd, got;

    if (slots <= 0)
        return CK_HASH_SLOT_NONE;
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) {
        /* Only root may use the host's slots; anyone else slows only their own logins. */
        if (errno == EACCES || errno == EPERM || errno == EROFS)
            return CK_HASH_SLOT_NONE;
        snprintf(err, errlen, "password-check slots %s: %s", path,
                 errno == ELOOP ? "a symbolic link: refused" : strerror(errno));
        return CK_HASH_SLOT_UNUSABLE;
    }
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "password-check slots %s: fstat: %s", path, strerror(errno));
        goto fail;
    }
    /* Whoever else can open the file can hold every slot and stop every login. */
    if (ck_secfile_check(path, &sb, CK_FILE_SECRET, err, errlen) != 0)
        goto fail;
    for (;;) {
        got = try_slots(fd, slots, (int)(getpid() % slots));
        if (got == 1)
            return fd;
        if (got < 0) {
            snprintf(err, errlen, "password-check slots %s: lock: %s", path, strerror(errno));
            goto fail;
        }
        if (now_ms() >= deadline) {
            snprintf(err, errlen, "all %d password-check slot%s of this host stayed busy for "
                     "%d ms: too many password logins at once", slots, slots == 1 ? "" : "s",
                     wait_ms);
            close(fd);
            return CK_HASH_SLOT_BUSY;
        }
        /* Polling, because a lock wait cannot time out; short, so the wait stays fair. */
        nanosleep(&(struct timespec){ 0, pause_ms * 1000000 }, NULL);
        if (pause_ms < 8)
            pause_ms *= 2;
    }
fail:
    close(fd);
    return CK_HASH_SLOT_UNUSABLE;
}

void ck_hash_slot_give(int fd)
{
    if (fd >= 0)
        close(fd);      /* the slot's lock belongs to this open file description */
}
