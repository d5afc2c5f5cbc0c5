/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * encode.c - base64url, hex and percent-encoding for every component.
 *
 * Hand-written on purpose: OpenSSL's EVP_EncodeBlock speaks standard
 * base64 with padding and accepts non-canonical input when decoding, and
 * the token path (every PAM call, every auth_request) decodes by table
 * lookup in a few nanoseconds. These are the only copies in the tree.
 */
#include "config.h"

#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ck_encode.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hexdigits[] = "0123456789abcdef";

size_t ck_b64url_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void ck_b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    if (n - i > 0) {
        unsigned v = (unsigned)in[i] << 16 | (n - i == 2 ? (unsigned)in[i + 1] << 8 : 0);

        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        if (n - i == 2)
            out[o++] = b64url[v >> 6 & 63];
    }
    out[o] = '\0';
}

char *ck_b64url_encode_dup(const unsigned char *in, size_t n)
{
    char *out = malloc(ck_b64url_encoded_len(n) + 1);

    if (out)
        ck_b64url_encode(in, n, out);
    return out;
}

/* Each base64url character's value plus one; 0 for anything else. */
static const unsigned char b64plus1[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
    ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
    ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
    ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
    ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
    ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
    ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

int ck_b64url_char(int c)
{
    return c >= 0 && c < 256 && b64plus1[c] != 0;
}

int ck_b64url_shape_ok(const char *s, size_t n)
{
    if (n % 4 == 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!b64plus1[(unsigned char)s[i]])
            return 0;
    return 1;
}

long ck_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;

    /* A length of 1 mod 4 cannot come from any byte string. */
    if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > outlen)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = (int)b64plus1[(unsigned char)in[i]] - 1;

        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, so every token has one spelling only. */
    if (bits && (acc & ((1u << bits) - 1)))
        return -1;
    return (long)o;
}

int ck_b64url_random(size_t nbytes, char *out, size_t outlen)
{
    unsigned char buf[64];

    if (nbytes > sizeof(buf) || ck_b64url_encoded_len(nbytes) >= outlen ||
        RAND_bytes(buf, (int)nbytes) != 1)
        return -1;
    ck_b64url_encode(buf, nbytes, out);
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

void ck_hex_encode(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int ck_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Lowercase only: a key or digest named in hex has one spelling. */
static int lower_hex_digit(int c)
{
    return c >= 'A' && c <= 'F' ? -1 : ck_hex_digit(c);
}

int ck_hex_decode(const char *in, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = lower_hex_digit((unsigned char)in[2 * i]);
        int lo = lower_hex_digit((unsigned char)in[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

size_t ck_pct_encoded_len(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += unreserved((unsigned char)*s) ? 1 : 3;
    return n;
}

int ck_pct_encode(const char *s, char *out, size_t outlen)
{
    static const char upper[] = "0123456789ABCDEF";
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = unreserved(*p);

        if (o + (plain ? 1 : 3) >= outlen)
            return -1;
        if (plain) {
            out[o++] = (char)*p;
            continue;
        }
        out[o++] = '%';
        out[o++] = upper[*p >> 4];
        out[o++] = upper[*p & 15];
    }
    if (o >= outlen)
        return -1;
    out[o] = '\0';
    return 0;
}
