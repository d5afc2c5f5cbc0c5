/*
 * fuzz_config.c - checkup.conf through ck_config_load (libinih and our
 * ranges), read from a memfd so no file is written per input, with a
 * handler for other components' sections like the daemon and OIDC ones.
 *
 * Properties: a file that loads also validates; every error names the
 * file; loading never leaks (ASan) whatever the input sets twice.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static int memfd(void)
{
    static int fd = -1;

    if (fd < 0)
        fd = memfd_create("ckfuzz-config", MFD_CLOEXEC);
    if (fd < 0)
        ck_fuzz_fail("memfd_create failed");
    return fd;
}

CK_FUZZ_TARGET(config)
{
    int fd = memfd();
    char path[64], err[512];
    ck_config cfg;
    int rc;

    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        ck_fuzz_fail("cannot fill the memfd");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ck_config_defaults(&cfg);
    err[0] = '\0';
    rc = ck_config_load(&cfg, path, extra, NULL, err, sizeof(err));
    if (rc == 0 && ck_config_validate(&cfg, err, sizeof(err)) != 0)
        ck_fuzz_fail("a loaded configuration does not validate: %s", err);
    if (rc != 0 && strncmp(err, path, strlen(path)) != 0)
        ck_fuzz_fail("an error that does not name the file: %s", err);
    ck_config_free(&cfg);
    return 0;
}
