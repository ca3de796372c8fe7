#!/bin/sh
# bench_slack.sh BUILD - pmbot against the loopback Slack fake: tag events
# per second (seen messages / messages it must fetch), ack latency at a
# steady 1,000 events/s, pmbot's own CPU time per event and its peak RSS.
# Prints figures; asserts nothing (timing depends on the machine).
build=${1:-build}
dir=$(mktemp -d)
fpid=
bpid=
cleanup() {
    [ -n "$bpid" ] && kill "$bpid" 2>/dev/null
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
N=${BENCH_EVENTS:-20000}

ctl() {
    curl -s -X POST "http://127.0.0.1:$port/_control/$1" \
        -H 'Content-Type: application/json' -d "$2"
}
state() { curl -s "http://127.0.0.1:$port/_control/state"; }
until_true() {
    end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        state | jq -e "$2" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
counts() { curl -s "http://127.0.0.1:$port/_control/counts"; }
until_count() { # until_count SECONDS JQ: like until_true, on the light counts
    end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        counts | jq -e "$2" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$bpid/stat"; }
sys_ticks() { awk '{ print $15 }' "/proc/$bpid/stat"; }

"$build/fake_slack" --port 0 --redeliver-ms 30000 >"$dir/fake.out" &
fpid=$!
for _ in $(seq 100); do
    port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$dir/fake.out")
    [ -n "$port" ] && break
    sleep 0.05
done
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

# make_messages N DELIVER: N messages in the incident channel, their ts
make_messages() {
    : >"$dir/msgs.cfg"
    for i in $(seq "$1"); do
        [ -s "$dir/msgs.cfg" ] && echo next >>"$dir/msgs.cfg"
    printf 'url = "http://127.0.0.1:%s/_control/message"\ndata = "{\\"channel\\":\\"%s\\",\\"user\\":\\"U5\\",\\"text\\":\\"bench %s\\",\\"deliver\\":%s}"\nheader = "Content-Type: application/json"\n' \
            "$port" "$chan" "$i" "$2" >>"$dir/msgs.cfg"
    done
    curl -s -K "$dir/msgs.cfg" | jq -r .ts >"$dir/ts.txt"
    until_true 120 '.unacked | length == 0' >/dev/null
}

# run NAME EXTRA: push N reactions, wait for every ack, print the figures
run() {
    ctl reset_log '{}' >/dev/null
    t0=$(cpu_ticks)
    k0=$(sys_ticks)
    # the ts list is too long for an argument: send it from a file
    jq -R . "$dir/ts.txt" | jq -sc --arg c "$chan" --argjson n "$N" \
        "{channel: \$c, ts_list: ., user: \"U6\", reaction: \"pushpin\", count: \$n$2}" \
        >"$dir/reactions.json"
    ctl reactions "@$dir/reactions.json" >/dev/null
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

make_messages "$N" true
run "tags on messages pmbot has seen" ""
make_messages "$N" false
run "tags on messages pmbot must fetch" ""
make_messages 1000 true
N=5000
run "steady 1,000 events/s (seen)" ',"per_second":1000'
echo "pmbot peak RSS: $(awk '/VmHWM/ { print $2 " " $3 }' "/proc/$bpid/status")"
