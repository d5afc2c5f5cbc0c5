/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_sasl_oauthbearer.c - the OAUTHBEARER client message parser of the
 * SASL plugin (sasl/parse.c).
 *
 * Properties: a refusal leaves no token behind; an accepted message has a
 * non-empty token of b64token characters, and the message the client side
 * writes from what was parsed parses back to the same fields.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "oauthbearer.h"

static void same(const ck_ob_msg *a, const ck_ob_msg *b)
{
    if (a->has_authzid != b->has_authzid || strcmp(a->authzid, b->authzid) != 0)
        ck_fuzz_fail("oauthbearer: the authzid did not survive a round trip");
    if (a->has_host != b->has_host || strcmp(a->host, b->host) != 0)
        ck_fuzz_fail("oauthbearer: the host did not survive a round trip");
    if (a->has_port != b->has_port || a->port != b->port)
        ck_fuzz_fail("oauthbearer: the port did not survive a round trip");
    if (a->token_len != b->token_len || strcmp(a->token, b->token) != 0)
        ck_fuzz_fail("oauthbearer: the token did not survive a round trip");
}

CK_FUZZ_TARGET(sasl_oauthbearer)
{
    static char buf[CK_OB_MSG_MAX + 64];
    ck_ob_msg m, again;
    ck_ob_status st;
    size_t n;

    st = ck_ob_parse((const char *)data, size, &m);
    if (strcmp(ck_ob_status_word(st), "unknown") == 0)
        ck_fuzz_fail("oauthbearer: status %d has no word", (int)st);
    if (st != CK_OB_OK) {
        if (m.token_len != 0 || m.token[0] != '\0')
            ck_fuzz_fail("oauthbearer: a refused message left a token behind");
        return 0;
    }
    if (m.token_len == 0 || m.token_len != strlen(m.token) || (m.cbflag != 'n' && m.cbflag != 'y'))
        ck_fuzz_fail("oauthbearer: accepted without a proper token or gs2 flag");
    if (m.has_authzid && memchr(m.authzid, ',', strlen(m.authzid)) == NULL &&
        strchr(m.authzid, '\x01'))
        ck_fuzz_fail("oauthbearer: a kvsep in the authzid");
    n = ck_ob_build(buf, sizeof(buf), m.has_authzid ? m.authzid : NULL,
                    m.has_host ? m.host : NULL, m.has_port ? m.port : 0, m.token);
    if (n == 0)
        ck_fuzz_fail("oauthbearer: what was accepted cannot be written back");
    if (ck_ob_parse(buf, n, &again) != CK_OB_OK)
        ck_fuzz_fail("oauthbearer: the written message is refused");
    same(&m, &again);
    return 0;
}
