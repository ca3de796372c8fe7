/*
 * fuzz.h - what the libFuzzer targets (tests/fuzz/fuzz_<name>.c) share.
 *
 * Each target defines LLVMFuzzerTestOneInput and feeds its bytes to one
 * parser of outside input exactly as the daemon does. Rules for a target:
 * no state kept from one input to the next (a finding must replay from its
 * file alone), everything allocated is freed (LeakSanitizer reports leaks
 * as findings), and nothing calls exit(). A target that needs nothing but
 * quiet logs at start defines FUZZ_QUIET_INIT before including this.
 */
#ifndef PMBOT_FUZZ_H
#define PMBOT_FUZZ_H

#include "config.h"
#include "log.h"
#include "mem.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * fuzz_quiet - log at debug level, so every log line's formatting runs,
 * into /dev/null. Only the stdio stream is swapped: the sanitizers and
 * libFuzzer write to fd 2 (libFuzzer through the FILE it took at start).
 */
static inline void
fuzz_quiet(void)
{
    FILE *null = fopen("/dev/null", "w");

    if (null)
        stderr = null;
    log_level_current = LOG_DEBUG;
}

/* fuzz_cstr - the input as a new NUL-terminated string (bot_free), cut at
 * the first NUL as a C string API would see it. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = bot_malloc(size + 1);

    if (s) {
        if (size)
            memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

/* fuzz_line - split off the first line of *data (without its '\n') as a
 * new string (bot_free); *data and *size then describe the rest. */
static inline char *
fuzz_line(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    char *s = fuzz_cstr(*data, n);

    *data += nl ? n + 1 : n;
    *size -= nl ? n + 1 : n;
    return s;
}

/* fuzz_bot_config - quiet logs and the defaults with a private in-memory
 * database: what a target that builds a bot per input starts from */
static inline void
fuzz_bot_config(struct config *cfg)
{
    fuzz_quiet();
    if (config_defaults(cfg))
        abort();
    bot_free(cfg->database);
    cfg->database = bot_strdup(":memory:");
    if (!cfg->database)
        abort();
}

#ifdef FUZZ_QUIET_INIT
/* the initialiser of a target that needs only quiet logs */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}
#endif

#endif
