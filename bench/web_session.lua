-- SPDX-License-Identifier: BSD-3-Clause
-- wrk script of bench/web.sh: GET /session, each request with the cookie of
-- the next session, round robin.
--   wrk ... -s web_session.lua URL -- TOKENS_FILE THREADS [COOKIE_NAME]
-- Thread i of THREADS takes the tokens on lines i, i + THREADS, ..., so the
-- threads share no session and one pass of all threads touches every
-- session once. Tokens stay in memory; nothing prints them.
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  local name = args[3] or "__Host-checkup_session"
  local i = 0
  cookies = {}
  for line in io.lines(path) do
    if i % nthreads == id then
      cookies[#cookies + 1] = name .. "=" .. line
    end
    i = i + 1
  end
  if #cookies == 0 then
    error("no tokens for thread " .. id .. " in " .. path)
  end
  pos = 0
end

function request()
  pos = pos % #cookies + 1
  return wrk.format("GET", nil, { Cookie = cookies[pos] })
end
