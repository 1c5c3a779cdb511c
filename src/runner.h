/* The runner: picks the checks for a target, runs them concurrently over one DNS engine, builds the verdict. */
#ifndef WHY550_RUNNER_H
#define WHY550_RUNNER_H

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
void runner_free(struct runner *r);
/* Prints the configured checks and their configuration (for --list-checks). */
void runner_describe(struct runner *r, struct strbuf *out);
/*
 * The same as a fresh JSON array, one object per check in run order:
 * name, summary, enabled, needs and wants (target field names), settings
 * (the check's describe_json, or null) and description (the text above).
 */
json_t *runner_describe_json(const struct runner *r);

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
 * Runs every enabled check whose inputs t has (others are reported skipped),
 * all at once, each in its own thread, a check waiting only for the checks
 * in its ops->after; the parts of a check split into parts (ops->split) run
 * at once too, each in its own thread, before its join. timeout_ms bounds
 * the whole target (0: none): a check still running when it passes ends
 * with its next DNS wait and is reported as an error with reason
 * "deadline". May block on DNS up to that deadline plus one attempt.
 * Cannot fail.
 */
void runner_run(struct runner *r, struct dns_engine *eng, const struct target *t,
    int timeout_ms, struct run_result *out);
void run_result_release(struct run_result *res);

#endif
