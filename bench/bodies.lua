-- wrk script of bench/run.py: POSTs the request bodies of a file, one per line, each once.
--
--   wrk -t T -c C -d D -s bench/bodies.lua URL -- BODIES_FILE T [ACTION]
--
-- Thread i (of T) sends the lines i, i+T, i+2T, ... in order, so the threads' slices are disjoint
-- and the whole file is sent in about its own order. A thread that reaches the end of its slice
-- starts it again and counts a wrap (bench/run.py reports those requests as replays).
-- done() prints one line "BENCH_JSON {...}" with the figures bench/run.py reads.

wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["SOAPAction"] = '"http://cp.gov.tw/gsp2/VerifyTOTPCode"'

local threads = {}

-- wrk calls setup() and then init() of each thread before it sets up the next one, so the
-- number of threads comes as an argument (it must equal -t).
function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local path, nthreads = args[1], tonumber(args[2])
   if args[3] then  -- the body's operation (default VerifyTOTPCode)
      wrk.headers["SOAPAction"] = '"http://cp.gov.tw/gsp2/' .. args[3] .. '"'
   end
   reqs, sent, wraps = {}, 0, 0
   local line_no = 0
   for line in io.lines(path) do
      if line_no % nthreads == id and #line > 0 then
         reqs[#reqs + 1] = wrk.format(nil, nil, nil, line)
      end
      line_no = line_no + 1
   end
   n = #reqs
   if n == 0 then
      error("no request bodies for thread " .. id .. " in " .. path)
   end
end

function request()
   sent = sent + 1
   if sent > n then
      sent, wraps = 1, wraps + 1
   end
   return reqs[sent]
end

function done(summary, latency, requests)
   local wrapped, bodies = 0, 0
   for _, t in ipairs(threads) do
      local w, s, k = t:get("wraps"), t:get("sent"), t:get("n")
      bodies = bodies + k
      wrapped = wrapped + (w > 0 and (w - 1) * k + s or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
      '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
      '"mean_us": %.1f, "bodies": %d, "replayed": %d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, bodies, wrapped))
end
