/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * token.c - checkup session tokens (compact JWS, HS256, kid key ring).
 *
 * Written with OpenSSL HMAC and jansson rather than cjose on purpose: this
 * code is loaded by pam_checkup.so into sshd, sudo, login and screen
 * lockers, and cjose (with its own JOSE surface) is kept out of every
 * process that loads PAM. The format is small enough to check by hand:
 * exactly three strict base64url parts, a header with alg HS256 and a
 * known kid, a 32-byte HMAC-SHA256 compared in constant time, then the
 * claims.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "ck_encode.h"
#include "ck_token.h"
#include "ck_secfile.h"

#define RING_FILE_MAX   (64 * 1024)
#define HEADER_MAX      256     /* decoded header bytes */
#define PAYLOAD_MAX     256     /* decoded payload bytes */
#define SIG_LEN         32
#define HEADER64_MAX    192     /* base64url of the header we write, kid included */

typedef struct ck_key {
    char kid[CK_KID_MAX];
    unsigned char secret[CK_KEY_MAX_BYTES];
    size_t len;
    /*
     * HMAC-SHA256 keyed with secret, prepared once at load: each token
     * works on a copy, so neither the algorithm lookups (a global lock in
     * OpenSSL 3) nor the key schedule are paid per token.
     */
    EVP_MAC_CTX *mac;
    /*
     * The header ck_token_sign writes for this key, base64url. A token
     * carrying exactly these bytes needs no JSON parse to know its alg
     * (HS256) and key; any other header is parsed and checked in full.
     */
    char header64[HEADER64_MAX];
    size_t header64_len;
} ck_key;

struct ck_keyring {
    size_t count;
    ck_key *keys;
};

static const char *const status_names[] = {
    [CK_TOKEN_OK] = "ok",
    [CK_TOKEN_MALFORMED] = "malformed token",
    [CK_TOKEN_BAD_ALG] = "algorithm not allowed",
    [CK_TOKEN_UNKNOWN_KID] = "unknown key id",
    [CK_TOKEN_BAD_SIGNATURE] = "bad signature",
    [CK_TOKEN_EXPIRED] = "token expired",
    [CK_TOKEN_ERR_INTERNAL] = "internal error",
};

const char *ck_token_status_str(ck_token_status st)
{
    if ((unsigned)st >= sizeof(status_names) / sizeof(status_names[0]))
        return "unknown";
    return status_names[st];
}

/* ---- key ring ---------------------------------------------------------- */

static int kid_valid(const char *kid, size_t len)
{
    if (len == 0 || len >= CK_KID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)kid[i];

        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

static char *json_b64(json_t *obj);

/* Fills k->header64; -1 on an allocation failure. */
static int key_header(ck_key *k)
{
    json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "typ", "JWT", "kid", k->kid);
    char *h64 = hdr ? json_b64(hdr) : NULL;
    int rc = -1;

    if (h64 && strlen(h64) < sizeof(k->header64)) {
        k->header64_len = strlen(h64);
        memcpy(k->header64, h64, k->header64_len + 1);
        rc = 0;
    }
    free(h64);
    json_decref(hdr);
    return rc;
}

/* The key's prepared HMAC; NULL on an OpenSSL failure. */
static EVP_MAC_CTX *key_mac(const unsigned char *secret, size_t len)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;

    /* The context keeps its own reference to the algorithm. */
    EVP_MAC_free(alg);
    if (ctx && EVP_MAC_init(ctx, secret, len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static int ring_add(ck_keyring *ring, const char *kid, size_t kidlen,
                    const char *b64, size_t b64len)
{
    ck_key *keys = realloc(ring->keys, (ring->count + 1) * sizeof(*keys));
    ck_key *k;
    long n;

    if (!keys)
        return -1;
    ring->keys = keys;
    k = &keys[ring->count];
    memset(k, 0, sizeof(*k));
    memcpy(k->kid, kid, kidlen);
    n = ck_b64url_decode(b64, b64len, k->secret, sizeof(k->secret));
    if (n < CK_KEY_MIN_BYTES) {
        OPENSSL_cleanse(k, sizeof(*k));
        return -2;
    }
    k->len = (size_t)n;
    k->mac = key_mac(k->secret, k->len);
    if (!k->mac || key_header(k) != 0) {
        EVP_MAC_CTX_free(k->mac);
        OPENSSL_cleanse(k, sizeof(*k));
        return -3;
    }
    ring->count++;
    return 0;
}

static int parse_ring_line(ck_keyring *ring, const char *path, int lineno, char *line,
                           char *err, size_t errlen)
{
    char *kid, *secret, *end;
    size_t kidlen;

    while (*line == ' ' || *line == '\t')
        line++;
    if (*line == '\0' || *line == '#')
        return 0;
    kid = line;
    kidlen = strcspn(kid, " \t");
    secret = kid + kidlen;
    secret += strspn(secret, " \t");
    end = secret + strcspn(secret, " \t");
    if (*(end + strspn(end, " \t")) != '\0' || !*secret) {
        snprintf(err, errlen, "%s:%d: expected \"kid base64url-secret\"", path, lineno);
        return -1;
    }
    if (!kid_valid(kid, kidlen)) {
        snprintf(err, errlen, "%s:%d: key id must be 1..64 of A-Z a-z 0-9 . _ -", path,
                 lineno);
        return -1;
    }
    for (size_t i = 0; i < ring->count; i++) {
        if (strlen(ring->keys[i].kid) == kidlen && memcmp(ring->keys[i].kid, kid, kidlen) == 0) {
            snprintf(err, errlen, "%s:%d: key id %.*s appears twice", path, lineno,
                     (int)kidlen, kid);
            return -1;
        }
    }
    switch (ring_add(ring, kid, kidlen, secret, (size_t)(end - secret))) {
    case 0:
        return 0;
    case -2:
        snprintf(err, errlen, "%s:%d: secret is not base64url of %d..%d bytes", path, lineno,
                 CK_KEY_MIN_BYTES, CK_KEY_MAX_BYTES);
        return -1;
    case -3:
        snprintf(err, errlen, "%s:%d: cannot prepare HMAC-SHA256 with this key "
                 "(OpenSSL or memory)", path, lineno);
        return -1;
    default:
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
}

int ck_keyring_load(const char *path, int check_mode, ck_keyring **out,
                    char *err, size_t errlen)
{
    ck_keyring *ring = NULL;
    char *data = NULL, *line, *save = NULL;
    size_t len = 0;
    int lineno = 0, rc = -1;

    *out = NULL;
    if (ck_secfile_read(path, check_mode, RING_FILE_MAX, &data, &len, err, errlen) != 0)
        return -1;
    if (strlen(data) != len) {
        snprintf(err, errlen, "%s: contains a NUL byte", path);
        goto out;
    }
    ring = calloc(1, sizeof(*ring));
    if (!ring) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    /* strtok_r would merge empty lines and shift the line numbers. */
    for (line = data; line; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        line[strcspn(line, "\r")] = '\0';
        if (parse_ring_line(ring, path, lineno, line, err, errlen) != 0)
            goto out;
    }
    if (ring->count == 0) {
        snprintf(err, errlen, "%s: no keys (create one with: checkup keys generate)", path);
        goto out;
    }
    *out = ring;
    ring = NULL;
    rc = 0;
out:
    ck_keyring_free(ring);
    ck_secfile_free(data, len);
    return rc;
}

void ck_keyring_free(ck_keyring *ring)
{
    if (!ring)
        return;
    if (ring->keys) {
        for (size_t i = 0; i < ring->count; i++)
            EVP_MAC_CTX_free(ring->keys[i].mac);
        OPENSSL_cleanse(ring->keys, ring->count * sizeof(*ring->keys));
        free(ring->keys);
    }
    free(ring);
}

size_t ck_keyring_count(const ck_keyring *ring)
{
    return ring ? ring->count : 0;
}

const char *ck_keyring_signing_kid(const ck_keyring *ring)
{
    return ring && ring->count ? ring->keys[0].kid : NULL;
}

/* The key whose own header is exactly these n bytes, if any. */
static const ck_key *ring_find_header(const ck_keyring *ring, const char *h64, size_t n)
{
    for (size_t i = 0; i < ring->count; i++)
        if (ring->keys[i].header64_len == n && memcmp(ring->keys[i].header64, h64, n) == 0)
            return &ring->keys[i];
    return NULL;
}

static const ck_key *ring_find(const ck_keyring *ring, const char *kid)
{
    for (size_t i = 0; i < ring->count; i++)
        if (strcmp(ring->keys[i].kid, kid) == 0)
            return &ring->keys[i];
    return NULL;
}

int ck_keyring_generate(const char *path, char kid_out[CK_KID_MAX], char *err, size_t errlen)
{
    unsigned char secret[32], rnd[6];
    char b64[64], kidhex[13], line[160];
    char *old = NULL, *buf = NULL;
    size_t oldlen = 0, n;
    int lockfd, rc = -1;

    lockfd = ck_secfile_lock(path, err, errlen);
    if (lockfd < 0)
        return -1;
    if (access(path, F_OK) == 0 &&
        ck_secfile_read(path, 1, RING_FILE_MAX, &old, &oldlen, err, errlen) != 0)
        goto out;
    if (RAND_priv_bytes(secret, sizeof(secret)) != 1 || RAND_bytes(rnd, sizeof(rnd)) != 1) {
        snprintf(err, errlen, "the system random generator failed");
        goto out;
    }
    ck_hex_encode(rnd, sizeof(rnd), kidhex);
    ck_b64url_encode(secret, sizeof(secret), b64);
    n = (size_t)snprintf(line, sizeof(line), "k%s %s\n", kidhex, b64);
    buf = malloc(n + oldlen + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* New key first: it signs from now on; the old ones still verify. */
    memcpy(buf, line, n);
    if (oldlen)
        memcpy(buf + n, old, oldlen);
    if (ck_secfile_replace(path, buf, n + oldlen, err, errlen) != 0)
        goto out;
    snprintf(kid_out, CK_KID_MAX, "k%s", kidhex);
    rc = 0;
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(b64, sizeof(b64));
    OPENSSL_cleanse(line, sizeof(line));
    if (buf)
        ck_secfile_free(buf, n + oldlen);
    ck_secfile_free(old, oldlen);
    close(lockfd);
    return rc;
}

/* ---- sign and verify --------------------------------------------------- */

static int hmac(const ck_key *k, const char *data, size_t len, unsigned char mac[SIG_LEN])
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(k->mac);
    size_t maclen = 0;
    int rc = -1;

    if (!ctx)
        return -1;
    if (EVP_MAC_update(ctx, (const unsigned char *)data, len) == 1 &&
        EVP_MAC_final(ctx, mac, &maclen, SIG_LEN) == 1 && maclen == SIG_LEN)
        rc = 0;
    EVP_MAC_CTX_free(ctx);
    return rc;
}

/* Encodes a JSON object as compact base64url into a fresh buffer. */
static char *json_b64(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    char *out = NULL;
    size_t len;

    if (!text)
        return NULL;
    len = strlen(text);
    out = malloc(ck_b64url_encoded_len(len) + 1);
    if (out)
        ck_b64url_encode((const unsigned char *)text, len, out);
    free(text);
    return out;
}

ck_token_status ck_token_sign(const ck_keyring *ring, const char *sid,
                              int64_t iat, int64_t exp, char **out)
{
    const ck_key *k;
    json_t *claims = NULL;
    char *p64 = NULL, *tok = NULL;
    unsigned char mac[SIG_LEN];
    size_t hl, pl, sl = ck_b64url_encoded_len(SIG_LEN);
    ck_token_status rc = CK_TOKEN_ERR_INTERNAL;

    *out = NULL;
    if (!ring || ring->count == 0 || !sid)
        return CK_TOKEN_ERR_INTERNAL;
    k = &ring->keys[0];
    claims = json_pack("{s:s, s:I, s:I}", "sid", sid, "iat", (json_int_t)iat,
                       "exp", (json_int_t)exp);
    if (!claims)
        goto out;
    p64 = json_b64(claims);
    if (!p64)
        goto out;
    hl = k->header64_len;
    pl = strlen(p64);
    tok = malloc(hl + 1 + pl + 1 + sl + 1);
    if (!tok)
        goto out;
    memcpy(tok, k->header64, hl);
    tok[hl] = '.';
    memcpy(tok + hl + 1, p64, pl + 1);
    if (hmac(k, tok, hl + 1 + pl, mac) != 0)
        goto out;
    tok[hl + 1 + pl] = '.';
    ck_b64url_encode(mac, SIG_LEN, tok + hl + 1 + pl + 1);
    *out = tok;
    tok = NULL;
    rc = CK_TOKEN_OK;
out:
    if (claims) {
        json_object_clear(claims);
        json_decref(claims);
    }
    if (p64) {
        OPENSSL_cleanse(p64, strlen(p64));
        free(p64);
    }
    free(tok);
    return rc;
}

/* Decodes a base64url part into JSON text and parses it as an object. */
static json_t *part_json(const char *p, size_t n, size_t max)
{
    /* NOLINTNEXTLINE(bugprone-branch-clone): the limits are equal today only */
    unsigned char buf[HEADER_MAX > PAYLOAD_MAX ? HEADER_MAX : PAYLOAD_MAX];
    json_t *obj;
    long len;

    if (max > sizeof(buf))
        return NULL;
    len = ck_b64url_decode(p, n, buf, max);
    if (len <= 0)
        return NULL;
    /* jansson rejects NUL bytes and invalid UTF-8 without JSON_ALLOW_NUL. */
    obj = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
    OPENSSL_cleanse(buf, sizeof(buf));
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static ck_token_status check_header(const ck_keyring *ring, json_t *hdr, const ck_key **key)
{
    json_t *alg = json_object_get(hdr, "alg");
    json_t *kid = json_object_get(hdr, "kid");

    if (!json_is_string(alg))
        return CK_TOKEN_MALFORMED;
    if (strcmp(json_string_value(alg), "HS256") != 0)
        return CK_TOKEN_BAD_ALG;
    /* No extension we would have to understand ("crit") is accepted. */
    if (json_object_get(hdr, "crit"))
        return CK_TOKEN_MALFORMED;
    if (!json_is_string(kid) || json_string_length(kid) >= CK_KID_MAX)
        return CK_TOKEN_UNKNOWN_KID;
    *key = ring_find(ring, json_string_value(kid));
    return *key ? CK_TOKEN_OK : CK_TOKEN_UNKNOWN_KID;
}

static ck_token_status check_claims(json_t *claims, int64_t now, char sid[CK_SID_LEN],
                                    int64_t *iat, int64_t *exp)
{
    json_t *s = json_object_get(claims, "sid");
    json_t *i = json_object_get(claims, "iat");
    json_t *e = json_object_get(claims, "exp");

    if (!json_is_string(s) || json_string_length(s) != CK_SID_LEN - 1 ||
        !json_is_integer(i) || !json_is_integer(e))
        return CK_TOKEN_MALFORMED;
    /* Signed by us: an expired token still names its session, for the audit. */
    memcpy(sid, json_string_value(s), CK_SID_LEN);
    if (json_integer_value(e) <= now)
        return CK_TOKEN_EXPIRED;
    if (iat)
        *iat = json_integer_value(i);
    if (exp)
        *exp = json_integer_value(e);
    return CK_TOKEN_OK;
}

/* Skips the literal lit at *p; 0 when the text differs. */
static int fast_lit(const unsigned char **p, const unsigned char *end, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return 0;
    *p += n;
    return 1;
}

/* A JSON integer of 1 to 18 digits, no sign, no leading zero. */
static int fast_int(const unsigned char **p, const unsigned char *end, int64_t *v)
{
    const unsigned char *q = *p;
    int64_t x = 0;

    while (q < end && *q >= '0' && *q <= '9' && q - *p < 18)
        x = x * 10 + (*q++ - '0');
    if (q == *p || (q < end && *q >= '0' && *q <= '9') || (**p == '0' && q - *p > 1))
        return 0;
    *p = q;
    *v = x;
    return 1;
}

static int b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/*
 * The claims as ck_token_sign writes them (compact, keys sorted):
 * {"exp":N,"iat":N,"sid":"<CK_SID_LEN - 1 base64url characters>"}, read
 * without jansson, since every keep-alive verifies a token. Any other
 * text, even equivalent JSON, returns 0 and goes to the parser, which
 * gives the same answer for this shape.
 */
static int fast_claims(const unsigned char *p, size_t n, char sid[CK_SID_LEN], int64_t *iat,
                       int64_t *exp)
{
    const unsigned char *end = p + n, *s;
    int64_t e, i;

    if (!fast_lit(&p, end, "{\"exp\":") || !fast_int(&p, end, &e) ||
        !fast_lit(&p, end, ",\"iat\":") || !fast_int(&p, end, &i) ||
        !fast_lit(&p, end, ",\"sid\":\""))
        return 0;
    s = p;
    while (p < end && b64url_char(*p))
        p++;
    if (p - s != CK_SID_LEN - 1 || !fast_lit(&p, end, "\"}") || p != end)
        return 0;
    memcpy(sid, s, CK_SID_LEN - 1);
    sid[CK_SID_LEN - 1] = '\0';
    *iat = i;
    *exp = e;
    return 1;
}

/* The verified payload's claims: the fast reader, else jansson. */
static ck_token_status read_claims(const char *p, size_t n, int64_t now, char sid[CK_SID_LEN],
                                   int64_t *iat, int64_t *exp)
{
    unsigned char buf[PAYLOAD_MAX];
    ck_token_status rc = CK_TOKEN_MALFORMED;
    json_t *claims;
    int64_t i, e;
    long len = ck_b64url_decode(p, n, buf, sizeof(buf));

    if (len > 0 && fast_claims(buf, (size_t)len, sid, &i, &e)) {
        OPENSSL_cleanse(buf, sizeof(buf));
        /* Signed by us: an expired token still names its session, for the audit. */
        if (e <= now)
            return CK_TOKEN_EXPIRED;
        if (iat)
            *iat = i;
        if (exp)
            *exp = e;
        return CK_TOKEN_OK;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    claims = part_json(p, n, PAYLOAD_MAX);
    if (claims) {
        rc = check_claims(claims, now, sid, iat, exp);
        json_object_clear(claims);
        json_decref(claims);
    }
    return rc;
}

ck_token_status ck_token_verify(const ck_keyring *ring, const char *token, size_t len,
                                int64_t now, char sid[CK_SID_LEN],
                                int64_t *iat, int64_t *exp)
{
    const char *dot1, *dot2;
    const ck_key *key = NULL;
    json_t *hdr = NULL;
    unsigned char mac[SIG_LEN], given[SIG_LEN];
    ck_token_status rc = CK_TOKEN_MALFORMED;

    if (!ring || !token || len == 0 || len > CK_TOKEN_MAX || memchr(token, '\0', len))
        return CK_TOKEN_MALFORMED;
    dot1 = memchr(token, '.', len);
    if (!dot1)
        return CK_TOKEN_MALFORMED;
    dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return CK_TOKEN_MALFORMED;
    key = ring_find_header(ring, token, (size_t)(dot1 - token));
    if (!key) {
        hdr = part_json(token, (size_t)(dot1 - token), HEADER_MAX);
        if (!hdr)
            goto out;
        rc = check_header(ring, hdr, &key);
        if (rc != CK_TOKEN_OK)
            goto out;
    }
    rc = CK_TOKEN_MALFORMED;
    if (ck_b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), given,
                         sizeof(given)) != SIG_LEN)
        goto out;
    rc = CK_TOKEN_ERR_INTERNAL;
    if (hmac(key, token, (size_t)(dot2 - token), mac) != 0)
        goto out;
    rc = CK_TOKEN_BAD_SIGNATURE;
    if (CRYPTO_memcmp(mac, given, SIG_LEN) != 0)
        goto out;
    rc = read_claims(dot1 + 1, (size_t)(dot2 - dot1 - 1), now, sid, iat, exp);
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    json_decref(hdr);
    return rc;
}

int ck_token_looks_like(const char *s)
{
    const char *d1, *d2;

    /* Every token starts with the base64url of '{"' ("eyJ"). */
    if (!s || strncmp(s, "eyJ", 3) != 0)
        return 0;
    d1 = strchr(s, '.');
    d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    return d2 && !strchr(d2 + 1, '.');
}
