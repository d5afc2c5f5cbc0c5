/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_encode.h - the byte encodings checkup uses everywhere: base64url
 * (RFC 4648 section 5, strict: no padding, canonical trailing bits),
 * lowercase hex, and percent-encoding of everything but RFC 3986's
 * unreserved characters.
 *
 * Every function writes into a buffer the caller sized with the matching
 * *_len function (plus one byte for the terminating NUL) or allocates
 * with malloc (the caller frees). Decoders refuse anything that is not
 * the one canonical spelling, so a token has exactly one form.
 */
#ifndef CK_ENCODE_H
#define CK_ENCODE_H

#include <stddef.h>

/* ---- base64url ---------------------------------------------------------- */

/* Characters that n bytes encode to, without the NUL. */
size_t ck_b64url_encoded_len(size_t n);

/* Writes ck_b64url_encoded_len(n) characters and a NUL to out. */
void ck_b64url_encode(const unsigned char *in, size_t n, char *out);

/* As above into a new buffer; NULL when out of memory. */
char *ck_b64url_encode_dup(const unsigned char *in, size_t n);

/* Returns the decoded length, or -1 when the input is not strict base64url
 * or does not fit in outlen bytes. */
long ck_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen);

/* 1 when c is in the base64url alphabet. */
int ck_b64url_char(int c);

/* 1 when the n characters of s could be strict base64url of some bytes
 * (alphabet only, and n is not 1 mod 4). */
int ck_b64url_shape_ok(const char *s, size_t n);

/* n random bytes from the OS CSPRNG, base64url-encoded into out (outlen
 * bytes with the NUL). 0 on success, -1 on a CSPRNG failure or no room. */
int ck_b64url_random(size_t nbytes, char *out, size_t outlen);

/* ---- hex ---------------------------------------------------------------- */

/* Writes 2n lowercase hex digits and a NUL to out. */
void ck_hex_encode(const unsigned char *in, size_t n, char *out);

/* The value of one hex digit (either case, as in %-escapes), or -1. */
int ck_hex_digit(int c);

/* Decodes exactly 2n lowercase hex digits into n bytes; 0, or -1 (uppercase
 * is refused: a key or digest named in hex has one spelling). */
int ck_hex_decode(const char *in, size_t n, unsigned char *out);

/* ---- percent-encoding (RFC 3986: all but ALPHA DIGIT - . _ ~) ------------- */

/* Characters the encoding of s takes, without the NUL. */
size_t ck_pct_encoded_len(const char *s);

/* Writes the encoding of s to out (outlen bytes with the NUL); -1 when it
 * does not fit. */
int ck_pct_encode(const char *s, char *out, size_t outlen);

#endif
