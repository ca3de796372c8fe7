/*
 * fuzz.h - what the libFuzzer targets (tests/fuzz/fuzz_<name>.c) share.
 *
 * Each target defines LLVMFuzzerTestOneInput and feeds its bytes to one
 * parser of outside input exactly as the daemon does. Rules for a target:
 * no state kept from one input to the next (a finding must replay from its
 * file alone), everything allocated is freed (LeakSanitizer reports leaks
 * as findings), and nothing calls exit().
 */
#ifndef PMBOT_FUZZ_H
#define PMBOT_FUZZ_H

#include "log.h"
#include "mem.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

#endif
