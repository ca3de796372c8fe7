/*
 * platforms.c - the platform table and the choice `pmbot run` makes from it.
 *
 * A platform is added with one descriptor and its credentials function; the
 * rule in platforms_choose_from knows no platform by name.
 */
#include "platforms.h"

#include "config.h"
#include "err.h"
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NAME_MAX_LEN 32
#define LIST_MAX     16 /* entries in [pmbot] platforms */

static void
need(struct platform_creds *c, const char *value, const char *var)
{
    if (value)
        c->set[c->nset++] = var;
    else
        c->missing[c->nmissing++] = var;
}

static void
slack_credentials(const struct config *cfg, struct platform_creds *c)
{
    need(c, cfg->slack_app_token, "SLACK_APP_TOKEN");
    need(c, cfg->slack_bot_token, "SLACK_BOT_TOKEN");
}

/* a homeserver, and a token or a password (which logs in as user_id) */
static void
matrix_credentials(const struct config *cfg, struct platform_creds *c)
{
    need(c, cfg->matrix_homeserver, "MATRIX_HOMESERVER");
    if (cfg->matrix_user_id)
        c->set[c->nset++] = "MATRIX_USER_ID";
    if (cfg->matrix_access_token)
        c->set[c->nset++] = "MATRIX_ACCESS_TOKEN";
    if (cfg->matrix_password) {
        c->set[c->nset++] = "MATRIX_PASSWORD";
        if (!cfg->matrix_access_token && !cfg->matrix_user_id)
            c->missing[c->nmissing++] = "MATRIX_USER_ID";
    }
    if (!cfg->matrix_access_token && !cfg->matrix_password)
        c->missing[c->nmissing++] = "MATRIX_ACCESS_TOKEN (or MATRIX_PASSWORD)";
}

const struct platform_desc platforms_table[] = {
    {"slack", slack_credentials},
    {"matrix", matrix_credentials},
    {"terminal", NULL},
};
const size_t platforms_table_len =
    sizeof(platforms_table) / sizeof(platforms_table[0]);

static int fail(char **why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(char **why, const char *fmt, ...)
{
    va_list ap;
    char line[512];

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    *why = bot_strdup(line);
    return *why ? BOT_EINVAL : BOT_ENOMEM;
}

/* join - "A", "A and B", "A, B and C" into buf */
static const char *
join(char *buf, size_t cap, const char *const *names, int n)
{
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i == n - 1 ? " and " : ", ";
        int w = snprintf(buf + len, cap - len, "%s%s", sep, names[i]);

        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

/* table_names - "slack, matrix or terminal", for an error */
static const char *
table_names(char *buf, size_t cap, const struct platform_desc *table,
            size_t n)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++) {
        const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";
        int w = snprintf(buf + len, cap - len, "%s%s", sep, table[i].name);

        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

static const struct platform_desc *
find(const struct platform_desc *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(table[i].name, name))
            return &table[i];
    }
    return NULL;
}

/*
 * parse_list - the comma-separated list into descriptors of table, in its
 * order (spaces around a name ignored); BOT_EINVAL for an empty entry, an
 * unknown name or one named twice.
 */
static int
parse_list(const char *list, const struct platform_desc *table, size_t n,
           const struct platform_desc **got, int *ngot, char **why)
{
    const char *p = list;
    char names[256];

    *ngot = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const struct platform_desc *d;
        char name[NAME_MAX_LEN + 1];

        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (!len)
            return fail(why, "[pmbot] platforms: an empty name in '%s'",
                        list);
        d = NULL;
        if (len <= NAME_MAX_LEN) {
            memcpy(name, p, len);
            name[len] = '\0';
            d = find(table, n, name);
        }
        if (!d)
            return fail(why, "[pmbot] platforms: '%.*s' is not %s",
                        (int)(len > NAME_MAX_LEN ? NAME_MAX_LEN : len), p,
                        table_names(names, sizeof(names), table, n));
        for (int i = 0; i < *ngot; i++) {
            if (got[i] == d)
                return fail(why, "[pmbot] platforms: %s is listed twice",
                            d->name);
        }
        if (*ngot == LIST_MAX)
            return fail(why, "[pmbot] platforms: more than %d names",
                        LIST_MAX);
        got[(*ngot)++] = d;
        if (!end)
            return BOT_OK;
        p = end + 1;
    }
}

static int
check_alarm_name(const char *name, const struct platform_desc *table,
                 size_t n, char **why)
{
    char names[256];

    if (name && !find(table, n, name))
        return fail(why, "[pmbot] alarm_platform: '%.*s' is not %s",
                    NAME_MAX_LEN, name,
                    table_names(names, sizeof(names), table, n));
    return BOT_OK;
}

int
platforms_check(const struct config *cfg, char **why)
{
    const struct platform_desc *got[LIST_MAX];
    int ngot, rc;

    *why = NULL;
    if (cfg->platforms) {
        rc = parse_list(cfg->platforms, platforms_table, platforms_table_len,
                        got, &ngot, why);
        if (rc)
            return rc;
    }
    return check_alarm_name(cfg->alarm_platform, platforms_table,
                            platforms_table_len, why);
}

/* by_list - exactly the listed platforms, each with all its credentials */
static int
by_list(const struct platform_desc *table, size_t n, const struct config *cfg,
        struct platforms *out, char **why)
{
    const struct platform_desc *got[LIST_MAX];
    int ngot, rc;
    char miss[256];

    rc = parse_list(cfg->platforms, table, n, got, &ngot, why);
    if (rc)
        return rc;
    for (int i = 0; i < ngot; i++) {
        struct platform_creds c = {0};

        if (got[i]->credentials)
            got[i]->credentials(cfg, &c);
        if (c.nmissing)
            return fail(why, "%s is listed in [pmbot] platforms but %s %s not "
                        "set", got[i]->name,
                        join(miss, sizeof(miss), c.missing, c.nmissing),
                        c.nmissing > 1 ? "are" : "is");
    }
    out->v = bot_calloc((size_t)ngot, sizeof(*out->v));
    if (!out->v)
        return BOT_ENOMEM;
    for (int i = 0; i < ngot; i++) {
        out->v[i].name = got[i]->name;
        snprintf(out->v[i].reason, sizeof(out->v[i].reason),
                 "%s: listed in [pmbot] platforms", got[i]->name);
    }
    out->n = ngot;
    return BOT_OK;
}

/* by_credentials - every platform with all its credentials, in table
 * order; the first that needs none when no other has any */
static int
by_credentials(const struct platform_desc *table, size_t n,
               const struct config *cfg, struct platforms *out, char **why)
{
    const struct platform_desc *fallback = NULL;
    char set[256], miss[256];
    size_t k = 0;

    out->v = bot_calloc(n, sizeof(*out->v));
    if (!out->v)
        return BOT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct platform_creds c = {0};

        if (!table[i].credentials) {
            if (!fallback)
                fallback = &table[i];
            continue;
        }
        table[i].credentials(cfg, &c);
        if (!c.nset)
            continue;
        if (c.nmissing) {
            bot_free(out->v);
            out->v = NULL;
            return fail(why,
                        "%s: %s %s set but %s %s not; set %s too, or name "
                        "the platforms in [pmbot] platforms",
                        table[i].name,
                        join(set, sizeof(set), c.set, c.nset),
                        c.nset > 1 ? "are" : "is",
                        join(miss, sizeof(miss), c.missing, c.nmissing),
                        c.nmissing > 1 ? "are" : "is",
                        c.nmissing > 1 ? "them" : "it");
        }
        out->v[k].name = table[i].name;
        snprintf(out->v[k].reason, sizeof(out->v[k].reason), "%s: %s %s set",
                 table[i].name, join(set, sizeof(set), c.set, c.nset),
                 c.nset > 1 ? "are" : "is");
        k++;
    }
    if (!k && !fallback) {
        bot_free(out->v);
        out->v = NULL;
        return fail(why, "%s", "no platform credentials are set");
    }
    if (!k) {
        out->v[k].name = fallback->name;
        snprintf(out->v[k].reason, sizeof(out->v[k].reason),
                 "%s: no platform credentials are set", fallback->name);
        k++;
    }
    out->n = (int)k;
    return BOT_OK;
}

int
platforms_choose_from(const struct platform_desc *table, size_t n,
                      const struct config *cfg, struct platforms *out,
                      char **why)
{
    const char *alarm = cfg->alarm_platform;
    char names[256];
    int rc;

    memset(out, 0, sizeof(*out));
    *why = NULL;
    rc = check_alarm_name(alarm, table, n, why);
    if (!rc)
        rc = cfg->platforms ? by_list(table, n, cfg, out, why)
                            : by_credentials(table, n, cfg, out, why);
    if (rc) {
        platforms_cleanup(out);
        return rc;
    }
    if (!alarm)
        return BOT_OK;
    for (int i = 0; i < out->n; i++) {
        if (!strcmp(out->v[i].name, alarm)) {
            out->alarm = i;
            return BOT_OK;
        }
    }
    {
        const char *chosen[LIST_MAX];
        int k = out->n < LIST_MAX ? out->n : LIST_MAX;

        for (int i = 0; i < k; i++)
            chosen[i] = out->v[i].name;
        join(names, sizeof(names), chosen, k);
    }
    platforms_cleanup(out);
    return fail(why,
                "[pmbot] alarm_platform is %s, which pmbot does not connect "
                "(it connects %s)",
                alarm, names);
}

int
platforms_choose(const struct config *cfg, struct platforms *out, char **why)
{
    return platforms_choose_from(platforms_table, platforms_table_len, cfg,
                                 out, why);
}

void
platforms_cleanup(struct platforms *out)
{
    bot_free(out->v);
    memset(out, 0, sizeof(*out));
}
