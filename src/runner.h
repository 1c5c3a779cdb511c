/* The runner: picks the checks for a target, runs them on a fixed pool of workers over one DNS engine, builds the verdict. */
#ifndef WHY550_RUNNER_H
#define WHY550_RUNNER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "checks/check.h"
#include "dns/dns.h"
#include "core/conf.h"
#include "core/target.h"
#include "src/verdict.h"

/* The configured checks (ops and their contexts), shared by every target. */
struct runner;

/*
 * Configures the checks named in only (comma-separated; NULL: all but the
 * opt-in ones, which run only when named) from conf.
 * -1 with err: an unknown name in only ("--checks: unknown check 'x'", exit 64,
 * *usage set) or bad configuration ("file:line: ...", exit 78).
 */
struct runner *runner_new(const struct conf *conf, const char *only, bool *usage,
    struct error *err);
/*
 * runner_new() over the nchecks checks given instead of the registry (they
 * must outlive the runner): a test runs its own checks through the real
 * scheduling. Sections of conf, and names in only, are those of these checks.
 */
struct runner *runner_new_checks(const struct check_ops *const *checks, size_t nchecks,
    const struct conf *conf, const char *only, bool *usage, struct error *err);
/* Stops and joins the workers, frees the checks. No target may be in flight. NULL is a no-op. */
void runner_free(struct runner *r);
/* Prints the configured checks and their configuration (for --list-checks). */
void runner_describe(struct runner *r, struct strbuf *out);
/*
 * The same as a fresh JSON array, one object per check in run order:
 * name, summary, enabled, needs and wants (target field names), settings
 * (the check's describe_json, or null) and description (the text above).
 */
json_t *runner_describe_json(const struct runner *r);

/*
 * The workers. A check (or a part of a check split into parts) is a job:
 * it is queued only once the checks named in its ops->after are done, so
 * no worker ever waits for another job, and a worker runs one job at a
 * time to its end. Checks block their worker while they wait on DNS
 * (libspf2 and libopendkim call the engine synchronously), so the pool is
 * sized for waiting, not for the cores: see runner_pool_size().
 */

/*
 * The pool size for jobs targets in flight: room for every job of each
 * target to wait on DNS at once (the enabled checks and the parts of a
 * split check), but no more than two workers per target in flight plus
 * eight per core, and at least what one target needs; at most
 * RUNNER_MAX_WORKERS.
 */
#define RUNNER_MAX_WORKERS 1024
size_t runner_pool_size(const struct runner *r, size_t jobs);

/*
 * Creates want workers, once: later calls return 0 at once. The workers
 * run until runner_free(). -1 with err when not one thread could be
 * created (the limit on processes and threads: exit 71); 0 otherwise, with
 * *got set (may be NULL) and, when *got < want, err saying why the rest
 * could not be created (for a warning). Call it with the signals that only
 * the main thread handles blocked: the workers inherit the mask.
 */
int runner_start(struct runner *r, size_t want, size_t *got, struct error *err);

/*
 * Whether a thread can be created at all right now: -1 with err naming the
 * resource when it cannot (to tell a setup that failed for want of threads,
 * exit 71, from one that failed for another reason).
 */
int runner_thread_probe(struct error *err);

/*
 * How the runner creates its threads: pthread_create, unless a test puts
 * a failing stand-in here (before runner_start) to see the runner cope.
 */
extern int (*runner_thread_create)(pthread_t *thread, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg);

/* Everything the output needs about one target's run. */
struct run_result {
	const struct target *target;	/* borrowed */
	struct report **reports;	/* one per enabled check, registry order */
	size_t nreports;
	struct verdict verdict;
	struct dns_counters dns;
	struct dns_server_stats servers[DNS_MAX_SERVERS];
	size_t nservers;
	int duration_ms;
	bool deadline_hit;
};

/*
 * Called once when a target's run is complete, on a worker (or on the
 * thread that called runner_submit() or runner_expire()), holding no lock
 * of the runner. res is valid during the call only; the runner releases it
 * afterwards and no longer touches the target, which the callback may free.
 */
typedef void runner_done_fn(void *arg, struct run_result *res);

/*
 * Queues the checks of t on the workers (starting the pool with
 * runner_pool_size(r, 1) workers if runner_start() was not called) and
 * returns at once; done(arg, res) follows when every check has finished or
 * been cut. Checks whose inputs t lacks are reported skipped; a check runs
 * only after those in its ops->after; the parts of a split check run at
 * once, then its join. timeout_ms bounds the whole target (0: none): a job
 * not started when it passes is never started, a running one ends with its
 * next DNS wait; both are reported as errors with reason "deadline". t is
 * borrowed until done is called. Cannot fail.
 */
void runner_submit(struct runner *r, struct dns_engine *eng, const struct target *t,
    int timeout_ms, runner_done_fn *done, void *arg);

/*
 * Cuts the jobs of every target whose deadline has passed and that no
 * worker has started yet (a part or a join still queued is run here, where
 * its DNS waits end at once). Whoever waits for results calls it now and
 * then, so that the deadline holds even when every worker is busy or none
 * could be created.
 */
void runner_expire(struct runner *r);

/*
 * runner_submit() for one target, waiting for the result in out (to
 * release with run_result_release()). The calling thread runs the
 * target's jobs itself when the pool has no worker. May block on DNS up
 * to the deadline plus one attempt. Cannot fail.
 */
void runner_run(struct runner *r, struct dns_engine *eng, const struct target *t,
    int timeout_ms, struct run_result *out);
void run_result_release(struct run_result *res);

#endif
