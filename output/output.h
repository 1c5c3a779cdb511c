/* Renderers: only output/ knows the shape of the JSON document and of the text report. */
#ifndef WHY550_OUTPUT_H
#define WHY550_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "src/runner.h"

#define WHY550_SCHEMA "why550/1"

/* The result contract of DESIGN.md as a fresh JSON object. */
json_t *output_json_document(const struct run_result *res);

/* Writes the document: pretty (indented) or one line (NDJSON). -1 on write error. */
int output_json_write(FILE *fp, const struct run_result *res, bool one_line);

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
char *output_ndjson_error(long line, const char *msg);
/* The error line of a line whose target was still running when the run was stopped: code "interrupted". */
char *output_ndjson_interrupted(long line, const char *msg);

#endif
