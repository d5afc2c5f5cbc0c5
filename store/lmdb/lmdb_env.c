/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lmdb_env.c - the LMDB environment: creation with explicit modes, one
 * shared MDB_env per process and directory, fork() detection, the write
 * gate and the transaction runner.
 *
 * LMDB must not open the same environment twice in one process (closing
 * the second handle's lock file drops the process's fcntl locks, and other
 * processes would then clear our reader slots), so handles of one process
 * share one MDB_env, opened with MDB_NOTLS so that threads with their own
 * ck_store can each run transactions on it.
 *
 * Writers first take the mutex in write.lock with the command timeout: a
 * live process stuck inside a write transaction (stopped, debugged) then
 * costs the others a clear error instead of a hang, which LMDB's own
 * writer mutex, taken without a timeout, cannot give.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lmdb_internal.h"
#include "ck_secfile.h"

#define MAX_DBS       8
#define MAX_READERS   510

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ck_lmdb_env *registry;

/* ---- errors ------------------------------------------------------------ */

/* The map size in force: another process may have raised it. */
static size_t map_size(ck_lmdb *h)
{
    MDB_envinfo info;

    if (!h)
        return 0;
    if (h->env && h->env->pid == getpid() && mdb_env_info(h->env->env, &info) == 0)
        return info.me_mapsize;
    return h->map_size;
}

ck_status (ck_lmdb_error)(ck_store *st, int rc, const char *what)
{
    ck_lmdb *h = st->impl;
    const char *path = h && h->path ? h->path : "?";

    switch (rc) {
    case MDB_MAP_FULL:
        return ck_fail(st, CK_ERR_FULL,
                       "store full (map size %zu MiB reached; raise [store] map_size)",
                       map_size(h) >> 20);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        /* The operator is told the condition, not the errno text (see design.md). */
        return ck_fail(st, CK_ERR_FULL,
                       "store full (no space left on the file system of %s: %s)", path, what);
    case EIO:
        /* LMDB reports a short write (a disk that filled under it) as EIO. */
        return ck_fail(st, CK_ERR_UNAVAILABLE,
                       "store unavailable (%s: %s/data.mdb could not be written)", what, path);
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE:
        return ck_fail(st, CK_ERR_CORRUPT, "store %s/data.mdb: %s: %s", path, what,
                       mdb_strerror(rc));
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
    case EAGAIN:
    case EACCES:
    case EPERM:
    case ENOENT:
    case EROFS:
        return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: %s: %s", path, what,
                       mdb_strerror(rc));
    case ENOMEM:
        return ck_fail(st, CK_ERR_NOMEM, "store %s: %s: %s", path, what, mdb_strerror(rc));
    default:
        return ck_fail(st, CK_ERR_INTERNAL, "store %s: %s: %s", path, what, mdb_strerror(rc));
    }
}

/* ---- files ------------------------------------------------------------- */

static ck_status file_path(ck_store *st, const char *dir, const char *name, char *out,
                           size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= outlen)
        return ck_fail(st, CK_ERR_INVALID, "store path %s is too long", dir);
    return CK_OK;
}

/*
 * Creates a file 0660 whatever the umask; an existing one is left alone
 * if the store policy (ck_secfile.h) allows it: a group member could have
 * left a symlink there for root to write through.
 */
static ck_status file_precreate(ck_store *st, const char *dir, const char *name)
{
    char p[PATH_MAX];
    ck_status rc = file_path(st, dir, name, p, sizeof(p));
    int fd;

    if (rc != CK_OK)
        return rc;
    fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
    if (fd < 0) {
        char err[512];

        if (errno != EEXIST)
            return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: cannot create: %s", p,
                           strerror(errno));
        if (ck_secfile_check_store(p, 0, err, sizeof(err)) != 0)
            return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s", err);
        return CK_OK;
    }
    if (fchmod(fd, 0660) != 0) {
        rc = ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: cannot set mode 0660: %s", p,
                     strerror(errno));
    }
    close(fd);
    return rc;
}

/* The directory is group-shared: setgid so files take its group, 2770. */
static ck_status dir_prepare(ck_store *st, const char *dir)
{
    char err[512];
    static const char *const files[] = { "data.mdb", "lock.mdb", "write.lock" };

    if (mkdir(dir, 02770) == 0) {
        if (chmod(dir, 02770) != 0)
            return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: cannot set mode 2770: %s",
                           dir, strerror(errno));
    } else if (errno != EEXIST) {
        return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: cannot create directory: %s",
                       dir, strerror(errno));
    }
    /* Others may not plant files or symlinks among ours (ck_secfile.h). */
    if (ck_secfile_check_store(dir, 1, err, sizeof(err)) != 0)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s", err);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        ck_status rc = file_precreate(st, dir, files[i]);

        if (rc != CK_OK)
            return rc;
    }
    return CK_OK;
}

/* ---- descriptors of an environment, for closing them after fork() ------ */

typedef struct fd_list {
    int fds[CK_LMDB_MAX_FDS * 2];
    int n;
} fd_list;

static int file_id(const char *dir, const char *name, struct stat *sb)
{
    char p[PATH_MAX];
    int n = snprintf(p, sizeof(p), "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= sizeof(p))
        return -1;
    return stat(p, sb);
}

/* Descriptors of this process open on data.mdb or lock.mdb. */
static void env_fds_scan(const char *dir, fd_list *out)
{
    struct stat data, lock, sb;
    DIR *d;
    struct dirent *de;

    out->n = 0;
    if (file_id(dir, "data.mdb", &data) != 0 || file_id(dir, "lock.mdb", &lock) != 0)
        return;
    d = opendir("/proc/self/fd");
    if (!d)
        return;
    for (de = readdir(d); de; de = readdir(d)) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);

        if (*end || end == de->d_name || fd == dirfd(d) || fstat((int)fd, &sb) != 0)
            continue;
        if ((sb.st_dev == data.st_dev && sb.st_ino == data.st_ino) ||
            (sb.st_dev == lock.st_dev && sb.st_ino == lock.st_ino)) {
            if (out->n < (int)(sizeof(out->fds) / sizeof(out->fds[0])))
                out->fds[out->n++] = (int)fd;
        }
    }
    closedir(d);
}

static int fd_in(const fd_list *l, int fd)
{
    for (int i = 0; i < l->n; i++)
        if (l->fds[i] == fd)
            return 1;
    return 0;
}

/* Records the descriptors mdb_env_open added (without /proc: the data fd). */
static void env_fds_record(ck_lmdb_env *e, const fd_list *before)
{
    fd_list after;
    mdb_filehandle_t fd;
    struct stat sb;
    int kept;

    env_fds_scan(e->path, &after);
    e->nfds = 0;
    for (int i = 0; i < after.n && e->nfds < CK_LMDB_MAX_FDS; i++)
        if (!fd_in(before, after.fds[i]))
            e->fds[e->nfds++] = after.fds[i];
    if (e->nfds == 0 && mdb_env_get_fd(e->env, &fd) == 0)
        e->fds[e->nfds++] = fd;
    kept = 0;
    for (int i = 0; i < e->nfds; i++) {
        if (fstat(e->fds[i], &sb) != 0)
            continue;
        e->fds[kept] = e->fds[i];
        e->fd_dev[kept] = sb.st_dev;
        e->fd_ino[kept] = sb.st_ino;
        kept++;
    }
    e->nfds = kept;
}

/*
 * In a forked child: drop an inherited environment without calling into
 * LMDB. Its descriptors are closed only while this process has no
 * environment of its own on the same files (closing one would drop that
 * environment's fcntl locks); the registry guarantees that ordering. A
 * descriptor the child closed and reused for something else is left alone.
 */
static void env_abandon(ck_lmdb_env *e)
{
    struct stat sb;

    if (e->abandoned)
        return;
    for (int i = 0; i < e->nfds; i++)
        if (fstat(e->fds[i], &sb) == 0 && sb.st_dev == e->fd_dev[i] &&
            sb.st_ino == e->fd_ino[i])
            close(e->fds[i]);
    e->nfds = 0;
    e->abandoned = 1;
}

/* ---- the write gate ------------------------------------------------------ */

/*
 * write.lock holds one process-shared robust mutex that writers take with
 * a timeout (pthread_mutex_clocklock): waiting is a futex sleep, fair
 * enough under load, and bounded. A holder that died leaves EOWNERDEAD,
 * which the next writer clears; LMDB's own robust mutex then recovers the
 * half-done transaction.
 */
#define GATE_MAGIC UINT64_C(0x636b2d6761746531)     /* "ck-gate1" */

struct ck_lmdb_gate {
    uint64_t magic;
    uint64_t size;
    pthread_mutex_t mutex;
    int waiters;                /* writers queued on mutex (atomic) */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* flock with a deadline, for the one-off initialisation of write.lock. */
static int flock_bounded(int fd, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    struct timespec pause = { 0, 1000000 };

    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || mono_ms() >= deadline)
            return -1;
        nanosleep(&pause, NULL);
    }
    return 0;
}

static int gate_init(struct ck_lmdb_gate *g)
{
    pthread_mutexattr_t attr;
    int rc = pthread_mutexattr_init(&attr);

    if (rc == 0)
        rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(&g->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc == 0) {
        g->size = sizeof(*g);
        g->magic = GATE_MAGIC;
    }
    return rc;
}

/* Maps write.lock, initialising it when new (or left half-made by a crash). */
static ck_status gate_map(ck_store *st, ck_lmdb *h, int fd, const char *p)
{
    struct stat sb;
    struct ck_lmdb_gate *g;

    if (fstat(fd, &sb) != 0)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: %s", p, strerror(errno));
    /* Allocated, not a hole: on a full file system a hole mapped and written is SIGBUS. */
    if (sb.st_size == 0 && (errno = posix_fallocate(fd, 0, sizeof(*g))) != 0)
        return ck_lmdb_error(st, errno, "creating write.lock");
    if (sb.st_size != 0 && sb.st_size != (off_t)sizeof(*g))
        return ck_fail(st, CK_ERR_CORRUPT, "store %s is not a checkup lock file (size %lld; "
                       "remove it while no process uses the store)", p, (long long)sb.st_size);
    g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (g == MAP_FAILED)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: mmap: %s", p, strerror(errno));
    if (g->magic == 0 && gate_init(g) != 0) {
        munmap(g, sizeof(*g));
        return ck_fail(st, CK_ERR_INTERNAL, "store %s: cannot initialise the lock", p);
    }
    if (g->magic != GATE_MAGIC || g->size != sizeof(*g)) {
        munmap(g, sizeof(*g));
        return ck_fail(st, CK_ERR_CORRUPT, "store %s is not a checkup lock file (remove it "
                       "while no process uses the store)", p);
    }
    h->gate = g;
    return CK_OK;
}

static ck_status gate_open(ck_store *st, ck_lmdb *h)
{
    char p[PATH_MAX];
    ck_status rc = file_path(st, h->path, "write.lock", p, sizeof(p));
    int fd;

    if (rc != CK_OK)
        return rc;
    fd = open(p, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: %s", p, strerror(errno));
    if (flock_bounded(fd, h->lock_timeout_ms) != 0) {
        rc = ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: cannot lock for setup: %s", p,
                     strerror(errno));
    } else {
        rc = gate_map(st, h, fd, p);
        flock(fd, LOCK_UN);
    }
    close(fd);
    return rc;
}

static void gate_close(ck_lmdb *h)
{
    if (h->gate)
        munmap(h->gate, sizeof(*h->gate));
    h->gate = NULL;
}

ck_status ck_lmdb_gate_lock(ck_store *st, ck_lmdb *h)
{
    struct timespec ts;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += h->lock_timeout_ms / 1000;
    ts.tv_nsec += (long)(h->lock_timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    __atomic_add_fetch(&h->gate->waiters, 1, __ATOMIC_RELAXED);
    do {
        rc = pthread_mutex_clocklock(&h->gate->mutex, CLOCK_MONOTONIC, &ts);
    } while (rc == EINTR);
    __atomic_sub_fetch(&h->gate->waiters, 1, __ATOMIC_RELAXED);
    if (rc == EOWNERDEAD) {
        /* The holder died mid-write; LMDB rolls its transaction back. */
        pthread_mutex_consistent(&h->gate->mutex);
        rc = 0;
    }
    if (rc == ETIMEDOUT)
        return ck_fail(st, CK_ERR_UNAVAILABLE,
                       "store %s: busy: waited over %d ms for the write lock "
                       "(other writers hold it)", h->path, h->lock_timeout_ms);
    if (rc != 0)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "store %s: write lock: %s", h->path,
                       strerror(rc));
    return CK_OK;
}

void ck_lmdb_gate_unlock(ck_lmdb *h)
{
    pthread_mutex_unlock(&h->gate->mutex);
    /*
     * A futex mutex lets the writer that just let go take it straight back
     * before the waiter it woke is even scheduled; under many more writers
     * than cores a waiter could lose every turn until its timeout. Stepping
     * aside while others wait hands the lock on instead.
     */
    if (__atomic_load_n(&h->gate->waiters, __ATOMIC_RELAXED) > 0)
        sched_yield();
}

/* ---- opening ------------------------------------------------------------- */

static ck_status dbi_open(ck_store *st, MDB_txn *txn, const char *name, unsigned flags,
                          MDB_dbi *dbi)
{
    int rc = mdb_dbi_open(txn, name, flags | MDB_CREATE, dbi);

    if (rc == MDB_INCOMPATIBLE)
        return ck_fail(st, CK_ERR_CORRUPT,
                       "store %s/data.mdb is not a checkup store (%s has another type)",
                       ((ck_lmdb *)st->impl)->path, name);
    if (rc != 0)
        return ck_lmdb_error(st, rc, "opening a database");
    return CK_OK;
}

/* Marks a new store with its format; refuses LMDB files of anyone else. */
static ck_status format_check(ck_store *st, MDB_txn *txn, ck_lmdb_env *e, int fresh)
{
    MDB_val k = { sizeof("format") - 1, (void *)"format" };
    MDB_val v;
    const char *path = ((ck_lmdb *)st->impl)->path;
    int rc = mdb_get(txn, e->meta, &k, &v);

    if (rc == MDB_NOTFOUND) {
        if (!fresh)
            return ck_fail(st, CK_ERR_CORRUPT,
                           "store %s/data.mdb is an LMDB file but not a checkup store", path);
        v.mv_size = sizeof(CK_LMDB_FORMAT) - 1;
        v.mv_data = (void *)CK_LMDB_FORMAT;
        rc = mdb_put(txn, e->meta, &k, &v, 0);
    }
    if (rc != 0)
        return ck_lmdb_error(st, rc, "reading the format");
    if (v.mv_size != sizeof(CK_LMDB_FORMAT) - 1 ||
        memcmp(v.mv_data, CK_LMDB_FORMAT, v.mv_size) != 0)
        return ck_fail(st, CK_ERR_CORRUPT,
                       "store %s/data.mdb has an unknown format (want %s)", path,
                       CK_LMDB_FORMAT);
    return CK_OK;
}

static ck_status env_bootstrap_txn(ck_store *st, MDB_txn *txn, ck_lmdb_env *e)
{
    MDB_dbi main_dbi;
    MDB_stat ms;
    ck_status rc;
    int fresh;
    int mrc = mdb_dbi_open(txn, NULL, 0, &main_dbi);

    if (mrc == 0)
        mrc = mdb_stat(txn, main_dbi, &ms);
    if (mrc != 0)
        return ck_lmdb_error(st, mrc, "reading the main database");
    fresh = ms.ms_entries == 0;
    rc = dbi_open(st, txn, "meta", 0, &e->meta);
    if (rc == CK_OK)
        rc = format_check(st, txn, e, fresh);
    if (rc == CK_OK)
        rc = dbi_open(st, txn, "sessions", 0, &e->sessions);
    if (rc == CK_OK)
        rc = dbi_open(st, txn, "users", MDB_DUPSORT, &e->users);
    if (rc == CK_OK)
        rc = dbi_open(st, txn, "expiry", 0, &e->expiry);
    if (rc == CK_OK)
        rc = dbi_open(st, txn, "states", 0, &e->states);
    if (rc == CK_OK)
        rc = dbi_open(st, txn, "fails", 0, &e->fails);
    return rc;
}

/* Opens the databases (creating them in a new store) in one write txn. */
static ck_status env_bootstrap(ck_store *st, ck_lmdb *h, ck_lmdb_env *e)
{
    MDB_txn *txn = NULL;
    ck_status rc = ck_lmdb_gate_lock(st, h);
    int mrc;

    if (rc != CK_OK)
        return rc;
    mrc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (mrc != 0) {
        rc = ck_lmdb_error(st, mrc, "starting a transaction");
        goto out;
    }
    rc = env_bootstrap_txn(st, txn, e);
    if (rc != CK_OK) {
        mdb_txn_abort(txn);
        goto out;
    }
    mrc = mdb_txn_commit(txn);
    if (mrc != 0)
        rc = ck_lmdb_error(st, mrc, "creating the databases");
out:
    ck_lmdb_gate_unlock(h);
    return rc;
}

static ck_status env_open_error(ck_store *st, ck_lmdb *h, int mrc)
{
    if (mrc == MDB_INVALID || mrc == MDB_VERSION_MISMATCH || mrc == MDB_CORRUPTED)
        return ck_fail(st, CK_ERR_CORRUPT,
                       "store %s/data.mdb (or lock.mdb) is not a usable LMDB file: %s",
                       h->path, mdb_strerror(mrc));
    return ck_lmdb_error(st, mrc, "opening the environment");
}

/*
 * A data file cut short (a bad copy, a full disk) keeps valid meta pages
 * that point past its end, and reading those pages through the map would
 * kill the process with SIGBUS. Committed pages are written before the
 * meta page naming them, so a sound file is never shorter than that.
 */
static ck_status env_size_check(ck_store *st, ck_lmdb *h, ck_lmdb_env *e)
{
    MDB_envinfo info;
    MDB_stat ms;
    struct stat sb;
    mdb_filehandle_t fd;
    unsigned long long need;

    if (mdb_env_info(e->env, &info) != 0 || mdb_env_stat(e->env, &ms) != 0 ||
        mdb_env_get_fd(e->env, &fd) != 0 || fstat(fd, &sb) != 0)
        return ck_fail(st, CK_ERR_INTERNAL, "store %s: cannot read the environment's size",
                       h->path);
    need = ((unsigned long long)info.me_last_pgno + 1) * ms.ms_psize;
    if ((unsigned long long)sb.st_size < need)
        return ck_fail(st, CK_ERR_CORRUPT,
                       "store %s/data.mdb is truncated (%lld bytes, its pages need %llu)",
                       h->path, (long long)sb.st_size, need);
    return CK_OK;
}

/*
 * LMDB makes lock.mdb with ftruncate, a file of holes, and writes reader
 * slots through a shared map: on a full file system (tmpfs above all) the
 * first write to a page not yet backed kills the process with SIGBUS. Its
 * blocks are allocated here, while there is room; failing that, nothing
 * is lost that was there before.
 *
 * The descriptor stays open until the environment closes: closing any
 * descriptor of lock.mdb drops every fcntl lock this process holds on it,
 * LMDB's among them. Without its shared lock on byte 0, the next process
 * to open the store would take the file for unused and initialise it
 * again under the live ones: reader slots emptied, mutexes reset, and the
 * last committed transaction read from the meta pages, possibly from
 * before a commit that had just returned (a logged-out session found
 * again).
 */
static int lockfile_allocate(const char *dir)
{
    char p[PATH_MAX];
    struct stat sb;
    int fd;

    if (snprintf(p, sizeof(p), "%s/lock.mdb", dir) >= (int)sizeof(p))
        return -1;
    fd = open(p, O_RDWR | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size > 0)
        (void)posix_fallocate(fd, 0, sb.st_size);
    return fd;
}

/* LMDB's descriptors first, then ours: by then no lock of LMDB's is left to drop. */
static void env_close(ck_lmdb_env *e)
{
    mdb_env_close(e->env);
    e->env = NULL;
    if (e->alloc_fd >= 0)
        close(e->alloc_fd);
    e->alloc_fd = -1;
}

static ck_status env_create(ck_store *st, ck_lmdb *h, ck_lmdb_env *e)
{
    fd_list before;
    int mrc;
    ck_status rc;

    env_fds_scan(h->path, &before);
    mrc = mdb_env_create(&e->env);
    if (mrc != 0)
        return ck_lmdb_error(st, mrc, "creating the environment");
    mrc = mdb_env_set_maxdbs(e->env, MAX_DBS);
    if (mrc == 0)
        mrc = mdb_env_set_maxreaders(e->env, MAX_READERS);
    if (mrc == 0)
        mrc = mdb_env_set_mapsize(e->env, h->map_size);
    if (mrc == 0)
        mrc = mdb_env_open(e->env, h->path, MDB_NOTLS | MDB_NOMETASYNC, 0660);
    if (mrc != 0) {
        rc = env_open_error(st, h, mrc);
        env_close(e);
        return rc;
    }
    /* Before the record, so that a forked child closes it with LMDB's own. */
    e->alloc_fd = lockfile_allocate(h->path);
    env_fds_record(e, &before);
    rc = env_size_check(st, h, e);
    if (rc == CK_OK)
        rc = env_bootstrap(st, h, e);
    if (rc != CK_OK)
        env_close(e);
    return rc;
}

/* Called with registry_lock held. */
static ck_status env_get(ck_store *st, ck_lmdb *h, pid_t pid, ck_lmdb_env **out)
{
    ck_lmdb_env *e;
    ck_status rc;

    for (e = registry; e; e = e->next) {
        if (e->pid == pid && strcmp(e->path, h->path) == 0) {
            *out = e;
            return CK_OK;
        }
    }
    /* Inherited environments on these files lose their descriptors first. */
    for (e = registry; e; e = e->next)
        if (e->pid != pid && strcmp(e->path, h->path) == 0)
            env_abandon(e);
    e = calloc(1, sizeof(*e));
    if (e)
        e->path = strdup(h->path);
    if (!e || !e->path) {
        free(e);
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    }
    e->pid = pid;
    e->alloc_fd = -1;
    if (pthread_rwlock_init(&e->resize_lock, NULL) != 0) {
        free(e->path);
        free(e);
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    }
    rc = env_create(st, h, e);
    if (rc != CK_OK) {
        pthread_rwlock_destroy(&e->resize_lock);
        free(e->path);
        free(e);
        return rc;
    }
    e->next = registry;
    registry = e;
    *out = e;
    return CK_OK;
}

static void env_put(ck_lmdb_env *e, pid_t pid)
{
    ck_lmdb_env **pp;

    if (e->pid != pid)
        env_abandon(e);
    if (--e->refs > 0)
        return;
    for (pp = &registry; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    if (e->pid == pid) {
        env_close(e);
        pthread_rwlock_destroy(&e->resize_lock);
    }
    free(e->path);
    free(e);
}

/* Attaches h to this process's environment for its path. */
static ck_status handle_attach(ck_store *st, ck_lmdb *h)
{
    pid_t pid = getpid();
    ck_lmdb_env *e = NULL;
    ck_status rc;
    int dead = 0;

    /* Cheap when everything exists; recreates what an admin removed. */
    rc = dir_prepare(st, h->path);
    if (rc == CK_OK)
        rc = gate_open(st, h);
    if (rc != CK_OK)
        return rc;
    pthread_mutex_lock(&registry_lock);
    rc = env_get(st, h, pid, &e);
    if (rc == CK_OK) {
        e->refs++;
        h->env = e;
        /* Slots of readers that died would pin old pages forever. */
        mdb_reader_check(e->env, &dead);
    }
    pthread_mutex_unlock(&registry_lock);
    if (rc != CK_OK)
        gate_close(h);
    return rc;
}

static void handle_detach(ck_lmdb *h)
{
    pid_t pid = getpid();

    if (h->env) {
        pthread_mutex_lock(&registry_lock);
        env_put(h->env, pid);
        pthread_mutex_unlock(&registry_lock);
        h->env = NULL;
    }
    gate_close(h);
}

ck_status ck_lmdb_handle_open(ck_store *st, ck_lmdb *h)
{
    ck_status rc;

    h->gate = NULL;
    ck_forkcheck_init(&h->owner);
    rc = handle_attach(st, h);
    if (rc != CK_OK)
        ck_forkcheck_free(&h->owner);
    return rc;
}

void ck_lmdb_handle_close(ck_lmdb *h)
{
    handle_detach(h);
    ck_forkcheck_free(&h->owner);
}

/* A handle used in a forked child leaves the parent's env and opens its own. */
static ck_status handle_ready(ck_store *st, ck_lmdb *h)
{
    ck_status rc;

    if (h->env && !ck_forkcheck_forked(&h->owner))
        return CK_OK;
    handle_detach(h);
    rc = handle_attach(st, h);
    if (rc == CK_OK)
        ck_forkcheck_arm(&h->owner);
    return rc;
}

/* ---- transactions ---------------------------------------------------------- */

ck_status ck_lmdb_counters_get(ck_lmdb_txn *t, ck_lmdb_counters **c)
{
    MDB_val k = { sizeof("counters") - 1, (void *)"counters" };
    MDB_val v;
    int rc;

    if (!t->c_loaded) {
        memset(&t->c, 0, sizeof(t->c));
        rc = mdb_get(t->txn, t->e->meta, &k, &v);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return ck_lmdb_error(t->st, rc, "reading the metrics");
        if (rc == 0 && ck_lmdb_counters_decode(v.mv_data, v.mv_size, &t->c) != 0)
            return ck_fail(t->st, CK_ERR_CORRUPT,
                           "store %s/data.mdb: the metrics counters record does not parse",
                           t->h->path);
        t->c_loaded = 1;
    }
    *c = &t->c;
    return CK_OK;
}

static ck_status counters_flush(ck_lmdb_txn *t)
{
    MDB_val k = { sizeof("counters") - 1, (void *)"counters" };
    unsigned char buf[CK_LMDB_COUNTERS_MAX];
    MDB_val v = { 0, buf };
    int rc;

    if (!t->c_dirty)
        return CK_OK;
    ck_lmdb_counters_encode(&t->c, buf, &v.mv_size);
    rc = mdb_put(t->txn, t->e->meta, &k, &v, 0);
    if (rc != 0)
        return ck_lmdb_error(t->st, rc, "writing the metrics");
    return CK_OK;
}

static int is_failure(ck_status rc)
{
    return rc >= CK_ERR_INVALID;
}

/*
 * Begins a txn holding resize_lock for reading. When another process has
 * grown the map past ours (a raised map_size), LMDB answers MAP_RESIZED:
 * adopt the new size, which it allows only while this process has no txn
 * open, hence the lock.
 */
static int txn_begin(ck_lmdb_env *e, unsigned flags, MDB_txn **txn)
{
    int rc;

    pthread_rwlock_rdlock(&e->resize_lock);
    rc = mdb_txn_begin(e->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        pthread_rwlock_unlock(&e->resize_lock);
        pthread_rwlock_wrlock(&e->resize_lock);
        rc = mdb_env_set_mapsize(e->env, 0);
        pthread_rwlock_unlock(&e->resize_lock);
        pthread_rwlock_rdlock(&e->resize_lock);
        if (rc == 0)
            rc = mdb_txn_begin(e->env, NULL, flags, txn);
    }
    if (rc != 0)
        pthread_rwlock_unlock(&e->resize_lock);
    return rc;
}

static void txn_end(ck_lmdb_env *e)
{
    pthread_rwlock_unlock(&e->resize_lock);
}

static ck_status run_write(ck_lmdb_txn *t, ck_lmdb_fn fn, void *arg)
{
    ck_status rc, res;
    size_t swept = 0;
    int mrc;

    rc = ck_lmdb_gate_lock(t->st, t->h);
    if (rc != CK_OK)
        return rc;
    mrc = txn_begin(t->e, 0, &t->txn);
    if (mrc != 0) {
        rc = ck_lmdb_error(t->st, mrc, "starting a write transaction");
        goto out;
    }
    res = fn(t, arg);
    rc = res;
    /* A few expired entries go with every write, so sweeping never piles up. */
    if (!is_failure(rc) && !t->swept)
        rc = ck_lmdb_sweep_some(t, t->now - CK_LMDB_SWEEP_GRACE, CK_LMDB_SWEEP_SOME, &swept);
    if (!is_failure(rc))
        rc = counters_flush(t);
    if (is_failure(rc)) {
        mdb_txn_abort(t->txn);
        txn_end(t->e);
        goto out;
    }
    mrc = mdb_txn_commit(t->txn);
    /*
     * The environment runs with MDB_NOMETASYNC: a commit syncs its data
     * pages but not the meta page naming them, which the next commit's
     * sync carries. An end of a session (logout, revocation) must not be
     * undone by a power loss after it was answered: its meta page is
     * synced now. Other writes (touches, logins) keep the cheaper mode.
     */
    if (mrc == 0 && t->sync)
        mrc = mdb_env_sync(t->e->env, 1);
    txn_end(t->e);
    rc = mrc != 0 ? ck_lmdb_error(t->st, mrc, t->sync ? "syncing an end of session"
                                                       : "committing") : res;
out:
    t->txn = NULL;
    ck_lmdb_gate_unlock(t->h);
    return rc;
}

static ck_status run_read(ck_lmdb_txn *t, ck_lmdb_fn fn, void *arg)
{
    ck_status rc;
    int dead = 0;
    int mrc = txn_begin(t->e, MDB_RDONLY, &t->txn);

    if (mrc == MDB_READERS_FULL && mdb_reader_check(t->e->env, &dead) == 0 && dead > 0)
        mrc = txn_begin(t->e, MDB_RDONLY, &t->txn);
    if (mrc != 0)
        return ck_lmdb_error(t->st, mrc, "starting a read transaction");
    rc = fn(t, arg);
    mdb_txn_abort(t->txn);
    txn_end(t->e);
    t->txn = NULL;
    return rc;
}

ck_status ck_lmdb_run(ck_store *st, int write, int64_t now, ck_lmdb_fn fn, void *arg)
{
    ck_lmdb *h = st->impl;
    ck_lmdb_txn t;
    ck_status rc = handle_ready(st, h);
    int dead = 0;

    if (rc != CK_OK)
        return rc;
    for (int attempt = 0; attempt < 2; attempt++) {
        memset(&t, 0, sizeof(t));
        t.st = st;
        t.h = h;
        t.e = h->env;
        t.now = now;
        t.write = write;
        rc = write ? run_write(&t, fn, arg) : run_read(&t, fn, arg);
        if (rc != CK_ERR_FULL)
            break;
        /* Dead readers pin pages and slots: clear them and try once more. */
        if (mdb_reader_check(h->env->env, &dead) != 0 || dead == 0)
            break;
    }
    return rc;
}

/* ---- test hooks ------------------------------------------------------------ */

MDB_env *ck_lmdb_test_env(ck_store *st)
{
    ck_lmdb *h = st->impl;

    if (handle_ready(st, h) != CK_OK)
        return NULL;
    return h->env->env;
}

ck_status ck_lmdb_test_hold_write(ck_store *st)
{
    ck_lmdb *h = st->impl;
    MDB_txn *txn;
    MDB_val k = { 4, (void *)"hold" }, v = { 4, (void *)"hold" };
    ck_status rc = handle_ready(st, h);
    int mrc;

    if (rc == CK_OK)
        rc = ck_lmdb_gate_lock(st, h);
    if (rc != CK_OK)
        return rc;
    mrc = mdb_txn_begin(h->env->env, NULL, 0, &txn);
    if (mrc == 0)
        mrc = mdb_put(txn, h->env->meta, &k, &v, 0);
    if (mrc != 0)
        return ck_lmdb_error(st, mrc, "holding a write transaction");
    return CK_OK;
}
