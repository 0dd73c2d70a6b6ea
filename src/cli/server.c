/*
 * server.c - a node (runtime/node.h) with the HTTP API on top, for `serve` and `demo`.
 *
 * The node exists, with its config in force, before the API listens (the API may be asked
 * from that instant); the tasks start once it listens. The API reaches the node only
 * through the handles and callbacks of its struct api_app (api/app.h), filled here.
 */
#include "util/common.h"
#include "util/log.h"
#include "cli/server.h"
#include "runtime/node.h"
#include "api/app.h"
#include "api/http.h"

struct server {
	struct node *node;
	struct http_server *http;
	struct api_app app;
};

/*
 * The API keeps only SHA-256 hashes of the tokens (api/auth.c); wipe the secrets the config
 * read from the environment so they do not linger in memory. Tokens and http.listen take
 * effect at start: a reload keeps the ones in force (docs/cli.md).
 */
static void wipe_tokens(struct sw_config *cfg)
{
	for (size_t i = 0; i < cfg->http.n_tokens; i++)
		if (cfg->http.tokens[i].token)
			explicit_bzero(cfg->http.tokens[i].token,
			               strlen(cfg->http.tokens[i].token));
}

static const struct sw_config *app_config_get(void *host)
{
	return node_config_get(host);
}

static void app_config_put(void *host, const struct sw_config *cfg)
{
	node_config_put(host, cfg);
}

static size_t app_job_stats(void *host, struct rt_job_stats **out)
{
	return node_job_stats(host, out);
}

static int start_http(struct server *s, const struct sw_config *cfg, const struct sw_clock *clock,
                      struct sw_err *err)
{
	struct http_opts ho = {0};
	s->app.host = s->node;
	s->app.config_get = app_config_get;
	s->app.config_put = app_config_put;
	s->app.job_stats = app_job_stats;
	s->app.health = node_health(s->node);
	s->app.notifier = node_notifier(s->node);
	s->app.clock = clock;
	s->app.store_url = xstrdup(cfg->store_url);
	ho.listen = cfg->http.listen;
	ho.tokens = cfg->http.tokens;
	ho.n_tokens = cfg->http.n_tokens;
	ho.request_timeout_ms = (unsigned)cfg->http.request_timeout_ms;
	ho.app = &s->app;
	ho.worker_init = api_worker_init;
	ho.worker_fini = api_worker_fini;
	if (http_start(&ho, &s->http, err) < 0) {
		s->http = NULL;
		return -1;
	}
	log_info("listening", "listen=%s port=%d", cfg->http.listen, http_port(s->http));
	return 0;
}

int server_start(struct sw_config *cfg, const struct server_opts *opts, struct server **out,
                 struct sw_err *err)
{
	struct server *s = xcalloc(1, sizeof(*s));
	struct node_opts no = {0};
	no.clock = opts && opts->clock ? opts->clock : &clock_system;
	no.threads = opts ? opts->threads : 0;
	if (node_open(cfg, &no, &s->node, err) < 0) {
		free(s);
		return -1;
	}
	if (!(opts && opts->no_http) && start_http(s, cfg, no.clock, err) < 0)
		goto fail;
	wipe_tokens(cfg);
	if (node_start(s->node, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	http_stop(s->http); /* drains the handlers holding the node's config */
	node_stop(s->node, -1);
	free(s->app.store_url);
	free(s);
	return -1;
}

int server_reload(struct server *s, struct sw_config *newcfg, struct sw_err *err)
{
	wipe_tokens(newcfg);
	return node_reload(s->node, newcfg, err);
}

int server_stop(struct server *s, int64_t timeout_ms)
{
	int rc;
	if (!s)
		return 0;
	http_stop(s->http); /* first: handlers may hold a config of the node */
	rc = node_stop(s->node, timeout_ms);
	free(s->app.store_url);
	free(s);
	return rc;
}

const struct sw_config *server_config(struct server *s)
{
	return node_config(s->node);
}

int server_http_port(struct server *s)
{
	return s->http ? http_port(s->http) : 0;
}
