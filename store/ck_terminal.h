/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_terminal.h - CorpPass / OIDC logins started at a terminal.
 *
 * The PAM module cannot run a browser login: it never talks to an
 * identity provider and never holds a client key. So it starts a pending
 * terminal login in the store and shows the user a short link
 * "<public_url>/t/<code>". checkupd runs the browser half behind that
 * link and, after a verified callback, records the identity against the
 * code. The PAM module polls the store and takes the result, once.
 *
 *   PAM                          store                     checkupd
 *   ck_terminal_begin   ->  term:<code> pending
 *                                                   <-  ck_terminal_lookup (GET /t/<code>)
 *                           term:<code> taken,      <-  ck_terminal_complete (callback)
 *                           termdone:<code> put
 *   ck_terminal_poll    ->  termdone:<code> taken (single use)
 *
 * Both records live no longer than the pending TTL given to begin. Every
 * step is a single atomic store operation (state_take for the
 * transitions), so a code completes at most once and its result is
 * used at most once, on every backend.
 *
 * The code is 8 characters from a 32-letter alphabet without 0, O, 1 and
 * I (40 bits). It is a bearer secret for the few minutes it lives: never
 * log it. checkupd rate-limits /t/ lookups per address (ck_store_fail_add)
 * so that the code space cannot be walked.
 */
#ifndef CK_TERMINAL_H
#define CK_TERMINAL_H

#include <stdint.h>

#include "ck_store.h"

#define CK_TERMINAL_CODE_CHARS   8
#define CK_TERMINAL_CODE_LEN     (CK_TERMINAL_CODE_CHARS + 1)   /* with the NUL */
#define CK_TERMINAL_ALPHABET     "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#define CK_TERMINAL_PROVIDER_MAX 64
#define CK_TERMINAL_ID_MAX       64
#define CK_TERMINAL_REASON_MAX   48

typedef enum ck_terminal_state {
    CK_TERMINAL_PENDING = 0,    /* waiting for the browser login */
    CK_TERMINAL_COMPLETED,      /* identity recorded (poll: taken, now gone) */
    CK_TERMINAL_FAILED          /* the browser login failed; reason says why */
} ck_terminal_state;

/*
 * The verified identity checkupd records. Empty strings mean "not given".
 * For CorpPass: cp_uuid, or cp_entity_id + cp_user_id (the CPUID, never
 * the NRIC) map the login to a users file record; for generic OIDC the
 * email does.
 */
typedef struct ck_terminal_identity {
    char sub[CK_IDP_SID_MAX];
    char email[CK_EMAIL_MAX];
    char cp_uuid[CK_TERMINAL_ID_MAX];
    char cp_entity_id[CK_TERMINAL_ID_MAX];
    char cp_user_id[CK_TERMINAL_ID_MAX];
    char idp_sid[CK_IDP_SID_MAX];   /* the provider's session id, for logout */
} ck_terminal_identity;

typedef struct ck_terminal {
    ck_terminal_state state;
    char provider[CK_TERMINAL_PROVIDER_MAX];   /* provider name from checkup.conf */
    char service[CK_SERVICE_MAX];              /* PAM service that started it */
    char rhost[CK_RHOST_MAX];                  /* remote host of the terminal, or "" */
    int64_t created;                           /* seconds since the epoch */
    int64_t expires;                           /* created + ttl */
    ck_terminal_identity id;                   /* set when COMPLETED */
    char reason[CK_TERMINAL_REASON_MAX];       /* set when FAILED: an audit word */
} ck_terminal;

/*
 * Checks and normalises a code as a user may type it: ASCII case is
 * ignored and '-' and ' ' are skipped. Returns 0 with the canonical code
 * in out, or -1 when it is not a code.
 */
int ck_terminal_code_parse(const char *in, char out[CK_TERMINAL_CODE_LEN]);

/*
 * Starts a pending terminal login for provider (a name from checkup.conf),
 * living ttl seconds, and writes its fresh code to code. service and
 * rhost may be NULL.
 */
ck_status ck_terminal_begin(ck_store *st, const char *provider, const char *service,
                            const char *rhost, int ttl, char code[CK_TERMINAL_CODE_LEN]);

/*
 * For GET /t/<code>: CK_OK with out->state PENDING when the code waits for
 * a browser login; CK_NOT_FOUND when it is unknown, expired, cancelled or
 * already completed; CK_ERR_INVALID when code is not a code.
 */
ck_status ck_terminal_lookup(ck_store *st, const char *code, ck_terminal *out);

/*
 * For checkupd after a verified callback: records id against a pending
 * code. Only a pending code completes, and only once: otherwise
 * CK_NOT_FOUND.
 */
ck_status ck_terminal_complete(ck_store *st, const char *code,
                               const ck_terminal_identity *id);

/*
 * For checkupd when the browser half failed (the provider refused the
 * login or failed): records the audit word reason (e.g. provider_timeout)
 * against a pending code, so that the terminal ends the login at once
 * with that reason. Single use like complete: otherwise CK_NOT_FOUND.
 */
ck_status ck_terminal_fail(ck_store *st, const char *code, const char *reason);
/*
 * For the PAM module: CK_OK with out->state PENDING (still waiting),
 * COMPLETED (out->id is the identity) or FAILED (out->reason says why);
 * a COMPLETED or FAILED result is taken and a second poll is CK_NOT_FOUND.
 * CK_NOT_FOUND when the login is gone (expired, cancelled, or its result
 * already taken).
 */
ck_status ck_terminal_poll(ck_store *st, const char *code, ck_terminal *out);

/* Removes a pending or completed terminal login; idempotent. */
ck_status ck_terminal_cancel(ck_store *st, const char *code);

#endif
