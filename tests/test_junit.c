/*
 * Tests of output/junit.c against real consumers: every document validates
 * against the Apache Ant JUnit schema and Jenkins' (tests/data/junit/, with
 * xmllint) and is read back with junitparser (tests/junit_read.py), for one
 * target and a batch, hostile text included.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "output/output.h"
#include "support.h"

/* Validates xml against both schemas with xmllint; fails the test with its message. */
static void
assert_schemas(const char *xml)
{
	static const char *const xsd[] = { "tests/data/junit/ant-junit.xsd",
	    "tests/data/junit/jenkins-junit-10.xsd" };
	char *file = test_temp_file(xml, strlen(xml));
	size_t i;

	for (i = 0; i < ARRAY_SIZE(xsd); i++) {
		char *schema = test_path(xsd[i]);
		const char *argv[] = { "/usr/bin/xmllint", "--noout", "--schema", schema, file,
		    NULL };
		struct test_proc p;

		test_proc_run(&p, argv, NULL, 60);
		cr_assert_eq(p.status, 0, "%s rejects the document: %s\n%.2000s", xsd[i], p.err,
		    xml);
		test_proc_release(&p);
		free(schema);
	}
	unlink(file);
	free(file);
}

/* What junitparser reads from xml (see tests/junit_read.py). */
static json_t *
read_back(const char *xml)
{
	char *file = test_temp_file(xml, strlen(xml)), *script = test_path("tests/junit_read.py");
	const char *argv[] = { "/usr/bin/python3", script, file, NULL };
	struct test_proc p;
	json_t *doc;

	test_proc_run(&p, argv, NULL, 60);
	cr_assert_eq(p.status, 0, "junitparser cannot read it: %s", p.err);
	doc = test_json(p.out);
	test_proc_release(&p);
	unlink(file);
	free(file);
	free(script);
	return doc;
}

static json_t *
suite(json_t *doc, size_t i)
{
	json_t *s = json_array_get(json_object_get(doc, "suites"), i);

	cr_assert_not_null(s, "no testsuite %zu", i);
	return s;
}

static json_t *
testcase(json_t *s, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(s, "cases"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			return c;
	cr_assert_fail("no testcase '%s'", name);
	return NULL;
}

/* The one result (failure, error, skipped) of a testcase; NULL when it passed. */
static json_t *
result(json_t *c)
{
	json_t *r = json_object_get(c, "results");

	cr_assert_leq(json_array_size(r), 1, "the Ant schema allows one result per testcase");
	return json_array_get(r, 0);
}

static const char *
field(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

static long
count(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

static char *
render_one(const struct run_result *res, enum fail_on f)
{
	struct output_options opt = { .format = OUTPUT_JUNIT, .fail_on = f };

	return test_render(&opt, &res, 1);
}

Test(junit, one_target_is_a_suite_with_a_verdict_case_and_one_per_check)
{
	struct test_result tr;
	json_t *doc, *s, *r;
	char *xml;

	test_result_init(&tr, VERDICT_BLOCKED_LIKELY);
	xml = render_one(&tr.res, FAIL_ON_INCONCLUSIVE);
	assert_schemas(xml);
	doc = read_back(xml);
	cr_assert_eq(json_array_size(json_object_get(doc, "suites")), 1);
	s = suite(doc, 0);
	cr_expect_eq(count(s, "tests"), 4, "the verdict and three checks");
	cr_expect_eq(count(s, "failures"), 2, "the verdict and dnsbl, which the cause cites");
	cr_expect_eq(count(s, "errors"), 1, "rdns did not finish");
	cr_expect_eq(count(s, "skipped"), 1, "dkim had no message");
	cr_expect_eq(json_real_value(json_object_get(s, "time")), 1.234);
	cr_expect_str_eq(field(json_object_get(s, "properties"), "verdict"), "blocked_likely");
	cr_expect_str_eq(field(json_object_get(s, "properties"), "ip"), "2001:db8::66");
	r = result(testcase(s, "verdict"));
	cr_assert_not_null(r);
	cr_expect_str_eq(field(r, "kind"), "failure");
	cr_expect_str_eq(field(r, "type"), "blocked_likely");
	r = result(testcase(s, "dnsbl"));
	cr_assert_not_null(r);
	cr_expect_str_eq(field(r, "kind"), "failure");
	cr_expect_str_eq(field(r, "type"), "ip_blocklisted");
	cr_expect_not_null(strstr(field(r, "text"), "ip_blocklisted (high confidence): "));
	cr_expect_not_null(strstr(field(r, "text"), "\nEvidence:\n  - dnsbl/listed: "),
	    "%s", field(r, "text"));
	cr_expect_not_null(strstr(field(r, "text"), "\nFix: Ask for removal at "
	    "http://x.test/?a=1&b=2 | "), "the remedy, & and all: %s", field(r, "text"));
	r = result(testcase(s, "rdns"));
	cr_assert_not_null(r);
	cr_expect_str_eq(field(r, "kind"), "error");
	cr_expect_str_eq(field(r, "type"), "check_error");
	cr_expect_not_null(strstr(field(r, "text"), "lookup_failed: PTR lookup timed out"));
	r = result(testcase(s, "dkim"));
	cr_assert_not_null(r);
	cr_expect_str_eq(field(r, "kind"), "skipped");
	cr_expect_str_eq(field(r, "message"), "no message given");
	json_decref(doc);
	free(xml);
	test_result_release(&tr);
}

Test(junit, hostile_text_reads_back_as_the_same_visible_text)
{
	static const char *const want[] = {
		"Listed <b>\"spam\"</b> & more]]>",	/* markup stays text */
		"\\x0a::error::forged",			/* the line break is visible */
		"\\x0d 100% ",
		"\\xff\\xfe",				/* not UTF-8 */
		"\\xef\\xbf\\xbe",			/* U+FFFE is no XML character */
		"\\x1b[31m",
		" a:b, c | *d*",
	};
	struct test_result tr;
	json_t *doc, *r;
	const char *msg, *p;
	char *xml;
	size_t i;

	test_result_init(&tr, VERDICT_BLOCKED_LIKELY);
	xml = render_one(&tr.res, FAIL_ON_INCONCLUSIVE);
	assert_schemas(xml);
	doc = read_back(xml);
	r = result(testcase(suite(doc, 0), "dnsbl"));
	msg = field(r, "message");
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		cr_expect_not_null(strstr(msg, want[i]), "message lacks '%s': %s", want[i], msg);
		cr_expect_not_null(strstr(field(r, "text"), want[i]), "text lacks '%s'", want[i]);
	}
	for (p = field(r, "text"); *p != '\0'; p++)
		cr_expect(*p == '\n' || (unsigned char)*p >= 0x20, "control byte 0x%02x in the text",
		    (unsigned char)*p);
	cr_expect_not_null(strstr(field(suite(doc, 0), "name"), "\"a,b <&> c\"@example.test"),
	    "the sender in the suite's name: %s", field(suite(doc, 0), "name"));
	json_decref(doc);
	free(xml);
	test_result_release(&tr);
}

Test(junit, failures_and_errors_follow_the_gate)
{
	struct test_result risk, doubt;
	json_t *doc, *s;
	char *xml;

	test_result_init(&risk, VERDICT_AT_RISK);
	xml = render_one(&risk.res, FAIL_ON_INCONCLUSIVE);
	doc = read_back(xml);
	s = suite(doc, 0);
	cr_expect_eq(count(s, "failures") + count(s, "errors"), 0,
	    "a risk passes the default gate, so nothing fails");
	cr_expect_null(result(testcase(s, "verdict")));
	cr_expect_not_null(strstr(field(s, "system_out"), "1. ip_blocklisted (medium)"),
	    "the cause is still told: %s", field(s, "system_out"));
	json_decref(doc);
	free(xml);
	xml = render_one(&risk.res, FAIL_ON_AT_RISK);
	assert_schemas(xml);
	doc = read_back(xml);
	cr_expect_str_eq(field(result(testcase(suite(doc, 0), "verdict")), "type"), "at_risk");
	cr_expect_str_eq(field(result(testcase(suite(doc, 0), "dnsbl")), "kind"), "failure");
	json_decref(doc);
	free(xml);
	test_result_release(&risk);

	test_result_init(&doubt, VERDICT_INCONCLUSIVE);
	xml = render_one(&doubt.res, FAIL_ON_INCONCLUSIVE);
	assert_schemas(xml);
	doc = read_back(xml);
	cr_expect_str_eq(field(result(testcase(suite(doc, 0), "verdict")), "kind"), "error",
	    "a run that could not tell is an error, not a failure");
	cr_expect_not_null(strstr(field(result(testcase(suite(doc, 0), "verdict")), "message"),
	    "not finished: rdns"));
	json_decref(doc);
	free(xml);
	xml = render_one(&doubt.res, FAIL_ON_BLOCKED);
	doc = read_back(xml);
	cr_expect_eq(count(suite(doc, 0), "failures") + count(suite(doc, 0), "errors"), 0,
	    "--fail-on blocked lets an inconclusive run pass");
	json_decref(doc);
	free(xml);
	test_result_release(&doubt);
}

Test(junit, a_batch_has_a_suite_per_line_a_bad_line_included)
{
	struct output_options opt = { .format = OUTPUT_JUNIT, .batch = true };
	struct test_result bad, good;
	const struct run_result *res[3];
	json_t *doc, *r;
	char *xml;

	test_result_init(&bad, VERDICT_BLOCKED_LIKELY);
	test_result_init(&good, VERDICT_CLEAN);
	res[0] = &bad.res;
	res[1] = NULL;
	res[2] = &good.res;
	xml = test_render(&opt, res, 3);
	assert_schemas(xml);
	cr_expect_not_null(strstr(xml, "package=\"why550\" id=\"1\""), "ids count the lines from 0");
	cr_expect_not_null(strstr(xml, "package=\"why550\" id=\"2\""));
	doc = read_back(xml);
	cr_assert_eq(json_array_size(json_object_get(doc, "suites")), 3);
	cr_expect_str_eq(field(suite(doc, 1), "name"), "line 2");
	r = result(testcase(suite(doc, 1), "input"));
	cr_assert_not_null(r);
	cr_expect_str_eq(field(r, "kind"), "error");
	cr_expect_str_eq(field(r, "type"), "bad_input");
	cr_expect_str_eq(field(r, "message"), "not valid JSON: \"<&>\"\\x0a::error::x");
	cr_expect_eq(count(suite(doc, 2), "failures") + count(suite(doc, 2), "errors"), 0);
	cr_expect_str_eq(field(json_object_get(suite(doc, 2), "properties"), "line"), "3");
	json_decref(doc);
	free(xml);
	test_result_release(&bad);
	test_result_release(&good);
}

Test(junit, nothing_is_written_before_the_document_is_whole)
{
	struct output_options opt = { .format = OUTPUT_JUNIT, .batch = true };
	struct test_result tr;
	struct error err = { "" };
	struct output_stream *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	test_result_init(&tr, VERDICT_BLOCKED_LIKELY);
	s = output_stream_new(&opt, fp, &err);
	cr_assert_not_null(s, "%s", err.msg);
	output_stream_put(s, output_stream_render(s, &tr.res, 1));
	output_stream_put(s, output_stream_render(s, &tr.res, 2));
	fflush(fp);
	cr_expect_eq(len, 0, "a target's suite was written before the end: %.200s", buf);
	cr_assert_eq(output_stream_finish(s, &err), 0, "%s", err.msg);
	fflush(fp);
	cr_expect(strncmp(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", 52) == 0);
	cr_expect_not_null(strstr(buf, "</testsuites>\n"));
	output_stream_free(s);
	fclose(fp);
	free(buf);
	test_result_release(&tr);
}

Test(junit, the_binary_reports_a_listed_ip_whose_list_speaks_hostile_text)
{
	static const char *const args[] = { "--ip", "192.0.2.66", "--checks", "dnsbl,rdns",
	    "--format", "junit", NULL };
	char *conf = test_hostile_checks_d();
	struct test_proc p;
	json_t *doc, *r;

	test_why550_conf(&p, conf, args, NULL);
	cr_assert_eq(p.status, 2, "exit %d: %s", p.status, p.err);
	assert_schemas(p.out);
	doc = read_back(p.out);
	r = result(testcase(suite(doc, 0), "dnsbl"));
	cr_assert_not_null(r, "the listed IP fails dnsbl");
	cr_expect_str_eq(field(r, "type"), "ip_blocklisted");
	/* the list's TXT, through the evidence data: JSON-escaped, then XML, read back whole */
	cr_expect_not_null(strstr(field(r, "text"),
	    "Listed <b>\\\"spam\\\"</b> & more]]>\\n::error::forged\\r \\\\xff\\\\xfe see "),
	    "%s", field(r, "text"));
	cr_expect_not_null(strstr(field(r, "text"), "Fix: Find and stop"));
	cr_expect_not_null(strstr(field(r, "text"), "?ip=192.0.2.66&why=spam"),
	    "the removal link from the TXT, & and all");
	json_decref(doc);
	test_proc_release(&p);
	free(conf);
}

Test(junit, the_binary_writes_one_document_for_a_batch_and_names_bad_lines)
{
	static const char *const args[] = { "--checks", "dnsbl,rdns", "--format", "junit",
	    "--batch", "-", NULL };
	const char *input = "{\"ip\":\"192.0.2.66\"}\n{\"ip\":\"192.0.2.1\"}\nnot json\n";
	char *conf = test_hostile_checks_d();
	struct test_proc p;
	json_t *doc;

	test_why550_conf(&p, conf, args, input);
	cr_assert_eq(p.status, 2, "the worst valid line is blocked: exit %d: %s", p.status, p.err);
	cr_expect_not_null(strstr(p.err, "line 3 is not a target"), "%s", p.err);
	assert_schemas(p.out);
	doc = read_back(p.out);
	cr_assert_eq(json_array_size(json_object_get(doc, "suites")), 3);
	cr_expect_str_eq(field(json_object_get(suite(doc, 0), "properties"), "verdict"),
	    "blocked_likely");
	cr_expect_str_eq(field(json_object_get(suite(doc, 1), "properties"), "verdict"), "clean");
	cr_expect_eq(count(suite(doc, 1), "failures") + count(suite(doc, 1), "errors"), 0);
	cr_expect_str_eq(field(result(testcase(suite(doc, 2), "input")), "type"), "bad_input");
	json_decref(doc);
	test_proc_release(&p);
	free(conf);
}
