/*
 * client.h - what `stepwatch alerts` and `stepwatch incidents` share: a small HTTP client of
 * the stepwatch API (libcurl, JSON through jansson), option parsing for the client commands,
 * aligned tables for people, and the list/ack/resolve flows that both nouns have.
 */
#ifndef SW_CLIENT_H
#define SW_CLIENT_H

#include "util/common.h"
#include "util/strbuf.h"
#include <jansson.h>

#define CLIENT_DEFAULT_URL     "http://127.0.0.1:8080"
#define CLIENT_DEFAULT_TIMEOUT 30 /* seconds, whole request */
#define CLIENT_MAX_BODY        (64u << 20)

enum {
	CLIENT_ECONN = -1, /* no HTTP answer: connect, timeout, TLS, oversized or broken reply */
	CLIENT_EHTTP = -2  /* an HTTP answer outside 2xx, or a 2xx whose body is not JSON */
};

struct client {
	char *base;  /* scheme://host[:port][/prefix], no trailing '/' */
	char *token; /* STEPWATCH_TOKEN, or NULL */
	long timeout_ms;
	void *curl; /* CURL * */
};

/*
 * Open a client of base_url (NULL: $STEPWATCH_URL, else CLIENT_DEFAULT_URL) with the token
 * of $STEPWATCH_TOKEN. Only http:// and https:// URLs; a token holding a control character
 * is refused. Returns 0, or -1 with err (a usage problem: exit 2).
 */
int client_open(struct client *c, const char *base_url, long timeout_s, struct sw_err *err);
void client_close(struct client *c);

/*
 * METHOD path (starting with "/api/v1/", query already escaped) with body (a JSON value to
 * send, or NULL). On a 2xx answer with a JSON body: 0, *out the parsed body (caller
 * json_decref()s), *raw (when raw is not NULL) the body as received. Otherwise CLIENT_ECONN
 * or CLIENT_EHTTP with *status (0 without an answer) and err: "cannot connect to 'URL': ...",
 * "HTTP 409 conflict: <the API's message>".
 */
int client_request(struct client *c, const char *method, const char *path, json_t *body,
                   long *status, json_t **out, struct strbuf *raw, struct sw_err *err);

/* The exit code for a failed client_request: 2 for 400/422 (the request was wrong), else 1. */
int client_exit_code(long status);

/* Append "?key=value" or "&key=value", percent-encoded, to a path. */
void client_add_query(struct strbuf *path, const char *key, const char *value);

/* Strict positive int64 ("12"; not "+1", "0x1", "1e3", " 1"). 0 or -1. */
int client_parse_id(const char *s, int64_t *id);

/* "42s", "5m", "3h", "2d" since an RFC 3339 time (now_ms); "-" when absent or unparsable. */
void client_format_age(const char *rfc3339, int64_t now_ms, char *buf, size_t n);

/*
 * Command-line options of the client commands: "--name VALUE", "--name=VALUE" and flags.
 * Each known option writes to exactly one of str (has an argument) or flag.
 */
struct client_opt {
	const char *name; /* without "--" */
	const char **str;
	bool *flag;
};

/*
 * Parse argv[first..]: known options, "-h"/"--help" (prints usage, returns 1), "--" ends
 * options, everything else positional into pos (up to max_pos). Returns 0, 1 for help, or
 * 2 after printing a usage error prefixed with prog.
 */
int client_parse_opts(int argc, char **argv, int first, const struct client_opt *opts, size_t nopts,
                      const char **pos, size_t max_pos, size_t *npos, const char *prog,
                      const char *usage);

/* An aligned text table; cells are sanitized (control characters become '?') and long
 * cells are cut at max_width code points with "...". */
struct client_table {
	size_t ncols;
	char **cells; /* row-major, header row first */
	size_t n, alloc;
};

void client_table_init(struct client_table *t, size_t ncols, const char *const *headers);
void client_table_add(struct client_table *t, const char *const *row);
void client_table_print(const struct client_table *t, FILE *f, size_t max_width);
void client_table_release(struct client_table *t);

/* The string of a JSON member: strings as they are, integers in decimal, null or absent as
 * dflt. The pointer lives as long as obj (or buf, for numbers). */
const char *client_json_str(json_t *obj, const char *key, const char *dflt, char *buf, size_t n);

/*
 * The flows both nouns share. noun is "alerts" or "incidents"; one is "alert"/"incident".
 * list: GET path (with its filters), from cursor (NULL: the first page); --all follows
 * next_cursor. With json, the
 * raw body (one page) or {"items": [...all...], "next_cursor": null} (--all); else print_rows
 * gets the items (every page's, with --all) to print as a table.
 */
int client_list(struct client *c, const char *prog, const struct strbuf *path, const char *cursor,
                bool all, bool json, void (*print_rows)(json_t *items, int64_t now_ms));
/* ack/resolve: POST /api/v1/<noun>/<id>/<verb> with {"by"?, "note"?}. */
int client_change(struct client *c, const char *prog, const char *noun, const char *one,
                  const char *verb, int64_t id, const char *by, const char *note, bool json);

/* Print "stepwatch <prog>: <msg>" to stderr. */
void client_die_msg(const char *prog, const char *msg);

/*
 * argv[1] of `stepwatch <prog>`: list, show, ack or resolve. Returns 0 with *sub, *is_list
 * and *is_change set; or, after printing the usage, the exit code to return with *sub NULL
 * (EXIT_OK for help, EXIT_USAGE for a missing or unknown subcommand).
 */
int client_subcommand(const char *prog, int argc, char **argv, const char *usage, const char **sub,
                      bool *is_list, bool *is_change);

/*
 * What every subcommand does after its options are parsed: check the id (when the
 * subcommand takes one: npos must be 1 and pos[0] a positive integer) and --timeout
 * (1..86400), default --by to $USER for ack/resolve, and open the client. Returns 0, or
 * EXIT_USAGE after printing why. noun is "alert" or "incident".
 */
int client_setup(const char *prog, const char *noun, const char *sub, const char *usage,
                 bool needs_id, size_t npos, const char *const *pos, const char *timeout,
                 const char *url, bool is_change, const char **by, int64_t *id, struct client *c);

#endif
