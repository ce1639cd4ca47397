-- GCRA rate limit, exact: the same arithmetic as src/policy/limits/gcra.ts (read that first).
-- KEYS[1]  the limit's key; its value is "tat frac den": TAT = tat + frac/den microseconds
-- ARGV[1]  "take" (admit ARGV[4] units, 0 = peek) or "adjust" (charge/refund ARGV[4] units)
-- ARGV[2]  limit L (units per period, burst)    ARGV[3] period P in microseconds
-- ARGV[4]  units (take: >= 0; adjust: signed)   ARGV[5] now in µs (tests only; "" = server clock)
-- Returns take: {allowed 0|1, remaining, resetUs, retryAfterUs}; adjust: {}.
-- All values stay below 2^53 (the caller checks P * L and units * P), so doubles are exact.
local key = KEYS[1]
local op = ARGV[1]
local L = tonumber(ARGV[2])
local P = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local now
if ARGV[5] ~= nil and ARGV[5] ~= '' then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- Load: a TAT in the past counts as now; a fraction written under another limit is rescaled.
local tat, frac = now, 0
local s = redis.call('GET', key)
if s then
  local a, b, c = string.match(s, '^(%d+) (%d+) (%d+)$')
  if a and tonumber(a) >= now then
    tat = tonumber(a)
    frac = tonumber(b)
    local den = tonumber(c)
    if den ~= L then frac = math.floor(frac * L / den) end
  end
end

-- TAT + k * P / L, with P = q * L + r.
local q = math.floor(P / L)
local r = P - q * L
local function add(t, f, k)
  local x = f + k * r
  local carry = math.floor(x / L)
  return t + k * q + carry, x - carry * L
end

local function store(t, f)
  -- Lives until TAT (rounded up to the next ms); after that no state equals this state.
  redis.call('SET', key, string.format('%.0f %.0f %.0f', t, f, L), 'PX', string.format('%.0f', math.floor((t - now) / 1000) + 1))
end

local function remaining(bw, f)
  if bw >= P then return 0 end
  local u = math.floor(((P - bw) * L - f) / P)
  if u < 0 then return 0 end
  return u
end

if op == 'adjust' then
  local t, f = add(tat, frac, n)
  if t < now or (t == now and f == 0) then
    redis.call('DEL', key)
  else
    store(t, f)
  end
  return {}
end

local t, f = add(tat, frac, n)
local bw = t - now
if bw < P or (bw == P and f == 0) then
  if n > 0 then store(t, f) end
  local reset = bw
  if f > 0 then reset = reset + 1 end
  return {1, remaining(bw, f), reset, 0}
end
local ob = tat - now
local reset = ob
if frac > 0 then reset = reset + 1 end
local retry = bw - P
if f > 0 then retry = retry + 1 end
return {0, remaining(ob, frac), reset, retry}
