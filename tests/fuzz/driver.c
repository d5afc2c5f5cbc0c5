/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * driver.c - main() for tests/fuzz/ckfuzz without libFuzzer (gcc, make
 * check): feeds every seed of tests/fuzz/corpus/NAME/ to target NAME.
 *
 *   ckfuzz                  every target over its corpus (top_srcdir from
 *                           the environment, else the current directory)
 *   ckfuzz NAME FILE...     target NAME over the given files
 *
 * A target without seeds, or seeds without a target, fail the run: either
 * would be a target that CI never exercises.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define INPUT_MAX (1024 * 1024)

/*
 * In the sanitizer build, an allocation of more than 1 GiB is a failure,
 * as libFuzzer's -malloc_limit_mb makes it in the fuzz build: an input
 * that makes us ask for that much is a bug even when the system obliges.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "max_allocation_size_mb=1024:allocator_may_return_null=0";
}

/* Runs fn over one file; -1 when the file cannot be read. */
static int run_file(ck_fuzz_fn fn, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;

    if (!f) {
        fprintf(stderr, "ckfuzz: %s: %s\n", path, strerror(errno));
        return -1;
    }
    buf = malloc(INPUT_MAX);
    if (!buf) {
        fclose(f);
        return -1;
    }
    n = fread(buf, 1, INPUT_MAX, f);
    fclose(f);
    /* An exact-size copy, so that ASan sees a read past the input's end. */
    {
        uint8_t *in = malloc(n ? n : 1);

        if (!in) {
            free(buf);
            return -1;
        }
        memcpy(in, buf, n);
        free(buf);
        fn(in, n);
        free(in);
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs fn over every regular file in dir, in name order; returns the count or -1. */
static long run_dir(ck_fuzz_fn fn, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, path[8192];
    size_t n = 0;
    long done = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char **more;

        if (e->d_name[0] == '.')
            continue;
        more = realloc(names, (n + 1) * sizeof(*names));
        if (!more)
            break;
        names = more;
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (n > 1)      /* names is NULL when the directory is empty */
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(fn, path) != 0)
                done = -1;
            else if (done >= 0)
                done++;
        }
        free(names[i]);
    }
    free(names);
    return done;
}

/* Every directory under root must name a target (seeds nobody runs are a mistake). */
static int check_orphans(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *e;
    int bad = 0;

    if (!d) {
        fprintf(stderr, "ckfuzz: %s: %s\n", root, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!ck_fuzz_find(e->d_name)) {
            fprintf(stderr, "ckfuzz: %s/%s has seeds but no target of that name is built "
                    "(add it in tests/fuzz/fuzz.mk)\n", root, e->d_name);
            bad = -1;
        }
    }
    closedir(d);
    return bad;
}

int main(int argc, char **argv)
{
    const char *top = getenv("top_srcdir");
    char root[4096], dir[4200];
    int failed = 0;

    if (argc >= 2) {
        ck_fuzz_fn fn = ck_fuzz_find(argv[1]);

        if (!fn || argc < 3) {
            fprintf(stderr, "usage: ckfuzz [TARGET FILE...]\n");
            return 2;
        }
        for (int i = 2; i < argc; i++)
            failed |= run_file(fn, argv[i]) != 0;
        printf("ckfuzz: %s: %d input(s) %s\n", argv[1], argc - 2, failed ? "FAILED" : "ok");
        return failed;
    }
    snprintf(root, sizeof(root), "%s/tests/fuzz/corpus", top && *top ? top : ".");
    if (check_orphans(root) != 0)
        failed = 1;
    for (size_t i = 0; i < ck_fuzz_count(); i++) {
        const char *name = ck_fuzz_name(i);
        long n;

        snprintf(dir, sizeof(dir), "%s/%s", root, name);
        n = run_dir(ck_fuzz_find(name), dir);
        if (n <= 0) {
            printf("FAIL: %s: no seed corpus in %s\n", name, dir);
            failed = 1;
            continue;
        }
        printf("ok: %s: %ld seed input(s)\n", name, n);
    }
    printf("ckfuzz: %zu target(s), %s\n", ck_fuzz_count(), failed ? "FAILED" : "all ok");
    return failed;
}
