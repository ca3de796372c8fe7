/*
 * reminders.h - follow-up actions chased until done: the weekly reminder
 * DM to each assignee, the overdue escalation in the incident's channel,
 * and the monthly review of every open action in the review channel.
 *
 * One pass (reminders_pass) does all three at a time `now`; the daemon's
 * scheduler runs it as the duty "reminders" (a job re-armed by each pass
 * for the next time something falls due) and `pmbot remind` runs the same
 * pass once. Every reminder belongs to a period, claimed in the database
 * (store_period_claim) in the transaction that writes its outbox row, so
 * it goes out once per period whatever runs the pass, however often, and
 * after downtime only the current period's reminder goes out:
 *   - weekly: an assignee's ("<platform>:<user>") local ISO week; the DM
 *     is due from [reminders] weekly_day at weekly_time in the assignee's
 *     time zone (users.tz, else [reminders] timezone) and lists the open
 *     actions opened before that slot and not snoozed, overdue first;
 *   - overdue: an action's overdue week ("w0" from the day after its
 *     target date in [reminders] timezone, "w1" a week later, ...);
 *   - monthly: "YYYY-MM", from the first working day (Mon-Fri) of the
 *     month at monthly_time in [reminders] timezone, when review_channel
 *     is set.
 *
 * Owns nothing between calls. Errors: BOT_EDB, BOT_ENOMEM, BOT_EINVAL (a
 * zone the C library cannot read: config_validate refuses those first).
 */
#ifndef PMBOT_REMINDERS_H
#define PMBOT_REMINDERS_H

#include <stdint.h>

struct incidents;
struct strbuf;

/* The scheduler's kind for the pass. */
#define REMINDERS_JOB "reminders"

/*
 * reminders_pass - in tx, at now: every reminder due and not yet claimed,
 * claimed and written to the outbox. With dry, nothing is claimed or
 * written: each is described to dry. *sent (nullable) counts them; *next
 * (nullable) is when the next one falls due (at most a day ahead), 0 when
 * nothing is open.
 */
int reminders_pass(struct incidents *in, int64_t now, struct strbuf *dry,
                   int *sent, int64_t *next);

/* reminders_failed - an outbox_failed_fn: a weekly DM that cannot be
 * delivered is said once in the channel of the assignee's newest incident
 * with an open action; an escalation whose channel is gone (archived,
 * unreachable) goes to [pmbot] review_channel. */
struct outbox_row;
int reminders_failed(void *arg, const char *about,
                     const struct outbox_row *r, int why);

/* reminders_ensure - in tx: a pass is scheduled (a "reminders" job due at
 * `at`, unless one is waiting already). */
int reminders_ensure(struct incidents *in, int64_t at);

#endif
