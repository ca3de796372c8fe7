/*
 * fuzz_slack_api - a Web API answer body as slack.c reads it: the ok/error
 * status and the dotted string fields of every call pmbot makes.
 */
#define FUZZ_QUIET_INIT /* fuzz.h's LLVMFuzzerInitialize */
#include "fuzz.h"

#include "slack_json.h"

/* the paths slack.c asks for, all at once (one answer has at most a few) */
static const char *const paths[] = {
    "channel.id", "channel.name", "ts", "upload_url", "file_id", "url",
    "user_id", "bot_id", "a.b.c.d",
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    char *error = NULL, *values[NPATHS];
    int ok = 0;

    if (!slack_status(body, size, &ok, &error))
        bot_free(error);
    error = NULL;
    if (!slack_result(body, size, &ok, &error, paths, values, NPATHS)) {
        for (size_t i = 0; i < NPATHS; i++)
            bot_free(values[i]);
        bot_free(error);
    }
    return 0;
}
