/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_scripts.h - the Lua scripts of the Redis store (internal).
 * The key schema and the record format are described in redis_scripts.c.
 */
#ifndef CK_REDIS_SCRIPTS_H
#define CK_REDIS_SCRIPTS_H

enum ck_redis_script {
    CK_SCRIPT_CREATE = 0,
    CK_SCRIPT_TOUCH,
    CK_SCRIPT_DELETE,
    CK_SCRIPT_USER,
    CK_SCRIPT_METRICS,
    CK_SCRIPT_FAIL_ADD,
    CK_SCRIPT_COUNT
};

/* Size of the fixed header of a session record. */
#define CK_REDIS_REC_HDR 22

extern const char *const ck_redis_script_src[CK_SCRIPT_COUNT];
/* LUA_COMMON of redis_scripts.c: the record parser and metrics helpers. */
extern const char ck_redis_lua_common[];

#endif
