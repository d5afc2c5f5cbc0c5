/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_config.c - checkup.conf through ck_config_load (libinih and our
 * ranges), read from a memfd so no file is written per input, with a
 * handler for other components' sections like the daemon and OIDC ones.
 *
 * Properties: a file that loads also validates; every error names the
 * file; loading never leaks (ASan) whatever the input sets twice.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ck_config.h"
#include "fuzz.h"

/* Stands in for a component with its own sections: [oidc:*] keys are its. */
static int extra(void *ud, const char *section, const char *name, const char *value,
                 int lineno, char *err, size_t errlen)
{
    (void)ud;
    (void)value;
    (void)lineno;
    if (strncmp(section, "oidc:", 5) != 0)
        return 0;
    if (strcmp(name, "bad") == 0) {
        snprintf(err, errlen, "not a setting we take");
        return 0;
    }
    return 1;
}

CK_FUZZ_TARGET(config)
{
    /*
     * A real file of ours, mode 0600, in a directory of ours: what the file
     * policy (ck_secfile.h) accepts, so every input reaches the parser. A
     * memfd would not do: mode 0777 and no directory.
     */
    static char path[4200];
    char err[512];
    ck_config cfg;
    int fd, rc;

    if (!path[0])
        snprintf(path, sizeof(path), "%s/checkup.conf", ck_fuzz_tmpdir());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        ck_fuzz_fail("cannot write %s", path);
    close(fd);
    ck_config_defaults(&cfg);
    err[0] = '\0';
    rc = ck_config_load(&cfg, path, extra, NULL, err, sizeof(err));
    if (rc == 0 && ck_config_validate(&cfg, err, sizeof(err)) != 0)
        ck_fuzz_fail("a loaded configuration does not validate: %s", err);
    if (rc != 0 && strncmp(err, path, strlen(path)) != 0)
        ck_fuzz_fail("an error that does not name the file: %s", err);
    /* The policy's messages are "PATH: refused: ..."; a parser error names a
     * line ("PATH:N: ...") and may quote the input, "refused" included. */
    if (rc != 0 && strncmp(err + strlen(path), ": refused:", 10) == 0)
        ck_fuzz_fail("the file policy refused the fuzzer's own file: %s", err);
    ck_config_free(&cfg);
    return 0;
}
