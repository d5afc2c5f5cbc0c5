/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * users_index.c - the users file's index, so that a login reads a few
 * lines of the file instead of all of it (ck_users.h, "Indexed lookups").
 *
 * The index file (little-endian):
 *
 *   0   8  magic "CKUSRIDX"
 *   8   4  version (1)
 *   12  4  bits: the table has 2^bits slots
 *   16  8  the users file's device
 *   24  8  its inode
 *   32  8  its size
 *   40  16 its mtime (seconds, nanoseconds)
 *   56  16 its ctime (seconds, nanoseconds)
 *   72  16 the SipHash-2-4 key of this index (random at each build)
 *   88  4  offset + 1 of a record with a yescrypt hash (0: none)
 *   92  4  records
 *   96  the slots, 12 bytes each: tag (the hash's high 32 bits), offset + 1
 *       of the record's line (0: empty), and a check: SipHash of the
 *       slot's number, tag and offset, so that a damaged slot (even one
 *       zeroed, which would read as empty) is noticed where it is read
 *
 * Open addressing with linear probing, at most half full. Each record
 * has a key "e" + its email in lower case, "l" + its local name when it
 * has one, "c" + its CorpPass mapping when it has one (the first two
 * records of a mapping only: two are enough to call it ambiguous). The hash is keyed
 * with a secret of the index, so that no one who cannot read the index
 * can choose names that collide.
 *
 * The index only says where to look: every record it points at is read
 * from the users file and parsed again, and kept only when it matches the
 * question. An entry that points at no record line, a table with no free
 * slot, or entries that only point at other records make the index
 * unusable: it is rebuilt, or the lookup reads the whole file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ck_secfile.h"
#include "ck_users.h"
#include "users_int.h"

#define IDX_MAGIC       "CKUSRIDX"
#define IDX_VERSION     1
#define IDX_HDR         96
#define IDX_SLOT        12
#define IDX_MIN_BITS    4
#define IDX_MAX_BITS    26
#define IDX_CHUNK       64      /* slots read at once */
#define KEY_MAX         (CK_IDP_SID_MAX + 8)

typedef struct idx_hdr {
    uint32_t bits;
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
    uint64_t k0, k1;
    uint32_t twin;
    uint32_t records;
} idx_hdr;

/* Where the slots are read from: the index file, or an index in memory. */
typedef struct idx_src {
    int fd;
    const unsigned char *img;
    size_t len;
} idx_src;

/* Where records are read from: the open users file, or its text. */
typedef struct rec_src {
    int fd;
    const char *text;
    uint64_t size;
} rec_src;

typedef struct uquery {
    const char *name;               /* ck_users_lookup */
    const ck_user_identity *id;     /* ck_users_lookup_identity */
} uquery;

typedef struct qkey {
    char kind;
    char text[KEY_MAX];
} qkey;

/* ---- little-endian fields and SipHash-2-4 ------------------------------ */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                                  \
    do {                                                                          \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                 \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                    \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                    \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                 \
    } while (0)

/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF"). */
static uint64_t siphash(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint64_t b = (uint64_t)len << 56;
    size_t i, left = len & 7;

    for (i = 0; i + 8 <= len; i += 8) {
        uint64_t m = get64(in + i);

        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; j < left; j++)
        b |= (uint64_t)in[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* Emails are keyed in lower case: they compare without regard to ASCII case. */
static uint64_t key_hash(const idx_hdr *h, char kind, const char *key)
{
    unsigned char buf[1 + KEY_MAX];
    size_t n = strnlen(key, KEY_MAX);

    buf[0] = (unsigned char)kind;
    for (size_t i = 0; i < n; i++)
        buf[1 + i] = (unsigned char)(kind == 'e' ? ck_users_ascii_lower((unsigned char)key[i])
                                                 : key[i]);
    return siphash(h->k0, h->k1, buf, n + 1);
}

static uint32_t slot_check(const idx_hdr *h, uint64_t i, uint32_t tag, uint32_t ref)
{
    unsigned char in[17];

    in[0] = 's';    /* not a key's kind: its own domain */
    put64(in + 1, i);
    put32(in + 9, tag);
    put32(in + 13, ref);
    return (uint32_t)siphash(h->k0, h->k1, in, sizeof(in));
}

/* ---- reading ------------------------------------------------------------ */

static int pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int src_read(const idx_src *s, uint64_t off, void *buf, size_t n)
{
    if (off > s->len || n > s->len - off)
        return -1;
    if (s->img) {
        memcpy(buf, s->img + off, n);
        return 0;
    }
    return pread_full(s->fd, buf, n, off);
}

/*
 * The record whose line starts at off, parsed; -1 when off is not the
 * start of a record line (past the end, inside a line, a comment, the
 * header, a line that does not parse).
 */
static int record_at(const rec_src *r, uint64_t off, ck_user *u)
{
    char buf[CK_USERS_LINE_MAX + 3], sub[256], *line = buf + 1, *nl;
    size_t want, n;
    int rc = -1;

    if (off == 0 || off >= r->size)
        return -1;
    /* From the byte before: a record line follows a newline. */
    want = r->size - off + 1 < CK_USERS_LINE_MAX + 2 ? (size_t)(r->size - off + 1)
                                                     : CK_USERS_LINE_MAX + 2;
    if (r->text) {
        /* Only the line: a table is built from every record. */
        nl = memchr(r->text + off, '\n', want - 1);
        if (nl)
            want = (size_t)(nl - (r->text + off)) + 2;
        memcpy(buf, r->text + off - 1, want);
    } else if (want > 512 && pread_full(r->fd, buf, 512, off - 1) == 0 &&
               memchr(buf + 1, '\n', 511)) {
        want = 512;     /* most records are short: one small read */
    } else if (pread_full(r->fd, buf, want, off - 1) != 0) {
        goto out;
    }
    if (buf[0] != '\n')
        goto out;
    n = want - 1;
    nl = memchr(line, '\n', n);
    if (nl)
        n = (size_t)(nl - line);
    else if (off + n < r->size)
        goto out;
    if (n > CK_USERS_LINE_MAX || memchr(line, '\0', n))
        goto out;
    line[n] = '\0';
    if (n && line[n - 1] == '\r')
        line[--n] = '\0';
    if (!n || line[0] == '#')
        goto out;
    rc = ck_users_parse_record(line, u, sub, sizeof(sub)) == 0 ? 0 : -1;
out:
    OPENSSL_cleanse(buf, want);
    return rc;
}

static const char *hdr_parse(const unsigned char *b, uint64_t flen, idx_hdr *h)
{
    if (flen < IDX_HDR || memcmp(b, IDX_MAGIC, 8) != 0)
        return "not a checkup users index";
    if (get32(b + 8) != IDX_VERSION)
        return "an index of another version";
    h->bits = get32(b + 12);
    if (h->bits < IDX_MIN_BITS || h->bits > IDX_MAX_BITS ||
        flen != IDX_HDR + ((uint64_t)IDX_SLOT << h->bits))
        return "truncated or damaged (its size does not match its table)";
    h->dev = get64(b + 16);
    h->ino = get64(b + 24);
    h->size = get64(b + 32);
    h->mtime_s = (int64_t)get64(b + 40);
    h->mtime_ns = (int64_t)get64(b + 48);
    h->ctime_s = (int64_t)get64(b + 56);
    h->ctime_ns = (int64_t)get64(b + 64);
    h->k0 = get64(b + 72);
    h->k1 = get64(b + 80);
    h->twin = get32(b + 88);
    h->records = get32(b + 92);
    return NULL;
}

static int hdr_describes(const idx_hdr *h, const struct stat *sb)
{
    return h->dev == (uint64_t)sb->st_dev && h->ino == (uint64_t)sb->st_ino &&
           h->size == (uint64_t)sb->st_size && h->mtime_s == (int64_t)sb->st_mtim.tv_sec &&
           h->mtime_ns == (int64_t)sb->st_mtim.tv_nsec &&
           h->ctime_s == (int64_t)sb->st_ctim.tv_sec &&
           h->ctime_ns == (int64_t)sb->st_ctim.tv_nsec;
}

/* ---- questions ------------------------------------------------------------ */

static int query_matches(const uquery *q, const ck_user *u)
{
    if (q->name)
        return ck_users_casecmp(u->email, q->name) == 0 ||
               (u->local_user[0] && strcmp(u->local_user, q->name) == 0);
    if (q->id->is_corppass)
        return ck_users_corppass_match(u, q->id);
    return q->id->email && q->id->email[0] && ck_users_casecmp(u->email, q->id->email) == 0;
}

static int key_set(qkey *k, char kind, const char *a, const char *b)
{
    int n = snprintf(k->text, sizeof(k->text), "%s%s%s", a, b ? "/" : "", b ? b : "");

    k->kind = kind;
    /* Longer than any field can be: no record has it. */
    return n > 0 && (size_t)n < sizeof(k->text);
}

/* The keys a record answering q has (at most two). */
static size_t query_keys(const uquery *q, qkey *keys)
{
    const ck_user_identity *id = q->id;
    size_t n = 0;

    if (q->name) {
        if (key_set(&keys[n], 'e', q->name, NULL))
            n++;
        if (key_set(&keys[n], 'l', q->name, NULL))
            n++;
    } else if (!id->is_corppass) {
        if (id->email && id->email[0] && key_set(&keys[n], 'e', id->email, NULL))
            n++;
    } else {
        /* The file keeps uuids in lower case (see corppass_match). */
        if (id->cp_uuid && id->cp_uuid[0] && key_set(&keys[n], 'c', id->cp_uuid, NULL)) {
            for (char *p = keys[n].text; *p; p++)
                *p = (char)ck_users_ascii_lower((unsigned char)*p);
            n++;
        }
        if (id->cp_entity_id && id->cp_entity_id[0] && id->cp_cpuid && id->cp_cpuid[0] &&
            key_set(&keys[n], 'c', id->cp_entity_id, id->cp_cpuid))
            n++;
    }
    return n;
}

static int offset_seen(const uint32_t *seen, size_t n, uint32_t ref)
{
    for (size_t i = 0; i < n; i++)
        if (seen[i] == ref)
            return 1;
    return 0;
}

/* The twin hash for an unknown user's check (ck_password_verify). */
static int fill_twin(const rec_src *r, uint32_t ref, ck_users *out)
{
    ck_user u;
    int rc = 0;

    if (!ref)
        return 0;
    if (record_at(r, ref - 1, &u) != 0 || strncmp(u.hash, "$y$", 3) != 0)
        rc = -1;
    else
        memcpy(out->twin, u.hash, sizeof(out->twin));
    OPENSSL_cleanse(&u, sizeof(u));
    return rc;
}

#define FOUND_MAX 8     /* records one identity may match before it is ambiguous anyway */

/*
 * Answers q from an index: 0 with the matches in out, 1 when the index
 * cannot be trusted (why says how), -1 out of memory.
 */
static int probe(const idx_src *s, const idx_hdr *h, const rec_src *r, const uquery *q,
                 ck_users *out, char *why, size_t whylen)
{
    unsigned char chunk[IDX_CHUNK * IDX_SLOT];
    uint64_t nslots = (uint64_t)1 << h->bits, mask = nslots - 1;
    uint32_t seen[FOUND_MAX];
    size_t nseen = 0, nkeys, others = 0;
    qkey keys[2];
    ck_user u;
    int rc = 1;

    nkeys = query_keys(q, keys);
    for (size_t k = 0; k < nkeys; k++) {
        uint64_t hv = key_hash(h, keys[k].kind, keys[k].text), i = hv & mask, steps = 0;
        uint32_t tag = (uint32_t)(hv >> 32);

        for (;;) {
            size_t n = nslots - i < IDX_CHUNK ? (size_t)(nslots - i) : IDX_CHUNK;

            if (steps >= nslots) {
                snprintf(why, whylen, "damaged (a full table)");
                goto out;
            }
            if (src_read(s, IDX_HDR + i * IDX_SLOT, chunk, n * IDX_SLOT) != 0) {
                snprintf(why, whylen, "cannot be read: %s", strerror(errno));
                goto out;
            }
            for (size_t j = 0; j < n; j++) {
                const unsigned char *sl = chunk + j * IDX_SLOT;
                uint32_t stag = get32(sl), ref = get32(sl + 4);

                if (get32(sl + 8) != slot_check(h, i + j, stag, ref)) {
                    snprintf(why, whylen, "damaged (a slot fails its check)");
                    goto out;
                }
                if (ref == 0)
                    goto next_key;
                if (stag != tag || offset_seen(seen, nseen, ref))
                    continue;
                if (record_at(r, ref - 1, &u) != 0) {
                    snprintf(why, whylen, "damaged (an entry points at no record)");
                    goto out;
                }
                if (!query_matches(q, &u)) {
                    others++;
                    continue;
                }
                if (nseen == FOUND_MAX)
                    continue;
                seen[nseen++] = ref;
                if (ck_users_push(out, &u) != 0) {
                    rc = -1;
                    goto out;
                }
            }
            steps += n;
            i = (i + n) & mask;
        }
next_key:
        ;
    }
    /* Entries that only lead elsewhere: a lying index, or one in 2^32. */
    if (out->count == 0 && others) {
        snprintf(why, whylen, "does not match the users file");
        goto out;
    }
    if (fill_twin(r, h->twin, out) != 0) {
        snprintf(why, whylen, "damaged (its cost record is not one)");
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(&u, sizeof(u));
    if (rc != 0)
        ck_users_free(out);
    return rc;
}

/* ---- building ------------------------------------------------------------- */

/* A record as pass 1 found it: where, and its keys' hashes. */
typedef struct brec {
    uint32_t off;
    uint32_t line;
    uint64_t hash[3];
    char kind[3];
    unsigned char nkeys;
} brec;

typedef struct builder {
    const char *text;
    size_t len;
    const char *where;
    brec *recs;
    size_t nrecs, cap, nkeys;
    uint32_t twin;
    idx_hdr h;
    unsigned char *img;
    size_t imglen;
} builder;

static int brec_push(builder *b, uint32_t off, uint32_t line, const ck_user *u)
{
    brec *r;

    if (b->nrecs == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        brec *grown = realloc(b->recs, cap * sizeof(*grown));

        if (!grown)
            return -1;
        b->recs = grown;
        b->cap = cap;
    }
    r = &b->recs[b->nrecs++];
    r->off = off;
    r->line = line;
    r->nkeys = 0;
    r->kind[r->nkeys] = 'e';
    r->hash[r->nkeys++] = key_hash(&b->h, 'e', u->email);
    if (u->local_user[0]) {
        r->kind[r->nkeys] = 'l';
        r->hash[r->nkeys++] = key_hash(&b->h, 'l', u->local_user);
    }
    if (u->corppass[0]) {
        r->kind[r->nkeys] = 'c';
        r->hash[r->nkeys++] = key_hash(&b->h, 'c', u->corppass);
    }
    b->nkeys += r->nkeys;
    return 0;
}

/* Pass 1: every line as ck_users_parse checks it; where the records are. */
static int build_scan(builder *b, char *err, size_t errlen)
{
    char line[CK_USERS_LINE_MAX + 1], sub[256];
    size_t pos = 0;
    uint32_t lineno = 0;
    ck_user u;
    int rc = -1;

    while (pos < b->len) {
        const char *nl = memchr(b->text + pos, '\n', b->len - pos);
        size_t n = nl ? (size_t)(nl - (b->text + pos)) : b->len - pos, at = pos;

        lineno++;
        if (n > CK_USERS_LINE_MAX || memchr(b->text + pos, '\0', n)) {
            snprintf(err, errlen, "%s:%u: line too long or holds a NUL byte", b->where, lineno);
            goto out;
        }
        memcpy(line, b->text + pos, n);
        line[n] = '\0';
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        pos += n + 1;
        if (lineno == 1) {
            if (strcmp(line, CK_USERS_HEADER) != 0) {
                snprintf(err, errlen, "%s:1: not a checkup users file (want \"%s\")", b->where,
                         CK_USERS_HEADER);
                goto out;
            }
            continue;
        }
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (ck_users_parse_record(line, &u, sub, sizeof(sub)) != 0) {
            snprintf(err, errlen, "%s:%u: %s", b->where, lineno, sub);
            goto out;
        }
        if (brec_push(b, (uint32_t)at, lineno, &u) != 0) {
            snprintf(err, errlen, "%s: out of memory", b->where);
            goto out;
        }
        if (!b->twin && strncmp(u.hash, "$y$", 3) == 0)
            b->twin = (uint32_t)at + 1;
    }
    if (lineno == 0) {
        snprintf(err, errlen, "%s: empty (want the header \"%s\")", b->where, CK_USERS_HEADER);
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(line, sizeof(line));
    OPENSSL_cleanse(&u, sizeof(u));
    return rc;
}

/* The key of kind in u (as hashed: key_hash lowers emails itself). */
static const char *user_key(const ck_user *u, char kind)
{
    return kind == 'e' ? u->email : kind == 'l' ? u->local_user : u->corppass;
}

static int same_key(char kind, const char *a, const char *b)
{
    return kind == 'e' ? ck_users_casecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/*
 * Adds rec's key k. Where an entry has the same tag, both records are
 * read again and compared: a second record with the same email or local
 * name is refused; a third of one CorpPass mapping is left out.
 */
static int build_insert(builder *b, const brec *rec, int k, char *err, size_t errlen)
{
    rec_src r = { -1, b->text, b->len };
    uint64_t hv = rec->hash[k], mask = ((uint64_t)1 << b->h.bits) - 1, i = hv & mask;
    uint32_t tag = (uint32_t)(hv >> 32);
    char kind = rec->kind[k];
    int rc = 0, same = 0, have_u = 0, have_o = 0;
    ck_user o, u;

    for (;; i = (i + 1) & mask) {
        unsigned char *slot = b->img + IDX_HDR + i * IDX_SLOT;

        if (get32(slot + 4) == 0) {
            put32(slot, tag);
            put32(slot + 4, rec->off + 1);
            break;
        }
        if (get32(slot) != tag)
            continue;
        have_o = 1;
        if (record_at(&r, get32(slot + 4) - 1, &o) != 0)
            continue;
        if (!have_u && record_at(&r, rec->off, &u) != 0) {
            snprintf(err, errlen, "%s:%u: cannot be read again", b->where, rec->line);
            rc = -1;
            break;
        }
        have_u = 1;
        if (!same_key(kind, user_key(&o, kind), user_key(&u, kind)))
            continue;
        /* A third record of one mapping adds nothing (and would make a cluster). */
        if (kind == 'c') {
            if (++same == 2)
                break;
            continue;
        }
        if (kind == 'e')
            snprintf(err, errlen, "%s:%u: email %.200s appears twice", b->where, rec->line,
                     u.email);
        else
            snprintf(err, errlen, "%s:%u: local account %s appears twice", b->where,
                     rec->line, u.local_user);
        rc = -1;
        break;
    }
    /* Only what was read holds a hash: most keys meet no equal tag. */
    if (have_o)
        OPENSSL_cleanse(&o, sizeof(o));
    if (have_u)
        OPENSSL_cleanse(&u, sizeof(u));
    return rc;
}

/* Pass 2: the table, the header when sb names the file. */
static int build_table(builder *b, const struct stat *sb, char *err, size_t errlen)
{
    b->h.bits = IDX_MIN_BITS;
    while (((uint64_t)1 << b->h.bits) < 2 * (uint64_t)b->nkeys && b->h.bits < IDX_MAX_BITS)
        b->h.bits++;
    if (((uint64_t)1 << b->h.bits) < 2 * (uint64_t)b->nkeys) {
        snprintf(err, errlen, "%s: too many users", b->where);
        return -1;
    }
    b->imglen = IDX_HDR + ((size_t)IDX_SLOT << b->h.bits);
    b->img = calloc(1, b->imglen);
    if (!b->img) {
        snprintf(err, errlen, "%s: out of memory", b->where);
        return -1;
    }
    for (size_t k = 0; k < b->nrecs; k++)
        for (int j = 0; j < b->recs[k].nkeys; j++)
            if (build_insert(b, &b->recs[k], j, err, errlen) != 0)
                return -1;
    for (uint64_t i = 0; i < ((uint64_t)1 << b->h.bits); i++) {
        unsigned char *slot = b->img + IDX_HDR + i * IDX_SLOT;

        put32(slot + 8, slot_check(&b->h, i, get32(slot), get32(slot + 4)));
    }
    memcpy(b->img, IDX_MAGIC, 8);
    put32(b->img + 8, IDX_VERSION);
    put32(b->img + 12, b->h.bits);
    if (sb) {
        put64(b->img + 16, (uint64_t)sb->st_dev);
        put64(b->img + 24, (uint64_t)sb->st_ino);
        put64(b->img + 32, (uint64_t)sb->st_size);
        put64(b->img + 40, (uint64_t)sb->st_mtim.tv_sec);
        put64(b->img + 48, (uint64_t)sb->st_mtim.tv_nsec);
        put64(b->img + 56, (uint64_t)sb->st_ctim.tv_sec);
        put64(b->img + 64, (uint64_t)sb->st_ctim.tv_nsec);
    }
    put64(b->img + 72, b->h.k0);
    put64(b->img + 80, b->h.k1);
    put32(b->img + 88, b->twin);
    put32(b->img + 92, (uint32_t)b->nrecs);
    return 0;
}

static void builder_free(builder *b)
{
    free(b->recs);
    if (b->img) {
        OPENSSL_cleanse(b->img, b->imglen);
        free(b->img);
    }
    memset(b, 0, sizeof(*b));
}

/* Builds the index of text into b->img (identity from sb, if given). */
static int build(builder *b, const char *text, size_t len, const char *where,
                 const struct stat *sb, char *err, size_t errlen)
{
    memset(b, 0, sizeof(*b));
    b->text = text;
    b->len = len;
    b->where = where;
    if (len >= UINT32_MAX) {
        snprintf(err, errlen, "%s: too large", where);
        return -1;
    }
    /* The hash key first: pass 1 hashes each record's keys as it parses it. */
    if (RAND_bytes((unsigned char *)&b->h.k0, sizeof(b->h.k0)) != 1 ||
        RAND_bytes((unsigned char *)&b->h.k1, sizeof(b->h.k1)) != 1) {
        snprintf(err, errlen, "%s: no random bytes for the index", where);
        return -1;
    }
    if (build_scan(b, err, errlen) != 0 || build_table(b, sb, err, errlen) != 0) {
        builder_free(b);
        return -1;
    }
    return 0;
}

int ck_users_validate(const char *text, size_t len, const char *where, char *err,
                      size_t errlen)
{
    builder b;

    if (build(&b, text, len, where, NULL, err, errlen) != 0)
        return -1;
    builder_free(&b);
    return 0;
}

/* ---- the file and the process ------------------------------------------- */

static int index_path(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    if (snprintf(out, outlen, "%s%s", path, CK_USERS_INDEX_SUFFIX) >= (int)outlen) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    return 0;
}

/* The whole users file, from the descriptor the lookup opened. */
static char *read_all(int fd, const struct stat *sb, const char *path, char *err,
                      size_t errlen)
{
    char *text = malloc((size_t)sb->st_size + 1);

    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (pread_full(fd, text, (size_t)sb->st_size, 0) != 0) {
        snprintf(err, errlen, "%s: read error (the file changed while read?)", path);
        ck_secfile_free(text, (size_t)sb->st_size);
        return NULL;
    }
    text[sb->st_size] = '\0';
    return text;
}

static int ts_after(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * 1 when what was read is the file that sb names, for good: a file is
 * stamped with the kernel's coarse clock, so a write in the same tick
 * as the last one may leave size, mtime and ctime as they were. Once
 * the clock has passed the file's ctime, any further write changes it;
 * reading the file again then shows any write before that.
 */
static int settled(int fd, const struct stat *sb, const char *text)
{
    struct timespec now, nap = { 0, 1000000 };
    struct stat again;
    char buf[65536];
    uint64_t off = 0, size = (uint64_t)sb->st_size;
    int ok = 1;

    for (int i = 0;; i++) {
        if (clock_gettime(CLOCK_REALTIME_COARSE, &now) != 0 || i == 200)
            return 0;   /* a ctime in the future (a clock step): no index */
        if (ts_after(&now, &sb->st_ctim))
            break;
        nanosleep(&nap, NULL);
    }
    if (fstat(fd, &again) != 0 || !ck_secfile_same(sb, &again))
        return 0;
    while (ok && off < size) {
        size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);

        ok = pread_full(fd, buf, n, off) == 0 && memcmp(buf, text + off, n) == 0;
        off += n;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return ok;
}

/*
 * The index that could not be written, kept by the process while the
 * file is the same (checkupd under a read-only /etc); one rebuild at a
 * time, so that a burst of logins after a change parses the file once.
 */
static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static char *mem_path;
static struct stat mem_sb;
static unsigned char *mem_img;
static size_t mem_len;
static time_t mem_tried;        /* when the index was last tried on disk */
static int warned;

#define MEM_RETRY_SECONDS 60

static void mem_drop(void)
{
    free(mem_path);
    if (mem_img) {
        OPENSSL_cleanse(mem_img, mem_len);
        free(mem_img);
    }
    mem_path = NULL;
    mem_img = NULL;
    mem_len = 0;
}

static void mem_keep(const char *path, const struct stat *sb, builder *b)
{
    mem_drop();
    mem_path = strdup(path);
    if (!mem_path)
        return;
    mem_sb = *sb;
    mem_img = b->img;
    mem_len = b->imglen;
    mem_tried = time(NULL);
    b->img = NULL;
}

/* Once per process (again after the index worked): see ck_users.warning. */
static void warn_once(char *note, size_t notelen, const char *why, const char *werr)
{
    if (__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        return;
    snprintf(note, notelen, "%.200s; cannot write a new one (%.200s): this process "
             "keeps its own in memory until it can", why, werr);
}

/*
 * ck_secfile_open, without following a symlink: an index is only ever a
 * file renamed into place, so a link there is someone else's, and its
 * target (a device, whose open alone can act) is not opened; the
 * rebuild replaces the link. errno is open(2)'s when it fails there.
 */
static int index_open(const char *ipath, struct stat *sb, char *why, size_t whylen)
{
    int fd, e;

    fd = open(ipath, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) {
        e = errno;
        snprintf(why, whylen, "%.600s: %s", ipath,
                 e == ELOOP ? "a symbolic link (an index never is one)" : strerror(e));
        errno = e;
        return -1;
    }
    if (fstat(fd, sb) != 0 || fcntl(fd, F_SETFL, 0) != 0) {
        snprintf(why, whylen, "%.600s: %s", ipath, strerror(errno));
        goto fail;
    }
    if (ck_secfile_check(ipath, sb, CK_FILE_SECRET, why, whylen) != 0)
        goto fail;
    return fd;
fail:
    close(fd);
    errno = 0;
    return -1;
}

static int query_disk(const char *ipath, const rec_src *r, const struct stat *usb,
                      const uquery *q, ck_users *out, int *quiet, char *why, size_t whylen)
{
    unsigned char hb[IDX_HDR];
    struct stat isb;
    const char *bad;
    idx_hdr h;
    idx_src s;
    int fd, rc = 1, e;

    *quiet = 1;
    /* ENOENT is a missing index, not a refusal. */
    fd = index_open(ipath, &isb, why, whylen);
    if (fd < 0) {
        e = errno;
        if (e == ENOENT)
            snprintf(why, whylen, "%.600s: missing", ipath);
        else
            *quiet = 0;
        return 1;
    }
    s.fd = fd;
    s.img = NULL;
    s.len = (size_t)isb.st_size;
    *quiet = 0;
    if (src_read(&s, 0, hb, sizeof(hb)) != 0) {
        snprintf(why, whylen, "%.600s: truncated", ipath);
        goto out;
    }
    bad = hdr_parse(hb, (uint64_t)isb.st_size, &h);
    if (bad) {
        snprintf(why, whylen, "%.600s: %s", ipath, bad);
        goto out;
    }
    if (!hdr_describes(&h, usb)) {
        *quiet = 1;
        snprintf(why, whylen, "%.600s: stale", ipath);
        goto out;
    }
    rc = probe(&s, &h, r, q, out, why, whylen);
    if (rc == 1) {
        /* probe's reason, with the file's name in front. */
        char sub[256];

        snprintf(sub, sizeof(sub), "%.200s", why);
        snprintf(why, whylen, "%.500s: %.200s", ipath, sub);
    }
out:
    close(fd);
    return rc;
}

/* Answers q from the text of the whole file, as ck_users_find would. */
static int scan(const char *text, size_t len, const char *path, const uquery *q,
                ck_users *out, char *err, size_t errlen)
{
    ck_users all;
    int rc = 0;

    if (ck_users_parse(text, len, path, &all, err, errlen) != 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < all.count; i++) {
        if (!out->twin[0] && strncmp(all.items[i].hash, "$y$", 3) == 0)
            memcpy(out->twin, all.items[i].hash, sizeof(out->twin));
        if (query_matches(q, &all.items[i]) && ck_users_push(out, &all.items[i]) != 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            rc = -1;
        }
    }
    ck_users_free(&all);
    return rc;
}

static int mem_matches(const char *path, const struct stat *usb)
{
    return mem_img && strcmp(mem_path, path) == 0 && ck_secfile_same(&mem_sb, usb);
}

static int query_mem(const rec_src *r, const uquery *q, ck_users *out)
{
    idx_src s = { -1, mem_img, mem_len };
    char why[256];
    idx_hdr h;

    if (hdr_parse(mem_img, mem_len, &h) != NULL)
        return 1;
    return probe(&s, &h, r, q, out, why, sizeof(why));
}

/*
 * The index on disk is unusable (why): rebuild it from the file r reads,
 * write it if the process may, else keep it in memory; answer q.
 */
static int query_rebuilt(const char *path, const char *ipath, const rec_src *r,
                         const struct stat *usb, const uquery *q, ck_users *out,
                         const char *why, int quiet, char *err, size_t errlen)
{
    char werr[512], note[sizeof(out->warning)] = "";
    builder b;
    char *text = NULL;
    int rc = -1, stable, wrote;

    memset(&b, 0, sizeof(b));
    pthread_mutex_lock(&mem_lock);
    if (mem_matches(path, usb)) {
        rc = query_mem(r, q, out);
        /* Now and then, the disk again: the cause may be gone (a remount, a fix). */
        if (rc == 0 && time(NULL) - mem_tried >= MEM_RETRY_SECONDS) {
            mem_tried = time(NULL);
            if (ck_secfile_replace(ipath, (const char *)mem_img, mem_len, werr,
                                   sizeof(werr)) == 0) {
                mem_drop();
                __atomic_store_n(&warned, 0, __ATOMIC_RELAXED);
            }
        }
        if (rc != 1)
            goto out;
    }
    text = read_all(r->fd, usb, path, err, errlen);
    if (!text)
        goto out;
    if (build(&b, text, (size_t)usb->st_size, path, usb, err, errlen) != 0)
        goto out;
    stable = settled(r->fd, usb, text);
    if (!stable) {
        /* Changing as we read: answer from what was read, keep nothing. */
        rc = scan(text, (size_t)usb->st_size, path, q, out, err, errlen);
        goto out;
    }
    wrote = ck_secfile_replace(ipath, (const char *)b.img, b.imglen, werr,
                               sizeof(werr)) == 0;
    if (wrote) {
        /* A damaged index is told each time; a missing or stale one is normal. */
        if (!quiet)
            snprintf(note, sizeof(note), "%.400s; rebuilt", why);
        __atomic_store_n(&warned, 0, __ATOMIC_RELAXED);
    } else {
        warn_once(note, sizeof(note), why, werr);
    }
    {
        rec_src tr = { -1, text, (uint64_t)usb->st_size };
        idx_src s = { -1, b.img, b.imglen };
        char pwhy[256];

        rc = probe(&s, &b.h, &tr, q, out, pwhy, sizeof(pwhy));
    }
    if (rc == 1)
        rc = scan(text, (size_t)usb->st_size, path, q, out, err, errlen);
    if (wrote && mem_path && strcmp(mem_path, path) == 0)
        mem_drop();
    else if (!wrote)
        mem_keep(path, usb, &b);
    if (rc == 0)
        memcpy(out->warning, note, sizeof(note));
out:
    pthread_mutex_unlock(&mem_lock);
    if (text)
        ck_secfile_free(text, (size_t)usb->st_size);
    builder_free(&b);
    return rc;
}

static int lookup(const char *path, const uquery *q, ck_users *out, char *err, size_t errlen)
{
    char ipath[4096], why[768];
    struct stat usb;
    rec_src r;
    int rc = -1, quiet;

    memset(out, 0, sizeof(*out));
    if (!path) {
        snprintf(err, errlen, "no users file configured");
        return -1;
    }
    if (index_path(path, ipath, sizeof(ipath), err, errlen) != 0)
        return -1;
    r.fd = ck_secfile_open(path, CK_FILE_SECRET, &usb, err, errlen);
    if (r.fd < 0)
        return -1;
    r.text = NULL;
    r.size = (uint64_t)usb.st_size;
    if (usb.st_size > CK_USERS_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, CK_USERS_FILE_MAX);
        goto out;
    }
    rc = query_disk(ipath, &r, &usb, q, out, &quiet, why, sizeof(why));
    if (rc == 0) {
        if (__atomic_load_n(&warned, __ATOMIC_RELAXED))
            __atomic_store_n(&warned, 0, __ATOMIC_RELAXED);
    } else if (rc == 1) {
        rc = query_rebuilt(path, ipath, &r, &usb, q, out, why, quiet, err, errlen);
    } else {
        snprintf(err, errlen, "%s: out of memory", path);
    }
out:
    close(r.fd);
    if (rc != 0)
        ck_users_free(out);
    return rc;
}

int ck_users_lookup(const char *path, const char *name, ck_users *out, char *err,
                    size_t errlen)
{
    uquery q = { name ? name : "", NULL };

    return lookup(path, &q, out, err, errlen);
}

int ck_users_lookup_identity(const char *path, const ck_user_identity *id, ck_users *out,
                             char *err, size_t errlen)
{
    static const ck_user_identity none = { 0, NULL, NULL, NULL, NULL };
    uquery q = { NULL, id ? id : &none };

    return lookup(path, &q, out, err, errlen);
}

int ck_users_reindex(const char *path, char *err, size_t errlen)
{
    char ipath[4096], *text = NULL;
    struct stat sb;
    builder b;
    int fd, rc = -1;

    memset(&b, 0, sizeof(b));
    if (index_path(path, ipath, sizeof(ipath), err, errlen) != 0)
        return -1;
    fd = ck_secfile_open(path, CK_FILE_SECRET, &sb, err, errlen);
    if (fd < 0)
        return -1;
    if (sb.st_size > CK_USERS_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, CK_USERS_FILE_MAX);
        goto out;
    }
    text = read_all(fd, &sb, path, err, errlen);
    if (!text || build(&b, text, (size_t)sb.st_size, path, &sb, err, errlen) != 0)
        goto out;
    if (!settled(fd, &sb, text)) {
        snprintf(err, errlen, "%s: changed while it was read; try again", path);
        goto out;
    }
    rc = ck_secfile_replace(ipath, (const char *)b.img, b.imglen, err, errlen);
out:
    close(fd);
    if (text)
        ck_secfile_free(text, (size_t)sb.st_size);
    builder_free(&b);
    return rc;
}
