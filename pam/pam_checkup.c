/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pam_checkup.c - the PAM entry points of pam_checkup.so, and nothing
 * else: each one reads its arguments and state, hands over to the phase
 * (auth.c, account.c, session.c) and returns its answer. Only these
 * symbols are exported (pam_checkup.map).
 */
#include "config.h"

#include <security/pam_modules.h>

#include "module.h"

/* Every entry point: arguments and state first, then the phase. */
static int run(pam_handle_t *pamh, int flags, int argc, const char **argv,
               int (*phase)(ck_pam_call *))
{
    ck_pam_call c;
    int rc;

    rc = ck_pam_begin(&c, pamh, flags, argc, argv);
    if (rc != PAM_SUCCESS)
        return rc;
    return phase(&c);
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return run(pamh, flags, argc, argv, ck_pam_authenticate);
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    /* Nothing to establish beyond the session, which open_session makes. */
    return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return run(pamh, flags, argc, argv, ck_pam_account);
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return run(pamh, flags, argc, argv, ck_pam_open_session);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return run(pamh, flags, argc, argv, ck_pam_close_session);
}
