# lib.sh - what the end-to-end scripts and the benchmarks share. Sourcing
# it makes a scratch directory $dir, removed at exit (kept when KEEP is
# set) after stopping the pmbot ($bpid) and the fake ($fpid) still running.
# The fake Slack helpers need $port once start_fake has run.

dir=$(mktemp -d)
fpid=
bpid=
cleanup() {
    [ -n "$bpid" ] && kill "$bpid" 2>/dev/null
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null
    wait 2>/dev/null
    [ -n "$KEEP" ] || rm -rf "$dir"
}
trap cleanup EXIT
fails=0
ok() { echo "ok - $1"; }
fail() { echo "not ok - $1"; fails=$((fails + 1)); }
# check NAME COMMAND...: ok when the command succeeds
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name"; fi
}

# start_fake BUILD [ARGS...]: the loopback Slack fake; sets $port, $fpid
start_fake() {
    fbuild=$1
    shift
    "$fbuild/fake_slack" --port 0 "$@" >"$dir/fake.out" 2>"$dir/fake.err" &
    fpid=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$dir/fake.out")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    return 1
}

# listen_port LOG: the port pmbot's listener reported in its log
listen_port() {
    for _ in $(seq 100); do
        p=$(sed -n 's/.*webhook: listening on 127.0.0.1:\([0-9]*\)$/\1/p' \
            "$1" | tail -n 1)
        [ -n "$p" ] && { echo "$p"; return 0; }
        sleep 0.05
    done
    return 1
}

# start [ENV...]: pmbot run ($pmbot, with $dir/pmbot.conf and
# PMBOT_WEBHOOK_TOKEN=$TOKEN) in the background; sets $bpid, and $port and
# $url of its listener once it says where it listens
start() {
    : >"$dir/err"
    env PMBOT_WEBHOOK_TOKEN=$TOKEN "$@" "$pmbot" run -c "$dir/pmbot.conf" \
        </dev/null >>"$dir/out" 2>"$dir/err" &
    bpid=$!
    port=$(listen_port "$dir/err")
    url="http://127.0.0.1:$port"
}

# ctl PATH JSON: a control call to the fake ("@file" sends a file)
ctl() {
    curl -s -X POST "http://127.0.0.1:$port/_control/$1" \
        -H 'Content-Type: application/json' -d "$2"
}
state() { curl -s "http://127.0.0.1:$port/_control/state"; }
counts() { curl -s "http://127.0.0.1:$port/_control/counts"; }

# until_true SECONDS JQ: poll the fake's state until the jq test holds;
# until_count does the same on the light counts, for benchmarks, and
# seldom: each poll starts processes that would steal the measured CPU
poll() {
    end=$(($(date +%s) + $2))
    while [ "$(date +%s)" -le "$end" ]; do
        $1 | jq -e "$3" >/dev/null 2>&1 && return 0
        sleep "$4"
    done
    return 1
}
until_true() { poll state "$1" "$2" 0.05; }
until_count() { poll counts "$1" "$2" 1; }

# make_messages N DELIVER PREFIX CHANNEL: N messages from the fake's users
# in CHANNEL, in one curl run over a kept-alive connection; their ts go to
# $dir/ts.txt
make_messages() {
    awk -v n="$1" -v deliver="$2" -v prefix="$3" -v chan="$4" \
        -v url="http://127.0.0.1:$port/_control/message" 'BEGIN {
        for (i = 1; i <= n; i++) {
            if (i > 1) print "next"
            print "url = \"" url "\""
            printf "data = \"{\\\"channel\\\":\\\"%s\\\",\\\"user\\\":\\\"U5\\\",\\\"text\\\":\\\"%s%d\\\",\\\"deliver\\\":%s}\"\n", chan, prefix, i, deliver
            print "header = \"Content-Type: application/json\""
        }
    }' >"$dir/msgs.cfg"
    curl -s -K "$dir/msgs.cfg" | jq -r .ts >"$dir/ts.txt"
}

# react_all CHANNEL USER [EXTRA JSON [COUNT]]: COUNT pushpins (default:
# one per ts in $dir/ts.txt, cycling), sent by the fake in bulk (the list
# goes through a file: it is long)
react_all() {
    n=${4:-$(wc -l <"$dir/ts.txt")}
    jq -R . "$dir/ts.txt" | jq -sc --arg c "$1" --arg u "$2" --argjson n "$n" \
        "{channel: \$c, ts_list: ., user: \$u, reaction: \"pushpin\", count: \$n${3:-}}" \
        >"$dir/reactions.json"
    ctl reactions "@$dir/reactions.json" >/dev/null
}
