-- Atomic all-or-nothing admission for distillguard (see distillguard/ratelimit/storage/redis.py).
-- KEYS[1]      lease record key
-- KEYS[2..n+1] demand keys
-- ARGV[1] lease id, ARGV[2] lease lifetime (µs), ARGV[3] concurrency retry hint (µs)
-- ARGV[4] one line per demand: "kind limit period cost", kind r (rate), d (daily) or
--         c (concurrency), period in µs (one argument instead of four per demand: the
--         client encodes far fewer arguments)
-- Returns {allowed (1/0), blocking demand index (0 = none), then per demand:
--          remaining, reset (µs), retry_after (µs; -1 = never, -2 = not blocking)}
-- Arithmetic mirrors distillguard/ratelimit/{gcra,daily,concurrency}.py exactly (integers < 2^53).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local DAY = 86400000000
local day = math.floor(now / DAY)
local midnight = (day + 1) * DAY - now
local lease = ARGV[1]
local lifetime = tonumber(ARGV[2])
local hint = tonumber(ARGV[3])
local n = #KEYS - 1
local fmt = string.format
local K, L, P, C = {}, {}, {}, {}
for kind, limit, period, cost in string.gmatch(ARGV[4], '(%a) (%d+) (%d+) (%d+)') do
  K[#K + 1] = kind
  L[#L + 1] = tonumber(limit)
  P[#P + 1] = tonumber(period)
  C[#C + 1] = tonumber(cost)
end
if #K ~= n then
  return redis.error_reply('distillguard acquire: ' .. #K .. ' demand specs for ' .. n .. ' keys')
end

local level = {}   -- current value per key: rate level, daily count, concurrency slots used
local result = {}  -- per demand: remaining, reset, retry when charged
local fits = true

local function load(kind, key, limit)
  if kind == 'r' then
    local s = redis.call('GET', key)
    if not s then return 0 end
    local sp = string.find(s, ' ', 1, true)
    local lv = tonumber(string.sub(s, 1, sp - 1))
    local elapsed = now - tonumber(string.sub(s, sp + 1))
    if elapsed > 0 then lv = lv - elapsed * limit end
    if lv < 0 then return 0 end
    return lv
  elseif kind == 'd' then
    return tonumber(redis.call('GET', key .. ':' .. day) or '0')
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  return redis.call('ZCARD', key)
end

local function view(kind, cur, limit, period)
  -- remaining and reset (µs) of a counter at value cur
  if kind == 'r' then
    local left = math.floor((limit * period - cur) / period)
    local reset = 0
    if limit > 0 then reset = math.ceil(cur / limit) end
    if left < 0 then left = 0 end
    return left, reset
  elseif kind == 'd' then
    local left = limit - cur
    if left < 0 then left = 0 end
    if cur > 0 then return left, midnight end
    return left, 0
  end
  local left = limit - cur
  if left < 0 then left = 0 end
  return left, 0
end

-- Pass 1: charge every demand in a scratch table; stop at nothing so that a refusal can
-- report every counter, but write nothing unless all fit.
local charged = {}
for i = 1, n do
  local key = KEYS[i + 1]
  local kind, limit, period, cost = K[i], L[i], P[i], C[i]
  local cur = level[key]
  if cur == nil then
    cur = load(kind, key, limit)
    level[key] = cur
  end
  local new, ok
  if kind == 'r' then
    new = cur + cost * period
    ok = new <= limit * period
  else
    new = cur + cost
    ok = new <= limit
  end
  if ok then
    level[key] = new
    charged[i] = new
  else
    fits = false
    charged[i] = false
  end
end

local out = {0, 0}
local worst = -2
for i = 1, n do
  local key = KEYS[i + 1]
  local kind, limit, period, cost = K[i], L[i], P[i], C[i]
  local new = charged[i]
  local left, reset
  local retry = -2
  if fits then
    left, reset = view(kind, new, limit, period)
  else
    local cur = new
    if kind == 'r' then
      if new then cur = new - cost * period end
    elseif new then
      cur = new - cost
    end
    if not new then cur = level[key] end
    left, reset = view(kind, cur, limit, period)
    if not new then
      if cost > limit then
        retry = -1
      elseif kind == 'r' then
        retry = math.ceil((cur + cost * period - limit * period) / limit)
      elseif kind == 'd' then
        retry = midnight
      else
        retry = hint
      end
      if out[2] == 0 or (worst ~= -1 and (retry == -1 or retry > worst)) then
        out[2] = i
        worst = retry
      end
    end
  end
  out[#out + 1] = left
  out[#out + 1] = reset
  out[#out + 1] = retry
end

if not fits then
  return out
end

-- Pass 2: write.
out[1] = 1
local expiry = fmt('%.0f', now + lifetime)
local written = {}
for i = 1, n do
  local key = KEYS[i + 1]
  local kind, limit, period, cost = K[i], L[i], P[i], C[i]
  if kind == 'r' then
    if not written[key] then
      written[key] = true
      local lv = level[key]
      local ttl = period
      if limit > 0 then ttl = lv / limit end
      redis.call('SET', key, fmt('%.0f %.0f', lv, now), 'PX', math.floor(ttl / 1000) + 1)
    end
  elseif kind == 'd' then
    if cost > 0 then
      local dkey = key .. ':' .. day
      if redis.call('INCRBY', dkey, cost) == cost then
        redis.call('PEXPIREAT', dkey, fmt('%.0f', (day + 1) * 86400000 + 3600000))
      end
    end
  else
    for j = 1, cost do
      redis.call('ZADD', key, expiry, lease .. '/' .. i .. '/' .. j)
    end
    redis.call('PEXPIRE', key, math.floor(lifetime / 1000) + 1)
  end
end
redis.call('SET', KEYS[1], day, 'PX', math.floor(lifetime / 1000) + 1)
return out
