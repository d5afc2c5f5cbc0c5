/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/oidc - ID token validations per second (JWE ECDH-ES+A256KW with
 * A256GCM around an ES256 JWS, the CorpPass FAPI 2.0 shape, all claims
 * checked) against the bare cryptography such a validation cannot avoid:
 * one OpenSSL ECDH P-256 derive (without peer validation, the bare
 * operation) plus one ECDSA P-256 verify, measured in the same run in
 * small alternating batches, so that machine load hits both alike.
 *
 *   bench/oidc [seconds]     (default 3; the last line is the RESULT)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "ck_idtoken.h"
#include "jose_internal.h"

#define NTOKENS 64
#define ROUNDS 3

/* CPU time of this thread: the machine may be shared (CI, other builds),
 * and time spent descheduled is nobody's cost. Rates are per core. */
static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench/oidc: %s\n", what);
    exit(1);
}

struct ctx {
    char *tokens[NTOKENS];
    ck_jwks *jwks;
    ck_rp_keys *rp;
    /* reference */
    EVP_PKEY *rp_priv, *peer, *sig_pub;
    unsigned char sig[80], msg[256];
    size_t siglen;
};

static char *make_jws(cjose_jwk_t *key, int i)
{
    char claims[512];
    cjose_err err;
    cjose_header_t *h = cjose_header_new(&err);
    cjose_jws_t *jws;
    const char *ser;
    char *out;

    snprintf(claims, sizeof(claims),
             "{\"iss\":\"https://idp.bench.test\",\"aud\":\"bench-client\","
             "\"sub\":\"53312345K\",\"act\":{\"sub\":\"user-%d\"},"
             "\"nonce\":\"bench-nonce-0123456789abcdef\",\"iat\":%lld,"
             "\"exp\":%lld,\"amr\":[\"pwd\",\"otp-sms\"]}",
             i, (long long)time(NULL), (long long)time(NULL) + 600);
    if (h == NULL || !cjose_header_set(h, CJOSE_HDR_ALG, "ES256", &err) ||
        !cjose_header_set(h, CJOSE_HDR_KID, "bench-sig", &err))
        die("header");
    jws = cjose_jws_sign(key, h, (const uint8_t *)claims, strlen(claims), &err);
    if (jws == NULL || !cjose_jws_export(jws, &ser, &err))
        die("sign");
    out = strdup(ser);
    cjose_jws_release(jws);
    cjose_header_release(h);
    return out;
}

static void setup(struct ctx *c, char *dir)
{
    char path[4200], err[256], doc[2048], *pub;
    const char *enc[1] = { path };
    const char *kid = NULL;
    cjose_jwk_t *sig;
    cjose_err cerr;
    EVP_MD_CTX *md;
    int i;

    snprintf(path, sizeof(path), "%s/enc.pem", dir);
    if (ck_rp_key_generate(path, err, sizeof(err)) != 0 ||
        ck_rp_keys_load(NULL, 0, enc, 1, &c->rp, err, sizeof(err)) != 0)
        die(err);
    unlink(path);
    sig = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    if (sig == NULL || !cjose_jwk_set_kid(sig, "bench-sig", 9, &cerr))
        die("provider key");
    pub = cjose_jwk_to_json(sig, false, &cerr);
    snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", pub);
    free(pub);
    if (ck_jwks_parse(doc, strlen(doc), &c->jwks, err, sizeof(err)) != 0)
        die(err);
    c->rp_priv = ck_rp_enc_key(c->rp, 0, &kid);
    for (i = 0; i < NTOKENS; i++) {
        char *jws = make_jws(sig, i);

        if (ck_jwe_encrypt(c->rp_priv, kid, "ECDH-ES+A256KW", "A256GCM",
                           (const uint8_t *)jws, strlen(jws), &c->tokens[i]) != 0)
            die("encrypt");
        free(jws);
    }
    cjose_jwk_release(sig);
    /* The reference: a peer key for ECDH, a P-256 signature to verify. */
    c->peer = EVP_EC_gen("P-256");
    c->sig_pub = EVP_EC_gen("P-256");
    memset(c->msg, 'm', sizeof(c->msg));
    c->siglen = sizeof(c->sig);
    md = EVP_MD_CTX_new();
    if (c->peer == NULL || c->sig_pub == NULL || md == NULL ||
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, c->sig_pub) <= 0 ||
        EVP_DigestSign(md, c->sig, &c->siglen, c->msg, sizeof(c->msg)) <= 0)
        die("reference setup");
    EVP_MD_CTX_free(md);
}

static void validate(struct ctx *c, int i)
{
    ck_idtoken_policy p;
    json_t *claims = NULL;
    char reason[256];
    const char *t = c->tokens[i % NTOKENS];

    memset(&p, 0, sizeof(p));
    p.issuer = "https://idp.bench.test";
    p.client_id = "bench-client";
    p.nonce = "bench-nonce-0123456789abcdef";
    p.now = (int64_t)time(NULL);
    p.require_encryption = 1;
    if (ck_idtoken_verify(t, strlen(t), &p, c->jwks, c->rp, &claims, reason,
                          sizeof(reason)) != CK_IDT_OK)
        die(reason);
    json_decref(claims);
}

static void reference(struct ctx *c)
{
    unsigned char z[32];
    size_t zlen = sizeof(z);
    EVP_PKEY_CTX *d = EVP_PKEY_CTX_new(c->rp_priv, NULL);
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    if (d == NULL || EVP_PKEY_derive_init(d) <= 0 ||
        EVP_PKEY_derive_set_peer_ex(d, c->peer, 0) <= 0 ||
        EVP_PKEY_derive(d, z, &zlen) <= 0)
        die("reference derive");
    if (md == NULL || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, c->sig_pub) <= 0 ||
        EVP_DigestVerify(md, c->sig, c->siglen, c->msg, sizeof(c->msg)) != 1)
        die("reference verify");
    EVP_PKEY_CTX_free(d);
    EVP_MD_CTX_free(md);
}

/*
 * Both rates over about secs seconds, measured in small alternating batches
 * so that both see the same machine load: *v validations/s, *r pairs/s.
 */
static void rates(struct ctx *c, double secs, double *v, double *r)
{
    double t0 = cpu_s(), tv = 0, tr = 0, t;
    long nv = 0, nr = 0;
    int k;

    do {
        t = cpu_s();
        for (k = 0; k < 8; k++, nv++)
            validate(c, (int)nv);
        tv += cpu_s() - t;
        t = cpu_s();
        for (k = 0; k < 8; k++, nr++)
            reference(c);
        tr += cpu_s() - t;
    } while (cpu_s() - t0 < secs);
    *v = (double)nv / tv;
    *r = (double)nr / tr;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3.0, sum_v = 0, sum_r = 0, v, r;
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    struct ctx c;
    int i;

    if (secs <= 0)
        secs = 0.1;
    memset(&c, 0, sizeof(c));
    snprintf(dir, sizeof(dir), "%s/ck-bench-oidc-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp");
    setup(&c, dir);
    rmdir(dir);
    for (i = 0; i < ROUNDS; i++) {
        rates(&c, secs / ROUNDS, &v, &r);
        printf("round %d: idtoken %.0f/s, ecdh+ecdsa reference %.0f pairs/s, ratio %.2f\n",
               i + 1, v, r, v / r);
        sum_v += v;
        sum_r += r;
    }
    printf("RESULT idtoken_validations_per_s=%.0f idtoken_vs_crypto=%.2f\n",
           sum_v / ROUNDS, sum_v / sum_r);
    for (i = 0; i < NTOKENS; i++)
        free(c.tokens[i]);
    ck_jwks_free(c.jwks);
    ck_rp_keys_free(c.rp);
    EVP_PKEY_free(c.peer);
    EVP_PKEY_free(c.sig_pub);
    return 0;
}
