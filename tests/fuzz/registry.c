/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * registry.c - the targets of tests/fuzz/ckfuzz and libFuzzer's entry
 * points, which hand each input to the target named by CK_FUZZ_TARGET.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define MAX_TARGETS 64

static struct {
    const char *name;
    ck_fuzz_fn fn;
} targets[MAX_TARGETS];
static size_t ntargets;
static ck_fuzz_fn selected;

void ck_fuzz_register(const char *name, ck_fuzz_fn fn)
{
    /* Runs before main(): a mistake here is the build's, so stop loudly. */
    if (ntargets == MAX_TARGETS || ck_fuzz_find(name)) {
        fprintf(stderr, "ckfuzz: cannot register target %s (duplicate or too many)\n", name);
        abort();
    }
    targets[ntargets].name = name;
    targets[ntargets].fn = fn;
    ntargets++;
}

size_t ck_fuzz_count(void)
{
    return ntargets;
}

const char *ck_fuzz_name(size_t i)
{
    return i < ntargets ? targets[i].name : NULL;
}

ck_fuzz_fn ck_fuzz_find(const char *name)
{
    for (size_t i = 0; i < ntargets; i++)
        if (strcmp(targets[i].name, name) == 0)
            return targets[i].fn;
    return NULL;
}

static void list_targets(FILE *f)
{
    for (size_t i = 0; i < ntargets; i++)
        fprintf(f, "%s%s", i ? " " : "", targets[i].name);
    fputc('\n', f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *name = getenv("CK_FUZZ_TARGET");

    (void)argc;
    (void)argv;
    if (name && strcmp(name, "list") == 0) {
        list_targets(stdout);
        exit(0);
    }
    selected = name ? ck_fuzz_find(name) : NULL;
    if (!selected) {
        fprintf(stderr, "ckfuzz: set CK_FUZZ_TARGET to one of: ");
        list_targets(stderr);
        exit(2);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return selected(data, size);
}
