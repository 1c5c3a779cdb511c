/*
 * Tests of output/openmetrics.c: promtool (Debian's prometheus package)
 * accepts every document, for one target and a batch, hostile labels
 * included; the families are whole, each with HELP and TYPE once; the
 * series say what the run found; and the Grafana dashboard in docs/ asks
 * only for metrics the output has.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "output/output.h"
#include "support.h"

#define PROMTOOL "/usr/bin/promtool"

/* promtool check metrics on text: parse errors and lint problems both fail the test. */
static void
assert_promtool(const char *text)
{
	const char *argv[] = { PROMTOOL, "check", "metrics", NULL };
	struct test_proc p;

	test_proc_run(&p, argv, text, 60);
	cr_assert_eq(p.status, 0, "promtool: exit %d: %s%s\n%.3000s", p.status, p.out, p.err,
	    text);
	cr_expect_str_eq(p.out, "", "promtool has remarks");
	test_proc_release(&p);
}

/* The metric name at the start of a sample line (text up to '{' or ' '), fresh. */
static char *
sample_name(const char *line)
{
	return xstrndup(line, strcspn(line, "{ \n"));
}

/*
 * The structure promtool does not check: every family starts with HELP
 * then TYPE gauge, its samples follow it and no other family's, no family
 * comes twice, and the document ends with "# EOF".
 */
static void
assert_families_whole(const char *text)
{
	char *copy = xstrdup(text), *line, *save = NULL, *current = NULL;
	struct strbuf seen;

	strbuf_init(&seen);
	strbuf_addstr(&seen, " ");
	cr_assert(strlen(text) >= 6 && strcmp(text + strlen(text) - 6, "# EOF\n") == 0,
	    "no '# EOF' at the end");
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *name, *key;

		if (strcmp(line, "# EOF") == 0)
			break;
		if (strncmp(line, "# HELP ", 7) == 0) {
			free(current);
			current = sample_name(line + 7);
			key = xasprintf(" %s ", current);
			cr_expect_null(strstr(seen.buf, key), "family %s comes twice", current);
			strbuf_addf(&seen, "%s ", current);
			free(key);
			line = strtok_r(NULL, "\n", &save);
			key = xasprintf("# TYPE %s gauge", current);
			cr_assert(line != NULL && strcmp(line, key) == 0, "HELP of %s without its TYPE",
			    current);
			free(key);
			continue;
		}
		cr_assert_not_null(current, "a sample before any HELP: %s", line);
		name = sample_name(line);
		cr_expect_str_eq(name, current, "a sample of %s inside %s", name, current);
		free(name);
	}
	free(current);
	free(copy);
	strbuf_release(&seen);
}

/*
 * The value of the sample of family name whose labels are exactly labels
 * (as written: k="v",k="v"; "" for none); fails the test when there is none
 * or several.
 */
static double
value(const char *text, const char *name, const char *labels)
{
	char *head = labels[0] != '\0' ? xasprintf("\n%s{%s} ", name, labels) :
	    xasprintf("\n%s ", name);
	const char *p = strstr(text, head);
	double v;

	cr_assert_not_null(p, "no sample %s", head + 1);
	cr_assert_null(strstr(p + 1, head), "sample %s twice", head + 1);
	v = strtod(p + strlen(head), NULL);
	free(head);
	return v;
}

static char *
render(const struct run_result *const *res, size_t n, bool batch)
{
	struct output_options opt = { .format = OUTPUT_OPENMETRICS, .batch = batch };

	return test_render(&opt, res, n);
}

/* The target label of struct test_result, escaped as the text format wants it. */
#define HOSTILE_TARGET	"target=\"2001:db8::66 mail.example.test \\\"a,b <&> c\\\"@example.test\""

Test(openmetrics, promtool_accepts_one_target_with_a_hostile_label)
{
	struct test_result tr;
	const struct run_result *res[1];
	char *text;

	test_result_init(&tr, VERDICT_BLOCKED_LIKELY);
	res[0] = &tr.res;
	text = render(res, 1, false);
	assert_promtool(text);
	assert_families_whole(text);
	cr_expect_eq(value(text, "why550_verdict_status", HOSTILE_TARGET ",status=\"blocked_likely\""),
	    1);
	cr_expect_eq(value(text, "why550_verdict_status", HOSTILE_TARGET ",status=\"clean\""), 0);
	cr_expect_eq(value(text, "why550_cause", HOSTILE_TARGET
	    ",code=\"ip_blocklisted\",confidence=\"high\""), 1, "the top cause ranks 1");
	cr_expect_eq(value(text, "why550_check_status", HOSTILE_TARGET
	    ",check=\"rdns\",status=\"error\""), 1);
	cr_expect_eq(value(text, "why550_check_status", HOSTILE_TARGET
	    ",check=\"dkim\",status=\"skipped\""), 1);
	cr_expect_eq(value(text, "why550_check_duration_seconds", HOSTILE_TARGET
	    ",check=\"dnsbl\""), 0.012);
	cr_expect_eq(value(text, "why550_dns_queries", HOSTILE_TARGET), 41);
	cr_expect_eq(value(text, "why550_dns_timeouts", HOSTILE_TARGET), 2);
	cr_expect_eq(value(text, "why550_run_duration_seconds", HOSTILE_TARGET), 1.234);
	cr_expect_eq(value(text, "why550_targets", "status=\"blocked_likely\""), 1);
	cr_expect_null(strstr(text, "Listed <b>"), "free text became a label");
	free(text);
	test_result_release(&tr);
}

Test(openmetrics, a_batch_counts_its_targets_and_leaves_a_repeated_one_out)
{
	struct test_result blocked, clean;
	const struct run_result *res[4];
	const char *p;
	char *text;
	size_t n = 0;

	test_result_init(&blocked, VERDICT_BLOCKED_LIKELY);
	test_result_init(&clean, VERDICT_CLEAN);
	free(clean.t.ip);
	clean.t.ip = xstrdup("192.0.2.1");
	res[0] = &blocked.res;
	res[1] = NULL;
	res[2] = &clean.res;
	res[3] = &blocked.res;	/* the same target again: its series would be duplicates */
	text = render(res, 4, true);
	assert_promtool(text);
	assert_families_whole(text);
	cr_expect_eq(value(text, "why550_targets", "status=\"blocked_likely\""), 2);
	cr_expect_eq(value(text, "why550_targets", "status=\"clean\""), 1);
	cr_expect_eq(value(text, "why550_invalid_input_lines", ""), 1);
	for (p = text; (p = strstr(p, "\nwhy550_verdict_status{")) != NULL; p++)
		n++;
	cr_expect_eq(n, 8, "two targets, four statuses each");
	free(text);
	test_result_release(&blocked);
	test_result_release(&clean);
}

Test(openmetrics, promtool_rejects_a_broken_document_so_its_verdict_counts)
{
	const char *argv[] = { PROMTOOL, "check", "metrics", NULL };
	struct test_proc p;

	test_proc_run(&p, argv, "# HELP a x\n# TYPE a gauge\na{x=\"1} 1\n", 60);
	cr_expect_neq(p.status, 0, "promtool accepted a broken label");
	test_proc_release(&p);
}

/* A batch through the binary against NSD: a listed IP, one whose list refuses, a bad line. */
static char *
binary_batch(void)
{
	static const char *const args[] = { "--checks", "dnsbl,rdns", "--format", "openmetrics",
	    "--fail-on", "never", "--batch", "-", NULL };
	const char *input = "{\"ip\":\"192.0.2.66\"}\n{\"ip\":\"198.51.100.254\"}\nnot json\n"
	    "{\"ip\":\"192.0.2.66\"}\n";
	char *conf = test_hostile_checks_d(), *out;
	struct test_proc p;

	test_why550_conf(&p, conf, args, input);
	cr_assert_eq(p.status, 0, "--fail-on never: exit %d: %s", p.status, p.err);
	cr_expect_not_null(strstr(p.err, "line 4: the target '192.0.2.66' came before"), "%s",
	    p.err);
	out = p.out;
	p.out = NULL;
	test_proc_release(&p);
	free(conf);
	return out;
}

Test(openmetrics, the_binary_says_which_zone_lists_and_which_refused)
{
	char *text = binary_batch();

	assert_promtool(text);
	assert_families_whole(text);
	cr_expect_eq(value(text, "why550_listed",
	    "target=\"192.0.2.66\",check=\"dnsbl\",zone=\"hostile.bl.test\""), 1);
	cr_expect_eq(value(text, "why550_listed",
	    "target=\"192.0.2.66\",check=\"dnsbl\",zone=\"zen.spamhaus.org\""), 0);
	cr_expect_eq(value(text, "why550_list_answered",
	    "target=\"198.51.100.254\",check=\"dnsbl\",zone=\"zen.spamhaus.org\""), 0,
	    "Spamhaus refused the query");
	cr_expect_eq(value(text, "why550_list_answered",
	    "target=\"198.51.100.254\",check=\"dnsbl\",zone=\"bl.spamcop.net\""), 1);
	cr_expect_eq(value(text, "why550_verdict_status",
	    "target=\"192.0.2.66\",status=\"blocked_likely\""), 1);
	cr_expect_eq(value(text, "why550_invalid_input_lines", ""), 1);
	cr_expect_gt(value(text, "why550_dns_queries", "target=\"192.0.2.66\""), 0);
	free(text);
}

/* Adds every why550_* name in s to names (space-separated, each once). */
static void
names_in(const char *s, struct strbuf *names)
{
	const char *p = s;

	while ((p = strstr(p, "why550_")) != NULL) {
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
		char *key = xasprintf(" %.*s ", (int)n, p);

		if (strstr(names->buf, key) == NULL)
			strbuf_addf(names, "%.*s ", (int)n, p);
		free(key);
		p += n;
	}
}

/* Every query of the dashboard: panel targets' "expr", the variables' "query" and "definition". */
static void
queries_in(const json_t *v, struct strbuf *names)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach((json_t *)(uintptr_t)v, i, x)
			queries_in(x, names);
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach((json_t *)(uintptr_t)v, key, x) {
		if (json_is_string(x) && (strcmp(key, "expr") == 0 || strcmp(key, "query") == 0 ||
		    strcmp(key, "definition") == 0))
			names_in(json_string_value(x), names);
		else
			queries_in(x, names);
	}
}

Test(openmetrics, the_dashboard_asks_only_for_metrics_the_output_has)
{
	char *path = test_path("docs/grafana/why550-dashboard.json"), *text = binary_batch();
	char *copy, *name, *save = NULL;
	json_error_t jerr;
	struct strbuf names;
	json_t *dash;
	size_t n = 0;

	dash = json_load_file(path, 0, &jerr);
	cr_assert_not_null(dash, "%s:%d: %s", path, jerr.line, jerr.text);
	strbuf_init(&names);
	strbuf_addstr(&names, " ");
	queries_in(dash, &names);
	copy = xstrdup(names.buf);
	for (name = strtok_r(copy, " ", &save); name != NULL; name = strtok_r(NULL, " ", &save)) {
		char *type = xasprintf("\n# TYPE %s gauge\n", name);

		cr_expect_not_null(strstr(text, type), "the dashboard asks for %s, which the output "
		    "does not have", name);
		free(type);
		n++;
	}
	cr_expect_geq(n, 10, "the dashboard queries %zu metrics: %s", n, names.buf);
	free(copy);
	strbuf_release(&names);
	json_decref(dash);
	free(text);
	free(path);
}
