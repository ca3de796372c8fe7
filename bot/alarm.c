/*
 * alarm.c - the alarm intake codec (jansson). Shapes follow
 * shared/protocols.md F1-F3; the contract is include/alarm.h.
 *
 * Every parser builds into a local struct alarm and copies it to *out only
 * on success, so an error leaves *out zeroed. json_t values are borrowed
 * from the root document, which each parser releases at its single exit.
 * Strings are copied through clean(), that is chat_text_clean(): the one
 * place that decides which characters of untrusted text survive.
 */
#include "alarm.h"

#include "chat.h"
#include "err.h"
#include "mem.h"
#include "strbuf.h"
#include "timeutil.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* What copy_clean does with a string longer than its limit. */
enum over {
    OVER_TRUNCATE, /* cut on a UTF-8 boundary */
    OVER_REFUSE,   /* BOT_EINVAL */
    OVER_DROP      /* treat as absent */
};

enum kind { KIND_ALERTMANAGER, KIND_GRAFANA };

static int
fail(const char **why, const char *reason)
{
    *why = reason;
    return BOT_EINVAL;
}

static int
is_blank(char c)
{
    return c == ' ' || c == '\n';
}

/* clean - append s to sb through the one sanitiser of user text. */
static void
clean(struct strbuf *sb, const char *s, int multiline)
{
    chat_text_clean(sb, s, strlen(s), multiline ? CHAT_TEXT_MULTILINE : 0);
}

/*
 * take - the trimmed contents of sb, bounded by max as `over` says, as a new
 * string in *out (NULL when nothing is left). Always cleans sb up.
 */
static int
take(struct strbuf *sb, size_t max, enum over over, char **out)
{
    const char *buf = strbuf_str(sb);
    size_t start = 0, end = sb->len;
    int rc = strbuf_error(sb);

    *out = NULL;
    if (rc)
        goto done;
    while (start < end && is_blank(buf[start]))
        start++;
    while (end > start && is_blank(buf[end - 1]))
        end--;
    if (end - start > max) {
        if (over == OVER_REFUSE) {
            rc = BOT_EINVAL;
            goto done;
        }
        if (over == OVER_DROP)
            goto done;
        end = start + max;
        /* buf[end] is the first byte cut off: never split a character */
        while (end > start && ((unsigned char)buf[end] & 0xc0) == 0x80)
            end--;
        while (end > start && is_blank(buf[end - 1]))
            end--;
    }
    if (end > start) {
        *out = bot_strndup(buf + start, end - start);
        if (!*out)
            rc = BOT_ENOMEM;
    }
done:
    strbuf_cleanup(sb);
    return rc;
}

/* copy_clean - s cleaned, trimmed and bounded (see take); s may be NULL. */
static int
copy_clean(const char *s, int multiline, size_t max, enum over over,
           char **out)
{
    struct strbuf sb;

    *out = NULL;
    if (!s)
        return BOT_OK;
    strbuf_init(&sb, 0);
    clean(&sb, s, multiline);
    return take(&sb, max, over, out);
}

/* copy_key - a dedup key or fingerprint: refused when too long. */
static int
copy_key(const char *s, char **out, const char **why, const char *too_long)
{
    int rc = copy_clean(s, 0, ALARM_KEY_MAX, OVER_REFUSE, out);

    return rc == BOT_EINVAL ? fail(why, too_long) : rc;
}

/* copy_title - a title: truncated; one with nothing that shows (empty,
 * or only zero-width characters) is *out NULL. */
static int
copy_title(const char *s, char **out)
{
    int rc = copy_clean(s, 0, ALARM_TITLE_MAX, OVER_TRUNCATE, out);

    if (!rc && *out && !chat_text_visible(*out)) {
        bot_free(*out);
        *out = NULL;
    }
    return rc;
}

static int
copy_text(const char *s, char **out)
{
    return copy_clean(s, 1, ALARM_TEXT_MAX, OVER_TRUNCATE, out);
}

static int
copy_link(const char *s, char **out)
{
    return copy_clean(s, 0, ALARM_LINK_MAX, OVER_DROP, out);
}

/* member - obj[key], JSON null counted as absent. */
static json_t *
member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_null(v) ? NULL : v;
}

/* get_string - *s is the string obj[key], NULL if absent; another type is
 * BOT_EINVAL with reason `bad`. */
static int
get_string(json_t *obj, const char *key, const char *bad, const char **s,
           const char **why)
{
    json_t *v = member(obj, key);

    *s = NULL;
    if (!v)
        return BOT_OK;
    if (!json_is_string(v))
        return fail(why, bad);
    *s = json_string_value(v);
    return BOT_OK;
}

/* get_object - like get_string for objects. */
static int
get_object(json_t *obj, const char *key, const char *bad, json_t **o,
           const char **why)
{
    json_t *v = member(obj, key);

    *o = NULL;
    if (!v)
        return BOT_OK;
    if (!json_is_object(v))
        return fail(why, bad);
    *o = v;
    return BOT_OK;
}

/* label - a string member of a label or annotation set; labels may be NULL
 * and values of other types count as absent. */
static const char *
label(json_t *labels, const char *key)
{
    return json_string_value(json_object_get(labels, key));
}

/* load - the body as a JSON object. Duplicate keys are refused: two
 * readers could disagree about which one counts. */
static int
load(const char *body, size_t len, json_t **root, const char **why)
{
    json_error_t jerr;

    *root = NULL;
    if (!body || !len)
        return fail(why, "empty body");
    *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root) {
        switch (json_error_code(&jerr)) {
        case json_error_out_of_memory:
            return BOT_ENOMEM;
        case json_error_invalid_utf8:
            return fail(why, "not valid UTF-8");
        case json_error_duplicate_key:
            return fail(why, "duplicate key");
        case json_error_null_character:
        case json_error_null_byte_in_key:
            return fail(why, "NUL character in a string");
        case json_error_stack_overflow:
            return fail(why, "JSON nested too deeply");
        default:
            return fail(why, "not JSON");
        }
    }
    if (!json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        return fail(why, "body is not a JSON object");
    }
    return BOT_OK;
}

/* finish - the single exit of every parser: release the document, then
 * either hand the alarm over or free it. */
static int
finish(json_t *root, int rc, struct alarm *a, struct alarm *out)
{
    json_decref(root);
    if (rc) {
        alarm_clear(a);
        return rc;
    }
    *out = *a;
    return BOT_OK;
}

/* ---- severities ---------------------------------------------------- */

static char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int
name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* builtin - the built-in names of alarm.h; s is lower case. */
static int
builtin(const char *s)
{
    if (s[0] >= '0' && s[0] <= '4' && !s[1])
        return s[0] - '0';
    if (!strncmp(s, "sev", 3) && s[3] >= '0' && s[3] <= '4' && !s[4])
        return s[3] - '0';
    if (s[0] == 'p' && s[1] >= '1' && s[1] <= '5' && !s[2])
        return s[1] == '5' ? 4 : s[1] - '0';
    return -1;
}

int
alarm_severity_of(const struct alarm_severity_map *m, const char *value)
{
    char name[ALARM_SEV_NAME_MAX];
    size_t n;

    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (!n || n >= sizeof(name))
        return -1;
    for (size_t i = 0; i < n; i++)
        name[i] = lower(value[i]);
    name[n] = '\0';
    for (size_t i = 0; m && i < m->n; i++) {
        if (!strcmp(m->names[i].name, name))
            return m->names[i].severity;
    }
    return builtin(name);
}

static const char *
skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int
alarm_severity_map_parse(const char *spec, struct alarm_severity_map *out,
                         const char **why)
{
    struct alarm_severity_map m;
    const char *p = spec ? spec : "", *ignored;

    if (!why)
        why = &ignored;
    memset(out, 0, sizeof(*out));
    memset(&m, 0, sizeof(m));
    p = skip_blanks(p);
    while (*p) {
        struct alarm_severity_name *e;
        size_t n = 0;

        while (name_char(p[n]))
            n++;
        if (!n)
            return fail(why, "severity map entry is not name=N");
        if (n >= ALARM_SEV_NAME_MAX)
            return fail(why, "severity name too long");
        if (m.n == ALARM_SEV_MAP_MAX)
            return fail(why, "too many severity names");
        e = &m.names[m.n];
        for (size_t i = 0; i < n; i++)
            e->name[i] = lower(p[i]);
        for (size_t i = 0; i < m.n; i++) {
            if (!strcmp(m.names[i].name, e->name))
                return fail(why, "duplicate severity name");
        }
        p = skip_blanks(p + n);
        if (*p != '=')
            return fail(why, "severity map entry is not name=N");
        p = skip_blanks(p + 1);
        if (!(*p >= '0' && *p <= '9'))
            return fail(why, "severity map entry is not name=N");
        if (*p > '4' || (p[1] >= '0' && p[1] <= '9'))
            return fail(why, "severity must be 0-4");
        e->severity = *p - '0';
        m.n++;
        p = skip_blanks(p + 1);
        if (*p == ',') {
            p = skip_blanks(p + 1);
            if (!*p)
                return fail(why, "empty entry in severity map");
        } else if (*p) {
            return fail(why, "severity map entry is not name=N");
        }
    }
    *out = m;
    return BOT_OK;
}

/* ---- times ---------------------------------------------------------- */

/* alarm_parse_time - timeutil's RFC 3339 parser, plus Go's zero time. */
int
alarm_parse_time(const char *s, int64_t *ms_out)
{
    int64_t ms;

    if (!s)
        return BOT_EINVAL;
    if (!strncmp(s, "0001-01-01T00:00:00", 19)) {
        char shape[64];

        /* Go's zero time means "not set", but only written as a time:
         * its suffix is checked as any other's (the year swapped in) */
        if (strnlen(s, sizeof(shape)) == sizeof(shape))
            return BOT_EINVAL;
        snprintf(shape, sizeof(shape), "2000%s", s + 4);
        if (timeutil_parse_rfc3339(shape, &ms))
            return BOT_EINVAL;
        *ms_out = 0;
        return BOT_OK;
    }
    return timeutil_parse_rfc3339(s, ms_out);
}

/* ---- Alertmanager and Grafana ------------------------------------ */

/* put_pairs - " k=v, k=v" of the string members of obj after head. */
static void
put_pairs(struct strbuf *sb, const char *head, json_t *obj)
{
    const char *key;
    json_t *v;
    int first = 1;

    json_object_foreach(obj, key, v)
    {
        if (!json_is_string(v))
            continue;
        if (first) {
            if (sb->len)
                strbuf_putc(sb, '\n');
            strbuf_puts(sb, head);
        }
        strbuf_puts(sb, first ? " " : ", ");
        clean(sb, key, 0);
        strbuf_putc(sb, '=');
        clean(sb, json_string_value(v), 1);
        first = 0;
    }
}

static int
details(json_t *labels, json_t *ann, char **out)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    put_pairs(&sb, "labels:", labels);
    put_pairs(&sb, "annotations:", ann);
    return take(&sb, ALARM_TEXT_MAX, OVER_TRUNCATE, out);
}

static int
parse_item(json_t *alert, const char *group_status,
           const struct alarm_severity_map *sev, struct alarm_item *it,
           const char **why)
{
    json_t *labels, *ann;
    const char *status, *starts, *fp, *gen, *name;
    int rc;

    if (!json_is_object(alert))
        return fail(why, "alert is not an object");
    rc = get_object(alert, "labels", "labels is not an object", &labels, why);
    if (!rc)
        rc = get_object(alert, "annotations", "annotations is not an object",
                        &ann, why);
    if (!rc)
        rc = get_string(alert, "status", "status is not a string", &status,
                        why);
    if (!rc)
        rc = get_string(alert, "startsAt", "startsAt is not a string", &starts,
                        why);
    if (!rc)
        rc = get_string(alert, "fingerprint", "fingerprint is not a string",
                        &fp, why);
    if (!rc)
        rc = get_string(alert, "generatorURL", "generatorURL is not a string",
                        &gen, why);
    if (rc)
        return rc;
    if (starts && alarm_parse_time(starts, &it->starts_at))
        return fail(why, "startsAt is not an RFC 3339 time");
    if (!status)
        status = group_status;
    it->resolved = status && !strcmp(status, "resolved");
    it->severity = alarm_severity_of(sev, label(labels, "severity"));
    name = label(labels, "alertname");
    if (!name)
        name = label(ann, "summary");
    rc = copy_title(name, &it->title);
    if (!rc)
        rc = copy_key(fp, &it->fingerprint, why, "fingerprint too long");
    if (!rc)
        rc = copy_link(gen, &it->generator_url);
    if (!rc)
        rc = details(labels, ann, &it->details);
    return rc;
}

/*
 * strip_state - Grafana's default title starts "[FIRING:2] " or
 * "[RESOLVED] ": the state is in struct alarm already.
 */
static const char *
strip_state(const char *t)
{
    const char *p;

    if (!t || t[0] != '[')
        return t;
    p = t + 1;
    if (!strncasecmp(p, "FIRING", 6))
        p += 6;
    else if (!strncasecmp(p, "RESOLVED", 8))
        p += 8;
    else
        return t;
    if (*p == ':') {
        if (!(p[1] >= '0' && p[1] <= '9'))
            return t;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if (*p != ']')
        return t;
    for (p++; *p == ' ' || *p == '\t'; p++)
        ;
    return p;
}

/* group_title - the alarm's title per alarm.h; refuses when none. */
static int
group_title(json_t *root, json_t *common, json_t *group, json_t *alerts,
            enum kind kind, struct alarm *a, const char **why)
{
    json_t *first = json_object_get(json_array_get(alerts, 0), "labels");
    const char *chain[4];
    int rc = BOT_OK;

    chain[0] = kind == KIND_GRAFANA
                   ? strip_state(json_string_value(member(root, "title")))
                   : NULL;
    chain[1] = label(common, "alertname");
    chain[2] = label(group, "alertname");
    chain[3] = json_is_object(first) ? label(first, "alertname") : NULL;
    for (size_t i = 0; i < 4 && !rc && !a->title; i++)
        rc = copy_title(chain[i], &a->title);
    if (!rc && !a->title)
        rc = fail(why, kind == KIND_GRAFANA ? "missing field: title"
                                            : "missing field: alertname");
    return rc;
}

static int
group_description(json_t *root, json_t *common_ann, json_t *alerts,
                  enum kind kind, struct alarm *a)
{
    json_t *only = json_array_size(alerts) == 1
                       ? json_object_get(json_array_get(alerts, 0),
                                         "annotations")
                       : NULL;
    const char *chain[5];
    int rc = BOT_OK;

    chain[0] = label(common_ann, "summary");
    chain[1] = label(common_ann, "description");
    chain[2] = kind == KIND_GRAFANA
                   ? json_string_value(member(root, "message"))
                   : NULL;
    chain[3] = json_is_object(only) ? label(only, "summary") : NULL;
    chain[4] = json_is_object(only) ? label(only, "description") : NULL;
    for (size_t i = 0; i < 5 && !rc && !a->description; i++)
        rc = copy_text(chain[i], &a->description);
    return rc;
}

static int
parse_group(json_t *root, enum kind kind, const struct alarm_severity_map *sev,
            struct alarm *a, const char **why)
{
    json_t *alerts, *common, *group, *common_ann, *v;
    const char *status, *gkey, *ext, *state = NULL, *s;
    size_t n;
    int rc, all_resolved = 1;

    rc = get_object(root, "commonLabels", "commonLabels is not an object",
                    &common, why);
    if (!rc)
        rc = get_object(root, "groupLabels", "groupLabels is not an object",
                        &group, why);
    if (!rc)
        rc = get_object(root, "commonAnnotations",
                        "commonAnnotations is not an object", &common_ann, why);
    if (!rc)
        rc = get_string(root, "status", "status is not a string", &status,
                        why);
    if (!rc)
        rc = get_string(root, "groupKey", "groupKey is not a string", &gkey,
                        why);
    if (!rc)
        rc = get_string(root, "externalURL", "externalURL is not a string",
                        &ext, why);
    if (!rc && kind == KIND_GRAFANA)
        rc = get_string(root, "title", "title is not a string", &s, why);
    if (!rc && kind == KIND_GRAFANA)
        rc = get_string(root, "message", "message is not a string", &s, why);
    if (!rc && kind == KIND_GRAFANA)
        rc = get_string(root, "state", "state is not a string", &state, why);
    if (rc)
        return rc;
    v = member(root, "truncatedAlerts");
    if (v && !json_is_integer(v))
        return fail(why, "truncatedAlerts is not an integer");
    if (v && json_integer_value(v) > 0)
        a->truncated = json_integer_value(v) > LONG_MAX
                           ? LONG_MAX
                           : (long)json_integer_value(v);

    alerts = member(root, "alerts");
    if (!alerts)
        return fail(why, "missing field: alerts");
    if (!json_is_array(alerts))
        return fail(why, "alerts is not an array");
    n = json_array_size(alerts);
    if (!n)
        return fail(why, "alerts is empty");
    if (n > ALARM_ITEMS_MAX)
        return fail(why, "too many alerts");
    a->items = bot_calloc(n, sizeof(*a->items));
    if (!a->items)
        return BOT_ENOMEM;
    a->nitems = n;
    a->severity = -1;
    for (size_t i = 0; i < n; i++) {
        struct alarm_item *it = &a->items[i];

        rc = parse_item(json_array_get(alerts, i), status, sev, it, why);
        if (rc)
            return rc;
        all_resolved &= it->resolved;
        if (it->starts_at && (!a->starts_at || it->starts_at < a->starts_at))
            a->starts_at = it->starts_at;
        if (it->severity >= 0 &&
            (a->severity < 0 || it->severity < a->severity))
            a->severity = it->severity;
    }

    a->source = bot_strdup(kind == KIND_GRAFANA ? "grafana" : "alertmanager");
    if (!a->source)
        return BOT_ENOMEM;
    rc = group_title(root, common, group, alerts, kind, a, why);
    for (size_t i = 0; i < n && !rc; i++) {
        if (!a->items[i].title) {
            a->items[i].title = bot_strdup(a->title);
            if (!a->items[i].title)
                rc = BOT_ENOMEM;
        }
    }
    if (!rc)
        rc = group_description(root, common_ann, alerts, kind, a);
    if (!rc)
        rc = copy_key(gkey, &a->dedup_key, why, "groupKey too long");
    if (!rc && !a->dedup_key) {
        if (!a->items[0].fingerprint)
            return fail(why, "missing field: groupKey");
        a->dedup_key = bot_strdup(a->items[0].fingerprint);
        if (!a->dedup_key)
            rc = BOT_ENOMEM;
    }
    if (!rc)
        rc = copy_link(ext, &a->link);
    for (size_t i = 0; i < n && !rc && !a->link; i++) {
        if (a->items[i].generator_url) {
            a->link = bot_strdup(a->items[i].generator_url);
            if (!a->link)
                rc = BOT_ENOMEM;
        }
    }
    if (rc)
        return rc;
    /* the common label speaks for the group; else the worst alert's */
    if (alarm_severity_of(sev, label(common, "severity")) >= 0)
        a->severity = alarm_severity_of(sev, label(common, "severity"));
    a->resolved = state ? !strcasecmp(state, "ok") : all_resolved;
    return BOT_OK;
}

static int
parse_webhook(const char *body, size_t len, enum kind kind,
              const struct alarm_severity_map *sev, struct alarm *out,
              const char **why)
{
    struct alarm a;
    json_t *root = NULL, *v;
    const char *ignored;
    int rc;

    if (!why)
        why = &ignored;
    memset(out, 0, sizeof(*out));
    memset(&a, 0, sizeof(a));
    rc = load(body, len, &root, why);
    if (!rc && kind == KIND_ALERTMANAGER) {
        v = member(root, "version");
        if (v && (!json_is_string(v) || strcmp(json_string_value(v), "4")))
            rc = fail(why, "version is not \"4\"");
    }
    if (!rc)
        rc = parse_group(root, kind, sev, &a, why);
    return finish(root, rc, &a, out);
}

int
alarm_parse_alertmanager(const char *body, size_t len,
                         const struct alarm_severity_map *sev,
                         struct alarm *out, const char **why)
{
    return parse_webhook(body, len, KIND_ALERTMANAGER, sev, out, why);
}

int
alarm_parse_grafana(const char *body, size_t len,
                    const struct alarm_severity_map *sev, struct alarm *out,
                    const char **why)
{
    return parse_webhook(body, len, KIND_GRAFANA, sev, out, why);
}

/* ---- generic ------------------------------------------------------ */

/* set_common - title, description, dedup key (default: the title), link
 * and source (default: dflt_source) of a generic or mapped alarm. */
static int
set_common(struct alarm *a, const char *title, const char *desc,
           const char *key, const char *link, const char *source,
           const char *dflt_source, const char **why)
{
    int rc = copy_title(title, &a->title);

    if (!rc && !a->title)
        return fail(why, "title is empty");
    if (!rc)
        rc = copy_text(desc, &a->description);
    if (!rc)
        rc = copy_key(key, &a->dedup_key, why, "dedup_key too long");
    if (!rc && !a->dedup_key) {
        a->dedup_key = bot_strdup(a->title);
        if (!a->dedup_key)
            rc = BOT_ENOMEM;
    }
    if (!rc)
        rc = copy_link(link, &a->link);
    if (!rc)
        rc = copy_clean(source, 0, ALARM_SOURCE_MAX, OVER_TRUNCATE,
                        &a->source);
    if (!rc && !a->source) {
        a->source = bot_strdup(dflt_source);
        if (!a->source)
            rc = BOT_ENOMEM;
    }
    return rc;
}

int
alarm_parse_generic(const char *body, size_t len, struct alarm *out,
                    const char **why)
{
    struct alarm a;
    json_t *root = NULL, *v;
    const char *title, *desc, *source, *key, *link, *starts, *ignored;
    int rc;

    if (!why)
        why = &ignored;
    memset(out, 0, sizeof(*out));
    memset(&a, 0, sizeof(a));
    a.severity = -1;
    rc = load(body, len, &root, why);
    if (!rc)
        rc = get_string(root, "title", "title is not a string", &title, why);
    if (!rc && !title)
        rc = fail(why, "missing field: title");
    if (!rc)
        rc = get_string(root, "description", "description is not a string",
                        &desc, why);
    if (!rc)
        rc = get_string(root, "source", "source is not a string", &source,
                        why);
    if (!rc)
        rc = get_string(root, "dedup_key", "dedup_key is not a string", &key,
                        why);
    if (!rc)
        rc = get_string(root, "link", "link is not a string", &link, why);
    if (!rc)
        rc = get_string(root, "starts_at", "starts_at is not a string",
                        &starts, why);
    if (rc)
        return finish(root, rc, &a, out);
    v = member(root, "severity");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
              json_integer_value(v) > 4))
        return finish(root, fail(why, "field 'severity' must be 0-4"), &a,
                      out);
    if (v)
        a.severity = (int)json_integer_value(v);
    v = member(root, "resolved");
    if (v && !json_is_boolean(v))
        return finish(root, fail(why, "resolved is not a boolean"), &a, out);
    a.resolved = json_is_true(v);
    if (starts && alarm_parse_time(starts, &a.starts_at))
        return finish(root, fail(why, "starts_at is not an RFC 3339 time"),
                      &a, out);
    rc = set_common(&a, title, desc, key, link, source, "generic", why);
    return finish(root, rc, &a, out);
}

/* ---- mapped ------------------------------------------------------- */

static int
pointer_check(const char *p, const char **why)
{
    if (!*p)
        return BOT_OK;
    if (*p != '/')
        return fail(why, "JSON pointer must be empty or start with '/'");
    for (; *p; p++) {
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return fail(why, "JSON pointer has a bad '~' escape");
    }
    return BOT_OK;
}

int
alarm_mapping_check(const struct alarm_mapping *m, const char **why)
{
    const char *ptrs[5], *ignored;
    int rc = BOT_OK;

    if (!why)
        why = &ignored;
    if (!m || !m->title)
        return fail(why, "mapping has no title pointer");
    ptrs[0] = m->title;
    ptrs[1] = m->severity;
    ptrs[2] = m->description;
    ptrs[3] = m->dedup_key;
    ptrs[4] = m->link;
    for (size_t i = 0; i < 5 && !rc; i++) {
        if (ptrs[i])
            rc = pointer_check(ptrs[i], why);
    }
    return rc;
}

/* step - one reference token applied to v (RFC 6901 section 4). */
static json_t *
step(json_t *v, const char *tok, size_t n)
{
    size_t idx = 0;

    if (json_is_object(v))
        return json_object_get(v, tok);
    if (!json_is_array(v))
        return NULL;
    /* "-" (past the end), leading zeros and huge numbers never resolve */
    if (!n || n > 9 || (tok[0] == '0' && n > 1))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(tok[i] >= '0' && tok[i] <= '9'))
            return NULL;
        idx = idx * 10 + (size_t)(tok[i] - '0');
    }
    return json_array_get(v, idx);
}

/* pointer_get - *found is the value at the checked pointer ptr, NULL when
 * it does not resolve or is null. */
static int
pointer_get(json_t *root, const char *ptr, json_t **found)
{
    struct strbuf tok;
    json_t *v = root;
    const char *p = ptr;
    int rc = BOT_OK;

    strbuf_init(&tok, 0);
    while (v && *p == '/') {
        p++;
        strbuf_reset(&tok);
        while (*p && *p != '/') {
            if (*p == '~') {
                /* ~1 first would turn "~01" into "/": RFC 6901 says "~1" */
                strbuf_putc(&tok, p[1] == '1' ? '/' : '~');
                p += 2;
            } else {
                strbuf_putc(&tok, *p++);
            }
        }
        rc = strbuf_error(&tok);
        if (rc) {
            v = NULL;
            break;
        }
        v = step(v, strbuf_str(&tok), tok.len);
    }
    strbuf_cleanup(&tok);
    *found = json_is_null(v) ? NULL : v;
    return rc;
}

/* mapped_string - the string at ptr (NULL pointer or no value: *s NULL);
 * with num (a buffer of 32 bytes), integers are accepted and formatted. */
static int
mapped_string(json_t *root, const char *ptr, char *num, const char *bad,
              const char **s, const char **why)
{
    json_t *v = NULL;
    int rc;

    *s = NULL;
    if (!ptr)
        return BOT_OK;
    rc = pointer_get(root, ptr, &v);
    if (rc || !v)
        return rc;
    if (json_is_string(v)) {
        *s = json_string_value(v);
        return BOT_OK;
    }
    if (num && json_is_integer(v)) {
        snprintf(num, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *s = num;
        return BOT_OK;
    }
    return fail(why, bad);
}

static int
mapped_severity(json_t *root, const char *ptr,
                const struct alarm_severity_map *sev, int *out,
                const char **why)
{
    json_t *v = NULL;
    int rc;

    *out = -1;
    if (!ptr)
        return BOT_OK;
    rc = pointer_get(root, ptr, &v);
    if (rc || !v)
        return rc;
    if (json_is_string(v)) {
        *out = alarm_severity_of(sev, json_string_value(v));
        return BOT_OK;
    }
    if (!json_is_integer(v))
        return fail(why, "mapped severity is not a string or integer");
    if (json_integer_value(v) < 0 || json_integer_value(v) > 4)
        return fail(why, "field 'severity' must be 0-4");
    *out = (int)json_integer_value(v);
    return BOT_OK;
}

int
alarm_parse_mapped(const char *body, size_t len,
                   const struct alarm_mapping *m,
                   const struct alarm_severity_map *sev, struct alarm *out,
                   const char **why)
{
    struct alarm a;
    json_t *root = NULL;
    const char *title = NULL, *desc = NULL, *key = NULL, *link = NULL;
    const char *ignored;
    char num[32];
    int rc;

    if (!why)
        why = &ignored;
    memset(out, 0, sizeof(*out));
    memset(&a, 0, sizeof(a));
    rc = alarm_mapping_check(m, why);
    if (rc)
        return rc;
    rc = load(body, len, &root, why);
    if (!rc)
        rc = mapped_string(root, m->title, NULL,
                           "mapped title is not a string", &title, why);
    if (!rc && !title)
        rc = fail(why, "mapped title not found");
    if (!rc)
        rc = mapped_string(root, m->description, NULL,
                           "mapped description is not a string", &desc, why);
    if (!rc)
        rc = mapped_string(root, m->dedup_key, num,
                           "mapped dedup_key is not a string or integer", &key,
                           why);
    if (!rc)
        rc = mapped_string(root, m->link, NULL, "mapped link is not a string",
                           &link, why);
    if (!rc)
        rc = mapped_severity(root, m->severity, sev, &a.severity, why);
    if (!rc)
        rc = set_common(&a, title, desc, key, link, m->name, "mapped", why);
    return finish(root, rc, &a, out);
}

void
alarm_clear(struct alarm *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nitems; i++) {
        struct alarm_item *it = &a->items[i];

        bot_free(it->title);
        bot_free(it->fingerprint);
        bot_free(it->generator_url);
        bot_free(it->details);
    }
    bot_free(a->items);
    bot_free(a->source);
    bot_free(a->title);
    bot_free(a->description);
    bot_free(a->dedup_key);
    bot_free(a->link);
    memset(a, 0, sizeof(*a));
}
