-- post.lua - register a new person per request (one durable change each):
--   wrk ... -s post.lua URL -- RUN
-- Each (run, thread) pair owns one (sex digit, birth year) pair of the
-- personal ID and counts up the last six digits, so no two requests of a
-- node ever name the same person and none conflicts.
local threads = 0
local counter = 0
local yy, sexd = 0, 0
-- wrk.format uses wrk.headers (wrk -H: the account's token) only when
-- given no table, so they are copied into this one before the first request.
local headers = { ["Content-Type"] = "application/json" }
local function with_wrk_headers()
  for name, value in pairs(wrk.headers) do
    if headers[name] == nil then
      headers[name] = value
    end
  end
end

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  with_wrk_headers()
  local combo = tonumber(args[1] or "0") * 64 + tid
  sexd = combo % 2
  yy = 10 + math.floor(combo / 2) % 90
end

function request()
  counter = counter + 1
  local id = string.format("001%d%02d%06d", sexd, yy, counter % 1000000)
  local body = string.format('{"id":"%s","full_name":"Nguyễn Văn Thử","birth_date":"19%02d-01-15",'
    .. '"sex":"%s","ethnicity":"01","nationality":"VN","status":"alive"}',
    id, yy, sexd == 0 and "male" or "female")
  return wrk.format("POST", "/api/v1/people?cause=bench-write", headers, body)
end
