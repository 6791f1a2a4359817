-- Atomic all-or-nothing admission for distillguard (see distillguard/ratelimit/storage/redis.py).
-- KEYS[1]      lease record key
-- KEYS[2..n+1] demand keys
-- ARGV[1] lease id, ARGV[2] lease lifetime (µs)
-- ARGV[3] JSON array, 4 numbers per demand: kind (1 rate, 2 daily, 3 concurrency), limit,
--         period (µs), cost (cjson decodes it several times faster than Lua patterns)
-- Returns {allowed (1/0), server time (µs), then one value per demand: the rate level, the
-- daily count or the concurrency slots in use, after the charge when allowed, before it when
-- refused}. The client derives remaining / reset / retry-after from these with the same
-- arithmetic as distillguard/ratelimit/{gcra,daily,concurrency}.py (integers < 2^53).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local DAY = 86400000000
local day = math.floor(now / DAY)
local spec = cjson.decode(ARGV[3])
local n = #KEYS - 1
if #spec ~= 4 * n then
  return redis.error_reply('distillguard acquire: ' .. #spec .. ' spec values for ' .. n .. ' keys')
end

local value = {}  -- current value per key (so a key demanded twice is charged twice)
local prior = {}  -- value of each demand's counter before its charge
local out = {1, now}
for i = 1, n do
  local key = KEYS[i + 1]
  local a = 4 * i - 3
  local kind, limit, period, cost = spec[a], spec[a + 1], spec[a + 2], spec[a + 3]
  local cur = value[key]
  if cur == nil then
    if kind == 1 then
      cur = 0
      local s = redis.call('GET', key)
      if s then
        local sp = string.find(s, ' ', 1, true)
        cur = tonumber(string.sub(s, 1, sp - 1))
        local elapsed = now - tonumber(string.sub(s, sp + 1))
        if elapsed > 0 then
          cur = cur - elapsed * limit
          if cur < 0 then cur = 0 end
        end
      end
    elseif kind == 2 then
      cur = tonumber(redis.call('GET', key .. ':' .. day) or '0')
    else
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
      cur = redis.call('ZCARD', key)
    end
  end
  prior[i] = cur
  local new
  local fits
  if kind == 1 then
    new = cur + cost * period
    fits = new <= limit * period
  else
    new = cur + cost
    fits = new <= limit
  end
  if fits then
    value[key] = new
    out[i + 2] = new
  else
    out[1] = 0
  end
end

if out[1] == 0 then
  -- refused: report every counter as it was, uncharged
  for i = 1, n do
    out[i + 2] = prior[i]
  end
  return out
end

local fmt = string.format
local lifetime = tonumber(ARGV[2])
local lifetime_ms = math.floor(lifetime / 1000) + 1
local expiry = fmt('%.0f', now + lifetime)
local lease = ARGV[1]
local written = {}
for i = 1, n do
  local key = KEYS[i + 1]
  local a = 4 * i - 3
  local kind, limit, cost = spec[a], spec[a + 1], spec[a + 3]
  if kind == 1 then
    if not written[key] then
      written[key] = true
      local level = value[key]
      local ttl = spec[a + 2]
      if limit > 0 then ttl = level / limit end
      redis.call('SET', key, fmt('%.0f %.0f', level, now), 'PX', math.floor(ttl / 1000) + 1)
    end
  elseif kind == 2 then
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
    redis.call('PEXPIRE', key, lifetime_ms)
  end
end
redis.call('SET', KEYS[1], day, 'PX', lifetime_ms)
return out
