/*
 * cmd_version.c - `stepwatch version`: the version and the libraries it was built with.
 */
#include "util/common.h"
#include "cli/cli.h"
#include <sqlite3.h>
#include <libpq-fe.h>
#include <jansson.h>
#include <microhttpd.h>
#include <curl/curl.h>

int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: stepwatch version\n\nPrint the version of stepwatch and of the "
		       "libraries it runs on.\n");
		return EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "stepwatch version: unexpected argument '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	printf("stepwatch %s\n", SW_VERSION);
	printf("sqlite %s, libpq %d, jansson %s, libmicrohttpd %s, libcurl %s\n",
	       sqlite3_libversion(), PQlibVersion(), JANSSON_VERSION, MHD_get_version(),
	       curl_version_info(CURLVERSION_NOW)->version);
	return EXIT_OK;
}
