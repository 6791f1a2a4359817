-- End a lease for distillguard (see distillguard/ratelimit/storage/redis.py). Idempotent:
-- the lease record is deleted by the first settle; later ones find nothing and return 0.
-- KEYS[1]      lease record key (its value is the UTC day the lease was charged on)
-- KEYS[2..n+1] keys of the demands that need work
-- ARGV[1] lease id
-- ARGV[2] JSON array, 6 numbers per demand: kind (1 rate, 2 daily, 3 concurrency), index of
--         the demand in the lease, limit, period (µs), cost charged, delta (real cost minus
--         charged; ignored for concurrency, whose slots are released)
local day = redis.call('GET', KEYS[1])
if not day then return 0 end
redis.call('DEL', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lease = ARGV[1]
local spec = cjson.decode(ARGV[2])
local fmt = string.format
for i = 1, #KEYS - 1 do
  local key = KEYS[i + 1]
  local a = 6 * i - 5
  local kind, index, limit = spec[a], spec[a + 1], spec[a + 2]
  local period, cost, delta = spec[a + 3], spec[a + 4], spec[a + 5]
  if kind == 3 then
    for j = 1, cost do
      redis.call('ZREM', key, lease .. '/' .. index .. '/' .. j)
    end
  elseif kind == 1 then
    local level = 0
    local s = redis.call('GET', key)
    if s then
      local sp = string.find(s, ' ', 1, true)
      level = tonumber(string.sub(s, 1, sp - 1))
      local elapsed = now - tonumber(string.sub(s, sp + 1))
      if elapsed > 0 then level = level - elapsed * limit end
      if level < 0 then level = 0 end
    end
    level = level + delta * period
    if level <= 0 then
      redis.call('DEL', key)
    else
      local ttl = period
      if limit > 0 then ttl = level / limit end
      redis.call('SET', key, fmt('%.0f %.0f', level, now), 'PX', math.floor(ttl / 1000) + 1)
    end
  else
    local dkey = key .. ':' .. day
    if redis.call('EXISTS', dkey) == 1 then
      if redis.call('INCRBY', dkey, delta) < 0 then
        redis.call('SET', dkey, 0, 'KEEPTTL')
      end
    end
  end
end
return 1
