/*
 * test_server_start.c - a whole node (server_start) serving requests from its first
 * instant: a client thread hammers the API port while the main thread starts and stops
 * the server again and again, so requests land in every moment of start-up and shutdown.
 * Routes that read the config in force (/api/v1/oncall) or the runtime's figures
 * (/metrics) must never see a half-built server.
 */
#include "helpers.h"
#include "cli/server.h"
#include "config/config.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

struct hammer {
	int port;
	atomic_bool stop;
	atomic_long answered;
};

/* A free TCP port on 127.0.0.1 (bound, read, closed). */
static int free_port(void)
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	assert_true(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* One request on a new connection; true when a status line came back. */
static bool one_request(int port, const char *path)
{
	struct sockaddr_in sa = {0};
	char buf[512], req[256];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;
	bool ok = false;
	if (fd < 0)
		return false;
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		int len = snprintf(req, sizeof(req),
		                   "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
		if (write(fd, req, (size_t)len) == len) {
			n = read(fd, buf, sizeof(buf) - 1);
			ok = n > 12 && !memcmp(buf, "HTTP/1.1 ", 9);
		}
	}
	close(fd);
	return ok;
}

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	static const char *const paths[] = {"/metrics", "/api/v1/oncall",
	                                    "/api/v1/stats/funnel?workflow=loan"};
	for (unsigned i = 0; !atomic_load(&h->stop); i++)
		if (one_request(h->port, paths[i % 3]))
			atomic_fetch_add(&h->answered, 1);
	return NULL;
}

static void requests_during_start(void **state)
{
	char *dir = test_tmpdir(), *yaml;
	struct hammer h = {0};
	struct server_opts o = {0};
	pthread_t t;
	(void)state;
	h.port = free_port();
	yaml = xasprintf("store: \"sqlite://%s/store.db\"\n"
	                 "http:\n  listen: 127.0.0.1:%d\n"
	                 "workflows:\n  loan:\n    steps: [kyc, bureau_pull]\n",
	                 dir, h.port);
	o.threads = 2;
	assert_int_equal(pthread_create(&t, NULL, hammer_main, &h), 0);
	for (int i = 0; i < 40; i++) {
		struct sw_config *cfg = NULL;
		struct strbuf errs = STRBUF_INIT;
		struct server *srv = NULL;
		struct sw_err err = {""};
		if (config_load_buffer("test.yaml", yaml, strlen(yaml), &cfg, &errs) < 0)
			fail_msg("config: %s", errs.buf);
		strbuf_release(&errs);
		if (server_start(cfg, &o, &srv, &err) < 0)
			fail_msg("server_start: %s", err.msg);
		assert_int_equal(server_http_port(srv), h.port);
		server_stop(srv, 5000);
	}
	atomic_store(&h.stop, true);
	pthread_join(t, NULL);
	assert_true(atomic_load(&h.answered) > 0);
	test_rmtree(dir);
	free(dir);
	free(yaml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(requests_during_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
