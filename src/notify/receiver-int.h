/*
 * receiver-int.h - what the receivers share, and the pieces of each that tests check
 * without a network: message bodies, signatures, the e-mail text.
 */
#ifndef SW_NOTIFY_RECEIVER_INT_H
#define SW_NOTIFY_RECEIVER_INT_H

#include <jansson.h>
#include "notify/receiver.h"
#include "util/strbuf.h"

/* A JSON string of s with invalid UTF-8 bytes as U+FFFD; JSON null for NULL. */
json_t *rcv_json_str(const char *s);
/* Append root as compact JSON (keys in insertion order) to sb and drop root: the end of
 * every JSON body. */
void rcv_json_finish(json_t *root, struct strbuf *sb);
/* m->labels_json as an object; an empty object when absent or not an object. */
json_t *rcv_json_labels(const char *labels_json);
/* "P0", "P1", "P2" for the escalation levels, "new" for INITIATED, else the level. */
const char *rcv_level_short(const char *level);
/* One headline: "[P1] loan_application/bureau_pull: escalated (error=BUREAU_TIMEOUT)". */
void rcv_headline(const struct notify_msg *m, struct strbuf *sb);
/* The lines under the headline, plain text ("\n" between lines): summary, users, alerts,
 * conversion, on-call, opened, links. */
void rcv_details(const struct notify_msg *m, struct strbuf *sb);
/* A fraction 0..1 as "41.5%"; "unknown" when < 0. buf of 16 bytes. */
const char *rcv_percent(double f, char *buf, size_t n);

/* webhook.c: the JSON body, and the Standard Webhooks signature "v1,<base64>" of
 * "id.timestamp.body" under secret (a "whsec_" prefix means base64 key bytes follow; any
 * other secret is used as raw bytes). Returns 0, or -1 when a whsec_ secret is not base64. */
void webhook_body(const struct notify_msg *m, struct strbuf *sb);
int webhook_signature(const char *secret, const char *id, int64_t timestamp_s, const char *body,
                      size_t body_len, struct strbuf *sig);

/* slack.c: the Block Kit payload within Slack's limits. */
#define SLACK_MAX_BLOCKS       50
#define SLACK_MAX_SECTION_TEXT 3000
#define SLACK_MAX_FALLBACK     4000
void slack_body(const struct notify_msg *m, struct strbuf *sb);

/* pagerduty.c: the Events API v2 body for routing_key. */
void pagerduty_body(const struct notify_msg *m, const char *routing_key, struct strbuf *sb);

/* email.c: the RFC 5322 message (CRLF line ends, dot-stuffing left to libcurl); host is
 * the right side of the Message-ID. */
void email_message(const struct sw_receiver *rc, const struct notify_msg *m, int64_t now_ms,
                   const char *host, struct strbuf *sb);
/* An SMTP reply code's outcome: 2xx ok, 4xx retry, 5xx permanent, none (0) retry. */
enum notify_outcome email_code_outcome(int code);

#endif
