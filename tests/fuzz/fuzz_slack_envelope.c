/*
 * fuzz_slack_envelope - a Socket Mode frame as slack.c's on_envelope reads
 * it: the envelope, the event pmbot would act on, the ack it would send and
 * the times and mentions it would read from the event.
 */
#define FUZZ_QUIET_INIT /* fuzz.h's LLVMFuzzerInitialize */
#include "fuzz.h"

#include "chat.h"
#include "slack_json.h"
#include "strbuf.h"

#include <string.h>

/* mentions - every blank-separated word of text through slack_parse_user,
 * as the command router does for @user arguments */
static void
mentions(const char *text)
{
    char *copy = text ? bot_strdup(text) : NULL, *save = NULL, *w, *user;

    for (w = copy ? strtok_r(copy, " \t\n", &save) : NULL; w;
         w = strtok_r(NULL, " \t\n", &save)) {
        user = NULL;
        if (!slack_parse_user(w, &user))
            bot_free(user);
    }
    bot_free(copy);
}

/* ts_ok - any ts gives a time from 1970 to 9999, or 0 */
static void
ts_ok(const char *ts)
{
    int64_t ms = slack_ts_ms(ts);

    if (ms < 0 || ms > 253402300799999LL)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slack_envelope e;
    struct chat_event ev;
    struct strbuf text;
    char *ack;

    if (slack_envelope_parse((const char *)data, size, &e)) {
        slack_envelope_clear(&e);
        return 0;
    }
    ack = e.envelope_id ? slack_ack(e.envelope_id) : NULL;
    bot_free(ack);
    ts_ok(e.ts);
    ts_ok(e.thread_ts);
    ts_ok(e.deleted_ts);
    strbuf_init(&text, 0);
    if (!slack_envelope_event(&e, "U0SELF", "B0SELF", &text, &ev))
        mentions(ev.text);
    strbuf_cleanup(&text);
    slack_envelope_clear(&e);
    return 0;
}
