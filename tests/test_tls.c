/* test_tls.c - which CA certificates pmbot's TLS clients are given */
#include "tls.h"

#include <openssl/x509.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void
touch(const char *name)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/pmbot-tls-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    unsetenv(X509_get_default_cert_file_env());
    setenv(X509_get_default_cert_dir_env(), dir, 1);
    tls_forget();
    return 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    tls_forget();
    return system(cmd);
}

static void
ca_dir__only_with_hash_links(void **state)
{
    (void)state;
    touch("ca-certificates.crt");
    touch("README");
    assert_null(tls_ca_dir()); /* no hashed names: not usable */
    touch("5ad8a5d6.0");
    assert_null(tls_ca_dir()); /* the answer is kept... */
    tls_forget();
    assert_string_equal(tls_ca_dir(), dir); /* ...until forgotten */
}

static void
ca_file__a_bundle_of_ones_own_is_read(void **state)
{
    char path[128];

    (void)state;
    touch("5ad8a5d6.0");
    snprintf(path, sizeof(path), "%s/corporate.pem", dir);
    touch("corporate.pem");
    setenv(X509_get_default_cert_file_env(), path, 1);
    tls_forget();
    assert_string_equal(tls_ca_file(), path);
    /* the system's own bundle repeats the hashed directory */
    setenv(X509_get_default_cert_file_env(), X509_get_default_cert_file(),
           1);
    tls_forget();
    if (access(X509_get_default_cert_file(), R_OK) == 0)
        assert_null(tls_ca_file());
    unsetenv(X509_get_default_cert_file_env());
    tls_forget();
    assert_null(tls_ca_file()); /* the directory suffices */
}

static void
ca_file__the_bundle_when_no_directory(void **state)
{
    (void)state;
    /* an empty directory: the default bundle, if this system has one */
    if (access(X509_get_default_cert_file(), R_OK) == 0)
        assert_string_equal(tls_ca_file(), X509_get_default_cert_file());
    else
        assert_null(tls_ca_file());
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ca_dir__only_with_hash_links, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            ca_file__a_bundle_of_ones_own_is_read, setup, teardown),
        cmocka_unit_test_setup_teardown(
            ca_file__the_bundle_when_no_directory, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
