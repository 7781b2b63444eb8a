-- One atomic read of a room's counter, epoch and stream entries from <seq>-1 on (RedisHistory.swift).
local seq = redis.call('GET', KEYS[1])
local epoch = redis.call('GET', KEYS[2])
local entries = redis.call('XRANGE', KEYS[3], ARGV[1] .. '-1', '+')
return {seq or '0', epoch or '', entries}
