-- wrk: POST /api/v1/redemptions as tills do: a coupon from BENCH_TOKENS (one per line), a till
-- key from BENCH_TILLS, a new Idempotency-Key per request (BENCH_RUN keeps runs apart). The
-- coupons are taken in turn from line BENCH_START on (0 by default): a benchmark of many runs
-- starts each where the last one stopped, so that every coupon is used as often as the others
-- and none runs out of uses while others have them left.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
  thread:set("count", #threads)
end

local tokens, tills, n = {}, {}, 0
local run = os.getenv("BENCH_RUN") or "run"
local start = tonumber(os.getenv("BENCH_START") or "0")

function init(args)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
  for line in io.lines(os.getenv("BENCH_TILLS")) do tills[#tills + 1] = line end
end

function request()
  n = n + 1
  local i = n * count + id
  local body = '{"payload":"' .. tokens[(start + i) % #tokens + 1] .. '","order_amount":10000}'
  return wrk.format("POST", "/api/v1/redemptions", {
    ["Authorization"] = "Bearer " .. tills[i % #tills + 1],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = run .. "-" .. id .. "-" .. n,
  }, body)
end

done = dofile(os.getenv("BENCH_LUA_DIR") .. "/summary.lua")
