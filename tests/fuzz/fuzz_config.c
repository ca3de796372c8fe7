/*
 * fuzz_config - an INI configuration file as `pmbot -c FILE` reads it:
 * config_load (inih, the key table, bounds), then config_validate (which
 * also parses the severity map and checks every mapping) and config_dump.
 * The file is a memfd, so no input ever touches the disk.
 */
#define _GNU_SOURCE /* memfd_create */
#include "fuzz.h"

#include "config.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const env[] = {
        "MATRIX_ACCESS_TOKEN", "MATRIX_HOMESERVER", "MATRIX_PASSWORD",
        "MATRIX_USER_ID", "PMBOT_DB", "PMBOT_LISTEN", "PMBOT_LOG_LEVEL",
        "PMBOT_PLATFORM", "PMBOT_RESPONDERS", "PMBOT_REVIEW_CHANNEL",
        "PMBOT_WEBHOOK_TOKEN", "SLACK_API_URL", "SLACK_APP_TOKEN",
        "SLACK_BOT_TOKEN", NULL,
    };

    (void)argc;
    (void)argv;
    fuzz_quiet();
    /* the file alone decides: an environment override would mask it */
    for (int i = 0; env[i]; i++)
        unsetenv(env[i]);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config cfg;
    struct strbuf out;
    char path[64], *why = NULL;
    int fd = memfd_create("pmbot-fuzz.ini", 0);

    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (!config_load(&cfg, path, &why)) {
        if (config_validate(&cfg, &why)) {
            bot_free(why);
            why = NULL;
        }
        strbuf_init(&out, 0);
        (void)config_dump(&cfg, &out);
        strbuf_cleanup(&out);
        config_cleanup(&cfg);
    }
    bot_free(why);
    close(fd);
    return 0;
}
