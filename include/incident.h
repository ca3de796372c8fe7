/*
 * incident.h - the incident domain: declaring, the channel, the timeline.
 *
 * Owns: the rules of an incident's life (declared -> channel open ->
 * resolved), the automatic timeline entries, and what reactions, edits and
 * deletions of tagged messages do to the timeline.
 * Does not own: SQL (store.h), chat I/O (chat.h), command parsing.
 * Functions marked "in tx" must run inside the caller's transaction; they
 * queue chat output on the bot's outbox and never send it themselves.
 * Errors: BOT_ENOTFOUND, BOT_EINVAL, BOT_EDB, BOT_ENOMEM.
 */
#ifndef PMBOT_INCIDENT_H
#define PMBOT_INCIDENT_H

#include "chat.h"
#include "store.h"

#include <stdint.h>

struct bot;

#define INCIDENT_TITLE_MAX 200

/* incident_sev_name - "SEV0".."SEV4" (static). */
const char *incident_sev_name(int severity);

/* incident_parse_sev - "1", "sev1", "SEV1" -> 1. */
int incident_parse_sev(const char *s, int *severity);

/* incident_looks_like_sev - 1 for a word written as a severity, in range
 * or not ("sev1", "SEV9", "sev-1", "sev12"): only "sev" and a number. */
int incident_looks_like_sev(const char *s);

/* incident_parse_ref - "3", "INC-3", "inc-3" (prefix "INC") -> 3. */
int incident_parse_ref(const char *s, const char *prefix, int64_t *id);

/* incident_declare - in tx: record the incident and its first entry. The
 * channel is opened by incident_open_pending() once this commits. */
int incident_declare(struct bot *b, const char *title, int severity,
                     const char *user, const char *origin_room,
                     const char *alarm_key, int64_t at, int64_t *id_out);

/* incident_open_pending - open the channel of every incident of this
 * platform that has none and is not already being opened. Call after a
 * commit and at start; safe to call any number of times. */
void incident_open_pending(struct bot *b);

struct alarm;

/*
 * incident_take_alarm - in tx: an alarm from the listener. A firing alarm
 * whose dedup key matches an open incident becomes a timeline entry there
 * (*status "updated"); otherwise it declares an incident whose timeline
 * starts with each alert ("<startsAt> Alarm fired: <title>"), *status
 * "opened". A resolved alarm with no open incident changes nothing
 * (*status "ignored", *id 0). default_severity applies when the alarm has
 * none.
 */
int incident_take_alarm(struct bot *b, const struct alarm *a,
                        int default_severity, int64_t *id,
                        const char **status);

/* incident_id_for_room - the id of the incident whose channel is room,
 * from memory (loaded once from the store); BOT_ENOTFOUND if none. */
int incident_id_for_room(struct bot *b, const char *room, int64_t *id);

/* incident_for_room - the incident whose channel is room (new: clear it). */
int incident_for_room(struct bot *b, const char *room, struct incident *out);

/* incident_lookup - by "3", "INC-3" or channel name "#inc-...". */
int incident_lookup(struct bot *b, const char *ref, struct incident *out);

/* incident_add_entry - in tx: a timeline entry. */
int incident_add_entry(struct bot *b, int64_t incident_id, int64_t at,
                       int kind, const char *text);

/* incident_summary - append a one-message summary of inc to m. */
int incident_summary(struct bot *b, const struct incident *inc,
                     struct chat_msg *m);

/* incident_handle_event - reactions, edits and deletions: tag, untag and
 * update timeline entries. done as for bot_dispatch(). */
void incident_handle_event(struct bot *b, const struct chat_event *ev,
                           chat_done_fn *done, void *arg);

#endif
