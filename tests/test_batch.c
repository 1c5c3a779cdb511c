/* Tests of batch mode (src/batch.c): one output line per input line, in order, at any --jobs; bad and over-long lines; shards; resume; failed writes and threads; exit codes; the parsers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "src/batch.h"

/* A bounce the shipped rules call a blocklisting: blocked_likely, exit 2. */
#define BLOCKED "{\"bounce\":\"550 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org\"}\n"
/* A success reply: clean, exit 0. */
#define CLEAN "{\"bounce\":\"250 2.0.0 ok\"}\n"
/* The fault server never answers "timeout.*": inconclusive after the deadline, exit 3. */
#define SLOW "{\"mail_from\":\"news@timeout.dom-mx.test\"}\n"

struct batch_out {
	int code;
	char *text;		/* everything written to standard output */
	json_t **lines;		/* each output line parsed */
	size_t nlines;
};

/* Splits o->text into parsed lines. */
static void
parse_lines(struct batch_out *o)
{
	char *line = xstrdup(o->text), *save = NULL;

	o->lines = NULL;
	o->nlines = 0;
	for (char *l = strtok_r(line, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		o->lines = xrealloc(o->lines, (o->nlines + 1) * sizeof(*o->lines));
		o->lines[o->nlines++] = test_json(l);
	}
	free(line);
}

/* The whole content of a file, NUL-terminated. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = xcalloc((size_t)len + 1, 1);
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

/*
 * Runs batch_run with opt (its path and jobs set) over the shipped
 * checks.d, the checks sender_domain and bounce, through the fault server,
 * with standard output sent to stdout_path (NULL: a temporary file); o gets
 * the exit code and what was written to standard output.
 */
static void
run_batch_opt(struct batch_out *o, struct batch_options *opt, const char *stdout_path)
{
	char *dir = test_path("checks.d"), *out = test_temp_file("", 0);
	struct conf *conf = conf_new();
	struct error err = { "" };
	struct dns_engine *eng;
	struct runner *r;
	bool usage, abandoned;
	int fd, saved;

	if (opt->timeout_ms == 0)
		opt->timeout_ms = 2000;
	cr_assert_eq(conf_load_dir(conf, dir, &err), 0, "%s", err.msg);
	r = runner_new(conf, "sender_domain,bounce", &usage, &err);
	cr_assert_not_null(r, "%s", err.msg);
	eng = test_engine(test_fault(), 300, 2);
	/* batch_run writes to standard output: send it to a file for the run */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(stdout_path != NULL ? stdout_path : out, O_WRONLY | O_TRUNC);
	cr_assert(saved >= 0 && fd >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	o->code = batch_run(r, eng, opt, &abandoned);
	cr_assert_not(abandoned);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);

	o->text = slurp(out);
	parse_lines(o);
	dns_engine_free(eng);
	runner_free(r);
	conf_free(conf);
	unlink(out);
	free(out);
	free(dir);
}

static void
run_batch_file(struct batch_out *o, const char *path, size_t jobs)
{
	struct batch_options opt = { .path = path, .jobs = jobs };

	run_batch_opt(o, &opt, NULL);
}

/* The same over input, written to a temporary file first; opt may be NULL. */
static void
run_batch_with(struct batch_out *o, const char *input, size_t jobs, struct batch_options *opt)
{
	struct batch_options plain = { .jobs = jobs };
	char *in = test_temp_file(input, strlen(input));

	if (opt == NULL)
		opt = &plain;
	opt->path = in;
	opt->jobs = jobs;
	run_batch_opt(o, opt, NULL);
	unlink(in);
	free(in);
}

static void
run_batch(struct batch_out *o, const char *input, size_t jobs)
{
	run_batch_with(o, input, jobs, NULL);
}

static void
batch_out_release(struct batch_out *o)
{
	size_t i;

	for (i = 0; i < o->nlines; i++)
		json_decref(o->lines[i]);
	free(o->lines);
	free(o->text);
}

static long
line_no(const struct batch_out *o, size_t i)
{
	return (long)json_integer_value(json_object_get(o->lines[i], "line"));
}

static const char *
status_of(const struct batch_out *o, size_t i)
{
	return json_string_value(json_object_get(json_object_get(o->lines[i], "verdict"),
	    "status"));
}

static const char *
error_field(const struct batch_out *o, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o->lines[i], "error"), key));
}

Test(batch, every_line_gets_one_result_line_in_input_order)
{
	struct batch_out o;
	char why[4096];
	size_t i;

	run_batch(&o, CLEAN BLOCKED CLEAN, 1);
	cr_assert_eq(o.nlines, 3, "%s", o.text);
	for (i = 0; i < o.nlines; i++)
		cr_expect_eq(line_no(&o, i), (long)i + 1);
	cr_expect_str_eq(status_of(&o, 0), "clean");
	cr_expect_str_eq(status_of(&o, 1), "blocked_likely");
	cr_expect_str_eq(status_of(&o, 2), "clean");
	cr_expect(test_schema_valid(o.text, true, why, sizeof(why)), "schema: %s", why);
	batch_out_release(&o);
}

Test(batch, many_jobs_keep_input_order_when_a_slow_line_comes_first)
{
	struct batch_out o;
	size_t i;

	/* line 1 waits for its DNS deadline while lines 2 to 9 finish at once */
	run_batch(&o, SLOW CLEAN BLOCKED CLEAN BLOCKED CLEAN BLOCKED CLEAN BLOCKED, 4);
	cr_assert_eq(o.nlines, 9, "%s", o.text);
	for (i = 0; i < o.nlines; i++)
		cr_expect_eq(line_no(&o, i), (long)i + 1, "output line %zu", i + 1);
	cr_expect_str_eq(status_of(&o, 0), "inconclusive");
	for (i = 1; i < o.nlines; i++)
		cr_expect_str_eq(status_of(&o, i), i % 2 == 1 ? "clean" : "blocked_likely",
		    "line %zu", i + 1);
	batch_out_release(&o);
}

Test(batch, more_lines_than_the_window_are_all_answered_in_order)
{
	struct strbuf in;
	struct batch_out o;
	size_t i;

	/* the window is 4 * jobs: 2 jobs and 40 lines wrap it five times */
	strbuf_init(&in);
	for (i = 0; i < 40; i++)
		strbuf_addstr(&in, i % 3 == 0 ? BLOCKED : CLEAN);
	run_batch(&o, in.buf, 2);
	cr_assert_eq(o.nlines, 40);
	for (i = 0; i < o.nlines; i++) {
		cr_expect_eq(line_no(&o, i), (long)i + 1);
		cr_expect_str_eq(status_of(&o, i), i % 3 == 0 ? "blocked_likely" : "clean",
		    "line %zu", i + 1);
	}
	batch_out_release(&o);
	strbuf_release(&in);
}

Test(batch, bad_lines_give_bad_input_lines_that_name_the_line_and_leave_the_exit_to_the_valid)
{
	struct batch_out o;
	char why[4096];

	run_batch(&o, CLEAN "not json\n" "{\"ip\":\"1.2.3\"}\n" "\n" "[1]\n" CLEAN, 2);
	cr_assert_eq(o.nlines, 6, "%s", o.text);
	cr_expect_eq(o.code, 0, "the valid lines are clean");
	cr_expect_str_eq(status_of(&o, 0), "clean");
	cr_expect_str_eq(status_of(&o, 5), "clean", "a bad line stops nothing");
	for (size_t i = 1; i <= 4; i++) {
		cr_expect_eq(line_no(&o, i), (long)i + 1);
		cr_expect_str_eq(error_field(&o, i, "code"), "bad_input", "line %zu", i + 1);
		cr_expect_null(json_object_get(o.lines[i], "verdict"), "line %zu", i + 1);
	}
	cr_expect(strstr(error_field(&o, 1, "message"), "not valid JSON") != NULL);
	cr_expect(strstr(error_field(&o, 2, "message"), "ip") != NULL, "names the field: %s",
	    error_field(&o, 2, "message"));
	cr_expect(strstr(error_field(&o, 4, "message"), "object") != NULL);
	cr_expect(test_schema_valid(o.text, true, why, sizeof(why)), "schema: %s", why);
	batch_out_release(&o);
}

Test(batch, only_bad_lines_exit_64)
{
	struct batch_out o;

	run_batch(&o, "not json\n" "[1]\n", 2);
	cr_expect_eq(o.nlines, 2, "%s", o.text);
	cr_expect_eq(o.code, 64);
	batch_out_release(&o);
}

Test(batch, crlf_line_ends_and_a_missing_final_newline_are_accepted)
{
	struct batch_out o;

	run_batch(&o, "{\"bounce\":\"250 ok\"}\r\n{\"bounce\":\"250 ok\"}", 1);
	cr_assert_eq(o.nlines, 2, "%s", o.text);
	cr_expect_str_eq(status_of(&o, 0), "clean");
	cr_expect_str_eq(status_of(&o, 1), "clean");
	cr_expect_eq(o.code, 0);
	batch_out_release(&o);
}

Test(batch, exit_code_is_the_worst_target_blocked_before_inconclusive)
{
	struct batch_out o;

	run_batch(&o, CLEAN SLOW CLEAN, 2);
	cr_expect_eq(o.code, 3, "inconclusive beats clean");
	batch_out_release(&o);
	run_batch(&o, SLOW BLOCKED CLEAN, 2);
	cr_expect_eq(o.code, 2, "blocked beats inconclusive");
	batch_out_release(&o);
	run_batch(&o, CLEAN CLEAN, 2);
	cr_expect_eq(o.code, 0);
	batch_out_release(&o);
}

Test(batch, empty_input_writes_nothing_and_is_clean)
{
	struct batch_out o;

	run_batch(&o, "", 3);
	cr_expect_eq(o.nlines, 0);
	cr_expect_str_eq(o.text, "");
	cr_expect_eq(o.code, 0);
	batch_out_release(&o);
}

Test(batch, unreadable_file_exits_64_and_writes_nothing)
{
	struct batch_out o;

	run_batch_file(&o, "/nonexistent/targets.ndjson", 2);
	cr_expect_eq(o.code, 64);
	cr_expect_str_eq(o.text, "");
	batch_out_release(&o);
}

/* Parses one line into a fresh target; the target is the caller's to release. */
static int
parse(const char *line, struct target *t, struct error *err)
{
	target_init(t);
	return batch_parse_line(line, strlen(line), t, err);
}

Test(batch, line_fields_and_their_aliases_fill_the_target)
{
	struct target t;
	struct error err = { "" };

	cr_assert_eq(parse("{\"ip\":\"192.0.2.1\",\"helo\":\"mail.shop.test\","
	    "\"from\":\"news@shop.test\",\"to\":\"alice@example.test\","
	    "\"selectors\":[\"s1\",\"s2\"],\"bounce\":\"550 no\"}", &t, &err), 0, "%s", err.msg);
	cr_expect_str_eq(t.helo, "mail.shop.test");
	cr_expect_str_eq(t.mail_domain, "shop.test");
	cr_expect_str_eq(t.rcpt_domain, "example.test");
	cr_expect_eq(t.nselectors, 2);
	cr_expect_str_eq(t.bounce, "550 no");
	target_release(&t);
	cr_assert_eq(parse("{\"mail_from\":\"<>\",\"rcpt_to\":\"bob@example.test\"}", &t, &err),
	    0, "%s", err.msg);
	cr_expect(t.null_sender);
	cr_expect_str_eq(t.rcpt_to, "bob@example.test");
	target_release(&t);
}

Test(batch, bad_lines_are_refused_naming_the_problem)
{
	static const struct {
		const char *line;
		const char *want;	/* in the message */
	} bad[] = {
		{ "", "not valid JSON" },
		{ "{\"ip\":\"192.0.2.1\"", "not valid JSON" },
		{ "[\"ip\"]", "must be a JSON object" },
		{ "{}", "no target" },
		{ "{\"ip\":\"192.0.2.1\",\"ip\":\"192.0.2.2\"}", "not valid JSON" },
		{ "{\"ipaddr\":\"192.0.2.1\"}", "unknown field 'ipaddr'" },
		{ "{\"ip\":7}", "ip: must be a string" },
		{ "{\"ip\":\"192.0.2.300\"}", "ip" },
		{ "{\"selectors\":\"s1\"}", "selectors: must be an array" },
		{ "{\"selectors\":[1]}", "selectors: must be a string" },
		{ "{\"bounce\":\"\"}", "bounce: is empty" },
		{ "{\"message\":\"/nonexistent/m.eml\"}", "message" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct target t;
		struct error err = { "" };

		cr_expect_eq(parse(bad[i].line, &t, &err), -1, "'%s' accepted", bad[i].line);
		cr_expect(strstr(err.msg, bad[i].want) != NULL, "'%s': '%s' lacks '%s'",
		    bad[i].line, err.msg, bad[i].want);
		target_release(&t);
	}
}

/* Input lines over the cap. */

Test(batch, line_over_the_cap_is_bad_input_naming_its_number_and_the_next_line_runs)
{
	struct batch_options opt = { .max_line = 200 };
	struct strbuf in;
	struct batch_out o;
	char num[16];
	size_t i;

	strbuf_init(&in);
	strbuf_addstr(&in, CLEAN);
	/* 5000 bytes arrive in one read: the cap holds within a chunk too */
	strbuf_addstr(&in, "{\"bounce\":\"");
	for (i = 0; i < 5000; i++)
		strbuf_addstr(&in, "x");
	strbuf_addstr(&in, "\"}\n");
	strbuf_addstr(&in, BLOCKED);
	run_batch_with(&o, in.buf, 2, &opt);
	cr_assert_eq(o.nlines, 3, "%s", o.text);
	cr_expect_eq(o.code, 2, "the valid lines decide: one is blocked");
	cr_expect_str_eq(status_of(&o, 0), "clean");
	cr_expect_eq(line_no(&o, 1), 2);
	cr_expect_str_eq(error_field(&o, 1, "code"), "bad_input");
	snprintf(num, sizeof(num), "line %d ", 2);
	cr_expect(strstr(error_field(&o, 1, "message"), num) != NULL, "%s",
	    error_field(&o, 1, "message"));
	cr_expect(strstr(error_field(&o, 1, "message"), "200 bytes") != NULL);
	cr_expect_str_eq(status_of(&o, 2), "blocked_likely");
	batch_out_release(&o);
	strbuf_release(&in);
}

Test(batch, default_cap_refuses_a_line_of_five_mib_and_keeps_going, .timeout = 60)
{
	size_t big = (size_t)5 << 20, len = strlen(CLEAN);
	char *in = xmalloc(big + 2 * len), *path;
	struct batch_out o;

	memcpy(in, CLEAN, len);
	memset(in + len, 'x', big);
	in[len + big - 1] = '\n';
	memcpy(in + len + big, CLEAN, len);
	path = test_temp_file(in, big + 2 * len);
	run_batch_file(&o, path, 2);
	cr_assert_eq(o.nlines, 3, "%.300s", o.text);
	cr_expect_str_eq(error_field(&o, 1, "code"), "bad_input");
	cr_expect(strstr(error_field(&o, 1, "message"), "line 2 ") != NULL);
	cr_expect_str_eq(status_of(&o, 2), "clean");
	batch_out_release(&o);
	unlink(path);
	free(path);
	free(in);
}

Test(batch, line_just_under_the_cap_is_read_whole)
{
	struct batch_options opt = { .max_line = 300 };
	struct strbuf in;
	struct batch_out o;

	strbuf_init(&in);
	strbuf_addstr(&in, "{\"bounce\":\"250 2.0.0 ok");
	while (in.len < 300 - 2)
		strbuf_addstr(&in, " ");
	strbuf_addstr(&in, "\"}\n");
	cr_assert_eq(in.len, 301, "300 bytes and the newline");
	run_batch_with(&o, in.buf, 1, &opt);
	cr_assert_eq(o.nlines, 1, "%s", o.text);
	cr_expect_str_eq(status_of(&o, 0), "clean");
	batch_out_release(&o);
	strbuf_release(&in);
}

/* Shards. */

/* Input of n lines: line k blocked when k % 3 == 0, else clean. */
static char *
mixed_input(size_t n)
{
	struct strbuf in;
	size_t k;

	strbuf_init(&in);
	for (k = 1; k <= n; k++)
		strbuf_addstr(&in, k % 3 == 0 ? BLOCKED : CLEAN);
	return in.buf;
}

Test(batch, shard_takes_every_nth_line_and_keeps_the_input_line_numbers)
{
	struct batch_options opt = { .shard = 1, .nshards = 3 };
	char *in = mixed_input(10);
	struct batch_out o;
	size_t i;

	run_batch_with(&o, in, 3, &opt);
	cr_assert_eq(o.nlines, 3, "lines 2, 5, 8: %s", o.text);
	for (i = 0; i < o.nlines; i++) {
		cr_expect_eq(line_no(&o, i), (long)(2 + 3 * i));
		cr_expect_str_eq(status_of(&o, i), "clean");
	}
	cr_expect_eq(o.code, 0, "the blocked lines are other shards'");
	batch_out_release(&o);
	free(in);
}

Test(batch, shards_together_answer_every_line_exactly_once)
{
	char *in = mixed_input(23);
	int seen[24] = { 0 };
	unsigned long s;
	size_t i;

	for (s = 0; s < 3; s++) {
		struct batch_options opt = { .shard = s, .nshards = 3 };
		struct batch_out o;

		run_batch_with(&o, in, 2, &opt);
		for (i = 0; i < o.nlines; i++) {
			long n = line_no(&o, i);

			cr_assert(n >= 1 && n <= 23);
			cr_expect_eq((unsigned long)(n - 1) % 3, s, "line %ld in shard %lu", n, s);
			seen[n]++;
			cr_expect_str_eq(status_of(&o, i), n % 3 == 0 ? "blocked_likely" : "clean");
		}
		batch_out_release(&o);
	}
	for (i = 1; i <= 23; i++)
		cr_expect_eq(seen[i], 1, "line %zu answered %d times", i, seen[i]);
	free(in);
}

Test(batch, shard_argument_is_i_over_n_with_i_below_n)
{
	static const char *const bad[] = { "", "1", "3/3", "-1/3", "1/0", "a/2", "1/2x", "1/-2",
	    "1//2", "/2", "0/1000001", "99999999999999999999/2" };
	unsigned long i, n;
	struct error err;
	size_t k;

	cr_expect_eq(batch_parse_shard("0/1", &i, &n, &err), 0);
	cr_expect_eq(batch_parse_shard("2/3", &i, &n, &err), 0);
	cr_expect(i == 2 && n == 3);
	for (k = 0; k < ARRAY_SIZE(bad); k++) {
		cr_expect_eq(batch_parse_shard(bad[k], &i, &n, &err), -1, "'%s' accepted", bad[k]);
		cr_expect(strstr(err.msg, "--shard") != NULL, "%s", err.msg);
	}
}

/* Resume. */

/* Runs input with --resume path; stdout (which must stay empty) goes to a file of its own. */
static void
run_resume(struct batch_out *o, const char *input, const char *path)
{
	struct batch_options opt = { .resume = path };

	run_batch_with(o, input, 2, &opt);
}

/* The first n lines of text (each with its newline). */
static char *
first_lines(const char *text, size_t n)
{
	const char *p = text;

	while (n-- > 0 && (p = strchr(p, '\n')) != NULL)
		p++;
	cr_assert_not_null(p);
	return xstrndup(text, (size_t)(p - text));
}

Test(batch, resume_appends_exactly_the_missing_lines_after_a_cut_line, .timeout = 60)
{
	char *in = mixed_input(12), *done, *path, *text;
	struct batch_out full, o, r;
	struct strbuf earlier;
	size_t i;

	run_batch(&full, in, 3);
	cr_assert_eq(full.nlines, 12);
	/* five whole lines, then half of the sixth: a run killed while writing */
	done = first_lines(full.text, 5);
	strbuf_init(&earlier);
	strbuf_addstr(&earlier, done);
	strbuf_addf(&earlier, "%.40s", full.text + strlen(done));
	path = test_temp_file(earlier.buf, earlier.len);
	run_resume(&o, in, path);
	cr_expect_str_eq(o.text, "", "the lines go to the resumed file, not to stdout");
	text = slurp(path);
	cr_assert(strncmp(text, done, strlen(done)) == 0, "the answered lines are kept as they were");
	r.text = text;
	parse_lines(&r);
	cr_assert_eq(r.nlines, 12, "%s", text);
	for (i = 0; i < r.nlines; i++) {
		cr_expect_eq(line_no(&r, i), (long)i + 1);
		cr_expect_str_eq(status_of(&r, i), status_of(&full, i), "line %zu", i + 1);
	}
	cr_expect_eq(o.code, 2, "the blocked lines count, earlier ones too");
	batch_out_release(&r);
	batch_out_release(&o);
	batch_out_release(&full);
	strbuf_release(&earlier);
	unlink(path);
	free(path);
	free(done);
	free(in);
}

Test(batch, resume_asks_interrupted_lines_again_and_skips_the_rest, .timeout = 60)
{
	static const char earlier[] =
	    "{\"schema\":\"why550/1\",\"line\":1,\"error\":{\"code\":\"interrupted\",\"message\":\"x\"}}\n"
	    "{\"schema\":\"why550/1\",\"line\":2,\"error\":{\"code\":\"bad_input\",\"message\":\"x\"}}\n"
	    "{\"schema\":\"why550/1\",\"line\":3,\"verdict\":{\"status\":\"clean\"}}\n";
	char *path = test_temp_file(earlier, strlen(earlier)), *text;
	struct batch_out o, r;

	run_resume(&o, BLOCKED CLEAN CLEAN CLEAN, path);
	text = slurp(path);
	cr_assert(strncmp(text, earlier, strlen(earlier)) == 0);
	r.text = xstrdup(text + strlen(earlier));
	parse_lines(&r);
	cr_assert_eq(r.nlines, 2, "lines 1 (interrupted before) and 4: %s", r.text);
	cr_expect_eq(line_no(&r, 0), 1);
	cr_expect_str_eq(status_of(&r, 0), "blocked_likely");
	cr_expect_eq(line_no(&r, 1), 4);
	cr_expect_eq(o.code, 2, "the new blocked line decides");
	batch_out_release(&r);
	batch_out_release(&o);
	unlink(path);
	free(path);
	free(text);
}

Test(batch, resume_counts_the_earlier_lines_in_the_exit_code)
{
	static const char earlier[] =
	    "{\"schema\":\"why550/1\",\"line\":1,\"verdict\":{\"status\":\"blocked_likely\"}}\n"
	    "{\"schema\":\"why550/1\",\"line\":2,\"error\":{\"code\":\"bad_input\",\"message\":\"x\"}}\n";
	struct batch_options strict = { .strict_input = true };
	char *path = test_temp_file(earlier, strlen(earlier)), *text;
	struct batch_out o, r;

	run_resume(&o, CLEAN CLEAN CLEAN, path);
	cr_expect_eq(o.code, 2, "the earlier blocked line is the worst");
	batch_out_release(&o);
	unlink(path);
	free(path);
	path = test_temp_file(earlier, strlen(earlier));
	strict.resume = path;
	run_batch_with(&o, CLEAN CLEAN CLEAN, 2, &strict);
	cr_expect_eq(o.code, 64, "with strict input the earlier bad line counts");
	text = slurp(path);
	r.text = xstrdup(text + strlen(earlier));
	parse_lines(&r);
	cr_expect_eq(r.nlines, 1, "only line 3 was asked: %s", r.text);
	batch_out_release(&r);
	batch_out_release(&o);
	unlink(path);
	free(path);
	free(text);
}

Test(batch, resume_of_a_missing_file_starts_it)
{
	char *dir = test_temp_file("", 0), *path = xasprintf("%s.new", dir), *text;
	struct batch_out o, r;

	run_resume(&o, CLEAN BLOCKED, path);
	text = slurp(path);
	r.text = text;
	parse_lines(&r);
	cr_expect_eq(r.nlines, 2);
	cr_expect_eq(o.code, 2);
	batch_out_release(&r);
	batch_out_release(&o);
	unlink(path);
	unlink(dir);
	free(path);
	free(dir);
}

Test(batch, resume_refuses_a_file_that_is_not_a_batch_output)
{
	static const char *const bad[] = {
		"{\"line\":1}\n",
		"not json\n",
		"{\"schema\":\"why550/1\"}\n",
		"{\"schema\":\"why550/1\",\"line\":0}\n",
		"{\"schema\":\"why550/1\",\"line\":\"1\"}\n",
		"{\"schema\":\"why550/1\",\"line\":1} trailing\n",
		"\n",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char *path = test_temp_file(bad[i], strlen(bad[i])), *text;
		struct batch_out o;

		run_resume(&o, CLEAN, path);
		cr_expect_eq(o.code, 64, "'%s' accepted", bad[i]);
		text = slurp(path);
		cr_expect_str_eq(text, bad[i], "the file was changed");
		batch_out_release(&o);
		unlink(path);
		free(path);
		free(text);
	}
}

Test(batch, answer_scanner_reads_the_line_and_how_it_was_answered)
{
	static const struct {
		const char *text;
		long line;
		enum batch_answer_kind kind;
		int status;		/* -1: none */
	} good[] = {
		{ "{\"schema\":\"why550/1\",\"target\":{\"line\":9},\"verdict\":{\"causes\":[{\"status\":"
		  "\"clean\"}],\"status\":\"blocked_likely\"},\"line\":12}", 12, BATCH_ANSWER_RESULT,
		  VERDICT_BLOCKED_LIKELY },
		{ " { \"line\" : 3 , \"schema\" : \"why550/2\" , \"error\" : { \"code\" : \"interrupted\" } } ",
		  3, BATCH_ANSWER_INTERRUPTED, -1 },
		{ "{\"schema\":\"why550/1\",\"line\":4,\"error\":{\"message\":\"a \\\"}\",\"code\":"
		  "\"bad_input\"}}", 4, BATCH_ANSWER_BAD_INPUT, -1 },
		{ "{\"schema\":\"why550/1\",\"line\":5,\"error\":{\"code\":\"other\"}}", 5,
		  BATCH_ANSWER_ERROR, -1 },
		{ "{\"schema\":\"why550/1\",\"line\":6,\"verdict\":\"at_risk\"}", 6,
		  BATCH_ANSWER_RESULT, VERDICT_AT_RISK },
		{ "{\"schema\":\"why550/1\",\"line\":7,\"line\":8}", 8, BATCH_ANSWER_RESULT, -1 },
	};
	static const char *const bad[] = {
		"", "{", "[]", "{\"schema\":\"why550/1\",\"line\":1", "{\"schema\":\"x\",\"line\":1}",
		"{\"schema\":\"why550/1\",\"line\":-1}", "{\"schema\":\"why550/1\",\"line\":1.5}",
		"{\"schema\":\"why550/1\",\"line\":1234567890123456789012}",
		"{\"schema\":\"why550/1\",\"line\":1,\"x\":\"unterminated}",
		"{\"schema\":\"why550/1\",\"line\":1,\"x\":}", "{\"schema\":\"why550/1\" \"line\":1}",
	};
	struct batch_answer a;
	char why[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		cr_assert_eq(batch_scan_answer(good[i].text, strlen(good[i].text), &a, why,
		    sizeof(why)), 0, "%s: %s", good[i].text, why);
		cr_expect_eq(a.line, good[i].line, "%s", good[i].text);
		cr_expect_eq(a.kind, good[i].kind, "%s", good[i].text);
		cr_expect_eq(a.has_status, good[i].status >= 0, "%s", good[i].text);
		if (good[i].status >= 0)
			cr_expect_eq((int)a.status, good[i].status, "%s", good[i].text);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_expect_eq(batch_scan_answer(bad[i], strlen(bad[i]), &a, why, sizeof(why)), -1,
		    "'%s' accepted", bad[i]);
}

/* Failed writes and threads. */

Test(batch, failed_write_exits_74_after_the_targets_in_flight)
{
	char *in = mixed_input(6), *path = test_temp_file(in, strlen(in));
	struct batch_options opt = { .path = path, .jobs = 2 };
	struct batch_out o;

	run_batch_opt(&o, &opt, "/dev/full");
	cr_expect_eq(o.code, 74);
	unlink(path);
	free(path);
	batch_out_release(&o);
	free(in);
}

static atomic_int creations;
static int allowed;

/* pthread_create for the first `allowed` threads, then EAGAIN as under a process limit. */
static int
limited_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (atomic_fetch_add(&creations, 1) >= allowed)
		return EAGAIN;
	return pthread_create(t, attr, fn, arg);
}

Test(batch, no_worker_thread_exits_71_and_writes_nothing)
{
	struct batch_out o;

	allowed = 0;
	runner_thread_create = limited_create;
	run_batch(&o, CLEAN BLOCKED, 2);
	cr_expect_eq(o.code, 71);
	cr_expect_str_eq(o.text, "");
	batch_out_release(&o);
}

Test(batch, one_worker_thread_answers_every_line_in_time, .timeout = 30)
{
	char *in = mixed_input(60);
	struct batch_out o;
	int64_t start = now_ms();
	size_t i;

	allowed = 1;
	runner_thread_create = limited_create;
	run_batch(&o, in, 16);
	cr_assert_eq(o.nlines, 60);
	for (i = 0; i < o.nlines; i++)
		cr_expect_eq(line_no(&o, i), (long)i + 1);
	cr_expect_lt(now_ms() - start, 10000);
	batch_out_release(&o);
	free(in);
}
