/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forkcheck.h - tells a handle's owner from a child forked after it was
 * set up, without a getpid() system call on every operation (internal).
 *
 * A page that the kernel zeroes in a child after fork() (MADV_WIPEONFORK,
 * Linux 4.14) holds 1 in the process that armed it. Where the kernel lacks
 * it, the owner's pid decides.
 */
#ifndef CK_FORKCHECK_H
#define CK_FORKCHECK_H

#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

typedef struct ck_forkcheck {
    volatile unsigned char *page;       /* NULL without MADV_WIPEONFORK */
    pid_t pid;                          /* the owner */
} ck_forkcheck;

/* Makes the calling process the owner (first use, or after a fork). */
static inline void ck_forkcheck_arm(ck_forkcheck *f)
{
    f->pid = getpid();
    if (f->page)
        *f->page = 1;
}

static inline void ck_forkcheck_init(ck_forkcheck *f)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    f->page = NULL;
    if (p != MAP_FAILED) {
#ifdef MADV_WIPEONFORK
        if (madvise(p, pg, MADV_WIPEONFORK) == 0)
            f->page = p;
        else
#endif
            munmap(p, pg);
    }
    ck_forkcheck_arm(f);
}

/* 1 in a process other than the owner. */
static inline int ck_forkcheck_forked(const ck_forkcheck *f)
{
    return f->page ? *f->page == 0 : f->pid != getpid();
}

static inline void ck_forkcheck_free(ck_forkcheck *f)
{
    if (f->page)
        munmap((void *)f->page, (size_t)sysconf(_SC_PAGESIZE));
    f->page = NULL;
}

#endif
