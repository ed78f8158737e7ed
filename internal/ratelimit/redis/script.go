package redis

import "github.com/redis/rueidis"

// gcraScript is package ratelimit's GCRA step (internal/gcra.Step) in Lua,
// in microseconds of Redis's clock. It must stay step for step the same; the
// conformance suite holds both to one contract.
//
//	KEYS[1]  the bucket
//	ARGV[1]  emission interval, µs (≥ 1)
//	ARGV[2]  tolerance: burst × interval, µs
//	ARGV[3]  cost (≥ 0; 0 looks as for cost 1 and charges nothing)
//	ARGV[4]  burst
//
// It returns {allowed (0/1), remaining, retry after (µs; -1 never), reset
// after (µs)}. The stored TAT is an integer number of µs since the Unix
// epoch; anything else there reads as an empty key.
var gcraScript = rueidis.NewLuaScript(`
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local function remaining(x)
  return math.floor(math.max(tolerance - (x - now), 0) / interval)
end
if cost > burst then
  return {0, remaining(tat), -1, tat - now}
end
local n = cost
if n == 0 then n = 1 end
local nxt = tat + n * interval
if nxt - now > tolerance then
  return {0, remaining(tat), nxt - tolerance - now, tat - now}
end
if cost == 0 then
  return {1, remaining(tat), 0, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, remaining(nxt), 0, nxt - now}
`)
