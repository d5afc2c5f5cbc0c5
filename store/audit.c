/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * audit.c - audit lines for syslog and JSON lines for the audit file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "ck_audit.h"
#include "ck_clock.h"
#include "ck_encode.h"
#include "ck_metrics.h"
#include "ck_text.h"
#include "ck_secfile.h"

#define VALUE_MAX 256   /* a value longer than this is cut with "..." */
#define FIELD_COUNT 8

void ck_audit_sid_hash(const char *key_hex, char out[CK_SID_HASH_LEN])
{
    size_t n = key_hex ? strnlen(key_hex, CK_SID_HASH_LEN - 1) : 0;

    memcpy(out, key_hex ? key_hex : "", n);
    out[n] = '\0';
}

void ck_audit_sid_hash_of(const char *sid, char out[CK_SID_HASH_LEN])
{
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
    ck_hex_encode(md, 6, out + 2);
}

/* ---- user names ---------------------------------------------------------- */

static int alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int local_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 64 || s[0] == '-')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!alnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
            return 0;
    return 1;
}

static int mailbox_ok(const char *s, size_t len)
{
    if (len == 0 || len > 64 || s[0] == '.' || s[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!alnum((unsigned char)s[i]) && !strchr("._%+-'", s[i]))
            return 0;
    return 1;
}

static int domain_ok(const char *s, size_t len)
{
    size_t label = 0;

    if (len == 0)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!alnum((unsigned char)s[i]) && s[i] != '-')
            return 0;
        label++;
    }
    return 1;
}

int ck_audit_name_ok(const char *name)
{
    const char *at;
    size_t len;

    if (!name)
        return 0;
    len = strnlen(name, CK_AUDIT_NAME_MAX + 1);
    if (len > CK_AUDIT_NAME_MAX)
        return 0;
    at = memchr(name, '@', len);
    if (!at)
        return local_name_ok(name, len);
    return mailbox_ok(name, (size_t)(at - name)) &&
           domain_ok(at + 1, len - (size_t)(at - name) - 1);
}

/* "sha256:" and the first 12 hex digits of SHA-256 of name. */
static void name_hash(const char *name, char out[20])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)name, strlen(name), md);
    memcpy(out, "sha256:", 7);
    ck_hex_encode(md, 6, out + 7);
}

/* ---- the key=value line -------------------------------------------------- */

/*
 * Printable ASCII as is, anything else as \xNN. For the key=value line
 * (kv) also space, '"', '\\' and '=', which would make a value ambiguous.
 */
static void escape(const char *in, int kv, char *out, size_t outlen)
{
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p; p++) {
        int plain = *p >= 0x20 && *p < 0x7f &&
                    !(kv && (*p == ' ' || *p == '"' || *p == '\\' || *p == '='));

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
        ck_hex_encode(p, 1, out + o);     /* room checked above, NUL included */
        o += 2;
    }
    out[o] = '\0';
}

static void fields(const ck_audit_event *ev, const char *names[FIELD_COUNT],
                   const char *vals[FIELD_COUNT])
{
    static const char *const n[FIELD_COUNT] = {
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

static int hashed_user(const char *user)
{
    return user && *user && !ck_audit_name_ok(user);
}

void ck_audit_format(const ck_audit_event *ev, char *buf, size_t len)
{
    const char *names[FIELD_COUNT], *vals[FIELD_COUNT];
    char v[VALUE_MAX];
    size_t o = 0;

    buf[0] = '\0';
    fields(ev, names, vals);
    for (int i = 0; i < FIELD_COUNT && o < len; i++) {
        int n;

        if (i == 1 && hashed_user(vals[i])) {
            char h[20];

            name_hash(vals[i], h);
            n = snprintf(buf + o, len - o, " user_hash=%s user_len=%zu", h, strlen(vals[i]));
        } else {
            escape(vals[i] && *vals[i] ? vals[i] : "-", 1, v, sizeof(v));
            n = snprintf(buf + o, len - o, "%s%s=%s", i ? " " : "", names[i], v);
        }
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

/* ---- the JSON line ------------------------------------------------------- */

/*
 * A JSON string for a value: valid UTF-8 text as it is (cut at a character
 * boundary with "..." past VALUE_MAX bytes); anything else with \xNN.
 */
static json_t *json_value(const char *s)
{
    char v[VALUE_MAX + 4];
    size_t n = strlen(s);

    if (!ck_text_ok(s)) {
        escape(s, 0, v, sizeof(v));
        return json_string(v);
    }
    if (n <= VALUE_MAX)
        return json_stringn(s, n);
    n = VALUE_MAX - 3;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;    /* never split a UTF-8 sequence */
    memcpy(v, s, n);
    memcpy(v + n, "...", 4);
    return json_string(v);
}

static int json_set(json_t *obj, const char *key, json_t *val)
{
    return !val || json_object_set_new(obj, key, val) != 0;
}

static char *json_line(const ck_audit_event *ev, int64_t now, size_t *lenp)
{
    const char *names[FIELD_COUNT], *vals[FIELD_COUNT];
    json_t *obj = json_object();
    char *text = NULL, *line = NULL;
    size_t len;

    if (!obj || json_set(obj, "time", json_integer((json_int_t)now)))
        goto out;
    fields(ev, names, vals);
    for (int i = 0; i < FIELD_COUNT; i++) {
        if (!vals[i] || !*vals[i])
            continue;
        if (i == 1 && hashed_user(vals[i])) {
            char h[20];

            name_hash(vals[i], h);
            if (json_set(obj, "user_hash", json_string(h)) ||
                json_set(obj, "user_len", json_integer((json_int_t)strlen(vals[i]))))
                goto out;
            continue;
        }
        if (json_set(obj, names[i], json_value(vals[i])))
            goto out;
    }
    text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        goto out;
    len = strlen(text);
    line = malloc(len + 2);
    if (!line)
        goto out;
    memcpy(line, text, len);
    line[len++] = '\n';
    line[len] = '\0';
    *lenp = len;
out:
    free(text);
    json_decref(obj);
    return line;
}

/*
 * Root appends here: a file or directory someone else controls would let
 * them aim root's writes (ck_secfile.h policy, CK_FILE_LOG). No symlink, no
 * FIFO (O_NONBLOCK keeps the open from waiting for a reader).
 */
static int open_file(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    int fd;

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
                    O_NONBLOCK, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (ck_secfile_check(path, &sb, CK_FILE_LOG, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    return fd;
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
    char *line;
    size_t len = 0;
    int fd = -1, rc = -1;

    line = json_line(ev, now, &len);
    if (!line) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    fd = open_file(path, err, errlen);
    if (fd < 0)
        goto out;
    if (write_line(fd, line, len) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(line);
    return rc;
}

/* ---- one emitter for every front end ------------------------------------- */

/*
 * Whether this process has said that the file is broken. Per process: a
 * PAM module lives in each login's process, so each says it once.
 */
static int file_broken;

static void file_state(int broken, const char *err, ck_audit_log_fn log, void *ud)
{
    char msg[600];

    if (__atomic_exchange_n(&file_broken, broken, __ATOMIC_ACQ_REL) == broken)
        return;
    if (broken)
        snprintf(msg, sizeof(msg), "audit file: %s (said once until it works again)", err);
    else
        snprintf(msg, sizeof(msg), "audit file: written again");
    if (log)
        log(ud, broken ? LOG_ERR : LOG_NOTICE, msg);
}

int ck_audit_emit(const ck_config *cfg, ck_store *st, const ck_audit_event *ev, int prio,
                  ck_audit_log_fn log, void *ud)
{
    char line[2048], err[512];

    ck_audit_format(ev, line, sizeof(line));
    if (log)
        log(ud, prio, line);
    if (!cfg || !cfg->audit_file)
        return 0;
    if (ck_audit_write_json(cfg->audit_file, ev, ck_now(), err, sizeof(err)) != 0) {
        file_state(1, err, log, ud);
        if (st)
            (void)ck_metrics_count(st, CK_COUNT_AUDIT_FAILURE);    /* the syslog line stands */
        return -1;
    }
    file_state(0, NULL, log, ud);
    return 0;
}

int ck_audit_gate(const ck_config *cfg, ck_audit_log_fn log, void *ud)
{
    char err[512];
    int fd;

    if (!cfg || !cfg->audit_file || cfg->audit_on_failure != CK_AUDIT_DENY)
        return 0;
    fd = open_file(cfg->audit_file, err, sizeof(err));
    if (fd < 0) {
        file_state(1, err, log, ud);
        return -1;
    }
    close(fd);
    return 0;
}

void ck_audit_syslog(void *ud, int prio, const char *msg)
{
    (void)ud;
    syslog(LOG_AUTHPRIV | prio, "%s", msg);
}
