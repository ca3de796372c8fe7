#!/bin/sh
# e2e_reminders.sh PMBOT - follow-up actions chased by `pmbot remind
# --now` on the terminal platform: six weeks of passes every 3 hours in
# America/New_York across the spring-forward change send each assignee
# exactly one DM a week, at Monday 09:00 local; an escalation once a week
# overdue; the monthly review on a month whose 1st is a Saturday; a dry
# run records nothing; kill -9 in the middle of a pass, then a restart:
# nothing lost, at most the one message in flight repeated.
# Prints ok / not ok lines.
. tests/lib.sh
pmbot=$1
unset PMBOT_NOW PMBOT_FAULT SLACK_BOT_TOKEN SLACK_APP_TOKEN PMBOT_PLATFORM
unset PMBOT_WEBHOOK_TOKEN PMBOT_RESPONDERS MATRIX_HOMESERVER
export PMBOT_DB="$dir/pmbot.db" PMBOT_LOG_LEVEL=warn
export PMBOT_TIMEZONE=America/New_York PMBOT_REVIEW_CHANNEL=reviews
db() { sqlite3 "$PMBOT_DB" "$1"; }

# 1. an incident with actions for bob (later) and carol (due soon)
"$pmbot" shell >"$dir/shell.out" 2>"$dir/shell.err" <<'IN'
/as alice
/clock 2027-02-20T15:00:00Z
!incident start sev2 Cache stampede
!pm action Add jitter to cache expiry @bob 2027-04-30
!pm action Page on the miss ratio @carol 2027-03-03
!incident resolve
IN
check "the shell exits cleanly" [ $? -eq 0 ]
check "two actions are open" [ "$(db "select count(*) from actions where status = 'open'")" = 2 ]

# 2. a pass at 06:00 UTC each day from Saturday 2027-02-20 to Tuesday
# 2027-03-30, and each hour from 12:00 to 15:00 UTC on Mondays: Monday
# 09:00 in New York is 14:00 UTC until the clocks go forward on Sunday
# 2027-03-14, 13:00 UTC after
pass() {
    echo "== $1" >>"$dir/passes.out"
    "$pmbot" remind --now "$1" >>"$dir/passes.out" 2>>"$dir/passes.err" ||
        echo "remind failed at $1" >>"$dir/passes.err"
}
day=$(date -u -d 2027-02-20 +%s)
end=$(date -u -d 2027-03-30 +%s)
: >"$dir/passes.out"
while [ "$day" -le "$end" ]; do
    d=$(date -u -d "@$day" +%Y-%m-%d)
    pass "${d}T06:00:00Z"
    if [ "$(date -u -d "@$day" +%u)" = 1 ]; then
        for h in 12 13 14 15; do pass "${d}T$h:00:00Z"; done
    fi
    day=$((day + 86400))
done
check "every pass exits 0, nothing on stderr" [ ! -s "$dir/passes.err" ]
# the pass that sent each DM to bob: its time
awk '/^== /{ now = $2 } /^\[[0-9]+\] @bob <pmbot> Your open follow-up action/{ print now }' \
    "$dir/passes.out" >"$dir/bob.txt"
check "bob gets one DM a week: six Mondays" [ "$(wc -l <"$dir/bob.txt")" -eq 6 ]
check "at the first pass from Monday 09:00 New York time, across the change" \
    [ "$(paste -sd' ' "$dir/bob.txt")" = "2027-02-22T14:00:00Z 2027-03-01T14:00:00Z 2027-03-08T14:00:00Z 2027-03-15T13:00:00Z 2027-03-22T13:00:00Z 2027-03-29T13:00:00Z" ]
check "one claimed period a week (W07 with nothing to say: opened after its slot)" \
    [ "$(db "select group_concat(period, ' ') from (select period from reminder_periods where kind = 'weekly' and subject = 'terminal:bob' order by period)")" = "2027-W07 2027-W08 2027-W09 2027-W10 2027-W11 2027-W12 2027-W13" ]
awk '/^== /{ now = $2 } /<pmbot> \*?Overdue/{ print now }' "$dir/passes.out" \
    >"$dir/overdue.txt"
check "carol's action is escalated in the channel once a week overdue" \
    [ "$(paste -sd' ' "$dir/overdue.txt")" = "2027-03-04T06:00:00Z 2027-03-11T06:00:00Z 2027-03-18T06:00:00Z 2027-03-25T06:00:00Z" ]
check "naming the assignee and the commander" \
    grep -q 'Overdue: ACT-2 Page on the miss ratio (INC-1) was due 2027-03-03, 1 day ago. @carol (assignee), @alice (commander)' \
    "$dir/passes.out"
awk '/^== /{ now = $2 } /^\[[0-9]+\] #reviews <pmbot> Monthly review/{ print now }' \
    "$dir/passes.out" >"$dir/monthly.txt"
check "the monthly review: Monday 2027-03-01 10:00 New York, once" \
    [ "$(paste -sd' ' "$dir/monthly.txt")" = "2027-03-01T15:00:00Z" ]

# 3. May 2027 starts on a Saturday: Monday the 3rd; a dry run first
"$pmbot" remind --dry-run --now 2027-05-03T14:00:00Z >"$dir/dry.out" 2>&1
check "a dry run describes the monthly review" \
    grep -q '^terminal #reviews: Monthly review of open follow-up actions, 2027-05' "$dir/dry.out"
check "and records nothing" \
    [ "$(db "select count(*) from reminder_periods where period = '2027-05'")" = 0 ]
"$pmbot" remind --now 2027-05-01T15:00:00Z >"$dir/sat.out" 2>&1
check "no May review on Saturday the 1st (April's, missed, goes out once)" sh -c "! grep -q 'actions, 2027-05' '$dir/sat.out' && [ \$(grep -c 'actions, 2027-04' '$dir/sat.out') -eq 1 ]"
"$pmbot" remind --now 2027-05-03T14:00:00Z >"$dir/mon.out" 2>&1
check "the review on Monday the 3rd" \
    grep -q '^\[[0-9]*\] #reviews <pmbot> Monthly review of open follow-up actions, 2027-05' "$dir/mon.out"
check "counting what is open and overdue" grep -q '2 open, 2 overdue' "$dir/mon.out"

# 4. kill -9 in the middle of a pass: three assignees more, the crash
# after the first DM was sent and before its row was marked
"$pmbot" shell >>"$dir/shell.out" 2>>"$dir/shell.err" <<'IN'
/as alice
/join inc-20270220-cache-stampede
/clock 2027-05-05T12:00:00Z
!pm action One @dave 2027-08-01
!pm action Two @erin 2027-08-01
!pm action Three @frank 2027-08-01
IN
PMBOT_FAULT=crash-after-send "$pmbot" remind --now 2027-05-10T14:00:00Z \
    >"$dir/crash.out" 2>&1
check "the crashed pass died" [ $? -ne 0 ]
check "its claims and rows were committed before the crash" \
    [ "$(db "select count(*) from reminder_periods where kind = 'weekly' and period = '2027-W19'")" = 5 ]
"$pmbot" remind --now 2027-05-10T15:00:00Z >"$dir/after.out" 2>&1
check "the restart exits 0" [ $? -eq 0 ]
for u in bob carol dave erin frank; do
    n=$(cat "$dir/crash.out" "$dir/after.out" | grep -c "^\[[0-9]*\] @$u <pmbot> Your open follow-up action")
    check "@$u got this week's DM ($n)" [ "$n" -ge 1 ]
done
total=$(cat "$dir/crash.out" "$dir/after.out" | grep -c "<pmbot> Your open follow-up action")
check "at most the one in flight repeated ($total for 5)" [ "$total" -le 6 ]
check "every row is done" [ "$(db 'select count(*) from outbox where state = 0')" = 0 ]
"$pmbot" remind --now 2027-05-12T15:00:00Z >"$dir/later.out" 2>&1
check "a later pass that week sends nothing more" \
    sh -c "! grep -q 'Your open follow-up action' '$dir/later.out'"
[ "$fails" -eq 0 ]
