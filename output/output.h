/* Renderers: only output/ knows the shape of the JSON document and of the text report. */
#ifndef WHY550_OUTPUT_H
#define WHY550_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "src/runner.h"

#define WHY550_SCHEMA "why550/1"

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
 * The result contract of DESIGN.md as a fresh JSON object. It shares the
 * values of the reports and the verdict (read-only: it must not outlive
 * res), sanitizing only what is not valid UTF-8 yet.
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

#endif
