/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cks.h - checkup_sasl internals, shared by the mechanisms (server.c,
 * client.c) and the plugin's entry points (plugin.c). Nothing here is
 * exported from the plugin (checkup_sasl.map).
 */
#ifndef CK_SASL_CKS_H
#define CK_SASL_CKS_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "ck_config.h"
#include "ck_lockout.h"
#include "ck_store.h"
#include "ck_token.h"
#include "ck_users.h"

#define CKS_MECH        "OAUTHBEARER"
#define CKS_OPT_CONFIG  "checkup_config"
#define CKS_OPT_SCOPE   "checkup_scope"
#define CKS_SCOPE       "checkup"
#define CKS_CLIENT_LABEL "bearer"   /* the client's own name for itself without an authzid */

/*
 * What one server exchange needs from the process-wide state, handed out
 * by cks_begin and given back by cks_end: the configuration (read once per
 * path), a store handle of its own (pooled: services such as slapd run
 * exchanges on several threads at once), the key ring held (a reload by
 * another thread frees it only after cks_end) and copies of what it reads
 * from the users file.
 */
typedef struct cks_ring cks_ring;

typedef struct cks_use {
    const ck_config *cfg;
    const ck_lockout *lockout;
    const char *public_url;         /* [daemon] public_url, or NULL */
    ck_store *store;
    const ck_keyring *ring;         /* the key ring, held until cks_end */
    cks_ring *ring_ref;
} cks_use;

/*
 * Reads the checkup_config option (default CK_CONFIG_PATH) through the
 * service's SASL configuration and makes the state ready: configuration,
 * key ring, users file, a store handle. SASL_OK, or SASL_UNAVAIL after one
 * log line saying what is unusable (every exchange is refused until it is
 * fixed: fail closed).
 */
int cks_begin(sasl_server_params_t *sp, cks_use *u);
void cks_end(cks_use *u);         /* also right after a failed cks_begin */

/* Copies the users-file record of name (email or local name); 0, or -1 when none. */
int cks_find_user(const char *name, ck_user *out);

/* Frees the process-wide state (the last server plugin's mech_free). */
void cks_state_free(void);

int cks_server_plug(sasl_server_plug_t **plug);
int cks_client_plug(sasl_client_plug_t **plug);

#endif
