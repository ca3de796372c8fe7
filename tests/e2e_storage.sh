#!/bin/sh
# e2e_storage.sh PMBOT - the storage under a running pmbot and the loopback
# Slack fake (tests/fake_slack.c), all on 127.0.0.1: the -wal file stays
# under its bound while a steady stream of 📌 events is committed one by
# one. Prints ok / not ok lines.
. tests/lib.sh
pmbot=$1
build=$(dirname "$pmbot")
WAL_LIMIT=$((8 * 1024 * 1024)) # STORE_WAL_LIMIT in include/store.h

db() { sqlite3 "$dir/pmbot.db" "$1"; }
start_pmbot() { # start_pmbot [ENV...]
    env PMBOT_PLATFORM=slack SLACK_APP_TOKEN=xapp-test \
        SLACK_BOT_TOKEN=xoxb-test SLACK_API_URL="http://127.0.0.1:$port/api/" \
        PMBOT_DB="$dir/pmbot.db" PMBOT_LISTEN=127.0.0.1:0 \
        PMBOT_LOG_LEVEL=info "$@" "$pmbot" run >>"$dir/pmbot.log" 2>&1 &
    bpid=$!
}
filesize() { stat -c %s "$1" 2>/dev/null || echo 0; }
mnt=
trap '[ -n "$mnt" ] && umount "$mnt"; cleanup' EXIT

start_fake "$build" --redeliver-ms 2000
check "the fake Slack listens on loopback" [ -n "$port" ]
[ -n "$port" ] || exit 1
start_pmbot
check "pmbot connects over Socket Mode" until_true 10 '.connections == 1'
ctl slash '{"command":"/incident","text":"start Storage","user_id":"U1","channel_id":"CGEN"}' >/dev/null
day=$(date -u +%Y%m%d)
check "an incident channel is opened" \
    until_true 10 ".channels[] | select(.name == \"inc-$day-storage\")"
chan=$(state | jq -r ".channels[] | select(.name == \"inc-$day-storage\") | .id")

# 1. a steady 500 📌/s, each its own commit: the -wal file stays bounded
# (it grew by every page written, 13.8 KB an event, 41 MB here)
N=3000
make_messages 300 true "steady " "$chan"
until_true 30 '.unacked | length == 0' >/dev/null
ctl reset_log '{}' >/dev/null
react_all "$chan" U6 ',"per_second":500' "$N"
walmax=0
end=$(($(date +%s) + 60))
while [ "$(date +%s)" -le "$end" ]; do
    w=$(filesize "$dir/pmbot.db-wal")
    [ "$w" -gt "$walmax" ] && walmax=$w
    counts | jq -e ".acks >= $N" >/dev/null && break
    sleep 0.1
done
check "a steady stream of $N events is acked" until_count 5 ".acks >= $N"
check "the -wal file stayed under 8 MiB all along (max $walmax bytes)" \
    [ "$walmax" -gt 0 -a "$walmax" -lt "$WAL_LIMIT" ]

# 2. one daemon per database; readers beside it
timeout 20 env PMBOT_DB="$dir/pmbot.db" PMBOT_LISTEN=127.0.0.1:0 "$pmbot" run \
    </dev/null >/dev/null 2>"$dir/second.err"
check "a second daemon on the same database exits 2" [ $? -eq 2 ]
check "it says which pmbot holds the database" \
    grep -q "in use by another pmbot (pid $bpid)" "$dir/second.err"
check "pmbot report works beside the daemon" \
    sh -c "PMBOT_DB='$dir/pmbot.db' '$pmbot' report 1 | grep -q 'Storage'"
check "pmbot actions works beside the daemon" \
    sh -c "PMBOT_DB='$dir/pmbot.db' '$pmbot' actions | grep -q 'No open follow-up actions'"

kill "$bpid"
wait "$bpid"
bpid=

# 3. the read-only commands never create a database
for c in "report 1" "actions"; do
    PMBOT_DB="$dir/typo.db" "$pmbot" $c >/dev/null 2>"$dir/err"
    check "pmbot $c with a wrong PMBOT_DB exits 2" [ $? -eq 2 ]
    check "and says: no database at that path" \
        grep -qx "pmbot: database: no database at $dir/typo.db" "$dir/err"
    check "and creates nothing" [ ! -e "$dir/typo.db" ]
done
PMBOT_DB="$dir/typo.db" "$pmbot" check-config >/dev/null 2>&1
check "nor does check-config" [ ! -e "$dir/typo.db" ]

# 4. a database on a read-only filesystem can be read
mnt="$dir/ro"
mkdir "$mnt"
if mount -t tmpfs -o size=64m tmpfs "$mnt"; then
    cp "$dir/pmbot.db" "$mnt/pmbot.db"
    mount -o remount,ro "$mnt"
    PMBOT_DB="$mnt/pmbot.db" "$pmbot" report 1 >"$dir/ro.md" 2>"$dir/err"
    check "pmbot report reads a database on a read-only filesystem" \
        grep -q Storage "$dir/ro.md"
    check "pmbot actions too" \
        sh -c "PMBOT_DB='$mnt/pmbot.db' '$pmbot' actions >/dev/null"
    umount "$mnt" && mnt=
else
    fail "mount a tmpfs for the read-only filesystem (needs root)"
fi
[ "$fails" -eq 0 ]
