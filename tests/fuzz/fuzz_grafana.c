/*
 * fuzz_grafana - a POST /hooks/grafana body, as webhook.c hands it to the
 * codec with the default severity map; every success must keep alarm.h's
 * invariants (fuzz_alarm.h).
 */
#include "fuzz.h"
#include "fuzz_alarm.h"

#include "err.h"

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
    struct alarm a;
    const char *why = NULL;
    int rc;

    rc = alarm_parse_grafana((const char *)data, size,
                             fuzz_severity_map(), &a, &why);
    if (!rc)
        fuzz_alarm_check(&a);
    /* on error: a reason for the 400, and nothing to free */
    FUZZ_REQUIRE(!rc || ((rc != BOT_EINVAL || why) && !a.title && !a.items));
    alarm_clear(&a);
    return 0;
}
