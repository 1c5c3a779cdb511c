/* Renderers: only output/ knows the shape of the JSON document, the text report and the CI and metrics formats. */
#ifndef WHY550_OUTPUT_H
#define WHY550_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/util.h"
#include "src/gate.h"
#include "src/runner.h"

#define WHY550_SCHEMA "why550/1"

/* Bytes of one string in the document; a longer one is cut, ending "... (N bytes)". */
#define OUTPUT_STRING_MAX 8192

/* How much of a target's result the JSON output carries. */
enum output_detail {
	OUTPUT_FULL = 0,	/* the whole document of DESIGN.md: every check, finding, DNS counter */
	OUTPUT_SUMMARY,		/* one compact line for dashboards and large batches */
};

/* "full", "summary". */
const char *output_detail_name(enum output_detail d);
/* 0 with *out set when s names a detail; -1 otherwise. */
int output_detail_parse(const char *s, enum output_detail *out);

/*
 * The result contract of DESIGN.md as a fresh JSON object, stamped with
 * the version and the time now. It shares the values of the reports and
 * the verdict (read-only: it must not outlive res), sanitizing only what
 * is not valid UTF-8 yet.
 */
json_t *output_json_document(const struct run_result *res);

/*
 * The summary of the same result (fresh object): "schema", "detail":
 * "summary", "target" (the inputs given), "verdict" with "status" and the
 * ranked "causes" as code and confidence, "check_status" (each check's
 * name to its status), "listed" (the zones of the blocklists that list the
 * target, each once) and "duration_ms". Its verdict is the full
 * document's.
 */
json_t *output_json_summary(const struct run_result *res);

/*
 * Writes the document of that detail: pretty (indented) or one line
 * (NDJSON). -1 on write error.
 */
int output_json_write(FILE *fp, const struct run_result *res, bool one_line,
    enum output_detail detail);

struct text_options {
	bool color;		/* ANSI colour: only on a terminal and without NO_COLOR */
	bool verbose;		/* every finding and its data */
	int width;		/* columns, 80 by default */
};

/* Writes the text report a person reads. -1 on write error. */
int output_text_write(FILE *fp, const struct run_result *res, const struct text_options *opt);

/*
 * Batch mode: the document on one line with "line" (the input line number)
 * added; or, for a line that is not a valid target, an error line
 * {"schema", "line", "error": {"code": "bad_input", "message"}}. Fresh strings
 * without the final newline.
 */
char *output_ndjson_line(const struct run_result *res, long line);
/* The summary (output_json_summary) on one line, with "line". */
char *output_ndjson_summary(const struct run_result *res, long line);
char *output_ndjson_error(long line, const char *msg);
/* The error line of a line whose target was still running when the run was stopped: code "interrupted". */
char *output_ndjson_interrupted(long line, const char *msg);

enum output_format {
	OUTPUT_JSON = 0,	/* one document; one NDJSON line per target in batch mode */
	OUTPUT_TEXT,		/* the report a person reads (one target only) */
	OUTPUT_JUNIT,		/* JUnit XML: a testsuite per target, a testcase per check */
	OUTPUT_GITHUB,		/* GitHub Actions workflow commands, and a job summary */
	OUTPUT_OPENMETRICS,	/* OpenMetrics / Prometheus text for node_exporter's textfile collector */
};

/* "json", "text", "junit", "github", "openmetrics"; "json" out of range. Static. */
const char *output_format_name(enum output_format f);
/* 0 with *out set when s names a format; -1 (*out untouched) for anything else, NULL included. */
int output_format_parse(const char *s, enum output_format *out);

struct output_options {
	enum output_format format;
	enum fail_on fail_on;	/* the gate: what makes a JUnit failure, a GitHub error */
	bool batch;		/* many targets (NDJSON for json); else exactly one */
	struct text_options text;
	enum output_detail detail;	/* json: the full document or the summary */
	/*
	 * github: the job summary file to append Markdown to (the value of
	 * GITHUB_STEP_SUMMARY), or NULL for none.
	 */
	const char *summary_path;
};

/*
 * A stream writes the results of one run, one target or a batch, in one
 * format to one output. Results are rendered into items on any thread, at
 * the same time (output_stream_render), and handed to the stream in input
 * order (output_stream_put); output_stream_finish completes the document.
 * Formats that are one document over every target (JUnit, OpenMetrics)
 * keep what was put in temporary files (memory for one target) and write
 * the whole document at finish, so memory stays bounded and a run that
 * stops early prints no half document; line formats (NDJSON, GitHub
 * commands) write each item when it is put.
 */
struct output_stream;
/* One target's rendering (or one bad input line's), not yet put. */
struct output_item;

/*
 * A stream writing to out (borrowed, usually stdout). NULL with err when a
 * temporary file cannot be made.
 */
struct output_stream *output_stream_new(const struct output_options *opt, FILE *out,
    struct error *err);
/* Frees the stream without writing anything more. NULL is a no-op. */
void output_stream_free(struct output_stream *s);

/*
 * Renders the result of the target on input line (0 outside batch mode).
 * Thread-safe: reads s, never writes it. Never NULL.
 */
struct output_item *output_stream_render(const struct output_stream *s,
    const struct run_result *res, long line);
/* Renders an input line that was not a valid target (batch mode), msg saying why. Never NULL. */
struct output_item *output_stream_render_error(const struct output_stream *s, long line,
    const char *msg);
/*
 * Renders an input line whose target was still running when a batch was
 * stopped at once, msg saying so: NDJSON's "interrupted" error line; the
 * formats without such an entry give their error entry. Never NULL.
 */
struct output_item *output_stream_render_interrupted(const struct output_stream *s, long line,
    const char *msg);
void output_item_free(struct output_item *it);

/*
 * Hands over it (freed here) in input order: line formats write it now.
 * A write error is remembered and reported by output_stream_finish. For
 * OpenMetrics a target whose label repeats an earlier one's is left out
 * (its series would be duplicates), with a warning on standard error.
 */
void output_stream_put(struct output_stream *s, struct output_item *it);

/*
 * Writes what the format writes last (the whole JUnit or OpenMetrics
 * document, the GitHub job summary) and flushes. -1 with err naming the
 * output when any write of the stream failed.
 */
int output_stream_finish(struct output_stream *s, struct error *err);

#endif
