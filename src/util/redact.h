/*
 * redact.h - keeping passwords out of messages: database and API URLs are shown with their
 * secrets masked, and error text from a driver (libpq echoes a malformed connection string)
 * is scrubbed of the secrets of the URL it was given.
 */
#ifndef SW_REDACT_H
#define SW_REDACT_H

#include "util/common.h"

/*
 * The URL for messages, with every secret replaced by "***": the password of
 * "scheme://user:password@host..." (the user part ends at the last '@', so a password
 * holding '/', '?' or '@' is masked whole), and the value of every "password=" key, in a
 * URL's query ("?password=x&...") or a libpq key=value string ("password='x y'").
 * Caller frees.
 */
char *sw_redact_url(const char *url);

/*
 * Replace in msg (NUL-terminated, capacity cap) every occurrence of a secret of url (the
 * secrets sw_redact_url() masks, both as written and percent-decoded) with "***".
 */
void sw_scrub_secrets(const char *url, char *msg, size_t cap);

#endif
