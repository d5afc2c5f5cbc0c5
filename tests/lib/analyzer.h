/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forced into every file by make lint (clang-tidy, cppcheck) and
 * scan-build, never by the build: what the analyzers, which see one file at
 * a time and not cmocka's source, need to know.
 *
 * cmocka 1.1 does not declare its failures noreturn, so after
 * "if (!p) fail_msg(...);" the analyzers would follow the null pointer on.
 */
#if defined(__clang_analyzer__)
void _fail(const char *const file, const int line) __attribute__((noreturn));
#elif defined(__CPPCHECK__)
#define fail() abort()
#define fail_msg(...) abort()
#endif
