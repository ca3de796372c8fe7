/*
 * incident.h - the incident domain: declaring and resolving, the channel,
 * the timeline, the follow-up actions, and the review clock.
 *
 * Owns (struct incidents): the incidents whose channel is being opened and
 * those waiting to try again, the map from incident channels to incident
 * ids, and the tags waiting for a fetched message. The rules of an
 * incident's life live here, not in commands: commands, the review and DM
 * answers call the same functions.
 * Does not own: SQL (store.h), delivery (outbox.h), transactions (unit.h),
 * command parsing (command.h).
 * Files: incident.c (declare, resolve, alarms, lookups, summaries),
 * channel.c (opening and announcing channels), timeline.c (reactions,
 * edits, deletions), actions.c (follow-up actions), review_clock.c (the
 * 48-hour review clock, a scheduler duty).
 * Functions marked "in tx" run inside the caller's unit of work; what they
 * will say or do on a platform is written to the outbox in that same
 * transaction.
 * Errors: BOT_ENOTFOUND, BOT_EINVAL (with a reason for the user where it
 * says so), BOT_EDB, BOT_ENOMEM.
 */
#ifndef PMBOT_INCIDENT_H
#define PMBOT_INCIDENT_H

#include "chat.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

struct core;
struct incidents;
struct alarm;
struct strbuf;

#define INCIDENT_TITLE_MAX 200
#define ACTION_TEXT_MAX 1000

/* incidents_new / _free - the domain's state over core (borrowed). */
int incidents_new(struct core *c, struct incidents **out);
void incidents_free(struct incidents *in);
/* incidents_core - the core it was made with. */
struct core *incidents_core(const struct incidents *in);

/* --- asking and answering --- */

/* Whoever asked: the platform an event came from and the event. */
struct asker {
    struct incidents *in;
    struct chat_platform *p;
    const struct chat_event *ev;
};

/* incident_reply - in tx: answer the asker (taken): through the event's
 * own reply channel (a slash command's ack) or, in its room and thread,
 * as an outbox row. Sent after the commit. */
int incident_reply(const struct asker *a, struct chat_msg *m);
/* incident_refuse - answer at once and only to the asker (nothing is
 * committed): the event's reply channel, else a private post (an
 * ephemeral message, or the asker's DM where the platform has none). */
void incident_refuse(const struct asker *a, struct chat_msg *m);

/* --- names and references --- */

/* incident_sev_name - "SEV0".."SEV4" (static). */
const char *incident_sev_name(int severity);
/* incident_parse_sev - "1", "sev1", "SEV1" -> 1. */
int incident_parse_sev(const char *s, int *severity);
/* incident_looks_like_sev - 1 for a word written as a severity, in range
 * or not ("sev1", "SEV9", "sev-1", "sev12"): only "sev" and a number. */
int incident_looks_like_sev(const char *s);
/* incident_parse_ref - "3", "INC-3", "inc-3" (prefix "INC") -> 3. */
int incident_parse_ref(const char *s, const char *prefix, int64_t *id);

/* --- incidents (incident.c) --- */

/* incident_declare - in tx: record the incident on platform and its first
 * entry. The channel is opened by incident_open_pending() once this
 * commits. */
int incident_declare(struct incidents *in, const char *platform,
                     const char *title, int severity, const char *user,
                     const char *origin_room, const char *alarm_key,
                     int64_t at, int64_t *id_out);

/* incident_resolve - in tx: resolve inc at `at`: the timeline entry, the
 * review clock started. BOT_EEXIST if it was resolved already. */
int incident_resolve(struct incidents *in, const struct incident *inc,
                     int64_t at);

/* incident_set_severity - in tx; BOT_EEXIST if it already is. */
int incident_set_severity(struct incidents *in, const struct incident *inc,
                          int severity);

/*
 * incident_take_alarm - in tx: an alarm from the listener, on `platform`
 * (the [pmbot] alarm_platform). A firing alarm whose dedup key matches an
 * open incident becomes a timeline entry there (*status "updated");
 * otherwise it declares an incident whose timeline starts with each alert
 * ("<startsAt> Alarm fired: <title>"), *status "opened". A resolved alarm
 * with no open incident changes nothing (*status "ignored", *id 0).
 * default_severity applies when the alarm has none.
 */
int incident_take_alarm(struct incidents *in, const char *platform,
                        const struct alarm *a, int default_severity,
                        int64_t *id, const char **status);

/* incident_role_name - "commander", "scribe", "comms" (static); NULL out
 * of range. incident_parse_role - the reverse, case-insensitive;
 * BOT_EINVAL for another word. */
const char *incident_role_name(int role);
/* incident_role_title - "Commander", "Scribe", "Comms" (static). */
const char *incident_role_title(int role);
int incident_parse_role(const char *s, int *role);

/* incident_set_role - in tx: user takes role of inc (how: enum role_how),
 * with a timeline entry "Commander: @user". BOT_EEXIST when they have it
 * already. */
int incident_set_role(struct incidents *in, const struct incident *inc,
                      int role, const char *user, int how);

/* incident_first_responder - in tx: user wrote in the incident's channel;
 * for an incident without a commander, or with only the configured
 * default one, they become its commander. */
int incident_first_responder(struct incidents *in, int64_t incident_id,
                             const char *user);

/* incident_roles_msg - append "Commander: @alice · Scribe: nobody · …"
 * (each person a mention span) to m. */
int incident_roles_msg(struct incidents *in, int64_t incident_id,
                       struct chat_msg *m);

/* incident_id_for_room - the id of the incident whose channel is room on
 * platform, from memory (loaded once from the store); BOT_ENOTFOUND. */
int incident_id_for_room(struct incidents *in, const char *platform,
                         const char *room, int64_t *id);
/* incident_for_room - the incident whose channel is room (new: clear it). */
int incident_for_room(struct incidents *in, const char *platform,
                      const char *room, struct incident *out);
/* incident_lookup - by "3", "INC-3" or channel name "#inc-...". */
int incident_lookup(struct store *st, const char *ref, struct incident *out);

/* incident_add_entry - in tx: a timeline entry. */
int incident_add_entry(struct incidents *in, int64_t incident_id, int64_t at,
                       int kind, const char *text);
/* incident_summary - append a one-message summary of inc to m. */
int incident_summary(struct incidents *in, const struct incident *inc,
                     struct chat_msg *m);

/* --- channels (channel.c) --- */

/* incident_open_pending - open the channel of every incident of a
 * connected platform that has none and is not already being opened. A
 * commit hook (and called at start); safe to call any number of times. */
void incident_open_pending(void *in);
/* incident_hold_channels - open none (fault injection); the next start
 * opens them. */
void incident_hold_channels(struct incidents *in, int on);
/* incident_channels_pending - one may be waiting (after a declaration). */
void incident_channels_pending(struct incidents *in);

/* --- the timeline (timeline.c) --- */

/* incident_handle_event - messages in incident channels, reactions, edits
 * and deletions: tag, untag and update timeline entries; each one unit of
 * work. done as for bot_dispatch(). */
void incident_handle_event(struct incidents *in, struct chat_platform *p,
                           const struct chat_event *ev, chat_done_fn *done,
                           void *arg);

/* --- follow-up actions (actions.c) --- */

/*
 * action_add - in tx: parse "<text> @user <YYYY-MM-DD>" (the assignee and
 * the date in either order) into an action of inc. BOT_EINVAL with *why a
 * static reason for the user: no assignee, no or no real date, a date
 * already past, empty or too long text. *id and *out (nullable; new,
 * store_action_clear) on success.
 */
int action_add(struct incidents *in, struct chat_platform *p,
               const struct incident *inc, const char *args,
               const char *by, int64_t *id, struct action *out,
               const char **why);
/* action_create - in tx: an action of incident_id as given (the review's
 * own: text, assignee and a due date already checked). */
int action_create(struct incidents *in, int64_t incident_id,
                  const char *text, const char *assignee,
                  const char *due_date, const char *by, int64_t *id);

/* action_lookup - ACT-n (ref "ACT-3" or "3") into *out (new,
 * store_action_clear). BOT_EINVAL (not an action id), BOT_ENOTFOUND. */
int action_lookup(struct incidents *in, const char *ref, struct action *out);

/* action_is_admin - 1 when user is in admins ("U1,U2", blanks allowed;
 * NULL: nobody), else 0. */
int action_is_admin(const char *admins, const char *user);

/*
 * action_permit - may user change a (SPEC "Who may do what"): its assignee,
 * its incident's commander, or one of [pmbot] admins. 1 yes; 0 no, with
 * *commander the commander to name (new, bot_free; NULL when there is
 * none); BOT_E* on failure.
 */
int action_permit(struct incidents *in, const struct action *a,
                  const char *user, char **commander);

/* action_who_can - append to m who may change a: "Only ACT-1's assignee
 * @bob, INC-1's commander @alice or an admin (@root) can change it."
 * (commander nullable, as action_permit gives it). */
void action_who_can(struct incidents *in, const struct action *a,
                    const char *commander, struct chat_msg *m);

#define ACTION_SNOOZE_MAX_DAYS 366

/* action_snooze_date - "1w", "2w", "3d" (from today, a YYYY-MM-DD, at
 * most ACTION_SNOOZE_MAX_DAYS) or a future "YYYY-MM-DD" into until
 * (TIMEUTIL_BUFLEN). BOT_EINVAL with *why a static reason. A weekly
 * reminder whose slot falls on or before until leaves the action out. */
int action_snooze_date(const char *today, const char *word, char *until,
                       const char **why);
/* action_today - today's date (YYYY-MM-DD) in [reminders] timezone: the
 * day target dates, past dates and snoozes count in. */
void action_today(struct incidents *in, char today[32]);

/*
 * action_apply - in tx, permission already checked: what (ACH_DONE,
 * ACH_REOPENED, ACH_REASSIGNED with arg the new assignee's id, ACH_DUE
 * with arg a date, ACH_SNOOZED with arg a snooze word) happens to a by
 * `by`, with its history row; *a is then the changed action (read again).
 * BOT_EINVAL with *why (static): a done action cannot be reassigned,
 * moved or snoozed; a date that is no real date or already past; a bad
 * snooze. BOT_EEXIST: it would change nothing (done already, open
 * already, the same assignee, date or snooze end). Nothing is written on
 * any failure.
 */
int action_apply(struct incidents *in, struct action *a, int what,
                 const char *arg, const char *by, const char **why);

/* action_check_emoji - 1 for ✅ as platforms name it ("✅", with the
 * variation selector, "white_check_mark", ":white_check_mark:"). */
int action_check_emoji(const char *reaction);
/* action_react - a ✅ (ev) on a post about an action (a weekly reminder's
 * line, outbox_post_about): its own unit of work, completing the action
 * as `done` would from the reactor (the same permissions), answered in the
 * same room; nothing when the message is about no action. done as for
 * bot_dispatch(). */
void action_react(struct incidents *in, struct chat_platform *p,
                  const struct chat_event *ev, chat_done_fn *done, void *arg);

/* action_split - split "<text> @user <YYYY-MM-DD>" into new strings; *why
 * gets a static reason on BOT_EINVAL. parse_user turns the mention token
 * into a user id. No date checks beyond the calendar. */
int action_split(const char *args,
                 int (*parse_user)(void *ctx, const char *token, char **user),
                 void *ctx, char **text, char **user, char **date,
                 const char **why);

/* --- the review clock (review_clock.c): a scheduler duty --- */

#define REVIEW_DUE_MS (48 * 3600 * 1000LL)

/* review_clock_start - in tx: schedule the reminders at resolution + 24 h
 * and + 47 h for inc (resolved at `at`). */
int review_clock_start(struct incidents *in, int64_t incident_id,
                       int64_t at);
/* review_clock_fire - in tx, the job's period claimed, at `now`: remind
 * the channel and, in a DM, the commander (else the declarer), with the
 * hours left; nothing (*skipped = 1) once a review has started, after the
 * 48 hours, or when a later mark is due too (pmbot was down: that one
 * says it). With dry set, only describe to dry what would be sent. */
struct strbuf;
int review_clock_fire(struct incidents *in, int64_t incident_id,
                      const char *period, int64_t now, struct strbuf *dry,
                      int *skipped);

#endif
