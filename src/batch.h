/* Batch mode: NDJSON targets in, one NDJSON result line out per input line, in input order; stoppable, resumable, shardable. */
#ifndef WHY550_BATCH_H
#define WHY550_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "output/output.h"
#include "src/gate.h"
#include "src/runner.h"

/* The longest input line read as a target; a longer one is a bad_input line. */
#define BATCH_LINE_MAX ((size_t)4 << 20)

struct batch_options {
	const char *path;	/* file, or "-" for standard input */
	size_t jobs;		/* targets in flight at once */
	int timeout_ms;		/* deadline per target */
	enum fail_on fail_on;	/* the gate (src/gate.h) */
	bool strict_input;	/* any invalid line exits 64 */
	bool progress;		/* show progress on stderr */
	/*
	 * Where results go, in input order; NULL: NDJSON on standard output
	 * (with resume: on that file). Borrowed.
	 */
	struct output_stream *out;
	const char *resume;	/* an earlier NDJSON output to complete, and the output */
	enum output_detail detail;	/* with resume: what each appended line carries */
	unsigned long shard;	/* take the lines n with (n - 1) % nshards == shard */
	unsigned long nshards;	/* 0 or 1: every line */
	size_t max_line;	/* 0: BATCH_LINE_MAX */
};

/*
 * Runs the lines of opt->path through r: one result per input line taken
 * (every line, or those of the shard, less those the resumed output
 * answers), handed to the output in input order, each whole. Memory stays
 * bounded: at most opt->jobs targets run at once and at most 4 * opt->jobs
 * finished results wait for their turn; an input line over the cap is
 * never held whole. A line that is not a valid target gets its error
 * result and is named on standard error (the first few; the number of
 * such lines is said at the end).
 *
 * Starts r's workers (runner_pool_size(r, opt->jobs)) if main did not.
 * SIGINT, SIGTERM and SIGHUP stop the reading; the targets in flight
 * finish (within their deadline) and are written. A second signal stops
 * the waiting: every line read and not yet written is written at once,
 * finished or as an "interrupted" error line; a third ends the writing
 * after the line being written. No signal cuts a line.
 *
 * With opt->resume (and opt->out NULL), that file is read first (a last
 * line without its newline is cut off the file); the input lines it
 * answers are skipped, the new lines are appended to it, and nothing goes
 * to standard output. A line it marks "interrupted" is asked again; the
 * others count in the exit code.
 *
 * Returns the exit code: 64 if the input or the resumed file cannot be
 * opened or read as such, 71 if no worker thread can be created, 74 if a
 * write (or a read after the start) fails, 128 + the signal after a
 * signal; else 64 when lines were invalid and none was valid (with
 * opt->strict_input: when any was invalid); else that of the worst
 * verdict over the valid lines under opt->fail_on (src/gate.h). Problems
 * are printed on stderr. *abandoned is set when a second signal left
 * targets running on r's workers: the caller must then exit without
 * freeing r or the engine (_exit).
 */
int batch_run(struct runner *r, struct dns_engine *eng, const struct batch_options *opt,
    bool *abandoned);

/*
 * Parses one NDJSON line into t (initialised by the caller): an object
 * with "ip", "helo", "mail_from" (or "from"), "rcpt_to" (or "to"),
 * "message" (a path), "bounce", "selectors" (array). -1 with err naming
 * the field.
 */
int batch_parse_line(const char *line, size_t len, struct target *t, struct error *err);

/* Parses --shard "I/N": 0 <= I < N. -1 with err naming the option. */
int batch_parse_shard(const char *arg, unsigned long *shard, unsigned long *nshards,
    struct error *err);

enum batch_answer_kind {
	BATCH_ANSWER_RESULT,		/* a result document */
	BATCH_ANSWER_BAD_INPUT,		/* error line: the input line was not a target */
	BATCH_ANSWER_INTERRUPTED,	/* error line: the run stopped before it finished */
	BATCH_ANSWER_ERROR,		/* an error line of another code */
};

/* One line of an earlier output, as --resume reads it. */
struct batch_answer {
	long line;			/* the input line it answers, >= 1 */
	enum batch_answer_kind kind;
	bool has_status;		/* a result with a verdict status */
	enum verdict_status status;
};

/*
 * Reads one line of an earlier batch output (text without its newline):
 * a JSON object whose "schema" is "why550/..." and whose "line" is a
 * positive integer, with "error" {"code"} or "verdict" {"status"}. Only
 * the top level and those members are looked at. -1 with why when the
 * text is not such a line. No I/O, no allocation.
 */
int batch_scan_answer(const char *text, size_t len, struct batch_answer *out, char *why,
    size_t whylen);

#endif
