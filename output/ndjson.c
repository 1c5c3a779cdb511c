/* NDJSON lines for batch mode: the result document on one line, or an error line for input that was not a target. */
#include <stdlib.h>

#include "output/output.h"
#include "core/textsafe.h"

/* doc (stolen) with "line" added, on one line. */
static char *
line_of(json_t *doc, long line)
{
	char *s;

	json_object_set_new(doc, "line", json_integer(line));
	s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return s;
}

char *
output_ndjson_line(const struct run_result *res, long line)
{
	return line_of(output_json_document(res), line);
}

char *
output_ndjson_summary(const struct run_result *res, long line)
{
	return line_of(output_json_summary(res), line);
}

static char *
error_line(long line, const char *code, const char *msg)
{
	json_t *doc = json_pack("{s:s,s:I,s:{s:s,s:o}}", "schema", WHY550_SCHEMA,
	    "line", (json_int_t)line, "error", "code", code, "message", json_str(msg));
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(doc);
	return s;
}

char *
output_ndjson_error(long line, const char *msg)
{
	return error_line(line, "bad_input", msg);
}

char *
output_ndjson_interrupted(long line, const char *msg)
{
	return error_line(line, "interrupted", msg);
}
