/*
 * review_rule.c - the review's words and the security-layer verdict rule:
 * pure functions over text and masks (review.h), fuzzed on their own.
 */
#include "review.h"

#include "err.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The layers in SPEC.md's order, with the names people also use. Aliases
 * are compared folded: lower case, no blanks, hyphens or dots. */
static const struct {
    const char *name;
    const char *aliases[8];
} layers[REVIEW_NLAYERS] = {
    {"unit testing",
     {"unit", "unittests", "unittest", "unittesting", NULL}},
    {"end-to-end testing",
     {"e2e", "e2etests", "e2etesting", "endtoend", "endtoendtests",
      "integrationtests", "integrationtesting", NULL}},
    {"invariant testing",
     {"invariant", "invariants", "invarianttests", "fuzzing",
      "fuzztesting", "propertytesting", NULL}},
    {"formal verification",
     {"formal", "formalverification", "formalmethods", "fv", NULL}},
    {"peer review",
     {"peerreview", "codereview", "review", "reviews", "prreview", NULL}},
    {"internal audit",
     {"internal", "internalaudit", "internalreview", NULL}},
    {"external audit",
     {"external", "externalaudit", "audit", "thirdpartyaudit", NULL}},
    {"bug bounty",
     {"bounty", "bugbounty", "bugbounties", "bountyprogram", NULL}},
};

const char *
review_layer_name(int i)
{
    return i >= 0 && i < REVIEW_NLAYERS ? layers[i].name : NULL;
}

/* fold - s[0..n) lower case without blanks, '-', '_' or '.'; into buf */
static void
fold(const char *s, size_t n, char *buf, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (isspace(ch) || ch == '-' || ch == '_' || ch == '.')
            continue;
        buf[o++] = (char)tolower(ch);
    }
    buf[o] = '\0';
}

static int
layer_of(const char *s, size_t n)
{
    char f[64], name[64];

    if (n >= sizeof(f))
        return -1;
    fold(s, n, f, sizeof(f));
    for (int i = 0; i < REVIEW_NLAYERS; i++) {
        fold(layers[i].name, strlen(layers[i].name), name, sizeof(name));
        if (!strcmp(f, name))
            return i;
        for (int k = 0; layers[i].aliases[k]; k++) {
            if (!strcmp(f, layers[i].aliases[k]))
                return i;
        }
    }
    return -1;
}

/* next_item - the next list item of *p: separated by ',', ';' or the word
 * "and"; [*b, *e) trimmed; 0 at the end */
static int
next_item(const char **p, const char **b, const char **e)
{
    const char *s = *p;

    while (*s && (isspace((unsigned char)*s) || *s == ',' || *s == ';'))
        s++;
    if (!*s)
        return 0;
    *b = s;
    while (*s && *s != ',' && *s != ';') {
        if ((s == *b || isspace((unsigned char)s[-1])) &&
            !strncasecmp(s, "and", 3) &&
            (!s[3] || isspace((unsigned char)s[3])))
            break;
        s++;
    }
    *e = s;
    while (*e > *b && isspace((unsigned char)(*e)[-1]))
        (*e)--;
    if (!strncasecmp(s, "and", 3))
        s += 3;
    *p = s;
    return 1;
}

int
review_parse_layers(const char *text, unsigned *mask, char **bad)
{
    const char *p = text, *b, *e;
    unsigned m = 0;
    int items = 0, none = 0;

    *mask = 0;
    if (bad)
        *bad = NULL;
    while (next_item(&p, &b, &e)) {
        int i;

        if (b == e)
            continue;
        items++;
        if ((size_t)(e - b) == 4 && !strncasecmp(b, "none", 4)) {
            none = 1;
            continue;
        }
        i = layer_of(b, (size_t)(e - b));
        if (i < 0) {
            if (bad) {
                size_t n = (size_t)(e - b);

                if (n > 64) /* cut at a character */
                    for (n = 64; n && ((unsigned char)b[n] & 0xc0) == 0x80;)
                        n--;
                *bad = bot_strndup(b, n);
                if (!*bad)
                    return BOT_ENOMEM;
            }
            return BOT_EINVAL;
        }
        m |= 1u << i;
    }
    if (!items || (none && items > 1))
        return BOT_EINVAL; /* "none" stands alone */
    *mask = m;
    return BOT_OK;
}

/* word_is - text is w alone (any case, blanks and a final '.' or '!'
 * around it) */
static int
word_is(const char *text, const char *w)
{
    size_t n = strlen(w), len;

    while (isspace((unsigned char)*text))
        text++;
    len = strlen(text);
    while (len && (isspace((unsigned char)text[len - 1]) ||
                   text[len - 1] == '.' || text[len - 1] == '!'))
        len--;
    return len == n && !strncasecmp(text, w, n);
}

int
review_parse_found(const char *text)
{
    static const struct {
        const char *w;
        int found;
    } words[] = {
        {"production", REVIEW_FOUND_PRODUCTION},
        {"prod", REVIEW_FOUND_PRODUCTION},
        {"in production", REVIEW_FOUND_PRODUCTION},
        {"pre-production", REVIEW_FOUND_PREPROD},
        {"preproduction", REVIEW_FOUND_PREPROD},
        {"pre production", REVIEW_FOUND_PREPROD},
        {"preprod", REVIEW_FOUND_PREPROD},
        {"pre-prod", REVIEW_FOUND_PREPROD},
        {"staging", REVIEW_FOUND_PREPROD},
        {"earlier", REVIEW_FOUND_EARLIER},
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (word_is(text, words[i].w))
            return words[i].found;
    }
    return REVIEW_FOUND_NONE;
}

int
review_parse_yes(const char *text)
{
    if (word_is(text, "yes") || word_is(text, "y"))
        return 1;
    if (word_is(text, "no") || word_is(text, "n"))
        return 0;
    return -1;
}

struct review_verdict
review_verdict(unsigned applied, unsigned caught)
{
    struct review_verdict v = {0};

    applied &= REVIEW_ALL_LAYERS;
    caught &= REVIEW_ALL_LAYERS;
    v.under = applied & caught;
    v.missing = ~applied & caught & REVIEW_ALL_LAYERS;
    if (v.under)
        v.kinds = REVIEW_UNDERPERFORMED |
                  (v.missing ? REVIEW_NOT_ENOUGH_LAYERS : 0);
    else if (v.missing)
        v.kinds = REVIEW_NOT_ENOUGH_LAYERS;
    else
        v.kinds = REVIEW_NOT_DEMANDING;
    return v;
}

int
review_row_verdict(const struct review_row *r, struct review_verdict *v)
{
    if (r->found < 0 || r->found == REVIEW_FOUND_EARLIER || r->applied < 0 ||
        (r->asked & REVIEW_ALL_LAYERS) != REVIEW_ALL_LAYERS)
        return 0;
    *v = review_verdict((unsigned)r->applied, r->caught);
    return 1;
}

void
review_layer_list(unsigned mask, struct strbuf *out)
{
    int n = 0, total = __builtin_popcount(mask);

    for (int i = 0; i < REVIEW_NLAYERS; i++) {
        if (!(mask & (1u << i)))
            continue;
        if (n)
            strbuf_puts(out, n == total - 1 ? " and " : ", ");
        strbuf_puts(out, layers[i].name);
        n++;
    }
}

void
review_verdict_name(const struct review_verdict *v, struct strbuf *out)
{
    if (v->kinds & REVIEW_UNDERPERFORMED) {
        strbuf_puts(out, "Underperformed: ");
        review_layer_list(v->under, out);
        if (v->kinds & REVIEW_NOT_ENOUGH_LAYERS)
            strbuf_puts(out, "; Not enough layers");
    } else if (v->kinds & REVIEW_NOT_ENOUGH_LAYERS) {
        strbuf_puts(out, "Not enough layers");
    } else if (v->kinds & REVIEW_NOT_DEMANDING) {
        strbuf_puts(out, "Requirements not demanding enough");
    }
}

void
review_proposals_free(char **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bot_free(p[i]);
}

int
review_proposals(const struct review_verdict *v, char **out, size_t *n)
{
    struct strbuf sb;

    *n = 0;
    strbuf_init(&sb, 0);
    for (int i = 0; i < REVIEW_NLAYERS; i++) {
        if (!(v->under & (1u << i)))
            continue;
        strbuf_reset(&sb);
        strbuf_printf(&sb,
                      "Strengthen %s: find why it did not catch this bug "
                      "and change it so it catches this kind",
                      layers[i].name);
        if (strbuf_error(&sb) || !(out[(*n)++] = bot_strdup(strbuf_str(&sb))))
            goto nomem;
    }
    if (v->kinds & REVIEW_NOT_ENOUGH_LAYERS) {
        strbuf_reset(&sb);
        strbuf_puts(&sb, "Review how risk and complexity are classified "
                         "(would have required ");
        review_layer_list(v->missing, &sb);
        strbuf_puts(&sb, ")");
        if (strbuf_error(&sb) || !(out[(*n)++] = bot_strdup(strbuf_str(&sb))))
            goto nomem;
    }
    if (v->kinds & REVIEW_NOT_DEMANDING) {
        if (!(out[(*n)++] = bot_strdup("Shift the requirements table left "
                                       "for this risk and complexity")))
            goto nomem;
    }
    strbuf_cleanup(&sb);
    return BOT_OK;
nomem:
    strbuf_cleanup(&sb);
    review_proposals_free(out, *n);
    *n = 0;
    return BOT_ENOMEM;
}

/* first_word - [*b, *e) the first word of s and *rest past it and its
 * blanks */
static void
first_word(const char *s, const char **b, const char **e, const char **rest)
{
    while (isspace((unsigned char)*s))
        s++;
    *b = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    *e = s;
    while (isspace((unsigned char)*s))
        s++;
    *rest = s;
}

/* number - [b, e) is a positive decimal number that fits: *n */
static int
number(const char *b, const char *e, long *n)
{
    long v = 0;

    if (b == e || e - b > 6)
        return 0;
    for (const char *s = b; s < e; s++) {
        if (!isdigit((unsigned char)*s))
            return 0;
        v = v * 10 + (*s - '0');
    }
    *n = v;
    return v > 0;
}

int
review_parse_accept(const char *text, size_t n, unsigned *mask)
{
    const char *b, *e, *rest;
    unsigned m = 0;

    *mask = 0;
    first_word(text, &b, &e, &rest);
    if ((size_t)(e - b) != 6 || strncasecmp(b, "accept", 6))
        return BOT_ENOTFOUND;
    if (!*rest) {
        *mask = n >= 32 ? ~0u : (1u << n) - 1;
        return BOT_OK;
    }
    while (*rest) {
        long k;

        first_word(rest, &b, &e, &rest);
        /* "accept 1, 3" too */
        while (e > b && (e[-1] == ',' || e[-1] == '.'))
            e--;
        if (b == e)
            continue;
        if (!number(b, e, &k) || (size_t)k > n || k > 31)
            return BOT_EINVAL;
        m |= 1u << (k - 1);
    }
    *mask = m;
    return m ? BOT_OK : BOT_EINVAL;
}

int
review_parse_steer(const char *reply, long *n, const char **text)
{
    static const struct {
        const char *w;
        int steer;
        const char *usage;
    } words[] = {
        {"next", REVIEW_NEXT, "`next` alone goes on to the next question."},
        {"back", REVIEW_BACK, "`back` alone goes back one question."},
        {"skip", REVIEW_SKIP, "`skip` alone leaves this question for "
                              "later and goes on."},
        {"status", REVIEW_STATUS, "`status` alone says where the review "
                                  "stands."},
        {"stop", REVIEW_STOP, "`stop` alone pauses the review."},
    };
    static const char edit_usage[] =
        "`edit <n> <text>` replaces answer n of this question, e.g. "
        "`edit 2 the canary caught it`.";
    const char *b, *e, *rest, *b2, *e2, *rest2;
    size_t len;

    *n = 0;
    *text = NULL;
    first_word(reply, &b, &e, &rest);
    len = (size_t)(e - b);
    if (len == 4 && !strncasecmp(b, "edit", 4)) {
        if (!*rest) {
            *text = edit_usage;
            return REVIEW_USAGE;
        }
        first_word(rest, &b2, &e2, &rest2);
        if (!number(b2, e2, n)) {
            /* "edit the runbook so ..." is an answer */
            if (isdigit((unsigned char)*b2) || *b2 == '-') {
                *text = edit_usage;
                return REVIEW_USAGE;
            }
            *n = 0;
            return REVIEW_ANSWER;
        }
        if (!*rest2 || !chat_text_visible(rest2)) {
            *text = edit_usage;
            return REVIEW_USAGE;
        }
        *text = rest2;
        return REVIEW_EDIT;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t wl = strlen(words[i].w);

        /* "next." is next; "next time we page" is an answer */
        if (len < wl || strncasecmp(b, words[i].w, wl))
            continue;
        if (len > wl && strspn(b + wl, ".!") != len - wl)
            continue;
        if (!*rest)
            return words[i].steer;
        /* "skip 2", "stop now": one word more is a steer gone wrong;
         * more words are a sentence */
        first_word(rest, &b2, &e2, &rest2);
        if (!*rest2) {
            *text = words[i].usage;
            return REVIEW_USAGE;
        }
        return REVIEW_ANSWER;
    }
    return REVIEW_ANSWER;
}
