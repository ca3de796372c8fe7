/*
 * scrub.c - the table of secret shapes and the scrubber (see scrub.h).
 */
#include "scrub.h"

#include "err.h"
#include "mem.h"
#include "pattern.h"
#include "strbuf.h"

#include <regex.h>
#include <string.h>

/* A key word before a shape that is innocent on its own. */
#define KEYWORD                                                               \
    "([Pp][Rr][Ii][Vv][Aa][Tt][Ee][ _-]?[Kk][Ee][Yy]|[Pp][Rr][Ii][Vv][Kk]"   \
    "[Ee][Yy]|[Ss][Ee][Cc][Rr][Ee][Tt]|[Pp][Kk]=|[Ss][Ii][Gg][Nn][Ii][Nn]"    \
    "[Gg][ _-]?[Kk][Ee][Yy])"
#define SEEDWORD                                                              \
    "([Ss]eed[ _-]?(phrase|words)|[Mm]nemonic|[Rr]ecovery[ _-]?phrase)"
#define SEED_WORDS -1 /* group: the words after the match (seed_words) */
#define SCRUB_ROUNDS 16  /* passes over one text at most */

static const struct {
    const char *name;
    const char *re;
    int group; /* the capture replaced; 0 = the whole match */
} builtin[] = {
    {"Slack token", "xox[abposr]-[A-Za-z0-9-]{10,}", 0},
    {"Slack app token", "xapp-[0-9]+-[A-Za-z0-9-]{10,}", 0},
    {"Matrix access token", "syt_[A-Za-z0-9]+_[A-Za-z0-9]{10,}_[A-Za-z0-9]+",
     0},
    {"AWS access key id", "(AKIA|ASIA)[0-9A-Z]{16}", 0},
    {"AWS secret key", "[Aa][Ww][Ss]_?[Ss]ecret_?[Aa]ccess_?[Kk]ey[\"' ]*"
                       "[:=][\"' ]*([A-Za-z0-9/+=]{40})", 1},
    {"GitHub token", "gh[pousr]_[A-Za-z0-9]{36,}", 0},
    {"Google API key", "AIza[0-9A-Za-z_-]{35}", 0},
    {"JWT", "eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}",
     0},
    {"PEM private key", "-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----[^-]*"
                        "-----END ([A-Z0-9]+ )*PRIVATE KEY-----", 0},
    {"password in a URL", "[A-Za-z][A-Za-z0-9+.-]*://[^/:@ \t\n]+:"
                          "([^/@ \t\n]+)@", 1},
    {"hex private key", KEYWORD "[^0-9A-Za-z]{0,12}(0x)?([0-9a-fA-F]{64})"
                        "([^0-9a-fA-F]|$)", 3},
    /* the words themselves are counted by seed_words: a regular
     * expression for 24 of them took 140 KB compiled */
    {"seed phrase", SEEDWORD "[^a-z]{0,12}", SEED_WORDS},
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

static regex_t compiled[NBUILTIN];
static int ready;
static struct pattern user; /* scrub_configure's */

static int
prepare(void)
{
    if (ready)
        return BOT_OK;
    for (size_t i = 0; i < NBUILTIN; i++) {
        if (regcomp(&compiled[i], builtin[i].re, REG_EXTENDED)) {
            while (i > 0)
                regfree(&compiled[--i]);
            return BOT_ENOMEM; /* the table is ours: only memory fails */
        }
    }
    ready = 1;
    return BOT_OK;
}

void
scrub_free(void)
{
    if (ready) {
        for (size_t i = 0; i < NBUILTIN; i++)
            regfree(&compiled[i]);
        ready = 0;
    }
    pattern_clear(&user);
}

int
scrub_configure(const char *extra)
{
    return pattern_set(&user, extra, 0);
}

/* seed_words - the length of the BIP-39-shaped phrase at p: 12, 15, 18,
 * 21 or 24 lowercase words of 3 to 8 letters, one space apart, and
 * nothing word-like right after; 0 when there is none */
static size_t
seed_words(const char *p)
{
    const char *q = p;
    int words = 0;

    for (;;) {
        size_t n = strspn(q, "abcdefghijklmnopqrstuvwxyz");

        if (n < 3 || n > 8)
            return 0;
        q += n;
        words++;
        if (*q != ' ' || !strchr("abcdefghijklmnopqrstuvwxyz", q[1]) ||
            !q[1] || words == 24)
            break;
        q++;
    }
    if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
        (*q >= '0' && *q <= '9'))
        return 0;
    return words % 3 == 0 && words >= 12 ? (size_t)(q - p) : 0;
}

/* one - every match of re in *text, its group replaced; *hits counts
 * those replaced */
static int
one(char **text, const regex_t *re, int group, int *hits)
{
    regmatch_t m[8];
    struct strbuf sb;
    const char *p = *text;
    int hit = 0;

    strbuf_init(&sb, 0);
    while (*p && !regexec(re, p, 8, m, p == *text ? 0 : REG_NOTBOL)) {
        regoff_t so, eo;

        if (group == SEED_WORDS) {
            size_t n = seed_words(p + m[0].rm_eo);

            so = n ? m[0].rm_eo : -1;
            eo = so + (regoff_t)n;
        } else {
            so = m[group].rm_so;
            eo = m[group].rm_eo;
        }

        if (so < 0 || eo <= so) {
            /* an empty match: step over one byte */
            eo = m[0].rm_eo > 0 ? m[0].rm_eo : 1;
            strbuf_append(&sb, p, (size_t)eo);
            p += eo;
            continue;
        }
        strbuf_append(&sb, p, (size_t)so);
        strbuf_puts(&sb, SCRUB_MARK);
        /* go on after the group, so what the match only needed as
         * context (a key word, a closing quote) is looked at again */
        p += eo;
        hit = 1;
        ++*hits;
    }
    if (!hit) {
        strbuf_cleanup(&sb);
        return BOT_OK;
    }
    strbuf_puts(&sb, p);
    if (strbuf_error(&sb)) {
        strbuf_cleanup(&sb);
        return BOT_ENOMEM;
    }
    bot_free(*text);
    *text = strbuf_steal(&sb);
    return *text ? BOT_OK : BOT_ENOMEM;
}

char *
scrub_dup(const char *text)
{
    char *s = bot_strdup(text);

    if (s && scrub(&s)) {
        bot_free(s);
        return NULL;
    }
    return s;
}

int
scrub(char **text)
{
    int rc;

    if (!*text || !**text)
        return BOT_OK;
    rc = prepare();
    /* a redaction can complete a shape before it: a seed phrase ends
     * where nothing word-like follows, and a later one turned into
     * [redacted] can be that end. So again until nothing changes (each
     * round that changes something redacts at least one more secret, and
     * a text holds few) */
    for (int round = 0, hits = 1; !rc && hits && round < SCRUB_ROUNDS;
         round++) {
        hits = 0;
        for (size_t i = 0; !rc && i < NBUILTIN; i++)
            rc = one(text, &compiled[i], builtin[i].group, &hits);
        if (!rc && user.set)
            rc = one(text, &user.re, 0, &hits);
    }
    return rc;
}
