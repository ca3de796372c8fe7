#!/bin/sh
# e2e_review.sh PMBOT [valgrind] - the blameless review typed into `pmbot shell`: a
# SEV1 incident's whole questionnaire with every steering word, a kill -9
# in the middle (the restart resumes at the same question with the answers
# so far), the "both" verdict, the document against
# tests/golden/e2e_review.md and .html, and the published summary.
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
room=inc-20261101-vault-drained-via-withdraw-reentrancy

# wait_for PATTERN FILE: until the shell has printed it (what it prints
# after a commit: a ✅ is performed from the outbox)
wait_for() {
    for _ in $(seq 400); do
        grep -q -- "$1" "$2" && return 0
        sleep 0.05
    done
    return 1
}

# 1. the incident, and the review up to worked well; then kill -9
mkfifo "$dir/in"
$wrap "$pmbot" shell <"$dir/in" >"$dir/s1.out" 2>"$dir/s1.err" &
bpid=$!
exec 3>"$dir/in"
cat >&3 <<'IN'
/as alice
/clock 2026-11-01T04:18:00Z
!incident start sev1 Vault drained via withdraw() reentrancy
/clock 2026-11-01T04:21:00Z
outflow alert: 1,200 ETH left the vault in 3 blocks
/react 4 📌
/as bob
/clock 2026-11-01T04:26:00Z
guardian paused the vault
/react 5 📌
/clock 2026-11-01T05:20:00Z
!incident resolve
!pm start
!pm start
/as carol
while we wait, lunch?
status
next
skip 2
The withdraw() path sent ETH before it updated the balance, and nothing guarded against reentrancy
the pause guardian stopped the drain within 5 minutes
IN
check "the answer before the kill is committed" \
    wait_for 'the pause guardian stopped the drain within 5 minutes' "$dir/s1.out"
check "and confirmed" wait_for 'pmbot reacted ✅ to \[2[0-9]\]' "$dir/s1.out"
kill -9 "$bpid"
wait "$bpid" 2>/dev/null
exec 3>&-
bpid=
check "the review is a conversation in the channel" \
    grep -q 'Blameless review of INC-1 · Vault drained' "$dir/s1.out"
check "the timeline question names the silence" \
    grep -q 'Silences longer than review_gap while it was open: 04:26–05:20 UTC (54m)' \
    "$dir/s1.out"
check "a second /pm start says where it stands" \
    grep -q 'The review of INC-1 is running, at Timeline: answer here' \
    "$dir/s1.out"
check "a message that is no answer to the timeline gets a hint" \
    grep -q 'The timeline takes entries with' "$dir/s1.out"
check "status says where the review stands" \
    grep -q 'Review of INC-1: question 1 of 6 (Timeline)' "$dir/s1.out"
check "a steering word with wrong arguments gets its usage" \
    grep -q '`skip` alone leaves this question' "$dir/s1.out"

# 2. restarted: the same question, the answers so far, to the end
$wrap "$pmbot" shell >"$dir/s2.out" 2>"$dir/s2.err" <<'IN'
/as carol
/join inc-20261101-vault-drained-via-withdraw-reentrancy
/clock 2026-11-01T06:00:00Z
status
the outflow alert fired within a minute
edit 2 the outflow alert fired within one block
it was bob's fault, he was careless
next
no invariant test covered the vault's total balance
next
Add a reentrancy guard to withdraw() 2026-11-20
Add a reentrancy guard to withdraw() @dave 2026-10-01
Add a reentrancy guard to withdraw() @dave 2026-11-20
next
production
unit tests, code review, vibes
unit tests, code review, external audit
no
no
no
yes
yes
no
no
no
accept 7
accept 1
!pm start
!pm report
IN
check "the restarted shell exits cleanly" [ $? -eq 0 ]
check "the restart resumes at the same question" \
    grep -q 'Review of INC-1: question 3 of 6 (Worked well)' "$dir/s2.out"
check "the answer given before the kill is there once" \
    sh -c "[ \$(sqlite3 '$PMBOT_DB' \"select count(*) from answers where answer like 'the pause guardian%'\") -eq 1 ]"
check "a blaming answer is recorded and answered privately" \
    grep -q '(only @carol sees this) Your answer is recorded as you wrote it' \
    "$dir/s2.out"
check "an action without an owner is refused with the reason" \
    grep -q 'Not added: an action needs an assignee' "$dir/s2.out"
check "an action due in the past is refused with the reason" \
    grep -q 'Not added: the target date is already past' "$dir/s2.out"
check "an unknown layer is refused with the list of the eight" \
    grep -q '“vibes” is not a layer. The eight are: unit testing, end-to-end testing, invariant testing, formal verification, peer review, internal audit, external audit, bug bounty' \
    "$dir/s2.out"
check "the verdict names both, underperformed first" \
    grep -q 'Verdict: Underperformed: peer review; Not enough layers' "$dir/s2.out"
check "a proposal number out of range is refused" \
    grep -q 'numbers from 1 to 2' "$dir/s2.out"
check "accepted proposals are actions for the commander in 14 days" \
    grep -q 'ACT-2 Strengthen peer review: .* — @alice, by 2026-11-15' \
    "$dir/s2.out"
check "a /pm start after the end says it is complete" \
    grep -q 'The review of INC-1 is complete' "$dir/s2.out"
check "the summary has the verdict and the open actions" \
    sh -c "grep -q 'Security layers: Underperformed: peer review; Not enough layers' '$dir/s2.out' && grep -q '• ACT-1 Add a reentrancy guard to withdraw() — @dave, by 2026-11-20' '$dir/s2.out'"
check "nothing on stderr" [ ! -s "$dir/s1.err" ] && [ ! -s "$dir/s2.err" ]

# 3. the documents equal the golden files
PMBOT_NOW=2026-11-02T00:00:00Z $wrap "$pmbot" report 1 >"$dir/review.md"
if diff -u tests/golden/e2e_review.md "$dir/review.md"; then
    ok "the document matches tests/golden/e2e_review.md"
else
    fail "the document matches tests/golden/e2e_review.md"
fi
PMBOT_NOW=2026-11-02T00:00:00Z "$pmbot" report 1 --format html \
    >"$dir/review.html"
if diff -u tests/golden/e2e_review.html "$dir/review.html"; then
    ok "the html document matches tests/golden/e2e_review.html"
else
    fail "the html document matches tests/golden/e2e_review.html"
fi
# 4. each verdict, and the analysis found earlier, not asked, or alone,
# against its golden document: review_case NAME SEV, the replies on stdin
review_case() {
    cdb="$dir/$1.db"
    {
        cat <<IN
/as alice
/clock 2026-11-01T04:18:00Z
!incident start sev$2 Token bridge paused after an upgrade
/clock 2026-11-01T04:30:00Z
relayer queue stuck at block 1,204,332
/react 4 📌
/clock 2026-11-01T05:00:00Z
!incident resolve
/as bob
IN
        cat
    } | PMBOT_DB="$cdb" $wrap "$pmbot" shell >"$dir/$1.out" 2>&1
    check "$1: the shell exits cleanly" [ $? -eq 0 ]
    PMBOT_DB="$cdb" PMBOT_NOW=2026-11-02T00:00:00Z "$pmbot" report 1 \
        >"$dir/$1.md"
    PMBOT_DB="$cdb" PMBOT_NOW=2026-11-02T00:00:00Z "$pmbot" report 1 \
        --format html >"$dir/$1.html"
    for ext in md html; do
        if diff -u "tests/golden/review_$1.$ext" "$dir/$1.$ext"; then
            ok "$1: the document matches tests/golden/review_$1.$ext"
        else
            fail "$1: the document matches tests/golden/review_$1.$ext"
        fi
    done
}
# questionnaire: the five questions before the layers
questionnaire() {
    cat <<'IN'
!pm start
next
The upgrade changed the message format without a version check
the pause held
next
the relayer alert paged late
next
Version the bridge message format @bob 2026-11-30
next
IN
}
{ questionnaire; printf '%s\n' production 'unit tests, code review' \
    no no no no yes no no no accept; } | review_case underperformed 1
{ questionnaire; printf '%s\n' pre-production 'unit tests' \
    no yes no no no no no no accept; } | review_case not_enough 1
{ questionnaire; printf '%s\n' production \
    'unit tests, e2e, peer review, external audit' \
    no no no no no no no no next; } | review_case not_demanding 0
{ questionnaire; echo earlier; } | review_case found_earlier 1
questionnaire | review_case not_severe 3
printf '%s\n' '!pm layers' production none no no no yes no no no no \
    'accept 1' | review_case layers_alone 2
[ "$fails" -eq 0 ]
