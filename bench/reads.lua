-- reads.lua - GET a random person per request:
--   wrk ... -s reads.lua URL -- IDS_FILE [PREFIX] [HEADER: VALUE]...
-- The requests are formatted once in init, so that wrk spends its time on
-- I/O; the same script drives lienthong and nginx.
local reqs = {}

function init(args)
  local prefix = args[2] or "/api/v1/people/"
  -- wrk.format uses wrk.headers (wrk -H) only when given no table: start
  -- from them, then add the headers given as arguments.
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  for i = 3, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    if name then
      headers[name] = value
    end
  end
  for line in io.lines(args[1]) do
    if #line > 0 then
      reqs[#reqs + 1] = wrk.format("GET", prefix .. line, headers)
    end
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  return reqs[math.random(#reqs)]
end
