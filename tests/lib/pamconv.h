/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pamconv.h - the one PAM conversation of the tests, the driver and the
 * benchmark: every prompt gets the secret (or what answer() gives), every
 * message is kept in msgs and, with a prefix, printed.
 */
#ifndef CK_TEST_PAMCONV_H
#define CK_TEST_PAMCONV_H

#include <security/pam_appl.h>

typedef struct tp_conv {
    const char *secret;                 /* the answer to every prompt */
    const char *(*answer)(void *ud);    /* or this, when set */
    void *ud;
    const char *print_prefix;           /* print each message behind it; NULL: quiet */
    char msgs[2048];                    /* the messages, one a line (cut when full) */
} tp_conv;

/* A struct pam_conv function; appdata_ptr is a tp_conv. */
int tp_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata);

#endif
