/*
 * fake_platform.h - a chat platform for unit tests that records what the
 * bot does (rooms opened, posts, invites, pins, uploads) and can be told to
 * refuse channel names, so tests assert on behaviour, not on scripts.
 * Owns its records; fake_platform_* accessors return borrowed strings.
 */
#ifndef PMBOT_FAKE_PLATFORM_H
#define PMBOT_FAKE_PLATFORM_H

#include "chat.h"

#include <stddef.h>
#include <stdint.h>

struct fake_post {
    char *room;
    char *text;   /* plain rendering */
    char *thread; /* nullable */
    char *user;   /* nullable: ephemeral to */
    char *key;    /* nullable: the idempotency key */
    int flags;
};

struct fake_platform {
    struct chat_platform_ops ops; /* a copy: caps, name and ops can change */
    struct fake_post *posts;
    size_t nposts;
    char **rooms; /* opened */
    size_t nrooms;
    size_t ninvites, npins, nuploads, ntopics, nfetches;
    size_t ndms, nupdates, nreacts, nredacts;
    int last_open_flags;
    int fail_posts; /* the next this many posts fail with fail_rc (EIO) */
    int fail_rc;
    char *sent_key; /* find_sent finds this key (fake_platform_sent_before) */
    char *sent_thread;      /* nullable: only when asked in this thread */
    char *last_find_thread; /* the thread the last find_sent looked in */
    int post_defer; /* 1: the next post answers at fake_platform_answer */
    chat_posted_fn *post_cb;
    void *post_arg;
    size_t nfinds;
    char *last_upload;
    int taken_names; /* open_channel answers BOT_EEXIST this many times */
    /* messages fetch_message can return */
    struct chat_message msgs[16];
    size_t nmsgs;
    int fetch_defer; /* 1: keep the fetch callback for fake_platform_fire */
    chat_fetched_fn *pending_cb;
    void *pending_arg;
    char *pending_id;
};

/* fake_platform_new - a platform whose priv is a struct fake_platform. */
struct chat_platform *fake_platform_new(void);
struct fake_platform *fake_of(struct chat_platform *p);

/* fake_platform_private - how many posts only user was to see (an
 * ephemeral one) hold text. */
size_t fake_platform_private(struct chat_platform *p, const char *user,
                             const char *text);

/* fake_platform_add_message - a message fetch_message will find. */
void fake_platform_add_message(struct chat_platform *p, const char *room,
                               const char *id, const char *user,
                               const char *text, int64_t at);

/* fake_platform_fire - complete a deferred fetch. */
void fake_platform_fire(struct chat_platform *p);

/* fake_platform_sent_before - give the platform find_sent, which finds
 * key as if a crash had sent it before. */
void fake_platform_sent_before(struct chat_platform *p, const char *key);
/* fake_platform_sent_in_thread - the same for a post in thread: found
 * only when find_sent looks in that thread (Slack's history holds no
 * replies). */
void fake_platform_sent_in_thread(struct chat_platform *p, const char *key,
                                  const char *thread);

/* fake_platform_answer - the deferred post's answer: it was posted. */
void fake_platform_answer(struct chat_platform *p);

/* fake_last_post - the text of the newest post, or "" if none. */
const char *fake_last_post(struct chat_platform *p);

#endif
