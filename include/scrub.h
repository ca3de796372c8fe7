/*
 * scrub.h - secrets pasted during an incident, kept out of what pmbot
 * publishes (the posted summary, the uploaded document, `pmbot report`).
 * The database keeps what was said; only what is published is scrubbed.
 *
 * The rule: a table of POSIX extended regular expressions (scrub.c:
 * builtin), each replacing one capture group (or the whole match) with
 * "[redacted]". Shapes that are secrets by themselves go wherever they
 * are: Slack tokens (xox?-, xapp-), Matrix access tokens (syt_…), AWS
 * access key ids (AKIA/ASIA + 16), GitHub tokens (ghp_ …), Google API keys
 * (AIza…), JWTs (three base64url parts, the first two starting eyJ), PEM
 * private key blocks, and the password of a URL (scheme://user:PASSWORD@).
 * Shapes that are also innocent go only after a key word: 64 hex digits
 * (a private key, or a transaction hash) after "private key", "privkey",
 * "secret", "PRIVATE_KEY", "pk=" and the like within a few characters;
 * a seed phrase (12 or 24 lowercase words) after "seed phrase", "seed
 * words", "mnemonic" or "recovery phrase". So transaction hashes (0x + 64
 * hex), addresses (0x + 40) and git SHAs stay.
 * Users add their own with `[review] secret_patterns`: one extended
 * regular expression (alternatives joined with |), its whole match
 * replaced.
 *
 * Owns: the compiled tables (one per process: the built-in one made on
 * first use, the user's by scrub_configure).
 * Errors: BOT_ENOMEM; BOT_EINVAL for a user pattern that does not compile
 * (config validation refuses it first).
 */
#ifndef PMBOT_SCRUB_H
#define PMBOT_SCRUB_H

struct strbuf;

#define SCRUB_MARK "[redacted]"

/* scrub_configure - the user's pattern (nullable: none) from now on;
 * BOT_EINVAL (and the previous one kept) when it does not compile. */
int scrub_configure(const char *extra);

/* scrub - *text with every secret replaced (a new string in *text, the old
 * one freed; unchanged when nothing matched). NULL *text is ok.
 * BOT_ENOMEM leaves *text. */
int scrub(char **text);

/* scrub_dup - a new copy of text (not NULL) with every secret replaced,
 * for text about to be published; NULL on ENOMEM. Free with bot_free. */
char *scrub_dup(const char *text);

/* scrub_free - the compiled tables (at exit, for leak checkers). */
void scrub_free(void);

#endif
