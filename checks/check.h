/*
 * The check interface. A check is a small module that exports one
 * const struct check_ops; the registry lists them. A check reads its
 * checks.d sections once (configure), then runs for a target (run):
 * it asks DNS only through the struct dns session it is given, never
 * prints, never exits, and records what it saw as findings in its report.
 */
#ifndef WHY550_CHECK_H
#define WHY550_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "dns/dns.h"
#include "core/conf.h"
#include "core/target.h"
#include "core/util.h"

/* Inputs a check needs; the runner skips a check whose inputs are absent. */
enum check_need {
	NEED_IP = 1u << 0,
	NEED_HELO = 1u << 1,
	NEED_MAIL_FROM = 1u << 2,
	NEED_RCPT_TO = 1u << 3,
	NEED_MESSAGE = 1u << 4,
	NEED_BOUNCE = 1u << 5,
};

enum check_status {
	CHECK_PASS = 0,
	CHECK_WARN,
	CHECK_FAIL,
	CHECK_ERROR,
	CHECK_SKIPPED,
};

/* "pass", "warn", "fail", "error", "skipped". */
const char *check_status_name(enum check_status st);

enum finding_severity {
	SEV_INFO = 0,		/* worth knowing, not a problem */
	SEV_WARN,		/* receivers may punish this */
	SEV_FAIL,		/* receivers reject for this */
	SEV_ERROR,		/* could not check: DNS failure, deadline */
};

/* "info", "warn", "fail", "error". */
const char *finding_severity_name(enum finding_severity sev);

struct finding {
	char *code;		/* stable snake_case code, e.g. "ptr_missing" */
	enum finding_severity severity;
	char *message;		/* one sentence for a person */
	json_t *data;		/* object with the evidence; never NULL */
};

struct report;

struct check_ops {
	const char *name;		/* the name in checks.d, --checks and JSON */
	const char *summary;		/* one line for --list-checks */
	unsigned needs;			/* all of these inputs must be present */
	unsigned wants;			/* any of these is enough (0: ignore) */
	const char *const *after;	/* NULL-terminated names of checks whose reports it reads */
	bool opt_in;			/* runs only when named (--checks, --probe): it acts */
	/*
	 * Reads the check's sections of conf into a fresh *ctx. -1 with err
	 * ("file:line: ...") on bad configuration. May be NULL.
	 */
	int (*configure)(void **ctx, const struct conf *conf, struct error *err);
	/*
	 * Runs for one target; cannot fail: problems become findings. Thread-safe on ctx.
	 * A check sets either run, or split, part and join below.
	 */
	void (*run)(const void *ctx, const struct target *t, struct dns *dns, struct report *rep);
	/*
	 * A run in independent parts (the MAIL FROM and HELO identities of
	 * SPF), which the runner runs at once and then lets the check combine.
	 *
	 * split() prepares the run for t and returns its state (the check's
	 * own type) with *nparts, at least 1, set; or NULL when the run ends
	 * there, its report already saying why (report_skip).
	 * part() is called once for each i below *nparts, on threads of the
	 * runner's choosing, in any order, at the same time. A part is a job
	 * on its own: it reads ctx and t, may block on DNS through dns, writes
	 * only what belongs to part i in state, and never touches the report.
	 * join() runs when every part has returned: it writes the report
	 * (it may ask DNS too) and frees state.
	 * Cannot fail, as run.
	 */
	void *(*split)(const void *ctx, const struct target *t, struct report *rep,
	    size_t *nparts);
	void (*part)(const void *ctx, void *state, size_t i, const struct target *t,
	    struct dns *dns);
	void (*join)(const void *ctx, void *state, const struct target *t, struct dns *dns,
	    struct report *rep);
	/* Optional: prints its configuration for --list-checks (checks print nothing else). */
	void (*describe)(const void *ctx, struct strbuf *out);
	/* Optional: the same as a fresh JSON object, for --list-checks --format json. */
	json_t *(*describe_json)(const void *ctx);
	void (*free)(void *ctx);
};

/* The registry: every check, in run and report order. */
extern const struct check_ops *const check_registry[];
extern const size_t check_registry_len;
/* The check called name, or NULL. */
const struct check_ops *check_find(const char *name);
/* The inputs t holds, as enum check_need bits. */
unsigned check_target_inputs(const struct target *t);
/* The command-line option that gives one input ("--ip" for NEED_IP); NULL for no single input. */
const char *check_need_option(unsigned need);
/*
 * The option of the first input that ops needs and t lacks, else of its
 * wanted inputs when t has none of them; NULL when ops can run on t.
 */
const char *check_missing_input(const struct check_ops *ops, const struct target *t);

/* Reports: what one check found for one target. */

struct report *report_new(const struct check_ops *ops);
void report_free(struct report *rep);

/* Findings one report keeps, beyond those of a code and severity not seen yet. */
#define REPORT_MAX_FINDINGS 100

/*
 * Adds a finding; data (may be NULL) is stolen. Returns the finding's data
 * object so callers can add more. Past REPORT_MAX_FINDINGS findings, one
 * whose code and severity the report holds already is not kept: it is
 * counted in one info finding "too_many_findings" (data: limit, dropped),
 * and the object returned is the report's until the next call.
 */
json_t *report_add(struct report *rep, const char *code, enum finding_severity sev,
    json_t *data, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Marks the check skipped with a reason (its findings are kept). */
void report_skip(struct report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Overrides the status derived from the findings (fail > error > warn > pass). */
void report_set_status(struct report *rep, enum check_status st);
/* Marks the check as cut by the target deadline: status error, reason "deadline". */
void report_set_deadline(struct report *rep);

/* Check-specific fields of the check's JSON object ("result", "lists", ...). */
json_t *report_data(struct report *rep);
const json_t *report_data_const(const struct report *rep);

enum check_status report_status(const struct report *rep);
const char *report_reason(const struct report *rep);	/* skip / error reason or NULL */
const char *report_name(const struct report *rep);
size_t report_nfindings(const struct report *rep);
const struct finding *report_finding(const struct report *rep, size_t i);
/* The first finding with code, or NULL. */
const struct finding *report_find(const struct report *rep, const char *code);
int report_duration_ms(const struct report *rep);
void report_set_duration_ms(struct report *rep, int ms);

/*
 * The finished report of another check of the same target, listed in this
 * check's ops->after; NULL when that check did not run.
 */
const struct report *report_peer(const struct report *rep, const char *name);
/* Used by the runner: where report_peer() looks. */
struct report_set;
void report_set_peers(struct report *rep, const struct report_set *set);

#endif
