/*
 * signals.h - process signals for `serve` and `worker`, nginx/pgbouncer style: handlers only
 * set flags (and wake the main loop through a self-pipe); the main loop does the work.
 *
 *	SIGTERM, SIGINT   stop requested (graceful: drain, then exit)
 *	SIGHUP            reload requested (build a new config; keep the old one if it fails)
 *	SIGPIPE           ignored (a closed socket is an error return, not a death)
 *
 * Main loop:
 *
 *	signals_install(&err);
 *	for (;;) {
 *		signals_wait(1000);
 *		if (signals_take_stop())
 *			break;
 *		if (signals_take_reload())
 *			reload();
 *	}
 *
 * Threads other than the main one should block the asynchronous signals
 * (signals_block_async() around pthread_create, as the runtime does), so the handlers run on
 * the main thread and interrupt its wait.
 */
#ifndef SW_SIGNALS_H
#define SW_SIGNALS_H

#include "util/common.h"
#include <signal.h>

/* Install the handlers and the self-pipe. Idempotent. */
int signals_install(struct sw_err *err);
/* Restore default dispositions, close the pipe, clear the flags (tests, exec). */
void signals_uninstall(void);

/* Read and clear a flag; true when the signal arrived since the last take. Several signals
 * before one take count as one. */
bool signals_take_stop(void);
bool signals_take_reload(void);

/*
 * Wait up to timeout_ms (-1: no limit) until a stop or reload is pending. Returns 1 when one
 * is pending (flags are left set for the take functions), 0 on timeout, -1 when the handlers
 * are not installed (after sleeping up to timeout_ms, so a loop does not spin).
 */
int signals_wait(int64_t timeout_ms);

/* Block the asynchronous signals in the calling thread (threads created meanwhile inherit
 * the mask); *old receives the previous mask for pthread_sigmask(SIG_SETMASK, old, NULL).
 * Synchronous ones (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP) stay unblocked. */
void signals_block_async(sigset_t *old);

#endif
