/*
 * router.c - the route table and path matching.
 *
 * DESIGN: a linear walk over ~25 patterns, comparing segment by segment, is a few hundred
 * nanoseconds and obviously correct; a trie would buy nothing at this size. The path is
 * split on '/' before decoding, so "%2F" inside an id stays part of the id.
 */
#include "util/common.h"
#include "api/router.h"
#include "api/handlers.h"
#include "api/query.h"

#define LIST "limit cursor"

/* Keep in step with src/api/openapi.json (tests/unit/test_api_openapi.c checks it). */
const struct api_route api_routes[] = {
    {"GET", "/", api_dashboard, API_PUBLIC, API_R_INLINE, NULL},
    {"GET", "/app.js", api_web_js, API_PUBLIC, API_R_INLINE, NULL},
    {"GET", "/app.css", api_web_css, API_PUBLIC, API_R_INLINE, NULL},
    {"GET", "/healthz", api_healthz, API_PUBLIC, API_R_INLINE, NULL},
    {"GET", "/readyz", api_readyz, API_PUBLIC, 0, NULL},
    {"GET", "/metrics", api_metrics, API_PUBLIC, 0, NULL},
    {"GET", "/api/v1/openapi.json", api_openapi, API_PUBLIC, API_R_INLINE, NULL},
    {"GET", "/api/v1/alerts", api_alerts_list, API_VIEWER, 0,
     "state level workflow step rule incident user_id instance_id open " LIST},
    {"GET", "/api/v1/alerts/{id}", api_alerts_get, API_VIEWER, 0, NULL},
    {"POST", "/api/v1/alerts/{id}/ack", api_alerts_ack, API_RESPONDER, API_R_BODY, NULL},
    {"POST", "/api/v1/alerts/{id}/resolve", api_alerts_resolve, API_RESPONDER, API_R_BODY, NULL},
    {"GET", "/api/v1/incidents", api_incidents_list, API_VIEWER, 0, "workflow open " LIST},
    {"GET", "/api/v1/incidents/{id}", api_incidents_get, API_VIEWER, 0, NULL},
    {"POST", "/api/v1/incidents/{id}/ack", api_incidents_ack, API_RESPONDER, API_R_BODY, NULL},
    {"POST", "/api/v1/incidents/{id}/resolve", api_incidents_resolve, API_RESPONDER, API_R_BODY,
     NULL},
    {"GET", "/api/v1/silences", api_silences_list, API_VIEWER, 0, "active " LIST},
    {"POST", "/api/v1/silences", api_silences_create, API_ADMIN, API_R_BODY, NULL},
    {"DELETE", "/api/v1/silences/{id}", api_silences_delete, API_ADMIN, 0, NULL},
    {"GET", "/api/v1/instances/{workflow}/{instance_id}", api_instances_get, API_VIEWER, 0, NULL},
    {"GET", "/api/v1/users/{user_id}", api_users_get, API_VIEWER, 0, NULL},
    {"GET", "/api/v1/stats/funnel", api_stats_funnel, API_VIEWER, 0, "workflow from to"},
    {"GET", "/api/v1/stats/tat", api_stats_tat, API_VIEWER, 0, "workflow step from to"},
    {"GET", "/api/v1/stats/segments", api_stats_segments, API_VIEWER, 0, "workflow by from to"},
    {"GET", "/api/v1/stats/alerts", api_stats_alerts, API_VIEWER, 0, "from to"},
    {"GET", "/api/v1/oncall", api_oncall, API_VIEWER, 0, "at"},
    {"GET", "/api/v1/notifications", api_notifications_list, API_VIEWER, 0,
     "receiver status incident " LIST},
    {"POST", "/api/v1/step-records", api_step_records_push, API_RESPONDER, API_R_BODY, NULL},
};
const size_t api_n_routes = ARRAY_SIZE(api_routes);

void route_match_release(struct route_match *m)
{
	for (size_t i = 0; i < m->n_params; i++)
		free(m->params[i]);
	memset(m, 0, sizeof(*m));
}

/* Next segment of s[*pos..len): start and length; advances *pos past it. */
static void next_seg(const char *s, size_t len, size_t *pos, const char **seg, size_t *seglen)
{
	size_t e = *pos;
	while (e < len && s[e] != '/')
		e++;
	*seg = s + *pos;
	*seglen = e - *pos;
	*pos = e;
}

/*
 * Match one pattern against the decoded segments. Returns 1 on a match (params filled
 * in m), 0 otherwise.
 */
static int match_one(const char *pattern, char **segs, size_t nsegs, struct route_match *m,
                     size_t *idx)
{
	size_t pp = 0, plen = strlen(pattern), i = 0, np = 0;
	if (pattern[0] != '/')
		return 0;
	pp = 1;
	if (plen == 1) /* "/" */
		return nsegs == 1 && !segs[0][0];
	while (pp <= plen && i < nsegs) {
		const char *ps;
		size_t psl;
		next_seg(pattern, plen, &pp, &ps, &psl);
		if (psl >= 2 && ps[0] == '{' && ps[psl - 1] == '}') {
			if (!segs[i][0] || np >= API_MAX_PARAMS)
				return 0;
			snprintf(m->names[np], sizeof(m->names[np]), "%.*s", (int)(psl - 2),
			         ps + 1);
			idx[np++] = i;
		} else if (strlen(segs[i]) != psl || memcmp(segs[i], ps, psl)) {
			return 0;
		}
		i++;
		if (pp == plen)
			break;
		pp++; /* the '/' */
	}
	if (i != nsegs || pp != plen)
		return 0;
	m->n_params = np;
	return 1;
}

int router_match(const struct api_route *routes, size_t n, const char *method, const char *path,
                 size_t len, struct route_match *m)
{
	char *segs[16];
	size_t nsegs = 0, pos = 1;
	int rc = ROUTE_NOT_FOUND;
	const char *want = method && !strcmp(method, "HEAD") ? "GET" : method;

	memset(m, 0, sizeof(*m));
	if (!method || len == 0 || path[0] != '/')
		return ROUTE_NOT_FOUND;
	/* split and decode segments */
	while (1) {
		const char *seg;
		size_t sl;
		next_seg(path, len, &pos, &seg, &sl);
		if (nsegs == ARRAY_SIZE(segs)) {
			rc = ROUTE_NOT_FOUND;
			goto out;
		}
		segs[nsegs] = query_unescape(seg, sl, false);
		if (!segs[nsegs]) {
			rc = ROUTE_BAD_PATH;
			goto out;
		}
		nsegs++;
		if (pos >= len)
			break;
		pos++;
	}
	for (size_t r = 0; r < n; r++) {
		struct route_match t;
		size_t idx[API_MAX_PARAMS];
		memset(&t, 0, sizeof(t));
		if (!match_one(routes[r].pattern, segs, nsegs, &t, idx))
			continue;
		if (strcmp(routes[r].method, want)) {
			size_t al = strlen(m->allow);
			if (al + strlen(routes[r].method) + 3 < sizeof(m->allow))
				snprintf(m->allow + al, sizeof(m->allow) - al, "%s%s",
				         al ? ", " : "", routes[r].method);
			rc = ROUTE_BAD_METHOD;
			continue;
		}
		*m = t;
		m->route = &routes[r];
		for (size_t k = 0; k < m->n_params; k++)
			m->params[k] = xstrdup(segs[idx[k]]);
		rc = ROUTE_OK;
		goto out;
	}
out:
	for (size_t i = 0; i < nsegs; i++)
		free(segs[i]);
	return rc;
}
