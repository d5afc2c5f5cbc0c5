/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_keyring.c - the token key ring file (ck_keyring_load): "kid
 * base64url-secret" lines, comments, blank lines, CR LF endings.
 *
 * Properties: a ring that loads has at least one key, a signing kid that
 * is valid, and signs a token it then verifies; an error names the file
 * and never holds a secret from it.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ck_token.h"
#include "fuzz.h"


/*
 * Does err hold a secret: a word of 16+ characters after the first (the
 * key id, which messages may name) on a line of text?
 */
static int leaks_a_secret(const char *text, const char *err)
{
    const char *p = text;
    int first = 1;

    while (*p) {
        size_t n;
        char word[256];

        if (*p == '\n' || *p == '\r') {
            first = 1;
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        n = strcspn(p, " \t\r\n");
        if (!first && n >= 16 && n < sizeof(word)) {
            memcpy(word, p, n);
            word[n] = '\0';
            if (strstr(err, word))
                return 1;
        }
        first = 0;
        p += n;
    }
    return 0;
}

CK_FUZZ_TARGET(keyring)
{
    static char path[4200];
    char err[512], *text, *tok = NULL, sid[CK_SID_LEN];
    ck_keyring *ring = NULL;
    int fd;

    if (!path[0])
        snprintf(path, sizeof(path), "%s/ring", ck_fuzz_tmpdir());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        ck_fuzz_fail("cannot write %s", path);
    close(fd);
    err[0] = '\0';
    if (ck_keyring_load(path, 1, &ring, err, sizeof(err)) != 0) {
        text = ck_fuzz_strndup(data, size);
        if (strncmp(err, path, strlen(path)) != 0)
            ck_fuzz_fail("keyring error does not name the file: %s", err);
        if (leaks_a_secret(text, err))
            ck_fuzz_fail("keyring error holds text from a secret");
        free(text);
        return 0;
    }
    if (ck_keyring_count(ring) < 1 || !ck_keyring_signing_kid(ring) ||
        !ck_keyring_signing_kid(ring)[0])
        ck_fuzz_fail("a loaded ring without a signing key");
    if (ck_token_sign(ring, ck_fuzz_sid(), 1, 4000000000LL, &tok) != CK_TOKEN_OK ||
        ck_token_verify(ring, tok, strlen(tok), 2, sid, NULL, NULL) != CK_TOKEN_OK)
        ck_fuzz_fail("a loaded ring does not sign and verify");
    free(tok);
    ck_keyring_free(ring);
    return 0;
}
