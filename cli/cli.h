/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.h - pieces shared by the commands of the checkup tool.
 */
#ifndef CK_CLI_H
#define CK_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "ck_audit.h"
#include "ck_config.h"
#include "ck_lockout.h"
#include "ck_oidc.h"
#include "ck_store.h"

#define CLI_OK      0
#define CLI_FAIL    1       /* the command ran and failed */
#define CLI_USAGE   2       /* the command line was wrong */

typedef struct cli_cmd {
    const char *group;      /* "user", "sessions", ..., or the command itself */
    const char *name;       /* sub-command, or NULL for a one-word command */
    int (*fn)(const ck_config *cfg, int argc, char **argv);
    const char *synopsis;
    const char *help;
} cli_cmd;

/* The command being run, for messages ("user add"). */
extern const char *cli_current;

/* "checkup CMD: message" + a hint to --help on stderr; returns CLI_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "checkup: message" on stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *cli_users_path(const ck_config *cfg);
const char *cli_keys_path(const ck_config *cfg);

/* Opens the store; prints the reason and returns NULL when it cannot. */
ck_store *cli_store_open(const ck_config *cfg);
int cli_store_error(ck_store *st, ck_status rc, const char *what);

/*
 * Reads a password: one line from standard input (from_stdin), else from
 * the terminal without echo, twice when confirm is set. Returns 0, or -1
 * after printing why.
 */
int cli_read_password(int from_stdin, int confirm, const char *prompt, char *pw, size_t len);

/* Copies value into dst of max bytes; prints and returns -1 when too long. */
int cli_set_field(char *dst, size_t max, const char *value, const char *what);

void cli_fmt_time(int64_t t, char *buf, size_t len);

/* Audits an administrative action (syslog authpriv, and the audit file). */
void cli_audit_write(const ck_config *cfg, ck_store *st, ck_audit_event *ev,
                     const char *key_hex);
void cli_audit(const ck_config *cfg, const char *event, const char *user,
               const char *key_hex, const char *result, const char *reason);

/* ---- [provider NAME] sections (cli_provider.c) ---- */

enum { CLI_KEY_SIG, CLI_KEY_SIG_OLD, CLI_KEY_ENC, CLI_KEY_ENC_OLD, CLI_KEY_KINDS };

typedef struct cli_provider {
    char name[65];
    int lineno;
    ck_oidc_providers *ps;          /* this provider alone, parsed by liboidc */
    char *issuer;
    char *key[CLI_KEY_KINDS];       /* file names of the relying-party keys, or NULL */
} cli_provider;

typedef struct cli_providers {
    size_t count;
    cli_provider *items;            /* in the order of the file */
} cli_providers;

/* A ck_config_section_fn: takes [provider NAME], accepts other sections. */
int cli_config_section(void *ud, const char *section, const char *name, const char *value,
                       int lineno, char *err, size_t errlen);
const cli_providers *cli_providers_loaded(void);
const cli_provider *cli_provider_find(const char *name);
/* The configuration key of a key file: "signing_key", ... */
const char *cli_key_name(int kind);
/* Checks the section and loads its keys (once per provider); NULL with err. */
const ck_oidc_provider *cli_provider_finish(const cli_provider *p, const ck_config *cfg,
                                            char *err, size_t errlen);
void cli_providers_free(void);

/* One line of "config check"; returns 1 when it is a failure. */
int cli_check_line(int ok, const char *what, const char *detail);
/* The "config check" lines of every provider; returns the failures. */
int cli_check_providers(const ck_config *cfg);

/* The commands, one file per group. */
int cli_user_add(const ck_config *cfg, int argc, char **argv);
int cli_user_set(const ck_config *cfg, int argc, char **argv);
int cli_user_passwd(const ck_config *cfg, int argc, char **argv);
int cli_user_disable(const ck_config *cfg, int argc, char **argv);
int cli_user_enable(const ck_config *cfg, int argc, char **argv);
int cli_user_del(const ck_config *cfg, int argc, char **argv);
int cli_user_list(const ck_config *cfg, int argc, char **argv);
int cli_user_reindex(const ck_config *cfg, int argc, char **argv);
int cli_sessions_list(const ck_config *cfg, int argc, char **argv);
int cli_sessions_show(const ck_config *cfg, int argc, char **argv);
int cli_sessions_revoke(const ck_config *cfg, int argc, char **argv);
int cli_sessions_revoke_user(const ck_config *cfg, int argc, char **argv);
int cli_metrics(const ck_config *cfg, int argc, char **argv);
int cli_keys_generate(const ck_config *cfg, int argc, char **argv);
int cli_keys_rotate(const ck_config *cfg, int argc, char **argv);
int cli_keys_jwks(const ck_config *cfg, int argc, char **argv);
int cli_config_check(const ck_config *cfg, int argc, char **argv);
int cli_sweep(const ck_config *cfg, int argc, char **argv);
int cli_login(const ck_config *cfg, int argc, char **argv);
int cli_lockout_list(const ck_config *cfg, int argc, char **argv);
int cli_lockout_clear(const ck_config *cfg, int argc, char **argv);
int cli_store_copy(const ck_config *cfg, int argc, char **argv);

/*
 * Clears the lock and failures of an account or address, on st (or on a
 * store of its own when st is NULL), and audits it once. reason NULL: the
 * "lockout clear" command, which always reports; otherwise the command that
 * clears it on the way ("password_set"), which reports only a lock that
 * was there. On failure says what to run instead; returns CLI_OK/CLI_FAIL.
 */
int cli_lockout_clear_one(const ck_config *cfg, ck_store *st, ck_lock_kind kind,
                          const char *name, const char *reason);

#endif
