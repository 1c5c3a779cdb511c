/* Batch mode: NDJSON targets in, one NDJSON result line out per input line, in input order. */
#ifndef WHY550_BATCH_H
#define WHY550_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "output/output.h"
#include "src/runner.h"

struct batch_options {
	const char *path;	/* file, or "-" for standard input */
	size_t jobs;		/* targets in flight at once */
	int timeout_ms;		/* deadline per target */
	bool fail_on_at_risk;
	bool progress;		/* show progress on stderr */
	enum output_detail detail;	/* what each result line carries */
};

/*
 * Runs every line of opt->path through r and writes one line per input
 * line to standard output, in input order. Memory stays bounded: at most
 * a few times opt->jobs results wait for their turn. Returns the exit code:
 * 64 if the file cannot be read or any line was not a valid target, else
 * the worst of the targets' codes (2 blocked, then 3 inconclusive, then 1).
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
