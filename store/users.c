/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * users.c - the users file (see ck_users.h for the format) and password
 * hashing with libxcrypt's yescrypt.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ck_encode.h"
#include "ck_text.h"
#include "ck_users.h"
#include "ck_secfile.h"
#include "users_int.h"

#define USERS_FILE_MAX  CK_USERS_FILE_MAX
#define LINE_MAX_LEN    CK_USERS_LINE_MAX
#define FIELD_COUNT     7

/*
 * Hashed when the user is unknown or has no usable hash, so that the
 * answer takes as long as a real check (yescrypt, libxcrypt's default
 * cost "j9T"). No password hashes to it: it is here for the time only.
 */
static const char dummy_hash[] =
    "$y$j9T$i9v21x0AhYPEt2SvjpDd./$74O04NM.paqeHZDefKTuyLAdvVKJCE/GIMhyq.9Y.m1";

int ck_users_ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

#define ascii_lower ck_users_ascii_lower
#define ascii_casecmp ck_users_casecmp

/* Locale-free: a host process may run under any locale. */
int ck_users_casecmp(const char *a, const char *b)
{
    for (; *a && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b); a++, b++)
        ;
    return ascii_lower((unsigned char)*a) - ascii_lower((unsigned char)*b);
}

/* Decodes one field (len bytes at in) into out; returns a reason or NULL. */
static const char *field_decode(const char *in, size_t len, char *out, size_t outmax)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '%') {
            int hi = i + 2 < len ? ck_hex_digit(in[i + 1]) : -1;
            int lo = i + 2 < len ? ck_hex_digit(in[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return "'%' must be followed by two hex digits";
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return "control character";
        if (o + 1 >= outmax)
            return "too long";
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return NULL;
}


static int local_name_ok(const char *s)
{
    if (!*s)
        return 1;
    if (*s == '-' || strlen(s) > 32)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int ck_user_check(const ck_user *u, char *err, size_t errlen)
{
    const char *what = NULL;

    if (!u->email[0] || strchr(u->email, ' ') || !strchr(u->email, '@'))
        what = "email must be an address like name@example.org";
    else if (!u->role[0])
        what = "role is required";
    else if (!u->hash[0])
        what = "password hash is empty (use '!' for no password login)";
    else if (!local_name_ok(u->local_user))
        what = "local account name must be 1..32 of A-Z a-z 0-9 _ . - (not starting with -)";
    else if (!ck_text_ok(u->email) || !ck_text_ok(u->hash) || !ck_text_ok(u->role) ||
             !ck_text_ok(u->clinic_id) || !ck_text_ok(u->corppass))
        what = "a field is not valid UTF-8 text";
    if (what) {
        snprintf(err, errlen, "%s", what);
        return -1;
    }
    return 0;
}

static int parse_flags(const char *flags, ck_user *u)
{
    const char *p = flags;

    while (*p) {
        size_t n = strcspn(p, ",");

        if (n == 8 && strncmp(p, "disabled", 8) == 0)
            u->disabled = 1;
        else if (n != 0)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int ck_users_parse_record(char *line, ck_user *u, char *err, size_t errlen)
{
    struct { char *out; size_t max; const char *name; } f[FIELD_COUNT];
    char flags[128];
    char *p = line;
    const char *why;
    int i;

    /* First: callers pass a record they have not cleared. */
    memset(u, 0, sizeof(*u));
    f[0].out = u->email; f[0].max = sizeof(u->email); f[0].name = "email";
    f[1].out = u->hash; f[1].max = sizeof(u->hash); f[1].name = "hash";
    f[2].out = u->role; f[2].max = sizeof(u->role); f[2].name = "role";
    f[3].out = u->clinic_id; f[3].max = sizeof(u->clinic_id); f[3].name = "clinic";
    f[4].out = u->local_user; f[4].max = sizeof(u->local_user); f[4].name = "local_user";
    f[5].out = flags; f[5].max = sizeof(flags); f[5].name = "flags";
    f[6].out = u->corppass; f[6].max = sizeof(u->corppass); f[6].name = "corppass";
    for (i = 0; i < FIELD_COUNT; i++) {
        size_t n = strcspn(p, ":");

        if (i < FIELD_COUNT - 1 && p[n] != ':') {
            snprintf(err, errlen, "expected %d ':'-separated fields, found %d", FIELD_COUNT,
                     i + 1);
            return -1;
        }
        if (i == FIELD_COUNT - 1 && p[n] == ':') {
            snprintf(err, errlen, "more than %d fields (write ':' as %%3A)", FIELD_COUNT);
            return -1;
        }
        why = field_decode(p, n, f[i].out, f[i].max);
        if (why) {
            snprintf(err, errlen, "%s: %s", f[i].name, why);
            return -1;
        }
        p += n + 1;
    }
    if (parse_flags(flags, u) != 0) {
        snprintf(err, errlen, "flags: unknown flag (known: disabled)");
        return -1;
    }
    return ck_user_check(u, err, errlen);
}

int ck_users_push(ck_users *users, const ck_user *u)
{
    /* Doubling: a file of 100,000 users is not 100,000 reallocations. */
    if (users->count == users->cap) {
        size_t cap = users->cap ? users->cap * 2 : 8;
        ck_user *items = malloc(cap * sizeof(*items));

        if (!items)
            return -1;
        if (users->count) {
            memcpy(items, users->items, users->count * sizeof(*items));
            OPENSSL_cleanse(users->items, users->count * sizeof(*items));
        }
        free(users->items);
        users->items = items;
        users->cap = cap;
    }
    users->items[users->count++] = *u;
    return 0;
}

static int duplicate(const ck_users *users, const ck_user *u, char *err, size_t errlen)
{
    for (size_t i = 0; i < users->count; i++) {
        if (ascii_casecmp(users->items[i].email, u->email) == 0) {
            snprintf(err, errlen, "email %.200s appears twice", u->email);
            return 1;
        }
        if (u->local_user[0] && strcmp(users->items[i].local_user, u->local_user) == 0) {
            snprintf(err, errlen, "local account %s appears twice", u->local_user);
            return 1;
        }
    }
    return 0;
}

int ck_users_parse(const char *text, size_t len, const char *where, ck_users *out,
                   char *err, size_t errlen)
{
    ck_users users = { 0 };
    ck_user u;
    char line[LINE_MAX_LEN + 1], sub[256];
    size_t pos = 0;
    int lineno = 0, rc = -1;

    memset(out, 0, sizeof(*out));
    if (ck_users_validate(text, len, where, err, errlen) != 0)
        return -1;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

        lineno++;
        if (n > LINE_MAX_LEN || memchr(text + pos, '\0', n)) {
            snprintf(err, errlen, "%s:%d: line too long or holds a NUL byte", where, lineno);
            goto out;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        pos += n + 1;
        if (lineno == 1) {
            if (strcmp(line, CK_USERS_HEADER) != 0) {
                snprintf(err, errlen, "%s:1: not a checkup users file (want \"%s\")", where,
                         CK_USERS_HEADER);
                goto out;
            }
            continue;
        }
        if (line[0] == '\0' || line[0] == '#')
            continue;
        /* Duplicates were looked for by ck_users_validate, in O(n). */
        if (ck_users_parse_record(line, &u, sub, sizeof(sub)) != 0) {
            snprintf(err, errlen, "%s:%d: %s", where, lineno, sub);
            goto out;
        }
        if (ck_users_push(&users, &u) != 0) {
            snprintf(err, errlen, "%s: out of memory", where);
            goto out;
        }
    }
    if (lineno == 0) {
        snprintf(err, errlen, "%s: empty (want the header \"%s\")", where, CK_USERS_HEADER);
        goto out;
    }
    *out = users;
    users.items = NULL;
    rc = 0;
out:
    OPENSSL_cleanse(line, sizeof(line));
    OPENSSL_cleanse(&u, sizeof(u));
    ck_users_free(&users);
    return rc;
}

int ck_users_load(const char *path, int check_mode, ck_users *out, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (ck_secfile_read(path, check_mode, USERS_FILE_MAX, &data, &len, err, errlen) != 0)
        return -1;
    rc = ck_users_parse(data, len, path, out, err, errlen);
    ck_secfile_free(data, len);
    return rc;
}

void ck_users_free(ck_users *users)
{
    if (!users)
        return;
    if (users->items) {
        OPENSSL_cleanse(users->items, users->count * sizeof(*users->items));
        free(users->items);
    }
    OPENSSL_cleanse(users->twin, sizeof(users->twin));
    memset(users, 0, sizeof(*users));
}

const ck_user *ck_users_find(const ck_users *users, const char *name)
{
    if (!users || !name || !*name)
        return NULL;
    for (size_t i = 0; i < users->count; i++)
        if (ascii_casecmp(users->items[i].email, name) == 0)
            return &users->items[i];
    for (size_t i = 0; i < users->count; i++)
        if (users->items[i].local_user[0] && strcmp(users->items[i].local_user, name) == 0)
            return &users->items[i];
    return NULL;
}

/* ---- identity mapping ------------------------------------------------- */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* The users file keeps CorpPass uuids in lower case (checkup user --corppass). */
int ck_users_corppass_match(const ck_user *u, const ck_user_identity *id)
{
    const char *uuid = or_empty(id->cp_uuid), *ent = or_empty(id->cp_entity_id);
    const char *cpuid = or_empty(id->cp_cpuid);
    size_t elen = strlen(ent), ulen = strlen(u->corppass);

    if (!u->corppass[0])
        return 0;
    if (uuid[0] && ulen == strlen(uuid)) {
        size_t i;

        for (i = 0; uuid[i] && (unsigned char)u->corppass[i] ==
                                   ascii_lower((unsigned char)uuid[i]); i++)
            ;
        if (!uuid[i])
            return 1;
    }
    return ent[0] && cpuid[0] && ulen == elen + 1 + strlen(cpuid) &&
           strncmp(u->corppass, ent, elen) == 0 && u->corppass[elen] == '/' &&
           strcmp(u->corppass + elen + 1, cpuid) == 0;
}

ck_users_map ck_users_map_identity(const ck_users *users, const ck_user_identity *id,
                                   const ck_user **out)
{
    const ck_user *found = NULL;
    const char *email = id ? or_empty(id->email) : "";

    *out = NULL;
    if (!users || !id)
        return CK_USERS_NOT_MAPPED;
    for (size_t i = 0; i < users->count; i++) {
        const ck_user *u = &users->items[i];
        int match = id->is_corppass ? ck_users_corppass_match(u, id)
                                    : email[0] && ascii_casecmp(u->email, email) == 0;

        if (!match)
            continue;
        if (found)
            return CK_USERS_AMBIGUOUS;
        found = u;
    }
    *out = found;
    return found ? CK_USERS_MAPPED : CK_USERS_NOT_MAPPED;
}

/* ---- writing ----------------------------------------------------------- */

static size_t field_encode(const char *in, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        /* '#' too: an email starting with it would make its line a comment. */
        if (*p == ':' || *p == '%' || *p == '#' || *p < 0x20 || *p == 0x7f) {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    return o;
}

char *ck_users_format(const ck_users *users, size_t *len)
{
    /* Every byte may triple when escaped; one record is bounded by the struct. */
    size_t cap = sizeof(CK_USERS_HEADER) + 64 + users->count * (3 * sizeof(ck_user) + 16);
    char *buf = malloc(cap), *p;

    if (!buf)
        return NULL;
    p = buf + snprintf(buf, cap, "%s\n# email:hash:role:clinic:local_user:flags:corppass\n",
                       CK_USERS_HEADER);
    for (size_t i = 0; i < users->count; i++) {
        const ck_user *u = &users->items[i];

        p += field_encode(u->email, p);
        *p++ = ':';
        p += field_encode(u->hash, p);
        *p++ = ':';
        p += field_encode(u->role, p);
        *p++ = ':';
        p += field_encode(u->clinic_id, p);
        *p++ = ':';
        p += field_encode(u->local_user, p);
        *p++ = ':';
        if (u->disabled) {
            memcpy(p, "disabled", 8);
            p += 8;
        }
        *p++ = ':';
        p += field_encode(u->corppass, p);
        *p++ = '\n';
    }
    *p = '\0';
    *len = (size_t)(p - buf);
    return buf;
}

int ck_users_append(ck_users *users, const ck_user *user, char *err, size_t errlen)
{
    char sub[256];

    if (ck_user_check(user, sub, sizeof(sub)) != 0 || duplicate(users, user, sub, sizeof(sub))) {
        snprintf(err, errlen, "%s", sub);
        return -1;
    }
    if (ck_users_push(users, user) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int ck_users_edit(const char *path, int create, ck_users_edit_fn fn, void *ud,
                  char *err, size_t errlen)
{
    ck_users users = { 0 };
    char *text = NULL, sub[512];
    size_t len = 0;
    int lockfd, rc = -1;

    lockfd = ck_secfile_lock(path, err, errlen);
    if (lockfd < 0)
        return -1;
    if ((!create || access(path, F_OK) == 0) &&
        ck_users_load(path, 1, &users, err, errlen) != 0)
        goto out;
    sub[0] = '\0';
    rc = fn(&users, ud, sub, sizeof(sub));
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, sub);
    if (rc != 0)
        goto out;
    rc = -1;
    text = ck_users_format(&users, &len);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = ck_secfile_replace(path, text, len, err, errlen);
    /*
     * Still under the lock: the index matches the file just written. When
     * it cannot be written, lookups rebuild it or read the whole file.
     */
    if (rc == 0)
        (void)ck_users_reindex(path, sub, sizeof(sub));
out:
    if (text)
        ck_secfile_free(text, len);
    ck_users_free(&users);
    close(lockfd);
    return rc;
}

static int add_one(ck_users *users, void *ud, char *err, size_t errlen)
{
    return ck_users_append(users, ud, err, errlen);
}

int ck_users_add(const char *path, const ck_user *user, char *err, size_t errlen)
{
    return ck_users_edit(path, 1, add_one, (void *)user, err, errlen);
}

/* ---- passwords --------------------------------------------------------- */

_Static_assert(CK_PASSWORD_HASH_MAX == CRYPT_MAX_PASSPHRASE_SIZE - 1,
               "CK_PASSWORD_HASH_MAX is libxcrypt's limit");

int ck_password_hash(const char *password, char *out, size_t outlen, char *err, size_t errlen)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    const char *h;
    int rc = -1;

    if (strlen(password) > CK_PASSWORD_HASH_MAX) {
        snprintf(err, errlen, "password longer than %d bytes (the most yescrypt takes)",
                 CK_PASSWORD_HASH_MAX);
        free(cd);
        return -1;
    }
    if (!cd) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* count 0 = libxcrypt's default cost; NULL rbytes = salt from the OS. */
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting))) {
        snprintf(err, errlen, "cannot make a yescrypt salt: %s", strerror(errno));
        goto out;
    }
    h = crypt_rn(password, setting, cd, sizeof(*cd));
    if (!h || h[0] == '*' || strlen(h) >= outlen) {
        snprintf(err, errlen, "yescrypt hashing failed");
        goto out;
    }
    memcpy(out, h, strlen(h) + 1);
    rc = 0;
out:
    OPENSSL_cleanse(cd, sizeof(*cd));
    free(cd);
    return rc;
}

/* A real yescrypt hash from the file, for the cost of the dummy check. */
static const char *cost_twin(const ck_users *users)
{
    if (users && users->twin[0])
        return users->twin;
    for (size_t i = 0; users && i < users->count; i++)
        if (strncmp(users->items[i].hash, "$y$", 3) == 0)
            return users->items[i].hash;
    return dummy_hash;
}

/*
 * A yescrypt check is about 13 ms of CPU and meant to be costly; session
 * checks are cheap and wanted at once. When many logins come together (a
 * password spray, the morning rush) their hashes would take the CPU from
 * every token check and keep-alive of the same process or service. So the
 * hash runs in a thread of its own at a lower priority, and only that
 * thread's (Linux schedules each thread on its own). CK_HASH_LOW: nice
 * +10, a small share of a busy processor. CK_HASH_IDLE: SCHED_IDLE, under
 * which any other thread that wakes up runs first (a nicer thread only
 * gets a smaller share: a waking keep-alive still waits out the hash's
 * time slice, milliseconds); and so that work at normal priority cannot
 * starve a login, a hash still running after CK_HASH_GRACE_MS goes on at
 * nice +10. Moving a thread out of SCHED_IDLE takes what lowering a
 * niceness takes (CAP_SYS_NICE, or an RLIMIT_NICE that allows it): root
 * in sshd, login and sudo has it, root in a container often does not.
 * Where it is missing, CK_HASH_IDLE runs at nice +10 from the start, and
 * CK_HASH_IDLE_POOLED stays idle (its caller's pool bounds what waits).
 * When no thread can be made, the hash runs in the caller as before.
 */
#define CK_HASH_NICE 10
#define CK_HASH_GRACE_MS 250

typedef struct hash_job {
    const char *password, *setting;
    struct crypt_data *cd;
    ck_hash_priority prio;
    const char *h;
    pid_t tid;                  /* the hashing thread, once its priority is set */
    int nice;                   /* the caller's niceness, set before tid */
    int idle;                   /* set before tid when it runs under SCHED_IDLE */
    int done;                   /* set when the hash is computed */
} hash_job;

/* Thread tid at nice +10 from nice (the caller's, which it inherited). */
static void make_nicer(pid_t tid, int nice)
{
    if (nice < 19)
        (void)setpriority(PRIO_PROCESS, (id_t)tid, nice + CK_HASH_NICE < 19 ?
                          nice + CK_HASH_NICE : 19);
}

/*
 * Whether this process may later move thread tid out of SCHED_IDLE: the
 * kernel allows that exactly when it allows the thread's niceness to be
 * set back to what it is now (can_nice), so step one nicer and back (at
 * 19, one less nice and back: a stricter question).
 */
static int may_leave_idle(pid_t tid, int nice)
{
    int step = nice < 19 ? 1 : -1;

    return setpriority(PRIO_PROCESS, (id_t)tid, nice + step) == 0 &&
           setpriority(PRIO_PROCESS, (id_t)tid, nice) == 0;
}

static void *hash_run(void *arg)
{
    hash_job *j = arg;
    struct sched_param sp = { 0 };
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int idle = 0, nice, known;

    errno = 0;
    nice = getpriority(PRIO_PROCESS, (id_t)tid);
    known = errno == 0;
    if (!known)
        nice = 19;              /* unknown: leave the niceness alone */
    /* pid 0 is this thread alone; failing that, a nicer thread will do. */
    if (j->prio == CK_HASH_IDLE_POOLED ||
        (j->prio == CK_HASH_IDLE && known && may_leave_idle(tid, nice)))
        idle = sched_setscheduler(0, SCHED_IDLE, &sp) == 0;
    if (!idle)
        make_nicer(tid, nice);
    /* so that top -H and ps -L tell the hash (at its priority) from the caller's threads */
    (void)pthread_setname_np(pthread_self(), "ck-hash");
    j->nice = nice;
    __atomic_store_n(&j->idle, idle, __ATOMIC_RELAXED);
    __atomic_store_n(&j->tid, tid, __ATOMIC_RELEASE);
    j->h = crypt_rn(j->password, j->setting, j->cd, sizeof(*j->cd));
    __atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* A SCHED_IDLE hash starved past its grace goes on at nice +10, where allowed. */
static void hash_wait(pthread_t t, hash_job *j)
{
    struct sched_param sp = { 0 };
    struct timespec until;
    pid_t tid;
    int rc;

    if (j->prio != CK_HASH_LOW && clock_gettime(CLOCK_REALTIME, &until) == 0) {
        /* Until the thread has run far enough to name itself, wait a grace more. */
        do {
            until.tv_nsec += (long)CK_HASH_GRACE_MS * 1000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            rc = pthread_timedjoin_np(t, NULL, &until);
            if (rc == 0)
                return;
            tid = __atomic_load_n(&j->tid, __ATOMIC_ACQUIRE);
        } while (tid == 0 && rc == ETIMEDOUT);
        if (tid > 0 && __atomic_load_n(&j->idle, __ATOMIC_RELAXED) &&
            !__atomic_load_n(&j->done, __ATOMIC_ACQUIRE) &&
            sched_setscheduler(tid, SCHED_OTHER, &sp) == 0)
            make_nicer(tid, j->nice);
    }
    pthread_join(t, NULL);
}

static const char *hash_nicely(const char *password, const char *setting,
                               struct crypt_data *cd, ck_hash_priority prio)
{
    hash_job j = { password, setting, cd, prio, NULL, 0, 0, 0, 0 };
    pthread_t t;

    if (pthread_create(&t, NULL, hash_run, &j) != 0)
        return crypt_rn(password, setting, cd, sizeof(*cd));
    hash_wait(t, &j);
    return j.h;
}

int ck_password_verify(const ck_users *users, const ck_user *user, const char *password,
                       ck_hash_priority prio)
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    const char *setting, *h;
    int usable, ok = 0;

    if (!cd || !password)
        goto out;
    usable = user && user->hash[0] == '$';
    setting = usable ? user->hash : cost_twin(users);
    h = hash_nicely(password, setting, cd, prio);
    if (!usable || !h || h[0] == '*' || strlen(h) != strlen(user->hash))
        goto out;
    ok = CRYPTO_memcmp(h, user->hash, strlen(h)) == 0;
out:
    if (cd) {
        OPENSSL_cleanse(cd, sizeof(*cd));
        free(cd);
    }
    return ok;
}
