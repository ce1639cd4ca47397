-- Budget reservations, atomic and in one round trip. Read src/policy/state/types.ts first.
-- KEYS[1]  hash of the window:  used, reserved, and "a:<id>" = amount of each live reservation
-- KEYS[2]  sorted set of the window: "r:<id>" scored by the reservation's expiry (ms), and
--          "d:<id>" (settled ids, remembered for idempotency) scored by when to forget them
-- ARGV[1]  op: "reserve" | "settle" | "status"
-- ARGV[2]  now in ms (tests only; "" = the server's clock, so skewed sidecars agree)
-- ARGV[3]  reservation id ("" for status)
-- ARGV[4]  window end in ms ("" = never: no expiry)     ARGV[5] grace after the end, ms
-- reserve: ARGV[6] limit, ARGV[7] amount, ARGV[8] ttl ms -> {ok 0|1, used, reserved}
--          (error "SETTLED ..." when the id was already settled)
-- settle:  ARGV[6] actual, ARGV[7] how long a settled id is remembered, ms
--          -> {applied 0|1, used, reserved}
-- status:  read-only -> {used, reserved}
-- Numbers going back to Redis are formatted with %.0f: Lua would print 14 digits only.
local h, z = KEYS[1], KEYS[2]
local op = ARGV[1]
local now
if ARGV[2] ~= '' then
  now = tonumber(ARGV[2])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local rid = ARGV[3]
local wend = nil
if ARGV[4] ~= '' then wend = tonumber(ARGV[4]) end
local grace = tonumber(ARGV[5])
local function fmt(x) return string.format('%.0f', x) end

local vals = redis.call('HMGET', h, 'used', 'reserved')
local used = tonumber(vals[1] or 0)
local reserved = tonumber(vals[2] or 0)

-- Reservations whose expiry has passed no longer hold anything.
local function expired_amount(release)
  local gone = redis.call('ZRANGEBYSCORE', z, '-inf', fmt(now))
  local freed = 0
  for i = 1, #gone do
    local m = gone[i]
    if string.sub(m, 1, 2) == 'r:' then
      local f = 'a:' .. string.sub(m, 3)
      local a = redis.call('HGET', h, f)
      if a then
        freed = freed + tonumber(a)
        if release then redis.call('HDEL', h, f) end
      end
    end
  end
  if release and #gone > 0 then
    redis.call('ZREMRANGEBYSCORE', z, '-inf', fmt(now))
    if freed ~= 0 then redis.call('HINCRBY', h, 'reserved', fmt(-freed)) end
  end
  return freed
end

-- Both keys expire together, GRACE after the window ends and never before what they hold
-- (the latest score in the set). "never" windows keep no expiry; an emptied set vanishes.
local function expire()
  if wend == nil then return end
  local at = wend + grace
  local top = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
  if top[2] ~= nil and tonumber(top[2]) > at then at = tonumber(top[2]) end
  redis.call('PEXPIREAT', h, fmt(at))
  redis.call('PEXPIREAT', z, fmt(at))
end

if op == 'status' then
  return {used, reserved - expired_amount(false)}
end

reserved = reserved - expired_amount(true)

if op == 'reserve' then
  local limit = tonumber(ARGV[6])
  local amount = tonumber(ARGV[7])
  local ttl = tonumber(ARGV[8])
  if redis.call('ZSCORE', z, 'd:' .. rid) then
    return redis.error_reply('SETTLED reservation ' .. rid .. ' was already settled')
  end
  local ok = 0
  if redis.call('ZSCORE', z, 'r:' .. rid) then
    ok = 1 -- a retried reserve: already holds its amount
  elseif used + reserved + amount <= limit then
    redis.call('HINCRBY', h, 'reserved', fmt(amount))
    redis.call('HSET', h, 'a:' .. rid, fmt(amount))
    redis.call('ZADD', z, fmt(now + ttl), 'r:' .. rid)
    reserved = reserved + amount
    ok = 1
  end
  expire()
  return {ok, used, reserved}
end

if op == 'settle' then
  local actual = tonumber(ARGV[6])
  local keep = tonumber(ARGV[7])
  if redis.call('ZSCORE', z, 'd:' .. rid) then
    return {0, used, reserved} -- settled before: nothing to do
  end
  local holds = now
  local score = redis.call('ZSCORE', z, 'r:' .. rid)
  if score then
    local f = 'a:' .. rid
    local a = tonumber(redis.call('HGET', h, f) or 0)
    redis.call('HDEL', h, f)
    redis.call('ZREM', z, 'r:' .. rid)
    if a ~= 0 then redis.call('HINCRBY', h, 'reserved', fmt(-a)) end
    reserved = reserved - a
    if tonumber(score) > holds then holds = tonumber(score) end
  end
  if actual > 0 then used = redis.call('HINCRBY', h, 'used', fmt(actual)) end
  redis.call('ZADD', z, fmt(holds + keep), 'd:' .. rid)
  expire()
  return {1, used, reserved}
end

return redis.error_reply('budget.lua: unknown op ' .. tostring(op))
