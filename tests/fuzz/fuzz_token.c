/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_token.c - session tokens: ck_token_verify against a fixed test ring
 * (two keys, so a kid picks one), ck_token_looks_like and strict base64url.
 *
 * Properties: a token that verifies re-signs to one that verifies with the
 * same claims; anything base64url accepts encodes back to the same text
 * (one spelling per value); looks_like never crashes.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ck_encode.h"
#include "ck_token.h"
#include "fuzz.h"

/* Fixed (and public) test keys: seeds in the corpus are signed with them. */
#define RING_TEXT \
    "# ckfuzz test ring\n" \
    "k1 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n" \
    "k2 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\n"
#define NOW 1700000000

static ck_keyring *ring(void)
{
    static ck_keyring *r;
    char path[4200], err[256];
    int fd;

    if (r)
        return r;
    snprintf(path, sizeof(path), "%s/token.keys", ck_fuzz_tmpdir());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, RING_TEXT, strlen(RING_TEXT)) != (ssize_t)strlen(RING_TEXT))
        ck_fuzz_fail("cannot write %s", path);
    close(fd);
    if (ck_keyring_load(path, 1, &r, err, sizeof(err)) != 0)
        ck_fuzz_fail("test ring: %s", err);
    unlink(path);
    return r;
}

static void check_resign(const ck_keyring *kr, const char *sid, int64_t iat, int64_t exp)
{
    char *tok = NULL, sid2[CK_SID_LEN];
    int64_t iat2 = 0, exp2 = 0;
    ck_token_status st;

    if (ck_token_sign(kr, sid, iat, exp, &tok) != CK_TOKEN_OK)
        ck_fuzz_fail("cannot re-sign a verified token");
    st = ck_token_verify(kr, tok, strlen(tok), NOW, sid2, &iat2, &exp2);
    if (st != CK_TOKEN_OK || strcmp(sid, sid2) != 0 || iat != iat2 || exp != exp2)
        ck_fuzz_fail("a re-signed token does not verify the same (%s)", ck_token_status_str(st));
    if (!ck_token_looks_like(tok))
        ck_fuzz_fail("a signed token does not look like one");
    free(tok);
}

static void check_b64(const uint8_t *data, size_t size)
{
    unsigned char out[1024];
    char back[1400];
    long n;

    if (size > 1300)
        return;
    n = ck_b64url_decode((const char *)data, size, out, sizeof(out));
    if (n < 0)
        return;
    if (ck_b64url_encoded_len((size_t)n) != size)
        ck_fuzz_fail("base64url: %zu characters decoded to %ld bytes", size, n);
    ck_b64url_encode(out, (size_t)n, back);
    if (memcmp(back, data, size) != 0)
        ck_fuzz_fail("base64url: a second spelling of the same bytes was accepted");
}

CK_FUZZ_TARGET(token)
{
    ck_keyring *kr = ring();
    char sid[CK_SID_LEN], *s;
    int64_t iat = 0, exp = 0;
    ck_token_status st;

    memset(sid, 0, sizeof(sid));
    st = ck_token_verify(kr, (const char *)data, size, NOW, sid, &iat, &exp);
    if (st == CK_TOKEN_OK) {
        if (strlen(sid) != CK_SID_LEN - 1 || exp <= NOW)
            ck_fuzz_fail("a token verified with a bad sid or a past exp");
        check_resign(kr, sid, iat, exp);
    }
    if (!ck_token_status_str(st))
        ck_fuzz_fail("no text for status %d", (int)st);
    s = ck_fuzz_strndup(data, size);
    (void)ck_token_looks_like(s);
    free(s);
    check_b64(data, size);
    return 0;
}
