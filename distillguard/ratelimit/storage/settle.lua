-- End a lease for distillguard (see distillguard/ratelimit/storage/redis.py). Idempotent:
-- the lease record is deleted by the first settle; later ones find nothing and return 0.
-- KEYS[1]      lease record key (its value is the UTC day the lease was charged on)
-- KEYS[2..n+1] keys of the demands that need work
-- ARGV[1] lease id
-- ARGV[2] 6 little-endian doubles per demand (struct '<d'): kind (1 rate, 2 daily,
--         3 concurrency), index of the demand in the lease, limit, period (µs), cost charged,
--         delta (real cost minus charged; ignored for concurrency, whose slots are released)
-- Formats as in acquire.lua: rate buckets are struct '<dd' (level, time in µs), numbers given
-- to redis.call are formatted with '%d'.
local day = redis.call('GET', KEYS[1])
if not day then return 0 end
redis.call('DEL', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lease = ARGV[1]
local n = #KEYS - 1
if #ARGV[2] ~= 48 * n then
  return redis.error_reply('distillguard settle: ' .. #ARGV[2] .. ' spec bytes for ' .. n .. ' keys')
end
local spec = {struct.unpack('<' .. string.rep('d', 6 * n), ARGV[2])}
local fmt = string.format
for i = 1, n do
  local key = KEYS[i + 1]
  local a = 6 * i - 5
  local kind, index, limit = spec[a], spec[a + 1], spec[a + 2]
  local period, cost, delta = spec[a + 3], spec[a + 4], spec[a + 5]
  if kind == 3 then
    for j = 1, cost do
      redis.call('ZREM', key, fmt('%s/%d/%d', lease, index, j))
    end
  elseif kind == 1 then
    local level = 0
    local s = redis.call('GET', key)
    if s and #s == 16 then
      local at
      level, at = struct.unpack('<dd', s)
      local elapsed = now - at
      if elapsed > 0 then level = level - elapsed * limit end
      if level < 0 then level = 0 end
    end
    level = level + delta * period
    if level <= 0 then
      redis.call('DEL', key)
    else
      local ttl = period
      if limit > 0 then ttl = level / limit end
      redis.call('SET', key, struct.pack('<dd', level, now), 'PX', fmt('%d', ttl / 1000 + 1))
    end
  else
    local dkey = key .. ':' .. day
    if redis.call('EXISTS', dkey) == 1 then
      if redis.call('INCRBY', dkey, fmt('%d', delta)) < 0 then
        redis.call('SET', dkey, '0', 'KEEPTTL')
      end
    end
  end
end
return 1
