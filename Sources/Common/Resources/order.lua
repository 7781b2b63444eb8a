local epochs = {}
for i = 6, #ARGV, 3 do
  local k = tonumber(ARGV[i]) * 3
  local seq = redis.call('INCR', KEYS[k + 1])
  local epoch = epochs[k]
  if not epoch then
    epoch = redis.call('GET', KEYS[k + 2])
    if seq == 1 or not epoch then
      epoch = ARGV[2]
      redis.call('SET', KEYS[k + 2], epoch)
      redis.call('DEL', KEYS[k + 3])
    end
    redis.call('EXPIRE', KEYS[k + 1], 86400)
    redis.call('EXPIRE', KEYS[k + 2], 86400)
    epochs[k] = epoch
  end
  local body = ARGV[i + 2] .. ',"seq":' .. seq .. ',"epoch":"' .. epoch .. '"}'
  if tonumber(ARGV[3]) > 0 then
    redis.call('XADD', KEYS[k + 3], 'MAXLEN', ARGV[3], seq .. '-1', 't', ARGV[5], 'e', body)
    redis.call('EXPIRE', KEYS[k + 3], ARGV[4])
  end
  redis.call('PUBLISH', ARGV[1], ARGV[i + 1] .. '\n' .. seq .. '\n' .. epoch .. '\n' .. body)
end
return 1
