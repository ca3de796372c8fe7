/*
 * fuzz_blame - any text through the blame finder (bot/blame.c), as a
 * tagged message or a review answer reaches it, with a user pattern from
 * the input's first line: it must terminate and answer 0 or 1; a user
 * pattern that does not compile is refused and the previous one kept, so
 * the finder answers the same for the same text after the refusal.
 */
#include "fuzz.h"

#include "blame.h"
#include "err.h"
#include "mem.h"

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
    char *pattern = fuzz_line(&data, &size), *text;
    int before, after;

    if (!pattern)
        return 0;
    text = fuzz_cstr(data, size);
    if (!text) {
        bot_free(pattern);
        return 0;
    }
    if (blame_configure(NULL))
        abort();
    before = blame_found(text);
    if (before != 0 && before != 1)
        abort();
    if (blame_configure(pattern) == BOT_OK) {
        after = blame_found(text);
        if (after != 0 && after != 1)
            abort();
        if (before && !after)
            abort(); /* a user pattern only adds */
    } else if (blame_found(text) != before) {
        abort(); /* refused: the previous table is kept */
    }
    blame_configure(NULL);
    bot_free(pattern);
    bot_free(text);
    return 0;
}
