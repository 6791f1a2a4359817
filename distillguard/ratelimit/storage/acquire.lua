-- Atomic all-or-nothing admission for distillguard (see distillguard/ratelimit/storage/redis.py).
-- KEYS[1]      lease record key
-- KEYS[2..n+1] demand keys
-- ARGV[1] lease id, ARGV[2] lease lifetime (µs)
-- ARGV[3] the demands, 4 little-endian doubles each (struct '<d'): kind (1 rate, 2 daily,
--         3 concurrency), limit, period (µs), cost
-- Returns {allowed (1/0), server time (µs), then one value per demand: the rate level, the
-- daily count or the concurrency slots in use, after the charge when allowed, before it when
-- refused}. The client derives remaining / reset / retry-after from these with the same
-- arithmetic as distillguard/ratelimit/{gcra,daily,concurrency}.py (integers < 2^53).
--
-- Redis runs this for every request of every gateway process, so it avoids what costs most
-- here (measured with callgrind): parsing and printing numbers. The demands arrive as binary
-- doubles, a rate bucket is stored as two binary doubles (struct '<dd': level, time in µs),
-- every number given to redis.call is formatted once with '%d' (Redis would print it with
-- '%.17g', several times slower), and one MGET reads every bucket and daily counter.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local day = math.floor(now / 86400000000)
local fmt = string.format
local n = #KEYS - 1
if #ARGV[3] ~= 32 * n then
  return redis.error_reply('distillguard acquire: ' .. #ARGV[3] .. ' spec bytes for ' .. n .. ' keys')
end
local spec = {struct.unpack('<' .. string.rep('d', 4 * n), ARGV[3])}

local day_text = fmt('%d', day)
local names = {}  -- the keys to read: rate buckets, and daily counters under today's suffix
local slot = {}   -- demand index -> its position in names
for i = 1, n do
  local kind = spec[4 * i - 3]
  if kind == 1 then
    names[#names + 1] = KEYS[i + 1]
    slot[i] = #names
  elseif kind == 2 then
    names[#names + 1] = KEYS[i + 1] .. ':' .. day_text
    slot[i] = #names
  end
end
local stored = {}
if #names > 0 then stored = redis.call('MGET', unpack(names)) end

local value = {}  -- current value per key (so a key demanded twice is charged twice)
local prior = {}  -- value of each demand's counter before its charge
local out = {1, now}
local now_text = fmt('%d', now)
for i = 1, n do
  local key = KEYS[i + 1]
  local a = 4 * i - 3
  local kind, limit, period, cost = spec[a], spec[a + 1], spec[a + 2], spec[a + 3]
  local cur = value[key]
  if cur == nil then
    if kind == 1 then
      cur = 0
      local s = stored[slot[i]]
      if s and #s == 16 then  -- anything else (not written by this script) is an empty bucket
        local at
        cur, at = struct.unpack('<dd', s)
        local elapsed = now - at
        if elapsed > 0 then
          cur = cur - elapsed * limit
          if cur < 0 then cur = 0 end
        end
      end
    elseif kind == 2 then
      cur = tonumber(stored[slot[i]] or '0')
    else
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now_text)
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

-- '%d' truncates, which is the floor for these positive values: '+ 1' rounds ms up
local lifetime = tonumber(ARGV[2])
local lifetime_ms = fmt('%d', lifetime / 1000 + 1)
local expiry = fmt('%d', now + lifetime)
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
      redis.call('SET', key, struct.pack('<dd', level, now), 'PX', fmt('%d', ttl / 1000 + 1))
    end
  elseif kind == 2 then
    if cost > 0 then
      local dkey = names[slot[i]]
      if redis.call('INCRBY', dkey, fmt('%d', cost)) == cost then
        redis.call('PEXPIREAT', dkey, fmt('%d', (day + 1) * 86400000 + 3600000))
      end
    end
  else
    for j = 1, cost do
      redis.call('ZADD', key, expiry, fmt('%s/%d/%d', lease, i, j))
    end
    redis.call('PEXPIRE', key, lifetime_ms)
  end
end
redis.call('SET', KEYS[1], day_text, 'PX', lifetime_ms)
return out
