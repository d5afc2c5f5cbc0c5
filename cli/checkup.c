/*
 * checkup - the checkup admin tool (first part: users, sessions, keys).
 *
 *   checkup [-c CONFIG] user add EMAIL --role R [--clinic C] [--local-user U]
 *                                      [--password-stdin]
 *   checkup [-c CONFIG] sessions list [--user U]
 *   checkup [-c CONFIG] keys generate
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ck_clock.h"
#include "ck_config.h"
#include "ck_store.h"
#include "ck_token.h"
#include "ck_users.h"

#define EXIT_USAGE 2

static const char usage_text[] =
    "Usage: checkup [-c CONFIG] COMMAND ...\n"
    "\n"
    "Commands:\n"
    "  user add EMAIL --role ROLE [--clinic ID] [--local-user NAME] [--password-stdin]\n"
    "      Add a user to the users file. The password is read from the terminal\n"
    "      without echo, or as one line from standard input with --password-stdin.\n"
    "  sessions list [--user EMAIL]\n"
    "      Show live sessions (of one user, or of every user in the users file).\n"
    "  keys generate\n"
    "      Add a new token signing key in front of the key ring (mode 0600).\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   configuration file (default " CK_CONFIG_PATH ")\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "checkup: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'checkup --help'.\n");
    return EXIT_USAGE;
}

static int other_section(void *ud, const char *section, const char *name, const char *value,
                         int lineno, char *err, size_t errlen)
{
    return 1;   /* sections of other components */
}

static int load_config(const char *path, int explicit_path, ck_config *cfg)
{
    char err[512];

    ck_config_defaults(cfg);
    if (!explicit_path && access(path, F_OK) != 0 && errno == ENOENT)
        return ck_config_apply_env(cfg, err, sizeof(err)) == 0 ? 0 : -1;
    if (ck_config_load(cfg, path, other_section, NULL, err, sizeof(err)) != 0 ||
        ck_config_apply_env(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "checkup: %s\n", err);
        return -1;
    }
    return 0;
}

static const char *users_path(const ck_config *cfg)
{
    return cfg->users_file ? cfg->users_file : CK_DEFAULT_USERS_FILE;
}

/* ---- passwords ---------------------------------------------------------- */

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

static int get_password(int from_stdin, char *pw, size_t len)
{
    char again[1024];
    int rc;

    if (from_stdin) {
        rc = read_line(stdin, pw, len);
    } else {
        rc = prompt_noecho("New password: ", pw, len);
        if (rc == 0 && prompt_noecho("Repeat it: ", again, sizeof(again)) == 0 &&
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
    return rc;
}

/* ---- user add ----------------------------------------------------------- */

static int set_field(char *dst, size_t max, const char *value, const char *what)
{
    if (strlen(value) >= max) {
        fprintf(stderr, "checkup: %s longer than %zu bytes\n", what, max - 1);
        return -1;
    }
    memcpy(dst, value, strlen(value) + 1);
    return 0;
}

static int cmd_user_add(const ck_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "role", required_argument, NULL, 'r' },
        { "clinic", required_argument, NULL, 'C' },
        { "local-user", required_argument, NULL, 'l' },
        { "password-stdin", no_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    ck_user u;
    char pw[1024], err[512];
    int from_stdin = 0, opt, rc = 1;

    memset(&u, 0, sizeof(u));
    optind = 0;   /* re-initialise getopt; permute options after EMAIL */
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (set_field(u.role, sizeof(u.role), optarg, "role") != 0)
                return EXIT_USAGE;
            break;
        case 'C':
            if (set_field(u.clinic_id, sizeof(u.clinic_id), optarg, "clinic") != 0)
                return EXIT_USAGE;
            break;
        case 'l':
            if (set_field(u.local_user, sizeof(u.local_user), optarg, "local user") != 0)
                return EXIT_USAGE;
            break;
        case 'p':
            from_stdin = 1;
            break;
        default:
            return usage_error("user add: bad option");
        }
    }
    if (optind + 1 != argc)
        return usage_error("user add needs exactly one EMAIL");
    if (!u.role[0])
        return usage_error("user add needs --role");
    if (set_field(u.email, sizeof(u.email), argv[optind], "email") != 0)
        return EXIT_USAGE;
    snprintf(u.hash, sizeof(u.hash), "!");
    if (ck_user_check(&u, err, sizeof(err)) != 0)
        return usage_error("%s", err);
    if (get_password(from_stdin, pw, sizeof(pw)) != 0)
        goto out;
    if (ck_password_hash(pw, u.hash, sizeof(u.hash), err, sizeof(err)) != 0 ||
        ck_users_add(users_path(cfg), &u, err, sizeof(err)) != 0) {
        fprintf(stderr, "checkup: %s\n", err);
        goto out;
    }
    printf("added %s (role %s) to %s\n", u.email, u.role, users_path(cfg));
    rc = 0;
out:
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(&u, sizeof(u));
    return rc;
}

/* ---- sessions list ------------------------------------------------------ */

static void fmt_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "%lld", (long long)t);
}

static void print_session(const ck_session *s, int64_t now)
{
    char created[32];

    fmt_time(s->created, created, sizeof(created));
    printf("%-16.14s %-28s %-8s %-20s %6llds %6llds %-15s %-10s %s\n", s->key_hex,
           s->user_id, ck_auth_method_name(s->method), created,
           (long long)(now - s->last_activity), (long long)(s->expires - now),
           s->remote_host[0] ? s->remote_host : "-", s->service[0] ? s->service : "-",
           s->tty[0] ? s->tty : "-");
}

static int list_one(ck_store *st, const char *user, int64_t now, size_t *shown)
{
    ck_session_list list = { 0, NULL };
    ck_status rc = ck_store_list_user(st, user, &list);

    if (rc != CK_OK) {
        fprintf(stderr, "checkup: sessions of %s: %s: %s\n", user, ck_status_str(rc),
                ck_store_errstr(st));
        return -1;
    }
    for (size_t i = 0; i < list.count; i++)
        print_session(&list.items[i], now);
    *shown += list.count;
    ck_session_list_free(&list);
    return 0;
}

static int cmd_sessions_list(const ck_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "user", required_argument, NULL, 'u' },
        { NULL, 0, NULL, 0 },
    };
    ck_users users = { 0, NULL };
    const char *user = NULL;
    ck_store *st = NULL;
    char err[512];
    size_t shown = 0;
    int64_t now = ck_now();
    int opt, rc = 1;

    optind = 0;   /* re-initialise getopt; permute options after EMAIL */
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'u')
            return usage_error("sessions list: bad option");
        user = optarg;
    }
    if (optind != argc)
        return usage_error("sessions list takes no arguments besides --user");
    if (!user && ck_users_load(users_path(cfg), 1, &users, err, sizeof(err)) != 0) {
        fprintf(stderr, "checkup: %s\n", err);
        return 1;
    }
    st = ck_store_open(cfg, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "checkup: store: %s\n", err);
        goto out;
    }
    printf("%-16s %-28s %-8s %-20s %7s %7s %-15s %-10s %s\n", "SESSION", "USER", "METHOD",
           "CREATED", "IDLE", "EXPIRES", "FROM", "SERVICE", "TTY");
    if (user && list_one(st, user, now, &shown) != 0)
        goto out;
    for (size_t i = 0; !user && i < users.count; i++)
        if (list_one(st, users.items[i].email, now, &shown) != 0)
            goto out;
    printf("%zu session%s\n", shown, shown == 1 ? "" : "s");
    rc = 0;
out:
    ck_store_close(st);
    ck_users_free(&users);
    return rc;
}

/* ---- keys generate ------------------------------------------------------ */

static int cmd_keys_generate(const ck_config *cfg, int argc, char **argv)
{
    const char *path = cfg->token_key_file ? cfg->token_key_file : CK_DEFAULT_KEY_FILE;
    char kid[CK_KID_MAX], err[512];

    if (argc != 1)
        return usage_error("keys generate takes no arguments");
    if (ck_keyring_generate(path, kid, err, sizeof(err)) != 0) {
        fprintf(stderr, "checkup: %s\n", err);
        return 1;
    }
    printf("new signing key %s in %s\n", kid, path);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *config = CK_CONFIG_PATH;
    ck_config cfg;
    int explicit_config = 0, opt, rc;

    while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            explicit_config = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return usage_error("unknown option");
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 2)
        return usage_error("a command is needed");
    if (load_config(config, explicit_config, &cfg) != 0)
        return 1;
    if (strcmp(argv[0], "user") == 0 && strcmp(argv[1], "add") == 0)
        rc = cmd_user_add(&cfg, argc - 1, argv + 1);
    else if (strcmp(argv[0], "sessions") == 0 && strcmp(argv[1], "list") == 0)
        rc = cmd_sessions_list(&cfg, argc - 1, argv + 1);
    else if (strcmp(argv[0], "keys") == 0 && strcmp(argv[1], "generate") == 0)
        rc = cmd_keys_generate(&cfg, argc - 1, argv + 1);
    else
        rc = usage_error("unknown command '%s'", argv[0]);
    ck_config_free(&cfg);
    return rc;
}
