/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parse.c - OAUTHBEARER (RFC 7628) client messages, read strictly, and
 * the messages the plugin writes (see oauthbearer.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "oauthbearer.h"

#define KVSEP '\x01'

const char *ck_ob_status_word(ck_ob_status st)
{
    switch (st) {
    case CK_OB_OK: return "ok";
    case CK_OB_EMPTY: return "empty_message";
    case CK_OB_TOO_LONG: return "too_long";
    case CK_OB_NUL: return "nul_byte";
    case CK_OB_BAD_GS2: return "bad_gs2_header";
    case CK_OB_CHANNEL_BINDING: return "channel_binding";
    case CK_OB_BAD_AUTHZID: return "bad_authzid";
    case CK_OB_BAD_PAIR: return "bad_key_value";
    case CK_OB_DUP_KEY: return "duplicate_key";
    case CK_OB_NO_AUTH: return "no_auth";
    case CK_OB_BAD_AUTH: return "bad_auth";
    case CK_OB_BAD_HOST: return "bad_host";
    case CK_OB_BAD_PORT: return "bad_port";
    case CK_OB_BAD_END: return "bad_end";
    case CK_OB_DUMMY: return "dummy_response";
    }
    return "unknown";
}

static int is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 7628: value = *(VCHAR / SP / HTAB / CR / LF) */
static int is_value_byte(unsigned char c)
{
    return (c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 6750 b64token characters, before the '=' padding. */
static int is_b64token_byte(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
           c == '+' || c == '/';
}

/* Length of one well-formed UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need, i;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        need = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        need = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        need = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* No overlong forms, no surrogates, nothing past U+10FFFF. */
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return need;
}

/*
 * saslname = 1*(UTF8-char-safe / "=2C" / "=3D"), ending at the ',' at
 * *end. Control characters are refused too: a name goes into logs.
 */
static ck_ob_status parse_saslname(const char *s, const char *end, char *out, size_t outlen)
{
    size_t o = 0, n;

    if (s == end)
        return CK_OB_BAD_AUTHZID;
    while (s < end) {
        unsigned char c = (unsigned char)*s;
        char ch;

        if (c == '=') {
            if (end - s >= 3 && memcmp(s, "=2C", 3) == 0)
                ch = ',';
            else if (end - s >= 3 && memcmp(s, "=3D", 3) == 0)
                ch = '=';
            else
                return CK_OB_BAD_AUTHZID;
            n = 3;
            if (o + 1 >= outlen)
                return CK_OB_TOO_LONG;
            out[o++] = ch;
            s += n;
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            return CK_OB_BAD_AUTHZID;
        n = utf8_len((const unsigned char *)s, (size_t)(end - s));
        if (n == 0)
            return CK_OB_BAD_AUTHZID;
        if (o + n >= outlen)
            return CK_OB_TOO_LONG;
        memcpy(out + o, s, n);
        o += n;
        s += n;
    }
    out[o] = '\0';
    return CK_OB_OK;
}

/* gs2-header kvsep; *p is left after the kvsep. */
static ck_ob_status parse_gs2(const char **p, const char *end, ck_ob_msg *out)
{
    const char *s = *p, *comma;
    ck_ob_status st;

    if (end - s >= 2 && s[0] == 'p' && s[1] == '=')
        return CK_OB_CHANNEL_BINDING;
    if (end - s < 3 || (s[0] != 'n' && s[0] != 'y') || s[1] != ',')
        return CK_OB_BAD_GS2;
    out->cbflag = s[0];
    s += 2;
    if (end - s >= 2 && s[0] == 'a' && s[1] == '=') {
        s += 2;
        comma = memchr(s, ',', (size_t)(end - s));
        if (!comma)
            return CK_OB_BAD_GS2;
        st = parse_saslname(s, comma, out->authzid, sizeof(out->authzid));
        if (st != CK_OB_OK)
            return st;
        out->has_authzid = 1;
        s = comma;
    }
    if (s >= end || *s != ',')
        return CK_OB_BAD_GS2;
    s++;
    if (s >= end || *s != KVSEP)
        return CK_OB_BAD_GS2;
    *p = s + 1;
    return CK_OB_OK;
}

/* auth-value = "Bearer" 1*SP b64token; the scheme is case-insensitive. */
static ck_ob_status parse_auth(const char *v, size_t n, ck_ob_msg *out)
{
    size_t i = 6, start;

    if (n < 8 || strncasecmp(v, "Bearer", 6) != 0 || v[6] != ' ')
        return CK_OB_BAD_AUTH;
    while (i < n && v[i] == ' ')
        i++;
    start = i;
    while (i < n && is_b64token_byte((unsigned char)v[i]))
        i++;
    if (i == start)
        return CK_OB_BAD_AUTH;
    while (i < n && v[i] == '=')
        i++;
    if (i != n)
        return CK_OB_BAD_AUTH;
    if (n - start >= sizeof(out->token))
        return CK_OB_TOO_LONG;
    memcpy(out->token, v + start, n - start);
    out->token[n - start] = '\0';
    out->token_len = n - start;
    return CK_OB_OK;
}

static ck_ob_status parse_host(const char *v, size_t n, ck_ob_msg *out)
{
    if (n == 0)
        return CK_OB_BAD_HOST;
    if (n >= sizeof(out->host))
        return CK_OB_TOO_LONG;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
            return CK_OB_BAD_HOST;
    memcpy(out->host, v, n);
    out->host[n] = '\0';
    out->has_host = 1;
    return CK_OB_OK;
}

static ck_ob_status parse_port(const char *v, size_t n, ck_ob_msg *out)
{
    unsigned port = 0;

    if (n == 0 || n > 5)
        return CK_OB_BAD_PORT;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)v[i]))
            return CK_OB_BAD_PORT;
        port = port * 10 + (unsigned)(v[i] - '0');
    }
    if (port == 0 || port > 65535)
        return CK_OB_BAD_PORT;
    out->port = port;
    out->has_port = 1;
    return CK_OB_OK;
}

typedef struct seen_keys {
    const char *key[CK_OB_PAIRS_MAX];
    size_t len[CK_OB_PAIRS_MAX];
    size_t count;
} seen_keys;

static ck_ob_status note_key(seen_keys *k, const char *key, size_t n)
{
    for (size_t i = 0; i < k->count; i++)
        if (k->len[i] == n && memcmp(k->key[i], key, n) == 0)
            return CK_OB_DUP_KEY;
    if (k->count == CK_OB_PAIRS_MAX)
        return CK_OB_TOO_LONG;
    k->key[k->count] = key;
    k->len[k->count] = n;
    k->count++;
    return CK_OB_OK;
}

/* One kvpair at *p (which is not the final kvsep); *p is left after its kvsep. */
static ck_ob_status parse_pair(const char **p, const char *end, seen_keys *seen, ck_ob_msg *out)
{
    const char *key = *p, *v, *sep;
    size_t klen = 0, vlen;
    ck_ob_status st;

    while (key + klen < end && is_alpha((unsigned char)key[klen]))
        klen++;
    if (klen == 0 || klen > CK_OB_KEY_MAX || key + klen >= end || key[klen] != '=')
        return CK_OB_BAD_PAIR;
    v = key + klen + 1;
    sep = memchr(v, KVSEP, (size_t)(end - v));
    if (!sep)
        return CK_OB_BAD_END;
    vlen = (size_t)(sep - v);
    for (size_t i = 0; i < vlen; i++)
        if (!is_value_byte((unsigned char)v[i]))
            return CK_OB_BAD_PAIR;
    st = note_key(seen, key, klen);
    if (st != CK_OB_OK)
        return st;
    *p = sep + 1;
    if (klen == 4 && memcmp(key, "auth", 4) == 0)
        return parse_auth(v, vlen, out);
    if (klen == 4 && memcmp(key, "host", 4) == 0)
        return parse_host(v, vlen, out);
    if (klen == 4 && memcmp(key, "port", 4) == 0)
        return parse_port(v, vlen, out);
    return CK_OB_OK;        /* an extension we do not know: ignored (RFC 7628 3.1) */
}

static ck_ob_status parse_all(const char *msg, size_t len, ck_ob_msg *out)
{
    const char *p = msg, *end = msg + len;
    seen_keys seen = { .count = 0 };
    ck_ob_status st;

    if (len == 0)
        return CK_OB_EMPTY;
    if (len > CK_OB_MSG_MAX)
        return CK_OB_TOO_LONG;
    if (memchr(msg, '\0', len))
        return CK_OB_NUL;
    if (len == 1 && msg[0] == KVSEP)
        return CK_OB_DUMMY;
    st = parse_gs2(&p, end, out);
    if (st != CK_OB_OK)
        return st;
    for (;;) {
        if (p >= end)
            return CK_OB_BAD_END;
        if (*p == KVSEP)
            break;
        st = parse_pair(&p, end, &seen, out);
        if (st != CK_OB_OK)
            return st;
    }
    /* The final kvsep is the last byte. */
    if (p + 1 != end)
        return CK_OB_BAD_END;
    return out->token_len > 0 ? CK_OB_OK : CK_OB_NO_AUTH;
}

ck_ob_status ck_ob_parse(const char *msg, size_t len, ck_ob_msg *out)
{
    ck_ob_status st;

    memset(out, 0, sizeof(*out));
    st = parse_all(msg, len, out);
    if (st != CK_OB_OK) {
        /* A refused message leaves no token behind. */
        OPENSSL_cleanse(out->token, sizeof(out->token));
        out->token_len = 0;
    }
    return st;
}

/* Appends n bytes; *o stays at most cap - 1 so that a NUL always fits. */
static int put(char *buf, size_t cap, size_t *o, const char *s, size_t n)
{
    if (*o + n >= cap)
        return -1;
    memcpy(buf + *o, s, n);
    *o += n;
    buf[*o] = '\0';
    return 0;
}

static int put_authzid(char *buf, size_t cap, size_t *o, const char *a)
{
    for (; *a; a++) {
        unsigned char c = (unsigned char)*a;
        int rc;

        if (c < 0x20 || c == 0x7f)
            return -1;
        if (c == ',')
            rc = put(buf, cap, o, "=2C", 3);
        else if (c == '=')
            rc = put(buf, cap, o, "=3D", 3);
        else
            rc = put(buf, cap, o, a, 1);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* A b64token (RFC 6750) that fits what the server reads. */
static int token_ok(const char *t)
{
    size_t n = strnlen(t, CK_OB_TOKEN_MAX), i = 0;

    if (n == 0 || n >= CK_OB_TOKEN_MAX)
        return 0;
    while (i < n && is_b64token_byte((unsigned char)t[i]))
        i++;
    if (i == 0)
        return 0;
    while (i < n && t[i] == '=')
        i++;
    return i == n;
}

size_t ck_ob_build(char *buf, size_t buflen, const char *authzid, const char *host,
                   unsigned port, const char *token)
{
    char num[16];
    size_t o = 0;
    int bad = 0;

    if (buflen == 0)
        return 0;
    buf[0] = '\0';
    if (!token || !token_ok(token) || port > 65535)
        return 0;
    bad |= put(buf, buflen, &o, "n,", 2);
    if (authzid && *authzid) {
        bad |= put(buf, buflen, &o, "a=", 2);
        bad |= put_authzid(buf, buflen, &o, authzid);
    }
    bad |= put(buf, buflen, &o, ",\x01", 2);
    if (host && *host) {
        for (const char *h = host; *h; h++)
            bad |= (unsigned char)*h <= 0x20 || (unsigned char)*h >= 0x7f;
        bad |= put(buf, buflen, &o, "host=", 5);
        bad |= put(buf, buflen, &o, host, strlen(host));
        bad |= put(buf, buflen, &o, "\x01", 1);
    }
    if (port) {
        snprintf(num, sizeof(num), "port=%u\x01", port);
        bad |= put(buf, buflen, &o, num, strlen(num));
    }
    bad |= put(buf, buflen, &o, "auth=Bearer ", 12);
    bad |= put(buf, buflen, &o, token, strlen(token));
    bad |= put(buf, buflen, &o, "\x01\x01", 2);
    if (bad) {
        OPENSSL_cleanse(buf, buflen);
        return 0;
    }
    return o;
}

static int put_json_string(char *buf, size_t cap, size_t *o, const char *s)
{
    char esc[8];
    int bad = put(buf, cap, o, "\"", 1);

    for (; *s && !bad; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            bad |= put(buf, cap, o, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            bad |= put(buf, cap, o, esc, 6);
        } else {
            bad |= put(buf, cap, o, s, 1);
        }
    }
    return bad | put(buf, cap, o, "\"", 1);
}

size_t ck_ob_error_json(char *buf, size_t buflen, const char *scope, const char *base)
{
    size_t o = 0;
    int bad = 0;

    if (buflen == 0)
        return 0;
    buf[0] = '\0';
    bad |= put(buf, buflen, &o, "{\"status\":\"invalid_token\",\"scope\":", 34);
    bad |= put_json_string(buf, buflen, &o, scope ? scope : "");
    if (base && *base) {
        size_t n = strlen(base);
        char url[1024];

        /* One slash between the base and the well-known path. */
        while (n > 0 && base[n - 1] == '/')
            n--;
        if (snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration", (int)n,
                     base) >= (int)sizeof(url))
            bad = 1;
        bad |= put(buf, buflen, &o, ",\"openid-configuration\":", 24);
        bad |= put_json_string(buf, buflen, &o, url);
    }
    bad |= put(buf, buflen, &o, "}", 1);
    if (bad) {
        buf[0] = '\0';
        return 0;
    }
    return o;
}
