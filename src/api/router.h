/*
 * router.h - the route table of the API and matching of a request's method and raw path
 * against it. The table is a plain array (api_routes), so tests and tools can walk it:
 * the OpenAPI test checks it against src/api/openapi.json both ways.
 */
#ifndef SW_ROUTER_H
#define SW_ROUTER_H

#include "api/api.h"

extern const struct api_route api_routes[];
extern const size_t api_n_routes;

enum {
	ROUTE_OK = 0,
	ROUTE_NOT_FOUND = -1,  /* no pattern matches the path: 404 */
	ROUTE_BAD_METHOD = -2, /* the path matches, the method does not: 405 with m->allow */
	ROUTE_BAD_PATH = -3,   /* bad %-escape or a NUL byte in the path: 400 */
};

struct route_match {
	const struct api_route *route;
	char names[API_MAX_PARAMS][32]; /* parameter names, from the pattern */
	char *params[API_MAX_PARAMS];   /* decoded values, malloc'd */
	size_t n_params;
	char allow[64]; /* "GET, POST" for ROUTE_BAD_METHOD */
};

/*
 * Match method and path (len bytes, raw: segments are percent-decoded one by one, so an
 * encoded '/' stays inside its segment). HEAD matches GET routes. Returns ROUTE_*; on
 * ROUTE_OK m holds the route and its parameters (route_match_release() them).
 */
int router_match(const struct api_route *routes, size_t n, const char *method, const char *path,
                 size_t len, struct route_match *m);
void route_match_release(struct route_match *m);

#endif
