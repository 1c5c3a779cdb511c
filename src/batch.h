/* Batch mode: NDJSON targets in, one NDJSON result line out per input line, in input order. */
#ifndef WHY550_BATCH_H
#define WHY550_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "output/output.h"
#include "src/gate.h"
#include "src/runner.h"

struct batch_options {
	const char *path;	/* file, or "-" for standard input */
	size_t jobs;		/* targets in flight at once */
	int timeout_ms;		/* deadline per target */
	enum fail_on fail_on;	/* the gate (src/gate.h) */
	bool strict_input;	/* any invalid line exits 64 */
	bool progress;		/* show progress on stderr */
	struct output_stream *out;	/* where results go; NULL: NDJSON on standard output */
};

/*
 * Runs every line of opt->path through r and hands one result per input
 * line to opt->out, in input order. Memory stays bounded: at most a few
 * times opt->jobs results wait for their turn. A line that is not a valid
 * target gets its error result, is named on standard error, and the
 * number of such lines is said there at the end. Returns the exit code:
 * 64 if the file cannot be read, or when lines were invalid and none was
 * valid (with opt->strict_input: when any was invalid); 74 when the output
 * could not be written; else that of the worst verdict over the valid
 * lines under opt->fail_on (src/gate.h).
 */
int batch_run(struct runner *r, struct dns_engine *eng, const struct batch_options *opt);

/*
 * Parses one NDJSON line into t (initialised by the caller): an object
 * with "ip", "helo", "mail_from" (or "from"), "rcpt_to" (or "to"),
 * "message" (a path), "bounce", "selectors" (array). -1 with err naming
 * the field.
 */
int batch_parse_line(const char *line, size_t len, struct target *t, struct error *err);

#endif
