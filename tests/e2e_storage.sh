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
# healthz: "<status> <body>" of GET /healthz on pmbot's listener ($wport)
healthz() {
    code=$(curl -s -o "$dir/hz" -w '%{http_code}' "http://127.0.0.1:$wport/healthz")
    echo "$code $(cat "$dir/hz")"
}
until_healthz() { # until_healthz SECONDS PATTERN
    end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        healthz | grep -q -- "$2" && return 0
        sleep 0.1
    done
    return 1
}
refusals() { grep -c 'event not acknowledged' "$dir/pmbot.log"; }
until_refused() { # until_refused N: more than N refusals logged
    end=$(($(date +%s) + 10))
    while [ "$(date +%s)" -le "$end" ]; do
        [ "$(refusals)" -gt "$1" ] && return 0
        sleep 0.05
    done
    return 1
}
acked() { until_true "${2:-10}" "[.acks[].envelope_id] | index(\"$1\") != null"; }
not_acked() { ! state | jq -e "[.acks[].envelope_id] | index(\"$1\") != null" >/dev/null; }
pin() { # pin CHANNEL TS: a 📌 by U8; prints its envelope id
    ctl reaction "{\"channel\":\"$1\",\"ts\":\"$2\",\"user\":\"U8\",\"reaction\":\"pushpin\"}" | jq -r .envelope_id
}
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

# 3. the database moved away under the daemon, then back
wport=$(listen_port "$dir/pmbot.log")
check "/healthz is 200 while all is well" until_healthz 5 '^200 '
ts=$(head -n 1 "$dir/ts.txt")
mv "$dir/pmbot.db" "$dir/pmbot.db.away"
check "/healthz is 503 once the database file is gone" \
    until_healthz 5 '^503 .*database file was deleted'
r=$(refusals)
e=$(pin "$chan" "$ts")
check "a 📌 meanwhile is refused" until_refused "$r"
check "and not acknowledged" not_acked "$e"
check "nothing made a new database at its path" [ ! -e "$dir/pmbot.db" ]
alarm() { # alarm TITLE: the status of a generic alarm, body in $dir/ab
    curl -s -o "$dir/ab" -w '%{http_code}' -X POST \
        "http://127.0.0.1:$wport/hooks/generic" -d "{\"title\":\"$1\"}"
}
check "an alarm meanwhile is answered 503, not 2xx" [ "$(alarm 'Lost alarm')" = 503 ]
check "saying why" grep -q 'database file was deleted' "$dir/ab"
mv "$dir/pmbot.db.away" "$dir/pmbot.db"
check "/healthz is 200 again once it is back" until_healthz 5 '^200 '
check "then the sender's retry is taken" [ "$(alarm 'Lost alarm')" = 201 ]
check "once" [ "$(sqlite3 "$dir/pmbot.db" "select count(*) from incidents where title = 'Lost alarm'")" = 1 ]
check "the 📌 is acknowledged when Slack redelivers it" acked "$e" 10
check "the change was logged once each way" \
    sh -c "[ \$(grep -c 'database file was deleted: events are not' '$dir/pmbot.log') -eq 1 ] &&
           grep -q 'storage healthy again' '$dir/pmbot.log'"

kill "$bpid"
wait "$bpid"
bpid=

# 4. the read-only commands never create a database
for c in "report 1" "actions"; do
    PMBOT_DB="$dir/typo.db" "$pmbot" $c >/dev/null 2>"$dir/err"
    check "pmbot $c with a wrong PMBOT_DB exits 2" [ $? -eq 2 ]
    check "and says: no database at that path" \
        grep -qx "pmbot: database: no database at $dir/typo.db" "$dir/err"
    check "and creates nothing" [ ! -e "$dir/typo.db" ]
done
PMBOT_DB="$dir/typo.db" "$pmbot" check-config >/dev/null 2>&1
check "nor does check-config" [ ! -e "$dir/typo.db" ]

# 5. a database on a read-only filesystem can be read
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

# 6. a full disk (a 3 MB tmpfs), then space again; then the file deleted
mnt="$dir/small"
mkdir "$mnt"
if mount -t tmpfs -o size=3m tmpfs "$mnt"; then
    : >"$dir/pmbot.log"
    start_pmbot PMBOT_DB="$mnt/pmbot.db"
    wport=$(listen_port "$dir/pmbot.log")
    until_true 10 '.connections == 1' >/dev/null
    ctl slash '{"command":"/incident","text":"start Full","user_id":"U1","channel_id":"CGEN"}' >/dev/null
    until_true 10 ".channels[] | select(.name == \"inc-$day-full\")" >/dev/null
    full=$(state | jq -r ".channels[] | select(.name == \"inc-$day-full\") | .id")
    ts=$(ctl message "{\"channel\":\"$full\",\"user\":\"U2\",\"text\":\"disk at 99%\"}" | jq -r .ts)
    e=$(pin "$full" "$ts")
    check "on a small disk, a 📌 is acknowledged" acked "$e"
    dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null
    check "/healthz is 503 with the disk full" \
        until_healthz 5 '^503 .*disk full'
    r=$(refusals)
    e=$(pin "$full" "$ts")
    check "a 📌 meanwhile is refused" until_refused "$r"
    check "and not acknowledged" not_acked "$e"
    rm "$mnt/fill"
    check "/healthz is 200 again once space is freed" until_healthz 5 '^200 '
    check "the 📌 is acknowledged when Slack redelivers it" acked "$e" 10
    e=$(pin "$full" "$ts")
    check "and new events are acknowledged again" acked "$e"
    # a commit that finds no room (16 KiB left, an empty -wal, a burst)
    sqlite3 "$mnt/pmbot.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
    dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null
    truncate -s -16K "$mnt/fill"
    check "/healthz is 200 with 16 KiB free" until_healthz 5 '^200 '
    make_messages 300 false "burst " "$full"
    ctl reset_log '{}' >/dev/null
    react_all "$full" U9 "" 300
    check "/healthz is 503 when a commit fails for space" \
        until_healthz 10 '^503 .*disk full'
    check "SQLite's write did fail for space" \
        grep -q 'database or disk is full' "$dir/pmbot.log"
    rm "$mnt/fill"
    check "/healthz is 200 again once space is freed" until_healthz 5 '^200 '
    check "all 300 📌s are acknowledged in the end" until_count 20 '.acks >= 300 and .unacked == 0'
    check "and recorded once each" \
        [ "$(sqlite3 "$mnt/pmbot.db" "select count(*) from timeline_taggers where user = 'U9'")" -eq 300 ]
    check "the 📌s were recorded" \
        [ "$(sqlite3 "$mnt/pmbot.db" "select count(*) from timeline_taggers")" -ge 1 ]
    rm "$mnt/pmbot.db"
    check "/healthz is 503 once the database file is deleted" \
        until_healthz 5 '^503 .*database file was deleted'
    r=$(refusals)
    e=$(pin "$full" "$ts")
    check "a 📌 into a deleted database is refused" until_refused "$r"
    check "and not acknowledged" not_acked "$e"
    kill "$bpid"
    wait "$bpid"
    bpid=
    umount "$mnt" && mnt=
else
    fail "mount a 3 MB tmpfs (needs root)"
fi

# 7. pruning, on a clock fixed at 2026-06-01 12:00 UTC
pdb="$dir/prune.db"
PMBOT_DB="$pdb" "$pmbot" shell </dev/null >/dev/null 2>&1
now=$(($(date -u -d 2026-06-01T12:00:00Z +%s) * 1000))
day=86400000
sqlite3 "$pdb" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
INSERT INTO processed_events SELECT 'slack', 'Old' || i, $now - 4 * $day FROM n;
INSERT INTO processed_events VALUES ('slack', 'Fresh', $now - 2 * $day);
INSERT INTO incidents (id, title, severity, state, platform, channel,
    declared_at, resolved_at) VALUES
    (1, 'cold', 2, 'resolved', 'slack', 'CCOLD', $now - 40 * $day, $now - 31 * $day),
    (2, 'warm', 2, 'resolved', 'slack', 'CWARM', $now - 40 * $day, $now - 29 * $day),
    (3, 'open', 2, 'open', 'slack', 'COPEN', $now - 40 * $day, NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700)
INSERT INTO messages SELECT 'slack', 'CCOLD', i || '.0', 'U1', 'old chat', NULL, 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5)
INSERT INTO messages SELECT 'slack', r.c, i || '.0', 'U1', 'recent chat', NULL, 1
    FROM n, (SELECT 'CWARM' AS c UNION ALL SELECT 'COPEN') r;
SQL
PMBOT_NOW=2026-06-01T12:00:00Z PMBOT_DB="$pdb" PMBOT_LISTEN=127.0.0.1:0 \
    "$pmbot" run </dev/null >"$dir/prune.log" 2>&1 &
bpid=$!
pruned() {
    [ "$(sqlite3 "$pdb" "select (select count(*) from processed_events) || ' ' || (select count(*) from messages)")" = "1 10" ]
}
until_pruned() {
    end=$(($(date +%s) + 20))
    while [ "$(date +%s)" -le "$end" ]; do
        pruned && return 0
        sleep 0.1
    done
    return 1
}
check "the daemon prunes 1,200 old event ids and 700 cached messages" until_pruned
check "an event id of 2 days ago stays (dedupe_days = 3)" \
    [ "$(sqlite3 "$pdb" "select event_id from processed_events")" = Fresh ]
check "the messages of an incident resolved 29 days ago and of an open one stay" \
    [ "$(sqlite3 "$pdb" "select group_concat(r, ' ') from (select room || count(*) as r from messages group by room order by room)")" = "COPEN5 CWARM5" ]
kill "$bpid"
wait "$bpid"
bpid=
[ "$fails" -eq 0 ]
