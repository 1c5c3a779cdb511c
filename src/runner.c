/* The runner: picks the checks for a target, runs them as jobs on a fixed pool of workers over one DNS engine, builds the verdict. */
#include "src/runner.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks/report_set.h"
#include "core/textsafe.h"

/* Room in a target's share of the pool for the parts of checks split into parts. */
#define PART_ROOM 4

/* Sections of checks.d that belong to no check. */
static const char *const other_sections[] = {
	"verdict", "psl", "dns",
};

int (*runner_thread_create)(pthread_t *thread, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg) = pthread_create;

struct slot {
	const struct check_ops *ops;
	void *ctx;
	bool enabled;
};

/* A unit of work for a worker: a check (whole, or its split), or one part of it. */
struct task {
	struct task *prev, *next;	/* in the runner's queue */
	struct job *job;
	size_t part;
	bool is_part;
};

enum job_state {
	JOB_SKIPPED,		/* an input is missing: never runs */
	JOB_WAITING,		/* for the checks named in its after */
	JOB_QUEUED,
	JOB_RUNNING,		/* taken by a worker (or its parts are out) */
	JOB_DONE,
};

/* One check for one target. */
struct job {
	struct target_run *run;
	const struct slot *slot;
	struct report *rep;
	enum job_state state;
	struct task task;		/* the check itself */
	void *parts_state;		/* what split() returned */
	struct task *parts;		/* parts 1.. of a split check */
	size_t parts_left;
	int64_t started;
	bool ran;
};

/* One target in flight. */
struct target_run {
	struct runner *r;
	struct target_run *prev, *next;	/* in the runner's list of runs in flight */
	const struct target *t;
	struct dns *dns;
	int64_t start, deadline;
	struct job *jobs;
	size_t njobs, left;		/* left: jobs not done */
	struct report_set *set;
	struct run_result res;
	runner_done_fn *done;		/* NULL: runner_run() waits for finished */
	void *arg;
	bool finished;
};

struct runner {
	struct slot *slots;
	size_t nslots;
	struct verdict_rules *rules;	/* the [verdict] sections, loaded once */

	pthread_mutex_t lock;		/* everything below, and the jobs' states */
	pthread_cond_t work;		/* a task was queued, or the pool stops */
	pthread_cond_t finished;	/* a run of runner_run() finished */
	struct task *head, *tail;	/* tasks ready to run */
	struct target_run *runs;
	pthread_t *threads;
	size_t nthreads;
	bool started, stopping;
};

/* The check called name in checks, or NULL. */
static const struct check_ops *
find_ops(const struct check_ops *const *checks, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(checks[i]->name) == len && strncmp(checks[i]->name, name, len) == 0)
			return checks[i];
	return NULL;
}

static bool
section_known(const struct check_ops *const *checks, size_t n, const char *name)
{
	const char *dot = strchr(name, '.');
	size_t len = dot != NULL ? (size_t)(dot - name) : strlen(name);
	size_t i;

	if (find_ops(checks, n, name, len) != NULL)
		return true;
	for (i = 0; i < ARRAY_SIZE(other_sections); i++)
		if (strcmp(other_sections[i], name) == 0)
			return true;
	return false;
}

static bool
in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n == len && strncmp(p, name, n) == 0)
			return true;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

static int
check_only(const struct check_ops *const *checks, size_t nchecks, const char *only,
    struct error *err)
{
	const char *p = only;

	if (*p == '\0')
		return error_set(err, "--checks: the list is empty");
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n == 0)
			return error_set(err, "--checks: empty name in '%s'", only);
		if (find_ops(checks, nchecks, p, n) == NULL)
			return error_set(err, "--checks: unknown check '%.*s' (see --list-checks)",
			    (int)(n < 63 ? n : 63), p);
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

struct runner *
runner_new(const struct conf *conf, const char *only, bool *usage, struct error *err)
{
	return runner_new_checks(check_registry, check_registry_len, conf, only, usage, err);
}

/* True if following the after lists from check from comes back to check i. */
static bool
in_cycle(const struct check_ops *const *checks, size_t n, size_t i, size_t from, size_t depth)
{
	const char *const *dep;

	if (depth > n)
		return true;
	for (dep = checks[from]->after; dep != NULL && *dep != NULL; dep++) {
		size_t k;

		for (k = 0; k < n; k++)
			if (strcmp(checks[k]->name, *dep) == 0 &&
			    (k == i || in_cycle(checks, n, i, k, depth + 1)))
				return true;
	}
	return false;
}

struct runner *
runner_new_checks(const struct check_ops *const *checks, size_t nchecks,
    const struct conf *conf, const char *only, bool *usage, struct error *err)
{
	struct runner *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t ca;
	size_t i;

	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->finished, &ca);
	pthread_condattr_destroy(&ca);
	*usage = false;
	if (only != NULL && check_only(checks, nchecks, only, err) < 0) {
		*usage = true;
		goto fail;
	}
	for (i = 0; i < conf->nsections; i++) {
		const struct conf_section *sec = &conf->sections[i];

		if (!section_known(checks, nchecks, sec->name)) {
			conf_error(sec, NULL, err, "unknown section [%s]: no check has that name",
			    sec->name);
			goto fail;
		}
	}
	if ((r->rules = verdict_rules_load(conf, err)) == NULL)
		goto fail;
	r->nslots = nchecks;
	r->slots = xcalloc(r->nslots, sizeof(*r->slots));
	for (i = 0; i < r->nslots; i++) {
		/* a check runs one way: whole, or in parts */
		assert((checks[i]->run != NULL) != (checks[i]->split != NULL));
		assert(checks[i]->split == NULL ||
		    (checks[i]->part != NULL && checks[i]->join != NULL));
		/* a cycle of after lists would hold its checks back until the deadline */
		assert(!in_cycle(checks, nchecks, i, i, 0));
		r->slots[i].ops = checks[i];
		r->slots[i].enabled = only == NULL ? !checks[i]->opt_in :
		    in_list(only, checks[i]->name);
	}
	for (i = 0; i < r->nslots; i++) {
		struct slot *s = &r->slots[i];

		if (!s->enabled || s->ops->configure == NULL)
			continue;
		if (s->ops->configure(&s->ctx, conf, err) < 0)
			goto fail;
	}
	return r;
fail:
	runner_free(r);
	return NULL;
}

void
runner_free(struct runner *r)
{
	size_t i;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	assert(r->runs == NULL);
	r->stopping = true;
	pthread_cond_broadcast(&r->work);
	pthread_mutex_unlock(&r->lock);
	for (i = 0; i < r->nthreads; i++)
		pthread_join(r->threads[i], NULL);
	free(r->threads);
	for (i = 0; i < r->nslots; i++)
		if (r->slots[i].ops->free != NULL)
			r->slots[i].ops->free(r->slots[i].ctx);
	free(r->slots);
	verdict_rules_free(r->rules);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->finished);
	free(r);
}

void
runner_describe(struct runner *r, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < r->nslots; i++) {
		const struct slot *s = &r->slots[i];

		strbuf_addf(out, "%-14s %s%s\n", s->ops->name, s->ops->summary,
		    s->enabled ? "" : " (not enabled)");
		if (s->enabled && s->ops->describe != NULL)
			s->ops->describe(s->ctx, out);
	}
}

/* The inputs of mask by their target field names (fresh array). */
static json_t *
inputs_json(unsigned mask)
{
	static const char *const names[] = {
		"ip", "helo", "mail_from", "rcpt_to", "message", "bounce",
	};
	json_t *arr = json_array();
	size_t i;

	/* the bits of enum check_need, in order */
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (mask & (1u << i))
			json_array_append_new(arr, json_string(names[i]));
	return arr;
}

json_t *
runner_describe_json(const struct runner *r)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < r->nslots; i++) {
		const struct slot *s = &r->slots[i];
		struct strbuf sb;
		json_t *settings = NULL;

		strbuf_init(&sb);
		if (s->enabled && s->ops->describe != NULL)
			s->ops->describe(s->ctx, &sb);
		if (s->enabled && s->ops->describe_json != NULL)
			settings = s->ops->describe_json(s->ctx);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:o,s:o,s:o,s:o}",
		    "name", s->ops->name, "summary", s->ops->summary, "enabled", s->enabled,
		    "needs", inputs_json(s->ops->needs), "wants", inputs_json(s->ops->wants),
		    "settings", settings != NULL ? settings : json_null(),
		    "description", json_str(sb.buf != NULL ? sb.buf : "")));
		strbuf_release(&sb);
	}
	return arr;
}

/* The pool. */

size_t
runner_pool_size(const struct runner *r, size_t jobs)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t width = PART_ROOM, n, cap, i;

	for (i = 0; i < r->nslots; i++)
		if (r->slots[i].enabled)
			width++;
	if (cores < 1)
		cores = 1;
	if (jobs < 1)
		jobs = 1;
	if (jobs > RUNNER_MAX_WORKERS)
		jobs = RUNNER_MAX_WORKERS;
	n = jobs * width;
	cap = 2 * jobs + 8 * (size_t)cores;
	if (cap < width)
		cap = width;
	if (n > cap)
		n = cap;
	return n < RUNNER_MAX_WORKERS ? n : RUNNER_MAX_WORKERS;
}

/* The resource that ran out when pthread_create fails with EAGAIN, for the messages. */
#define THREAD_LIMIT "the limit on processes and threads: ulimit -u, or the pids limit of a container"

static void *
nothing(void *arg)
{
	return arg;
}

int
runner_thread_probe(struct error *err)
{
	pthread_t t;
	int rc = runner_thread_create(&t, NULL, nothing, NULL);

	if (rc != 0)
		return error_set(err, "cannot create a thread: %s (%s)", strerror(rc), THREAD_LIMIT);
	pthread_join(t, NULL);
	return 0;
}

static void execute(struct task *task);

/* Queue operations, with the lock held. */

static void
push_back(struct runner *r, struct task *task)
{
	task->next = NULL;
	task->prev = r->tail;
	if (r->tail != NULL)
		r->tail->next = task;
	else
		r->head = task;
	r->tail = task;
	pthread_cond_signal(&r->work);
}

/* Work that continues a target already in flight goes first: it ends that target sooner. */
static void
push_front(struct runner *r, struct task *task)
{
	task->prev = NULL;
	task->next = r->head;
	if (r->head != NULL)
		r->head->prev = task;
	else
		r->tail = task;
	r->head = task;
	pthread_cond_signal(&r->work);
}

/* Takes task out of the queue for the calling thread to execute. */
static struct task *
take(struct runner *r, struct task *task)
{
	if (task->prev != NULL)
		task->prev->next = task->next;
	else
		r->head = task->next;
	if (task->next != NULL)
		task->next->prev = task->prev;
	else
		r->tail = task->prev;
	task->prev = task->next = NULL;
	if (!task->is_part)
		task->job->state = JOB_RUNNING;
	return task;
}

static void *
worker_main(void *arg)
{
	struct runner *r = arg;
	struct task *task;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->head == NULL && !r->stopping)
			pthread_cond_wait(&r->work, &r->lock);
		if (r->head == NULL)
			break;
		task = take(r, r->head);
		pthread_mutex_unlock(&r->lock);
		execute(task);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int
runner_start(struct runner *r, size_t want, size_t *got, struct error *err)
{
	int rc = 0;

	assert(want > 0);
	pthread_mutex_lock(&r->lock);
	if (!r->started) {
		r->started = true;
		r->threads = xcalloc(want, sizeof(*r->threads));
		while (r->nthreads < want &&
		    (rc = runner_thread_create(&r->threads[r->nthreads], NULL, worker_main, r)) == 0)
			r->nthreads++;
		if (r->nthreads == 0)
			error_set(err, "cannot create a worker thread: %s (%s)", strerror(rc),
			    THREAD_LIMIT);
		else if (r->nthreads < want)
			error_set(err, "only %zu of %zu worker threads could be created: %s (%s)",
			    r->nthreads, want, strerror(rc), THREAD_LIMIT);
	}
	if (got != NULL)
		*got = r->nthreads;
	pthread_mutex_unlock(&r->lock);
	return r->nthreads > 0 ? 0 : -1;
}

/* The scheduler. */

static bool
expired(const struct target_run *tr, int64_t now)
{
	return tr->deadline > 0 && now >= tr->deadline;
}

/* Whether every check that j reads has finished (or will never run), with the lock held. */
static bool
deps_done(const struct target_run *tr, const struct job *j)
{
	const char *const *dep;
	size_t i;

	for (dep = j->slot->ops->after; dep != NULL && *dep != NULL; dep++)
		for (i = 0; i < tr->njobs; i++)
			if (strcmp(tr->jobs[i].slot->ops->name, *dep) == 0 &&
			    tr->jobs[i].state != JOB_DONE && tr->jobs[i].state != JOB_SKIPPED)
				return false;
	return true;
}

/* Queues the jobs of tr whose peers are done, with the lock held. */
static void
release_ready(struct runner *r, struct target_run *tr)
{
	size_t i;

	for (i = 0; i < tr->njobs; i++) {
		struct job *j = &tr->jobs[i];

		if (j->state == JOB_WAITING && deps_done(tr, j)) {
			j->state = JOB_QUEUED;
			push_front(r, &j->task);
		}
	}
}

/* The last job of tr is done: the verdict, the counters, then the caller learns of it. */
static void
complete(struct target_run *tr)
{
	struct runner *r = tr->r;
	struct run_result *res = &tr->res;

	verdict_build_rules(&res->verdict, r->rules, tr->t, res->reports, res->nreports);
	dns_counters_get(tr->dns, &res->dns);
	dns_engine_stats(dns_engine_of(tr->dns), NULL, res->servers, DNS_MAX_SERVERS,
	    &res->nservers);
	res->duration_ms = (int)(now_ms() - tr->start);
	report_set_free(tr->set);
	free(tr->jobs);
	dns_free(tr->dns);
	tr->set = NULL;
	tr->jobs = NULL;
	tr->dns = NULL;
	if (tr->done != NULL) {
		tr->done(tr->arg, res);
		run_result_release(res);
		free(tr);
		return;
	}
	pthread_mutex_lock(&r->lock);
	tr->finished = true;
	pthread_cond_broadcast(&r->finished);
	pthread_mutex_unlock(&r->lock);
}

/*
 * j has ended: run to its end, or cut by the deadline before it started.
 * DNS waits end at the deadline, so a check still running then returns
 * soon after it and counts as cut too.
 */
static void
finish_job(struct job *j, bool cut)
{
	struct target_run *tr = j->run;
	struct runner *r = tr->r;
	int64_t now = now_ms();
	bool last;

	if (j->ran)
		report_set_duration_ms(j->rep, (int)(now - j->started));
	cut = cut || expired(tr, now);
	if (cut)
		report_set_deadline(j->rep);
	pthread_mutex_lock(&r->lock);
	if (cut)
		tr->res.deadline_hit = true;
	j->state = JOB_DONE;
	last = --tr->left == 0;
	if (!last) {
		release_ready(r, tr);
	} else {
		/* out of the list before its jobs are freed: runner_expire() walks them */
		if (tr->prev != NULL)
			tr->prev->next = tr->next;
		else
			r->runs = tr->next;
		if (tr->next != NULL)
			tr->next->prev = tr->prev;
	}
	pthread_mutex_unlock(&r->lock);
	if (last)
		complete(tr);
}

/* Part i of a split check; the last part to end runs the join. */
static void
run_part(struct job *j, size_t i)
{
	const struct check_ops *ops = j->slot->ops;
	struct target_run *tr = j->run;
	bool last;

	ops->part(j->slot->ctx, j->parts_state, i, tr->t, tr->dns);
	pthread_mutex_lock(&tr->r->lock);
	last = --j->parts_left == 0;
	pthread_mutex_unlock(&tr->r->lock);
	if (!last)
		return;
	ops->join(j->slot->ctx, j->parts_state, tr->t, tr->dns, j->rep);
	free(j->parts);
	j->parts = NULL;
	finish_job(j, false);
}

/* Queues parts 1..n-1 of j for other workers; the caller runs part 0. */
static void
queue_parts(struct job *j, void *state, size_t n)
{
	struct runner *r = j->run->r;
	size_t i;

	j->parts_state = state;
	j->parts_left = n;
	j->parts = xcalloc(n, sizeof(*j->parts));
	pthread_mutex_lock(&r->lock);
	for (i = 1; i < n; i++) {
		j->parts[i].job = j;
		j->parts[i].part = i;
		j->parts[i].is_part = true;
		push_front(r, &j->parts[i]);
	}
	pthread_mutex_unlock(&r->lock);
}

/*
 * Runs one task on the calling thread. A check not started by its
 * target's deadline is cut without running; a part or a join runs even
 * then (the split state is the check's to free, and DNS answers at once).
 */
static void
execute(struct task *task)
{
	struct job *j = task->job;
	struct target_run *tr = j->run;
	const struct check_ops *ops = j->slot->ops;
	void *state;
	size_t n = 0;

	if (task->is_part) {
		run_part(j, task->part);
		return;
	}
	if (expired(tr, now_ms())) {
		finish_job(j, true);
		return;
	}
	j->started = now_ms();
	j->ran = true;
	if (ops->split == NULL) {
		ops->run(j->slot->ctx, tr->t, tr->dns, j->rep);
		finish_job(j, false);
		return;
	}
	if ((state = ops->split(j->slot->ctx, tr->t, j->rep, &n)) == NULL) {
		finish_job(j, false);
		return;
	}
	assert(n > 0);
	queue_parts(j, state, n);
	run_part(j, 0);
}

/* A run for t: one job per enabled check, skipped when an input is missing. */
static struct target_run *
run_new(struct runner *r, struct dns_engine *eng, const struct target *t, int timeout_ms,
    runner_done_fn *done, void *arg)
{
	struct target_run *tr = xcalloc(1, sizeof(*tr));
	size_t i;

	tr->r = r;
	tr->t = t;
	tr->start = now_ms();
	tr->deadline = timeout_ms > 0 ? tr->start + timeout_ms : 0;
	tr->dns = dns_new(eng, tr->deadline);
	tr->done = done;
	tr->arg = arg;
	tr->res.target = t;
	tr->jobs = xcalloc(r->nslots, sizeof(*tr->jobs));
	tr->res.reports = xcalloc(r->nslots, sizeof(*tr->res.reports));
	for (i = 0; i < r->nslots; i++) {
		const struct slot *s = &r->slots[i];
		const char *missing;
		struct job *j;

		if (!s->enabled)
			continue;
		j = &tr->jobs[tr->njobs++];
		j->run = tr;
		j->slot = s;
		j->rep = report_new(s->ops);
		j->task.job = j;
		j->state = JOB_WAITING;
		tr->res.reports[tr->res.nreports++] = j->rep;
		if ((missing = check_missing_input(s->ops, t)) != NULL) {
			report_skip(j->rep, "needs %s", missing);
			j->state = JOB_SKIPPED;
		} else {
			tr->left++;
		}
	}
	tr->set = report_set_new(tr->res.reports, tr->res.nreports);
	for (i = 0; i < tr->njobs; i++)
		report_set_peers(tr->jobs[i].rep, tr->set);
	return tr;
}

/* Puts tr in flight: its jobs without peers to wait for go to the back of the queue. */
static void
run_queue(struct target_run *tr)
{
	struct runner *r = tr->r;
	bool empty;
	size_t i;

	pthread_mutex_lock(&r->lock);
	empty = tr->left == 0;
	if (!empty) {
		tr->next = r->runs;
		if (r->runs != NULL)
			r->runs->prev = tr;
		r->runs = tr;
		for (i = 0; i < tr->njobs; i++) {
			struct job *j = &tr->jobs[i];

			if (j->state == JOB_WAITING && deps_done(tr, j)) {
				j->state = JOB_QUEUED;
				push_back(r, &j->task);
			}
		}
	}
	pthread_mutex_unlock(&r->lock);
	/* every check skipped: nothing will finish it but this */
	if (empty)
		complete(tr);
}

static void
ensure_started(struct runner *r)
{
	struct error err;
	bool started;

	pthread_mutex_lock(&r->lock);
	started = r->started;
	pthread_mutex_unlock(&r->lock);
	/* without a worker runner_run() runs the jobs itself, so a failure here stops nothing */
	if (!started)
		(void)runner_start(r, runner_pool_size(r, 1), NULL, &err);
}

void
runner_submit(struct runner *r, struct dns_engine *eng, const struct target *t,
    int timeout_ms, runner_done_fn *done, void *arg)
{
	assert(done != NULL);
	ensure_started(r);
	run_queue(run_new(r, eng, t, timeout_ms, done, arg));
}

/* A task of a target past its deadline that nobody has taken, taken; NULL if none. */
static struct task *
take_expired(struct runner *r, int64_t now)
{
	struct target_run *tr;
	struct task *task;
	size_t i;

	for (task = r->head; task != NULL; task = task->next)
		if (expired(task->job->run, now))
			return take(r, task);
	for (tr = r->runs; tr != NULL; tr = tr->next) {
		if (!expired(tr, now))
			continue;
		for (i = 0; i < tr->njobs; i++)
			if (tr->jobs[i].state == JOB_WAITING) {
				tr->jobs[i].state = JOB_RUNNING;
				return &tr->jobs[i].task;
			}
	}
	return NULL;
}

void
runner_expire(struct runner *r)
{
	int64_t now = now_ms();
	struct task *task;

	pthread_mutex_lock(&r->lock);
	while ((task = take_expired(r, now)) != NULL) {
		pthread_mutex_unlock(&r->lock);
		execute(task);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
}

/* A queued task of tr, taken; NULL if none. */
static struct task *
take_own(struct runner *r, const struct target_run *tr)
{
	struct task *task;

	for (task = r->head; task != NULL; task = task->next)
		if (task->job->run == tr)
			return take(r, task);
	return NULL;
}

/* Waits on the finished condition until the absolute now_ms() time until. */
static void
wait_finished(struct runner *r, int64_t until)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(until / 1000);
	ts.tv_nsec = (long)(until % 1000) * 1000000;
	pthread_cond_timedwait(&r->finished, &r->lock, &ts);
}

void
runner_run(struct runner *r, struct dns_engine *eng, const struct target *t,
    int timeout_ms, struct run_result *out)
{
	struct target_run *tr;
	struct task *task;

	ensure_started(r);
	tr = run_new(r, eng, t, timeout_ms, NULL, NULL);
	run_queue(tr);
	pthread_mutex_lock(&r->lock);
	while (!tr->finished) {
		if (r->nthreads == 0 && (task = take_own(r, tr)) != NULL) {
			pthread_mutex_unlock(&r->lock);
			execute(task);
			pthread_mutex_lock(&r->lock);
		} else if (tr->deadline == 0) {
			pthread_cond_wait(&r->finished, &r->lock);
		} else if (!expired(tr, now_ms())) {
			wait_finished(r, tr->deadline);
		} else {
			pthread_mutex_unlock(&r->lock);
			runner_expire(r);
			pthread_mutex_lock(&r->lock);
			if (!tr->finished)
				wait_finished(r, now_ms() + 50);
		}
	}
	pthread_mutex_unlock(&r->lock);
	*out = tr->res;
	free(tr);
}

void
run_result_release(struct run_result *res)
{
	size_t i;

	for (i = 0; i < res->nreports; i++)
		report_free(res->reports[i]);
	free(res->reports);
	verdict_release(&res->verdict);
	memset(res, 0, sizeof(*res));
}
