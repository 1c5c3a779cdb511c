/* Tests of the runner with checks of the tests' own: dependency order, the target deadline, checks split into parts, the pool of workers and threads that cannot be created. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support.h"
#include "checks/check.h"
#include "core/conf.h"
#include "core/target.h"
#include "core/util.h"
#include "src/runner.h"

/* One run of the given checks through the real engine, on the fault server alone. */
struct run {
	struct conf *conf;
	struct runner *r;
	struct dns_engine *eng;
	struct target t;
	struct run_result res;
	int elapsed_ms;
};

/* Runs the n checks with the configuration text conf (NULL: none) and a target deadline. */
static void
run_checks(struct run *x, const struct check_ops *const *checks, size_t n, const char *conf,
    int timeout_ms)
{
	struct error err;
	bool usage;
	int64_t start;

	memset(x, 0, sizeof(*x));
	x->conf = conf_new();
	if (conf != NULL)
		cr_assert_eq(conf_load_file(x->conf, "t.conf", conf, &err), 0, "%s", err.msg);
	x->r = runner_new_checks(checks, n, x->conf, NULL, &usage, &err);
	cr_assert_not_null(x->r, "%s", err.msg);
	/* one attempt longer than any test: only the target deadline ends a slow query */
	x->eng = test_engine(test_fault_alone(), 5000, 1);
	target_init(&x->t);
	cr_assert_eq(target_set_ip(&x->t, "--ip", "192.0.2.1", &err), 0, "%s", err.msg);
	start = now_ms();
	runner_run(x->r, x->eng, &x->t, timeout_ms, &x->res);
	x->elapsed_ms = (int)(now_ms() - start);
}

static void
run_release(struct run *x)
{
	run_result_release(&x->res);
	target_release(&x->t);
	dns_engine_free(x->eng);
	runner_free(x->r);
	conf_free(x->conf);
}

/* The report of the check called name. */
static const struct report *
report_of(const struct run *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->res.nreports; i++)
		if (strcmp(report_name(x->res.reports[i]), name) == 0)
			return x->res.reports[i];
	cr_assert_fail("no report for '%s'", name);
	return NULL;
}

/* A DNS question that the fault server answers after ms milliseconds. */
static void
wait_on_dns(struct dns *dns, int ms)
{
	char name[64];

	snprintf(name, sizeof(name), "late%d.runner.example.test", ms);
	dns_result_free(dns_lookup(dns, name, DNS_T_A));
}

/* Dependency order: "reader" reads the report of "writer", which takes 200 ms. */

static void
writer_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	(void)ctx;
	(void)t;
	wait_on_dns(dns, 200);
	report_add(rep, "written", SEV_INFO, NULL, "the writer is done");
}

static void
reader_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const struct report *peer = report_peer(rep, "writer");

	(void)ctx;
	(void)t;
	(void)dns;
	if (peer == NULL)
		report_add(rep, "no_peer", SEV_INFO, NULL, "the writer did not run");
	else if (report_find(peer, "written") != NULL)
		report_add(rep, "peer_finished", SEV_INFO, NULL, "the writer was done");
	else
		report_add(rep, "peer_unfinished", SEV_WARN, NULL, "the writer was still running");
}

static const char *const after_writer[] = { "writer", NULL };

static const struct check_ops reader = {
	.name = "reader",
	.summary = "reads the writer's report",
	.after = after_writer,
	.run = reader_run,
};

static const struct check_ops writer = {
	.name = "writer",
	.summary = "takes one slow lookup, then writes a finding",
	.run = writer_run,
};

static const struct check_ops writer_needs_helo = {
	.name = "writer",
	.summary = "like writer, but only with a HELO name",
	.needs = NEED_HELO,
	.run = writer_run,
};

Test(runner, check_runs_after_the_peers_it_reads_and_sees_their_findings, .timeout = 20)
{
	/* the reader comes first in the list: only the runner's ordering holds it back */
	static const struct check_ops *const checks[] = { &reader, &writer };
	struct run x;

	run_checks(&x, checks, ARRAY_SIZE(checks), NULL, 10000);
	cr_expect_not_null(report_find(report_of(&x, "reader"), "peer_finished"),
	    "the reader ran before the writer had finished");
	cr_expect_geq(report_duration_ms(report_of(&x, "writer")), 150);
	cr_expect_eq(report_status(report_of(&x, "reader")), CHECK_PASS);
	run_release(&x);
}

Test(runner, check_does_not_wait_for_a_skipped_peer, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &reader, &writer_needs_helo };
	struct run x;

	run_checks(&x, checks, ARRAY_SIZE(checks), NULL, 10000);
	cr_expect_eq(report_status(report_of(&x, "writer")), CHECK_SKIPPED);
	cr_expect_str_eq(report_reason(report_of(&x, "writer")), "needs --helo");
	cr_expect_not_null(report_find(report_of(&x, "reader"), "no_peer"));
	cr_expect_lt(x.elapsed_ms, 150, "took %d ms", x.elapsed_ms);
	run_release(&x);
}

/* The deadline: "slow" waits on a query that is never answered, "quick" asks nothing. */

static void
slow_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	struct dns_result *res = dns_lookup(dns, "timeout.runner.example.test", DNS_T_A);

	(void)ctx;
	(void)t;
	report_add(rep, "asked", SEV_INFO, NULL, "the query ended: %s",
	    dns_status_name(res->status));
	dns_result_free(res);
}

static void
quick_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	(void)ctx;
	(void)t;
	(void)dns;
	report_add(rep, "done", SEV_INFO, NULL, "nothing to wait for");
}

static const struct check_ops slow = {
	.name = "slow",
	.summary = "waits on a query that is never answered",
	.run = slow_run,
};

static const struct check_ops quick = {
	.name = "quick",
	.summary = "asks nothing",
	.run = quick_run,
};

Test(runner, deadline_cuts_a_slow_check_and_the_run_returns_on_time, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &slow, &quick };
	struct run x;

	run_checks(&x, checks, ARRAY_SIZE(checks), NULL, 300);
	cr_expect_eq(report_status(report_of(&x, "slow")), CHECK_ERROR);
	cr_expect_str_eq(report_reason(report_of(&x, "slow")), "deadline");
	cr_expect_eq(report_status(report_of(&x, "quick")), CHECK_PASS);
	cr_expect_null(report_reason(report_of(&x, "quick")));
	cr_expect(x.res.deadline_hit);
	/* the attempt timeout is 5 s: only the deadline can have ended the wait */
	cr_expect_geq(x.elapsed_ms, 300, "took %d ms", x.elapsed_ms);
	cr_expect_lt(x.elapsed_ms, 800, "took %d ms", x.elapsed_ms);
	run_release(&x);
}

Test(runner, run_within_the_deadline_is_not_marked, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &quick, &writer };
	struct run x;

	run_checks(&x, checks, ARRAY_SIZE(checks), NULL, 5000);
	cr_expect_eq(report_status(report_of(&x, "writer")), CHECK_PASS);
	cr_expect_null(report_reason(report_of(&x, "writer")));
	cr_expect_not(x.res.deadline_hit);
	run_release(&x);
}

Test(runner, sections_and_names_are_those_of_the_given_checks)
{
	static const struct check_ops *const checks[] = { &quick, &slow };
	struct conf *conf = conf_new();
	struct runner *r;
	struct error err;
	bool usage;

	cr_assert_eq(conf_load_file(conf, "t.conf", "[quick]\n", &err), 0, "%s", err.msg);
	r = runner_new_checks(checks, ARRAY_SIZE(checks), conf, "slow", &usage, &err);
	cr_expect_not_null(r, "%s", err.msg);
	runner_free(r);
	r = runner_new_checks(checks, ARRAY_SIZE(checks), conf, "spf", &usage, &err);
	cr_expect_null(r);
	cr_expect(usage);
	cr_expect(strstr(err.msg, "unknown check 'spf'") != NULL, "%s", err.msg);
	conf_free(conf);
	conf = conf_new();
	cr_assert_eq(conf_load_file(conf, "t.conf", "[spf]\n", &err), 0, "%s", err.msg);
	r = runner_new_checks(checks, ARRAY_SIZE(checks), conf, NULL, &usage, &err);
	cr_expect_null(r);
	cr_expect_not(usage);
	cr_expect(strstr(err.msg, "unknown section [spf]") != NULL, "%s", err.msg);
	conf_free(conf);
}

/*
 * A check in parts: each part waits (up to 2 s) until every part has
 * started, which only parts running at the same time can see, then asks
 * one slow question; the join reports what the parts saw.
 */

#define NPARTS 3

struct halves {
	atomic_int started;
	int ran[NPARTS];
	bool met[NPARTS];		/* part i saw all parts started */
	bool late;			/* the parts ask a 150 ms question */
	bool cut;			/* part 1 asks a question never answered */
	bool alone;			/* the parts do not wait for each other */
};

static atomic_int joins;

/* [parts] mode = late | cut | alone */
static int
parts_configure(void **ctx, const struct conf *conf, struct error *err)
{
	const struct conf_section *sec = conf_next(conf, NULL, "parts");
	const char *mode = sec != NULL ? conf_section_get(sec, "mode") : NULL;

	(void)err;
	*ctx = mode != NULL ? xstrdup(mode) : NULL;
	return 0;
}

static void *
parts_split(const void *ctx, const struct target *t, struct report *rep, size_t *nparts)
{
	struct halves *h = xcalloc(1, sizeof(*h));

	(void)t;
	(void)rep;
	h->late = ctx != NULL && strcmp(ctx, "late") == 0;
	h->cut = ctx != NULL && strcmp(ctx, "cut") == 0;
	h->alone = ctx != NULL && strcmp(ctx, "alone") == 0;
	*nparts = NPARTS;
	return h;
}

static void
parts_part(const void *ctx, void *state, size_t i, const struct target *t, struct dns *dns)
{
	struct halves *h = state;
	const struct timespec ms = { 0, 1000000 };
	int n;

	(void)ctx;
	(void)t;
	h->ran[i]++;
	atomic_fetch_add(&h->started, 1);
	for (n = 0; n < 2000 && !h->alone && atomic_load(&h->started) < NPARTS; n++)
		nanosleep(&ms, NULL);
	h->met[i] = atomic_load(&h->started) == NPARTS;
	if (h->late)
		wait_on_dns(dns, 150);
	if (h->cut && i == 1)
		dns_result_free(dns_lookup(dns, "timeout.parts.example.test", DNS_T_A));
}

static void
parts_join(const void *ctx, void *state, const struct target *t, struct dns *dns,
    struct report *rep)
{
	struct halves *h = state;
	size_t i;

	(void)ctx;
	(void)t;
	(void)dns;
	atomic_fetch_add(&joins, 1);
	for (i = 0; i < NPARTS; i++)
		report_add(rep, h->met[i] ? "met" : "alone", SEV_INFO,
		    json_pack("{s:i,s:i}", "part", (int)i, "ran", h->ran[i]),
		    "part %zu ran %d time(s)", i, h->ran[i]);
	free(h);
}

static void *
skip_split(const void *ctx, const struct target *t, struct report *rep, size_t *nparts)
{
	(void)ctx;
	(void)t;
	*nparts = NPARTS;
	report_skip(rep, "nothing to split");
	return NULL;
}

static const struct check_ops in_parts = {
	.name = "parts",
	.summary = "three parts that must overlap",
	.configure = parts_configure,
	.split = parts_split,
	.part = parts_part,
	.join = parts_join,
	.free = free,
};

static const struct check_ops skip_parts = {
	.name = "parts",
	.summary = "a check in parts that ends in its split",
	.split = skip_split,
	.part = parts_part,
	.join = parts_join,
};

Test(runner, parts_of_a_check_run_at_the_same_time_then_join, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &in_parts };
	const struct report *rep;
	size_t i;
	struct run x;

	run_checks(&x, checks, 1, "[parts]\nmode = late\n", 10000);
	rep = report_of(&x, "parts");
	cr_expect_eq(atomic_load(&joins), 1);
	cr_assert_eq(report_nfindings(rep), NPARTS);
	for (i = 0; i < NPARTS; i++) {
		const struct finding *f = report_finding(rep, i);

		cr_expect_str_eq(f->code, "met", "part %zu ran while others had not started", i);
		cr_expect_eq(json_integer_value(json_object_get(f->data, "ran")), 1,
		    "part %zu ran more or less than once", i);
	}
	/* three 150 ms questions, one at a time, would take 450 ms */
	cr_expect_lt(x.elapsed_ms, 400, "took %d ms", x.elapsed_ms);
	cr_expect_geq(report_duration_ms(rep), 150);
	run_release(&x);
}

Test(runner, check_in_parts_that_ends_in_its_split_is_not_joined, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &skip_parts };
	struct run x;

	run_checks(&x, checks, 1, NULL, 10000);
	cr_expect_eq(report_status(report_of(&x, "parts")), CHECK_SKIPPED);
	cr_expect_str_eq(report_reason(report_of(&x, "parts")), "nothing to split");
	cr_expect_eq(atomic_load(&joins), 0);
	run_release(&x);
}

Test(runner, deadline_cuts_a_check_in_parts, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &in_parts, &quick };
	struct run x;

	run_checks(&x, checks, 2, "[parts]\nmode = cut\n", 300);
	cr_expect_eq(report_status(report_of(&x, "parts")), CHECK_ERROR);
	cr_expect_str_eq(report_reason(report_of(&x, "parts")), "deadline");
	cr_expect_eq(atomic_load(&joins), 1);
	cr_expect_lt(x.elapsed_ms, 800, "took %d ms", x.elapsed_ms);
	run_release(&x);
}

/* The pool: created once, whatever the number of threads the system grants. */

static atomic_int creations;
static int allowed = 1 << 30;

/* pthread_create for the first `allowed` threads, then EAGAIN as under a process limit. */
static int
limited_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (atomic_fetch_add(&creations, 1) >= allowed)
		return EAGAIN;
	return pthread_create(t, attr, fn, arg);
}

/*
 * runner_start(want) of a runner over `quick` when the system grants only
 * `threads` threads: its return, *got and err.
 */
static int
start_limited(int threads, size_t want, size_t *got, struct error *err)
{
	static const struct check_ops *const checks[] = { &quick };
	struct conf *conf = conf_new();
	struct runner *r;
	bool usage;
	int rc;

	allowed = threads;
	atomic_store(&creations, 0);
	runner_thread_create = limited_create;
	r = runner_new_checks(checks, 1, conf, NULL, &usage, err);
	cr_assert_not_null(r);
	err->msg[0] = '\0';
	rc = runner_start(r, want, got, err);
	runner_free(r);
	conf_free(conf);
	atomic_store(&creations, 0);
	return rc;
}

/* Runs checks (configured by conf_text, may be NULL) on a pool of exactly `workers` threads. */
static void
run_on_pool(struct run *x, const struct check_ops *const *checks, size_t n, const char *conf_text,
    size_t workers, int timeout_ms)
{
	struct error err = { "" };
	size_t got;

	cr_assert_eq(start_limited((int)workers, 8, &got, &err), workers > 0 ? 0 : -1);
	cr_assert_eq(got, workers);
	run_checks(x, checks, n, conf_text, timeout_ms);
}

Test(runner, one_worker_runs_a_check_after_its_peer_without_waiting_on_it, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &reader, &writer, &quick };
	struct run x;

	/* the reader first: a worker that waited for the writer would hold the only thread */
	run_on_pool(&x, checks, ARRAY_SIZE(checks), NULL, 1, 5000);
	cr_expect_not_null(report_find(report_of(&x, "reader"), "peer_finished"));
	cr_expect_eq(report_status(report_of(&x, "quick")), CHECK_PASS);
	cr_expect_not(x.res.deadline_hit);
	cr_expect_lt(x.elapsed_ms, 1500, "took %d ms", x.elapsed_ms);
	run_release(&x);
}

Test(runner, without_any_worker_the_caller_runs_the_checks_in_order, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &reader, &writer, &in_parts };
	struct run x;

	run_on_pool(&x, checks, ARRAY_SIZE(checks), "[parts]\nmode = alone\n", 0, 5000);
	cr_expect_not_null(report_find(report_of(&x, "reader"), "peer_finished"));
	cr_expect_eq(report_nfindings(report_of(&x, "parts")), NPARTS, "every part ran, then the join");
	cr_expect_not(x.res.deadline_hit);
	run_release(&x);
}

Test(runner, deadline_cuts_a_queued_check_when_the_only_worker_is_busy, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &slow, &quick };
	struct run x;

	run_on_pool(&x, checks, ARRAY_SIZE(checks), NULL, 1, 300);
	cr_expect_str_eq(report_reason(report_of(&x, "slow")), "deadline");
	cr_expect_str_eq(report_reason(report_of(&x, "quick")), "deadline");
	cr_expect_null(report_find(report_of(&x, "quick"), "done"),
	    "a check not started by the deadline is not started after it");
	cr_expect(x.res.deadline_hit);
	cr_expect_lt(x.elapsed_ms, 800, "took %d ms", x.elapsed_ms);
	run_release(&x);
}

Test(runner, deadline_cuts_a_waiting_check_without_a_worker, .timeout = 20)
{
	static const struct check_ops *const checks[] = { &reader, &slow };
	static const char *const after_slow[] = { "slow", NULL };
	const struct check_ops waiter = {
		.name = "reader",
		.summary = "waits for the slow check",
		.after = after_slow,
		.run = reader_run,
	};
	const struct check_ops *const with_waiter[] = { &waiter, checks[1] };
	struct run x;

	run_on_pool(&x, with_waiter, ARRAY_SIZE(with_waiter), NULL, 0, 300);
	cr_expect_str_eq(report_reason(report_of(&x, "reader")), "deadline");
	cr_expect_eq(report_nfindings(report_of(&x, "reader")), 0);
	cr_expect_lt(x.elapsed_ms, 800, "took %d ms", x.elapsed_ms);
	run_release(&x);
}

Test(runner, no_thread_at_all_is_an_error_naming_the_limit)
{
	struct error err = { "" };
	size_t got;

	allowed = 0;
	runner_thread_create = limited_create;
	cr_expect_eq(runner_thread_probe(&err), -1);
	cr_expect(strstr(err.msg, "ulimit -u") != NULL, "%s", err.msg);
	cr_expect_eq(start_limited(0, 4, &got, &err), -1);
	cr_expect_eq(got, 0);
	cr_expect(strstr(err.msg, "cannot create a worker thread") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, strerror(EAGAIN)) != NULL, "%s", err.msg);
}

Test(runner, some_threads_are_enough_and_the_shortfall_is_said)
{
	struct error err = { "" };
	size_t got;

	cr_expect_eq(start_limited(3, 10, &got, &err), 0);
	cr_expect_eq(got, 3);
	cr_expect(strstr(err.msg, "3 of 10") != NULL, "%s", err.msg);
}

/* Counts the targets done through runner_submit(). */
struct tally {
	atomic_int done, passed;
};

static void
count_done(void *arg, struct run_result *res)
{
	struct tally *t = arg;

	if (res->nreports == 2 && report_status(res->reports[0]) == CHECK_PASS &&
	    report_find(res->reports[0], "peer_finished") != NULL)
		atomic_fetch_add(&t->passed, 1);
	atomic_fetch_add(&t->done, 1);
}

/*
 * No criterion .timeout here: the loop below is bounded, and a timeout on
 * this test made criterion's own runner leak (48 bytes, under ASan) when
 * tests ran two at a time.
 */
Test(runner, pool_is_created_once_and_runs_many_targets_at_once)
{
	static const struct check_ops *const checks[] = { &reader, &writer };
	struct error err = { "" };
	struct conf *conf = conf_new();
	struct dns_engine *eng = test_engine(test_fault_alone(), 5000, 1);
	struct target t;
	struct runner *r;
	struct tally tally = { 0, 0 };
	int64_t start;
	bool usage;
	int i;

	runner_thread_create = limited_create;
	r = runner_new_checks(checks, 2, conf, NULL, &usage, &err);
	cr_assert_not_null(r);
	cr_assert_eq(runner_start(r, 6, NULL, &err), 0);
	cr_expect_eq(atomic_load(&creations), 6);
	target_init(&t);
	cr_assert_eq(target_set_ip(&t, "--ip", "192.0.2.1", &err), 0);
	start = now_ms();
	/* 40 targets of one 200 ms lookup each: 6 workers wait on 6 of them at a time */
	for (i = 0; i < 40; i++)
		runner_submit(r, eng, &t, 10000, count_done, &tally);
	while (atomic_load(&tally.done) < 40 && now_ms() - start < 20000) {
		runner_expire(r);
		usleep(10000);
	}
	cr_expect_eq(atomic_load(&tally.done), 40);
	cr_expect_eq(atomic_load(&tally.passed), 40, "every reader saw its writer done");
	cr_expect_eq(atomic_load(&creations), 6, "no thread was created per target or check");
	runner_free(r);
	target_release(&t);
	dns_engine_free(eng);
	conf_free(conf);
}

Test(runner, pool_size_grows_with_the_jobs_up_to_its_caps)
{
	static const struct check_ops *const checks[] = { &reader, &writer, &quick };
	struct error err;
	struct conf *conf = conf_new();
	struct runner *r;
	bool usage;
	size_t one, prev = 0, jobs;

	r = runner_new_checks(checks, 3, conf, NULL, &usage, &err);
	cr_assert_not_null(r);
	one = runner_pool_size(r, 1);
	cr_expect_geq(one, 3 + 2, "one target: every check and a split's parts wait at once");
	for (jobs = 1; jobs <= 4096; jobs *= 2) {
		size_t n = runner_pool_size(r, jobs);

		cr_expect_geq(n, prev, "%zu jobs: %zu after %zu", jobs, n, prev);
		cr_expect_leq(n, RUNNER_MAX_WORKERS);
		cr_expect_leq(n, jobs * one);
		prev = n;
	}
	cr_expect_lt(runner_pool_size(r, 256), 256 * 3, "not a thread per check per target");
	runner_free(r);
	conf_free(conf);
}
