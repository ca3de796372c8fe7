/*
 * review_clock.c - the 48-hour review clock: the blameless review is held
 * within 48 hours of resolution. On resolve two jobs are scheduled; at
 * resolution + 24 h and + 47 h, if no review has started, the channel is
 * reminded and so is its commander (else the declarer), in a DM. The scheduler claims each
 * period once, so each reminder goes out at most once, whatever restarts
 * or concurrent `pmbot remind` runs do.
 */
#include "incident_int.h"

#include "chat.h"
#include "core.h"
#include "err.h"
#include "mem.h"
#include "outbox.h"
#include "strbuf.h"
#include "timeutil.h"

#include <string.h>

static const struct {
    const char *period;
    int64_t after; /* ms after resolution */
} marks[] = {
    {"24h", 24 * 3600 * 1000LL},
    {"47h", 47 * 3600 * 1000LL},
};

#define NMARKS (sizeof(marks) / sizeof(marks[0]))

int
review_clock_start(struct incidents *in, int64_t incident_id, int64_t at)
{
    int rc = BOT_OK;

    for (size_t i = 0; !rc && i < NMARKS; i++)
        rc = store_job_add(in->c->store, "review-clock", incident_id,
                           marks[i].period, at + marks[i].after);
    in->c->jobs_added = 1;
    return rc;
}

int
review_clock_fire(struct incidents *in, int64_t incident_id,
                  const char *period, int64_t now, struct strbuf *dry,
                  int *skipped)
{
    struct incident inc = {0};
    struct chat_target to = {0};
    char due[TIMEUTIL_BUFLEN];
    const char *name = NULL;
    struct chat_msg m;
    struct roles r = {0};
    char *lead = NULL;
    int64_t left;
    size_t k;
    int rc, started = 0, late, hours;

    *skipped = 1;
    for (k = 0; k < NMARKS && strcmp(marks[k].period, period); k++)
        ;
    if (k == NMARKS)
        return BOT_OK; /* a period this pmbot never scheduled */
    rc = store_incident_get(in->c->store, incident_id, &inc);
    if (rc == BOT_ENOTFOUND)
        return BOT_OK; /* nothing left to remind of */
    if (!rc)
        rc = store_review_started(in->c->store, incident_id, &started);
    left = inc.resolved_at + REVIEW_DUE_MS - now;
    /* late (pmbot was down): a later mark that is due says it instead, and
     * once the 48 hours are up a reminder of them is noise */
    late = k + 1 < NMARKS && now >= inc.resolved_at + marks[k + 1].after;
    if (rc || started || inc.state != INCIDENT_RESOLVED || !inc.channel ||
        late || left <= 0) {
        store_incident_clear(&inc);
        return rc;
    }
    hours = (int)((left + 1800 * 1000LL) / (3600 * 1000LL));
    /* the commander runs the review: theirs is the reminder (the declarer
     * when no one leads it) */
    if (store_roles_get(in->c->store, incident_id, &r) == BOT_OK &&
        r.user[ROLE_COMMANDER]) {
        lead = r.user[ROLE_COMMANDER];
        r.user[ROLE_COMMANDER] = NULL;
    } else {
        lead = inc.declared_by ? bot_strdup(inc.declared_by) : NULL;
    }
    store_roles_clear(&r);
    *skipped = 0;
    timeutil_fmt_minute(inc.resolved_at + REVIEW_DUE_MS, due);
    name = inc.channel_name ? inc.channel_name : inc.channel;
    chat_msg_init(&m);
    chat_msg_bold(&m, "Review reminder");
    if (hours >= 1)
        chat_msg_text(&m, ": the blameless review of INC-%lld (%s) is due "
                          "by %s UTC, in %d hour%s, and has not started. ",
                      (long long)inc.id, inc.title, due, hours,
                      hours == 1 ? "" : "s");
    else
        chat_msg_text(&m, ": the blameless review of INC-%lld (%s) is due "
                          "by %s UTC, within the hour, and has not "
                          "started. ",
                      (long long)inc.id, inc.title, due);
    if (lead) {
        chat_msg_user(&m, lead);
        chat_msg_text(&m, ", ");
    }
    chat_msg_text(&m, "start it here with %cpm start.",
                  incident_prefix(in, inc.platform));
    to.room = inc.channel;
    to.flags = CHAT_POST_NOTIFY; /* for the commander it names */
    rc = incident_say(in, inc.platform, &to, &m, dry);
    if (!rc && lead) {
        to.room = NULL;
        to.user = lead;
        chat_msg_init(&m);
        chat_msg_text(&m, "The blameless review of INC-%lld (%s) is due by "
                          "%s UTC and has not started: run it in ",
                      (long long)inc.id, inc.title, due);
        chat_msg_room(&m, inc.channel, name);
        chat_msg_text(&m, ".");
        rc = incident_say(in, inc.platform, &to, &m, dry);
    }
    store_incident_clear(&inc);
    bot_free(lead);
    return rc;
}
