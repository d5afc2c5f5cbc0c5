/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_audit.c - audit events with hostile values (user names, hosts,
 * services from the PAM caller): ck_audit_format into buffers of every
 * size and ck_audit_write_json to a file.
 *
 * The input is up to eight NUL-separated values (event, user, method,
 * service, rhost, sid, result, reason); the first byte sets the buffer
 * size. Properties: the syslog line is NUL-terminated inside its buffer,
 * printable ASCII only and one line; the JSON line is one line of valid
 * JSON whose string values are text (valid UTF-8, no control characters),
 * hold a value that is short text as it is, and carry a user name only
 * when it has a known shape (else user_hash and user_len).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ck_audit.h"
#include "ck_text.h"
#include "fuzz.h"

static void check_printable(const char *s, const char *what)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            ck_fuzz_fail("audit: %s holds byte 0x%02x", what, *p);
}

static void check_format(const ck_audit_event *ev, size_t len)
{
    char *buf = malloc(len);

    if (!buf)
        ck_fuzz_fail("out of memory");
    ck_audit_format(ev, buf, len);
    if (!memchr(buf, '\0', len))
        ck_fuzz_fail("audit: line not terminated in a %zu-byte buffer", len);
    check_printable(buf, "the syslog line");
    free(buf);
}

/* What the JSON line must hold for one field. */
static void check_value(json_t *obj, const char *key, const char *in)
{
    const char *out = json_string_value(json_object_get(obj, key));

    if (!in || !*in) {
        if (json_object_get(obj, key))
            ck_fuzz_fail("audit: empty %s written", key);
        return;
    }
    if (!out)
        ck_fuzz_fail("audit: %s missing", key);
    if (ck_text_ok(in) && strlen(in) <= 256 && strcmp(in, out) != 0)
        ck_fuzz_fail("audit: %s changed on its way to JSON", key);
}

static void check_json(const ck_audit_event *ev)
{
    static char path[4200];
    char err[256], line[8192];
    json_t *obj, *v;
    const char *k;
    ssize_t n;
    int fd;

    if (!path[0])
        snprintf(path, sizeof(path), "%s/audit.jsonl", ck_fuzz_tmpdir());
    unlink(path);
    if (ck_audit_write_json(path, ev, 1700000000, err, sizeof(err)) != 0)
        ck_fuzz_fail("audit: cannot write JSON: %s", err);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd < 0 ? -1 : read(fd, line, sizeof(line) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0 || line[n - 1] != '\n' || memchr(line, '\n', (size_t)n - 1))
        ck_fuzz_fail("audit: the JSON record is not one line");
    line[n] = '\0';
    obj = json_loads(line, 0, NULL);
    if (!json_is_object(obj))
        ck_fuzz_fail("audit: the JSON line does not parse");
    json_object_foreach(obj, k, v) {
        if (json_is_string(v) && !ck_text_ok(json_string_value(v)))
            ck_fuzz_fail("audit: the JSON value of %s is not text", k);
    }
    if (ev->user && *ev->user && !ck_audit_name_ok(ev->user)) {
        if (json_object_get(obj, "user") || !json_is_integer(json_object_get(obj, "user_len")) ||
            (size_t)json_integer_value(json_object_get(obj, "user_len")) != strlen(ev->user) ||
            !json_is_string(json_object_get(obj, "user_hash")))
            ck_fuzz_fail("audit: a name of no known shape is not hashed");
    } else {
        check_value(obj, "user", ev->user);
    }
    check_value(obj, "service", ev->service);
    check_value(obj, "rhost", ev->rhost);
    check_value(obj, "reason", ev->reason);
    json_decref(obj);
}

CK_FUZZ_TARGET(audit)
{
    char *buf, *vals[8] = { 0 };
    size_t len = size ? (size_t)data[0] * 4 + 1 : 64;
    ck_audit_event ev;
    char hash[CK_SID_HASH_LEN];
    size_t off = 0;

    buf = ck_fuzz_strndup(data + !!size, size - !!size);
    for (int i = 0; i < 8 && off <= size - !!size; i++) {
        vals[i] = buf + off;
        off += strlen(buf + off) + 1;
    }
    ev.event = vals[0];
    ev.user = vals[1];
    ev.method = vals[2];
    ev.service = vals[3];
    ev.rhost = vals[4];
    ev.sid_hash = vals[5];
    ev.result = vals[6];
    ev.reason = vals[7];
    check_format(&ev, len);
    check_format(&ev, 1024);
    check_json(&ev);
    ck_audit_sid_hash(vals[5], hash);
    ck_audit_sid_hash_of(vals[1], hash);
    if (vals[1] && strlen(vals[1]) >= 2 && strlen(hash) != CK_SID_HASH_LEN - 1)
        ck_fuzz_fail("audit: short session name of %zu characters", strlen(hash));
    free(buf);
    return 0;
}
