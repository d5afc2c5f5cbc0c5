/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pamconv.c - the one PAM conversation of the tests (pamconv.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pamconv.h"

int tp_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
    tp_conv *c = appdata;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    size_t used;

    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            const char *a = c->answer ? c->answer(c->ud) : c->secret;

            r[i].resp = strdup(a ? a : "");
            continue;
        }
        used = strlen(c->msgs);
        snprintf(c->msgs + used, sizeof(c->msgs) - used, "%s\n", msg[i]->msg);
        if (c->print_prefix)
            printf("%s%s\n", c->print_prefix, msg[i]->msg);
    }
    *resp = r;
    return PAM_SUCCESS;
}
