-- SPDX-License-Identifier: BSD-3-Clause
-- wrk script of bench/web.sh: the login storm. POST /login with a wrong
-- password, each request for a user name that costs a hash (an unknown
-- name, one of NAMES, so no account reaches its lockout) from one of
-- ADDRS client addresses (X-Forwarded-For, which checkupd believes from
-- its trusted proxies only: the bench lists 127.0.0.1).
--   wrk ... -s web_storm.lua URL/login -- ORIGIN [ADDRS [NAMES]]
-- Statuses are counted per thread and printed by done() as
-- "storm status <code> <count>" lines.
local count = 0
local threads = {}

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  origin = args[1]
  addrs = tonumber(args[2] or "1000")
  names = tonumber(args[3] or "100000")
  n = id * 7919
  seen = {}
end

function request()
  n = n + 1
  local a = n % addrs
  local body = "email=storm" .. (n % names) .. "%40example.org&password=wrong-" .. n
  return wrk.format("POST", nil, {
    ["Origin"] = origin,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = "10.9." .. math.floor(a / 250) .. "." .. (a % 250 + 1),
  }, body)
end

function response(status, headers, body)
  seen[status] = (seen[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("seen")
    for code, c in pairs(s or {}) do
      total[code] = (total[code] or 0) + c
    end
  end
  for code, c in pairs(total) do
    io.write(string.format("storm status %d %d\n", code, c))
  end
end
