/*
 * forms.h - the JSON forms of store objects in API answers (SPEC section 5 "Objects"):
 * alerts (with their history), incidents, silences, labels, times. Each has a jansson form;
 * the alert (the hot list and detail) also has a form written straight into a strbuf that
 * gives the same bytes as the jansson form dumped compact.
 */
#ifndef SW_API_FORMS_H
#define SW_API_FORMS_H

#include "util/common.h"
#include "util/strbuf.h"
#include "store/store_alerts.h"
#include "store/store_incidents.h"
#include "store/store_silences.h"
#include <jansson.h>

/* RFC 3339 UTC string, or JSON null for TIME_NULL. */
json_t *api_time_json(int64_t ms);
/* A string, or JSON null for NULL; invalid UTF-8 bytes become U+FFFD. */
json_t *api_str_json(const char *s);
/* A labels column (JSON object text) as an object of its string values; {} when absent
 * or unreadable. Null values are left out. */
json_t *api_labels_json(const char *labels_json);
/* The alert object; with_history adds "history" (hist, oldest first). */
json_t *api_alert_json(const struct alert *a, bool with_history, const struct alert_event *hist,
                       size_t nhist);
json_t *api_incident_json(const struct incident *i);
json_t *api_silence_json(const struct silence *s);

/* api_labels_json's form, written into sb. */
void api_labels_write(struct strbuf *sb, const char *labels_json);
/* api_alert_json's form without history and without its closing brace, written into sb, so
 * that "history" can follow. */
void api_alert_write_head(struct strbuf *sb, const struct alert *a);
/* One entry of "history", written into sb. */
void api_alert_event_write(struct strbuf *sb, const struct alert_event *e);

#endif
