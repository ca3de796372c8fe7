/*
 * fuzz_scrub - any text through the secret scrubber, as the document and
 * the posted summary put it: it must terminate, never grow a secret
 * back, and be idempotent (scrubbing twice changes nothing more). The
 * bytes up to the first NUL are the text, as a string from the store is.
 */
#include "fuzz.h"

#include "mem.h"
#include "scrub.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *once = bot_strndup((const char *)data, size), *twice;

    if (!once)
        return 0;
    if (scrub(&once)) {
        bot_free(once);
        return 0;
    }
    twice = bot_strdup(once);
    if (twice && !scrub(&twice) && strcmp(once, twice))
        abort(); /* a second pass found a secret the first one left */
    bot_free(twice);
    bot_free(once);
    return 0;
}
