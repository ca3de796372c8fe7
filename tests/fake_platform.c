/*
 * fake_platform.c - the recording chat platform of the unit tests.
 */
#include "fake_platform.h"

#include "err.h"
#include "mem.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_platform *
fake_of(struct chat_platform *p)
{
    return p->priv;
}

static void
op_open_channel(struct chat_platform *p, const char *name, int flags,
                chat_room_fn *cb, void *arg)
{
    struct fake_platform *f = fake_of(p);
    char id[32];

    f->last_open_flags = flags;
    if (f->taken_names > 0) {
        f->taken_names--;
        cb(arg, BOT_EEXIST, NULL, NULL);
        return;
    }
    f->rooms = realloc(f->rooms, (f->nrooms + 1) * sizeof(*f->rooms));
    f->rooms[f->nrooms++] = strdup(name);
    snprintf(id, sizeof(id), "C%zu", f->nrooms);
    cb(arg, BOT_OK, id, name);
}

static void
op_invite(struct chat_platform *p, const char *room, const char *const *users,
          size_t n, chat_done_fn *cb, void *arg)
{
    (void)room;
    (void)users;
    fake_of(p)->ninvites += n;
    if (cb)
        cb(arg, BOT_OK);
}

static void
op_set_topic(struct chat_platform *p, const char *room, const char *topic,
             chat_done_fn *cb, void *arg)
{
    (void)room;
    (void)topic;
    fake_of(p)->ntopics++;
    if (cb)
        cb(arg, BOT_OK);
}

static void
op_post(struct chat_platform *p, const struct chat_target *to,
        const struct chat_msg *msg, chat_posted_fn *cb, void *arg)
{
    struct fake_platform *f = fake_of(p);
    struct fake_post *fp;
    struct strbuf sb;
    char id[32];

    if (f->fail_posts > 0) {
        f->fail_posts--;
        if (cb)
            cb(arg, f->fail_rc ? f->fail_rc : BOT_EIO, NULL);
        return;
    }
    strbuf_init(&sb, 0);
    chat_msg_plain(msg, &sb);
    f->posts = realloc(f->posts, (f->nposts + 1) * sizeof(*f->posts));
    fp = &f->posts[f->nposts++];
    memset(fp, 0, sizeof(*fp));
    fp->room = strdup(to->room);
    fp->text = strdup(strbuf_str(&sb));
    fp->thread = to->thread_id ? strdup(to->thread_id) : NULL;
    fp->user = to->user ? strdup(to->user) : NULL;
    fp->key = to->key ? strdup(to->key) : NULL;
    fp->flags = to->flags;
    strbuf_cleanup(&sb);
    snprintf(id, sizeof(id), "m%zu", f->nposts);
    if (f->post_defer) {
        f->post_defer = 0;
        f->post_cb = cb;
        f->post_arg = arg;
        return;
    }
    if (cb)
        cb(arg, BOT_OK, id);
}

size_t
fake_platform_private(struct chat_platform *p, const char *user,
                      const char *text)
{
    struct fake_platform *f = fake_of(p);
    size_t n = 0;

    for (size_t i = 0; i < f->nposts; i++)
        n += f->posts[i].user && !strcmp(f->posts[i].user, user) &&
             (f->posts[i].flags & CHAT_POST_EPHEMERAL) &&
             strstr(f->posts[i].text, text) != NULL;
    return n;
}

void
fake_platform_answer(struct chat_platform *p)
{
    struct fake_platform *f = fake_of(p);
    chat_posted_fn *cb = f->post_cb;
    char id[32];

    f->post_cb = NULL;
    snprintf(id, sizeof(id), "m%zu", f->nposts);
    if (cb)
        cb(f->post_arg, BOT_OK, id);
}

static void
op_open_dm(struct chat_platform *p, const char *user, chat_room_fn *cb,
           void *arg)
{
    char room[80];

    fake_of(p)->ndms++;
    snprintf(room, sizeof(room), "D-%s", user);
    cb(arg, BOT_OK, room, NULL);
}

static void
op_update(struct chat_platform *p, const char *room, const char *msg_id,
          const struct chat_msg *msg, const char *key,
          chat_done_fn *cb, void *arg)
{
    (void)key; /* idempotent by itself, or find_sent */
    (void)room;
    (void)msg_id;
    (void)msg;
    fake_of(p)->nupdates++;
    if (cb)
        cb(arg, BOT_OK);
}

static void
op_react(struct chat_platform *p, const char *room, const char *msg_id,
         const char *emoji, const char *key, chat_done_fn *cb, void *arg)
{
    (void)key; /* idempotent by itself, or find_sent */
    (void)room;
    (void)msg_id;
    (void)emoji;
    fake_of(p)->nreacts++;
    if (cb)
        cb(arg, BOT_OK);
}

static void
op_redact(struct chat_platform *p, const char *room, const char *msg_id,
          const char *key, chat_done_fn *cb, void *arg)
{
    (void)key; /* idempotent by itself, or find_sent */
    (void)room;
    (void)msg_id;
    fake_of(p)->nredacts++;
    if (cb)
        cb(arg, BOT_OK);
}

static void
op_fetch_message(struct chat_platform *p, const char *room,
                 const char *msg_id, chat_fetched_fn *cb, void *arg)
{
    struct fake_platform *f = fake_of(p);

    f->nfetches++;
    if (f->fetch_defer) {
        f->pending_cb = cb;
        f->pending_arg = arg;
        free(f->pending_id);
        f->pending_id = strdup(msg_id);
        return;
    }
    for (size_t i = 0; i < f->nmsgs; i++) {
        if (!strcmp(f->msgs[i].room, room) && !strcmp(f->msgs[i].id, msg_id)) {
            cb(arg, BOT_OK, &f->msgs[i]);
            return;
        }
    }
    cb(arg, BOT_ENOTFOUND, NULL);
}

void
fake_platform_fire(struct chat_platform *p)
{
    struct fake_platform *f = fake_of(p);
    chat_fetched_fn *cb = f->pending_cb;

    f->pending_cb = NULL;
    f->fetch_defer = 0;
    if (cb)
        op_fetch_message(p, f->msgs[0].room, f->pending_id, cb,
                         f->pending_arg);
}

static void
op_pin(struct chat_platform *p, const char *room, const char *msg_id,
       chat_done_fn *cb, void *arg)
{
    (void)room;
    (void)msg_id;
    fake_of(p)->npins++;
    if (cb)
        cb(arg, BOT_OK);
}

static void
op_upload(struct chat_platform *p, const struct chat_target *to,
          const char *filename, const char *title, const char *content,
          size_t len, chat_done_fn *cb, void *arg)
{
    struct fake_platform *f = fake_of(p);

    (void)to;
    (void)filename;
    (void)title;
    f->nuploads++;
    free(f->last_upload);
    f->last_upload = strndup(content, len);
    if (cb)
        cb(arg, BOT_OK);
}

static int
op_parse_user(struct chat_platform *p, const char *token, char **user_out)
{
    (void)p;
    if (token[0] != '@' || !token[1])
        return BOT_EINVAL;
    *user_out = bot_strdup(token + 1);
    return *user_out ? BOT_OK : BOT_ENOMEM;
}

static void
op_destroy(struct chat_platform *p)
{
    struct fake_platform *f = fake_of(p);

    if (f->pending_cb)
        f->pending_cb(f->pending_arg, BOT_ECANCELED, NULL);
    if (f->post_cb)
        f->post_cb(f->post_arg, BOT_ECANCELED, NULL);
    for (size_t i = 0; i < f->nposts; i++) {
        free(f->posts[i].room);
        free(f->posts[i].text);
        free(f->posts[i].thread);
        free(f->posts[i].user);
        free(f->posts[i].key);
    }
    for (size_t i = 0; i < f->nrooms; i++)
        free(f->rooms[i]);
    for (size_t i = 0; i < f->nmsgs; i++) {
        free((char *)f->msgs[i].room);
        free((char *)f->msgs[i].id);
        free((char *)f->msgs[i].user);
        free((char *)f->msgs[i].text);
    }
    free(f->posts);
    free(f->rooms);
    free(f->last_upload);
    free(f->pending_id);
    free(f->sent_key);
    free(f->sent_thread);
    free(f->last_find_thread);
    free(f);
    free(p);
}

static const struct chat_platform_ops fake_ops = {
    .name = "fake",
    .cmd_prefix = '/',
    .caps = CHAT_CAN_EPHEMERAL | CHAT_CAN_THREAD | CHAT_CAN_PRIVATE,
    .open_channel = op_open_channel,
    .invite = op_invite,
    .set_topic = op_set_topic,
    .post = op_post,
    .open_dm = op_open_dm,
    .update = op_update,
    .react = op_react,
    .redact = op_redact,
    .fetch_message = op_fetch_message,
    .pin = op_pin,
    .upload = op_upload,
    .parse_user = op_parse_user,
    .destroy = op_destroy,
};

static void
op_find_sent(struct chat_platform *p, const char *room,
             const char *thread_id, const char *key, chat_posted_fn *cb,
             void *arg)
{
    struct fake_platform *f = fake_of(p);

    (void)room;
    f->nfinds++;
    free(f->last_find_thread);
    f->last_find_thread = thread_id ? strdup(thread_id) : NULL;
    if (f->sent_key && !strcmp(f->sent_key, key) &&
        (!f->sent_thread || (thread_id && !strcmp(f->sent_thread, thread_id))))
        cb(arg, BOT_OK, "m-found");
    else
        cb(arg, BOT_ENOTFOUND, NULL);
}

void
fake_platform_sent_before(struct chat_platform *p, const char *key)
{
    struct fake_platform *f = fake_of(p);

    free(f->sent_key);
    f->sent_key = strdup(key);
    free(f->sent_thread);
    f->sent_thread = NULL;
    f->ops.find_sent = op_find_sent;
}

void
fake_platform_sent_in_thread(struct chat_platform *p, const char *key,
                             const char *thread)
{
    struct fake_platform *f = fake_of(p);

    fake_platform_sent_before(p, key);
    f->sent_thread = strdup(thread);
}

struct chat_platform *
fake_platform_new(void)
{
    struct chat_platform *p = calloc(1, sizeof(*p));
    struct fake_platform *f = calloc(1, sizeof(*f));

    /* a copy per platform, so a test can take capabilities away or rename
     * it (a second platform) */
    f->ops = fake_ops;
    p->ops = &f->ops;
    p->priv = f;
    return p;
}

void
fake_platform_add_message(struct chat_platform *p, const char *room,
                          const char *id, const char *user, const char *text,
                          int64_t at)
{
    struct fake_platform *f = fake_of(p);
    struct chat_message *m = &f->msgs[f->nmsgs++];

    m->room = strdup(room);
    m->id = strdup(id);
    m->user = strdup(user);
    m->text = strdup(text);
    m->at = at;
}

const char *
fake_last_post(struct chat_platform *p)
{
    struct fake_platform *f = fake_of(p);

    return f->nposts ? f->posts[f->nposts - 1].text : "";
}
