/* The runner: picks the checks for a target, runs them concurrently over one DNS engine, builds the verdict. */
#include "src/runner.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks/report_set.h"
#include "core/textsafe.h"

/* Sections of checks.d that belong to no check. */
static const char *const other_sections[] = {
	"verdict", "psl", "dns",
};

struct slot {
	const struct check_ops *ops;
	void *ctx;
	bool enabled;
};

struct runner {
	struct slot *slots;
	size_t nslots;
	struct verdict_rules *rules;	/* the [verdict] sections, loaded once */
};

/* One check running for one target. */
struct job {
	struct slot *slot;
	struct report *rep;
	const struct target *target;
	struct dns *dns;
	struct run_state *st;
	pthread_t thread;
	bool started;
	bool done;
	int64_t finished;
};

/* One part of a check split into parts (check_ops.split). */
struct part {
	const struct job *job;
	void *state;
	size_t i;
	pthread_t thread;
	bool threaded;
};

struct run_state {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *jobs;
	size_t njobs;
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

struct runner *
runner_new_checks(const struct check_ops *const *checks, size_t nchecks,
    const struct conf *conf, const char *only, bool *usage, struct error *err)
{
	struct runner *r = xcalloc(1, sizeof(*r));
	size_t i;

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
	for (i = 0; i < r->nslots; i++)
		if (r->slots[i].ops->free != NULL)
			r->slots[i].ops->free(r->slots[i].ctx);
	free(r->slots);
	verdict_rules_free(r->rules);
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

static struct job *
find_job(struct run_state *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->njobs; i++)
		if (strcmp(st->jobs[i].slot->ops->name, name) == 0)
			return &st->jobs[i];
	return NULL;
}

static void *
part_main(void *arg)
{
	struct part *p = arg;
	const struct slot *s = p->job->slot;

	s->ops->part(s->ctx, p->state, p->i, p->job->target, p->job->dns);
	return NULL;
}

/*
 * Runs the n parts of a check at once: part 0 on the check's own thread,
 * the others on threads of their own, so that their DNS waits overlap.
 * Each part is a self-contained call, ready for a pool of workers.
 */
static void
run_parts(const struct job *j, void *state, size_t n)
{
	struct part *parts = xcalloc(n, sizeof(*parts));
	size_t i;

	for (i = 0; i < n; i++) {
		parts[i].job = j;
		parts[i].state = state;
		parts[i].i = i;
	}
	for (i = 1; i < n; i++)
		parts[i].threaded = pthread_create(&parts[i].thread, NULL, part_main,
		    &parts[i]) == 0;
	part_main(&parts[0]);
	for (i = 1; i < n; i++) {
		if (parts[i].threaded)
			pthread_join(parts[i].thread, NULL);
		else
			/* no thread to spare: the part runs late, but it runs */
			part_main(&parts[i]);
	}
	free(parts);
}

/* One check for one target: whole, or split, its parts, joined. */
static void
run_check(const struct job *j)
{
	const struct check_ops *ops = j->slot->ops;
	void *state;
	size_t n = 0;

	if (ops->split == NULL) {
		ops->run(j->slot->ctx, j->target, j->dns, j->rep);
		return;
	}
	if ((state = ops->split(j->slot->ctx, j->target, j->rep, &n)) == NULL)
		return;
	assert(n > 0);
	run_parts(j, state, n);
	ops->join(j->slot->ctx, state, j->target, j->dns, j->rep);
}

static void *
job_main(void *arg)
{
	struct job *j = arg;
	const char *const *dep;
	int64_t start;

	/* wait for the checks whose reports this one reads */
	pthread_mutex_lock(&j->st->lock);
	for (dep = j->slot->ops->after; dep != NULL && *dep != NULL; dep++) {
		struct job *d = find_job(j->st, *dep);

		while (d != NULL && d->started && !d->done)
			pthread_cond_wait(&j->st->cond, &j->st->lock);
	}
	pthread_mutex_unlock(&j->st->lock);

	start = now_ms();
	run_check(j);
	report_set_duration_ms(j->rep, (int)(now_ms() - start));

	pthread_mutex_lock(&j->st->lock);
	j->done = true;
	j->finished = now_ms();
	pthread_cond_broadcast(&j->st->cond);
	pthread_mutex_unlock(&j->st->lock);
	return NULL;
}

/* One job per enabled check, its report in out (skipped when an input is missing). */
static void
plan_jobs(struct runner *r, const struct target *t, struct dns *dns, struct run_state *st,
    struct run_result *out)
{
	size_t i;

	st->jobs = xcalloc(r->nslots, sizeof(*st->jobs));
	st->njobs = 0;
	out->reports = xcalloc(r->nslots, sizeof(*out->reports));
	for (i = 0; i < r->nslots; i++) {
		struct slot *s = &r->slots[i];
		struct job *j;
		const char *missing;

		if (!s->enabled)
			continue;
		j = &st->jobs[st->njobs++];
		j->slot = s;
		j->rep = report_new(s->ops);
		j->target = t;
		j->dns = dns;
		j->st = st;
		out->reports[out->nreports++] = j->rep;
		missing = check_missing_input(s->ops, t);
		if (missing != NULL)
			report_skip(j->rep, "needs %s", missing);
	}
}

/* Starts every job that is not skipped, each on a thread of its own. */
static void
start_jobs(struct run_state *st)
{
	size_t i;

	/* mark first, start second: a check waits only on checks that will run */
	pthread_mutex_lock(&st->lock);
	for (i = 0; i < st->njobs; i++)
		st->jobs[i].started = report_status(st->jobs[i].rep) != CHECK_SKIPPED;
	pthread_mutex_unlock(&st->lock);
	for (i = 0; i < st->njobs; i++) {
		struct job *j = &st->jobs[i];

		if (!j->started)
			continue;
		if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
			/* no thread to spare: run it here, still within the deadline */
			job_main(j);
			j->started = false;
		}
	}
}

/* Waits for every job; marks those that ended at or after the deadline. */
static void
finish_jobs(struct run_state *st, int64_t deadline, struct run_result *out)
{
	size_t i;

	for (i = 0; i < st->njobs; i++) {
		struct job *j = &st->jobs[i];

		if (j->started)
			pthread_join(j->thread, NULL);
		if (report_status(j->rep) == CHECK_SKIPPED)
			continue;
		/* DNS waits end at the deadline, so a check cut by it returns soon after */
		if (deadline > 0 && j->finished >= deadline) {
			report_set_deadline(j->rep);
			out->deadline_hit = true;
		}
	}
}

void
runner_run(struct runner *r, struct dns_engine *eng, const struct target *t,
    int timeout_ms, struct run_result *out)
{
	int64_t start = now_ms();
	int64_t deadline = timeout_ms > 0 ? start + timeout_ms : 0;
	struct run_state st;
	struct report_set *set;
	struct dns *dns;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->target = t;
	dns = dns_new(eng, deadline);
	pthread_mutex_init(&st.lock, NULL);
	pthread_cond_init(&st.cond, NULL);
	plan_jobs(r, t, dns, &st, out);
	set = report_set_new(out->reports, out->nreports);
	for (i = 0; i < st.njobs; i++)
		report_set_peers(st.jobs[i].rep, set);
	start_jobs(&st);
	finish_jobs(&st, deadline, out);

	verdict_build_rules(&out->verdict, r->rules, t, out->reports, out->nreports);
	dns_counters_get(dns, &out->dns);
	dns_engine_stats(eng, NULL, out->servers, DNS_MAX_SERVERS, &out->nservers);
	out->duration_ms = (int)(now_ms() - start);

	report_set_free(set);
	free(st.jobs);
	pthread_mutex_destroy(&st.lock);
	pthread_cond_destroy(&st.cond);
	dns_free(dns);
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
