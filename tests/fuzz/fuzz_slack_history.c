/*
 * fuzz_slack_history - a conversations.history / .replies page as
 * slack_history.c's batched fetch reads it. The input's first line is the list of
 * ts looked for (blank-separated, at most FETCH_BATCH of them), the rest is
 * the page: so the fuzzer can make ts that the page holds. The first ts
 * is also the key find_sent looks for (slack_find_keyed).
 */
#define FUZZ_QUIET_INIT /* fuzz.h's LLVMFuzzerInitialize */
#include "fuzz.h"

#include "slack_json.h"

#include <string.h>

#define MAX_TS 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_line(&data, &size), *save = NULL, *w;
    const char *ts[MAX_TS];
    struct slack_message found[MAX_TS], one;
    char oldest[32], *keyed = NULL;
    int has_more = 0;
    size_t n = 0;

    if (!line)
        return 0;
    for (w = strtok_r(line, " ", &save); w && n < MAX_TS;
         w = strtok_r(NULL, " ", &save))
        ts[n++] = w;
    if (!slack_find_messages((const char *)data, size, ts, n, found,
                             &has_more, oldest, sizeof(oldest))) {
        if (strnlen(oldest, sizeof(oldest)) == sizeof(oldest))
            __builtin_trap(); /* oldest must be a C string */
        for (size_t i = 0; i < n; i++) {
            (void)slack_ts_ms(found[i].ts);
            slack_message_clear(&found[i]);
        }
    }
    memset(&one, 0, sizeof(one));
    if (!slack_find_message((const char *)data, size, n ? ts[0] : "1.0",
                            &one))
        slack_message_clear(&one);
    if (!slack_find_keyed((const char *)data, size, n ? ts[0] : "pmbot-1",
                          "UBOT", "BBOT", &keyed) &&
        !keyed)
        __builtin_trap(); /* found means a ts */
    bot_free(keyed);
    bot_free(line);
    return 0;
}
