#!/bin/sh
# e2e_platforms.sh PMBOT - which platforms `pmbot run` connects, read from
# its log: Slack tokens only (against tests/fake_slack.c) -> Slack; none ->
# the terminal; one Slack token of two -> a refusal naming the missing
# variable, never the token; PMBOT_PLATFORM=terminal with the tokens set
# -> the terminal only; the offline commands need no credentials even with
# PMBOT_PLATFORM=slack. Prints ok / not ok lines.
. tests/lib.sh
pmbot=$1
build=$(dirname "$pmbot")
unset PMBOT_NOW PMBOT_FAULT SLACK_BOT_TOKEN SLACK_APP_TOKEN PMBOT_PLATFORM
unset PMBOT_WEBHOOK_TOKEN PMBOT_RESPONDERS PMBOT_ALARM_PLATFORM SLACK_API_URL
unset MATRIX_HOMESERVER MATRIX_USER_ID MATRIX_ACCESS_TOKEN MATRIX_PASSWORD
export PMBOT_DB="$dir/pmbot.db"
export PMBOT_LOG_LEVEL=info
export PMBOT_LISTEN=127.0.0.1:0
# distinctive values: a test greps for them to prove they are not printed
app=xapp-e2e-s3cret-app-71
bot=xoxb-e2e-s3cret-bot-42

until_grep() { # until_grep SECONDS PATTERN FILE
    end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        grep -q -- "$2" "$3" && return 0
        sleep 0.05
    done
    return 1
}
# run_bg LOG [ENV...]: `pmbot run` in the background, its log in LOG
run_bg() {
    log=$1
    shift
    env "$@" "$pmbot" run </dev/null >"$dir/$log.out" 2>"$dir/$log" &
    bpid=$!
}
stop() {
    kill "$bpid"
    wait "$bpid"
    rc=$?
    bpid=
    return $rc
}

start_fake "$build" --bot-token "$bot" --app-token "$app"
check "the fake Slack listens on loopback" [ -n "$port" ]
[ -n "$port" ] || exit 1
api="http://127.0.0.1:$port/api/"

# 1. Slack tokens only: Slack, and the log says why
run_bg slack.log SLACK_APP_TOKEN=$app SLACK_BOT_TOKEN=$bot SLACK_API_URL=$api
check "Slack tokens only: pmbot connects to Slack" until_true 10 '.connections == 1'
check "the log says it connects Slack because both tokens are set" \
    until_grep 5 'connecting slack: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are set' \
    "$dir/slack.log"
check "and not the terminal" sh -c "! grep -q 'connecting terminal' '$dir/slack.log'"
check "it stops cleanly" stop
check "no token reaches the log" \
    sh -c "! grep -q -e '$app' -e '$bot' '$dir/slack.log' '$dir/slack.log.out'"

# 2. no credentials: the terminal
run_bg none.log
check "no credentials: the terminal, and the log says why" \
    until_grep 10 'connecting terminal: no platform credentials are set' \
    "$dir/none.log"
check "the daemon is up (its listener logged)" \
    until_grep 10 'webhook: listening on 127.0.0.1:' "$dir/none.log"
check "it connects nothing else" sh -c "! grep -q 'connecting slack' '$dir/none.log'"
check "it stops cleanly" stop

# 3. one Slack token of two: a refusal naming the missing one, not the
# token; nothing started and no database made
rm -f "$PMBOT_DB"
connects=$(state | jq .connects_total)
calls=$(counts | jq .calls)
env SLACK_BOT_TOKEN=$bot SLACK_API_URL=$api "$pmbot" run </dev/null \
    >"$dir/half.out" 2>"$dir/half.log"
check "only SLACK_BOT_TOKEN: pmbot refuses to start (exit 2)" [ $? -eq 2 ]
check "the refusal names SLACK_APP_TOKEN as the one missing" \
    grep -q 'slack: SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN is not' "$dir/half.log"
check "the refusal never prints the token" \
    sh -c "! grep -q '$bot' '$dir/half.log' '$dir/half.out'"
env SLACK_APP_TOKEN=$app SLACK_API_URL=$api "$pmbot" run </dev/null \
    >"$dir/half2.out" 2>"$dir/half2.log"
check "only SLACK_APP_TOKEN: refused too (exit 2)" [ $? -eq 2 ]
check "naming SLACK_BOT_TOKEN, never the token" \
    sh -c "grep -q 'SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not' '$dir/half2.log' && ! grep -q '$app' '$dir/half2.log' '$dir/half2.out'"
check "a refused start makes no database" [ ! -e "$PMBOT_DB" ]
check "and calls no Slack API" \
    poll counts 1 ".calls == $calls and .connections == 0" 0.05
check "nor opens a socket" \
    [ "$(state | jq .connects_total)" = "$connects" ]

# 4. PMBOT_PLATFORM=terminal wins over the tokens
calls=$(counts | jq .calls)
run_bg override.log PMBOT_PLATFORM=terminal SLACK_APP_TOKEN=$app \
    SLACK_BOT_TOKEN=$bot SLACK_API_URL=$api
check "PMBOT_PLATFORM=terminal with Slack tokens: the terminal" \
    until_grep 10 'connecting terminal: listed in \[pmbot\] platforms' \
    "$dir/override.log"
check "the daemon is up (its listener logged)" \
    until_grep 10 'webhook: listening on 127.0.0.1:' "$dir/override.log"
check "not Slack: no log line, no API call, no socket" \
    sh -c "! grep -q 'connecting slack' '$dir/override.log' && [ \"\$(curl -s http://127.0.0.1:$port/_control/counts | jq '.calls == $calls and .connections == 0')\" = true ]"
check "it stops cleanly" stop
check "no token reaches the log" \
    sh -c "! grep -q -e '$app' -e '$bot' '$dir/override.log' '$dir/override.log.out'"

# 5. the offline commands need no credentials, whatever PMBOT_PLATFORM says
"$pmbot" shell >"$dir/shell.out" 2>&1 <<'IN'
/as alice
/clock 2030-03-01T10:00:00Z
!incident start sev2 Offline commands
!pm action Write the runbook @alice 2030-03-20
/clock 2030-03-01T11:00:00Z
!incident resolve
IN
check "an incident for the offline commands" grep -q 'INC-1 resolved' "$dir/shell.out"
export PMBOT_PLATFORM=slack
"$pmbot" report 1 >"$dir/report.md" 2>"$dir/report.err"
check "PMBOT_PLATFORM=slack, no tokens: pmbot report 1 exits 0" [ $? -eq 0 ]
check "and prints the document" grep -q 'Offline commands' "$dir/report.md"
"$pmbot" actions >"$dir/actions.out" 2>"$dir/actions.err"
check "pmbot actions exits 0" [ $? -eq 0 ]
check "and lists the action" grep -q '^ACT-1 .*Write the runbook' "$dir/actions.out"
"$pmbot" check-config >"$dir/cfg.out" 2>"$dir/cfg.err"
check "pmbot check-config exits 0" [ $? -eq 0 ]
check "and says the configuration is OK" grep -q 'configuration OK' "$dir/cfg.out"
"$pmbot" remind --dry-run --now 2030-03-02T12:00:00Z >"$dir/dry.out" 2>"$dir/dry.err"
check "pmbot remind --dry-run exits 0" [ $? -eq 0 ]
check "and prints the reminder it would send" \
    grep -q 'Review reminder: the blameless review of INC-1 (Offline commands)' "$dir/dry.out"
check "none of them complains on stderr" \
    sh -c "! cat '$dir/report.err' '$dir/actions.err' '$dir/cfg.err' '$dir/dry.err' | grep -q ."
"$pmbot" run </dev/null >"$dir/run.out" 2>"$dir/run.log"
check "but pmbot run with PMBOT_PLATFORM=slack and no tokens refuses (exit 2)" \
    [ $? -eq 2 ]
check "naming both tokens" \
    grep -q 'SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set' "$dir/run.log"
unset PMBOT_PLATFORM

check "no sanitizer report" \
    sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' '$dir'/*.log '$dir'/*.err"
exit $((fails > 0))
