/* Reports: the findings, status and check-specific data of one check for one target. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/check.h"
#include "checks/report_set.h"

struct report {
	const struct check_ops *ops;
	bool has_status;		/* status below overrides the derived one */
	enum check_status status;
	char *reason;			/* skip or error reason */
	struct finding *findings;
	size_t nfindings;
	size_t capfindings;
	json_t *data;
	int duration_ms;
	const struct report_set *peers;
	size_t ndropped;		/* findings past REPORT_MAX_FINDINGS, not kept */
	size_t marker;			/* index + 1 of the too_many_findings finding */
	json_t *scratch;		/* the data of the last finding not kept */
};

struct report_set {
	struct report **reports;
	size_t n;
};

const char *
check_status_name(enum check_status st)
{
	switch (st) {
	case CHECK_PASS:
		return "pass";
	case CHECK_WARN:
		return "warn";
	case CHECK_FAIL:
		return "fail";
	case CHECK_ERROR:
		return "error";
	case CHECK_SKIPPED:
		return "skipped";
	}
	return "error";
}

const char *
finding_severity_name(enum finding_severity sev)
{
	switch (sev) {
	case SEV_INFO:
		return "info";
	case SEV_WARN:
		return "warn";
	case SEV_FAIL:
		return "fail";
	case SEV_ERROR:
		return "error";
	}
	return "error";
}

static char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return xstrdup("");
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

struct report *
report_new(const struct check_ops *ops)
{
	struct report *rep = xcalloc(1, sizeof(*rep));

	rep->ops = ops;
	rep->data = json_object();
	return rep;
}

void
report_free(struct report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	for (i = 0; i < rep->nfindings; i++) {
		free(rep->findings[i].code);
		free(rep->findings[i].message);
		json_decref(rep->findings[i].data);
	}
	free(rep->findings);
	free(rep->reason);
	json_decref(rep->data);
	json_decref(rep->scratch);
	free(rep);
}

static struct finding *
append(struct report *rep, const char *code, enum finding_severity sev, json_t *data)
{
	struct finding *f;

	if (rep->nfindings == rep->capfindings) {
		rep->capfindings = rep->capfindings ? rep->capfindings * 2 : 4;
		rep->findings = xrealloc(rep->findings,
		    rep->capfindings * sizeof(*rep->findings));
	}
	f = &rep->findings[rep->nfindings++];
	f->code = xstrdup(code);
	f->severity = sev;
	f->message = NULL;
	if (data == NULL)
		data = json_object();
	else if (!json_is_object(data)) {
		/* the contract promises an object; keep a stray value visible */
		json_t *wrap = json_object();

		json_object_set_new(wrap, "value", data);
		data = wrap;
	}
	f->data = data;
	return f;
}

/* True if a finding with code and sev is kept already. */
static bool
kept(const struct report *rep, const char *code, enum finding_severity sev)
{
	size_t i;

	for (i = 0; i < rep->nfindings; i++)
		if (rep->findings[i].severity == sev && strcmp(rep->findings[i].code, code) == 0)
			return true;
	return false;
}

/* Counts a finding not kept in the one too_many_findings finding. */
static void
count_dropped(struct report *rep)
{
	struct finding *f;

	rep->ndropped++;
	if (rep->marker == 0) {
		append(rep, "too_many_findings", SEV_INFO, NULL);
		rep->marker = rep->nfindings;
	}
	f = &rep->findings[rep->marker - 1];
	json_object_set_new(f->data, "limit", json_integer(REPORT_MAX_FINDINGS));
	json_object_set_new(f->data, "dropped", json_integer((json_int_t)rep->ndropped));
	free(f->message);
	f->message = xasprintf("%zu more finding%s like those kept were left out "
	    "(at most %d a check)", rep->ndropped, rep->ndropped == 1 ? "" : "s",
	    REPORT_MAX_FINDINGS);
}

/*
 * Past REPORT_MAX_FINDINGS, a finding is kept only if its code and
 * severity are new: the codes are a fixed vocabulary, so the report stays
 * bounded, and no kind of problem (nor the status it implies) is lost.
 */
json_t *
report_add(struct report *rep, const char *code, enum finding_severity sev,
    json_t *data, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (rep->nfindings - (rep->marker != 0) >= REPORT_MAX_FINDINGS && kept(rep, code, sev)) {
		count_dropped(rep);
		json_decref(rep->scratch);
		rep->scratch = data != NULL ? data : json_object();
		return rep->scratch;
	}
	f = append(rep, code, sev, data);
	va_start(ap, fmt);
	f->message = xvasprintf(fmt, ap);
	va_end(ap);
	return f->data;
}

void
report_skip(struct report *rep, const char *fmt, ...)
{
	va_list ap;

	free(rep->reason);
	va_start(ap, fmt);
	rep->reason = xvasprintf(fmt, ap);
	va_end(ap);
	rep->has_status = true;
	rep->status = CHECK_SKIPPED;
}

void
report_set_status(struct report *rep, enum check_status st)
{
	rep->has_status = true;
	rep->status = st;
}

void
report_set_deadline(struct report *rep)
{
	free(rep->reason);
	rep->reason = xstrdup("deadline");
	rep->has_status = true;
	rep->status = CHECK_ERROR;
}

json_t *
report_data(struct report *rep)
{
	return rep->data;
}

const json_t *
report_data_const(const struct report *rep)
{
	return rep->data;
}

enum check_status
report_status(const struct report *rep)
{
	enum check_status st = CHECK_PASS;
	size_t i;

	if (rep->has_status)
		return rep->status;
	for (i = 0; i < rep->nfindings; i++) {
		switch (rep->findings[i].severity) {
		case SEV_FAIL:
			return CHECK_FAIL;
		case SEV_ERROR:
			st = CHECK_ERROR;
			break;
		case SEV_WARN:
			if (st == CHECK_PASS)
				st = CHECK_WARN;
			break;
		case SEV_INFO:
			break;
		}
	}
	return st;
}

/*
 * A derived error has no reason of its own: the first error finding says
 * what could not be checked, which is what a reader of "reason" wants.
 */
const char *
report_reason(const struct report *rep)
{
	size_t i;

	if (rep->reason != NULL)
		return rep->reason;
	if (report_status(rep) != CHECK_ERROR)
		return NULL;
	for (i = 0; i < rep->nfindings; i++)
		if (rep->findings[i].severity == SEV_ERROR)
			return rep->findings[i].message;
	return NULL;
}

const char *
report_name(const struct report *rep)
{
	return rep->ops != NULL && rep->ops->name != NULL ? rep->ops->name : "";
}

size_t
report_nfindings(const struct report *rep)
{
	return rep->nfindings;
}

const struct finding *
report_finding(const struct report *rep, size_t i)
{
	return i < rep->nfindings ? &rep->findings[i] : NULL;
}

const struct finding *
report_find(const struct report *rep, const char *code)
{
	size_t i;

	for (i = 0; i < rep->nfindings; i++)
		if (strcmp(rep->findings[i].code, code) == 0)
			return &rep->findings[i];
	return NULL;
}

int
report_duration_ms(const struct report *rep)
{
	return rep->duration_ms;
}

void
report_set_duration_ms(struct report *rep, int ms)
{
	rep->duration_ms = ms;
}

static bool
declared(const struct check_ops *ops, const char *name)
{
	const char *const *a;

	if (ops == NULL || ops->after == NULL)
		return false;
	for (a = ops->after; *a != NULL; a++)
		if (strcmp(*a, name) == 0)
			return true;
	return false;
}

/*
 * A check reads only what it declared in ops->after: the runner orders
 * checks by that list, so an undeclared peer may still be running. A
 * skipped peer did not run and is answered NULL like an absent one.
 */
const struct report *
report_peer(const struct report *rep, const char *name)
{
	const struct report_set *set = rep->peers;
	size_t i;

	if (set == NULL || name == NULL || !declared(rep->ops, name))
		return NULL;
	for (i = 0; i < set->n; i++) {
		const struct report *p = set->reports[i];

		if (p == NULL || p == rep || strcmp(report_name(p), name) != 0)
			continue;
		if (report_status(p) == CHECK_SKIPPED)
			return NULL;
		return p;
	}
	return NULL;
}

void
report_set_peers(struct report *rep, const struct report_set *set)
{
	rep->peers = set;
}

struct report_set *
report_set_new(struct report **reports, size_t n)
{
	struct report_set *set = xcalloc(1, sizeof(*set));

	set->reports = xcalloc(n, sizeof(*set->reports));
	if (n > 0)
		memcpy(set->reports, reports, n * sizeof(*reports));
	set->n = n;
	return set;
}

void
report_set_free(struct report_set *set)
{
	if (set == NULL)
		return;
	free(set->reports);
	free(set);
}
