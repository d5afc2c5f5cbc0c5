/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * users_int.h - what the users file parser (users.c) shares with its
 * index (users_index.c). Not a public header.
 */
#ifndef CK_USERS_INT_H
#define CK_USERS_INT_H

#include "ck_users.h"

#define CK_USERS_FILE_MAX   (16 * 1024 * 1024)
#define CK_USERS_LINE_MAX   4096

int ck_users_ascii_lower(int c);
int ck_users_casecmp(const char *a, const char *b);
/* Parses one record line (NUL-terminated, no newline); -1 with a reason. */
int ck_users_parse_record(char *line, ck_user *u, char *err, size_t errlen);
/* Appends a copy of u without checks; -1 when out of memory. */
int ck_users_push(ck_users *users, const ck_user *u);
/* ck_users_map_identity's test for one record. */
int ck_users_corppass_match(const ck_user *u, const ck_user_identity *id);
/*
 * Checks text as a whole users file (what ck_users_parse refuses, the
 * same messages, duplicates found in O(n)) without keeping the records.
 */
int ck_users_validate(const char *text, size_t len, const char *where, char *err,
                      size_t errlen);

#endif
