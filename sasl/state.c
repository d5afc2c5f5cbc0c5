/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * state.c - what the OAUTHBEARER server keeps for the life of the
 * process: the configuration, the key ring and users file (reread when
 * they change on disk), and a pool of store handles.
 *
 * A SASL plugin lives as long as the service (slapd, an IMAP or SMTP
 * server) and may be called from several threads at once, so unlike the
 * PAM module's per-handle state this is shared, under one mutex that is
 * never held across a store round trip. A child forked while another
 * thread held the mutex gets it fresh (pthread_atfork); store handles
 * that came from the parent notice the fork themselves and open their own
 * environment or connection (ck_store.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ck_secfile.h"
#include "cks.h"

#define POOL_MAX 16

/*
 * A key ring with the number of its holders: the state's own reference
 * while it is current, and one per exchange that verifies with it, so a
 * reload while another thread verifies frees the old ring only after.
 */
struct cks_ring {
    ck_keyring *ring;
    int refs;
};

static struct {
    pthread_mutex_t lock;
    char *path;                 /* the configuration loaded, or NULL */
    ck_config cfg;
    ck_lockout lockout;
    char *public_url;
    cks_ring *ring;
    struct stat ring_sb;
    int ring_racy;
    ck_users users;
    struct stat users_sb;
    int users_loaded;
    int users_racy;
    ck_store *idle[POOL_MAX];
    size_t nidle;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void child_after_fork(void)
{
    pthread_mutex_init(&S.lock, NULL);
}

static void register_atfork(void)
{
    (void)pthread_atfork(NULL, NULL, child_after_fork);
}

/* [daemon] public_url: the base of the error's openid-configuration link. */
static int other_section(void *ud, const char *section, const char *name, const char *value,
                         int lineno, char *err, size_t errlen)
{
    (void)ud;
    (void)lineno;
    if (strcmp(section, "daemon") != 0 || strcmp(name, "public_url") != 0)
        return 1;
    free(S.public_url);
    S.public_url = strdup(value);
    if (!S.public_url) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    return 1;
}

/* Drops one reference. Lock held. */
static void ring_release(cks_ring *r)
{
    if (r && --r->refs == 0) {
        ck_keyring_free(r->ring);
        free(r);
    }
}

static void free_files(void)
{
    ring_release(S.ring);
    S.ring = NULL;
    ck_users_free(&S.users);
    S.users_loaded = 0;
}

/* Called with the lock held. */
static int load_config(const char *path, char *err, size_t errlen)
{
    if (S.path) {
        if (strcmp(S.path, path) == 0)
            return 0;
        /* Handles and copies point into it: one configuration per process. */
        snprintf(err, errlen, "%s: this process already uses %s", path, S.path);
        return -1;
    }
    ck_config_defaults(&S.cfg);
    if (ck_config_load(&S.cfg, path, other_section, NULL, err, errlen) != 0) {
        ck_config_free(&S.cfg);
        free(S.public_url);
        S.public_url = NULL;
        return -1;
    }
    ck_lockout_from_config(&S.lockout, &S.cfg);
    S.path = strdup(path);
    if (!S.path) {
        ck_config_free(&S.cfg);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* A file changed within the clock's granularity may change again unseen. */
static int changed_recently(const struct stat *sb)
{
    struct timespec now;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return 1;
    return now.tv_sec - sb->st_mtim.tv_sec < 2 || now.tv_sec - sb->st_ctim.tv_sec < 2;
}

/* The key ring and users file, reread when a stat shows a change. Lock held. */
static int refresh_files(char *err, size_t errlen)
{
    const char *ring = S.cfg.token_key_file ? S.cfg.token_key_file : CK_DEFAULT_KEY_FILE;
    const char *users = S.cfg.users_file ? S.cfg.users_file : CK_DEFAULT_USERS_FILE;
    char why[400];
    struct stat sb;

    if (ck_secfile_stat(ring, 1, &sb, why, sizeof(why)) != 0)
        goto ring_fail;
    if (!S.ring || S.ring_racy || !ck_secfile_same(&sb, &S.ring_sb)) {
        cks_ring *r = calloc(1, sizeof(*r));

        ring_release(S.ring);
        S.ring = NULL;
        if (!r) {
            snprintf(why, sizeof(why), "out of memory");
            goto ring_fail;
        }
        if (ck_keyring_load(ring, 1, &r->ring, why, sizeof(why)) != 0) {
            free(r);
            goto ring_fail;
        }
        r->refs = 1;
        S.ring = r;
        S.ring_sb = sb;
        S.ring_racy = changed_recently(&sb);
    }
    if (ck_secfile_stat(users, 1, &sb, why, sizeof(why)) != 0)
        goto users_fail;
    if (!S.users_loaded || S.users_racy || !ck_secfile_same(&sb, &S.users_sb)) {
        ck_users_free(&S.users);
        S.users_loaded = 0;
        if (ck_users_load(users, 1, &S.users, why, sizeof(why)) != 0)
            goto users_fail;
        S.users_sb = sb;
        S.users_racy = changed_recently(&sb);
        S.users_loaded = 1;
    }
    return 0;
ring_fail:
    snprintf(err, errlen, "token keys: %s", why);
    free_files();       /* nothing stale outlives an unusable file */
    return -1;
users_fail:
    snprintf(err, errlen, "users file: %s", why);
    free_files();
    return -1;
}

static const char *config_path(sasl_server_params_t *sp)
{
    const char *val = NULL;
    unsigned len = 0;

    if (sp->utils->getopt &&
        sp->utils->getopt(sp->utils->getopt_context, CKS_MECH, CKS_OPT_CONFIG, &val,
                          &len) == SASL_OK && val && *val)
        return val;
    return CK_CONFIG_PATH;
}

static int refuse(sasl_server_params_t *sp, const char *what)
{
    sp->utils->log(sp->utils->conn, SASL_LOG_ERR, "checkup OAUTHBEARER: %s", what);
    return SASL_UNAVAIL;
}

int cks_begin(sasl_server_params_t *sp, cks_use *u)
{
    const char *path = config_path(sp);
    char err[600];
    ck_store *st = NULL;
    int rc;

    memset(u, 0, sizeof(*u));
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&S.lock);
    rc = load_config(path, err, sizeof(err));
    if (rc == 0)
        rc = refresh_files(err, sizeof(err));
    if (rc == 0 && S.nidle > 0)
        st = S.idle[--S.nidle];
    if (rc == 0) {
        u->ring_ref = S.ring;
        S.ring->refs++;
        u->ring = S.ring->ring;
    }
    pthread_mutex_unlock(&S.lock);
    if (rc != 0)
        return refuse(sp, err);
    if (!st) {
        /* Opened outside the lock: a Redis connect may take its timeout. */
        char why[512], shown[256];

        st = ck_store_open(&S.cfg, why, sizeof(why));
        if (!st) {
            ck_store_url_shown(S.cfg.store_url ? S.cfg.store_url : CK_DEFAULT_STORE_URL,
                               shown, sizeof(shown));
            snprintf(err, sizeof(err), "store %s: %.300s", shown, why);
            cks_end(u);
            return refuse(sp, err);
        }
    }
    u->cfg = &S.cfg;
    u->lockout = &S.lockout;
    u->public_url = S.public_url;
    u->store = st;
    return SASL_OK;
}

void cks_end(cks_use *u)
{
    ck_store *st = u->store;

    pthread_mutex_lock(&S.lock);
    ring_release(u->ring_ref);
    u->ring_ref = NULL;
    u->ring = NULL;
    u->store = NULL;
    if (st && S.nidle < POOL_MAX) {
        S.idle[S.nidle++] = st;
        st = NULL;
    }
    pthread_mutex_unlock(&S.lock);
    ck_store_close(st);
}

int cks_find_user(const char *name, ck_user *out)
{
    const ck_user *u = NULL;

    pthread_mutex_lock(&S.lock);
    if (S.users_loaded && strlen(name) < CK_EMAIL_MAX)
        u = ck_users_find(&S.users, name);
    if (u)
        *out = *u;
    pthread_mutex_unlock(&S.lock);
    return u ? 0 : -1;
}

void cks_state_free(void)
{
    pthread_mutex_lock(&S.lock);
    while (S.nidle > 0)
        ck_store_close(S.idle[--S.nidle]);
    free_files();
    if (S.path) {
        ck_config_free(&S.cfg);
        free(S.path);
        S.path = NULL;
    }
    free(S.public_url);
    S.public_url = NULL;
    pthread_mutex_unlock(&S.lock);
}
