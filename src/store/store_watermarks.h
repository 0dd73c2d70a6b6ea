/*
 * store_watermarks.h - where each watcher and workflow poll got to: the newest source time
 * read (and its raw text), so a restart resumes instead of re-reading history.
 */
#ifndef SW_STORE_WATERMARKS_H
#define SW_STORE_WATERMARKS_H

#include "store/store.h"

/* key: "workflow:<name>" or "watcher:<name>". *ms is TIME_NULL when unset; *raw (may be
 * NULL) receives a malloc'd copy of the raw source text of the value, or NULL. */
int store_watermark_get(struct store *st, const char *key, int64_t *ms, char **raw,
                        struct sw_err *err);
/* now: when it moved (the caller's clock), kept beside it. */
int store_watermark_set(struct store *st, const char *key, int64_t ms, const char *raw, int64_t now,
                        struct sw_err *err);

#endif
