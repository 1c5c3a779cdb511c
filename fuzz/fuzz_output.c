/*
 * libFuzzer harness for the CI and metrics formats (output/junit.c,
 * github.c, openmetrics.c): hostile bytes in a target, a cause and a note
 * never break a document: the XML has only escaped markup and XML
 * characters, every GitHub line is one workflow command with canonical
 * escapes, every OpenMetrics line is a comment or a why550_ sample.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/check.h"
#include "core/util.h"
#include "output/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct check_ops ops_dnsbl = { .name = "dnsbl" };

/* The n-th NUL-separated piece of the input, as a fresh string ("" when there are fewer). */
static char *
piece(const uint8_t *data, size_t size, int n)
{
	size_t i = 0, start = 0;

	for (; i <= size; i++) {
		if (i < size && data[i] != 0)
			continue;
		if (n-- == 0)
			return xstrndup((const char *)data + start, i - start);
		start = i + 1;
	}
	return xstrdup("");
}

static void
check_utf8(const char *s)
{
	json_t *j = json_string(s);

	if (j == NULL)
		abort();
	json_decref(j);
}

static char *
render(const struct run_result *res, enum output_format f)
{
	struct output_options opt = { .format = f, .fail_on = FAIL_ON_AT_RISK };
	struct error err = { "" };
	struct output_stream *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL || (s = output_stream_new(&opt, fp, &err)) == NULL)
		abort();
	output_stream_put(s, output_stream_render(s, res, 0));
	if (output_stream_finish(s, &err) < 0)
		abort();
	output_stream_free(s);
	fclose(fp);
	check_utf8(buf);
	return buf;
}

/* XML 1.0: only our own markup; & starts an entity; no control but LF and TAB; no U+FFFE/FFFF. */
static void
check_junit(const char *x)
{
	static const char *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;",
	    "&#10;", "&#9;" };
	const unsigned char *p;
	size_t i;

	for (p = (const unsigned char *)x; *p != '\0'; p++) {
		if (*p < 0x20 && *p != '\n' && *p != '\t')
			abort();
		if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
			abort();
		if (*p != '&')
			continue;
		for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
			if (strncmp((const char *)p, entities[i], strlen(entities[i])) == 0)
				break;
		if (i == sizeof(entities) / sizeof(entities[0]))
			abort();
	}
}

/* Each line "::name title=...::data": % only as an escape, no CR, no raw : or , in the title. */
static void
check_github(const char *g)
{
	const char *line = g, *end, *nl, *p;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		if (nl == NULL || strncmp(line, "::", 2) != 0)
			abort();
		end = strstr(line + 2, "::");
		if (end == NULL || end > nl)
			abort();
		for (p = line; p < nl; p++) {
			if (*p == '\r')
				abort();
			if (*p == '%' && strncmp(p, "%25", 3) != 0 && strncmp(p, "%0A", 3) != 0 &&
			    strncmp(p, "%0D", 3) != 0 && strncmp(p, "%3A", 3) != 0 &&
			    strncmp(p, "%2C", 3) != 0)
				abort();
		}
		for (p = strstr(line, "title="); p != NULL && p < end; p++)
			if (*p == ',')
				abort();
		line = nl + 1;
	}
}

/* Each line a comment or a why550_ sample; no control but the line ends; "# EOF" last. */
static void
check_openmetrics(const char *m)
{
	const char *line = m, *nl, *p;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		if (nl == NULL || (strncmp(line, "# ", 2) != 0 && strncmp(line, "why550_", 7) != 0))
			abort();
		for (p = line; p < nl; p++)
			if ((unsigned char)*p < 0x20)
				abort();
		line = nl + 1;
	}
	if (strlen(m) < 6 || strcmp(m + strlen(m) - 6, "# EOF\n") != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report *rep = report_new(&ops_dnsbl);
	struct run_result res;
	struct target t;
	struct cause *c;
	char *out;

	memset(&res, 0, sizeof(res));
	target_init(&t);
	t.helo = piece(data, size, 0);
	t.mail_from = piece(data, size, 1);
	report_add(rep, "listed", SEV_FAIL, NULL, "%s", t.helo);
	res.target = &t;
	res.reports = &rep;
	res.nreports = 1;
	res.verdict.status = VERDICT_INCONCLUSIVE;
	res.verdict.note = piece(data, size, 2);
	res.verdict.causes = c = xcalloc(1, sizeof(*c));
	res.verdict.ncauses = 1;
	c->code = CAUSE_IP_BLOCKLISTED;
	c->summary = piece(data, size, 3);
	c->remedy = piece(data, size, 4);
	out = piece(data, size, 5);
	c->evidence = json_pack("[{s:s,s:s,s:o,s:{s:o}}]", "check", "dnsbl", "finding", "listed",
	    "message", json_stringn_nocheck(out, strlen(out)), "data", "txt",
	    json_stringn_nocheck(out, strlen(out)));
	free(out);
	out = render(&res, OUTPUT_JUNIT);
	check_junit(out);
	free(out);
	out = render(&res, OUTPUT_GITHUB);
	check_github(out);
	free(out);
	out = render(&res, OUTPUT_OPENMETRICS);
	check_openmetrics(out);
	free(out);
	verdict_release(&res.verdict);
	report_free(rep);
	target_release(&t);
	return 0;
}
