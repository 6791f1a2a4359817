-- End a lease for distillguard (see distillguard/ratelimit/storage/redis.py). Idempotent:
-- the lease record is deleted by the first settle; later ones find nothing and return 0.
-- KEYS[1]      lease record key (its value is the UTC day the lease was charged on)
-- KEYS[2..n+1] demand keys that need work
-- ARGV[1] lease id, ARGV[2] one line per demand: "kind index limit period cost delta" with
--         the demand's index in the lease, period in µs, the cost charged and delta = real
--         cost - charged (ignored for concurrency)
local day = redis.call('GET', KEYS[1])
if not day then return 0 end
redis.call('DEL', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lease = ARGV[1]
local fmt = string.format
local i = 1
for kind, index, limit, period, cost, delta in
    string.gmatch(ARGV[2], '(%a) (%d+) (%d+) (%d+) (%d+) (%-?%d+)') do
  i = i + 1
  local key = KEYS[i]
  limit, period = tonumber(limit), tonumber(period)
  cost, delta = tonumber(cost), tonumber(delta)
  if kind == 'c' then
    for j = 1, cost do
      redis.call('ZREM', key, lease .. '/' .. index .. '/' .. j)
    end
  elseif kind == 'r' then
    local lv = 0
    local s = redis.call('GET', key)
    if s then
      local sp = string.find(s, ' ', 1, true)
      lv = tonumber(string.sub(s, 1, sp - 1))
      local elapsed = now - tonumber(string.sub(s, sp + 1))
      if elapsed > 0 then lv = lv - elapsed * limit end
      if lv < 0 then lv = 0 end
    end
    lv = lv + delta * period
    if lv <= 0 then
      redis.call('DEL', key)
    else
      local ttl = period
      if limit > 0 then ttl = lv / limit end
      redis.call('SET', key, fmt('%.0f %.0f', lv, now), 'PX', math.floor(ttl / 1000) + 1)
    end
  elseif kind == 'd' then
    local dkey = key .. ':' .. day
    if redis.call('EXISTS', dkey) == 1 then
      if redis.call('INCRBY', dkey, delta) < 0 then
        redis.call('SET', dkey, 0, 'KEEPTTL')
      end
    end
  end
end
return 1
