/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz.h - checkup's libFuzzer targets share one program (tests/fuzz/ckfuzz).
 *
 * A target is written as
 *
 *     CK_FUZZ_TARGET(name)
 *     {
 *         ...data, size...
 *         return 0;
 *     }
 *
 * and registers itself before main(). With libFuzzer (--enable-fuzzing) the
 * environment variable CK_FUZZ_TARGET picks the target; in a normal build
 * driver.c runs every target over its seed corpus, tests/fuzz/corpus/name/.
 * A target signals a broken property with ck_fuzz_fail(), which aborts, so
 * libFuzzer and the driver both see a crash.
 */
#ifndef CK_FUZZ_H
#define CK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "ck_store.h"

typedef int (*ck_fuzz_fn)(const uint8_t *data, size_t size);

void ck_fuzz_register(const char *name, ck_fuzz_fn fn);
size_t ck_fuzz_count(void);
const char *ck_fuzz_name(size_t i);
ck_fuzz_fn ck_fuzz_find(const char *name);

#define CK_FUZZ_TARGET(name)                                                 \
    static int ck_fuzz_##name(const uint8_t *data, size_t size);            \
    static void ck_fuzz_reg_##name(void) __attribute__((constructor));      \
    static void ck_fuzz_reg_##name(void)                                     \
    {                                                                        \
        ck_fuzz_register(#name, ck_fuzz_##name);                             \
    }                                                                        \
    static int ck_fuzz_##name(const uint8_t *data, size_t size)

/* Prints "target property broken: why" and aborts. */
void ck_fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A well-formed session id ("0a" then base64url), the same every call. */
const char *ck_fuzz_sid(void);

/* A NUL-terminated copy of the input (free() it); never NULL. */
char *ck_fuzz_strndup(const uint8_t *data, size_t size);

/*
 * A private directory (mode 0700) for files a target needs, made once per
 * process under TMPDIR and removed at exit.
 */
const char *ck_fuzz_tmpdir(void);

/* libFuzzer's entry points, defined in registry.c. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
