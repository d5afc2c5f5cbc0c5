/*
 * cfg.h - pam_checkup module arguments.
 *
 *   config=PATH         checkup.conf (default CK_CONFIG_PATH)
 *   method=LIST         password, token or both, comma-separated
 *                       (default: both; a token is told from a password
 *                       by its shape)
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

typedef struct ck_pam_args {
    const char *config;
    int config_given;           /* config= was among the arguments */
    unsigned methods;
    int debug;
    int use_first_pass;
    int try_first_pass;
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
