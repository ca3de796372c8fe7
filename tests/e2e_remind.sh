#!/bin/sh
# e2e_remind.sh PMBOT - the 48-hour review clock, on the terminal platform,
# with fixed clocks (/clock, `pmbot remind --now`): the resolution says
# when the review is due; a dry run prints the reminders and records
# nothing; the 24-hour ones go out once; a second run sends nothing; two
# concurrent runs send the 47-hour ones once between them; a restart
# repeats nothing; a review that has started gets no reminder; with a
# daemon running, `pmbot remind` leaves the sending to it, and it sends
# once. Prints ok / not ok lines.
. tests/lib.sh
pmbot=$1
unset PMBOT_NOW PMBOT_FAULT SLACK_BOT_TOKEN SLACK_APP_TOKEN PMBOT_PLATFORM
unset PMBOT_WEBHOOK_TOKEN PMBOT_RESPONDERS MATRIX_HOMESERVER
export PMBOT_DB="$dir/pmbot.db"
export PMBOT_LOG_LEVEL=warn
db() { sqlite3 "$PMBOT_DB" "$1"; }
chan=inc-20300301-disk-full-on-db-1
# lines FILE... PATTERN: how many lines match (fixed string)
lines() {
    pat=$1
    shift
    cat "$@" | grep -cF -- "$pat"
}
r24chan="#$chan <pmbot> Review reminder: the blameless review of INC-1 (Disk full on db-1) is due by 2030-03-03 12:00 UTC, in 23 hours, and has not started. @alice"
r47chan="#$chan <pmbot> Review reminder: the blameless review of INC-1 (Disk full on db-1) is due by 2030-03-03 12:00 UTC, in 1 hour, and has not started. @alice"
rdm="@alice <pmbot> The blameless review of INC-1 (Disk full on db-1) is due by 2030-03-03 12:00 UTC and has not started: run it in #$chan."

# 1. declared at 10:00 and resolved at 12:00 on 2030-03-01, in the shell
"$pmbot" shell >"$dir/shell.out" 2>"$dir/shell.err" <<'IN'
/as alice
/clock 2030-03-01T10:00:00Z
!incident start sev2 Disk full on db-1
/clock 2030-03-01T12:00:00Z
!incident resolve
/clock 2030-03-02T11:59:00Z
IN
check "the shell exits cleanly" [ $? -eq 0 ]
check "the resolution says the review is due by resolution + 48 h" \
    grep -q "^\[[0-9]*\] #$chan <pmbot> INC-1 resolved after 2h 0m\. Hold the blameless review within 48 hours, by 2030-03-03 12:00 UTC" "$dir/shell.out"
check "two review-clock jobs are due, at +24 h and +47 h" \
    [ "$(db "select group_concat(period || '@' || due_at || '@' || state, ' ') from (select * from jobs where kind = 'review-clock' and subject = 1 order by period)")" = \
      "24h@$(( $(date -u -d 2030-03-02T12:00:00Z +%s) * 1000 ))@0 47h@$(( $(date -u -d 2030-03-03T11:00:00Z +%s) * 1000 ))@0" ]
check "a clock short of +24 h reminds of nothing" \
    sh -c "! grep -q 'Review reminder' '$dir/shell.out'"
check "nothing on stderr" [ ! -s "$dir/shell.err" ]
outbox0=$(db 'select count(*) from outbox')

# 2. the dry run at +25 h prints both, records nothing
"$pmbot" remind --dry-run --now 2030-03-02T13:00:00Z >"$dir/dry.out" 2>"$dir/dry.err"
check "remind --dry-run exits 0" [ $? -eq 0 ]
check "the dry run prints the reminder for the channel" \
    grep -qF "terminal #$chan: Review reminder: the blameless review of INC-1 (Disk full on db-1) is due by 2030-03-03 12:00 UTC, in 23 hours" "$dir/dry.out"
check "and the DM to the declarer" \
    grep -qF "terminal DM @alice: The blameless review of INC-1 (Disk full on db-1) is due by 2030-03-03 12:00 UTC and has not started: run it in #$chan." "$dir/dry.out"
check "and says it sent and recorded nothing" \
    grep -q '^1 reminder due (dry run: nothing sent or recorded)$' "$dir/dry.out"
check "the dry run posts nothing" sh -c "! grep -q '<pmbot>' '$dir/dry.out'"
PMBOT_NOW=2030-03-02T13:00:00Z "$pmbot" remind --dry-run >"$dir/drynow.out" 2>&1
check "PMBOT_NOW sets the time as --now does" cmp -s "$dir/dry.out" "$dir/drynow.out"
"$pmbot" remind --now 2030-03-02 >"$dir/bad.out" 2>&1
check "a --now that is not RFC 3339 UTC exits 2" [ $? -eq 2 ]
check "with a clear line" grep -q -- '--now is YYYY-MM-DDTHH:MM' "$dir/bad.out"
PMBOT_NOW=tomorrow "$pmbot" remind >"$dir/bad2.out" 2>&1
check "a bad PMBOT_NOW exits 2 too" [ $? -eq 2 ]
check "after it both jobs are still due" \
    [ "$(db "select count(*) from jobs where kind = 'review-clock' and state = 0")" = 2 ]
check "and the outbox has no new row" [ "$(db 'select count(*) from outbox')" = "$outbox0" ]

# 3. the real run at +25 h sends the 24-hour ones, once
"$pmbot" remind --now 2030-03-02T13:00:00Z >"$dir/r1.out" 2>"$dir/r1.err"
check "remind exits 0" [ $? -eq 0 ]
check "the channel is reminded, 24 hours before the deadline" \
    [ "$(lines "$r24chan" "$dir/r1.out")" = 1 ]
check "the declarer is reminded in a DM" [ "$(lines "$rdm" "$dir/r1.out")" = 1 ]
check "it counts one duty done" grep -q '^1 reminder due$' "$dir/r1.out"
check "the 24-hour job is done, the 47-hour one still due" \
    [ "$(db "select group_concat(period || '=' || state, ' ') from (select * from jobs where kind = 'review-clock' order by period)")" = "24h=1 47h=0" ]
check "its outbox rows are all done" [ "$(db 'select count(*) from outbox where state <> 1')" = 0 ]
check "nothing on stderr" [ ! -s "$dir/r1.err" ]
"$pmbot" remind --now 2030-03-02T13:00:00Z >"$dir/r2.out" 2>&1
check "a second run at the same time exits 0" [ $? -eq 0 ]
check "and sends nothing: 0 due" \
    sh -c "grep -q '^0 reminders due\$' '$dir/r2.out' && ! grep -q '<pmbot>' '$dir/r2.out'"
"$pmbot" remind --dry-run --now 2030-03-02T13:00:00Z >"$dir/dry2.out" 2>&1
check "a dry run after it finds nothing due" \
    sh -c "grep -q '^0 reminders due' '$dir/dry2.out' && ! grep -q 'terminal ' '$dir/dry2.out'"

# 4. two runs at +47 h 30 m, started together: the 47-hour ones once in all
# (on copies too: each round is another chance for a race to show)
cp "$PMBOT_DB" "$dir/copy1.db"
cp "$PMBOT_DB" "$dir/copy2.db"
for d in "$PMBOT_DB" "$dir/copy1.db" "$dir/copy2.db"; do
    n=$(basename "$d" .db)
    PMBOT_DB=$d "$pmbot" remind --now 2030-03-03T11:30:00Z >"$dir/$n.a" 2>&1 &
    pa=$!
    PMBOT_DB=$d "$pmbot" remind --now 2030-03-03T11:30:00Z >"$dir/$n.b" 2>&1 &
    pb=$!
    wait "$pa"
    sa=$?
    wait "$pb"
    sb=$?
    check "$n: both concurrent runs exit 0" [ "$sa$sb" = 00 ]
    check "$n: the channel's 47-hour reminder once in both outputs" \
        [ "$(lines "$r47chan" "$dir/$n.a" "$dir/$n.b")" = 1 ]
    check "$n: the declarer's DM once in both outputs" \
        [ "$(lines "$rdm" "$dir/$n.a" "$dir/$n.b")" = 1 ]
    check "$n: one of the two counted the duty, the other none" \
        [ "$(cat "$dir/$n.a" "$dir/$n.b" | grep -E '^[0-9]+ reminders? due$' | sort | paste -sd, -)" = "0 reminders due,1 reminder due" ]
    check "$n: the outbox is all done" \
        [ "$(PMBOT_DB=$d sqlite3 "$d" 'select count(*) from outbox where state <> 1')" = 0 ]
done
check "the 24-hour ones were not sent again" \
    [ "$(lines "Review reminder" "$dir/pmbot.a" "$dir/pmbot.b")" = 1 ]

# 5. a restart past the deadline repeats nothing
"$pmbot" shell >"$dir/restart.out" 2>&1 <<'IN'
/as alice
/clock 2030-03-04T00:00:00Z
/join inc-20300301-disk-full-on-db-1
!incident status
IN
check "a restarted shell runs" grep -q 'INC-1' "$dir/restart.out"
check "and repeats no reminder" \
    sh -c "! grep -q -e 'Review reminder' -e 'blameless review of INC-1' '$dir/restart.out'"
"$pmbot" remind --now 2030-03-05T00:00:00Z >"$dir/late.out" 2>&1
check "a later remind sends nothing" \
    sh -c "grep -q '^0 reminders due\$' '$dir/late.out' && ! grep -q '<pmbot>' '$dir/late.out'"

# 6. a review that has started is not reminded of
"$pmbot" shell >"$dir/inc2.out" 2>&1 <<'IN'
/as bob
/clock 2030-04-01T08:00:00Z
!incident start sev3 Cache misses
/clock 2030-04-01T09:00:00Z
!incident resolve
IN
check "a second incident is resolved" \
    grep -q 'INC-2 resolved after 1h 0m' "$dir/inc2.out"
"$pmbot" shell >"$dir/start2.out" 2>&1 <<'IN'
/as bob
/join inc-20300401-cache-misses
/clock 2030-04-01T10:00:00Z
!pm start
stop
IN
check "the review of the second incident starts" \
    grep -q 'Blameless review of INC-2' "$dir/start2.out"
"$pmbot" remind --dry-run --now 2030-04-02T10:00:00Z >"$dir/dry3.out" 2>&1
check "the dry run has no reminder for a started review" \
    sh -c "grep -q '^0 reminders due' '$dir/dry3.out' && ! grep -q 'INC-2' '$dir/dry3.out'"
"$pmbot" remind --now 2030-04-02T10:00:00Z >"$dir/r3.out" 2>&1
check "remind sends no reminder for a started review" \
    sh -c "grep -q '^0 reminders due\$' '$dir/r3.out' && ! grep -q -e 'INC-2' -e '<pmbot>' '$dir/r3.out'"
"$pmbot" remind --now 2030-04-03T08:30:00Z >"$dir/r4.out" 2>&1
check "nor at +47 h" \
    sh -c "grep -q '^0 reminders due\$' '$dir/r4.out' && ! grep -q -e 'INC-2' -e '<pmbot>' '$dir/r4.out'"

# 7. with a daemon running, `pmbot remind` writes the reminders and the
# daemon (which watches the outbox) sends them, once
"$pmbot" shell >"$dir/inc3.out" 2>&1 <<'IN'
/as carol
/clock 2030-05-01T08:00:00Z
!incident start sev2 Queue stuck
/clock 2030-05-01T09:00:00Z
!incident resolve
IN
until_file() { # until_file SECONDS PATTERN FILE
    end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le "$end" ]; do
        grep -qF -- "$2" "$3" && return 0
        sleep 0.05
    done
    return 1
}
mkfifo "$dir/in"
PMBOT_LOG_LEVEL=info PMBOT_LISTEN=127.0.0.1:0 "$pmbot" run <"$dir/in" \
    >"$dir/daemon.out" 2>"$dir/daemon.err" &
bpid=$!
exec 3>"$dir/in" # holds the daemon's stdin open
check "the daemon is up (its listener logged)" \
    until_file 10 "webhook: listening on 127.0.0.1:" "$dir/daemon.err"
"$pmbot" remind --now 2030-05-02T10:00:00Z >"$dir/r5.out" 2>&1
check "remind with a daemon running leaves the sending to it" \
    sh -c "grep -q '^1 reminder due\$' '$dir/r5.out' && grep -q 'the running pmbot sends them' '$dir/r5.out' && ! grep -q '<pmbot>' '$dir/r5.out'"
check "the daemon sends the channel's reminder" \
    until_file 10 "INC-3 (Queue stuck) is due by 2030-05-03 09:00 UTC, in 23 hours" "$dir/daemon.out"
check "and the DM" until_file 5 "@carol <pmbot> The blameless review of INC-3" "$dir/daemon.out"
check "each once" \
    [ "$(lines 'blameless review of INC-3' "$dir/daemon.out")" = 2 ]
check "the outbox is all done" [ "$(db 'select count(*) from outbox where state <> 1')" = 0 ]
exec 3>&-
kill "$bpid"
wait "$bpid"
check "the daemon stops cleanly" [ $? -eq 0 ]
bpid=

# 8. the same with `pmbot shell` holding the database: it too must send
# what `pmbot remind` wrote (remind says "the running pmbot sends them")
"$pmbot" shell >"$dir/inc4.out" 2>&1 <<'IN'
/as dave
/clock 2030-06-01T08:00:00Z
!incident start sev2 Shell holds the db
/clock 2030-06-01T09:00:00Z
!incident resolve
IN
mkfifo "$dir/in2"
"$pmbot" shell <"$dir/in2" >"$dir/shell2.out" 2>&1 &
bpid=$!
exec 3>"$dir/in2"
echo '/as dave' >&3
check "the shell is up" until_file 10 '* you are dave' "$dir/shell2.out"
"$pmbot" remind --now 2030-06-02T10:00:00Z >"$dir/r6.out" 2>&1
check "remind with a shell running leaves the sending to it" \
    grep -q 'the running pmbot sends them' "$dir/r6.out"
check "the running shell sends the reminder it was left" \
    until_file 6 "INC-4 (Shell holds the db) is due by 2030-06-03 09:00 UTC, in 23 hours" "$dir/shell2.out"
echo '/quit' >&3
exec 3>&-
wait "$bpid"
bpid=
check "no sanitizer report" \
    sh -c "! grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error' '$dir'/*.out '$dir'/*.err '$dir'/*.a '$dir'/*.b"
exit $((fails > 0))
