/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pam_drive - runs PAM operations on one handle, like pamtester, and also
 * shows what a session gets in its PAM environment. Used by the demo,
 * the valgrind cycle test and by hand:
 *
 *   pam_drive [-s SERVICE] [-u USER] [-r RHOST] [-t TTY] [-k TOKEN_FILE]
 *             OP...        (OP: auth, acct, open, close, fork, sleep=SECONDS)
 *
 * The secret (password or token) is one line on standard input. With -k,
 * open saves CHECKUP_SESSION to TOKEN_FILE (mode 0600) instead of printing
 * it: a token is a secret. "fork" runs the rest of the operations in a
 * child process, on the handle it inherited, and waits for it.
 * Exit status: 0 when every operation succeeded, 1 otherwise, 2 on usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "lib/pamconv.h"

static char secret[128 * 1024];

static int save_token(pam_handle_t *ph, const char *path)
{
    const char *tok = pam_getenv(ph, "CHECKUP_SESSION");
    int fd;

    if (!tok) {
        printf("    CHECKUP_SESSION is not set\n");
        return -1;
    }
    printf("    CHECKUP_SESSION is set: a %zu-character token%s%s\n", strlen(tok),
           path ? ", saved to " : "", path ? path : "");
    if (!path)
        return 0;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, tok, strlen(tok)) != (ssize_t)strlen(tok) || close(fd) != 0) {
        fprintf(stderr, "pam_drive: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int run_op(pam_handle_t *ph, const char *op, const char *token_file, int *status)
{
    int rc;

    if (strcmp(op, "auth") == 0)
        rc = pam_authenticate(ph, 0);
    else if (strcmp(op, "acct") == 0)
        rc = pam_acct_mgmt(ph, 0);
    else if (strcmp(op, "open") == 0)
        rc = pam_open_session(ph, 0);
    else if (strcmp(op, "close") == 0)
        rc = pam_close_session(ph, 0);
    else if (strncmp(op, "sleep=", 6) == 0) {
        sleep((unsigned)atoi(op + 6));
        return 0;
    } else
        return -1;
    printf("  %-5s -> %s\n", op, pam_strerror(ph, rc));
    if (rc == PAM_SUCCESS && strcmp(op, "open") == 0 && save_token(ph, token_file) != 0)
        rc = PAM_SYSTEM_ERR;
    *status = rc;
    return 0;
}

int main(int argc, char **argv)
{
    const char *service = "checkup", *user = NULL, *rhost = NULL, *tty = NULL, *tokf = NULL;
    tp_conv tc = { .secret = secret, .print_prefix = "    the module says: " };
    struct pam_conv pc = { tp_conv_fn, &tc };
    pam_handle_t *ph = NULL;
    int opt, rc = PAM_SUCCESS;

    while ((opt = getopt(argc, argv, "s:u:r:t:k:")) != -1) {
        switch (opt) {
        case 's': service = optarg; break;
        case 'u': user = optarg; break;
        case 'r': rhost = optarg; break;
        case 't': tty = optarg; break;
        case 'k': tokf = optarg; break;
        default:
            fprintf(stderr, "usage: pam_drive [-s SERVICE] [-u USER] [-r RHOST] [-t TTY] "
                            "[-k TOKEN_FILE] OP...\n");
            return 2;
        }
    }
    if (!user || optind >= argc) {
        fprintf(stderr, "pam_drive: need -u USER and at least one operation\n");
        return 2;
    }
    /* A line per answer as it happens: a test may kill the process right after one. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!fgets(secret, sizeof(secret), stdin))
        secret[0] = '\0';
    secret[strcspn(secret, "\r\n")] = '\0';
    if (pam_start(service, user, &pc, &ph) != PAM_SUCCESS) {
        fprintf(stderr, "pam_drive: pam_start failed\n");
        return 1;
    }
    if (rhost)
        pam_set_item(ph, PAM_RHOST, rhost);
    if (tty)
        pam_set_item(ph, PAM_TTY, tty);
    for (int i = optind; i < argc && rc == PAM_SUCCESS; i++) {
        if (strcmp(argv[i], "fork") == 0) {
            pid_t pid = fork();
            int ws = 0;

            if (pid < 0)
                return 1;
            if (pid == 0) {
                printf("  (continuing in a child process)\n");
                continue;
            }
            if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                rc = PAM_SYSTEM_ERR;
            printf("  (child done: %s)\n", rc == PAM_SUCCESS ? "ok" : "failed");
            continue;
        }
        if (run_op(ph, argv[i], tokf, &rc) != 0) {
            fprintf(stderr, "pam_drive: unknown operation '%s'\n", argv[i]);
            rc = PAM_SYSTEM_ERR;
        }
        fflush(stdout);
    }
    memset(secret, 0, sizeof(secret));
    pam_end(ph, rc);
    return rc == PAM_SUCCESS ? 0 : 1;
}
