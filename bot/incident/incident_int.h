/*
 * incident_int.h - what the files of bot/incident/ share: the state of
 * struct incidents. Not for use outside bot/incident/.
 */
#ifndef PMBOT_INCIDENT_INT_H
#define PMBOT_INCIDENT_INT_H

#include "incident.h"

#include <stddef.h>
#include <stdint.h>

struct tagging;

struct room_ref {
    char *platform;
    char *room;
    int64_t id;
};

struct incidents {
    struct core *c;
    /* channel.c: openings in flight, and failed ones waiting until `at` */
    int64_t *opening;
    size_t nopening, capopening;
    struct {
        int64_t id, at;
    } later[32];
    size_t nlater;
    int channels_pending; /* an incident may lack its channel */
    int hold_channels;
    /* incident.c: incident channels, newest last */
    struct room_ref *rooms;
    size_t nrooms, caprooms;
    int rooms_loaded;
    /* incident.c: incidents known to have a commander someone chose (a
     * message there need not ask again) */
    int64_t *led;
    size_t nled, capled;
    /* timeline.c: tags waiting for a fetched message */
    struct tagging *taggings;
};

/* incident_room_add - remember that room on platform is incident id's. */
int incident_room_add(struct incidents *in, const char *platform,
                      const char *room, int64_t id);
/* incident_rooms_stale - reload the map at the next lookup. */
void incident_rooms_stale(struct incidents *in);
/* incident_nudge - in tx: the private word (text) to author, in room on
 * platform: an ephemeral message, or a DM where there is none. */
int incident_nudge(struct incidents *in, const char *platform,
                   const char *room, const char *author, const char *text);
/* incident_prefix - how commands are typed on platform ('/' or '!');
 * right also for a platform this process has not connected (`pmbot remind`
 * beside a daemon). */
char incident_prefix(struct incidents *in, const char *platform);
/* incident_say - in tx: post m (taken) to `to` on platform, or, with dry,
 * only describe it there ("slack #C1: text"). */
struct strbuf;
int incident_say(struct incidents *in, const char *platform,
                 const struct chat_target *to, struct chat_msg *m,
                 struct strbuf *dry);
/* timeline_cancel_all - the taggings outlive nothing (incidents_free). */
void timeline_cancel_all(struct incidents *in);

#endif
