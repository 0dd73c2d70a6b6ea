/*
 * sim.h - a simulated lending business for `stepwatch demo`: loan applications pass six
 * steps (kyc, bureau_pull, bank_statement, underwriting, esign, disbursement) and the
 * simulator writes one row per (application, step) into an SQLite *source* file, the way a
 * real application would, for a real stepwatch to watch read-only.
 *
 * The story (docs/internals/demo.md): steady traffic with a little background failure,
 * users who retry and users who walk away, the odd step that hangs and later completes, and
 * a credit-bureau outage window during which every bureau_pull fails with BUREAU_TIMEOUT;
 * once the bureau is back the application retries the held pulls and they succeed, so
 * stepwatch's alerts resolve by themselves (except for the few users who gave up).
 *
 * Time is always passed in, in milliseconds since the Unix epoch ("sim time"); the
 * simulator never reads a clock. The demo passes compressed time (start + real elapsed time
 * * speed); tests pass whatever they like. Everything is deterministic given the seed.
 *
 * Not thread-safe: one thread owns a struct sim. Readers of the SQLite file may run
 * concurrently on their own connections (the file is in WAL mode).
 */
#ifndef SW_DEMO_SIM_H
#define SW_DEMO_SIM_H

#include "util/common.h"

#define SIM_NSTEPS 6

/* The workflow's steps, in order: kyc, bureau_pull, bank_statement, underwriting, esign,
 * disbursement. */
extern const char *const sim_steps[SIM_NSTEPS];

struct sim;

struct sim_opts {
	const char *db_path;      /* SQLite file to create; must not hold loan_steps rows yet */
	uint64_t seed;            /* same seed, same times: same rows */
	double arrivals_per_min;  /* mean new applications per sim minute (Poisson), > 0 */
	int64_t outage_start_ms;  /* bureau outage: offset from the start, >= 0 */
	int64_t outage_len_ms;    /* its length; 0 for no outage */
	double fail_scale;        /* multiplies every background failure rate; 0 turns them off */
	double walkaway;          /* share of outage victims facing a long wait who give up, 0..1 */
	int64_t walkaway_wait_ms; /* "long wait": time left in the outage above which they may */
};

/* The demo's defaults: seed 1, 5 arrivals/min, outage from 20m for 60m, fail_scale 1,
 * walkaway 0.15 beyond 30m. */
void sim_opts_init(struct sim_opts *o);

struct sim_stats {
	int64_t now_ms;           /* sim time reached by the last advance */
	uint64_t started;         /* applications that arrived */
	uint64_t completed;       /* applications whose disbursement succeeded */
	uint64_t abandoned;       /* applications whose user walked away */
	uint64_t active;          /* applications neither completed nor abandoned */
	uint64_t failed_steps;    /* step attempts that ended FAILED (outage included) */
	uint64_t outage_failures; /* of those, BUREAU_TIMEOUT during the outage */
	uint64_t retries;         /* failed steps started again (by the user or the application) */
	uint64_t hangs;           /* step attempts that hung IN_PROGRESS far longer than normal */
	uint64_t events;          /* events processed so far */
	uint64_t rows_written;    /* INSERTs and UPDATEs issued */
	bool in_outage;           /* the bureau is down at now_ms */
};

/*
 * Create the SQLite file and its schema (table loan_steps, WAL mode) and start the clock at
 * now_ms: sim time 0 of the story. Applications begin arriving at once.
 * Returns 0 with *out set, or -1 with err ("cannot open 'x.db': ...", bad options).
 */
int sim_open(const struct sim_opts *o, int64_t now_ms, struct sim **out, struct sw_err *err);

/*
 * Simulate everything up to and including now_ms, in one write transaction. Advancing to
 * the time already reached does nothing; a time before it is an error. After a database
 * error the transaction is rolled back and the simulator refuses further advances (its
 * memory no longer matches the file). Returns 0 or -1 with err.
 */
int sim_advance(struct sim *s, int64_t now_ms, struct sw_err *err);

void sim_stats(const struct sim *s, struct sim_stats *out);

/* Close the database (checkpointing the WAL) and free everything. NULL is fine. */
void sim_close(struct sim *s);

/* The workflow's steps_query for the demo config (SPEC section 3.1 columns, :since). */
const char *sim_steps_query(void);

#endif
