/*
 * fuzz_mapped - a POST /hooks/generic/<name> body read through a mapping.
 * The input's first line is the mapping: up to five tab-separated JSON
 * pointers for title, severity, description, dedup_key and link ("!" or
 * a missing field: not mapped); a first line that is not a valid mapping
 * (alarm_mapping_check, as config validation does) gives the Forta
 * mapping of config.example. The rest is the body. Every success must keep
 * alarm.h's invariants (fuzz_alarm.h).
 */
#define FUZZ_QUIET_INIT /* fuzz.h's LLVMFuzzerInitialize */
#include "fuzz.h"
#include "fuzz_alarm.h"

#include "err.h"

#include <string.h>

static const struct alarm_mapping forta = {
    "forta", "/alert/name", "/alert/severity", "/alert/description",
    "/alert/hash", "/alert/source/transactionHash",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_line(&data, &size), *p, *f[5] = {0};
    struct alarm_mapping m = {0};
    struct alarm a;
    const char *why = NULL;
    int rc;

    if (!line)
        return 0;
    p = line;
    for (int i = 0; i < 5 && p; i++) {
        f[i] = p;
        p = strchr(p, '\t');
        if (p)
            *p++ = '\0';
        if (!strcmp(f[i], "!"))
            f[i] = NULL;
    }
    m.name = "fuzz";
    m.title = f[0];
    m.severity = f[1];
    m.description = f[2];
    m.dedup_key = f[3];
    m.link = f[4];
    if (alarm_mapping_check(&m, &why))
        m = forta;
    why = NULL;
    rc = alarm_parse_mapped((const char *)data, size, &m, fuzz_severity_map(),
                            &a, &why);
    /* a mapped alarm is one firing, of no given time */
    FUZZ_REQUIRE(rc || (!a.resolved && !a.starts_at && !a.items));
    fuzz_alarm_done(rc, &a, why);
    bot_free(line);
    return 0;
}
