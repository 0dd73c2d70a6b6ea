/*
 * hook.h - the demo's own webhook receiver: a tiny HTTP server on 127.0.0.1 that accepts
 * the notifier's POSTs (any path: the path names the team), answers 200, and keeps the
 * newest messages for the demo's screen. Only for `stepwatch demo`.
 */
#ifndef SW_DEMO_HOOK_H
#define SW_DEMO_HOOK_H

#include "util/common.h"

struct demo_hook;

/* Listen on 127.0.0.1, a free port. NULL with err on failure. */
struct demo_hook *demo_hook_start(struct sw_err *err);
int demo_hook_port(const struct demo_hook *h);
/* The newest messages, newest first, one line each ("support  [P2] opened ..."), at most
 * max; *total gets how many arrived in all. Lines are the hook's until the next call. */
size_t demo_hook_recent(struct demo_hook *h, const char **lines, size_t max, int64_t *total);
void demo_hook_stop(struct demo_hook *h);

#endif
