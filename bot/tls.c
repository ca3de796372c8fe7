/*
 * tls.c - the CA certificates for pmbot's TLS clients (libwebsockets and
 * libcurl), chosen once.
 */
#include "tls.h"

#include "log.h"

#include <dirent.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* hashed - the directory has at least one "<8 hex>.<n>" entry, the names
 * OpenSSL looks CAs up by */
static int
hashed(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;

    if (!d)
        return 0;
    while (!found && (e = readdir(d))) {
        const char *n = e->d_name;

        found = strlen(n) >= 10 && strspn(n, "0123456789abcdef") == 8 &&
                n[8] == '.' && n[9] >= '0' && n[9] <= '9';
    }
    closedir(d);
    return found;
}

/* the answers, worked out once: the Web API asks for every call */
static int done, file_done;
static const char *cached_dir, *cached_file;

void
tls_forget(void)
{
    done = 0;
    cached_dir = NULL;
    file_done = 0;
    cached_file = NULL;
}

const char *
tls_ca_dir(void)
{
    if (!done) {
        const char *d = getenv(X509_get_default_cert_dir_env());

        if (!d || !*d)
            d = X509_get_default_cert_dir();
        cached_dir = hashed(d) ? d : NULL;
        done = 1;
    }
    return cached_dir;
}

/* same_file - a and b name one file (through symlinks) */
static int
same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* ca_file - the answer of tls_ca_file, worked out */
static const char *
ca_file(void)
{
    const char *f = getenv(X509_get_default_cert_file_env());

    /* the system's own bundle is built from the same store as the hashed
     * directory (update-ca-certificates writes both): it adds nothing */
    if (f && *f)
        return tls_ca_dir() && same_file(f, X509_get_default_cert_file())
                   ? NULL
                   : f;
    if (tls_ca_dir())
        return NULL;
    f = X509_get_default_cert_file();
    return access(f, R_OK) == 0 ? f : NULL;
}

const char *
tls_ca_file(void)
{
    if (!file_done) {
        cached_file = ca_file();
        file_done = 1;
    }
    return cached_file;
}

void
tls_load_ca(void *ssl_ctx)
{
    const char *dir = tls_ca_dir(), *file = tls_ca_file();
    static int warned;

    if ((dir || file) && SSL_CTX_load_verify_locations(ssl_ctx, file, dir))
        return;
    if (!warned++)
        log_warn("tls: no CA certificates (looked in %s and %s): TLS "
                 "connections will fail; install ca-certificates",
                 X509_get_default_cert_dir(),
                 file ? file : X509_get_default_cert_file());
}
