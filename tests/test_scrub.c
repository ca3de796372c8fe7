/*
 * test_scrub.c - every built-in secret shape with real-shaped samples, and
 * the near-misses that must stay (transaction hashes, addresses, git SHAs,
 * prose); the user's pattern.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "mem.h"
#include "scrub.h"

#include <string.h>

static char *
scrubbed(const char *in)
{
    char *s = bot_strdup(in);

    assert_int_equal(scrub(&s), BOT_OK);
    return s;
}

/* gone - the secret is not in the scrubbed text, which says so, and the
 * words around it stay */
static void
gone(const char *in, const char *secret, const char *kept)
{
    char *s = scrubbed(in);

    if (strstr(s, secret) || !strstr(s, SCRUB_MARK) ||
        (kept && !strstr(s, kept)))
        fail_msg("not scrubbed as it should be: '%s' -> '%s'", in, s);
    bot_free(s);
}

/* stays - nothing in it is a secret */
static void
stays(const char *in)
{
    char *s = scrubbed(in);

    if (strcmp(s, in))
        fail_msg("scrubbed what is not a secret: '%s' -> '%s'", in, s);
    bot_free(s);
}

static void
scrub__secret_shapes_go(void **state)
{
    (void)state;
    gone("bot token xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp here",
         "xoxb-1234567890", "bot token");
    gone("xapp-1-A0123456789-0123456789012-abcdef0123456789", "xapp-1-A01",
         NULL);
    gone("token syt_YWxpY2U_HUjdQKoWmMMNhTJjRMVm_0vZdxx ok",
         "HUjdQKoWmMMNhTJjRMVm", " ok");
    gone("AKIAIOSFODNN7EXAMPLE leaked", "AKIAIOSFODNN7EXAMPLE", "leaked");
    gone("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "wJalrXUtnFEMI", "aws_secret_access_key");
    gone("ghp_abcdefghijklmnopqrstuvwxyz0123456789 was in the log",
         "ghp_abcdefghijklmn", "was in the log");
    gone("key=AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIzaSyA-12345",
         "key=");
    gone("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkw"
         "In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
         "dozjgNryP4J3", "Bearer");
    gone("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nabc=\n"
         "-----END RSA PRIVATE KEY-----\nthen",
         "MIIEowIBAAKCAQEA7bq", "then");
    gone("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n"
         "-----END OPENSSH PRIVATE KEY-----",
         "b3BlbnNzaC1rZXk", NULL);
    gone("db at postgres://app:hunter2@db.internal:5432/prod", "hunter2",
         "postgres://app:");
    gone("private key: 0x4c0883a69102937d6231471b5dbb6204fe512961708279f2"
         "3efb3d2b0d4dc1f8 (rotated)",
         "4c0883a69102937d", "(rotated)");
    gone("PRIVATE_KEY=ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d"
         "7bf4f2ff80",
         "ac0974bec39a17e3", "PRIVATE_KEY=");
    gone("the deployer privkey 0x59c6995e998f97a5a0044966f0945389dc9e86dae8"
         "8c7a8412f4603b6b78690d",
         "59c6995e998f97a5", "deployer");
    gone("seed phrase: test test test test test test test test test test "
         "test junk",
         "test junk", "seed phrase");
    gone("mnemonic \"abandon ability able about above absent absorb abstract "
         "absurd abuse access accident account accuse achieve acid acoustic "
         "acquire across act action actor actress actual\"",
         "acoustic", "mnemonic");
}

static void
scrub__near_misses_stay(void **state)
{
    (void)state;
    /* a transaction hash, an address, a git SHA: the timeline of a
     * smart-contract incident is made of them */
    stays("exploit tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16d"
          "fba1b22060 drained the pool");
    stays("attacker 0x742d35Cc6634C0532925a3b844Bc454e4438f44e funded by "
          "tornado");
    stays("reverted 3f786850e387550fdab836ed7e6dc881de23001b and "
          "b6589fc6ab0dc82cf12099d1c2d40ab994e8410c");
    stays("the secret of the outage: tx 0x5c504ed432cb51138bcf09aa5e8a410dd4"
          "a1e204ef84bfed1be16dfba1b22060 was replayed");
    /* prose near the key words */
    stays("we need to seed the cache with the hot keys before we open the "
          "traffic again tomorrow");
    stays("the private key rotation runbook was followed");
    stays("the seed phrase is written on paper in the office safe");
    stays("mnemonic: we keep it offline with the other two copies in "
          "separate safes and never type it");
    stays("xoxb- tokens start like this");
    stays("see https://grafana.example/d/abc?from=now-1h for the graph");
    stays("mailto:oncall@example.com and ssh://git@github.com/acme/api");
    stays("AKIA is the prefix of an AWS key id");
    stays("a JWT looks like eyJ... and we never paste one");
}

static void
scrub__the_users_pattern(void **state)
{
    char *s;

    (void)state;
    assert_int_equal(scrub_configure("ACME-[0-9A-F]{8}|acme_live_[a-z0-9]+"),
                     BOT_OK);
    gone("license ACME-DEADBEEF and acme_live_abc123", "DEADBEEF",
         "license");
    s = scrubbed("acme_live_x1 ACME-01234567");
    assert_string_equal(s, SCRUB_MARK " " SCRUB_MARK);
    bot_free(s);
    assert_int_equal(scrub_configure("(unclosed"), BOT_EINVAL);
    gone("still ACME-DEADBEEF", "DEADBEEF", "still"); /* the old one kept */
    assert_int_equal(scrub_configure(NULL), BOT_OK);
    stays("ACME-DEADBEEF");
    scrub_free();
}

static void
scrub__once_is_enough(void **state)
{
    /* the second phrase, redacted, is what ends the first one: the
     * first is 12 words only once the second is gone */
    const char *in = "seed phrasesseest test test test test test test "
                     "test test teste seed phrasesseest test test test "
                     "test test test test test teste sted phr}}";
    char *once = scrubbed(in), *twice = scrubbed(once);

    (void)state;
    assert_string_equal(once, twice);
    assert_string_equal(once, "seed phrase[redacted][redacted]}}");
    bot_free(once);
    bot_free(twice);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scrub__secret_shapes_go),
        cmocka_unit_test(scrub__near_misses_stay),
        cmocka_unit_test(scrub__the_users_pattern),
        cmocka_unit_test(scrub__once_is_enough),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
