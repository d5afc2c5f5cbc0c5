/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client.c - the OAUTHBEARER client mechanism: the token is the
 * "password" (SASL_CB_PASS, or the application's prompt), the optional
 * authzid comes from SASL_CB_USER, and host and port name the server, so
 * stock clients (ldapwhoami -Y OAUTHBEARER -w TOKEN, sasl-sample-client)
 * send a checkup session token without knowing about checkup.
 *
 * Steps: the first message; then either the server's success (empty
 * data, SASL_OK) or its error challenge, answered with the lone %x01
 * that RFC 7628 3.2.3 asks for, after which the server fails.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cks.h"
#include "oauthbearer.h"

typedef struct cli_conn {
    int step;
    char msg[CK_OB_MSG_MAX];    /* holds the token: wiped when done */
    size_t len;
} cli_conn;

static const char kvsep[1] = { '\x01' };

/* The answer to a prompt we asked for, or NULL. */
static const sasl_interact_t *answer(sasl_interact_t *prompts, unsigned long id)
{
    for (sasl_interact_t *p = prompts; p && p->id != SASL_CB_LIST_END; p++)
        if (p->id == id && p->result)
            return p;
    return NULL;
}

/*
 * The token: from the answered prompt, else the SASL_CB_PASS callback.
 * SASL_INTERACT when neither has it yet (the prompt is then to be asked).
 */
static int get_token(sasl_client_params_t *cp, sasl_interact_t *prompts, char *buf,
                     size_t buflen)
{
    const sasl_interact_t *a = answer(prompts, SASL_CB_PASS);
    sasl_getsecret_t *proc = NULL;
    sasl_secret_t *secret = NULL;
    void *ctx = NULL;
    int rc;

    if (a) {
        if (a->len >= buflen)
            return SASL_BADPARAM;
        memcpy(buf, a->result, a->len);
        buf[a->len] = '\0';
        return SASL_OK;
    }
    rc = cp->utils->getcallback(cp->utils->conn, SASL_CB_PASS, (sasl_callback_ft *)&proc, &ctx);
    if (rc != SASL_OK)
        return rc;
    if (!proc)
        return SASL_INTERACT;
    rc = proc(cp->utils->conn, ctx, SASL_CB_PASS, &secret);
    if (rc != SASL_OK)
        return rc;
    if (!secret || secret->len >= buflen)
        return SASL_BADPARAM;
    memcpy(buf, secret->data, secret->len);
    buf[secret->len] = '\0';
    return SASL_OK;
}

/* The authzid to ask for, from SASL_CB_USER or its prompt; "" for none. */
static int get_authzid(sasl_client_params_t *cp, sasl_interact_t *prompts, char *buf,
                       size_t buflen)
{
    const sasl_interact_t *a = answer(prompts, SASL_CB_USER);
    sasl_getsimple_t *proc = NULL;
    const char *val = NULL;
    unsigned len = 0;
    void *ctx = NULL;

    buf[0] = '\0';
    if (a) {
        val = a->result;
        len = a->len;
    } else {
        int rc = cp->utils->getcallback(cp->utils->conn, SASL_CB_USER,
                                        (sasl_callback_ft *)&proc, &ctx);

        /*
         * Listed without a function: the application's prompt asks
         * (ldapwhoami -X). Not listed at all: no authzid.
         */
        if (rc == SASL_INTERACT || (rc == SASL_OK && !proc))
            return SASL_INTERACT;
        if (rc != SASL_OK || proc(ctx, SASL_CB_USER, &val, &len) != SASL_OK)
            val = NULL;
        if (val && len == 0)
            len = (unsigned)strlen(val);
    }
    if (!val || len == 0)
        return SASL_OK;
    if (len >= buflen)
        return SASL_BADPARAM;
    memcpy(buf, val, len);
    buf[len] = '\0';
    return SASL_OK;
}

/* Asks the application for what no callback gave: the token, the authzid (may be empty). */
static int ask(sasl_client_params_t *cp, int token, int authzid, sasl_interact_t **prompt_need)
{
    sasl_interact_t *p = cp->utils->malloc(3 * sizeof(*p));
    int n = 0;

    if (!p)
        return SASL_NOMEM;
    memset(p, 0, 3 * sizeof(*p));
    if (authzid) {
        p[n].id = SASL_CB_USER;
        p[n].challenge = "OAUTHBEARER";
        p[n].prompt = "Authorization identity (empty for the token's user): ";
        p[n].defresult = "";
        n++;
    }
    if (token) {
        p[n].id = SASL_CB_PASS;
        p[n].challenge = "OAUTHBEARER";
        p[n].prompt = "checkup token: ";
        n++;
    }
    p[n].id = SASL_CB_LIST_END;
    *prompt_need = p;
    return SASL_INTERACT;
}

/* The server's port, from "address;port" when the application gave it. */
static unsigned server_port(const sasl_client_params_t *cp)
{
    const char *s = cp->ipremoteport ? strrchr(cp->ipremoteport, ';') : NULL;
    unsigned long v;
    char *end;

    if (!s || !s[1])
        return 0;
    v = strtoul(s + 1, &end, 10);
    return *end == '\0' && v > 0 && v <= 65535 ? (unsigned)v : 0;
}

static int first(cli_conn *c, sasl_client_params_t *cp, sasl_interact_t **prompt_need,
                 const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    char token[CK_OB_TOKEN_MAX + 1], authzid[CK_OB_AUTHZID_MAX];
    sasl_interact_t *prompts = prompt_need ? *prompt_need : NULL;
    int rc, arc;

    authzid[0] = '\0';
    rc = get_token(cp, prompts, token, sizeof(token));
    arc = rc == SASL_OK || rc == SASL_INTERACT ?
          get_authzid(cp, prompts, authzid, sizeof(authzid)) : SASL_OK;
    if (prompts) {
        cp->utils->free(prompts);
        *prompt_need = NULL;
    }
    if ((rc == SASL_INTERACT || arc == SASL_INTERACT) && prompt_need && !prompts) {
        rc = ask(cp, rc == SASL_INTERACT, arc == SASL_INTERACT, prompt_need);
        goto out;
    }
    if (rc == SASL_OK && arc != SASL_INTERACT)
        rc = arc;
    if (rc != SASL_OK)
        goto out;
    c->len = ck_ob_build(c->msg, sizeof(c->msg), authzid, cp->serverFQDN, server_port(cp),
                         token);
    if (c->len == 0) {
        cp->utils->seterror(cp->utils->conn, 0, "OAUTHBEARER: the token cannot be sent "
                            "(not a bearer token, or a field too long)");
        rc = SASL_BADPARAM;
        goto out;
    }
    /*
     * libsasl2 wants both names set on the client side too, and not empty;
     * the token names no one here, so the authzid stands for both, or
     * without one the label "bearer" (the server decides who it is).
     */
    rc = cp->canon_user(cp->utils->conn, authzid[0] ? authzid : CKS_CLIENT_LABEL, 0,
                        SASL_CU_AUTHID | SASL_CU_AUTHZID, oparams);
    if (rc != SASL_OK)
        goto out;
    c->step = 1;
    *out = c->msg;
    *outlen = (unsigned)c->len;
    rc = SASL_CONTINUE;
out:
    OPENSSL_cleanse(token, sizeof(token));
    return rc;
}

static int cli_new(void *glob, sasl_client_params_t *cp, void **conn_context)
{
    cli_conn *c = cp->utils->malloc(sizeof(*c));

    (void)glob;
    if (!c)
        return SASL_NOMEM;
    memset(c, 0, sizeof(*c));
    *conn_context = c;
    return SASL_OK;
}

static int cli_step(void *conn_context, sasl_client_params_t *cp, const char *in,
                    unsigned inlen, sasl_interact_t **prompt_need, const char **out,
                    unsigned *outlen, sasl_out_params_t *oparams)
{
    cli_conn *c = conn_context;

    *out = NULL;
    *outlen = 0;
    if (c->step == 0)
        return first(c, cp, prompt_need, out, outlen, oparams);
    /* The message has gone: the token is no longer needed here. */
    OPENSSL_cleanse(c->msg, sizeof(c->msg));
    if (c->step == 1 && inlen > 0) {
        /* The error challenge (JSON): answer %x01, the server then fails. */
        char why[401];
        size_t n = inlen < sizeof(why) - 1 ? inlen : sizeof(why) - 1;

        /* libsasl2's own formatter knows no precision: a bounded, printable copy. */
        for (size_t i = 0; i < n; i++)
            why[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
        why[n] = '\0';
        cp->utils->seterror(cp->utils->conn, 0, "OAUTHBEARER: the server refused the token: %s",
                            why);
        c->step = 2;
        *out = kvsep;
        *outlen = 1;
        return SASL_CONTINUE;
    }
    if (c->step != 1)
        return SASL_BADPROT;
    c->step = 3;
    oparams->doneflag = 1;
    oparams->mech_ssf = 0;
    oparams->maxoutbuf = 0;
    oparams->encode = NULL;
    oparams->decode = NULL;
    oparams->param_version = 0;
    return SASL_OK;
}

static void cli_dispose(void *conn_context, const sasl_utils_t *utils)
{
    cli_conn *c = conn_context;

    if (!c)
        return;
    OPENSSL_cleanse(c, sizeof(*c));
    utils->free(c);
}

static const unsigned long required[] = { SASL_CB_PASS, SASL_CB_LIST_END };

static sasl_client_plug_t client_plug = {
    .mech_name = CKS_MECH,
    .max_ssf = 0,
    /* A bearer token travels as it is: plaintext (TLS is the service's job). */
    .security_flags = SASL_SEC_NOANONYMOUS,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
    .required_prompts = required,
    .glob_context = NULL,
    .mech_new = cli_new,
    .mech_step = cli_step,
    .mech_dispose = cli_dispose,
};

int cks_client_plug(sasl_client_plug_t **plug)
{
    *plug = &client_plug;
    return 1;
}
