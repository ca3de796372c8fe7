#!/bin/sh
# bench_slack.sh BUILD - pmbot against the loopback Slack fake: tag events
# per second (seen messages / messages it must fetch), ack latency at a
# steady 1,000 events/s, pmbot's own CPU time per event and its peak RSS.
# Prints figures; asserts nothing (timing depends on the machine).
. tests/lib.sh
build=${1:-build}
N=${BENCH_EVENTS:-20000}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$bpid/stat"; }
sys_ticks() { awk '{ print $15 }' "/proc/$bpid/stat"; }

start_fake "$build" --redeliver-ms 30000
PMBOT_PLATFORM=slack SLACK_APP_TOKEN=xapp-test SLACK_BOT_TOKEN=xoxb-test \
SLACK_API_URL="http://127.0.0.1:$port/api/" PMBOT_DB="$dir/bench.db" \
PMBOT_LOG_LEVEL=error "$build/pmbot" run >"$dir/pmbot.log" 2>&1 &
bpid=$!
until_true 10 '.connections == 1' || { echo "bench: pmbot did not connect"; exit 1; }
ctl slash '{"command":"/incident","text":"start Bench","user_id":"U1","channel_id":"CGEN"}' >/dev/null
day=$(date -u +%Y%m%d)
until_true 10 ".channels[] | select(.name == \"inc-$day-bench\")" >/dev/null
chan=$(state | jq -r ".channels[] | select(.name == \"inc-$day-bench\") | .id")
hz=$(getconf CLK_TCK)

# messages N DELIVER: N messages in the incident channel; pmbot sees
# them as they are posted when DELIVER is true
messages() {
    make_messages "$1" "$2" "bench " "$chan"
    until_true 120 '.unacked | length == 0' >/dev/null
}

# run NAME EXTRA: push N reactions, wait for every ack, print the figures
run() {
    ctl reset_log '{}' >/dev/null
    t0=$(cpu_ticks)
    k0=$(sys_ticks)
    react_all "$chan" U6 "$2" "$N"
    until_count 300 ".acks >= $N" >/dev/null
    t1=$(cpu_ticks)
    k1=$(sys_ticks)
    state >"$dir/state.json"
    tagged=$(sqlite3 "$dir/bench.db" "select count(*) from timeline where kind = 'tagged'")
    jq -r --arg name "$1" --argjson n "$N" --argjson cpu "$((t1 - t0))" \
        --arg tagged "$tagged" --argjson sys "$((k1 - k0))" \
        --argjson hz "$hz" '
        (.delivered | map({(.envelope_id): .t_us}) | add) as $d
        | ([.acks[] | (.t_us - $d[.envelope_id]) / 1000] | sort) as $lat
        | (((.acks | map(.t_us) | max) - (.delivered | map(.t_us) | min)) / 1000) as $span
        | "\($name): \($n) events in \($span | floor) ms = \(($n * 1000 / $span) | floor) events/s; ack latency p50 \($lat[($lat | length) / 2 | floor] * 1000 | round / 1000) ms, p99 \($lat[($lat | length) * 99 / 100 | floor] * 1000 | round / 1000) ms; pmbot CPU \(($cpu / $hz * 1000000 / $n) | floor) us/event (\(($sys / $hz * 1000000 / $n) | floor) in the kernel); \([.calls[] | select(.method == "conversations.history")] | length) history calls; \($tagged) tagged entries in the database"
        ' "$dir/state.json"
}

messages "$N" true
run "tags on messages pmbot has seen" ""
messages "$N" false
run "tags on messages pmbot must fetch" ""
messages 1000 true
N=5000
run "steady 1,000 events/s (seen)" ',"per_second":1000'
echo "pmbot peak RSS: $(awk '/VmHWM/ { print $2 " " $3 }' "/proc/$bpid/status")"
