#!/bin/sh
# e2e_shell.sh PMBOT [valgrind] - scripts `pmbot shell` through a whole
# incident and checks the document against tests/golden/e2e_incident.md,
# then restarts on the same database, and walks the CLI's error paths.
# Prints "ok - ..." / "not ok - ..." lines; exits non-zero on any failure.
. tests/lib.sh
pmbot=$1
wrap=""
if [ "$2" = valgrind ]; then
    wrap="valgrind -q --error-exitcode=99 --leak-check=full"
    wrap="$wrap --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect"
fi
export PMBOT_DB="$dir/pmbot.db"
export PMBOT_LOG_LEVEL=warn
unset PMBOT_NOW SLACK_BOT_TOKEN SLACK_APP_TOKEN PMBOT_WEBHOOK_TOKEN


# 1. a whole incident, typed into the terminal
$wrap "$pmbot" shell -c config.example >"$dir/shell.out" 2>"$dir/shell.err" <<'IN'
/as alice
/clock 2026-11-01T04:18:00Z
/incident start sev2 Payments API <down> | 5xx & @channel
/clock 2026-11-01T04:21:30Z
error rate is 45% on payments-api
/clock 2026-11-01T04:25:00Z
/as bob
rolled back deploy 2026.11.01-3
/react 4 📌
/react 5 📌
/clock 2026-11-01T04:26:00Z
this one is chatter
/react 6 :pushpin:
/unreact 6 📌
/edit 5 rolled back deploy 2026.11.01-3 (canary)
/clock 2026-11-01T04:40:00Z
!incident note error rate back to 0.1%
!incident at 04:05 first customer report | via support
!incident sev 1
!incident role scribe @bob
!incident role scribe @bob
!incident role chef @bob
!pm action Add a canary stage to the deploy pipeline @bob 2026-11-20
!pm action Page on 5xx ratio not count 2026-11-22
!pm action Fix the runbook @carol 2026-02-30
!pm action Fix the runbook @carol 2026-11-30
/clock 2026-11-01T05:02:00Z
!incident resolve
!pm done ACT-2
/as alice
!pm done ACT-2
/as bob
!pm frobnicate
!pm report
/join general
!incident sev 0
IN
status=$?
check "shell exits cleanly" [ "$status" -eq 0 ]
check "the incident got its own room" \
    grep -q '^\* pmbot opened #inc-20261101-payments-api-down-5xx-channel$' \
    "$dir/shell.out"
check "the declarer followed the invitation" \
    grep -q '^\* alice is now in #inc-20261101-payments-api-down-5xx-channel$' \
    "$dir/shell.out"
check "a role is handed over and said" \
    grep -q '@bob is now the scribe of INC-1\.' "$dir/shell.out"
check "handing it to who has it is refused, privately" \
    grep -q '(only @bob sees this) @bob is already the scribe of INC-1\.' \
    "$dir/shell.out"
check "an unknown role is refused with the list" \
    grep -q 'Roles are commander, scribe and comms' "$dir/shell.out"
check "an action without an assignee is refused with the reason" \
    grep -q 'Not added: an action needs an assignee' "$dir/shell.out"
check "a date not on the calendar is refused with the reason" \
    grep -q 'Not added: the target date is not a real calendar date' \
    "$dir/shell.out"
check "someone else's action is refused, naming who can" \
    grep -q "(only @bob sees this) Only ACT-2's assignee @carol or INC-1's commander @alice can change it\." \
    "$dir/shell.out"
check "the commander completes it" \
    grep -q 'ACT-2 done: Fix the runbook (INC-1)\.' "$dir/shell.out"
check "an unknown command gets a usage hint" \
    grep -q 'Unknown command !pm frobnicate' "$dir/shell.out"
check "a channel command elsewhere says so" \
    grep -q 'works in an incident channel; this room is not one' \
    "$dir/shell.out"
check "the report is published in the channel" \
    grep -q '^\* pmbot published INC-1-postmortem.md in #inc-' "$dir/shell.out"
check "nothing on stderr" [ ! -s "$dir/shell.err" ]

# 2. the document, rendered by the CLI, equals the golden file
PMBOT_NOW=2026-11-25T00:00:00Z $wrap "$pmbot" report INC-1 >"$dir/report.md"
check "pmbot report exits 0" [ $? -eq 0 ]
if diff -u tests/golden/e2e_incident.md "$dir/report.md"; then
    ok "the report matches tests/golden/e2e_incident.md"
else
    fail "the report matches tests/golden/e2e_incident.md"
fi
PMBOT_NOW=2026-11-25T00:00:00Z $wrap "$pmbot" report \
    '#inc-20261101-payments-api-down-5xx-channel' >"$dir/byname.md"
check "an incident can be named by its channel" \
    cmp -s "$dir/report.md" "$dir/byname.md"
$wrap "$pmbot" report 1 --format html >"$dir/report.html"
check "the html report escapes user text" \
    grep -q 'Payments API &lt;down&gt; | 5xx &amp; @channel' "$dir/report.html"

# 3. a restart on the same database keeps everything and carries on
$wrap "$pmbot" shell >"$dir/shell2.out" 2>&1 <<'IN'
/as alice
/join inc-20261101-payments-api-down-5xx-channel
/clock 2026-11-01T05:10:00Z
!incident note postmortem scheduled
!incident status
IN
check "a restarted shell finds the incident by its room" \
    grep -q 'Noted on the INC-1 timeline at 05:10 UTC' "$dir/shell2.out"
check "status after restart counts every entry" \
    grep -q 'Timeline: 10 entries' "$dir/shell2.out"
PMBOT_NOW=2026-11-25T00:00:00Z "$pmbot" actions >"$dir/actions.out"
check "pmbot actions lists the open ones" \
    grep -q '^ACT-1 *INC-1 *2026-11-20 *overdue *@bob *Add a canary' \
    "$dir/actions.out"
check "pmbot actions hides done ones" \
    sh -c "! grep -q 'ACT-2' '$dir/actions.out'"
"$pmbot" actions --all >"$dir/all.out"
check "pmbot actions --all shows done ones" \
    grep -q '^ACT-2 .* done ' "$dir/all.out"

# 4. bad set-ups: one clear line and exit status 2, nothing changed
"$pmbot" report 1 -c "$dir/missing.conf" >/dev/null 2>"$dir/err"
check "a missing config exits 2" [ $? -eq 2 ]
check "a missing config says so in one line" \
    sh -c "[ \$(wc -l < '$dir/err') -eq 1 ] && grep -q 'cannot read configuration file' '$dir/err'"
printf '[pmbot]\nplatfrom = slack\n' >"$dir/bad.conf"
"$pmbot" check-config -c "$dir/bad.conf" >/dev/null 2>"$dir/err"
check "an unknown key exits 2 naming the line" \
    sh -c "[ \$? -eq 2 ] || true; grep -q 'bad.conf:2: \[pmbot\] platfrom: unknown key' '$dir/err'"
PMBOT_DB=/nonexistent-dir/pmbot.db "$pmbot" report 1 >/dev/null 2>"$dir/err"
check "an unopenable database exits 2" [ $? -eq 2 ]
check "a missing database names the file" \
    grep -q "no database at /nonexistent-dir/pmbot.db" "$dir/err"
echo "not a database at all, just some text of a reasonable size" \
    >"$dir/text.db"
PMBOT_DB="$dir/text.db" "$pmbot" actions >/dev/null 2>"$dir/err"
check "a file that is not a database exits 2" [ $? -eq 2 ]
cp "$PMBOT_DB" "$dir/newer.db"
sqlite3 "$dir/newer.db" 'PRAGMA user_version = 42;'
PMBOT_DB="$dir/newer.db" "$pmbot" report 1 >/dev/null 2>"$dir/err"
check "a database from a newer pmbot exits 2" [ $? -eq 2 ]
check "a database from a newer pmbot is refused with a clear line" \
    grep -q 'written by a newer pmbot (schema version 42' "$dir/err"
"$pmbot" report 99 >/dev/null 2>"$dir/err"
check "an unknown incident exits 1" [ $? -eq 1 ]
"$pmbot" frob >/dev/null 2>&1
check "an unknown CLI command exits 2" [ $? -eq 2 ]
"$pmbot" --version | grep -q '^pmbot [0-9]'
check "--version prints the version" [ $? -eq 0 ]
"$pmbot" --help | grep -q 'check-config'
check "--help lists the commands" [ $? -eq 0 ]
SLACK_BOT_TOKEN=xoxb-1234567-very-secret PMBOT_WEBHOOK_TOKEN=hook-secret-99 \
    "$pmbot" check-config >"$dir/cfg.out" 2>&1
check "check-config never prints a secret" \
    sh -c "! grep -q -e very-secret -e hook-secret '$dir/cfg.out' && grep -q 'bot_token = (set, hidden)' '$dir/cfg.out'"

# 5. hostile text: no escape sequence reaches the terminal or the document
export PMBOT_DB="$dir/hostile.db"
esc=$(printf '\033')
bel=$(printf '\007')
{
    printf '/as alice\n/clock 2026-11-01T04:18:00Z\n'
    printf '!incident start sev9 x\n'
    printf '!incident start sev1 Hostile\033]0;owned\007 title\n'
    printf '!pm action \033]0;x\007\033[2J @bob 2026-12-05\n'
    printf 'before\000after the NUL\n'
    printf '!pm action %s @bob 2026-12-05\n' "$(head -c 9000 /dev/zero | tr '\0' x)"
    printf '!pm actions\n'
} | $wrap "$pmbot" shell >"$dir/hostile.out" 2>"$dir/hostile.err"
check "an out-of-range severity is refused, not taken as the title" \
    grep -q 'Severity is sev0 (worst) to sev4, not sev9' "$dir/hostile.out"
check "the shell prints no ESC or BEL" \
    sh -c "! grep -q -e '$esc' -e '$bel' '$dir/hostile.out'"
check "a line with a NUL byte is handled whole" \
    grep -q '<alice> beforeafter the NUL$' "$dir/hostile.out"
check "an over-long line is refused as too long, not cut" \
    grep -q '^\* that line is longer than 8192 bytes: not sent$' \
    "$dir/hostile.out"
check "the over-long action was not added" \
    [ "$(sqlite3 "$PMBOT_DB" 'select count(*) from actions')" = 1 ]
# an older pmbot kept text raw: what is printed of it is still neutralised
sqlite3 "$PMBOT_DB" "update actions set text = 'raw' || char(27) || ']0;x' || char(7) || char(27) || '[2J';
    update incidents set title = 'raw' || char(27) || '[2J' || char(194, 155) || 'x'"
"$pmbot" report 1 >"$dir/hostile.md"
"$pmbot" report 1 --format html >"$dir/hostile.html"
check "pmbot report prints no ESC or BEL" \
    sh -c "! grep -q -e '$esc' -e '$bel' '$dir/hostile.md' '$dir/hostile.html'"
"$pmbot" actions >"$dir/hostile.actions"
check "pmbot actions prints no ESC or BEL" \
    sh -c "grep -q '^ACT-1 .*@bob *raw.\]0;x' '$dir/hostile.actions' && ! grep -q -e '$esc' -e '$bel' '$dir/hostile.actions'"
printf '/join inc-20261101-hostile-0-owned-title\n!incident status\n' |
    "$pmbot" shell >"$dir/hostile2.out" 2>&1
check "a raw title from the database is neutralised in the shell" \
    sh -c "grep -q 'raw.\[2J' '$dir/hostile2.out' && ! grep -q '$esc' '$dir/hostile2.out'"

exit $((fails > 0))
