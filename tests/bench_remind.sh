#!/bin/sh
# bench_remind.sh BUILD - one dry-run reminder pass over 100,000 open
# actions of 10,000 assignees in 1,000 incidents (`pmbot remind --dry-run`
# on a database filled with sqlite3): wall time and peak RSS over RUNS
# runs, printed as ranges. Asserts nothing.
. tests/lib.sh
build=${1:-build}
ACTIONS=${BENCH_ACTIONS:-100000}
USERS=${BENCH_ASSIGNEES:-10000}
RUNS=${BENCH_RUNS:-3}
export PMBOT_DB="$dir/remind.db" PMBOT_LOG_LEVEL=error
unset SLACK_BOT_TOKEN SLACK_APP_TOKEN PMBOT_NOW

# the schema, by the bot itself, then the rows in one transaction
"$build/pmbot" shell </dev/null >/dev/null 2>&1
t0=1793507880000 # 2026-11-01T04:38Z
sqlite3 "$PMBOT_DB" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO incidents (id, title, severity, state, platform, channel,
                       declared_at, resolved_at)
SELECT i, 'Bench incident ' || i, 2, 'resolved', 'terminal', 'inc-' || i,
       $t0, $t0 + 3600000 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                        WHERE i < $ACTIONS)
INSERT INTO actions (incident_id, text, assignee, due_date, created_by,
                     created_at)
SELECT 1 + i % 1000, 'Follow-up number ' || i, 'user' || (i % $USERS),
       CASE WHEN i % 10 = 0 THEN '2026-11-05' ELSE '2027-01-15' END,
       'bench', $t0 FROM n;
COMMIT;
SQL
times=""
rss=""
for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -o "$dir/time" "$build/pmbot" remind \
        --dry-run --now 2026-11-09T10:00:00Z >"$dir/dry.out" 2>&1
    read -r s k <"$dir/time"
    times="$times $s"
    rss="$rss $k"
done
range() { printf '%s\n' $1 | sort -n | sed -n '1p;$p' | paste -sd' ' | awk '{ printf "%s - %s", $1, $2 }'; }
dms=$(grep -c '^terminal DM @[^:]*: Your open' "$dir/dry.out")
esc=$(grep -c '^terminal #inc-' "$dir/dry.out")
echo "reminder dry run: $ACTIONS open actions, $USERS assignees: $(range "$times") s; peak RSS $(range "$rss") kB; $dms DMs and $esc escalations described"

# the real pass against the Slack fake: every assignee's DM (a header and
# one line), sent through the Web API queue, and counted on arrival
SUSERS=${BENCH_SLACK_ASSIGNEES:-10000}
start_fake "$build"
export PMBOT_DB="$dir/slack.db"
"$build/pmbot" shell </dev/null >/dev/null 2>&1
sqlite3 "$PMBOT_DB" <<SQL
BEGIN;
INSERT INTO incidents (id, title, severity, state, platform, channel,
                       declared_at, resolved_at)
VALUES (1, 'Bench incident', 2, 'resolved', 'slack', 'C0BENCH', $t0,
        $t0 + 3600000);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                        WHERE i < $SUSERS)
INSERT INTO actions (incident_id, text, assignee, due_date, created_by,
                     created_at)
SELECT 1, 'Follow-up number ' || i, 'U' || printf('%07d', i), '2027-01-15',
       'bench', $t0 FROM n;
COMMIT;
SQL
start=$(date +%s%N)
PMBOT_PLATFORM=slack SLACK_APP_TOKEN=xapp-test SLACK_BOT_TOKEN=xoxb-test \
SLACK_API_URL="http://127.0.0.1:$port/api/" "$build/pmbot" remind \
    --now 2026-11-09T10:00:00Z >"$dir/real.out" 2>"$dir/real.err"
end=$(date +%s%N)
posts=$(curl -s "http://127.0.0.1:$port/_control/state" |
    jq '[.calls[] | select(.method == "chat.postMessage")] | length')
done_rows=$(sqlite3 "$PMBOT_DB" "select count(*) from outbox where state = 1")
echo "reminder pass against the Slack fake: $SUSERS DMs in $(( (end - start) / 1000000 )) ms; $posts chat.postMessage calls for $done_rows outbox rows done (2 a DM)"
