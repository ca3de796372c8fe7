#!/bin/sh
# bench_webhook.sh BUILD - sustained authenticated webhook requests per
# second (duplicate firings over keep-alive connections), with the Slack
# fake as the platform. Prints figures; asserts nothing.
. tests/lib.sh
build=${1:-build}
N=${BENCH_REQUESTS:-20000}
TOKEN=bench-token

start_fake "$build"
PMBOT_PLATFORM=slack SLACK_APP_TOKEN=xapp-test SLACK_BOT_TOKEN=xoxb-test \
SLACK_API_URL="http://127.0.0.1:$port/api/" PMBOT_DB="$dir/bench.db" \
PMBOT_WEBHOOK_TOKEN=$TOKEN PMBOT_LISTEN=127.0.0.1:0 PMBOT_LOG_LEVEL=info \
    "$build/pmbot" run </dev/null >/dev/null 2>"$dir/pmbot.log" &
bpid=$!
hport=$(listen_port "$dir/pmbot.log")
url="http://127.0.0.1:$hport/hooks/generic"
curl -s -o /dev/null -X POST "$url" -H "Authorization: Bearer $TOKEN" \
    -d '{"title":"Bench alarm","severity":2,"dedup_key":"bench-1"}'

# N duplicate firings, 32 at a time, over reused connections
awk -v n="$N" -v url="$url" -v tok="$TOKEN" 'BEGIN {
    for (i = 0; i < n; i++) {
        if (i) print "next"
        print "url = \"" url "\""
        print "data = \"{\\\"title\\\":\\\"Bench alarm\\\",\\\"dedup_key\\\":\\\"bench-1\\\"}\""
        print "header = \"Authorization: Bearer " tok "\""
        print "header = \"Content-Type: application/json\""
        print "output = \"/dev/null\""
        print "write-out = \"%{http_code}\\n\""
    }
}' >"$dir/reqs.cfg"
t0=$(awk '{ print $14 + $15 }' "/proc/$bpid/stat")
s0=$(date +%s%N)
# --parallel-immediate: a connection each, as independent senders open
# them (the listener answers one request per connection, and curl would
# otherwise wait to reuse one)
curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max 32 -K "$dir/reqs.cfg" >"$dir/codes.txt" 2>/dev/null
s1=$(date +%s%N)
t1=$(awk '{ print $14 + $15 }' "/proc/$bpid/stat")
ms=$(((s1 - s0) / 1000000))
good=$(grep -c '^200$' "$dir/codes.txt")
hz=$(getconf CLK_TCK)
entries=$(sqlite3 "$dir/bench.db" "select count(*) from timeline where text like 'Alarm fired again%'")
echo "webhook duplicate firings: $N requests in $ms ms = $((N * 1000 / (ms ? ms : 1))) requests/s ($good answered 200, $entries timeline entries committed); pmbot CPU $(( (t1 - t0) * 1000000 / hz / N )) us/request (the load generator shares the 2 cores)"

# alarm to channel: from the moment an alarm is sent to the moment the
# fake Slack receives conversations.create for it (pmbot's own share: the
# fake answers at once). Sent over one keep-alive connection, one at a time.
python3 - "$hport" "$TOKEN" "$port" <<'PY'
import http.client, json, sys, time
hport, token, fport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", hport)
f = http.client.HTTPConnection("127.0.0.1", fport)
def state():
    f.request("GET", "/_control/state")
    return json.loads(f.getresponse().read())
sent = []
for i in range(200):
    body = json.dumps({"title": "Latency %d" % i, "severity": 3,
                       "dedup_key": "lat-%d" % i})
    t = time.time_ns() // 1000
    c.request("POST", "/hooks/generic", body,
              {"Authorization": "Bearer " + token,
               "Content-Type": "application/json"})
    c.getresponse().read()
    sent.append(t)
    time.sleep(0.005)  # pacing between alarms, not a synchronisation
time.sleep(1)
s = state()
t0 = s["t0_epoch_us"]
creates = [x for x in s["calls"] if x["method"] == "conversations.create"
           and x["args"].get("name", "").startswith("inc-") and
           "latency-" in x["args"]["name"]]
lat = {}
for x in creates:
    n = int(x["args"]["name"].rsplit("latency-", 1)[1].split("-")[0])
    lat.setdefault(n, (t0 + x["t_us"] - sent[n]) / 1000.0)
v = sorted(lat.values())
if v:
    print("alarm to conversations.create: %d alarms, p50 %.3f ms, p99 %.3f ms"
          % (len(v), v[len(v) // 2], v[min(len(v) - 1, len(v) * 99 // 100)]))
PY
echo "pmbot peak RSS: $(awk '/VmHWM/ { print $2 " " $3 }' "/proc/$bpid/status")"
