#!/bin/sh
# e2e_remind_slack.sh PMBOT - a reminder pass to 10,000 assignees against
# the loopback Slack fake with chat.postMessage rate limited (429 with
# Retry-After) part of the way: every assignee gets their DM exactly once
# (a header and their action's line), none is lost or doubled, and every
# outbox row ends done. Prints ok / not ok lines.
. tests/lib.sh
pmbot=$1
build=$(dirname "$pmbot")
USERS=${E2E_ASSIGNEES:-10000}
unset PMBOT_NOW PMBOT_FAULT PMBOT_PLATFORM PMBOT_WEBHOOK_TOKEN
export PMBOT_DB="$dir/pmbot.db" PMBOT_LOG_LEVEL=error
db() { sqlite3 "$PMBOT_DB" "$1"; }

start_fake "$build"
check "the fake Slack listens on loopback" [ -n "$port" ]
[ -n "$port" ] || exit 1
"$pmbot" shell </dev/null >/dev/null 2>&1
t0=1793507880000 # 2026-11-01T04:38Z
sqlite3 "$PMBOT_DB" <<SQL
BEGIN;
INSERT INTO incidents (id, title, severity, state, platform, channel,
                       declared_at, resolved_at)
VALUES (1, 'Many assignees', 2, 'resolved', 'slack', 'C0MANY', $t0,
        $t0 + 3600000);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                        WHERE i < $USERS)
INSERT INTO actions (incident_id, text, assignee, due_date, created_by,
                     created_at)
SELECT 1, 'Follow-up ' || i, 'U' || printf('%07d', i), '2027-01-15', 'e2e',
       $t0 FROM n;
COMMIT;
SQL
ctl ratelimit '{"method":"chat.postMessage","retry_after":1,"count":25}' >/dev/null
PMBOT_PLATFORM=slack SLACK_APP_TOKEN=xapp-test SLACK_BOT_TOKEN=xoxb-test \
SLACK_API_URL="http://127.0.0.1:$port/api/" "$pmbot" remind \
    --now 2026-11-09T10:00:00Z >"$dir/r.out" 2>"$dir/r.err"
check "remind exits 0" [ $? -eq 0 ]
check "the rate limit was hit" \
    [ "$(state | jq '[.calls[] | select(.method == "chat.postMessage" and .status == 429)] | length')" -ge 1 ]
check "every DM channel holds exactly a header and a line" \
    [ "$(state | jq '[.messages | to_entries[] | select(.key | startswith("D")) | .value | length] | [length, (map(select(. != 2)) | length)] | join(" ")' -r)" = "$USERS 0" ]
check "every outbox row is done" \
    [ "$(db 'select count(*) from outbox where state <> 1')" = 0 ]
check "one claimed week per assignee" \
    [ "$(db "select count(*) from reminder_periods where kind = 'weekly'")" = "$USERS" ]
"$pmbot" remind --now 2026-11-10T10:00:00Z >"$dir/r2.out" 2>&1
check "a second pass the same week sends nothing" \
    [ "$(db 'select count(*) from outbox')" = "$(( USERS * 2 ))" ]
[ "$fails" -eq 0 ]
