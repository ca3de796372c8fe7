/*
 * tls.h - where pmbot finds the CA certificates that vouch for Slack.
 *
 * Owns: nothing but a cached answer (static strings, never freed).
 * Contract: the system's CA directory is preferred, because OpenSSL looks
 * a CA up in it by hash only when a handshake needs one; a bundle file is
 * parsed whole into memory (about half a megabyte) by each TLS context that
 * loads it. SSL_CERT_FILE and SSL_CERT_DIR are honoured as OpenSSL does.
 * Errors: none; tls_ca_file and tls_ca_dir return NULL for "not used".
 */
#ifndef PMBOT_TLS_H
#define PMBOT_TLS_H

/* tls_ca_dir - SSL_CERT_DIR, or OpenSSL's default directory, if it holds
 * hash-named CA links (Debian's /etc/ssl/certs does); else NULL. */
const char *tls_ca_dir(void);

/* tls_ca_file - SSL_CERT_FILE if set (unless it is the system's own
 * bundle and the directory is usable: the same CAs); else OpenSSL's
 * default bundle when there is no usable directory; else NULL. */
const char *tls_ca_file(void);

/* tls_forget - drop the cached answers (tests; a CA store or environment
 * that changed under a running pmbot is picked up at its next start). */
void tls_forget(void);

/* tls_load_ca - give a client SSL_CTX (void *: callers need not include
 * OpenSSL) the directory and file above; logs once if there is neither. */
void tls_load_ca(void *ssl_ctx);

#endif
