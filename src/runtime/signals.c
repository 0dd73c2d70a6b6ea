/*
 * signals.c - stop/reload flags set by signal handlers, and a self-pipe to wake the main loop.
 *
 * DESIGN: handlers do two async-signal-safe things: set a lock-free atomic flag and write
 * one byte to a non-blocking pipe (errno saved and restored). The flags are C11 atomics
 * rather than volatile sig_atomic_t so signals_take_*() can read-and-clear in one
 * atomic_exchange (no signal lost between the read and the clear) and so the flags are
 * race-free even if a handler runs on another thread. C11 7.14.1.1 allows lock-free atomics
 * in handlers; the static assertion below checks that they are. signals_wait() polls the
 * pipe: unlike sigtimedwait() it does not need every thread to block the signals first, and
 * unlike signalfd it works in any program that installs a handler.
 */
#include "util/common.h"
#include "runtime/signals.h"
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <unistd.h>
#include "util/timeutil.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "signal flags need lock-free atomic int");

static atomic_int stop_flag;
static atomic_int reload_flag;
/* -1 when not installed; written only by install/uninstall (main thread) */
static atomic_int pipe_rd = -1;
static atomic_int pipe_wr = -1;

static void on_signal(int sig)
{
	int saved = errno;
	int fd;

	if (sig == SIGHUP)
		atomic_store(&reload_flag, 1);
	else
		atomic_store(&stop_flag, 1);
	fd = atomic_load(&pipe_wr);
	if (fd >= 0) {
		char c = (char)sig;
		ssize_t w = write(fd, &c, 1); /* full pipe: a wake-up is already pending */
		(void)w;
	}
	errno = saved;
}

static int set_handler(int sig, void (*fn)(int), struct sw_err *err)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, NULL) < 0)
		return sw_err_set(err, "cannot install handler for signal %d: %s", sig,
		                  strerror(errno));
	return 0;
}

int signals_install(struct sw_err *err)
{
	int fds[2];
	int rc = 0;

	if (atomic_load(&pipe_rd) < 0) {
		if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
			return sw_err_set(err, "cannot create signal pipe: %s", strerror(errno));
		atomic_store(&pipe_rd, fds[0]);
		atomic_store(&pipe_wr, fds[1]);
	}
	if ((rc = set_handler(SIGTERM, on_signal, err)) < 0)
		goto out;
	if ((rc = set_handler(SIGINT, on_signal, err)) < 0)
		goto out;
	if ((rc = set_handler(SIGHUP, on_signal, err)) < 0)
		goto out;
	rc = set_handler(SIGPIPE, SIG_IGN, err);
out:
	return rc;
}

void signals_uninstall(void)
{
	int fd;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if ((fd = atomic_exchange(&pipe_wr, -1)) >= 0)
		close(fd);
	if ((fd = atomic_exchange(&pipe_rd, -1)) >= 0)
		close(fd);
	atomic_store(&stop_flag, 0);
	atomic_store(&reload_flag, 0);
}

bool signals_take_stop(void)
{
	return atomic_exchange(&stop_flag, 0) != 0;
}

bool signals_take_reload(void)
{
	return atomic_exchange(&reload_flag, 0) != 0;
}

static bool pending(void)
{
	return atomic_load(&stop_flag) || atomic_load(&reload_flag);
}

static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int signals_wait(int64_t timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : time_mono_ms() + timeout_ms;
	int fd = atomic_load(&pipe_rd);

	if (fd < 0) {
		if (timeout_ms > 0) {
			struct timespec ts = {(time_t)(timeout_ms / 1000),
			                      (long)(timeout_ms % 1000) * 1000000};
			nanosleep(&ts, NULL);
		}
		return -1;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = -1;

		drain(fd);
		if (pending())
			return 1;
		if (deadline >= 0) {
			left = deadline - time_mono_ms();
			if (left <= 0)
				return 0;
			if (left > INT_MAX)
				left = INT_MAX;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return pending() ? 1 : 0;
	}
}

void signals_block_async(sigset_t *old)
{
	static const int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP};
	sigset_t set;

	sigfillset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(sync_sigs); i++)
		sigdelset(&set, sync_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, old);
}
