/*
 * fuzz_generic - a POST /hooks/generic body; every success must keep
 * alarm.h's invariants (fuzz_alarm.h).
 */
#define FUZZ_QUIET_INIT /* fuzz.h's LLVMFuzzerInitialize */
#include "fuzz.h"
#include "fuzz_alarm.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct alarm a;
    const char *why = NULL;
    int rc;

    rc = alarm_parse_generic((const char *)data, size, &a, &why);
    fuzz_alarm_done(rc, &a, why);
    return 0;
}
