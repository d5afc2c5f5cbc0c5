/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * checkup - the checkup admin tool: users, sessions, lockouts, metrics,
 * keys, configuration check, sweep and a terminal login.
 *
 * Exit status, as coreutils: 0 success, 1 failure, 2 usage error.
 * Every command takes --help. Messages name the file, key or value at
 * fault and never a password, token or session id.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ck_audit.h"
#include "ck_clock.h"
#include "ck_token.h"
#include "ck_users.h"
#include "cli.h"

const char *cli_current = NULL;

static const cli_cmd commands[] = {
    { "user", "add", cli_user_add,
      "user add EMAIL --role ROLE [--clinic ID] [--local-user NAME] [--corppass ID]\n"
      "         [--password-stdin | --no-password]",
      "Add a user to the users file (mode 0600, yescrypt hash). The password is\n"
      "read twice from the terminal without echo, or as one line from standard\n"
      "input with --password-stdin; --no-password makes a CorpPass/OIDC-only user.\n"
      "--corppass maps a CorpPass identity: a UUID, or ENTITY/USER (entity id and\n"
      "CorpPass user id).\n" },
    { "user", "set", cli_user_set,
      "user set EMAIL [--role ROLE] [--clinic ID] [--local-user NAME] [--corppass ID]\n"
      "         [--keep-sessions]",
      "Change a user's role, clinic, local account or CorpPass mapping; an empty\n"
      "value ('') clears an optional field. A change ends the user's sessions\n"
      "(they carry the role and clinic they were opened with); --keep-sessions\n"
      "keeps them.\n" },
    { "user", "passwd", cli_user_passwd,
      "user passwd EMAIL [--password-stdin] [--keep-sessions]",
      "Set a user's password (read as for user add; at most 511 bytes, the most\n"
      "yescrypt takes). Every session of the user ends, as after a suspected\n"
      "compromise it must; --keep-sessions keeps them. A lockout of the account\n"
      "is cleared. When the store cannot be reached the new password stands and\n"
      "the message names the command that finishes the job (exit status 1).\n" },
    { "user", "disable", cli_user_disable, "user disable EMAIL",
      "Refuse every login of the user and end the user's sessions.\n" },
    { "user", "enable", cli_user_enable, "user enable EMAIL",
      "Allow the user to log in again, and clear a lockout of the account.\n" },
    { "user", "del", cli_user_del, "user del EMAIL",
      "Remove the user from the users file, end the user's sessions and clear a\n"
      "lockout of the account.\n" },
    { "user", "list", cli_user_list, "user list",
      "Show the users: email, role, clinic, local account, CorpPass mapping, state.\n" },
    { "user", "reindex", cli_user_reindex, "user reindex",
      "Rebuild the users file's index (the file's path + .index) now, after the\n"
      "file was edited by hand; the edits above keep it up to date themselves.\n"
      "Until then logins rebuild it, or read the whole file where they cannot.\n" },
    { "sessions", "list", cli_sessions_list, "sessions list [--user EMAIL]",
      "Show live sessions of one user, or of every user in the users file.\n" },
    { "sessions", "show", cli_sessions_show, "sessions show KEY-PREFIX [--user EMAIL]",
      "Show every field of the one session whose key starts with KEY-PREFIX\n"
      "(at least 6 characters, as 'sessions list' shows them).\n" },
    { "sessions", "revoke", cli_sessions_revoke, "sessions revoke KEY [--user EMAIL]",
      "End one session, named by its full key or a unique prefix of it.\n" },
    { "sessions", "revoke-user", cli_sessions_revoke_user, "sessions revoke-user EMAIL",
      "End every session of a user (log out from all devices).\n" },
    { "metrics", NULL, cli_metrics, "metrics [--json | --prometheus]",
      "Show active sessions (total and by method), created, ended by logout, idle\n"
      "timeout, lifetime and revocation, timeout rate, average duration, login\n"
      "failures, lockouts, anomalies, store health and round trip, Redis memory,\n"
      "and the [alerts] of checkup.conf. A crossed threshold is logged once to\n"
      "syslog. Exit status 1 when the store did not answer.\n" },
    { "keys", "generate", cli_keys_generate, "keys generate [--provider NAME [--use sig|enc]]",
      "Without --provider: add a new token signing key in front of the key ring\n"
      "(mode 0600); the keys already there still verify.\n"
      "With --provider NAME: write the relying-party EC P-256 keys that the\n"
      "provider's section names (signing_key, encryption_key and their *_old)\n"
      "and that do not exist yet, mode 0600. An existing key is never replaced.\n"
      "--use sig or enc makes only that kind.\n" },
    { "keys", "rotate", cli_keys_rotate,
      "keys rotate [--keep N] | keys rotate --provider NAME [--use sig|enc]",
      "Without --provider: add a new token signing key and keep only the N newest\n"
      "older keys (default 1), so tokens signed before still verify until they\n"
      "expire.\n"
      "With --provider NAME: copy the current signing and encryption keys to\n"
      "signing_key_old and encryption_key_old (which stay published and loaded,\n"
      "so assertions signed and ID tokens encrypted before still work) and put\n"
      "new keys in their place; the key before the old one is dropped. Restart\n"
      "checkupd afterwards. --use sig or enc rotates only that kind.\n" },
    { "keys", "jwks", cli_keys_jwks, "keys jwks [--provider NAME]",
      "Print the relying party's public JWKS (signing and encryption keys, never\n"
      "a private part): of one provider, or of every provider as checkupd\n"
      "serves it at /.well-known/jwks.json.\n" },
    { "config", "check", cli_config_check, "config check",
      "Check the configuration: it parses and validates, the users file and key\n"
      "ring load, the store answers, and for each [provider NAME] the section is\n"
      "complete, its keys load and its discovery document and JWKS can be\n"
      "fetched (issuer mismatch, unreachable, TLS failure, missing endpoint).\n"
      "One line per check; exit status 1 when anything is wrong.\n" },
    { "sweep", NULL, cli_sweep, "sweep",
      "Remove expired entries from the embedded store now (Redis expires keys\n"
      "by itself).\n" },
    { "lockout", "list", cli_lockout_list, "lockout list",
      "Show the locks in force: accounts (named from the users file) and\n"
      "addresses, with the time each ends ('until cleared' with unlock_time = 0).\n" },
    { "lockout", "clear", cli_lockout_clear, "lockout clear USER | lockout clear --address ADDR",
      "Clear the lock and the failure count of an account or of an address.\n" },
    { "store", "copy", cli_store_copy, "store copy --from URL --to URL [--verify]",
      "Copy live sessions (with their times and user indexes), failure counters,\n"
      "locks and metrics counters from one store to another without logging\n"
      "anyone out. Run it again to finish an interrupted copy or to pick up\n"
      "recent keep-alives: a session on both sides keeps the later last use,\n"
      "counters are raised to the source's, never added twice. A progress line\n"
      "goes to stderr every 1,000 sessions. --verify writes nothing: it lists\n"
      "what differs (by key, never a token) and exits 1 if anything does.\n" },
    { "login", NULL, cli_login,
      "login [EMAIL] [--password-stdin] [--service NAME] [--rhost ADDR]",
      "Log in at the terminal against the users file (not through PAM): the\n"
      "password is checked with lockout, and a session is created as a PAM login\n"
      "would create it. --rhost names the client address for lockout and\n"
      "anomaly checks (default: from SSH_CONNECTION).\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ---- messages ------------------------------------------------------------ */

int cli_usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "checkup%s%s: ", cli_current ? " " : "", cli_current ? cli_current : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'checkup %s%s--help'.\n", cli_current ? cli_current : "",
            cli_current ? " " : "");
    return CLI_USAGE;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "checkup: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

const char *cli_users_path(const ck_config *cfg)
{
    return cfg->users_file ? cfg->users_file : CK_DEFAULT_USERS_FILE;
}

const char *cli_keys_path(const ck_config *cfg)
{
    return cfg->token_key_file ? cfg->token_key_file : CK_DEFAULT_KEY_FILE;
}

ck_store *cli_store_open(const ck_config *cfg)
{
    char err[512], shown[1024];
    ck_store *st = ck_store_open(cfg, err, sizeof(err));

    if (!st) {
        ck_store_url_shown(cfg->store_url ? cfg->store_url : CK_DEFAULT_STORE_URL, shown,
                           sizeof(shown));
        cli_fail("store %s: %s", shown, err);
    }
    return st;
}

int cli_store_error(ck_store *st, ck_status rc, const char *what)
{
    return cli_fail("%s: %s: %s", what, ck_status_str(rc), ck_store_errstr(st));
}

int cli_set_field(char *dst, size_t max, const char *value, const char *what)
{
    size_t n = strlen(value);

    if (n >= max) {
        cli_usage("%s is longer than %zu bytes", what, max - 1);
        return -1;
    }
    memcpy(dst, value, n + 1);
    return 0;
}

void cli_fmt_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "%lld", (long long)t);
}

/* Sends ev (its sid_hash from key_hex, when given) to syslog and the JSON audit file. */
void cli_audit_write(const ck_config *cfg, ck_store *st, ck_audit_event *ev,
                     const char *key_hex)
{
    char sid[CK_SID_HASH_LEN];

    if (key_hex && *key_hex) {
        ck_audit_sid_hash(key_hex, sid);
        ev->sid_hash = sid;
    }
    /* syslog has the line and the reason; the admin at the terminal is told too. */
    if (ck_audit_emit(cfg, st, ev, LOG_NOTICE, ck_audit_syslog, NULL) != 0)
        cli_fail("audit file %s could not be written (see syslog)", cfg->audit_file);
    ev->sid_hash = NULL;
}

void cli_audit(const ck_config *cfg, const char *event, const char *user,
               const char *key_hex, const char *result, const char *reason)
{
    ck_audit_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.event = event;
    ev.user = user;
    ev.service = "checkup";
    ev.result = result;
    ev.reason = reason;
    cli_audit_write(cfg, NULL, &ev, key_hex);
}

/* ---- passwords ----------------------------------------------------------- */

static int read_line(FILE *in, char *buf, size_t len)
{
    size_t n;

    if (!fgets(buf, (int)len, in))
        return -1;
    n = strlen(buf);
    if (n == len - 1 && buf[n - 1] != '\n')
        return -2;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int prompt_noecho(const char *prompt, char *buf, size_t len)
{
    struct termios old, quiet;
    FILE *tty = fopen("/dev/tty", "r+e");
    int rc;

    if (!tty) {
        fprintf(stderr, "checkup: no terminal to ask for the password (use --password-stdin)\n");
        return -1;
    }
    if (tcgetattr(fileno(tty), &old) != 0) {
        fclose(tty);
        fprintf(stderr, "checkup: cannot turn off echo (use --password-stdin)\n");
        return -1;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fputs(prompt, tty);
    fflush(tty);
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    rc = read_line(tty, buf, len);
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputs("\n", tty);
    fclose(tty);
    return rc;
}

int cli_read_password(int from_stdin, int confirm, const char *prompt, char *pw, size_t len)
{
    char again[1024];
    int rc;

    if (from_stdin) {
        rc = read_line(stdin, pw, len);
    } else {
        rc = prompt_noecho(prompt, pw, len);
        if (rc == 0 && confirm && prompt_noecho("Repeat it: ", again, sizeof(again)) == 0 &&
            strcmp(pw, again) != 0) {
            fprintf(stderr, "checkup: the passwords differ\n");
            rc = -3;
        }
        OPENSSL_cleanse(again, sizeof(again));
    }
    if (rc == -2)
        fprintf(stderr, "checkup: password longer than %zu bytes\n", len - 2);
    else if (rc == -1 && from_stdin)
        fprintf(stderr, "checkup: no password on standard input\n");
    if (rc == 0 && !*pw) {
        fprintf(stderr, "checkup: empty password\n");
        rc = -1;
    }
    return rc < 0 ? -1 : 0;
}

/* ---- help and dispatch --------------------------------------------------- */

static void print_usage(FILE *out)
{
    fputs("Usage: checkup [-c CONFIG] COMMAND [ARGS...]\n\nCommands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %s\n", commands[i].synopsis);
    fputs("\nOptions:\n"
          "  -c, --config FILE   configuration file (default " CK_CONFIG_PATH ")\n"
          "  -h, --help          show this help; 'checkup COMMAND --help' for one command\n"
          "  -V, --version       show the version\n"
          "\nExit status: 0 success, 1 failure, 2 usage error.\n", out);
}

static void print_command_help(const cli_cmd *c)
{
    printf("Usage: checkup [-c CONFIG] %s\n\n%s", c->synopsis, c->help);
    printf("\nExit status: 0 success, 1 failure, 2 usage error.\n");
}

/* Prints the commands of a group: "checkup user --help". */
static void print_group_help(const char *group)
{
    printf("Usage: checkup [-c CONFIG] %s COMMAND ...\n\nCommands:\n", group);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].group, group) == 0)
            printf("  %s\n", commands[i].synopsis);
    printf("\n'checkup %s COMMAND --help' shows one command.\n", group);
}

/* --help or -h anywhere before "--", after the command words. */
static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

static int known_group(const char *group)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].group, group) == 0)
            return 1;
    return 0;
}

/* Finds the command; *shift = words it takes from argv (1 or 2). */
static const cli_cmd *find_command(int argc, char **argv, int *shift)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const cli_cmd *c = &commands[i];

        if (strcmp(c->group, argv[0]) != 0)
            continue;
        if (!c->name) {
            *shift = 1;
            return c;
        }
        if (argc > 1 && strcmp(c->name, argv[1]) == 0) {
            *shift = 2;
            return c;
        }
    }
    return NULL;
}

static int load_config(const char *path, int explicit_path, ck_config *cfg)
{
    char err[512];

    ck_config_defaults(cfg);
    if (!explicit_path && access(path, F_OK) != 0 && errno == ENOENT) {
        if (ck_config_apply_env(cfg, err, sizeof(err)) == 0)
            return 0;
        cli_fail("%s", err);
        return -1;
    }
    if (ck_config_load(cfg, path, cli_config_section, NULL, err, sizeof(err)) != 0 ||
        ck_config_apply_env(cfg, err, sizeof(err)) != 0) {
        cli_fail("%s", err);
        return -1;
    }
    return 0;
}

static int run(const char *config, int explicit_config, int argc, char **argv)
{
    static char name[64];
    const cli_cmd *c;
    ck_config cfg;
    int shift = 0, rc;

    c = find_command(argc, argv, &shift);
    if (!c) {
        if (!known_group(argv[0]))
            return cli_usage("unknown command '%s'", argv[0]);
        cli_current = argv[0];
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            print_group_help(argv[0]);
            return CLI_OK;
        }
        if (argc < 2)
            return cli_usage("a sub-command is needed");
        return cli_usage("unknown sub-command '%s'", argv[1]);
    }
    snprintf(name, sizeof(name), "%s%s%s", c->group, c->name ? " " : "", c->name ? c->name : "");
    cli_current = name;
    if (wants_help(argc - shift + 1, argv + shift - 1)) {
        print_command_help(c);
        return CLI_OK;
    }
    if (load_config(config, explicit_config, &cfg) != 0) {
        cli_providers_free();
        return CLI_FAIL;
    }
    openlog("checkup", LOG_PID, LOG_AUTHPRIV);
    rc = c->fn(&cfg, argc - shift + 1, argv + shift - 1);
    closelog();
    cli_providers_free();
    ck_config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *config = CK_CONFIG_PATH;
    int explicit_config = 0, opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            explicit_config = 1;
            break;
        case 'h':
            print_usage(stdout);
            return CLI_OK;
        case 'V':
            printf("checkup %s\n", PACKAGE_VERSION);
            return CLI_OK;
        default:
            return cli_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1)
        return cli_usage("a command is needed");
    /* Each command parses its own options from optind = 1 of its argv. */
    return run(config, explicit_config, argc, argv);
}
