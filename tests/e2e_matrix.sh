#!/bin/sh
# e2e_matrix.sh PMBOT - the real pmbot against a real Synapse (one for the
# whole suite, tests/synapse.sh, on 127.0.0.1), driven by human users
# through the client API (tests/mx.py): invites from allowed and
# disallowed users, an encrypted room warned about once; a whole incident
# from !incident start to !pm report (room, alias, privacy, topic,
# responders, pin, no @room ping, the m.file downloaded); 📌 on seen and
# unseen messages, with U+FE0F, two taggers, edits (the author's and
# another's), redactions, an untag after a restart; a limited /sync gap
# of 150 messages; kill -9 in the middle of 300 📌; a crash after a send
# (no reply twice) and no command run twice across restarts; a DM
# reminder answered in place and the DM reused; an alarm opening a room;
# the blameless review in a thread; HTML escaped in formatted_body; a
# 1/s rate limit (429s, each reply once, in order); the homeserver hung
# and down; Slack and Matrix in one process; a bad token; a password
# login stored and not repeated. Prints ok / not ok lines. Synapse that
# cannot be installed or started is a failure, never a skip.
. tests/lib.sh
. tests/synapse.sh
pmbot=$1
build=$(dirname "$pmbot")
unset PMBOT_PLATFORM PMBOT_ALARM_PLATFORM SLACK_APP_TOKEN SLACK_BOT_TOKEN \
    SLACK_API_URL PMBOT_NOW PMBOT_FAULT PMBOT_WEBHOOK_TOKEN PMBOT_RESPONDERS \
    PMBOT_DEFAULT_COMMANDER PMBOT_ADMINS PMBOT_REVIEW_CHANNEL \
    PMBOT_PUBLISH_CHANNEL MATRIX_HOMESERVER MATRIX_ACCESS_TOKEN \
    MATRIX_USER_ID MATRIX_PASSWORD MATRIX_ALLOW_INVITES_FROM
TOKEN=wh-matrix-token
spid=
lpid=
mx_cleanup() {
    if [ -n "$spid" ]; then
        kill -CONT "$spid" 2>/dev/null
        kill "$spid" 2>/dev/null
    fi
    [ -n "$lpid" ] && kill "$lpid" 2>/dev/null
    cleanup
}
trap mx_cleanup EXIT
trap "exit 1" INT TERM HUP

mx() { python3 tests/mx.py "$@"; }
mxq() { python3 tests/mx.py "$@" >/dev/null; }
# hs_flush: Synapse writes its log 10 lines at a time (or every 5 s):
# 12 marked requests, and once the last is in the file, so is all before
hs_flush() {
    f=$(date +%s%N)
    for i in $(seq 12); do echo "url = \"$hs/_matrix/client/versions?flush=$f-$i\""; done |
        curl -s -K - >/dev/null
    until_grep 10 "flush=$f-12" "$hslog"
}
db() { sqlite3 -cmd '.timeout 5000' "${DB:-$dir/pmbot.db}" "$1"; }
# until_ok SECONDS COMMAND...: poll the command until it succeeds
until_ok() {
    end=$(($(date +%s) + $1))
    shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
# until_db SECONDS EXPECTED SQL: poll the database until SQL prints EXPECTED
until_db() {
    end=$(($(date +%s) + $1))
    while :; do
        got=$(db "$3" 2>/dev/null)
        [ "$got" = "$2" ] && return 0
        if [ "$(date +%s)" -ge "$end" ]; then
            echo "# wanted '$2', got '$got' from: $3"
            return 1
        fi
        sleep 0.1
    done
}
# until_grep SECONDS PATTERN FILE [FROM LINE]
until_grep() {
    end=$(($(date +%s) + $1))
    while :; do
        tail -n +"${4:-1}" "$3" | grep -q -- "$2" && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
lines() { wc -l <"$1" | tr -d ' '; }
# since_mark FILE MARK: the lines of FILE after line MARK
since_mark() { tail -n +"$(($2 + 1))" "$1"; }
tagged() { # tagged MSG_ID: "text|at|author" of its tagged entry
    db "select text || '|' || at || '|' || author from timeline
        where kind = 'tagged' and msg_id = '$1'"
}
tagged_text() { db "select text from timeline where kind = 'tagged' and msg_id = '$1'"; }
ts_of() { mx event "$A" "$1" "$2" | jq -r .origin_server_ts; }

# 0. Synapse, once for the suite
if ! synapse_install build; then
    fail "Synapse installs into build/synapse-venv"
    exit 1
fi
if ! synapse_start build; then
    fail "Synapse starts on 127.0.0.1"
    tail -n 20 "$dir/synapse/out.log" 2>/dev/null | sed 's/^/# /'
    exit 1
fi
ok "Synapse runs on $hs"
export MX_HS=$hs
hslog=$dir/synapse/homeserver.log
BT=$(synapse_register pmbot pmbot-pw)
A=$(synapse_register alice alice-pw)
B=$(synapse_register bob bob-pw)
E=$(synapse_register eve eve-pw)
synapse_register pmbot2 pmbot2-pw >/dev/null
check "the bot and three humans are registered" \
    sh -c "for t in '$BT' '$A' '$B' '$E'; do case \$t in syt_*) ;; *) exit 1;; esac; done"
case $BT in syt_*) ;; *) exit 1 ;; esac
[ -f "$hslog" ] || hslog=$(find "$dir/synapse" -name '*.log' ! -name out.log | head -n 1)
day=$(date -u +%Y%m%d)

# pmbot on Matrix alone, with the bot's token (more env after)
log=$dir/pmbot.log
: >"$log"
start_pmbot() {
    mark=$(lines "$log")
    env PMBOT_DB="$dir/pmbot.db" PMBOT_LISTEN=127.0.0.1:0 PMBOT_LOG_LEVEL=info \
        PMBOT_WEBHOOK_TOKEN=$TOKEN PMBOT_RESPONDERS=@bob:localhost \
        MATRIX_HOMESERVER="$hs" MATRIX_ACCESS_TOKEN="$BT" \
        MATRIX_USER_ID=@pmbot:localhost \
        MATRIX_ALLOW_INVITES_FROM=@alice:localhost,@bob:localhost \
        "$@" "$pmbot" run </dev/null >>"$log" 2>&1 &
    bpid=$!
}
synced() { until_grep "${1:-20}" 'matrix: syncing as @pmbot:localhost' "$log" "$((mark + 1))"; }
stop_pmbot() {
    kill "$bpid"
    wait "$bpid"
    rc=$?
    bpid=
    return $rc
}

# 8. invites: one waiting before the first start, one from an allowed
# user, one from a disallowed user
lobby=$(mx create "$B" --name lobby --invite @pmbot:localhost)
start_pmbot
if ! synced; then
    fail "pmbot starts and syncs as @pmbot:localhost"
    sed 's/^/# /' "$log" | tail -n 20
    exit 1
fi
ok "pmbot starts and syncs as @pmbot:localhost"
check "an invite waiting before the first start is accepted" \
    mxq wait-member "$B" "$lobby" @pmbot:localhost join --timeout 10
gen=$(mx create "$A" --name general --invite @pmbot:localhost)
check "an invite from an allowed user (alice) is accepted" \
    mxq wait-member "$A" "$gen" @pmbot:localhost join --timeout 10
evil=$(mx create "$E" --name evil --invite @pmbot:localhost)
check "an invite from a disallowed user (eve) is rejected" \
    mxq wait-member "$E" "$evil" @pmbot:localhost leave --timeout 10
check "with one info line naming the inviter" \
    sh -c "[ \$(grep -c '^.*matrix: .*@eve:localhost' '$log') -eq 1 ]"

# 8b. an encrypted room (as Element makes DMs): pmbot cannot read it and
# says so once, not once per event
enc=$(mx create "$A" --name secret --encrypted --invite @pmbot:localhost)
mxq wait-member "$A" "$enc" @pmbot:localhost join --timeout 10
megolm='{"algorithm":"m.megolm.v1.aes-sha2","ciphertext":"AwgAEnACgAkL","sender_key":"c2VuZGVy","session_id":"c2Vzc2lvbg","device_id":"ALICEDEV"}'
mx send-raw "$A" "$enc" m.room.encrypted "$megolm" >/dev/null
mx send-raw "$A" "$enc" m.room.encrypted "$megolm" >/dev/null
cmd=$(mx send "$A" "$enc" '!pm help')
mxq wait-notice "$A" "$enc" '!pm action' --after "$cmd" --timeout 10
check "an encrypted room is named in one warning for two encrypted events" \
    [ "$(grep -c "matrix: .*$enc.* encrypted" "$log")" = 1 ]

# 1. a whole incident, declared in alice's room, with @room in the title
cmd=$(mx send "$A" "$gen" '!incident start Disk full @room')
check "!incident start is answered in the room, as a notice" \
    mxq wait-notice "$A" "$gen" 'INC-1' --after "$cmd" --timeout 15
inc=$(mx wait-invite "$A" --name "^inc-$day-disk" --timeout 15)
check "alice (the commander) is invited to an incident room" [ -n "$inc" ]
mx join "$A" "$inc" >/dev/null
rname=$(mx state "$A" "$inc" m.room.name | jq -r .name)
check "it is named like Slack's channel ($rname)" \
    [ "$rname" = "inc-$day-disk-full-room" ]
check "its alias #$rname:localhost resolves to it" \
    [ "$(mx alias "$A" "#$rname:localhost")" = "$inc" ]
check "it is private: join_rule invite" \
    [ "$(mx state "$A" "$inc" m.room.join_rules | jq -r .join_rule)" = invite ]
check "its history is shared with members" \
    [ "$(mx state "$A" "$inc" m.room.history_visibility | jq -r .history_visibility)" = shared ]
check "the topic is set" \
    until_ok 10 sh -c "python3 tests/mx.py state '$A' '$inc' m.room.topic | jq -e '.topic | contains(\"Disk full\")'"
check "the responder bob is invited" \
    mxq wait-member "$A" "$inc" @bob:localhost invite --timeout 10
mx join "$B" "$inc" >/dev/null
check "the summary is pinned" \
    until_ok 10 sh -c "python3 tests/mx.py state '$A' '$inc' m.room.pinned_events | jq -e '.pinned | length == 1'"
pin=$(mx state "$A" "$inc" m.room.pinned_events | jq -r '.pinned[0]')
check "the pinned event is the bot's summary notice" \
    sh -c "python3 tests/mx.py event '$A' '$inc' '$pin' | jq -e '.sender == \"@pmbot:localhost\" and .content.msgtype == \"m.notice\" and (.content.body | contains(\"INC-1\"))' >/dev/null"
check "the incident records the room" \
    [ "$(db "select platform || ' ' || channel from incidents where id = 1")" = "matrix $inc" ]
cmd=$(mx send "$A" "$inc" '!incident status')
check "!incident status answers in the incident room" \
    mxq wait-notice "$A" "$inc" 'Status: open' --after "$cmd" --timeout 10
cmd=$(mx send "$A" "$inc" '!pm action Clean the logs @alice:localhost 2027-01-15')
check "!pm action adds ACT-1 for a Matrix user" \
    mxq wait-notice "$A" "$inc" 'ACT-1 added' --after "$cmd" --timeout 10
cmd=$(mx send "$A" "$inc" '!pm action Rotate the disks @alice:localhost 2027-01-20')
mx wait-notice "$A" "$inc" 'ACT-2 added' --after "$cmd" --timeout 10 >/dev/null
check "both are assigned to @alice:localhost" \
    [ "$(db "select group_concat(assignee, ' ') from actions")" = "@alice:localhost @alice:localhost" ]
cmd=$(mx send "$A" "$gen" '!pm help')
check "!pm help answers" mxq wait-notice "$A" "$gen" '!pm action' --after "$cmd" --timeout 10

# 2. 📌 on a message pmbot has seen, also with U+FE0F
m1=$(mx send "$B" "$inc" 'db cpu at 100%')
check "pmbot keeps the messages it sees" \
    until_db 10 1 "select count(*) from messages where msg_id = '$m1'"
mx react "$A" "$inc" "$m1" '📌' >/dev/null
check "a 📌 tags a seen message, at its origin_server_ts, by its author" \
    until_db 10 "db cpu at 100%|$(ts_of "$inc" "$m1")|@bob:localhost" \
    "select text || '|' || at || '|' || author from timeline where kind = 'tagged' and msg_id = '$m1'"
m2=$(mx send "$B" "$inc" 'disk at 97%')
mx react "$A" "$inc" "$m2" "$(printf '\360\237\223\214\357\270\217')" >/dev/null
check "a 📌 with U+FE0F tags too" until_db 10 'disk at 97%' \
    "select text from timeline where kind = 'tagged' and msg_id = '$m2'"

# 4. two taggers: one untags, the entry stays; the second, it goes
m3=$(mx send "$B" "$inc" 'replica lag 30s')
ra=$(mx react "$A" "$inc" "$m3" '📌')
rb=$(mx react "$B" "$inc" "$m3" '📌')
taggers="select count(*) from timeline_taggers g join timeline t on t.id = g.entry_id where t.msg_id = '$m3'"
check "two taggers are recorded" until_db 10 2 "$taggers"
mx redact "$A" "$inc" "$ra" >/dev/null
check "one untag (a redacted reaction) leaves the entry: bob's 📌 remains" \
    until_db 10 "1 @bob:localhost" "select count(*) || ' ' || group_concat(g.user) from timeline_taggers g join timeline t on t.id = g.entry_id where t.msg_id = '$m3'"
check "the entry is still there" [ "$(tagged_text "$m3")" = 'replica lag 30s' ]
mx redact "$B" "$inc" "$rb" >/dev/null
check "the second untag removes it" \
    until_db 10 0 "select count(*) from timeline where msg_id = '$m3'"

# 5. edits and redactions
m4=$(mx send "$A" "$inc" 'rollback started')
mx react "$B" "$inc" "$m4" '📌' >/dev/null
until_db 10 'rollback started' "select text from timeline where msg_id = '$m4'" >/dev/null
mx edit "$A" "$inc" "$m4" 'rollback finished' >/dev/null
check "an edit (m.replace) updates the entry" \
    until_db 10 'rollback finished' "select text from timeline where msg_id = '$m4'"
check "the earlier text is kept as history" \
    [ "$(db "select h.text from timeline_history h join timeline t on t.id = h.entry_id where t.msg_id = '$m4'")" = 'rollback started' ]
mx edit "$B" "$inc" "$m4" 'hijacked by bob' >/dev/null
# a barrier: a later tag in the same room, once it lands, the edit was seen
m5=$(mx send "$B" "$inc" 'barrier after the foreign edit')
mx react "$A" "$inc" "$m5" '📌' >/dev/null
until_db 10 1 "select count(*) from timeline where kind = 'tagged' and msg_id = '$m5'" >/dev/null
check "an edit by another user is ignored" \
    [ "$(tagged_text "$m4")" = 'rollback finished' ]
mx redact "$A" "$inc" "$m4" >/dev/null
check "a redacted message leaves the timeline" \
    until_db 10 0 "select count(*) from timeline where msg_id = '$m4'"

# 3. 📌 on a message pmbot never saw: sent while it was stopped, its /sync
# cursor then moved past it (as after a gap beyond what is kept); and a
# 📌 made before the stop, taken back after the restart
m7=$(mx send "$B" "$inc" 'tagged before the restart')
r7=$(mx react "$A" "$inc" "$m7" '📌')
until_db 10 1 "select count(*) from timeline where kind = 'tagged' and msg_id = '$m7'" >/dev/null
check "pmbot stops cleanly on SIGTERM" stop_pmbot
m6=$(mx send "$B" "$inc" 'never seen by pmbot')
since=$(db "select value from platform_state where platform = 'matrix' and key = 'since'")
check "the /sync cursor is in platform_state" [ -n "$since" ]
next=$(mx sync-next "$BT" "$since")
db "update platform_state set value = '$next' where platform = 'matrix' and key = 'since'"
hsmark=$(lines "$hslog")
mx react "$A" "$inc" "$m6" '📌' >/dev/null
start_pmbot
check "the restart resumes syncing" synced
check "a 📌 on a message never seen tags it, at its own time" \
    until_db 15 "never seen by pmbot|$(ts_of "$inc" "$m6")|@bob:localhost" \
    "select text || '|' || at || '|' || author from timeline where kind = 'tagged' and msg_id = '$m6'"
hs_flush
check "it was fetched with GET /rooms/{id}/event/{id}" \
    sh -c "tail -n +$((hsmark + 1)) '$hslog' | grep -q 'GET /_matrix/client/v3/rooms/[^ ]*/event/[^ ]*${m6#?}'"
mx redact "$A" "$inc" "$r7" >/dev/null
check "a 📌 from before the restart, redacted after it, untags (the reaction is remembered)" \
    until_db 10 0 "select count(*) from timeline where msg_id = '$m7'"

# 6. a limited /sync gap: 150 messages while pmbot is stopped, the 3rd
# tagged; the restart back-fills the gap
stop_pmbot
mx send-many "$B" "$inc" 150 gap >"$dir/gap.txt"
g3=$(sed -n 3p "$dir/gap.txt")
mx react "$A" "$inc" "$g3" '📌' >/dev/null
hsmark=$(lines "$hslog")
start_pmbot
synced >/dev/null
check "after a limited gap, the 📌 on the 3rd of 150 lands" \
    until_db 30 gap3 "select text from timeline where kind = 'tagged' and msg_id = '$g3'"
check "the gap was back-filled: all 150 messages are known" \
    until_db 10 150 "select count(*) from messages where msg_id in ($(sed "s/.*/'&'/" "$dir/gap.txt" | paste -sd, -))"
hs_flush
check "with /messages" \
    sh -c "tail -n +$((hsmark + 1)) '$hslog' | grep -q 'GET /_matrix/client/v3/rooms/[^ ]*/messages'"

# 7. kill -9 while 300 📌 are in flight; the restart tags each exactly once
mx send-many "$B" "$inc" 300 k >"$dir/k.txt"
klist=$(sed "s/.*/'&'/" "$dir/k.txt" | paste -sd, -)
tagged_once() {
    db "select count(*) || ' ' || count(distinct msg_id) from timeline
        where kind = 'tagged' and msg_id in ($klist)"
}
mx react-many "$A" "$inc" '📌' <"$dir/k.txt" >"$dir/kr.txt" &
rpid=$!
until_db 30 1 "select count(*) >= 30 from timeline where kind = 'tagged' and msg_id in ($klist)" >/dev/null
kill -9 "$bpid"
wait "$bpid" 2>/dev/null
bpid=
before=$(tagged_once)
wait "$rpid"
check "all 300 reactions were sent" [ "$(grep -c . "$dir/kr.txt")" = 300 ]
n=${before%% *}
check "pmbot was killed in the middle ($n tagged of 300)" \
    [ "${n:-0}" -ge 30 -a "${n:-0}" -lt 300 ]
start_pmbot
synced >/dev/null
check "after the restart each of the 300 is tagged exactly once" \
    until_db 60 "300 300" "select count(*) || ' ' || count(distinct msg_id) from timeline where kind = 'tagged' and msg_id in ($klist)"
check "with one tagger each" \
    [ "$(db "select count(*) from timeline_taggers g join timeline t on t.id = g.entry_id where t.msg_id in ($klist)")" = 300 ]

# 7b. a crash after a send, before its mark: the restart posts nothing twice
stop_pmbot
start_pmbot PMBOT_FAULT=crash-after-send
synced >/dev/null
cmd=$(mx send "$A" "$inc" '!incident status')
check "pmbot crashes after the send (PMBOT_FAULT=crash-after-send)" \
    until_ok 15 sh -c "! kill -0 $bpid"
wait "$bpid" 2>/dev/null
bpid=
start_pmbot
synced >/dev/null
bar=$(mx send "$A" "$inc" '!pm actions')
mx wait-notice "$A" "$inc" 'Open actions' --after "$bar" --timeout 15 >/dev/null
ncopies=$(mx notices "$A" "$inc" 'Status: open' --after "$cmd")
check "the reply is in the room exactly once, the txnId deduplicates it ($ncopies)" \
    [ "$ncopies" = 1 ]
check "every outbox row is done" \
    until_db 10 0 "select count(*) from outbox where state <> 1"

check "after four restarts and a crash no command ran twice" \
    sh -c "[ \$(python3 tests/mx.py notices '$A' '$gen' 'declared; opening') = 1 ] && [ \$(python3 tests/mx.py notices '$A' '$inc' 'ACT-1 added' --limit 1000) = 1 ] && [ \$(python3 tests/mx.py notices '$A' '$inc' 'ACT-2 added' --limit 1000) = 1 ]"
check "and INC-1 is the only incident so far" [ "$(db "select count(*) from incidents")" = 1 ]

# 1b. the document
cmd=$(mx send "$A" "$inc" '!pm report')
file=$(mx wait-notice "$A" "$inc" . --msgtype m.file --after "$cmd" --timeout 20)
check "!pm report sends an m.file" [ -n "$file" ]
url=$(echo "$file" | jq -r .content.url)
mx download "$A" "$url" >"$dir/report.md"
check "it downloads (authenticated media) as the document" \
    grep -q '## 1. Incident Timeline' "$dir/report.md"
check "with the tagged messages in the timeline" \
    sh -c "grep -q 'db cpu at 100%' '$dir/report.md' && grep -q 'never seen by pmbot' '$dir/report.md' && grep -q 'gap3' '$dir/report.md'"
mx messages "$A" "$inc" --limit 1000 >"$dir/inc.json"
mx messages "$A" "$gen" --limit 200 >"$dir/gen.json"
nopings='[.[] | select(.sender == "@pmbot:localhost" and .type == "m.room.message") | .content]
    | length > 0 and all(has("m.mentions") and (.["m.mentions"].room != true)
      and ((.body // "") | test("@room") | not))'
check "no bot message can ping @room: m.mentions {} and @room broken" \
    sh -c "jq -e '$nopings' '$dir/inc.json' >/dev/null && jq -e '$nopings' '$dir/gen.json' >/dev/null"
check "every bot message is a notice or a file" \
    sh -c "jq -e '[.[] | select(.sender == \"@pmbot:localhost\" and .type == \"m.room.message\") | .content.msgtype] | all(. == \"m.notice\" or . == \"m.file\")' '$dir/inc.json' >/dev/null"

# 9. reminders in a DM, answered in place; the next week's reuses the room
remind() {
    env PMBOT_DB="$dir/pmbot.db" PMBOT_LOG_LEVEL=info MATRIX_HOMESERVER="$hs" \
        MATRIX_ACCESS_TOKEN="$BT" MATRIX_USER_ID=@pmbot:localhost \
        "$pmbot" remind --now "$1" >>"$dir/remind.out" 2>>"$dir/remind.err"
}
check "pmbot remind exits 0" remind 2026-12-07T09:30:00Z
dm_of_alice() { mx account-data "$BT" m.direct 2>/dev/null | jq -r '.["@alice:localhost"][0] // empty'; }
check "the running pmbot opens a DM room, in the bot's m.direct for alice" \
    until_ok 30 sh -c "[ -n \"\$(python3 tests/mx.py account-data '$BT' m.direct 2>/dev/null | jq -r '.[\"@alice:localhost\"][0] // empty')\" ]"
dm=$(dm_of_alice)
check "alice is invited to it as a DM" \
    sh -c "python3 tests/mx.py state '$BT' '$dm' m.room.member @alice:localhost | jq -e '.membership == \"invite\" and .is_direct == true' >/dev/null"
mx join "$A" "$dm" >/dev/null
rem=$(mx wait-notice "$A" "$dm" 'Your open follow-up actions' --msgtype any --timeout 10)
check "the reminder is there" [ -n "$rem" ]
check "as an m.text, which notifies in a DM (a notice would not), without @room" \
    sh -c 'printf "%s" "$1" | jq -e ".content.msgtype == \"m.text\" and .content[\"m.mentions\"].room != true" >/dev/null' _ "$rem"
ans=$(mx send "$A" "$dm" 'done ACT-1')
check "answered in place: done ACT-1 completes it" \
    until_db 15 "done @alice:localhost" "select status || ' ' || completed_by from actions where id = 1"
check "ACT-2 stays open" [ "$(db "select status from actions where id = 2")" = open ]
check "a second pass, the next week, exits 0" remind 2026-12-14T09:30:00Z
check "its reminder reuses the DM room" \
    mxq wait-notice "$A" "$dm" 'Your open follow-up action' --msgtype any --after "$ans" --timeout 10
check "m.direct still holds one room for alice" \
    sh -c "python3 tests/mx.py account-data '$BT' m.direct | jq -e '.[\"@alice:localhost\"] == [\"$dm\"]' >/dev/null"
check "and alice has no other invite" [ -z "$(mx invites "$A")" ]
mx messages "$A" "$dm" --limit 100 >"$dir/dm.json"
check "no DM message can ping @room either" \
    sh -c "jq -e '$nopings' '$dir/dm.json' >/dev/null"

# 10. an alarm opens a Matrix room
hport=$(listen_port "$log")
status=$(curl -s -o "$dir/alarm.out" -w '%{http_code}' -X POST \
    "http://127.0.0.1:$hport/hooks/generic" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary @tests/fixtures/alarms/generic.json)
check "an alarm through the listener: 201" [ "$status" = 201 ]
aroom=$(mx wait-invite "$B" --name "^inc-$day-bridge-paused" --timeout 15)
check "it opens a Matrix room and invites the responder" [ -n "$aroom" ]
mx join "$B" "$aroom" >/dev/null
check "the alarm's details are posted there" \
    mxq wait-notice "$B" "$aroom" 'Guardian paused the bridge' --timeout 10
check "the incident is on Matrix" \
    [ "$(db "select platform || ' ' || channel from incidents where title = 'Bridge paused by guardian'")" = "matrix $aroom" ]

# 10b. the blameless review on Matrix: its questions in a thread under one
# parent notice, the thread's replies are the answers, the room's chatter
# is not
cmd=$(mx send "$A" "$gen" '!incident start Cache stampede')
rv=$(mx wait-invite "$A" --name "^inc-$day-cache-stampede" --timeout 15)
check "an incident to review has its room" [ -n "$rv" ]
mx join "$A" "$rv" >/dev/null
mx join "$B" "$rv" >/dev/null
rinc=$(db "select id from incidents where channel = '$rv'")
cmd=$(mx send "$A" "$rv" '!incident resolve')
mxq wait-notice "$A" "$rv" 'resolved' --after "$cmd" --timeout 10
cmd=$(mx send "$A" "$rv" '!pm start')
parent=$(mx wait-notice "$A" "$rv" 'One question at a time' --after "$cmd" --timeout 10 | jq -r .event_id)
check "the review's parent notice is posted in the room" [ -n "$parent" ]
check "the first question is in its thread (m.thread)" \
    mxq wait-notice "$A" "$rv" 'Question 1 of 5' --thread "$parent" --timeout 10
mx send "$A" "$rv" next --thread "$parent" >/dev/null
check "a reply in the thread steers it" \
    mxq wait-notice "$A" "$rv" 'Question 2 of 5' --thread "$parent" --timeout 10
mx send "$A" "$rv" 'The cache expired for every key at once' --thread "$parent" >/dev/null
check "a reply in the thread answers it" \
    mxq wait-notice "$A" "$rv" 'Question 3 of 5' --thread "$parent" --timeout 10
mx send "$B" "$rv" 'coffee anyone?' >/dev/null
a1=$(mx send "$A" "$rv" 'the breaker held' --thread "$parent")
a2=$(mx send "$B" "$rv" 'the breaker held' --thread "$parent")
check "two people answering are both recorded; the chatter is not" \
    until_db 10 2 "select count(*) from answers where incident_id = $rinc and question = 'worked_well'"
check "each answer gets a ✅ reaction" \
    until_ok 10 sh -c "[ \"\$(python3 tests/mx.py messages '$A' '$rv' --limit 200 | jq '[.[] | select(.type == \"m.reaction\" and .sender == \"@pmbot:localhost\" and (.content[\"m.relates_to\"].event_id == \"$a1\" or .content[\"m.relates_to\"].event_id == \"$a2\"))] | length')\" = 2 ]"
cmd=$(mx send "$A" "$rv" status --thread "$parent")
check "status answers in the thread" \
    mxq wait-notice "$A" "$rv" 'question 3 of 5' --thread "$parent" --after "$cmd" --timeout 10

# 10c. what people type is escaped in formatted_body
cmd=$(mx send "$A" "$gen" '!incident start Escape <b>me</b> & co')
ev=$(mx wait-notice "$A" "$gen" 'declared: Escape' --after "$cmd" --timeout 15)
check "a title's HTML is escaped in formatted_body" \
    sh -c 'printf "%s" "$1" | jq -e ".content.formatted_body | contains(\"Escape &lt;b&gt;me&lt;/b&gt; &amp; co\") and (contains(\"<b>me\") | not)" >/dev/null' _ "$ev"
check "and kept as typed in body" \
    sh -c 'printf "%s" "$1" | jq -e ".content.body | contains(\"Escape <b>me</b> & co\")" >/dev/null' _ "$ev"

# 10d. rate limited: Synapse holds the bot to 1 message a second (an
# admin's override); a burst of replies is retried after retry_after_ms,
# each arrives once and in order
AD=$(synapse_register admin admin-pw admin)
ovr=$hs/_synapse/admin/v1/users/%40pmbot%3Alocalhost/override_ratelimit
curl -fs -X POST -H "Authorization: Bearer $AD" -d '{"messages_per_second":1,"burst_count":1}' "$ovr" >/dev/null
check "an admin limits the bot to 1 message a second" \
    sh -c "curl -fs -H 'Authorization: Bearer $AD' '$ovr' | jq -e '.messages_per_second == 1' >/dev/null"
hsmark=$(lines "$hslog")
first=$(mx send "$A" "$inc" '!pm action rate 1 @alice:localhost 2027-02-01')
for i in 2 3 4 5; do mx send "$A" "$inc" "!pm action rate $i @alice:localhost 2027-02-01" >/dev/null; done
check "all five replies arrive" \
    until_ok 30 sh -c "[ \$(python3 tests/mx.py notices '$A' '$inc' 'rate [1-5]' --after '$first') -ge 5 ]"
check "each once" [ "$(mx notices "$A" "$inc" 'rate [1-5]' --after "$first")" = 5 ]
check "in order" [ "$(mx messages "$A" "$inc" --limit 30 | jq -r '[.[] | select(.sender == "@pmbot:localhost") | .content.body | select(test("rate [1-5]")) | capture("rate (?<n>[1-5])").n] | reverse | join("")')" = 12345 ]
hs_flush
n429=$(tail -n +$((hsmark + 1)) "$hslog" | grep '{@pmbot:localhost}' | grep -c ' 429 "PUT ')
check "the homeserver did answer 429 ($n429 times)" [ "$n429" -ge 1 ]
curl -fs -X DELETE -H "Authorization: Bearer $AD" "$ovr" >/dev/null

# 12. the homeserver hangs (SIGSTOP 5 s), then is down (killed, a port
# that hangs up on every connection), then back: pmbot stays up, does not
# spin, resumes
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
c0=$(cpu "$bpid")
kill -STOP "$spid"
alive=1
end=$(($(date +%s) + 5))
while [ "$(date +%s)" -lt "$end" ]; do # the outage lasts 5 s
    kill -0 "$bpid" 2>/dev/null || alive=0
    sleep 0.2
done
kill -CONT "$spid"
ticks=$(($(cpu "$bpid") - c0))
check "pmbot stays up while the homeserver hangs" [ "$alive" = 1 ]
check "and spends little CPU ($ticks ticks in 5 s)" [ "$ticks" -lt 100 ]
cmd=$(mx send "$A" "$inc" '!pm actions')
check "it answers once the homeserver is back" \
    mxq wait-notice "$A" "$inc" 'Open actions' --after "$cmd" --timeout 30
hsport=${hs##*:}
kill -9 "$spid"
wait "$spid" 2>/dev/null
spid=
mark=$(lines "$log")
c0=$(cpu "$bpid")
# the port answers every connection by hanging up, for 6 s, and counts them
python3 - "$hsport" >"$dir/conns.txt" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
s.settimeout(0.1)
n, end = 0, time.monotonic() + 6
while time.monotonic() < end:
    try:
        c, _ = s.accept()
        n += 1
        c.close()
    except socket.timeout:
        pass
print(n)
PY
lpid=$!
wait "$lpid"
lpid=
conns=$(cat "$dir/conns.txt")
ticks=$(($(cpu "$bpid") - c0))
check "while the homeserver is down, pmbot backs off ($conns connections in 6 s)" \
    [ "${conns:-999}" -le 15 ]
check "and spends little CPU ($ticks ticks in 6 s)" [ "$ticks" -lt 100 ]
check "pmbot stays up with the homeserver down" kill -0 "$bpid"
nlog=$(since_mark "$log" "$mark" | grep -c .)
check "and logs a little, not a line per attempt ($nlog lines)" [ "$nlog" -le 10 ]
(cd "$dir/synapse" && exec "$SYNAPSE_VENV/bin/python" -m synapse.app.homeserver \
    -c homeserver.yaml >>"$dir/synapse/out.log" 2>&1) &
spid=$!
check "Synapse starts again on the same port" until_ok 30 curl -fs "$hs/health"
cmd=$(mx send "$A" "$inc" '!incident status')
check "pmbot resumes after the homeserver is back" \
    mxq wait-notice "$A" "$inc" 'Status: open' --after "$cmd" --timeout 60
check "pmbot stops cleanly on SIGTERM after it all" stop_pmbot

# 12b. a position the homeserver no longer knows (a restored database):
# said once, then a fresh start, and commands are answered again
db "update platform_state set value = 's999999_9_9_bad' where platform = 'matrix' and key = 'since'"
start_pmbot
check "a /sync position the homeserver refuses is said in the log" \
    until_grep 20 "refused pmbot's /sync position" "$log" "$((mark + 1))"
check "and pmbot syncs afresh" synced 30
cmd=$(mx send "$A" "$inc" '!incident status')
check "commands are answered after the fresh start" \
    mxq wait-notice "$A" "$inc" 'Status: open' --after "$cmd" --timeout 30
check "the refused position is replaced in the database" \
    until_ok 10 sh -c "[ \"\$(sqlite3 '$dir/pmbot.db' \"select value from platform_state where platform = 'matrix' and key = 'since'\")\" != s999999_9_9_bad ]"
check "pmbot stops cleanly after the fresh start" stop_pmbot

# 11. Slack and Matrix in one process, each answered on its own platform
start_fake "$build"
check "the fake Slack listens on loopback" [ -n "$port" ]
slog=$dir/both.log
env PMBOT_DB="$dir/both.db" PMBOT_LISTEN=127.0.0.1:0 PMBOT_LOG_LEVEL=info \
    SLACK_APP_TOKEN=xapp-test SLACK_BOT_TOKEN=xoxb-test \
    SLACK_API_URL="http://127.0.0.1:$port/api/" \
    MATRIX_HOMESERVER="$hs" MATRIX_ACCESS_TOKEN="$BT" \
    MATRIX_ALLOW_INVITES_FROM=@alice:localhost \
    "$pmbot" run </dev/null >"$slog" 2>&1 &
bpid=$!
check "one process connects to Slack" until_true 15 '.connections == 1'
check "and syncs on Matrix" until_grep 20 'matrix: syncing as @pmbot:localhost' "$slog"
env=$(ctl slash '{"command":"/incident","text":"start Slack side","user_id":"U1","channel_id":"CGEN"}' | jq -r .envelope_id)
cmd=$(mx send "$A" "$gen" '!incident start Matrix side')
check "the Slack command opens a Slack channel" \
    until_true 15 ".channels[] | select(.name == \"inc-$day-slack-side\")"
check "the Matrix command opens a Matrix room" \
    sh -c "python3 tests/mx.py wait-invite '$A' --name '^inc-$day-matrix-side' --timeout 15 >/dev/null"
check "the Matrix command is answered on Matrix" \
    mxq wait-notice "$A" "$gen" 'Matrix side' --after "$cmd" --timeout 10
check "nothing crossed: no Slack channel for Matrix's, no Matrix room for Slack's" \
    sh -c "! curl -s http://127.0.0.1:$port/_control/state | jq -e '.channels[] | select(.name | contains(\"matrix-side\"))' >/dev/null && ! python3 tests/mx.py alias '$A' '#inc-$day-slack-side:localhost' 2>/dev/null"
check "both incidents are on their own platform" \
    [ "$(DB=$dir/both.db db "select group_concat(platform || ':' || title, ' ') from (select * from incidents order by platform desc)")" \
        = "slack:Slack side matrix:Matrix side" ]
kill "$bpid"
wait "$bpid"
bpid=
kill "$fpid"
wait "$fpid" 2>/dev/null
fpid=

# 13. a bad token: one clear line naming MATRIX_ACCESS_TOKEN, no storm
blog=$dir/bad.log
hsmark=$(lines "$hslog")
env PMBOT_DB="$dir/bad.db" PMBOT_LISTEN=127.0.0.1:0 PMBOT_LOG_LEVEL=info \
    MATRIX_HOMESERVER="$hs" MATRIX_ACCESS_TOKEN=syt_bm90YXRva2Vu_bogus0000000000_1a2b3c \
    "$pmbot" run </dev/null >"$blog" 2>&1 &
bpid=$!
check "a rejected token is logged with the fix (MATRIX_ACCESS_TOKEN)" \
    until_grep 15 'matrix: .*MATRIX_ACCESS_TOKEN' "$blog"
alive=1
end=$(($(date +%s) + 4))
while [ "$(date +%s)" -lt "$end" ]; do # watched for 4 s
    kill -0 "$bpid" 2>/dev/null || alive=0
    sleep 0.2
done
check "the process stays up" [ "$alive" = 1 ]
check "once" [ "$(grep -v '^pmbot info: connecting ' "$blog" | grep -c MATRIX_ACCESS_TOKEN)" = 1 ]
hs_flush
nreq=$(tail -n +$((hsmark + 1)) "$hslog" | grep -v 'flush=' | grep -c '"[A-Z]* /_matrix/client/')
check "no retry storm ($nreq requests to Synapse in 4 s)" [ "$nreq" -le 5 ]
check "the token is not in the log" [ "$(grep -c 'syt_' "$blog")" = 0 ]
kill "$bpid"
wait "$bpid"
bpid=

# 14. a password login stores the token and device, logs neither, and a
# restart does not log in again
plog=$dir/pw.log
pw_start() {
    env PMBOT_DB="$dir/pw.db" PMBOT_LISTEN=127.0.0.1:0 PMBOT_LOG_LEVEL=info \
        MATRIX_HOMESERVER="$hs" MATRIX_USER_ID=@pmbot2:localhost \
        MATRIX_PASSWORD=pmbot2-pw "$pmbot" run </dev/null >>"$plog" 2>&1 &
    bpid=$!
}
: >"$plog"
hsmark=$(lines "$hslog")
pw_start
check "a password login syncs" until_grep 20 'matrix: syncing as @pmbot2:localhost' "$plog"
check "the token and the device are in platform_state" \
    [ "$(DB=$dir/pw.db db "select count(*) from platform_state where platform = 'matrix' and key in ('access_token', 'device_id')")" = 2 ]
ptok=$(DB=$dir/pw.db db "select value from platform_state where platform = 'matrix' and key = 'access_token'")
check "the stored token is the bot's" [ "$(mx whoami "$ptok" 2>/dev/null)" = @pmbot2:localhost ]
kill "$bpid"
wait "$bpid"
# an invite for the restart's first /sync to answer at once
prm=$(mx create "$A" --name pw-room --invite @pmbot2:localhost)
pmark=$(lines "$plog")
pw_start
check "the restart syncs" until_grep 20 'matrix: syncing as @pmbot2:localhost' "$plog" "$((pmark + 1))"
check "with the stored token: it joins alice's invite (own server)" \
    mxq wait-member "$A" "$prm" @pmbot2:localhost join --timeout 10
hs_flush
nlogin=$(tail -n +$((hsmark + 1)) "$hslog" | grep -c 'POST /_matrix/client/v3/login')
check "one login for both runs ($nlogin)" [ "$nlogin" = 1 ]
check "no token in the log (grep -c syt_ is 0)" [ "$(grep -c 'syt_' "$plog")" = 0 ]
check "nor the password" [ "$(grep -c 'pmbot2-pw' "$plog")" = 0 ]
kill "$bpid"
wait "$bpid"
bpid=

check "no access token in any pmbot log" \
    [ "$(cat "$log" "$slog" "$dir/remind.err" "$dir/remind.out" | grep -c 'syt_')" = 0 ]
check "no sanitizer report in any log" \
    sh -c "! grep -l 'ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer' '$log' '$slog' '$blog' '$plog' '$dir/remind.err'"
if [ "$fails" -ne 0 ]; then
    echo "# the end of pmbot's log:"
    sed 's/^/# /' "$log" | tail -n 30
fi
[ "$fails" -eq 0 ]
