/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_scripts.c - the Lua scripts of the Redis store backend.
 *
 * Every multi-step operation is one script, so it runs atomically on the
 * server: a touch can never resurrect a session that a concurrent delete,
 * revocation or expiry removed, and revoke_user cannot miss a session
 * created at the same time (all keys of one user share a hash tag).
 *
 * Keys (P = key_prefix, default "ck:"; b = the hash tag of the user's
 * session tag: the tag itself for an old tag ("3f"), 1 to 3 base64url
 * characters on the tag's own evenly spaced slot for a new one, see
 * redis_tags.h; h = SHA-256(session id), the 32 raw bytes; never the id):
 *   P s:{b}h         string, the session record; the key expires GRACE
 *                    (CK_STORE_END_GRACE, 300 s) after the session's
 *                    expires, set as an absolute time by our clock (PXAT /
 *                    PEXPIREAT, read with PEXPIRETIME): a touch in that
 *                    time finds the record and reports why the session
 *                    ended (idle or lifetime) rather than "not found".
 *                    h is raw, not hex or base64url: with the default
 *                    prefix the key is 40 to 42 bytes and its sds fits the
 *                    48-byte allocator class (base64url: 64), and the index
 *                    members are 32 bytes, together about 27 bytes less
 *                    per session (measured with INFO used_memory).
 *   P u:{b}user      sorted set of h scored by creation time, TTL = the
 *                    latest deadline of its members
 *   P m:{b}          hash, the metrics of the tag (see below)
 *   P mz:{b}         sorted set of the minutes that have a metrics bucket
 *   P p:name         pending login: i64 end of life by our clock, then the
 *                    value; SET EX / GET / GETDEL, checked against now
 *   P f:name         failure counter: hash n (count), e (window end)
 *
 * Session record: a 22-byte little-endian header, then the text fields
 * separated by NUL bytes (text fields never contain control characters):
 *   u8 format (1), u8 method, i64 created,
 *   u32 last_activity - created, u32 bucket expires - created,
 *   u32 deadline - created,
 *   user_id NUL email NUL role NUL clinic_id NUL remote_host NUL service NUL
 *   tty NUL idp_sid NUL user_agent (records written before user_agent end
 *   at idp_sid; both are read)
 *
 * Touch and the two expiries. The record's expires is the session's
 * metrics bucket (below) and changes only when touch moves the session to
 * another minute. A touch whose new expiry stays in that minute moves only
 * the key's expiry, which is then the session's true expires + GRACE (and, for a
 * session not yet held at its deadline, expires - inactivity its last
 * activity); it costs no record rewrite, and the client can send it as one
 * GETEX ... PXAT without a script (redis_backend.c). Scripts read both and
 * hand readers the record with the true values (rec_fresh). A touch that
 * changes the minute rewrites the two u32 at offset 10 with SET ... PXAT.
 * Absolute expiry times follow our clock, so a test clock may run ahead of
 * real time but not behind it.
 *
 * Metrics without KEYS/SCAN: each tag's hash holds cumulative counters
 * c (created), lo (logout), rv (revoked), id (idle), lt (lifetime),
 * d (sum of durations), a0..a2 (active by method), and buckets of the live
 * sessions by the minute of their current expiry:
 *   "<minute>:<method><i|l>"  count of sessions expiring idle / at lifetime
 *   "<minute>:<i|l>s"         sum of (bucket expires - created) of those
 * A session moves between buckets when touch changes its expiry minute.
 * Touches within the minute leave the bucket alone, so the duration of a
 * session found expired by fold is measured to its bucket's expires: up to
 * 59 s short when it was kept alive within its last minute. Sessions that
 * end any other way are measured exactly.
 * Once a minute has passed, every session still in its bucket has expired
 * (Redis drops the key by its TTL): "fold" adds the bucket to id/lt/d and
 * drops it. A session that a script finds expired is counted by that
 * script only while its bucket still exists, so it is never counted twice.
 * The granularity is therefore one minute: a session that expired less
 * than a minute ago may still be reported active.
 *
 * A full Redis (maxmemory reached, noeviction). Redis 7 refuses a script's
 * command flagged deny-oom (SET, HINCRBY, ZADD, GETEX...) with -OOM only
 * while the script has written nothing yet: once it has, every later
 * command runs, so that a script is never stopped halfway. DEL, HDEL,
 * ZREM and PEXPIREAT are never refused. Scripts carry no shebang: with
 * "#!lua" and no allow-oom flag Redis would refuse the whole script,
 * deletes included, and allow-oom would let logins grow memory. So:
 *  - create probes with HINCRBY ... 0 before anything else: a full Redis
 *    refuses the login (-OOM, "store full") and nothing was written;
 *  - delete and revoke begin with reads, then DEL/HDEL/ZREM: never
 *    refused, and what they free makes room;
 *  - touch probes (can_grow) before moving a session to another minute's
 *    bucket; when refused it only moves the key's expiry (PEXPIREAT), so
 *    the session lives on, and returns {record, 1}: the bucket move is a
 *    lost metric (counted by the client, checkup_metrics_lost_total), and
 *    the session counts as active again when a later touch finds its old
 *    bucket folded. A session held at its deadline keeps the last
 *    activity its record has, so it may end idle sooner than if Redis
 *    had room.
 */
#include "config.h"

#include "ck_store.h"
#include "redis_scripts.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* Seconds a session key outlives the session's expires (CK_STORE_END_GRACE). */
#define LUA_GRACE "local GRACE = " STR(CK_STORE_END_GRACE) "\n"

/* Helpers shared by every session script (prepended to each). */
#define LUA_COMMON                                                              \
    "local HDR = 22\n"                                                          \
    LUA_GRACE                                                                   \
    /* redis.call would format big numbers in exponent form: pass integers as text. */ \
    "local function I(x) return string.format('%d', x) end\n"                   \
    /* px: PEXPIRETIME of the key: the session's expires + GRACE, in ms. */     \
    "local function rec_parse(r, px, inact)\n"                                  \
    "  if type(r) ~= 'string' or #r < HDR + 7 or string.byte(r, 1) ~= 1 then return nil end\n" \
    "  local _, m, cr, la, ex, dl = struct.unpack('<BBi8I4I4I4', r)\n"          \
    "  local z = string.find(r, '\\0', HDR + 1, true)\n"                        \
    "  if not z or m > 2 then return nil end\n"                                 \
    "  local s = {m = m, cr = cr, la = cr + la, bx = cr + ex, ex = cr + ex, dl = cr + dl,\n" \
    "             user = string.sub(r, HDR + 1, z - 1)}\n"                      \
    /* A touch within the bucket's minute moved only the key's expiry. */       \
    "  local t = math.floor(px / 1000) - GRACE\n"                               \
    "  if px > 0 and t < s.dl then\n"                                            \
    "    s.ex = t\n"                                                            \
    "    s.la = math.max(s.la, t - inact)\n"                                    \
    "  end\n"                                                                   \
    "  return s\n"                                                              \
    "end\n"                                                                     \
    /* The record with its true last_activity and expires, for readers. */      \
    "local function rec_fresh(r, s)\n"                                          \
    "  return string.sub(r, 1, 10) .. struct.pack('<I4I4', s.la - s.cr, s.ex - s.cr) .. string.sub(r, 19)\n" \
    "end\n"                                                                     \
    "local function bucket(s)\n"                                                \
    "  local kind = 'i'\n"                                                      \
    "  if s.bx >= s.dl then kind = 'l' end\n"                                   \
    "  return I(math.floor(s.bx / 60)), kind\n"                                 \
    "end\n"                                                                     \
    "local function b_add(mh, mz, s, sign)\n"                                   \
    "  local m, kind = bucket(s)\n"                                             \
    /* Emptied fields go, so the hash keeps only live buckets. */               \
    "  local f = m .. ':' .. s.m .. kind\n"                                     \
    "  if redis.call('HINCRBY', mh, f, I(sign)) == 0 then redis.call('HDEL', mh, f) end\n" \
    "  f = m .. ':' .. kind .. 's'\n"                                           \
    "  if redis.call('HINCRBY', mh, f, I(sign * (s.bx - s.cr))) == 0 then redis.call('HDEL', mh, f) end\n" \
    "  if sign > 0 then redis.call('ZADD', mz, m, m) end\n"                     \
    "end\n"                                                                     \
    /* Folds the buckets of the minutes that have passed (bounded per call). */ \
    "local function fold(mh, mz, now)\n"                                        \
    "  local cur = math.floor(now / 60)\n"                                      \
    "  local ms = redis.call('ZRANGEBYSCORE', mz, '-inf', '(' .. I(cur), 'LIMIT', 0, 256)\n" \
    "  if #ms == 0 then return end\n"                                           \
    "  local t = {0, 0, 0, 0, 0, 0, 0, 0}\n"                                    \
    "  for _, m in ipairs(ms) do\n"                                             \
    "    local f = {m..':0i', m..':1i', m..':2i', m..':0l', m..':1l', m..':2l', m..':is', m..':ls'}\n" \
    "    local v = redis.call('HMGET', mh, unpack(f))\n"                        \
    "    for i = 1, 8 do t[i] = t[i] + (tonumber(v[i]) or 0) end\n"             \
    "    redis.call('HDEL', mh, unpack(f))\n"                                   \
    "    redis.call('ZREM', mz, m)\n"                                           \
    "  end\n"                                                                   \
    "  redis.call('HINCRBY', mh, 'id', I(t[1] + t[2] + t[3]))\n"                   \
    "  redis.call('HINCRBY', mh, 'lt', I(t[4] + t[5] + t[6]))\n"                   \
    "  redis.call('HINCRBY', mh, 'd', I(t[7] + t[8]))\n"                           \
    "  for k = 0, 2 do redis.call('HINCRBY', mh, 'a' .. k, I(-(t[k + 1] + t[k + 4]))) end\n" \
    "end\n"                                                                     \
    /* Counts the end of session s once: as its expiry when it had expired */   \
    /* (unless fold already counted it), else as reason at now. */              \
    "local function s_end(mh, mz, s, now, expired, reason)\n"                   \
    "  local m, kind = bucket(s)\n"                                             \
    "  if expired then\n"                                                       \
    "    if not redis.call('ZSCORE', mz, m) then return end\n"                  \
    "    reason = (kind == 'l') and 'lt' or 'id'\n"                             \
    "    now = s.ex\n"                                                          \
    "  end\n"                                                                   \
    "  b_add(mh, mz, s, -1)\n"                                                  \
    "  redis.call('HINCRBY', mh, reason, 1)\n"                                  \
    "  redis.call('HINCRBY', mh, 'd', I(now - s.cr))\n"                            \
    "  redis.call('HINCRBY', mh, 'a' .. s.m, -1)\n"                             \
    "end\n"                                                                     \
    "local function s_expired(s, now, inact)\n"                                 \
    "  if now >= s.dl then return 3 end\n"                                      \
    "  if now >= s.la + inact or now >= s.ex then return 2 end\n"               \
    "  return 0\n"                                                              \
    "end\n"                                                                     \
    "local function corrupt() return redis.error_reply('CORRUPT session record') end\n" \
    /* See "A full Redis" above: true when writes may grow memory, false at */ \
    /* maxmemory (noeviction), or the error of a key that is not a hash. */ \
    "local function can_grow(mh)\n"                                           \
    "  local r = redis.pcall('HINCRBY', mh, 'c', 0)\n"                         \
    "  if type(r) == 'table' and r.err then\n"                                \
    "    if string.sub(r.err, 1, 3) == 'OOM' then return false end\n"         \
    "    return r\n"                                                          \
    "  end\n"                                                                 \
    "  return true\n"                                                         \
    "end\n"

/*
 * create: KEYS session, user index, metrics hash, minute set;
 * ARGV now, record, member, max_per_user, session key prefix "P s:{tt}",
 * inactivity. Prunes the oldest members of the index whose key is gone or
 * expired, evicts the oldest live sessions over the cap (revoked), then
 * stores the record. Returns the number of evicted sessions.
 */
static const char lua_create[] = LUA_COMMON
    "local sk, ui, mh, mz = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"
    "local now, rec, mem = tonumber(ARGV[1]), ARGV[2], ARGV[3]\n"
    "local cap, sp, inact = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])\n"
    "local s = rec_parse(rec, 0, inact)\n"
    "if not s then return redis.error_reply('ERR bad record') end\n"
    /* A full Redis refuses the login before anything is written (see above). */
    "redis.call('HINCRBY', mh, 'c', 0)\n"
    "fold(mh, mz, now)\n"
    "local olds = redis.call('ZRANGE', ui, 0, I(math.max(15, cap)))\n"
    "local live = {}\n"
    "for _, o in ipairs(olds) do\n"
    "  local r = redis.call('GET', sp .. o)\n"
    "  local od = r and rec_parse(r, redis.call('PEXPIRETIME', sp .. o), inact)\n"
    "  if not r then\n"
    "    redis.call('ZREM', ui, o)\n"
    "  elseif not od then\n"
    "    return corrupt()\n"
    "  elseif s_expired(od, now, inact) ~= 0 then\n"
    "    redis.call('DEL', sp .. o)\n"
    "    redis.call('ZREM', ui, o)\n"
    "    s_end(mh, mz, od, now, true, 'rv')\n"
    "  else\n"
    "    live[#live + 1] = {o, od}\n"
    "  end\n"
    "end\n"
    "local evicted = 0\n"
    "if cap > 0 then\n"
    "  local n = redis.call('ZCARD', ui)\n"
    "  local i = 1\n"
    "  while n >= cap and i <= #live do\n"
    "    redis.call('DEL', sp .. live[i][1])\n"
    "    redis.call('ZREM', ui, live[i][1])\n"
    "    s_end(mh, mz, live[i][2], now, false, 'rv')\n"
    "    evicted = evicted + 1\n"
    "    n = n - 1\n"
    "    i = i + 1\n"
    "  end\n"
    "end\n"
    "redis.call('SET', sk, rec, 'PXAT', I((s.ex + GRACE) * 1000))\n"
    "redis.call('ZADD', ui, I(s.cr), mem)\n"
    "local ttl = redis.call('TTL', ui)\n"
    "if ttl < s.dl + GRACE - now then redis.call('EXPIRE', ui, I(s.dl + GRACE - now)) end\n"
    "b_add(mh, mz, s, 1)\n"
    "redis.call('HINCRBY', mh, 'c', 1)\n"
    "redis.call('HINCRBY', mh, 'a' .. s.m, 1)\n"
    "return evicted\n";

/*
 * touch / get: KEYS session, metrics hash, minute set;
 * ARGV now, inactivity, refresh (1 touch, 0 get), user index prefix
 * "P u:{tt}", member. Returns 0 (missing), 2 (expired idle, deleted),
 * 3 (expired lifetime, deleted) or the record as it was before touch
 * refreshed it (the caller applies the same refresh), or {record, 1}
 * when a full Redis let the touch move only the key's expiry.
 */
static const char lua_touch[] =
    /*
     * The hot path first, before the shared helpers are even defined: a
     * live session whose expiry stays in the minute of its bucket costs
     * GET, PEXPIRETIME and PEXPIREAT; the record is not rewritten.
     */
    LUA_GRACE
    "local sk, mh, mz = KEYS[1], KEYS[2], KEYS[3]\n"
    "local r = redis.call('GET', sk)\n"
    "if not r then return 0 end\n"
    "local now, inact = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local px = redis.call('PEXPIRETIME', sk)\n"
    "if ARGV[3] == '1' and #r >= 29 and string.byte(r, 1) == 1 then\n"
    "  local _, m, cr, _, ex, dl = struct.unpack('<BBi8I4I4I4', r)\n"
    "  local bx, nex = cr + ex, now + inact\n"
    "  dl = cr + dl\n"
    /* Uncapped, the key's expiry is the session's: past it, it is idle. */
    "  if m <= 2 and nex < dl and bx < dl and px > (now + GRACE) * 1000\n"
    "     and math.floor(nex / 60) == math.floor(bx / 60) then\n"
    "    redis.call('PEXPIREAT', sk, string.format('%d', (nex + GRACE) * 1000), 'GT')\n"
    "    return r\n"
    "  end\n"
    "end\n"
    LUA_COMMON
    "local s = rec_parse(r, px, inact)\n"
    "if not s then return corrupt() end\n"
    "local e = s_expired(s, now, inact)\n"
    "if e ~= 0 then\n"
    "  fold(mh, mz, now)\n"
    "  redis.call('DEL', sk)\n"
    "  redis.call('ZREM', ARGV[4] .. s.user, ARGV[5])\n"
    "  s_end(mh, mz, s, now, true, 'lo')\n"
    "  return e\n"
    "end\n"
    "if ARGV[3] ~= '1' then return rec_fresh(r, s) end\n"
    "local n = {m = s.m, cr = s.cr, dl = s.dl, bx = math.min(now + inact, s.dl)}\n"
    "local g = can_grow(mh)\n"
    "if type(g) == 'table' then return g end\n"
    "if not g then\n"
    /* A full Redis: only the key's expiry moves; the metrics are behind. */
    "  redis.call('PEXPIREAT', sk, I((n.bx + GRACE) * 1000), 'GT')\n"
    "  return {r, 1}\n"
    "end\n"
    "local om, ok = bucket(s)\n"
    "local nm, nk = bucket(n)\n"
    "if om == nm and ok == nk then\n"
    /* Same bucket: the record keeps its expires (what the bucket counted); */
    /* only a session held at its deadline keeps its last activity there. */
    "  n.bx = s.bx\n"
    "else\n"
    /* A bucket folded already (clock skew between clients) counted the */
    /* session as ended; it lives on, so it is active again. */
    "  if redis.call('ZSCORE', mz, om) then b_add(mh, mz, s, -1)\n"
    "  else redis.call('HINCRBY', mh, 'a' .. s.m, 1) end\n"
    "  b_add(mh, mz, n, 1)\n"
    "end\n"
    "redis.call('SET', sk, string.sub(r, 1, 10) .. struct.pack('<I4I4', now - s.cr, n.bx - s.cr)\n"
    "           .. string.sub(r, 19), 'PXAT', I((math.min(now + inact, s.dl) + GRACE) * 1000))\n"
    "return r\n";

/*
 * delete: KEYS session, metrics hash, minute set;
 * ARGV now, inactivity, reason ("lo" logout, "rv" revoked), user index
 * prefix, member. Returns 1 when a record was removed, else 0.
 */
static const char lua_delete[] = LUA_COMMON
    "local sk, mh, mz = KEYS[1], KEYS[2], KEYS[3]\n"
    "local r = redis.call('GET', sk)\n"
    "if not r then return 0 end\n"
    "local now, inact = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local s = rec_parse(r, redis.call('PEXPIRETIME', sk), inact)\n"
    "if not s then return corrupt() end\n"
    "fold(mh, mz, now)\n"
    "redis.call('DEL', sk)\n"
    "redis.call('ZREM', ARGV[4] .. s.user, ARGV[5])\n"
    "s_end(mh, mz, s, now, s_expired(s, now, inact) ~= 0, ARGV[3])\n"
    "return 1\n";

/*
 * revoke_user / list_user: KEYS user index, metrics hash, minute set;
 * ARGV now, inactivity, session key prefix, mode ("revoke" or "list").
 * Both drop the members whose session is gone or expired. revoke deletes
 * every live session and the index and returns their count; list returns
 * member, record, member, record, ...
 */
static const char lua_user[] = LUA_COMMON
    "local ui, mh, mz = KEYS[1], KEYS[2], KEYS[3]\n"
    "local now, inact, sp = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]\n"
    "local revoke = ARGV[4] == 'revoke'\n"
    "local ms = redis.call('ZRANGE', ui, 0, -1)\n"
    "local recs, ss = {}, {}\n"
    "for i, o in ipairs(ms) do\n"
    "  local r = redis.call('GET', sp .. o)\n"
    "  if r then\n"
    "    ss[i] = rec_parse(r, redis.call('PEXPIRETIME', sp .. o), inact)\n"
    "    if not ss[i] then return corrupt() end\n"
    "  end\n"
    "  recs[i] = r\n"
    "end\n"
    "fold(mh, mz, now)\n"
    "local out, count = {}, 0\n"
    "for i, o in ipairs(ms) do\n"
    "  local r = recs[i]\n"
    "  if not r then\n"
    "    redis.call('ZREM', ui, o)\n"
    "  else\n"
    "    local s = ss[i]\n"
    "    local e = s_expired(s, now, inact) ~= 0\n"
    "    if e or revoke then\n"
    "      redis.call('DEL', sp .. o)\n"
    "      redis.call('ZREM', ui, o)\n"
    "      s_end(mh, mz, s, now, e, 'rv')\n"
    "      if not e then count = count + 1 end\n"
    "    else\n"
    "      out[#out + 1] = o\n"
    "      out[#out + 1] = rec_fresh(r, s)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if revoke then\n"
    "  redis.call('DEL', ui)\n"
    "  return count\n"
    "end\n"
    "return out\n";

/*
 * metrics of one tag: KEYS metrics hash, minute set; ARGV now.
 * Returns c, lo, rv, id, lt, d, a0, a1, a2.
 */
static const char lua_metrics[] = LUA_COMMON
    "local mh, mz = KEYS[1], KEYS[2]\n"
    "fold(mh, mz, tonumber(ARGV[1]))\n"
    "local v = redis.call('HMGET', mh, 'c', 'lo', 'rv', 'id', 'lt', 'd', 'a0', 'a1', 'a2')\n"
    "for i = 1, 9 do v[i] = tonumber(v[i]) or 0 end\n"
    "return v\n";

/*
 * fail_add: KEYS counter (a hash: n = count, e = end of the window by our
 * clock); ARGV now, window. The window runs from the first failure; the
 * key TTL lets Redis drop it afterwards. Returns the count after adding one.
 */
static const char lua_fail_add[] =
    "local k, now, w = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local e = tonumber(redis.call('HGET', k, 'e'))\n"
    "if not e or now >= e then\n"
    "  redis.call('DEL', k)\n"
    "  redis.call('HSET', k, 'e', string.format('%d', now + w))\n"
    "  redis.call('EXPIRE', k, string.format('%d', w))\n"
    "end\n"
    "return redis.call('HINCRBY', k, 'n', 1)\n";

const char *const ck_redis_script_src[CK_SCRIPT_COUNT] = {
    [CK_SCRIPT_CREATE] = lua_create,
    [CK_SCRIPT_TOUCH] = lua_touch,
    [CK_SCRIPT_DELETE] = lua_delete,
    [CK_SCRIPT_USER] = lua_user,
    [CK_SCRIPT_METRICS] = lua_metrics,
    [CK_SCRIPT_FAIL_ADD] = lua_fail_add,
};

/* The shared helpers alone, for scripts built elsewhere (redis_copy.c). */
const char ck_redis_lua_common[] = LUA_COMMON;
