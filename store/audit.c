/*
 * audit.c - audit lines for syslog and JSON lines for the audit file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "ck_audit.h"

#define VALUE_MAX 256   /* escaped value, longer input is cut with "..." */

void ck_audit_sid_hash(const char *key_hex, char out[CK_SID_HASH_LEN])
{
    size_t n = key_hex ? strnlen(key_hex, CK_SID_HASH_LEN - 1) : 0;

    memcpy(out, key_hex ? key_hex : "", n);
    out[n] = '\0';
}

void ck_audit_sid_hash_of(const char *sid, char out[CK_SID_HASH_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    size_t len = sid ? strlen(sid) : 0;

    /* As the store names it: the id's two tag characters, then SHA-256 of the id. */
    if (len < 2) {
        out[0] = '\0';
        return;
    }
    SHA256((const unsigned char *)sid, len, md);
    out[0] = sid[0];
    out[1] = sid[1];
    for (int i = 0; i < 6; i++) {
        out[2 + 2 * i] = hex[md[i] >> 4];
        out[3 + 2 * i] = hex[md[i] & 15];
    }
    out[CK_SID_HASH_LEN - 1] = '\0';
}

/* Printable ASCII only; anything else as \xNN. quote=1 also escapes '"'. */
static void escape(const char *in, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p; p++) {
        int plain = *p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '=';

        if (o + (plain ? 1 : 4) + 4 >= outlen) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (plain) {
            out[o++] = (char)*p;
            continue;
        }
        out[o++] = '\\';
        out[o++] = 'x';
        out[o++] = hex[*p >> 4];
        out[o++] = hex[*p & 15];
    }
    out[o] = '\0';
}

static void fields(const ck_audit_event *ev, const char *names[8], const char *vals[8])
{
    static const char *const n[8] = {
        "event", "user", "method", "service", "rhost", "sid", "result", "reason",
    };

    memcpy(names, n, sizeof(n));
    vals[0] = ev->event;
    vals[1] = ev->user;
    vals[2] = ev->method;
    vals[3] = ev->service;
    vals[4] = ev->rhost;
    vals[5] = ev->sid_hash;
    vals[6] = ev->result;
    vals[7] = ev->reason;
}

void ck_audit_format(const ck_audit_event *ev, char *buf, size_t len)
{
    const char *names[8], *vals[8];
    char v[VALUE_MAX];
    size_t o = 0;

    buf[0] = '\0';
    fields(ev, names, vals);
    for (int i = 0; i < 8 && o < len; i++) {
        int n;

        escape(vals[i] && *vals[i] ? vals[i] : "-", v, sizeof(v));
        n = snprintf(buf + o, len - o, "%s%s=%s", i ? " " : "", names[i], v);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

static int write_line(int fd, const char *line, size_t len)
{
    ssize_t n;

    do {
        n = write(fd, line, len);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? 0 : -1;
}

int ck_audit_write_json(const char *path, const ck_audit_event *ev, int64_t now,
                        char *err, size_t errlen)
{
    const char *names[8], *vals[8];
    char v[VALUE_MAX], *text = NULL, *line = NULL;
    json_t *obj = json_object();
    size_t len;
    int fd = -1, rc = -1;

    if (!obj || json_object_set_new(obj, "time", json_integer((json_int_t)now)) != 0)
        goto nomem;
    fields(ev, names, vals);
    for (int i = 0; i < 8; i++) {
        if (!vals[i] || !*vals[i])
            continue;
        escape(vals[i], v, sizeof(v));
        if (json_object_set_new(obj, names[i], json_string(v)) != 0)
            goto nomem;
    }
    text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        goto nomem;
    len = strlen(text);
    line = malloc(len + 2);
    if (!line)
        goto nomem;
    memcpy(line, text, len);
    line[len++] = '\n';
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    if (write_line(fd, line, len) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
out:
    if (fd >= 0)
        close(fd);
    free(line);
    free(text);
    json_decref(obj);
    return rc;
}
