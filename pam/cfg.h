/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg.h - pam_checkup module arguments.
 *
 *   config=PATH         checkup.conf (default CK_CONFIG_PATH)
 *   method=LIST         password, token or both, comma-separated
 *                       (default: both; a token is told from a password
 *                       by its shape); or, alone, corppass or oidc: a
 *                       terminal login finished in a browser (checkupd)
 *   provider=NAME       the [provider NAME] checkupd uses for a terminal
 *                       login (default "corppass" for method=corppass;
 *                       required for method=oidc)
 *   noprompt            terminal login: do not ask for Enter, only poll
 *                       (for conversations that show messages at once)
 *   noqr                terminal login: show the link without a QR code
 *   debug               log decisions at LOG_DEBUG
 *   use_first_pass      take the password an earlier module read; never prompt
 *   try_first_pass      take it if there is one, else prompt
 *
 * Unknown arguments are logged and ignored.
 */
#ifndef CK_PAM_CFG_H
#define CK_PAM_CFG_H

#define CK_METHOD_PASSWORD  1u
#define CK_METHOD_TOKEN     2u
#define CK_METHOD_CORPPASS  4u
#define CK_METHOD_OIDC      8u
#define CK_METHOD_TERMINAL  (CK_METHOD_CORPPASS | CK_METHOD_OIDC)
#define CK_PROVIDER_MAX     64

typedef struct ck_pam_args {
    const char *config;
    int config_given;           /* config= was among the arguments */
    unsigned methods;
    int debug;
    int use_first_pass;
    int try_first_pass;
    const char *provider;       /* terminal logins: the provider's name */
    int noprompt;
    int noqr;
} ck_pam_args;

/* Receives one complaint about an argument (e.g. to pam_syslog). */
typedef void (*ck_pam_warn_fn)(void *ud, const char *what, const char *arg);

/*
 * Parses argv. Unknown arguments are reported through warn and ignored;
 * returns -1 (after reporting) only when an argument we know has a value
 * we cannot use, such as "method=" naming no known method.
 */
int ck_pam_args_parse(int argc, const char **argv, ck_pam_args *out,
                      ck_pam_warn_fn warn, void *ud);

#endif
