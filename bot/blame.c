/*
 * blame.c - the table of blaming shapes (see blame.h).
 */
#define _GNU_SOURCE /* strcasestr */
#include "blame.h"

#include "err.h"
#include "pattern.h"

#include <regex.h>
#include <stddef.h>
#include <string.h>

#define B "(^|[^a-z0-9_])"   /* a word starts here */
#define E "([^a-z0-9_]|$)"   /* and ends here */
#define WHO "(@|<@)[a-z0-9._-]+>?"

static const char *const builtin[] = {
    B "(blame[ds]?|blaming)" E,
    B "(careless(ly|ness)?|negligen(t|ce)|sloppy|incompeten(t|ce))" E,
    B "human error" E,
    B "should( not|n'?t)? have (known|noticed|checked)" E,
    B "dropped the ball" E,
    B "(his|her|their|your|my|whose|[a-z0-9_]+'s|at) fault" E,
    B "(the )?fault of" E,
    WHO "('s)? (broke|caused|forgot|messed up|screwed up)" E,
    B "(caused|broken|broke) by " WHO,
    B "because of " WHO,
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

/* Every built-in shape holds one of these (any case): most texts hold
 * none, and a substring search costs less than ten regexec calls on a
 * path every tagged message takes. */
static const char *const hints[] = {
    "blam", "careless", "negligen", "sloppy", "incompeten", "human error",
    "should", "ball", "fault", "@", "because",
};

static int
hinted(const char *text)
{
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        if (strcasestr(text, hints[i]))
            return 1;
    }
    return 0;
}

static regex_t compiled[NBUILTIN];
static int ready;
static struct pattern user;

static int
prepare(void)
{
    if (ready)
        return BOT_OK;
    for (size_t i = 0; i < NBUILTIN; i++) {
        if (regcomp(&compiled[i], builtin[i],
                    REG_EXTENDED | REG_ICASE | REG_NOSUB)) {
            while (i > 0)
                regfree(&compiled[--i]);
            return BOT_ENOMEM;
        }
    }
    ready = 1;
    return BOT_OK;
}

int
blame_configure(const char *extra)
{
    return pattern_set(&user, extra, REG_ICASE | REG_NOSUB);
}

int
blame_found(const char *text)
{
    if (!text || !*text)
        return 0;
    if (hinted(text) && !prepare()) {
        for (size_t i = 0; i < NBUILTIN; i++) {
            if (!regexec(&compiled[i], text, 0, NULL, 0))
                return 1;
        }
    }
    return user.set && !regexec(&user.re, text, 0, NULL, 0);
}

void
blame_free(void)
{
    if (ready) {
        for (size_t i = 0; i < NBUILTIN; i++)
            regfree(&compiled[i]);
        ready = 0;
    }
    pattern_clear(&user);
}
