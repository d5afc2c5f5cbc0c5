/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The users file's index: lookups through it, its rebuild when the file
 * changes, and an index that is stale, lies, is damaged or cannot be
 * written: a lookup is then slower, never wrong.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ck_users.h"

#define H "$y$j9T$i9v21x0AhYPEt2SvjpDd./$74O04NM.paqeHZDefKTuyLAdvVKJCE/GIMhyq.9Y.m1"
#define IDX_HDR 96
#define IDX_SLOT 12

typedef struct fixture {
    char dir[64];
    char path[128];
    char index[160];
} fixture;

static const char small[] =
    "#checkup-users 1\n"
    "# email:hash:role:clinic:local_user:flags:corppass\n"
    "alice@example.org:" H ":doctor:c1:alice::0f6a1c2e-9b1d-4f00-8a11-3c2b7e9d0a01\n"
    "bob@example.org:!:nurse:c2:bob::T00000001A/S1234567A\n"
    "carol@example.org:!:admin:::disabled:dup-uuid\n"
    "dave@example.org:!:admin::dave::dup-uuid\n";

static void write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0600), 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

/* Writes text to a temporary file and renames it over path, as an editor would. */
static void replace_file(const fixture *f, const char *text)
{
    char tmp[200];

    snprintf(tmp, sizeof(tmp), "%s.new", f->path);
    write_file(tmp, text, strlen(text));
    assert_int_equal(rename(tmp, f->path), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/ck-test-uidx-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/users", f->dir);
    snprintf(f->index, sizeof(f->index), "%s" CK_USERS_INDEX_SUFFIX, f->path);
    write_file(f->path, small, strlen(small));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* The one record name finds, or NULL; out is freed by the caller. */
static const ck_user *find(const fixture *f, const char *name, ck_users *out)
{
    char err[768];

    if (ck_users_lookup(f->path, name, out, err, sizeof(err)) != 0)
        fail_msg("lookup %s: %s", name, err);
    assert_true(out->count <= 1);
    return out->count ? &out->items[0] : NULL;
}

/* Looks name up and checks the answer is role (NULL: not found). */
static void expect(const fixture *f, const char *name, const char *email, const char *role)
{
    ck_users u;
    const ck_user *r = find(f, name, &u);

    if (!email) {
        if (r)
            fail_msg("%s: found %s, want nobody", name, r->email);
    } else {
        if (!r)
            fail_msg("%s: not found, want %s", name, email);
        assert_string_equal(r->email, email);
        assert_string_equal(r->role, role);
    }
    ck_users_free(&u);
}

static void read_index(const fixture *f, unsigned char **img, size_t *len)
{
    struct stat sb;
    int fd = open(f->index, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &sb), 0);
    *len = (size_t)sb.st_size;
    *img = malloc(*len);
    assert_non_null(*img);
    assert_int_equal(read(fd, *img, *len), (ssize_t)*len);
    close(fd);
}

/* Puts a changed index in place, keeping its name, owner and mode. */
static void write_index(const fixture *f, const unsigned char *img, size_t len)
{
    write_file(f->index, (const char *)img, len);
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_size == b->st_size;
}

static void test_lookup_hit_miss(void **state)
{
    fixture *f = *state;
    struct stat sb;
    ck_users u;
    const ck_user *r;

    expect(f, "alice@example.org", "alice@example.org", "doctor");
    /* The first lookup wrote the index, as secret as the users file. */
    assert_int_equal(stat(f->index, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    expect(f, "ALICE@Example.ORG", "alice@example.org", "doctor");
    expect(f, "alice", "alice@example.org", "doctor");
    expect(f, "Alice", NULL, NULL);           /* local names are exact */
    expect(f, "bob", "bob@example.org", "nurse");
    expect(f, "carol@example.org", "carol@example.org", "admin");
    expect(f, "nobody@example.org", NULL, NULL);
    expect(f, "", NULL, NULL);
    expect(f, "# email", NULL, NULL);
    expect(f, "#checkup-users 1", NULL, NULL);
    /* An unknown user's check costs what the file's hashes cost. */
    r = find(f, "nobody@example.org", &u);
    assert_null(r);
    assert_string_equal(u.twin, H);
    assert_int_equal(ck_password_verify(&u, NULL, "x", CK_HASH_LOW), 0);
    ck_users_free(&u);
    r = find(f, "carol@example.org", &u);
    assert_non_null(r);
    assert_true(r->disabled);
    assert_string_equal(r->corppass, "dup-uuid");
    ck_users_free(&u);
    /* The index was used, not rewritten, by the lookups after the first. */
    {
        struct stat again;

        assert_int_equal(stat(f->index, &again), 0);
        assert_true(same_file(&sb, &again));
    }
}

static void test_lookup_identity(void **state)
{
    fixture *f = *state;
    ck_user_identity id;
    const ck_user *r;
    ck_users u;
    char err[768];

    id = (ck_user_identity){ 1, NULL, "0F6A1C2E-9B1D-4F00-8A11-3C2B7E9D0A01", NULL, NULL };
    assert_int_equal(ck_users_lookup_identity(f->path, &id, &u, err, sizeof(err)), 0);
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_MAPPED);
    assert_string_equal(r->email, "alice@example.org");
    ck_users_free(&u);
    id = (ck_user_identity){ 1, NULL, NULL, "T00000001A", "S1234567A" };
    assert_int_equal(ck_users_lookup_identity(f->path, &id, &u, err, sizeof(err)), 0);
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_MAPPED);
    assert_string_equal(r->email, "bob@example.org");
    ck_users_free(&u);
    /* Two records with one mapping: both come back, so the caller refuses. */
    id = (ck_user_identity){ 1, NULL, "DUP-UUID", NULL, NULL };
    assert_int_equal(ck_users_lookup_identity(f->path, &id, &u, err, sizeof(err)), 0);
    assert_int_equal(u.count, 2);
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_AMBIGUOUS);
    ck_users_free(&u);
    /* The uuid of one and the entity/user of another: ambiguous too. */
    id = (ck_user_identity){ 1, NULL, "0f6a1c2e-9b1d-4f00-8a11-3c2b7e9d0a01", "T00000001A",
                             "S1234567A" };
    assert_int_equal(ck_users_lookup_identity(f->path, &id, &u, err, sizeof(err)), 0);
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_AMBIGUOUS);
    ck_users_free(&u);
    /* Provider emails map by email only, never by local name. */
    id = (ck_user_identity){ 0, "BOB@example.org", NULL, NULL, NULL };
    assert_int_equal(ck_users_lookup_identity(f->path, &id, &u, err, sizeof(err)), 0);
    assert_int_equal(ck_users_map_identity(&u, &id, &r), CK_USERS_MAPPED);
    assert_string_equal(r->email, "bob@example.org");
    ck_users_free(&u);
    id = (ck_user_identity){ 0, "bob", NULL, NULL, NULL };
    assert_int_equal(ck_users_lookup_identity(f->path, &id, &u, err, sizeof(err)), 0);
    assert_int_equal(u.count, 0);
    ck_users_free(&u);
}

/* An edit in place that keeps the size, by hand: the index notices. */
static void test_rebuild_on_change(void **state)
{
    fixture *f = *state;
    struct timespec ts[2];
    struct stat before, after;
    char *text = strdup(small), *p;
    int fd;

    assert_non_null(text);
    expect(f, "bob", "bob@example.org", "nurse");
    assert_int_equal(stat(f->path, &before), 0);
    /* nurse -> nurze, same size, mtime one second later. */
    p = strstr(text, ":nurse:");
    assert_non_null(p);
    p[4] = 'z';
    fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, text, strlen(text), 0), (ssize_t)strlen(text));
    ts[0] = before.st_atim;
    ts[1] = before.st_mtim;
    ts[1].tv_sec += 1;
    assert_int_equal(futimens(fd, ts), 0);
    close(fd);
    assert_int_equal(stat(f->path, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    expect(f, "bob", "bob@example.org", "nurze");
    /* Again, with the old mtime put back: the ctime still tells. */
    p[4] = 'q';
    fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, text, strlen(text), 0), (ssize_t)strlen(text));
    ts[1] = after.st_mtim;
    assert_int_equal(futimens(fd, ts), 0);
    close(fd);
    expect(f, "bob", "bob@example.org", "nurqe");
    /* Replaced by rename: a new record is found, a removed one is gone. */
    replace_file(f, "#checkup-users 1\n"
                    "erin@example.org:" H ":admin::erin::\n"
                    "bob@example.org:!:porter:c2:bob::\n");
    expect(f, "erin", "erin@example.org", "admin");
    expect(f, "bob@example.org", "bob@example.org", "porter");
    expect(f, "alice", NULL, NULL);
    /* A file that no longer parses is refused, as by ck_users_load. */
    replace_file(f, "#checkup-users 1\nerin@example.org:" H ":admin\n");
    {
        ck_users u;
        char err[768];

        assert_int_equal(ck_users_lookup(f->path, "erin", &u, err, sizeof(err)), -1);
        assert_non_null(strstr(err, ":2: expected 7"));
    }
    free(text);
}

/* checkup's edits rewrite the index with the file. */
static void test_edit_rewrites_index(void **state)
{
    fixture *f = *state;
    struct stat ub, ib;
    unsigned char *img;
    size_t len;
    ck_user one;
    char err[768];

    memset(&one, 0, sizeof(one));
    snprintf(one.email, sizeof(one.email), "frank@example.org");
    snprintf(one.hash, sizeof(one.hash), "!");
    snprintf(one.role, sizeof(one.role), "clerk");
    assert_int_equal(ck_users_add(f->path, &one, err, sizeof(err)), 0);
    assert_int_equal(stat(f->path, &ub), 0);
    read_index(f, &img, &len);
    /* It names the new file: inode and size at their offsets. */
    assert_true(len > IDX_HDR);
    assert_memory_equal(img, "CKUSRIDX", 8);
    {
        uint64_t ino = 0, size = 0;

        for (int i = 7; i >= 0; i--) {
            ino = ino << 8 | img[24 + i];
            size = size << 8 | img[32 + i];
        }
        assert_true(ino == (uint64_t)ub.st_ino);
        assert_true(size == (uint64_t)ub.st_size);
    }
    free(img);
    assert_int_equal(stat(f->index, &ib), 0);
    expect(f, "frank@example.org", "frank@example.org", "clerk");
    {
        struct stat again;

        assert_int_equal(stat(f->index, &again), 0);
        assert_true(same_file(&ib, &again));
    }
    assert_int_equal(ck_users_reindex(f->path, err, sizeof(err)), 0);
}

/*
 * A well-formed index of another file, relabelled as this file's: its
 * slots pass their checks but send names to other records, or inside
 * lines. The lookup still answers right, and rebuilds it.
 */
static void test_lying_index(void **state)
{
    fixture *f = *state;
    static const char other[] =
        "#checkup-users 1\n"
        "# email:hash:role:clinic:local_user:flags:corppass\n"
        "bob@example.org:!:nurse:c2:bob::T00000001A/S1234567A\n"
        "alice@example.org:" H ":doctor:c1:alice::0f6a1c2e-9b1d-4f00-8a11-3c2b7e9d0a01\n"
        "dave@example.org:!:admin::dave::dup-uuid\n";
    unsigned char *mine, *lie;
    size_t mlen, llen;

    /* The other file's index: bob's entries lead to where alice is here. */
    replace_file(f, other);
    expect(f, "bob", "bob@example.org", "nurse");
    read_index(f, &lie, &llen);
    replace_file(f, small);
    expect(f, "alice", "alice@example.org", "doctor");
    read_index(f, &mine, &mlen);
    memcpy(lie + 16, mine + 16, 72 - 16);   /* device .. ctime: this file's */
    write_index(f, lie, llen);
    expect(f, "bob", "bob@example.org", "nurse");
    write_index(f, lie, llen);
    expect(f, "bob@example.org", "bob@example.org", "nurse");
    write_index(f, lie, llen);
    expect(f, "alice", "alice@example.org", "doctor");
    write_index(f, lie, llen);
    expect(f, "dave", "dave@example.org", "admin");
    write_index(f, lie, llen);
    expect(f, "nobody@example.org", NULL, NULL);
    /* Carol is not in the lying index: a miss, never someone else. */
    write_index(f, lie, llen);
    {
        ck_users u;
        const ck_user *r = find(f, "carol@example.org", &u);

        assert_true(r == NULL || strcmp(r->email, "carol@example.org") == 0);
        ck_users_free(&u);
    }
    free(lie);
    free(mine);
}

/* Damaged index files: truncated, another magic, offsets past the end, noise. */
static void test_corrupt_index(void **state)
{
    fixture *f = *state;
    static const char *names[] = { "alice", "bob@example.org", "carol@example.org",
                                   "dave", "nobody@example.org", "alice@example.org" };
    static const char *emails[] = { "alice@example.org", "bob@example.org",
                                    "carol@example.org", "dave@example.org", NULL,
                                    "alice@example.org" };
    static const char *roles[] = { "doctor", "nurse", "admin", "admin", NULL, "doctor" };
    unsigned char *img, *bad;
    size_t len;
    unsigned seed = 17;

    expect(f, "alice", "alice@example.org", "doctor");
    read_index(f, &img, &len);
    bad = malloc(len + 64);
    assert_non_null(bad);
    /* truncated: in the header, in the table */
    write_index(f, img, 40);
    expect(f, "alice", "alice@example.org", "doctor");
    write_index(f, img, len - IDX_SLOT);
    expect(f, "bob", "bob@example.org", "nurse");
    /* empty, another magic, another version, padded */
    write_index(f, img, 0);
    expect(f, "dave", "dave@example.org", "admin");
    memcpy(bad, img, len);
    bad[0] = 'X';
    write_index(f, bad, len);
    expect(f, "dave", "dave@example.org", "admin");
    memcpy(bad, img, len);
    bad[8] = 2;
    write_index(f, bad, len);
    expect(f, "dave", "dave@example.org", "admin");
    memcpy(bad, img, len);
    memset(bad + len, 0, 64);
    write_index(f, bad, len + 64);
    expect(f, "dave", "dave@example.org", "admin");
    /* a huge table size in the header */
    memcpy(bad, img, len);
    bad[12] = 40;
    write_index(f, bad, len);
    expect(f, "carol@example.org", "carol@example.org", "admin");
    /* offsets past the end of the users file, and a twin past it */
    memcpy(bad, img, len);
    for (size_t i = IDX_HDR; i < len; i += IDX_SLOT)
        if (bad[i + 4] | bad[i + 5] | bad[i + 6] | bad[i + 7])
            bad[i + 6] = 0x7f;
    bad[88 + 2] = 0x7f;
    write_index(f, bad, len);
    expect(f, "bob", "bob@example.org", "nurse");
    expect(f, "nobody@example.org", NULL, NULL);
    /* a full table: no empty slot to end a miss */
    memcpy(bad, img, len);
    for (size_t i = IDX_HDR; i < len; i += IDX_SLOT)
        if (!(bad[i + 4] | bad[i + 5] | bad[i + 6] | bad[i + 7]))
            memset(bad + i, 0xff, IDX_SLOT);
    write_index(f, bad, len);
    expect(f, "nobody@example.org", NULL, NULL);
    /* every slot zeroed, as if empty: the checks tell */
    memcpy(bad, img, len);
    memset(bad + IDX_HDR, 0, len - IDX_HDR);
    write_index(f, bad, len);
    expect(f, "alice", "alice@example.org", "doctor");
    /* noise: random bytes changed anywhere; the answers stay right */
    for (int round = 0; round < 300; round++) {
        int k = round % 6;

        memcpy(bad, img, len);
        for (int n = 1 + rand_r(&seed) % 8; n > 0; n--)
            bad[(size_t)rand_r(&seed) % len] = (unsigned char)rand_r(&seed);
        write_index(f, bad, len);
        expect(f, names[k], emails[k], roles[k]);
    }
    free(bad);
    free(img);
}

/* An index that may not be written: answers right, said once, kept in memory. */
static void test_unwritable_index(void **state)
{
    fixture *f = *state;
    ck_users u;
    const ck_user *r;

    expect(f, "alice", "alice@example.org", "doctor");
    assert_int_equal(unlink(f->index), 0);
    /* A directory in its place: it can be neither read nor replaced. */
    assert_int_equal(mkdir(f->index, 0700), 0);
    r = find(f, "bob", &u);
    assert_non_null(r);
    assert_string_equal(r->role, "nurse");
    assert_non_null(strstr(u.warning, "cannot write"));
    if (!strstr(u.warning, "not a regular file"))
        fail_msg("warning: %s", u.warning);
    ck_users_free(&u);
    /* Said once; answered from memory while the file stays the same. */
    r = find(f, "alice@example.org", &u);
    assert_non_null(r);
    assert_string_equal(u.warning, "");
    ck_users_free(&u);
    replace_file(f, "#checkup-users 1\ngina@example.org:!:admin::gina::\n");
    expect(f, "gina", "gina@example.org", "admin");
    expect(f, "alice", NULL, NULL);
    /*
     * Writable again: the next change writes the index (an unchanged file
     * is tried again after a minute), and a later problem is told again.
     */
    assert_int_equal(rmdir(f->index), 0);
    expect(f, "gina", "gina@example.org", "admin");
    assert_int_equal(access(f->index, F_OK), -1);
    replace_file(f, "#checkup-users 1\ngina@example.org:!:admin::gina::\n");
    expect(f, "gina", "gina@example.org", "admin");
    assert_int_equal(access(f->index, F_OK), 0);
    assert_int_equal(chmod(f->index, 0644), 0);
    r = find(f, "gina", &u);
    assert_non_null(r);
    assert_non_null(strstr(u.warning, "chmod 600"));
    assert_non_null(strstr(u.warning, "rebuilt"));
    ck_users_free(&u);
    {
        struct stat sb;

        assert_int_equal(stat(f->index, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
    }
    /* Another user's index (root can make one): refused, replaced by ours. */
    if (geteuid() == 0) {
        struct stat sb;

        assert_int_equal(chown(f->index, 12345, 12345), 0);
        r = find(f, "gina", &u);
        assert_non_null(r);
        assert_non_null(strstr(u.warning, "owned by uid 12345"));
        ck_users_free(&u);
        assert_int_equal(stat(f->index, &sb), 0);
        assert_int_equal(sb.st_uid, 0);
    } else {
        assert_int_equal(chown(f->index, 12345, 12345), -1);
    }
}

/*
 * A symlink where the index goes (planted where others may create
 * files, a sticky directory) is not followed, even to a good index:
 * the lookup answers from a rebuild, which replaces the link.
 */
static void test_symlink_index(void **state)
{
    fixture *f = *state;
    char other[200];
    struct stat sb;
    ck_users u;
    const ck_user *r;

    expect(f, "alice", "alice@example.org", "doctor");
    snprintf(other, sizeof(other), "%s/elsewhere", f->dir);
    assert_int_equal(rename(f->index, other), 0);
    assert_int_equal(symlink(other, f->index), 0);
    r = find(f, "bob", &u);
    assert_non_null(r);
    assert_string_equal(r->role, "nurse");
    if (!strstr(u.warning, "symbolic link") || !strstr(u.warning, "rebuilt"))
        fail_msg("warning: %s", u.warning);
    ck_users_free(&u);
    assert_int_equal(lstat(f->index, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* A link to a FIFO: neither followed nor waited on. */
    assert_int_equal(unlink(other), 0);
    assert_int_equal(mkfifo(other, 0600), 0);
    assert_int_equal(unlink(f->index), 0);
    assert_int_equal(symlink(other, f->index), 0);
    expect(f, "dave", "dave@example.org", "admin");
    assert_int_equal(lstat(f->index, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
}

/* The users file itself is still held to its policy, index or not. */
static void test_users_file_policy(void **state)
{
    fixture *f = *state;
    ck_users u;
    char err[768];

    expect(f, "alice", "alice@example.org", "doctor");
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(ck_users_lookup(f->path, "alice", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(f->path, 0600), 0);
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(ck_users_lookup(f->path, "alice", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open"));
    assert_int_equal(ck_users_reindex(f->path, err, sizeof(err)), -1);
}

typedef struct flipper {
    const fixture *f;
    volatile int stop;
    int bad;
    long seen;
} flipper;

/* Reads bob while the file is replaced: always one version, whole. */
static void *reader(void *arg)
{
    flipper *fl = arg;

    while (!fl->stop) {
        ck_users u;
        char err[768];

        if (ck_users_lookup(fl->f->path, "bob", &u, err, sizeof(err)) != 0 || u.count != 1 ||
            !((strcmp(u.items[0].role, "nurse") == 0 &&
               strcmp(u.items[0].clinic_id, "c2") == 0) ||
              (strcmp(u.items[0].role, "surgeon") == 0 &&
               strcmp(u.items[0].clinic_id, "c9") == 0)))
            fl->bad++;
        fl->seen++;
        ck_users_free(&u);
    }
    return NULL;
}

static int set_bob(ck_users *users, void *ud, char *err, size_t errlen)
{
    int flip = *(int *)ud;

    (void)err;
    (void)errlen;
    for (size_t i = 0; i < users->count; i++) {
        if (strcmp(users->items[i].email, "bob@example.org") == 0) {
            snprintf(users->items[i].role, sizeof(users->items[i].role), "%s",
                     flip ? "surgeon" : "nurse");
            snprintf(users->items[i].clinic_id, sizeof(users->items[i].clinic_id), "%s",
                     flip ? "c9" : "c2");
        }
    }
    return 0;
}

static void test_readers_during_rewrite(void **state)
{
    fixture *f = *state;
    flipper fl = { f, 0, 0, 0 };
    pthread_t t;
    char err[768];

    expect(f, "bob", "bob@example.org", "nurse");
    assert_int_equal(pthread_create(&t, NULL, reader, &fl), 0);
    for (int i = 0; i < 40; i++) {
        int flip = i % 2 == 0;

        assert_int_equal(ck_users_edit(f->path, 0, set_bob, &flip, err, sizeof(err)), 0);
        /* Some rewrites without the index, as by hand. */
        if (i % 3 == 0)
            unlink(f->index);
    }
    fl.stop = 1;
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(fl.bad, 0);
    assert_true(fl.seen > 0);
}

/* 100,000 users: found through the index, and a file that size parses in O(n). */
static void test_many_users(void **state)
{
    enum { N = 100000 };
    fixture *f = *state;
    size_t cap = (size_t)N * 140 + 64, len = 0;
    char *text = malloc(cap), name[64], email[64], err[768];
    struct timespec t0, t1, t2;
    double rebuild, lookups;
    ck_users all;

    assert_non_null(text);
    len += (size_t)snprintf(text, cap, "#checkup-users 1\n");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "user%06d@example.org:%s:role%d:c%d:u%06d::%s\n", i,
                                i == N - 1 ? H : "!", i % 7, i % 100, i,
                                i % 2 ? "" : "cp-uuid");
    write_file(f->path, text, len);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect(f, "user000000@example.org", "user000000@example.org", "role0");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (int i = 1; i < 1000; i++) {
        int k = (int)(((unsigned)i * 7919u) % N);
        ck_users u;
        const ck_user *r;

        snprintf(name, sizeof(name), i % 2 ? "u%06d" : "USER%06d@example.org", k);
        snprintf(email, sizeof(email), "user%06d@example.org", k);
        r = find(f, name, &u);
        if (!r || strcmp(r->email, email) != 0)
            fail_msg("%s: found %s", name, r ? r->email : "nobody");
        /* The one yescrypt hash is at the end: found through the index. */
        assert_string_equal(u.twin, H);
        ck_users_free(&u);
        snprintf(name, sizeof(name), "user%06d@example.net", k);
        expect(f, name, NULL, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t2);
    rebuild = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    lookups = ((double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9) /
              1999;
    print_message("100k users: first lookup (index rebuild) %.1f ms, then %.1f us a lookup\n",
                  rebuild * 1e3, lookups * 1e6);
    /*
     * Far below one full read per lookup: the file is about 5 MB, and
     * reading and parsing it is what the first lookup did.
     */
    assert_true(lookups < rebuild / 20);
    /* Every other record shares one CorpPass mapping: all come back. */
    {
        ck_user_identity id = { 1, NULL, "CP-UUID", NULL, NULL };
        ck_users u;

        assert_int_equal(ck_users_lookup_identity(f->path, &id, &u, err, sizeof(err)), 0);
        assert_true(u.count >= 2);
        ck_users_free(&u);
    }
    /* A whole load (listing) of that size, duplicates checked in O(n). */
    assert_int_equal(ck_users_load(f->path, 1, &all, err, sizeof(err)), 0);
    assert_int_equal(all.count, N);
    ck_users_free(&all);
    /* A duplicate at the very end is still found, with its line. */
    len += (size_t)snprintf(text + len, cap - len, "x@y:!:r::u000001::\n");
    assert_int_equal(ck_users_parse(text, len, "users", &all, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "users:100002: local account u000001 appears twice"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookup_hit_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_on_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_rewrites_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lying_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_file_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_during_rewrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_users, setup, teardown),
    };

    return cmocka_run_group_tests_name("users_index", tests, NULL, NULL);
}
