/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_text.h - what checkup accepts as a text field: valid UTF-8 (no
 * overlong forms, no surrogates) without control characters. Every
 * identity field that reaches a session, a log line or the users file
 * passes this check first.
 */
#ifndef CK_TEXT_H
#define CK_TEXT_H

int ck_text_ok(const char *s);

#endif
