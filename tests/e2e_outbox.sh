#!/bin/sh
# e2e_outbox.sh PMBOT - the durable outbox across kill -9. PMBOT_FAULT=
# crash-before-send kills pmbot (SIGKILL) after a commit wrote rows, before
# the first is performed; a restart without it must perform every post,
# pin, invite and topic exactly once, in order per channel: (a) on the
# terminal (the shell, and `pmbot run` opening an alarm's channel), (b) on
# Slack against tests/fake_slack.c. (c) crash-after-send on Slack: killed
# once Slack accepted a post, before its mark; the restart finds it
# (find_sent, metadata key pmbot-<id>) and does not post it again.
# Prints ok / not ok lines.
. tests/lib.sh
pmbot=$1
build=$(dirname "$pmbot")
unset PMBOT_NOW PMBOT_FAULT SLACK_BOT_TOKEN SLACK_APP_TOKEN PMBOT_PLATFORM
unset PMBOT_WEBHOOK_TOKEN PMBOT_RESPONDERS
TOKEN=wh-outbox-token

# kinds_db DB ROOM: the room's outbox rows by id, as words
kinds_db() {
    sqlite3 "$1" "select case kind when 0 then 'post' when 1 then 'upload'
        when 2 then 'pin' when 3 then 'invite' when 4 then 'topic'
        else 'other' end from outbox where room = '$2' order by id" |
        paste -sd' ' -
}
# kinds_out ROOM FILE...: what the terminal printed for ROOM, as words
kinds_out() {
    r=$1
    shift
    cat "$@" | awk -v r="$r" '
        index($0, "] #" r " <pmbot> ") && /^\[[0-9]+\]/ { print "post"; next }
        $0 ~ /^\* pmbot invited / && index($0, " to #" r) { print "invite"; next }
        index($0, "* topic of #" r ": ") == 1 { print "topic"; next }
        index($0, "* pmbot pinned [") == 1 && index($0, "] in #" r) { print "pin" }' |
        paste -sd' ' -
}
# states DB: "state count" per outbox state
states() { sqlite3 "$1" 'select state, count(*) from outbox group by state' | paste -sd' ' -; }
all_done() { [ "$(states "$1")" = "1|$(sqlite3 "$1" 'select count(*) from outbox')" ]; }
pending() { sqlite3 "$1" 'select count(*) from outbox where state = 0'; }
# until_sql SECONDS DB SQL VALUE: poll the database for the value
until_sql() {
    end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        [ "$(sqlite3 "$2" "$3" 2>/dev/null)" = "$4" ] && return 0
        sleep 0.05
    done
    return 1
}

# --- (a1) the shell: killed after the declaration committed its reply ---
db1="$dir/shell.db"
printf '/as alice\n/clock 2030-03-01T10:00:00Z\n!incident start sev2 Disk full on db-1\n' |
    PMBOT_DB="$db1" PMBOT_LOG_LEVEL=warn PMBOT_FAULT=crash-before-send \
    "$pmbot" shell >"$dir/a1.out" 2>"$dir/a1.err"
check "shell: the fault switch kills pmbot with SIGKILL" [ $? -eq 137 ]
check "shell: the kill came before the send" \
    sh -c "grep -q 'killing pmbot before a send' '$dir/a1.err' && ! grep -q '<pmbot>' '$dir/a1.out'"
check "shell: the declaration's reply was committed to the outbox" \
    [ "$(pending "$db1")" -ge 1 ]
printf '/as alice\n' | PMBOT_DB="$db1" PMBOT_LOG_LEVEL=warn \
    "$pmbot" shell >"$dir/a1b.out" 2>"$dir/a1b.err"
check "shell: the restart exits cleanly" [ $? -eq 0 ]
chan1=inc-20300301-disk-full-on-db-1
check "shell: the reply left before the crash is posted once" \
    [ "$(cat "$dir/a1.out" "$dir/a1b.out" | grep -c '^\[[0-9]*\] #general <pmbot> INC-1 (SEV2) declared; opening its channel\.$')" = 1 ]
check "shell: the channel is opened once" \
    [ "$(cat "$dir/a1.out" "$dir/a1b.out" | grep -c "^\* pmbot opened #$chan1\$")" = 1 ]
want=$(kinds_db "$db1" "$chan1")
got=$(kinds_out "$chan1" "$dir/a1.out" "$dir/a1b.out")
check "shell: the channel's rows hold a post, pin, invite and topic ($want)" \
    sh -c "echo '$want' | grep -q post && echo '$want' | grep -q pin && echo '$want' | grep -q invite && echo '$want' | grep -q topic"
check "shell: each is done once, in order ($got)" [ "$got" = "$want" ]
check "shell: the outbox is all done ($(states "$db1"))" all_done "$db1"
check "shell: nothing on stderr after the restart" [ ! -s "$dir/a1b.err" ]

# --- (a2) `pmbot run` on the terminal: killed after an alarm's channel
# committed its posts, pins, invite and topic ---
db2="$dir/run.db"
cat >"$dir/pmbot.conf" <<CONF
[pmbot]
database = $db2
responders = alice, bob
[webhook]
listen = 127.0.0.1:0
CONF
: >"$dir/out"
start PMBOT_LOG_LEVEL=info PMBOT_FAULT=crash-before-send
check "run: the listener starts" [ -n "$port" ]
curl -s -o /dev/null -X POST "$url/hooks/generic" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary @tests/fixtures/alarms/generic.json
wait "$bpid"
check "run: the fault switch kills pmbot with SIGKILL" [ $? -eq 137 ]
bpid=
mv "$dir/out" "$dir/a2.out"
chan2=$(sqlite3 "$db2" 'select channel from incidents where id = 1')
want=$(kinds_db "$db2" "$chan2")
check "run: the channel's rows were committed, none performed ($want)" \
    sh -c "[ \"\$(sqlite3 '$db2' 'select count(*) from outbox where state <> 0')\" = 0 ] && [ -n '$chan2' ] && ! grep -q '<pmbot>' '$dir/a2.out'"
start PMBOT_LOG_LEVEL=info
check "run: the restart performs every pending row" \
    until_sql 10 "$db2" 'select count(*) from outbox where state = 0' 0
kill "$bpid"
wait "$bpid"
check "run: the restarted pmbot stops cleanly" [ $? -eq 0 ]
bpid=
got=$(kinds_out "$chan2" "$dir/a2.out" "$dir/out")
check "run: posts, pins, invite and topic each once, in order ($got)" \
    [ "$got" = "$want" ]
check "run: the invite names both responders, once" \
    [ "$(grep -c "^\* pmbot invited @alice, @bob to #$chan2\$" "$dir/a2.out" "$dir/out" | awk -F: '{s += $2} END {print s}')" = 1 ]
check "run: each pin names a message the restart posted" \
    sh -c "for n in \$(sed -n 's/^\* pmbot pinned \[\([0-9]*\)\] in #$chan2\$/\1/p' '$dir/out'); do grep -q \"^\[\$n\] #$chan2 <pmbot> \" '$dir/out' || exit 1; done"
check "run: the outbox is all done ($(states "$db2"))" all_done "$db2"

# --- (b) Slack: killed after the channel's rows were committed ---
start_fake "$build"
check "the fake Slack listens on loopback" [ -n "$port" ]
[ -n "$port" ] || exit 1
db3="$dir/slack.db"
start_slack() {
    env PMBOT_PLATFORM=slack SLACK_APP_TOKEN=xapp-test SLACK_BOT_TOKEN=xoxb-test \
        SLACK_API_URL="http://127.0.0.1:$port/api/" PMBOT_DB="$db3" \
        PMBOT_LISTEN=127.0.0.1:0 PMBOT_LOG_LEVEL=info "$@" \
        "$pmbot" run >>"$dir/slack.log" 2>&1 &
    bpid=$!
}
# calls_in CHANNEL: the channel's posts, pins, invites and topics, in the
# order the fake got them, as words (what was accepted)
calls_in() {
    state | jq -r --arg c "$1" '.calls[] | select(.ok and (.args.channel == $c)) | .method' |
        awk '/^chat.postMessage$/ { print "post" } /^pins.add$/ { print "pin" }
             /^conversations.invite$/ { print "invite" }
             /^conversations.setTopic$/ { print "topic" }' | paste -sd' ' -
}
count_calls() { # count_calls METHOD CHANNEL
    state | jq --arg m "$1" --arg c "$2" \
        '[.calls[] | select(.method == $m and .args.channel == $c and .ok)] | length'
}
start_slack PMBOT_FAULT=crash-before-send
check "slack: pmbot connects" until_true 10 '.connections == 1'
ctl slash '{"command":"/incident","text":"start sev1 Outbox kill test","user_id":"U1","channel_id":"CGEN"}' >/dev/null
wait "$bpid"
check "slack: the fault switch kills pmbot with SIGKILL" [ $? -eq 137 ]
bpid=
chan=$(sqlite3 "$db3" 'select channel from incidents where id = 1')
check "slack: the channel was created and recorded" \
    until_true 1 "[.channels[] | select(.id == \"$chan\")] | length == 1"
check "slack: nothing was posted, pinned, invited or set before the kill" \
    until_true 1 "[.calls[] | select(.method | test(\"^(chat.postMessage|pins.add|conversations.invite|conversations.setTopic)$\"))] | length == 0"
want=$(kinds_db "$db3" "$chan")
check "slack: the channel's rows were committed ($want)" \
    sh -c "echo '$want' | grep -q post && echo '$want' | grep -q pin && echo '$want' | grep -q invite && echo '$want' | grep -q topic"
start_slack
check "slack: the restart reconnects" until_true 10 '.connections == 1'
check "slack: the restart performs every pending row" \
    until_sql 10 "$db3" 'select count(*) from outbox where state = 0' 0
npost=$(sqlite3 "$db3" "select count(*) from outbox where room = '$chan' and kind = 0")
check "slack: the channel's posts are made once each ($npost rows)" \
    [ "$(count_calls chat.postMessage "$chan")" = "$npost" ]
check "slack: the summary is posted once" \
    until_true 1 "[.messages[\"$chan\"][] | select(.user == \"UBOT\" and (.text | contains(\"Outbox kill test\")) and (.text | contains(\"Timeline\")))] | length == 1"
check "slack: pinned once" [ "$(count_calls pins.add "$chan")" = 1 ]
check "slack: the pin is the summary" \
    until_true 1 "(.channels[] | select(.id == \"$chan\") | .pins) as \$p | [.messages[\"$chan\"][] | select(.ts == \$p[0]) | .text | contains(\"Timeline\")] == [true]"
check "slack: invited once" [ "$(count_calls conversations.invite "$chan")" = 1 ]
check "slack: the declarer is in the channel" \
    until_true 1 ".channels[] | select(.id == \"$chan\") | .members | index(\"U1\") != null"
check "slack: the topic is set once" [ "$(count_calls conversations.setTopic "$chan")" = 1 ]
got=$(calls_in "$chan")
check "slack: in the order they were committed ($got)" [ "$got" = "$want" ]
ngen=$(sqlite3 "$db3" "select count(*) from outbox where room = 'CGEN' and kind = 0")
check "slack: the announcement in CGEN is posted once ($ngen rows)" \
    [ "$(count_calls chat.postMessage CGEN)" = "$ngen" ]
check "slack: the outbox is all done ($(states "$db3"))" all_done "$db3"

# --- (c) Slack: killed after Slack accepted a post, before its mark ---
kill "$bpid"
wait "$bpid"
bpid=
ctl reset_log '{}' >/dev/null
# the channel's first row (its invite) answers late, so the first post
# Slack accepts is the announcement in CGEN: the one killed before its mark
ctl delay '{"method":"conversations.invite","ms":3000,"count":1}' >/dev/null
start_slack PMBOT_FAULT=crash-after-send
check "slack: pmbot connects with crash-after-send" until_true 10 '.connections == 1'
ctl slash '{"command":"/incident","text":"start sev2 Sent before the mark","user_id":"U1","channel_id":"CGEN"}' >/dev/null
wait "$bpid"
check "slack: crash-after-send kills pmbot with SIGKILL" [ $? -eq 137 ]
bpid=
state | jq -c '[.calls[] | select(.method == "chat.postMessage" and .ok) | {channel: .args.channel, text: .args.text, key: .args.metadata}]' >"$dir/sent.json"
check "slack: exactly one post was accepted before the kill" \
    sh -c "jq -e 'length == 1' '$dir/sent.json' >/dev/null"
text=$(jq -r '.[0].text' "$dir/sent.json")
pchan=$(jq -r '.[0].channel' "$dir/sent.json")
check "slack: it carries its outbox id as metadata key pmbot-<id>" \
    sh -c "jq -r '.[0].key | if type == \"string\" then fromjson else . end | .event_payload.key' '$dir/sent.json' | grep -q '^pmbot-[0-9][0-9]*\$'"
check "slack: its row is still pending in the outbox" \
    [ "$(sqlite3 "$db3" "select count(*) from outbox where state = 0 and room = '$pchan' and kind = 0")" -ge 1 ]
start_slack
check "slack: the restart after crash-after-send reconnects" until_true 10 '.connections == 1'
check "slack: then performs every pending row" \
    until_sql 15 "$db3" 'select count(*) from outbox where state = 0' 0
check "slack: it looked for the post in the channel's history, with metadata" \
    until_true 1 "any(.calls[]; .method == \"conversations.history\" and .args.channel == \"$pchan\" and .args.include_all_metadata == \"true\")"
check "slack: the accepted post is not posted again (exactly one)" \
    until_true 1 "[.calls[] | select(.method == \"chat.postMessage\" and .ok and .args.text == $(jq '.[0].text' "$dir/sent.json"))] | length == 1"
check "slack: the log says it was sent before the restart" \
    grep -q 'was sent before a restart; not sending it again' "$dir/slack.log"
chan=$(sqlite3 "$db3" 'select channel from incidents where id = 2')
check "slack: the second channel is pinned once" [ "$(count_calls pins.add "$chan")" = 1 ]
check "slack: its topic is set once" [ "$(count_calls conversations.setTopic "$chan")" = 1 ]
check "slack: its invite is accepted once" \
    [ "$(count_calls conversations.invite "$chan")" = 1 ]
check "slack: the outbox is all done ($(states "$db3"))" all_done "$db3"
[ -n "$text" ] || fail "slack: the accepted post had a text"

kill "$bpid"
wait "$bpid"
check "pmbot stops cleanly on SIGTERM" [ $? -eq 0 ]
bpid=
check "no token reaches the log" \
    sh -c "! grep -q -e xoxb-test -e xapp-test '$dir/slack.log'"
check "no sanitizer report in the logs" \
    sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' '$dir/slack.log' '$dir/err' '$dir/a1.err' '$dir/a1b.err'"
[ "$fails" -eq 0 ] || { echo "--- pmbot log"; tail -30 "$dir/slack.log"; }
exit $((fails > 0))
