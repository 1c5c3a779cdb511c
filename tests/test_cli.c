/* The command line as a user runs it: bad input exits 64 naming the argument, results validate against the schema. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "checks/check.h"
#include "core/util.h"

struct bad_case {
	const char *name;
	const char *args[6];
	const char *mentions;	/* the message must name this */
};

static const struct bad_case bad_cases[] = {
	{ "ipv4 with three octets", { "--ip", "1.2.3" }, "--ip" },
	{ "ipv4 octet over 255", { "--ip", "192.0.2.256" }, "--ip" },
	{ "ipv6 with two double colons", { "--ip", "2001:db8::1::2" }, "--ip" },
	{ "ip that is a name", { "--ip", "mail.example.test" }, "--ip" },
	{ "helo over 253 octets", { "--helo", "a123456789a123456789a123456789a123456789a123456789a123456789.a123456789a123456789a123456789a123456789a123456789a123456789.a123456789a123456789a123456789a123456789a123456789a123456789.a123456789a123456789a123456789a123456789a123456789a123456789.a123456789a123456789" }, "--helo" },
	{ "helo label over 63 octets", { "--helo", "a1234567890123456789012345678901234567890123456789012345678901234.test" }, "--helo" },
	{ "helo with a space", { "--helo", "mail example.test" }, "--helo" },
	{ "from without a domain", { "--from", "bob@" }, "--from" },
	{ "from with a bad domain byte", { "--from", "bob@exa$mple.test" }, "--from" },
	{ "to without a domain", { "--to", "alice" }, "--to" },
	{ "to with empty local part", { "--to", "@example.test" }, "--to" },
	{ "unreadable message file", { "--ip", "192.0.2.1", "--message", "/nonexistent/msg.eml" }, "--message" },
	{ "unreadable bounce file", { "--bounce", "@/nonexistent/bounce.txt" }, "--bounce" },
	{ "empty bounce text", { "--bounce", "" }, "--bounce" },
	{ "unknown check name", { "--ip", "192.0.2.1", "--checks", "rdns,nosuch" }, "nosuch" },
	{ "resolver that is a name", { "--ip", "192.0.2.1", "--resolver", "dns.example.test" }, "--resolver" },
	{ "resolver port over 65535", { "--ip", "192.0.2.1", "--resolver", "127.0.0.1:70000" }, "--resolver" },
	{ "resolver ipv6 without brackets and port", { "--ip", "192.0.2.1", "--resolver", "[::1:53" }, "--resolver" },
	{ "timeout zero", { "--ip", "192.0.2.1", "--timeout", "0" }, "--timeout" },
	{ "timeout negative", { "--ip", "192.0.2.1", "--timeout", "-3" }, "--timeout" },
	{ "timeout not a number", { "--ip", "192.0.2.1", "--timeout", "soon" }, "--timeout" },
	{ "format unknown", { "--ip", "192.0.2.1", "--format", "xml" }, "--format" },
	{ "fail-on unknown", { "--ip", "192.0.2.1", "--fail-on", "clean" }, "--fail-on" },
	{ "selector with a space", { "--ip", "192.0.2.1", "--selector", "s 1" }, "--selector" },
	{ "unknown option", { "--colour" }, "--colour" },
	{ "nothing to check", { "--format", "json" }, "nothing to check" },
	{ "stray argument", { "--ip", "192.0.2.1", "extra" }, "extra" },
	{ "detail unknown", { "--ip", "192.0.2.1", "--detail", "short" }, "--detail" },
	{ "cache-max negative", { "--ip", "192.0.2.1", "--cache-max", "-1" }, "--cache-max" },
	{ "max-inflight zero", { "--ip", "192.0.2.1", "--max-inflight", "0" }, "--max-inflight" },
	{ "max-qps not a number", { "--ip", "192.0.2.1", "--max-qps", "fast" }, "--max-qps" },
	{ "max-qps negative", { "--ip", "192.0.2.1", "--max-qps", "-5" }, "--max-qps" },
	{ "blocklist-txt unknown", { "--ip", "192.0.2.1", "--blocklist-txt", "never" }, "--blocklist-txt" },
};

Test(cli, every_bad_input_exits_64_and_names_the_argument)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct test_proc p;

		test_why550(&p, "127.0.0.1:9", bc->args);
		cr_expect_eq(p.status, 64, "case '%s': exit %d, stderr: %s", bc->name, p.status, p.err);
		cr_expect(strstr(p.err, bc->mentions) != NULL, "case '%s': stderr does not name '%s': %s",
		    bc->name, bc->mentions, p.err);
		cr_expect_str_eq(p.out, "", "case '%s': printed a document on bad input", bc->name);
		test_proc_release(&p);
	}
}

static char *
write_conf(const char *dir, const char *file, const char *text)
{
	char *path = xasprintf("%s/%s", dir, file);
	FILE *fp;

	mkdir(dir, 0700);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

struct conf_case {
	const char *name;
	const char *text;
	const char *where;	/* "file:line" suffix the message must hold */
};

static const struct conf_case conf_cases[] = {
	{ "unknown key", "[rdns]\nmax_names = 3\nfrobnicate = 1\n", "bad.conf:3" },
	{ "bad integer", "# comment\n[rdns]\nmax_names = many\n", "bad.conf:3" },
	{ "unknown section", "[nosuchcheck]\nx = 1\n", "bad.conf:1" },
	{ "line without equals", "[rdns]\ngeneric_word\n", "bad.conf:2" },
	{ "unterminated quote", "[rdns]\ngeneric_word = \"dsl\n", "bad.conf:2" },
	{ "key before section", "generic_word = dsl\n", "bad.conf:1" },
	{ "dns cache_max not a number", "[dns]\ncache_max = lots\n", "bad.conf:2" },
	{ "dns unknown key", "[dns]\nmax_inflight = 8\nretries = 2\n", "bad.conf:3" },
	{ "list rate without unit", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\nrate = 9\n", "bad.conf:3" },
};

Test(cli, bad_checks_d_exits_78_naming_file_and_line)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conf_cases); i++) {
		const struct conf_case *cc = &conf_cases[i];
		char *dir = xasprintf("%s/conf-%zu", test_env("WHY550_TMP"), i);
		char *path = write_conf(dir, "bad.conf", cc->text);
		const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", dir, "--ip",
		    "192.0.2.1", "--resolver", "127.0.0.1:9", NULL };
		struct test_proc p;

		test_proc_run(&p, argv, NULL, 30);
		cr_expect_eq(p.status, 78, "case '%s': exit %d, stderr: %s", cc->name, p.status, p.err);
		cr_expect(strstr(p.err, cc->where) != NULL, "case '%s': stderr lacks '%s': %s",
		    cc->name, cc->where, p.err);
		test_proc_release(&p);
		unlink(path);
		rmdir(dir);
		free(path);
		free(dir);
	}
}

Test(cli, missing_config_dir_exits_78)
{
	const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", "/nonexistent/checks.d",
	    "--ip", "192.0.2.1", "--resolver", "127.0.0.1:9", NULL };
	struct test_proc p;

	test_proc_run(&p, argv, NULL, 30);
	cr_assert_eq(p.status, 78, "exit %d: %s", p.status, p.err);
	cr_assert(strstr(p.err, "/nonexistent/checks.d") != NULL, "%s", p.err);
	test_proc_release(&p);
}

Test(cli, rdns_json_against_the_fixture_validates)
{
	const char *args[] = { "--ip", "192.0.2.1", "--checks", "rdns", NULL };
	struct test_proc p;
	json_t *doc, *check;

	test_why550(&p, test_ns(), args);
	cr_assert_eq(p.status, 0, "exit %d: %s", p.status, p.err);
	doc = test_valid_json(&p);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "schema")), "why550/1");
	check = test_check(doc, "rdns");
	cr_assert_not_null(check);
	cr_assert_str_eq(json_string_value(json_object_get(check, "status")), "pass");
	cr_assert(json_is_true(json_object_get(check, "fcrdns")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "verdict"),
	    "status")), "clean");
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli, json_is_the_default_when_stdout_is_not_a_terminal)
{
	const char *args[] = { "--ip", "192.0.2.2", "--checks", "rdns", NULL };
	struct test_proc p;
	json_t *doc;

	test_why550(&p, test_ns(), args);
	doc = test_json(p.out);
	cr_assert_not_null(json_object_get(doc, "verdict"));
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli, text_format_puts_the_verdict_first_without_escapes)
{
	const char *args[] = { "--ip", "192.0.2.2", "--checks", "rdns", "--format", "text", NULL };
	struct test_proc p;

	test_why550(&p, test_ns(), args);
	cr_assert(strncmp(p.out, "BLOCKED", 7) == 0, "first line: %.80s", p.out);
	cr_assert_null(strchr(p.out, '\x1b'), "colour escape in a pipe");
	test_proc_release(&p);
}

Test(cli, hostile_ptr_bytes_never_reach_the_terminal)
{
	const char *args[] = { "--ip", "192.0.2.9", "--checks", "rdns", "--format", "text",
	    "--verbose", NULL };
	const char *jargs[] = { "--ip", "192.0.2.9", "--checks", "rdns", NULL };
	struct test_proc p;
	char why[4096];

	test_why550(&p, test_ns(), args);
	cr_assert_null(strchr(p.out, '\x1b'), "an ESC byte from DNS reached the report");
	test_proc_release(&p);
	test_why550(&p, test_ns(), jargs);
	cr_assert(test_schema_valid(p.out, false, why, sizeof(why)), "schema: %s", why);
	test_proc_release(&p);
}

Test(cli, list_checks_names_every_registered_check)
{
	const char *args[] = { "--list-checks", NULL };
	struct test_proc p;
	size_t i;

	test_why550(&p, NULL, args);
	cr_assert_eq(p.status, 0);
	for (i = 0; i < check_registry_len; i++) {
		char *line = xasprintf("\n%s ", check_registry[i]->name);

		/* each check heads a line of its own, its configuration indented below */
		cr_expect(strncmp(p.out, line + 1, strlen(line + 1)) == 0 ||
		    strstr(p.out, line) != NULL,
		    "--list-checks does not name '%s'", check_registry[i]->name);
		free(line);
	}
	test_proc_release(&p);
}

Test(cli, version_and_help_exit_0)
{
	const char *v[] = { "--version", NULL };
	const char *h[] = { "--help", NULL };
	struct test_proc p;

	test_why550(&p, NULL, v);
	cr_assert_eq(p.status, 0);
	cr_assert(strncmp(p.out, "why550 ", 7) == 0, "%s", p.out);
	test_proc_release(&p);
	test_why550(&p, NULL, h);
	cr_assert_eq(p.status, 0);
	cr_assert(strstr(p.out, "Exit status") != NULL);
	test_proc_release(&p);
}

Test(cli, resolver_down_is_inconclusive_never_clean)
{
	const char *args[] = { "--ip", "192.0.2.1", "--checks", "rdns", "--timeout", "1", NULL };
	struct test_proc p;
	json_t *doc;

	test_why550(&p, "127.0.0.1:9", args);
	cr_assert_eq(p.status, 3, "exit %d: %s", p.status, p.err);
	doc = test_json(p.out);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "verdict"),
	    "status")), "inconclusive");
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli, deadline_cuts_a_check_and_reports_it)
{
	/* 192.0.2.7's PTR name never resolves (the fault server swallows it) */
	const char *args[] = { "--ip", "192.0.2.7", "--checks", "rdns", "--timeout", "0.5", NULL };
	struct test_proc p;
	json_t *doc, *check;

	test_why550(&p, test_fault(), args);
	doc = test_json(p.out);
	check = test_check(doc, "rdns");
	cr_assert_str_eq(json_string_value(json_object_get(check, "status")), "error");
	cr_assert_str_eq(json_string_value(json_object_get(check, "reason")), "deadline");
	cr_assert_eq(p.status, 3, "exit %d", p.status);
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli, batch_answers_every_line_in_order)
{
	const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", NULL, "--resolver",
	    test_ns(), "--checks", "rdns", "--batch", "-", NULL };
	const char *input =
	    "{\"ip\":\"192.0.2.1\"}\n"
	    "not json\n"
	    "{\"ip\":\"192.0.2.2\"}\n"
	    "{\"ip\":\"1.2.3\"}\n"
	    "{\"ip\":\"192.0.2.4\",\"helo\":\"mail.example.test\"}\n";
	char *conf = test_path("checks.d");
	struct test_proc p;
	char why[4096];
	char *line, *save = NULL;
	long n = 0;

	argv[2] = conf;
	test_proc_run(&p, argv, input, 60);
	cr_assert_eq(p.status, 64, "bad lines make exit 64, got %d", p.status);
	cr_assert(test_schema_valid(p.out, true, why, sizeof(why)), "schema: %s", why);
	for (line = strtok_r(p.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_t *doc = test_json(line);

		n++;
		cr_assert_eq(json_integer_value(json_object_get(doc, "line")), n, "line %ld out of order", n);
		if (n == 2 || n == 4)
			cr_assert_not_null(json_object_get(doc, "error"), "line %ld", n);
		else
			cr_assert_not_null(json_object_get(doc, "verdict"), "line %ld", n);
		json_decref(doc);
	}
	cr_assert_eq(n, 5, "5 lines in, %ld out", n);
	test_proc_release(&p);
	free(conf);
}

/* Runs a batch of the demo sender from three IPs at detail; the lines (fresh array of n). */
static json_t **
batch_lines(const char *detail, size_t *n)
{
	const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", NULL, "--resolver",
	    test_ns(), "--batch", "-", "--detail", detail, NULL };
	const char *input =
	    "{\"ip\":\"203.0.113.7\",\"helo\":\"mail.shop.test\",\"mail_from\":\"news@shop.test\"}\n"
	    "{\"ip\":\"192.0.2.1\",\"rcpt_to\":\"alice@example.test\"}\n"
	    "{\"ip\":\"198.51.100.254\",\"mail_from\":\"bob@nodmarc.test\"}\n";
	char *conf = test_path("checks.d"), why[4096], *line, *save = NULL;
	json_t **docs = calloc(8, sizeof(*docs));
	struct test_proc p;

	argv[2] = conf;
	*n = 0;
	test_proc_run(&p, argv, input, 60);
	cr_assert(p.status == 2 || p.status == 3, "exit %d: %s", p.status, p.err);
	cr_assert(test_schema_valid(p.out, true, why, sizeof(why)), "%s lines: %s", detail, why);
	for (line = strtok_r(p.out, "\n", &save); line != NULL && *n < 8;
	    line = strtok_r(NULL, "\n", &save))
		docs[(*n)++] = test_json(line);
	test_proc_release(&p);
	free(conf);
	return docs;
}

/* The zones of a full document's list entries that say listed, each once, in order. */
static json_t *
listed_zones(const json_t *doc)
{
	json_t *zones = json_array(), *c, *e, *z;
	size_t i, j, k;

	json_array_foreach(json_object_get(doc, "checks"), i, c)
		json_array_foreach(json_object_get(c, "lists"), j, e) {
			bool seen = false;

			if (strcmp(json_string_value(json_object_get(e, "status")), "listed") != 0)
				continue;
			json_array_foreach(zones, k, z)
				seen = seen || json_equal(z, json_object_get(e, "zone"));
			if (!seen)
				json_array_append(zones, json_object_get(e, "zone"));
		}
	return zones;
}

Test(cli, batch_summary_lines_validate_and_carry_the_verdict_of_full_lines)
{
	size_t nf, ns, i, j;
	json_t **full = batch_lines("full", &nf), **sum = batch_lines("summary", &ns);

	cr_assert_eq(nf, 3);
	cr_assert_eq(ns, 3);
	for (i = 0; i < 3; i++) {
		const json_t *fv = json_object_get(full[i], "verdict");
		const json_t *sv = json_object_get(sum[i], "verdict");
		const json_t *fc = json_object_get(fv, "causes"), *sc = json_object_get(sv, "causes");
		const json_t *st = json_object_get(sum[i], "check_status"), *c;

		cr_assert_str_eq(json_string_value(json_object_get(sum[i], "detail")), "summary");
		cr_assert_eq(json_integer_value(json_object_get(sum[i], "line")), (json_int_t)i + 1);
		cr_assert_str_eq(json_string_value(json_object_get(sv, "status")),
		    json_string_value(json_object_get(fv, "status")), "line %zu", i + 1);
		cr_assert_eq(json_array_size(sc), json_array_size(fc), "line %zu", i + 1);
		for (j = 0; j < json_array_size(fc); j++) {
			cr_assert(json_equal(json_object_get(json_array_get(sc, j), "code"),
			    json_object_get(json_array_get(fc, j), "code")), "line %zu cause %zu", i + 1, j);
			cr_assert(json_equal(json_object_get(json_array_get(sc, j), "confidence"),
			    json_object_get(json_array_get(fc, j), "confidence")));
		}
		json_array_foreach(json_object_get(full[i], "checks"), j, c)
			cr_assert(json_equal(json_object_get(st, json_string_value(json_object_get(c,
			    "name"))), json_object_get(c, "status")), "line %zu check %zu", i + 1, j);
		cr_assert_eq(json_object_size(st), json_array_size(json_object_get(full[i], "checks")));
	}
	for (i = 0; i < 3; i++) {
		json_t *want = listed_zones(full[i]);

		cr_assert(json_equal(want, json_object_get(sum[i], "listed")), "line %zu: %s", i + 1,
		    json_dumps(json_object_get(sum[i], "listed"), 0));
		json_decref(want);
	}
	/* the demo IP is on the ZEN fixture's PBL */
	cr_assert_gt(json_array_size(json_object_get(sum[0], "listed")), 0);
	for (i = 0; i < 3; i++) {
		json_decref(full[i]);
		json_decref(sum[i]);
	}
	free(full);
	free(sum);
}
