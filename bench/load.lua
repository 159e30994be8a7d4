-- load.lua - POST the people of an NDJSON file, one per request:
--   wrk -t T -c C -d LONG -s load.lua URL -- FILE T
-- Thread i of T takes lines i, i+T, ...; parents (father_id, mother_id) are
-- dropped, as concurrent writers could send a child before its parent.
-- Once a thread has sent its lines it asks for /healthz, which writes
-- nothing; bench/lib.sh stops wrk when the node has written them all.
local threads = 0
local lines = {}
local next_line = 1
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
  local nthreads = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    if n % nthreads == tid and #line > 0 then
      line = line:gsub(',"father_id":"%d+"', ""):gsub(',"mother_id":"%d+"', "")
      lines[#lines + 1] = line
    end
    n = n + 1
  end
end

function request()
  local line = lines[next_line]
  if line == nil then
    return wrk.format("GET", "/healthz")
  end
  next_line = next_line + 1
  return wrk.format("POST", "/api/v1/people?cause=bench-load", headers, line)
end
