#!/bin/sh
# e2e_slack.sh PMBOT - runs the real pmbot against the loopback Slack fake
# (tests/fake_slack.c) on 127.0.0.1: a whole incident from /incident start
# to /pm report, tagging old/seen/thread messages, untag/edit/delete, a
# dropped socket with redelivery, history fetches batched per channel (a
# tag below a batch's full page is not starved by a stream of newer ones),
# 429 Retry-After, refresh_requested, kill -9 in the middle of 1,000 tag
# events, and, last, fetches after link_disabled and batches that fail
# (over one bad ts, or for the whole channel). Prints ok / not ok lines.
. tests/lib.sh
pmbot=$1
build=$(dirname "$pmbot")

db() { sqlite3 "$dir/pmbot.db" "$1"; }
pending_rows() { db 'select count(*) from outbox where state = 0'; }
# db_tagged TS...: how many of these messages are tagged
db_tagged() {
    db "select count(distinct msg_id) from timeline where kind = 'tagged'
        and msg_id in ($(printf "'%s'," "$@" | sed 's/,$//'))"
}
acked() { until_true "${2:-10}" "[.acks[].envelope_id] | index(\"$1\") != null"; }
# tagged_once: "<entries> <distinct messages>" tagged among $dir/ts.txt
tagged_once() {
    db "select count(*) || ' ' || count(distinct msg_id) from timeline
        where kind = 'tagged' and msg_id in
        ($(sed "s/.*/'&'/" "$dir/ts.txt" | paste -sd, -))"
}
# calls_since METHOD JQ: the jq test holds for the list of METHOD calls
# in $chan made since the call log held $from calls
calls_since() {
    state | jq -e --argjson n "$from" --arg m "$1" --arg c "$chan" \
        "[.calls[\$n:][] | select(.method == \$m and .args.channel == \$c)]
         | $2" >/dev/null
}

# start_pmbot [VAR=VALUE...]: pmbot run against the fake, with more env
start_pmbot() {
    env PMBOT_PLATFORM=slack SLACK_APP_TOKEN=xapp-test SLACK_BOT_TOKEN=xoxb-test \
    SLACK_API_URL="http://127.0.0.1:$port/api/" PMBOT_DB="$dir/pmbot.db" \
    PMBOT_LISTEN=127.0.0.1:0 PMBOT_RESPONDERS=U7 \
    PMBOT_LOG_LEVEL=info "$@" "$pmbot" run >>"$dir/pmbot.log" 2>&1 &
    bpid=$!
}

start_fake "$build" --redeliver-ms 2000
check "the fake Slack listens on loopback" [ -n "$port" ]
[ -n "$port" ] || exit 1

start_pmbot
check "pmbot connects over Socket Mode" until_true 10 '.connections == 1'
check "pmbot learnt who it is before connecting" \
    sh -c "state() { curl -s http://127.0.0.1:$port/_control/state; }; state | jq -e '[.calls[].method] | index(\"auth.test\") < index(\"apps.connections.open\")' >/dev/null"

# 1. a whole incident
env=$(ctl slash '{"command":"/incident","text":"start sev1 Database <!channel> down","user_id":"U1","channel_id":"CGEN"}' | jq -r .envelope_id)
check "/incident start is acked" acked "$env" 3
check "its reply rides on the ack, in the channel" \
    until_true 2 ".acks[] | select(.envelope_id == \"$env\") | .payload.response_type == \"in_channel\" and (.payload.text | contains(\"INC-1\"))"
day=$(date -u +%Y%m%d)
check "the incident channel is created under Slack's rules" \
    until_true 5 ".channels[] | select(.name == \"inc-$day-database-channel-down\")"
chan=$(state | jq -r ".channels[] | select(.name == \"inc-$day-database-channel-down\") | .id")
check "the declarer is invited" until_true 5 ".channels[] | select(.id == \"$chan\") | .members | index(\"U1\") != null"
check "the summary is pinned" until_true 5 ".channels[] | select(.id == \"$chan\") | .pins | length == 1"
check "the title cannot ping: <!channel> is the word @channel, as typed" \
    until_true 5 "[.messages[\"$chan\"][] | .text] | any(contains(\"Database @channel down\")) and (map(contains(\"<!channel>\")) | any | not)"
check "the channel is recorded" \
    [ "$(db "select channel from incidents where id = 1")" = "$chan" ]

# 2. 📌 on a message posted an hour earlier lands at that hour
old=$(($(date +%s) - 3600)).000100
ctl message "{\"channel\":\"$chan\",\"user\":\"U2\",\"text\":\"db cpu at 100%\",\"ts\":\"$old\",\"deliver\":false}" >/dev/null
e=$(ctl reaction "{\"channel\":\"$chan\",\"ts\":\"$old\",\"user\":\"U2\",\"reaction\":\"pushpin\"}" | jq -r .envelope_id)
check "a tag on an unseen message is acked" acked "$e"
check "it lands at the message's own time" \
    [ "$(db "select at from timeline where msg_id = '$old'")" = "$(( ${old%.*} * 1000 ))" ]
check "an unseen message is fetched with conversations.history" \
    until_true 1 "[.calls[] | select(.method == \"conversations.history\")] | length == 1"

# 3. a message pmbot saw costs no API call
seen=$(ctl message "{\"channel\":\"$chan\",\"user\":\"U3\",\"text\":\"rolled back\"}" | jq -r .ts)
until_true 5 '.unacked | length == 0' >/dev/null
e=$(ctl reaction "{\"channel\":\"$chan\",\"ts\":\"$seen\",\"user\":\"U3\",\"reaction\":\"pushpin\"}" | jq -r .envelope_id)
acked "$e" >/dev/null
check "a tag on a seen message makes no API call" \
    until_true 1 "[.calls[] | select(.method == \"conversations.history\")] | length == 1"
check "it is on the timeline" \
    [ "$(db "select text from timeline where msg_id = '$seen'")" = "rolled back" ]

# 4. untag, edit, delete
e=$(ctl reaction "{\"channel\":\"$chan\",\"ts\":\"$seen\",\"user\":\"U3\",\"reaction\":\"pushpin\",\"removed\":true}" | jq -r .envelope_id)
acked "$e" >/dev/null
check "removing the 📌 removes the entry" \
    [ "$(db "select count(*) from timeline where msg_id = '$seen'")" = 0 ]
e=$(ctl reaction "{\"channel\":\"$chan\",\"ts\":\"$seen\",\"user\":\"U3\",\"reaction\":\"pushpin\"}" | jq -r .envelope_id)
acked "$e" >/dev/null
ctl edit "{\"channel\":\"$chan\",\"ts\":\"$seen\",\"text\":\"rolled back v2\"}" >/dev/null
check "an edit updates the entry" until_true 5 '.unacked | length == 0'
check "the entry has the new text" \
    [ "$(db "select text from timeline where msg_id = '$seen'")" = "rolled back v2" ]
check "the earlier text is kept as history" \
    [ "$(db "select h.text from timeline_history h join timeline t on t.id = h.entry_id where t.msg_id = '$seen'")" = "rolled back" ]
ctl delete "{\"channel\":\"$chan\",\"ts\":\"$seen\"}" >/dev/null
until_true 5 '.unacked | length == 0' >/dev/null
check "deleting the message removes the entry" \
    [ "$(db "select count(*) from timeline where msg_id = '$seen'")" = 0 ]

# 5. a thread reply, tagged
parent=$(ctl message "{\"channel\":\"$chan\",\"user\":\"U2\",\"text\":\"thread start\",\"deliver\":false}" | jq -r .ts)
reply=$(ctl message "{\"channel\":\"$chan\",\"user\":\"U4\",\"text\":\"found it: bad index\",\"thread_ts\":\"$parent\",\"deliver\":false}" | jq -r .ts)
e=$(ctl reaction "{\"channel\":\"$chan\",\"ts\":\"$reply\",\"user\":\"U4\",\"reaction\":\"pushpin\"}" | jq -r .envelope_id)
acked "$e" >/dev/null
check "a thread reply is fetched with conversations.replies" \
    until_true 1 "[.calls[] | select(.method == \"conversations.replies\")] | length >= 1"
check "a tagged thread reply is on the timeline" \
    [ "$(db "select text from timeline where msg_id = '$reply'")" = "found it: bad index" ]

# 6. the socket drops mid-stream: nothing lost, nothing doubled
make_messages 200 true m "$chan"
until_true 10 '.unacked | length == 0' >/dev/null
react_all "$chan" U5
ctl drop '{}' >/dev/null
check "pmbot reconnects after the drop" until_true 15 '.connections == 1 and .connects_total >= 2'
check "every envelope is acked in the end" until_true 20 '.unacked | length == 0'
check "each of the 200 tags is recorded exactly once" \
    [ "$(db "select count(*) from timeline where text like 'm%' and kind = 'tagged'")" = 200 ]

# 7. a burst of 📌 on 301 unseen messages, a thread reply among them:
# history calls are batched per channel, each message lands once
make_messages 150 false ba "$chan"
mv "$dir/ts.txt" "$dir/burst.txt"
bparent=$(tail -n 1 "$dir/burst.txt")
breply=$(ctl message "{\"channel\":\"$chan\",\"user\":\"U4\",\"text\":\"the reply in the burst\",\"thread_ts\":\"$bparent\",\"deliver\":false}" | jq -r .ts)
echo "$breply" >>"$dir/burst.txt"
make_messages 150 false bb "$chan"
cat "$dir/ts.txt" >>"$dir/burst.txt"
mv "$dir/burst.txt" "$dir/ts.txt"
from=$(state | jq '.calls | length')
react_all "$chan" U5
check "every tag of the burst is acked" until_true 20 '.unacked | length == 0'
check "each of the 301 is tagged exactly once" [ "$(tagged_once)" = "301 301" ]
check "the thread reply in the burst is tagged with its own text" \
    [ "$(db "select text from timeline where msg_id = '$breply'")" = "the reply in the burst" ]
check "the thread reply is asked with conversations.replies" \
    calls_since conversations.replies "any(.[]; .args.ts == \"$breply\")"
nhist=$(state | jq --argjson n "$from" --arg c "$chan" \
    '[.calls[$n:][] | select(.method == "conversations.history" and .args.channel == $c)] | length')
check "the burst costs few history calls ($nhist for 301 tags)" \
    [ "${nhist:-999}" -lt 150 ]
check "a batched call asks for a span: oldest, latest, inclusive, limit 200" \
    calls_since conversations.history \
    'any(.[]; .args.oldest != null and .args.latest != null and .args.inclusive == "true" and .args.limit == "200")'

# 8. starvation: a tag far below a full page, while tags on newer unseen
# messages keep streaming in, lands while the stream still runs. The first
# fetch (the newest, alone) is answered 500 ms late, so that far and the
# stream wait for it; far then goes in one batch whose page is full (250
# messages lie between far and the stream) and is asked next, by itself,
# instead of riding with (and below) every newer arrival
far=$(ctl message "{\"channel\":\"$chan\",\"user\":\"U2\",\"text\":\"far below the page\",\"deliver\":false}" | jq -r .ts)
make_messages 250 false fp "$chan"
make_messages 800 false fs "$chan"
newest=$(tail -n 1 "$dir/ts.txt")
sed -i '$d' "$dir/ts.txt"
# the stream's request is built first, so that it starts at once (building
# it takes two jq runs: on a loaded machine longer than the held fetch)
jq -R . "$dir/ts.txt" | jq -sc --arg c "$chan" \
    '{channel: $c, ts_list: ., user: "U5", reaction: "pushpin", count: length, per_second: 1000}' \
    >"$dir/stream.json"
from=$(counts | jq .calls)
ctl delay '{"method":"conversations.history","ms":500,"count":1}' >/dev/null
ctl reaction "{\"channel\":\"$chan\",\"ts\":\"$newest\",\"user\":\"U5\",\"reaction\":\"pushpin\"}" >/dev/null
efar=$(ctl reaction "{\"channel\":\"$chan\",\"ts\":\"$far\",\"user\":\"U5\",\"reaction\":\"pushpin\"}" | jq -r .envelope_id)
# the stream: 799 tags at 1,000 a second, running well past the held fetch
# (the light counts are polled: a state dump would stall it)
ctl reactions "@$dir/stream.json" >/dev/null
printf '%s\n%s\n' "$newest" "$far" >>"$dir/ts.txt"
check "every tag of the far burst and the stream is acked" \
    poll counts 20 '.unacked == 0 and .bulk_remaining == 0' 0.05
frac=$(echo "${far#*.}" | sed 's/^0*//')
check "the far message lands, at its own time" \
    [ "$(db "select text || ' ' || at from timeline where kind = 'tagged' and msg_id = '$far'")" = "far below the page $((${far%.*} * 1000 + ${frac:-0} / 1000))" ]
check "the 800 newer land too, each once" [ "$(tagged_once)" = "801 801" ]
check "far was in one batch whose page was full, then asked alone" \
    calls_since conversations.history \
    "(map(select(.args.oldest == \"$far\")) | length == 1 and .[0].args.limit == \"200\") and any(.[]; .args.latest == \"$far\" and .args.oldest == null and .args.limit == \"1\")"
# acked (after its commit) before the last of the stream was even sent
after=$(state | jq --arg e "$efar" \
    '(first(.acks[] | select(.envelope_id == $e)) | .t) as $t
     | [.delivered[] | select(.retry_attempt == 0 and .t > $t)] | length')
check "far lands while the stream runs ($after of it sent after far's ack)" \
    [ "${after:-0}" -gt 0 ]

# 9. 429: no call before Retry-After has passed
ctl ratelimit '{"method":"chat.postMessage","retry_after":2,"count":1}' >/dev/null
e=$(ctl slash '{"command":"/incident","text":"start Second one","user_id":"U1","channel_id":"CGEN"}' | jq -r .envelope_id)
acked "$e" >/dev/null
check "the rate-limited post is retried" \
    until_true 10 '[.calls[] | select(.method == "chat.postMessage" and .status == 429)] | length == 1'
until_true 10 '[.calls[] | select(.method == "chat.postMessage")] as $c | ($c | map(.status == 429) | index(true)) as $i | ($c | length) > $i + 1' >/dev/null
gap=$(state | jq '[.calls[] | select(.method == "chat.postMessage")] as $c | ($c | map(.status == 429) | index(true)) as $i | $c[$i + 1].t - $c[$i].t')
check "the retry waited Retry-After (gap ${gap} ms)" [ "${gap:-0}" -ge 2000 ]

# 10. refresh_requested: a new socket before the old one goes
before=$(state | jq .connects_total)
ctl disconnect '{"reason":"refresh_requested"}' >/dev/null
check "a new connection is opened at once" \
    until_true 3 ".connects_total == $((before + 1))"
e=$(ctl reaction "{\"channel\":\"$chan\",\"ts\":\"$old\",\"user\":\"U9\",\"reaction\":\"thumbsup\"}" | jq -r .envelope_id)
check "events keep flowing through the refresh" acked "$e" 3
check "the old socket is closed" until_true 12 '.connections == 1'
before=$(state | jq .connects_total)
ctl drop '{}' >/dev/null
check "after a refresh, a dropped socket is still reconnected" \
    until_true 15 ".connections == 1 and .connects_total > $before"

# 11. kill -9 in the middle of 1,000 tag events, restart: every acked
# event is in the database exactly once
make_messages 1000 false k "$chan"
ctl reset_log '{}' >/dev/null
# a rate-limited fetch holds every tag back: the envelopes pile up
ctl ratelimit '{"method":"conversations.history","retry_after":2,"count":1}' >/dev/null
react_all "$chan" U6
until_true 20 '.acks | length >= 300' >/dev/null
hport=$(listen_port "$dir/pmbot.log")
check "flow control paused reading while events piled up" \
    sh -c "curl -s http://127.0.0.1:$hport/metrics | grep -q '^pmbot_slack_read_pauses_total [1-9]'"
kill -9 "$bpid"
wait "$bpid" 2>/dev/null
state | jq -r '.acks[].envelope_id' | sort -u >"$dir/acked_before.txt"
start_pmbot
check "pmbot restarts and reconnects" until_true 15 '.connections >= 1'
check "all 1,000 events are acked after the restart" \
    until_true 60 '.unacked | length == 0'
check "each of the 1,000 tags is recorded exactly once" \
    [ "$(db "select count(*) from timeline where text like 'k%' and kind = 'tagged'")" = 1000 ]
check "some events were acked before the kill" \
    [ "$(wc -l <"$dir/acked_before.txt")" -ge 300 ]

# 12. an alarm opens a Slack channel; its hostile text pings no one
hport=$(listen_port "$dir/pmbot.log")
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    "http://127.0.0.1:$hport/hooks/generic" -H 'Content-Type: application/json' \
    -d '{"title":"Bridge <!channel> drained","severity":0,"description":"ping <!here> & <@U1>","dedup_key":"bridge-1"}')
check "an alarm through the listener: 201" [ "$status" = 201 ]
check "it opens a Slack channel" \
    until_true 5 ".channels[] | select(.name == \"inc-$day-bridge-channel-drained\")"
achan=$(state | jq -r ".channels[] | select(.name == \"inc-$day-bridge-channel-drained\") | .id")
check "responders are invited" \
    until_true 5 ".channels[] | select(.id == \"$achan\") | .members | index(\"U7\") != null"
check "the details and the summary are pinned" \
    until_true 5 ".channels[] | select(.id == \"$achan\") | .pins | length == 2"
check "the alarm's text is escaped: no mass mention" \
    until_true 5 "[.messages[\"$achan\"][] | .text] | any(contains(\"ping &lt;!here&gt; &amp; &lt;@U1&gt;\")) and (map(contains(\"<!here>\") or contains(\"<!channel>\")) | any | not)"
check "the topic is escaped too" \
    until_true 5 ".channels[] | select(.id == \"$achan\") | .topic | contains(\"&lt;!channel&gt;\")"
check "/healthz sees Slack connected" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/healthz")" = 200 ]
check "/metrics counts events and API calls" \
    sh -c "curl -s http://127.0.0.1:$hport/metrics | grep -q 'pmbot_events_acked_total{platform=\"slack\"}' && curl -s http://127.0.0.1:$hport/metrics | grep -q 'pmbot_slack_api_calls_total{method=\"chat.postMessage\",outcome=\"answered\"}'"

# 12b. Slack's encoding is undone once on the way in; a mention is shown
# by the person's name (users.info), the latest one (user_change)
ctl user '{"id":"U0ALICE","profile":{"display_name":"Alice Liddell"}}' >/dev/null
e=$(ctl slash "{\"command\":\"/pm\",\"text\":\"action Fix &amp; test &lt;b&gt; with <@U0ALICE> <@U0ALICE|alice> 2026-12-30\",\"user_id\":\"U1\",\"channel_id\":\"$chan\"}" | jq -r .envelope_id)
check "an action's & is echoed escaped once, not as &amp;amp;" \
    until_true 5 ".acks[] | select(.envelope_id == \"$e\") | .payload.text | contains(\"Fix &amp; test &lt;b&gt; with\") and (contains(\"&amp;amp;\") | not)"
check "the action keeps plain text" \
    [ "$(db "select text from actions where text like 'Fix%'")" = "Fix & test <b> with <@U0ALICE>" ]
check "the mentioned user's name is asked for once" \
    until_true 5 "[.calls[] | select(.method == \"users.info\" and .args.user == \"U0ALICE\")] | length == 1"
alice() { db "select json_quote(name) from users where user_id = 'U0ALICE'"; }
check "and kept" poll alice 5 '. == "Alice Liddell"' 0.05
PMBOT_DB="$dir/pmbot.db" "$pmbot" report 1 >"$dir/names.md"
check "the document shows the mention and the assignee by name" \
    sh -c "grep -q 'Fix \\\\& test \\\\<b\\\\> with @Alice Liddell | @Alice Liddell |' '$dir/names.md' && ! grep -q 'U0ALICE' '$dir/names.md'"
e=$(ctl envelope '{"type":"events_api","envelope_id":"uc1","payload":{"type":"event_callback","event_id":"EvUC1","event":{"type":"user_change","user":{"id":"U0ALICE","name":"alice","profile":{"display_name":"Alice L."}}}}}' | jq -r .envelope_id)
check "a user_change is acked" acked "$e"
check "after it has been kept" \
    [ "$(db "select name from users where user_id = 'U0ALICE'")" = "Alice L." ]
PMBOT_DB="$dir/pmbot.db" "$pmbot" report 1 >"$dir/names.md"
check "the document follows the new name" \
    grep -q 'with @Alice L\. | @Alice L\. |' "$dir/names.md"
# names are asked for where a document can show them, and kept clean
ctl user '{"id":"U0MAL","profile":{"display_name":"Mal\u001b]0;x\u0007lory"}}' >/dev/null
e=$(ctl message '{"channel":"CGEN","user":"U2","text":"hi <@U0EVE>"}' | jq -r .envelope_id)
acked "$e" >/dev/null
e=$(ctl message "{\"channel\":\"$chan\",\"user\":\"U2\",\"text\":\"ask <@U0MAL>\"}" | jq -r .envelope_id)
check "a mention in an incident channel is looked up" \
    until_true 5 "[.calls[] | select(.method == \"users.info\" and .args.user == \"U0MAL\")] | length == 1"
check "one outside any incident is not (asked before it, it would be first)" \
    sh -c "curl -s 'http://127.0.0.1:$port/_control/calls?method=users.info' | jq -e '[.calls[] | select(.args.user == \"U0EVE\")] | length == 0' >/dev/null"
mal() { db "select json_quote(hex(name)) from users where user_id = 'U0MAL'"; }
check "the name is kept without its control characters" \
    poll mal 5 '. == "4D616C5D303B786C6F7279"' 0.05

# 13. the document
e=$(ctl slash "{\"command\":\"/pm\",\"text\":\"report\",\"user_id\":\"U1\",\"channel_id\":\"$chan\"}" | jq -r .envelope_id)
acked "$e" >/dev/null
check "/pm report publishes the document" \
    until_true 10 '.files | length == 1 and (.[0].content | contains("## 1. Incident Timeline"))'

# 13b. the blameless review on Slack: the questions are a thread under one
# parent message, its replies are the answers, the channel's chatter is not
e=$(ctl slash '{"command":"/incident","text":"start sev2 Cache stampede","user_id":"U1","channel_id":"CGEN"}' | jq -r .envelope_id)
acked "$e" >/dev/null
check "an incident to review has its channel" \
    until_true 5 ".channels[] | select(.name == \"inc-$day-cache-stampede\")"
rchan=$(state | jq -r ".channels[] | select(.name == \"inc-$day-cache-stampede\") | .id")
rinc=$(db "select id from incidents where channel = '$rchan'")
e=$(ctl slash "{\"command\":\"/incident\",\"text\":\"resolve\",\"user_id\":\"U1\",\"channel_id\":\"$rchan\"}" | jq -r .envelope_id)
acked "$e" >/dev/null
e=$(ctl slash "{\"command\":\"/pm\",\"text\":\"start\",\"user_id\":\"U1\",\"channel_id\":\"$rchan\"}" | jq -r .envelope_id)
acked "$e" >/dev/null
check "the review's parent message is posted in the channel" \
    until_true 5 "[.messages[\"$rchan\"][] | select((.text | contains(\"One question at a time\")) and (.thread_ts == null or .thread_ts == .ts))] | length == 1"
parent=$(state | jq -r "[.messages[\"$rchan\"][] | select(.text | contains(\"One question at a time\"))][0].ts")
check "the first question is in its thread" \
    until_true 5 "[.messages[\"$rchan\"][] | select(.thread_ts == \"$parent\" and (.text | contains(\"Question 1 of 5\")))] | length == 1"
# qs N: the thread holds N questions
qs() { until_true 5 "[.messages[\"$rchan\"][] | select(.thread_ts == \"$parent\" and (.text | contains(\"Question\")))] | length == $1"; }
reply() {
    e=$(ctl message "{\"channel\":\"$rchan\",\"user\":\"$1\",\"text\":\"$2\",\"thread_ts\":\"$parent\"}" | jq -r .envelope_id)
    acked "$e" >/dev/null
}
reply U2 next
check "a reply in the thread steers it" qs 2
reply U2 "The cache expired for every key at once"
check "a reply in the thread answers it" qs 3
e=$(ctl message "{\"channel\":\"$rchan\",\"user\":\"U3\",\"text\":\"coffee anyone?\"}" | jq -r .envelope_id)
acked "$e" >/dev/null
reply U3 "the breaker held"
reply U4 "the breaker held"
check "two people answering are both recorded; the chatter is not" \
    [ "$(db "select count(*) from answers where incident_id = $rinc and question = 'worked_well'")" = 2 ]
check "each answer gets a ✅" \
    until_true 5 "[.calls[] | select(.method == \"reactions.add\" and .args.channel == \"$rchan\" and .args.name == \"white_check_mark\")] | length == 3"
reply U2 status
check "status answers in the thread" \
    until_true 5 "[.messages[\"$rchan\"][] | select(.thread_ts == \"$parent\" and (.text | contains(\"question 3 of 5 (Worked well)\")))] | length == 1"

# 14. fetches waiting behind one answered 500 ms late, in three channels:
# after link_disabled (pmbot stops reconnecting, the Web API still works)
# they are still made; a batch failing over one bad ts is asked one by
# one; one failing for the whole channel is not
sec=$(state | jq -r ".channels[] | select(.name == \"inc-$day-second-one\") | .id")
react() { ctl reaction "{\"channel\":\"$1\",\"ts\":\"$2\",\"user\":\"U5\",\"reaction\":\"pushpin\"}" | jq -r .envelope_id; }
# hist_calls CHANNEL: its history calls, in the order the fake got them
hist_calls() {
    curl -s "http://127.0.0.1:$port/_control/calls?method=conversations.history" |
        jq --arg c "$1" '[.calls[] | select(.args.channel == $c)]'
}
make_messages 3 false ld "$chan"
{ read -r a; read -r b; read -r c; } <"$dir/ts.txt"
make_messages 4 false ts "$achan"
{ read -r y1; read -r y2; read -r y3; read -r y4; } <"$dir/ts.txt"
bad=1700000000.00000x
make_messages 6 false nc "$sec"
d=$(ctl message "{\"channel\":\"$sec\",\"user\":\"U2\",\"text\":\"after the failure\",\"deliver\":false}" | jq -r .ts)
# the first fetch of each channel (A's, y1's, x1's) is answered late
ctl delay '{"method":"conversations.history","ms":500,"count":3}' >/dev/null
ctl fail "{\"method\":\"conversations.history\",\"error\":\"not_in_channel\",\"channel\":\"$sec\",\"count\":2}" >/dev/null
good="$(react "$chan" "$a") $(react "$chan" "$b") $(react "$chan" "$c")"
# in $achan: y1 goes alone, then y2, the bad ts, y3 and y4 in one batch
good="$good $(react "$achan" "$y1") $(react "$achan" "$y2")"
react "$achan" "$bad" >/dev/null
good="$good $(react "$achan" "$y3") $(react "$achan" "$y4")"
# in $sec: x1 alone, then x2..x6 in one batch: both refused
react_all "$sec" U5
ctl disconnect '{"reason":"link_disabled"}' >/dev/null
check "a channel-wide error fails the lone call, then the batch" \
    poll "hist_calls $sec" 10 'map(select(.error == "not_in_channel")) | length == 2 and .[1].args.oldest != null' 0.05
# D, tagged after that: what the failed batch left to ask for goes out
# before D's call
react "$sec" "$d" >/dev/null
check "a tag after the channel's failure lands" \
    poll "db_tagged $d" 10 '. == 1' 0.05
nsec=$(hist_calls "$sec" | jq --arg d "$d" \
    '(map(.args.latest == $d and .ok) | index(true)) as $i | .[:$i] | length')
check "the failed batch is not asked one by one ($nsec history calls for 6 tags)" \
    [ "${nsec:-99}" -eq 2 ]
check "after link_disabled, B and C (waiting behind A) land, and A too" \
    poll "db_tagged $a $b $c" 10 '. == 3' 0.05
check "the valid ts of the batch with a bad one land" \
    poll "db_tagged $y1 $y2 $y3 $y4" 10 '. == 4' 0.05
check "that batch failed with invalid_ts_oldest, then each was asked alone" \
    poll "hist_calls $achan" 1 "any(.[]; .args.oldest == \"$bad\" and .error == \"invalid_ts_oldest\") and any(.[]; .args.latest == \"$bad\" and .args.limit == \"1\" and .error == \"invalid_ts_latest\")" 0.05
good=$(printf '"%s",' $good | sed 's/,$//')
check "each of them is acked on its first delivery, none redelivered" \
    until_true 5 "[$good] as \$g | [.acks[].envelope_id] as \$a | [.delivered[] | select(.retry_attempt > 0) | .envelope_id] as \$r | all(\$g[]; . as \$x | (\$a | index(\$x)) != null and (\$r | index(\$x)) == null)"

kill "$bpid"
wait "$bpid"
check "pmbot stops cleanly on SIGTERM" [ $? -eq 0 ]
bpid=

# 15. a question of the review (a post in its thread) accepted by Slack,
# then a crash before its mark: the restart looks for it in the thread
# (history holds no replies) and does not post it again
start_pmbot PMBOT_FAULT=crash-after-send
check "pmbot reconnects with crash-after-send" until_true 10 '.connections == 1'
ctl reset_log '{}' >/dev/null
ctl message "{\"channel\":\"$rchan\",\"user\":\"U2\",\"text\":\"next\",\"thread_ts\":\"$parent\"}" >/dev/null
# bounded: should the fault not fire, the test fails rather than hangs
end=$(($(date +%s) + 10))
while kill -0 "$bpid" 2>/dev/null && [ "$(date +%s)" -le "$end" ]; do
    sleep 0.05
done
kill "$bpid" 2>/dev/null
wait "$bpid"
check "crash-after-send kills pmbot once the next question is accepted" [ $? -eq 137 ]
bpid=
q4="[.messages[\"$rchan\"][] | select(.thread_ts == \"$parent\" and (.text | contains(\"Question 4 of 5\")))] | length"
check "the next question was posted in the thread before the kill" \
    until_true 1 "$q4 == 1"
check "its outbox row is still pending" \
    [ "$(db "select count(*) from outbox where state = 0 and room = '$rchan' and kind = 0")" -ge 1 ]
start_pmbot
check "the restart reconnects" until_true 10 '.connections == 1'
check "the restart performs every pending row" \
    poll pending_rows 10 '. == 0' 0.05
check "it looked for the question in the thread, with metadata" \
    until_true 1 "any(.calls[]; .method == \"conversations.replies\" and .args.channel == \"$rchan\" and .args.ts == \"$parent\" and .args.include_all_metadata == \"true\")"
check "the question is not posted again" until_true 1 "$q4 == 1"
check "the log says it was sent before the restart" \
    grep -q 'was sent before a restart; not sending it again' "$dir/pmbot.log"
kill "$bpid"
wait "$bpid"
check "pmbot stops cleanly on SIGTERM" [ $? -eq 0 ]
bpid=
check "no token reaches the log" \
    sh -c "! grep -q -e xoxb-test -e xapp-test '$dir/pmbot.log'"
check "no sanitizer report in the log" \
    sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' '$dir/pmbot.log'"
[ "$fails" -eq 0 ] || { echo "--- pmbot log"; tail -40 "$dir/pmbot.log"; }
exit $((fails > 0))
