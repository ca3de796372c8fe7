/*
 * alarm.h - the alarm intake codec: the bytes of a webhook body -> one
 * normalised struct alarm. No I/O, no logging, no clock.
 *
 * Owns: every JSON shape pmbot accepts on its alarm endpoints (SPEC "Alarm
 * intake"; shared/protocols.md F1-F3): Prometheus Alertmanager webhook v4,
 * Grafana alerting contact point, the generic body, and "mapped" bodies read
 * through configured RFC 6901 JSON pointers (OpenZeppelin Defender/Forta or
 * anything else). Also the severity vocabulary (label value -> SEV0..SEV4)
 * and RFC 3339 times with any fraction and any numeric offset.
 * Does not own: authentication (bearer/HMAC is checked on the raw bytes
 * before this codec runs), body size caps (the HTTP layer), deduplication
 * against open incidents, the default severity, and escaping: strings here
 * are plain text for a renderer to escape. A json_t never leaves alarm.c.
 *
 * Invariants of a parsed alarm (every parser, on success):
 *  - title and dedup_key are non-NULL and non-empty (a title of only
 *    zero-width characters counts as missing); every other string is
 *    NULL or non-empty.
 *  - every string went through chat_text_clean() (chat.h), the sanitiser
 *    of all user text: valid UTF-8 with no control characters (C0, DEL,
 *    C1), no bidi controls and no meaningless zero-width characters. Multi-line fields
 *    (description, details) keep "\n" (CR, CR LF and U+2028/9 become "\n");
 *    in one-line fields tab and line breaks become a space. Leading and
 *    trailing white space is trimmed.
 *  - bounds: titles are truncated to ALARM_TITLE_MAX bytes and description
 *    and details to ALARM_TEXT_MAX bytes, always on a UTF-8 character
 *    boundary (an alarm is kinder shortened than refused); a dedup key or
 *    fingerprint longer than ALARM_KEY_MAX is refused (cutting it could merge
 *    unrelated alarms); a link longer than ALARM_LINK_MAX is dropped (a cut
 *    URL is wrong); a source is truncated to ALARM_SOURCE_MAX.
 *  - times are UTC epoch milliseconds; 0 means unknown (and the Go zero time
 *    "0001-01-01T00:00:00Z" that Alertmanager sends means unset).
 *  - severity is 0..4 (SEV0 worst) or -1 when the payload says nothing the
 *    severity vocabulary knows: the caller then applies its default.
 *
 * Ownership: parsers fill *out with new strings and a new items array;
 * release them with alarm_clear(). Input buffers and mappings are borrowed
 * for the duration of the call only.
 * Errors: BOT_EINVAL for anything wrong in the payload (or in a mapping or a
 * severity spec), with *why (when why is not NULL) set to a short static
 * English reason such as "not JSON", "not valid UTF-8", "duplicate key"
 * (refused: two readers could disagree on which one counts), "body is not a
 * JSON object", "missing field: alerts" or "field 'severity' must be 0-4";
 * BOT_ENOMEM when an allocation fails (jansson's too). On any
 * error *out is left cleared: nothing to free, alarm_clear() still safe.
 */
#ifndef PMBOT_ALARM_H
#define PMBOT_ALARM_H

#include <stddef.h>
#include <stdint.h>

#define ALARM_TITLE_MAX  200u  /* bytes; longer titles are truncated */
#define ALARM_TEXT_MAX   4000u /* description, details; truncated */
#define ALARM_KEY_MAX    1024u /* dedup_key, fingerprint; refused if longer */
#define ALARM_LINK_MAX   2048u /* link, generator_url; dropped if longer */
#define ALARM_SOURCE_MAX 64u   /* source; truncated */
#define ALARM_ITEMS_MAX  1000u /* alerts in one payload; refused if more */

/* One alert of an Alertmanager or Grafana payload. */
struct alarm_item {
    char *title;         /* labels.alertname, else annotations.summary, else
                            the alarm's title; never NULL */
    int severity;        /* labels.severity through the map; -1 unknown */
    int resolved;        /* its status is "resolved" (absent: the group's) */
    int64_t starts_at;   /* startsAt, UTC ms; 0 if unknown */
    char *fingerprint;   /* nullable */
    char *generator_url; /* nullable */
    char *details;       /* "labels: k=v, ...\nannotations: k=v, ..." in
                            payload order; nullable when both are empty */
};

struct alarm {
    char *source;      /* "alertmanager", "grafana", the generic body's
                          "source" (default "generic"), or the mapping name */
    char *title;       /* never NULL */
    int severity;      /* 0..4, or -1: the payload says nothing known */
    char *description; /* nullable */
    char *dedup_key;   /* never NULL; see each parser */
    char *link;        /* nullable; not checked to be a URL (the renderer
                          decides how to show it) */
    int resolved;      /* see each parser */
    int64_t starts_at; /* earliest known start, UTC ms; 0 if unknown */
    long truncated;    /* alerts the sender dropped (truncatedAlerts) */
    struct alarm_item *items; /* nitems entries; NULL for generic/mapped */
    size_t nitems;
};

/*
 * The severity vocabulary: label values -> 0..4. A map is a plain value
 * (no heap); copy it freely. Lookups are case-insensitive and ignore
 * surrounding blanks. Entries of the map win; after them these built-ins
 * always apply:
 *   "0".."4"       -> 0..4
 *   "sev0".."sev4" -> 0..4
 *   "p1".."p5"     -> 1, 2, 3, 4, 4 (PagerDuty/Opsgenie priorities: P1 is the
 *                     highest a tool assigns, SEV1; SEV0 stays a human call
 *                     or an explicit map entry)
 */
#define ALARM_SEV_NAME_MAX 32 /* bytes of a name, NUL included */
#define ALARM_SEV_MAP_MAX  32 /* entries */

/* The default spec: Alertmanager/Prometheus habits plus the Forta and
 * Defender levels (CRITICAL HIGH MEDIUM LOW INFO). */
#define ALARM_SEVERITY_DEFAULT                                                 \
    "critical=1,page=1,high=2,error=2,medium=3,warning=3,warn=3,low=4,"        \
    "info=4"

struct alarm_severity_name {
    char name[ALARM_SEV_NAME_MAX]; /* lower case */
    int severity;                  /* 0..4 */
};

struct alarm_severity_map {
    size_t n;
    struct alarm_severity_name names[ALARM_SEV_MAP_MAX];
};

/*
 * alarm_severity_map_parse - read "name=N,name=N,..." (blanks around names,
 * numbers and commas allowed; names of letters, digits, '_', '-' and '.',
 * at most ALARM_SEV_NAME_MAX - 1 bytes, case-insensitive, no duplicates;
 * N in 0..4; at most ALARM_SEV_MAP_MAX entries). An empty spec is valid and
 * leaves only the built-ins.
 * Returns BOT_OK, or BOT_EINVAL with *why; on error *out is empty (n == 0).
 */
int alarm_severity_map_parse(const char *spec, struct alarm_severity_map *out,
                             const char **why);

/*
 * alarm_severity_of - the severity of a label value: the map's entry, else a
 * built-in, else -1. m may be NULL (built-ins only); value may be NULL (-1).
 */
int alarm_severity_of(const struct alarm_severity_map *m, const char *value);

/*
 * alarm_parse_time - an RFC 3339 time, "YYYY-MM-DDTHH:MM:SS[.f...](Z|+HH:MM|
 * -HH:MM)" ('t', 'z' and a space for the T accepted; a fraction of any
 * length, cut to milliseconds) -> UTC epoch ms. The Go zero time
 * ("0001-01-01T00:00:00" with a valid suffix) gives 0. BOT_EINVAL for anything
 * else, including times before 1970.
 */
int alarm_parse_time(const char *s, int64_t *ms_out);

/*
 * alarm_parse_alertmanager - an Alertmanager webhook body (version "4").
 *   title:       commonLabels.alertname, else groupLabels.alertname, else the
 *                first alert's labels.alertname ("missing field: alertname")
 *   severity:    commonLabels.severity through sev, else the worst (lowest
 *                number) known severity among the alerts' labels, else -1
 *   description: commonAnnotations.summary, else .description, else (one
 *                alert only) that alert's annotations.summary/.description
 *   dedup_key:   groupKey, else the first alert's fingerprint
 *   link:        externalURL, else the first alert's generatorURL
 *   resolved:    every alert is resolved
 *   items:       one per alert, in payload order (1..ALARM_ITEMS_MAX)
 * "version", if present, must be the string "4". sev may be NULL (built-ins
 * only). Alert label values that are not strings are ignored.
 * Ownership: *out new (alarm_clear). Errors: see the file comment.
 */
int alarm_parse_alertmanager(const char *body, size_t len,
                             const struct alarm_severity_map *sev,
                             struct alarm *out, const char **why);

/*
 * alarm_parse_grafana - a Grafana alerting webhook body (same core as
 * Alertmanager, any "version").
 *   title:       "title" with a leading "[FIRING:n] " or "[RESOLVED] " (any
 *                case, optional ":n") removed; if that leaves nothing, as
 *                for Alertmanager
 *   description: commonAnnotations.summary/.description, else "message"
 *   resolved:    "state" is "ok" when "state" is present, else every alert
 *                is resolved
 *   severity, dedup_key, link, items: as for Alertmanager.
 */
int alarm_parse_grafana(const char *body, size_t len,
                        const struct alarm_severity_map *sev,
                        struct alarm *out, const char **why);

/*
 * alarm_parse_generic - the generic body:
 *   {"title": string (required), "severity": integer 0-4, "description":
 *    string, "source": string, "dedup_key": string, "link": string,
 *    "resolved": boolean, "starts_at": RFC 3339 string}
 * Everything but title is optional; null counts as absent; unknown members
 * are ignored. source defaults to "generic", dedup_key to the title,
 * severity to -1, resolved to 0. A present member of the wrong type is
 * BOT_EINVAL ("field 'severity' must be 0-4", "title is not a string").
 */
int alarm_parse_generic(const char *body, size_t len, struct alarm *out,
                        const char **why);

/*
 * A mapping for POST /hooks/generic/<name>: RFC 6901 JSON pointers into any
 * JSON body ("" is the whole document, "/a/b" a path, "~1" is '/', "~0" is
 * '~', array elements by decimal index without leading zeros; "-" never
 * resolves). All members are borrowed (the config owns them). NULL
 * pointers are not mapped; title is required.
 */
struct alarm_mapping {
    const char *name;        /* becomes alarm.source; "mapped" if NULL */
    const char *title;       /* -> a string (required) */
    const char *severity;    /* -> an integer 0-4, or a string through the
                                severity map (unknown: -1) */
    const char *description; /* -> a string */
    const char *dedup_key;   /* -> a string or an integer; default: title */
    const char *link;        /* -> a string */
};

/*
 * alarm_mapping_check - BOT_OK if title is set and every set pointer is
 * well formed ("" or starting with '/', '~' only as "~0" or "~1"), else
 * BOT_EINVAL with *why. For config validation; the parser checks too.
 */
int alarm_mapping_check(const struct alarm_mapping *m, const char **why);

/*
 * alarm_parse_mapped - any JSON body through mapping m. A pointer that does
 * not resolve (or resolves to null) counts as absent: for title that is
 * BOT_EINVAL "mapped title not found". resolved is always 0 and starts_at
 * 0: mappings describe firing alarms only.
 */
int alarm_parse_mapped(const char *body, size_t len,
                       const struct alarm_mapping *m,
                       const struct alarm_severity_map *sev,
                       struct alarm *out, const char **why);

/* alarm_clear - frees every string and the items and zeroes *a. Safe on a
 * zeroed or already cleared alarm; NULL is a no-op. */
void alarm_clear(struct alarm *a);

#endif
