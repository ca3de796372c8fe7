#!/bin/sh
# e2e_webhook.sh PMBOT - alarms into the running binary (terminal
# platform): every bad request answered with its status and nothing
# changed; Bearer and HMAC; an alarm opens one channel with its responders,
# pinned details and timeline; duplicates and resolutions become entries;
# a recurring alarm shows last time's open actions; kill -9 right after the
# 2xx, restart: exactly one channel. Prints ok / not ok lines.
. tests/lib.sh
pmbot=$1
fx=tests/fixtures/alarms
TOKEN=wh-s3cret-token
db() { sqlite3 "$dir/pmbot.db" "$1"; }

cat >"$dir/pmbot.conf" <<CONF
[pmbot]
database = $dir/pmbot.db
responders = alice, bob
responders_sev1 = carol
[webhook]
listen = 127.0.0.1:0
body_timeout = 2
[mapping forta]
title = /alert/name
severity = /alert/severity
description = /alert/description
dedup_key = /alert/hash
link = /alert/source/transactionHash
CONF

# post PATH FILE [CURL ARGS...]: prints the status, body in $dir/body
post() {
    p=$1
    f=$2
    shift 2
    curl -s -o "$dir/body" -w '%{http_code}' -X POST "$url$p" \
        -H 'Content-Type: application/json' --data-binary "@$f" "$@"
}
auth="Authorization: Bearer $TOKEN"
until_grep() { # until_grep SECONDS PATTERN FILE
    end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        grep -q -- "$2" "$3" && return 0
        sleep 0.05
    done
    return 1
}

start
check "the listener starts on loopback" [ -n "$port" ]
check "/healthz is 200 when the database is writable" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ]

# 1. bad requests: a status each, nothing changed
check "no credentials: 401" [ "$(post /hooks/generic $fx/generic.json)" = 401 ]
check "a wrong token: 401" \
    [ "$(post /hooks/generic $fx/generic.json -H 'Authorization: Bearer nope')" = 401 ]
ts=$(($(date +%s) - 600))
sign() { # sign TS FILE: the v0 HMAC over the exact bytes of FILE
    { printf 'v0:%s:' "$1"; cat "$2"; } |
        openssl dgst -sha256 -hmac "$TOKEN" | sed 's/^.*= //'
}
sig=$(sign "$ts" $fx/generic.json)
check "a stale signature: 401" \
    [ "$(post /hooks/generic $fx/generic.json -H "X-Pmbot-Timestamp: $ts" -H "X-Pmbot-Signature: v0=$sig")" = 401 ]
check "malformed JSON: 400" [ "$(post /hooks/generic $fx/truncated.json -H "$auth")" = 400 ]
check "the 400 names the problem in JSON" grep -q '"error":"not JSON"' "$dir/body"
check "a missing field: 400" \
    [ "$(post /hooks/alertmanager $fx/missing_alerts.json -H "$auth")" = 400 ]
check "it says which field" grep -q 'alerts' "$dir/body"
check "wrong types: 400" [ "$(post /hooks/alertmanager $fx/wrong_types.json -H "$auth")" = 400 ]
check "not UTF-8: 400" [ "$(post /hooks/generic $fx/not_utf8.bin -H "$auth")" = 400 ]
head -c 1100000 /dev/zero | tr '\0' 'a' >"$dir/big.json"
check "a body over 1 MiB: 413" [ "$(post /hooks/generic "$dir/big.json" -H "$auth")" = 413 ]
check "an unknown path: 404" [ "$(post /hooks/nope $fx/generic.json -H "$auth")" = 404 ]
check "an unknown mapping: 404" [ "$(post /hooks/generic/nope $fx/generic.json -H "$auth")" = 404 ]
check "a wrong method: 405" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$url/hooks/generic")" = 405 ]
start_s=$(date +%s)
# half a body, then silence: the listener must hang up by itself
bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$port"'
printf "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ti" >&3
if timeout 30 cat <&3 >/dev/null; then echo closed; else echo "not closed"; fi' \
    >"$dir/slow.txt" 2>&1
slow=$(($(date +%s) - start_s))
check "a slow client is dropped after the body timeout (${slow}s)" \
    sh -c "grep -qx closed '$dir/slow.txt' && [ $slow -le 6 ]"
check "bad requests changed nothing" [ "$(db 'select count(*) from incidents')" = 0 ]
check "and opened nothing" sh -c "! grep -q 'pmbot opened' '$dir/out'"

# 2. an alarm, signed with HMAC, opens the emergency channel
now=$(date +%s)
sig=$(sign "$now" $fx/alertmanager_firing.json)
check "a signed Alertmanager alarm: 201" \
    [ "$(post /hooks/alertmanager $fx/alertmanager_firing.json -H "X-Pmbot-Timestamp: $now" -H "X-Pmbot-Signature: v0=$sig")" = 201 ]
check "the answer names the incident" grep -q '"incident":"1"' "$dir/body"
check "its channel opens" until_grep 5 '^\* pmbot opened #inc-' "$dir/out"
check "responders are invited, by severity too" \
    until_grep 5 'pmbot invited @alice, @bob, @carol to #inc-' "$dir/out"
check "the alarm details are posted and pinned" \
    until_grep 5 'pmbot pinned \[1\]' "$dir/out"
check "labels reach the channel" grep -q 'instance=db1:9100' "$dir/out"
check "one alert payload is one incident" [ "$(db 'select count(*) from incidents')" = 1 ]
check "each alert is a timeline entry, at its startsAt" \
    [ "$(db "select count(*) from timeline where incident_id = 1 and text like 'Alarm fired:%'")" = 2 ]
check "each alert's entry is at its own startsAt" \
    [ "$(db "select group_concat(at) from (select at from timeline where incident_id = 1 and text like 'Alarm fired:%' order by at)")" = 1795321080987,1795321230123 ]
check "then: emergency channel opened" \
    [ "$(db "select count(*) from timeline where incident_id = 1 and text like 'Emergency channel opened%'")" = 1 ]

# 3. the same alarm again: an entry, no second channel
check "a duplicate firing: 200" \
    [ "$(post /hooks/alertmanager $fx/alertmanager_firing.json -H "$auth")" = 200 ]
check "it is an entry on the open incident" \
    [ "$(db "select count(*) from timeline where incident_id = 1 and text like 'Alarm fired again%'")" = 1 ]
check "and opens nothing" [ "$(grep -c 'pmbot opened' "$dir/out")" = 1 ]
check "the resolution: 200" \
    [ "$(post /hooks/alertmanager $fx/alertmanager_resolved.json -H "$auth")" = 200 ]
check "it is an entry; the incident stays open" \
    [ "$(db "select count(*) from timeline where incident_id = 1 and text like 'Alarm resolved%'")-$(db 'select state from incidents where id = 1')" = "1-open" ]

# 4. a recurring alarm brings last time's unfinished actions
db "update incidents set state = 'resolved', resolved_at = 1 where id = 1"
db "insert into actions (incident_id, text, assignee, due_date, created_at) values (1, 'Alert at 85% disk, not 95%', 'bob', '2026-12-01', 1)"
check "the alarm fires again later: a new incident" \
    [ "$(post /hooks/alertmanager $fx/alertmanager_firing.json -H "$auth")" = 201 ]
check "its channel shows the earlier incident" \
    until_grep 5 'This alarm fired before' "$dir/out"
check "and the fix promised then" \
    grep -q 'still open: ACT-1 Alert at 85% disk, not 95% — @bob, due 2026-12-01' "$dir/out"

# a large Alertmanager group: the channel gets a shortened account of it
jq --arg big "$(head -c 3900 /dev/zero | tr '\0' 'x')" \
    '.groupKey = "big-group" | .alerts = [range(25) as $i | .alerts[0]
      | .labels.instance = "db\($i)" | .fingerprint = "f\($i)"
      | .annotations.description = $big]' \
    $fx/alertmanager_firing.json >"$dir/big_group.json"
check "a group of 25 large alerts: 201" \
    [ "$(post /hooks/alertmanager "$dir/big_group.json" -H "$auth")" = 201 ]
check "its channel says how many alerts it left out" \
    until_grep 5 'and [0-9]* more alerts' "$dir/out"

# 5. generic and mapped senders
check "the generic endpoint" [ "$(post /hooks/generic $fx/generic.json -H "$auth")" = 201 ]
check "a configured mapping (Forta)" \
    [ "$(post /hooks/generic/forta $fx/forta.json -H "$auth")" = 201 ]
check "the mapped title" \
    [ "$(db "select count(*) from incidents where title = 'Large Tornado Cash withdrawal'")" = 1 ]
check "/metrics counts requests by endpoint and status" \
    sh -c "curl -s '$url/metrics' | grep -q 'pmbot_webhook_requests_total{endpoint=\"generic\",status=\"401\"} 3'"
check "/metrics shows open incidents" \
    sh -c "curl -s '$url/metrics' | grep -q '^pmbot_incidents_open 4$'"
check "no secret in the log" sh -c "! grep -q '$TOKEN' '$dir/err' '$dir/out'"

# 6. kill -9 right after the 2xx: the restart opens exactly one channel
kill "$bpid"
wait "$bpid"
start PMBOT_FAULT=crash-after-alarm-ack
before=$(grep -c 'pmbot opened' "$dir/out")
check "the alarm is answered 201" \
    [ "$(post /hooks/grafana $fx/grafana_firing.json -H "$auth")" = 201 ]
wait "$bpid"
check "then pmbot is killed (status $?)" [ "$(db "select count(*) from incidents where channel is null")" = 1 ]
bpid=
start
check "the restart opens the channel" \
    until_grep 5 "pmbot opened #inc-.*$(db "select lower(substr(title, 1, 4)) from incidents where channel is null or id = (select max(id) from incidents)" | head -1)" "$dir/out"
until_grep 5 'channel #inc' "$dir/err" >/dev/null
check "exactly one channel for it" \
    [ "$(grep -c 'pmbot opened' "$dir/out")" = $((before + 1)) ]
check "and the database agrees" [ "$(db 'select count(*) from incidents where channel is null')" = 0 ]
# 7. /healthz says 503, with the reason, while the chat platform is away
kill "$bpid"
wait "$bpid"
start PMBOT_PLATFORM=slack SLACK_APP_TOKEN=xapp-x SLACK_BOT_TOKEN=xoxb-x \
    SLACK_API_URL=http://127.0.0.1:9/api/
check "/healthz is 503 when Slack is not connected" \
    [ "$(curl -s -o "$dir/body" -w '%{http_code}' "$url/healthz")" = 503 ]
check "with the reason" grep -q 'not connected to Slack' "$dir/body"
exit $((fails > 0))
