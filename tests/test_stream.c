/* Tests of output/stream.c: format names, items put in input order, write errors told at the end, the target's label. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "output/output.h"
#include "output/stream.h"
#include "support.h"

Test(stream, format_names_parse_back_and_others_are_refused)
{
	static const char *const bad[] = { "", "JSON", "xml", "junit ", "prometheus", NULL };
	enum output_format f, all[] = { OUTPUT_JSON, OUTPUT_TEXT, OUTPUT_JUNIT, OUTPUT_GITHUB,
	    OUTPUT_OPENMETRICS };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		cr_assert_eq(output_format_parse(output_format_name(all[i]), &f), 0);
		cr_expect_eq(f, all[i], "%s", output_format_name(all[i]));
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		f = OUTPUT_GITHUB;
		cr_expect_eq(output_format_parse(bad[i], &f), -1, "'%s' accepted",
		    bad[i] != NULL ? bad[i] : "(null)");
		cr_expect_eq(f, OUTPUT_GITHUB);
	}
}

Test(stream, items_rendered_in_any_order_are_written_in_the_order_put)
{
	struct output_options opt = { .format = OUTPUT_JSON, .batch = true };
	struct test_result a, b;
	struct output_item *it[3];
	struct output_stream *s;
	struct error err = { "" };
	char *buf = NULL, why[4096], *line, *save = NULL;
	size_t len = 0;
	long n = 0;
	FILE *fp = open_memstream(&buf, &len);

	test_result_init(&a, VERDICT_BLOCKED_LIKELY);
	test_result_init(&b, VERDICT_CLEAN);
	s = output_stream_new(&opt, fp, &err);
	cr_assert_not_null(s, "%s", err.msg);
	/* rendered last to first, as workers may finish */
	it[2] = output_stream_render(s, &b.res, 3);
	it[1] = output_stream_render_error(s, 2, "not valid JSON");
	it[0] = output_stream_render(s, &a.res, 1);
	output_stream_put(s, it[0]);
	output_stream_put(s, it[1]);
	output_stream_put(s, it[2]);
	cr_assert_eq(output_stream_finish(s, &err), 0, "%s", err.msg);
	output_stream_free(s);
	fclose(fp);
	cr_expect(test_schema_valid(buf, true, why, sizeof(why)), "schema: %s", why);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_t *doc = test_json(line);

		n++;
		cr_expect_eq(json_integer_value(json_object_get(doc, "line")), n);
		json_decref(doc);
	}
	cr_expect_eq(n, 3);
	free(buf);
	test_result_release(&a);
	test_result_release(&b);
}

Test(stream, a_write_error_is_told_at_the_end_naming_the_output)
{
	static const enum output_format formats[] = { OUTPUT_JSON, OUTPUT_JUNIT, OUTPUT_GITHUB,
	    OUTPUT_OPENMETRICS };
	struct test_result tr;
	size_t i;

	test_result_init(&tr, VERDICT_BLOCKED_LIKELY);
	for (i = 0; i < ARRAY_SIZE(formats); i++) {
		struct output_options opt = { .format = formats[i], .batch = true };
		struct error err = { "" };
		FILE *full = fopen("/dev/full", "w");
		struct output_stream *s;

		cr_assert_not_null(full);
		s = output_stream_new(&opt, full, &err);
		cr_assert_not_null(s, "%s", err.msg);
		output_stream_put(s, output_stream_render(s, &tr.res, 1));
		cr_expect_eq(output_stream_finish(s, &err), -1, "%s: a full disk went unnoticed",
		    output_format_name(formats[i]));
		cr_expect_str_eq(err.msg, "cannot write the output: No space left on device", "%s",
		    output_format_name(formats[i]));
		output_stream_free(s);
		fclose(full);
	}
	test_result_release(&tr);
}

Test(stream, the_target_label_names_what_was_given)
{
	struct target t;
	char *label;

	target_init(&t);
	t.ip = xstrdup("192.0.2.1");
	t.mail_from = xstrdup("");
	t.rcpt_to = xstrdup("bob@example.test");
	label = output_target_label(&t);
	cr_expect_str_eq(label, "192.0.2.1 <> bob@example.test", "the null sender shows as <>");
	free(label);
	target_release(&t);

	target_init(&t);
	t.helo = xstrdup("evil\x1b[31m.example.test\n");
	label = output_target_label(&t);
	cr_expect_str_eq(label, "evil\\x1b[31m.example.test\\x0a");
	free(label);
	target_release(&t);

	target_init(&t);
	t.bounce = xstrdup("550 5.7.1 blocked");
	label = output_target_label(&t);
	cr_expect_str_eq(label, "bounce", "the bounce text is never a name");
	free(label);
	target_release(&t);
}
