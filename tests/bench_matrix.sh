#!/bin/sh
# bench_matrix.sh BUILD - pmbot against a real Synapse on loopback
# (tests/synapse.sh): 📌 events per second through the homeserver, live
# (a human client reacting as fast as it can, pmbot syncing alongside) and
# caught up (the reactions made while pmbot was stopped: the limited /sync
# gap back-filled), and pmbot's own CPU time per event from
# /proc/PID/stat. Prints figures; asserts nothing (Synapse is the
# bottleneck, and timing depends on the machine).
. tests/lib.sh
. tests/synapse.sh
build=${1:-build}
N=${BENCH_EVENTS:-1000}
unset PMBOT_PLATFORM SLACK_APP_TOKEN SLACK_BOT_TOKEN PMBOT_FAULT PMBOT_NOW \
    PMBOT_RESPONDERS MATRIX_PASSWORD MATRIX_ALLOW_INVITES_FROM
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; cleanup' EXIT
trap 'exit 1' INT TERM HUP

mx() { python3 tests/mx.py "$@"; }
db() { sqlite3 -cmd '.timeout 5000' "$dir/bench.db" "$1"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$bpid/stat"; }
now_ms() { date +%s%3N; }
# until_sql SECONDS SQL: poll until SQL prints 1
until_sql() {
    end=$(($(date +%s) + $1))
    until [ "$(db "$2")" = 1 ]; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.2
    done
}
until_tagged() { # until_tagged COUNT SECONDS
    until_sql "$2" "select count(*) >= $1 from timeline where kind = 'tagged' and text like 'b%'"
}
start_pmbot() {
    PMBOT_DB="$dir/bench.db" PMBOT_LISTEN=127.0.0.1:0 PMBOT_LOG_LEVEL=error \
    MATRIX_HOMESERVER="$hs" MATRIX_ACCESS_TOKEN="$BT" \
        "$build/pmbot" run </dev/null >>"$dir/pmbot.log" 2>&1 &
    bpid=$!
}

synapse_install build && synapse_start build || { echo "bench: Synapse did not start"; exit 1; }
export MX_HS=$hs
BT=$(synapse_register pmbot pmbot-pw)
A=$(synapse_register alice alice-pw)
gen=$(mx create "$A" --name general --invite @pmbot:localhost)
start_pmbot
mx wait-member "$A" "$gen" @pmbot:localhost join --timeout 20 >/dev/null ||
    { echo "bench: pmbot did not join"; exit 1; }
mx send "$A" "$gen" '!incident start Bench' >/dev/null
day=$(date -u +%Y%m%d)
inc=$(mx wait-invite "$A" --name "^inc-$day-bench" --timeout 20) ||
    { echo "bench: no incident room"; exit 1; }
mx join "$A" "$inc" >/dev/null
hz=$(getconf CLK_TCK)
echo "Synapse $("$SYNAPSE_VENV/bin/python" -c 'import synapse; print(synapse.__version__)'), $N 📌 per run"

# report NAME T0_MS TICKS0
report() {
    ms=$(($(now_ms) - $2))
    ticks=$(($(cpu_ticks) - $3))
    awk -v name="$1" -v n="$N" -v ms="$ms" -v t="$ticks" -v hz="$hz" 'BEGIN {
        printf "%-34s %7.0f events/s   pmbot CPU %6.1f us/event\n",
            name, n * 1000 / (ms > 0 ? ms : 1), t * 1e6 / hz / n }'
}

# live: pmbot syncs while alice reacts, one client, kept-alive connection
mx send-many "$A" "$inc" "$N" b1- >"$dir/live.txt"
until_sql 120 "select count(*) >= $N from messages where text like 'b1-%'" ||
    echo "bench: pmbot did not see all the messages"
t0=$(now_ms)
c0=$(cpu_ticks)
mx react-many "$A" "$inc" '📌' <"$dir/live.txt" >/dev/null
sent=$(($(now_ms) - t0))
until_tagged "$N" 300 || echo "bench: live run incomplete"
report "live (alice reacting, $((N * 1000 / (sent > 0 ? sent : 1)))/s offered)" "$t0" "$c0"

# caught up: the reactions wait in Synapse while pmbot is stopped
kill "$bpid"
wait "$bpid"
mx send-many "$A" "$inc" "$N" b2- >"$dir/gap.txt"
mx react-many "$A" "$inc" '📌' <"$dir/gap.txt" >/dev/null
start_pmbot
t0=$(now_ms)
c0=$(cpu_ticks)
until_tagged $((2 * N)) 300 || echo "bench: catch-up run incomplete"
report "caught up (limited gap, back-filled)" "$t0" "$c0"
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$bpid/status")
echo "pmbot peak RSS ${rss} kB"
