/* The command line as a user runs it: bad input exits 64 naming the argument, results validate against the schema. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pty.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
	{ "helo with a line break", { "--helo", "mail.example.test\r\nQUIT" }, "--helo" },
	{ "helo with a control character", { "--helo", "mail\x01.example.test" }, "--helo" },
	{ "from without a domain", { "--from", "bob@" }, "--from" },
	{ "from with two at signs", { "--from", "bob@exa@mple.test" }, "--from" },
	{ "from with a control character", { "--from", "bob@example.test\x7f" }, "--from" },
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
	{ "recipient given twice", { "--to", "a@example.test", "--to", "b@example.test" }, "--to" },
	{ "ip given twice", { "--ip", "192.0.2.1", "--ip", "192.0.2.2" }, "--ip" },
	{ "format given twice", { "--ip", "192.0.2.1", "--format", "json", "--format", "text" },
	    "--format" },
	{ "color unknown", { "--ip", "192.0.2.1", "--color", "sometimes" }, "--color" },
	{ "dqs key with a dot", { "--ip", "192.0.2.1", "--dqs-key", "secret.key" }, "--dqs-key" },
	{ "skip of a list checks.d lacks", { "--ip", "192.0.2.1", "--skip-list", "no.such.bl.test" },
	    "no.such.bl.test" },
	{ "unknown short option", { "-x" }, "-x" },
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

Test(cli, version_and_help_exit_0_long_and_short)
{
	static const char *const forms[][2] = { { "--version", "-V" }, { "--help", "-h" } };
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(forms); i++)
		for (j = 0; j < 2; j++) {
			const char *args[] = { forms[i][j], NULL };
			struct test_proc p;

			test_why550(&p, NULL, args);
			cr_assert_eq(p.status, 0, "%s", forms[i][j]);
			if (i == 0)
				cr_assert(strncmp(p.out, "why550 ", 7) == 0, "%s: %s", forms[i][j],
				    p.out);
			else
				cr_assert(strncmp(p.out, "usage: why550", 13) == 0 &&
				    strstr(p.out, "Exit status") != NULL &&
				    strstr(p.out, "--skip-list") != NULL, "%s: %s", forms[i][j], p.out);
			test_proc_release(&p);
		}
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
	/* the bad lines leave the exit to the valid ones, the worst of which (192.0.2.2) is blocked */
	cr_assert_eq(p.status, 2, "exit %d: %s", p.status, p.err);
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

/* The options whose value a message echoes, each with what must come with it. */
struct echo_case {
	const char *option;
	int status;
	const char *extra[3];	/* more arguments, NULL-terminated */
};

static const struct echo_case echo_cases[] = {
	{ "--format", 64, { "--ip", "192.0.2.1", NULL } },
	{ "--fail-on", 64, { "--ip", "192.0.2.1", NULL } },
	{ "--resolver", 64, { "--ip", "192.0.2.1", NULL } },
	{ "--checks", 64, { "--ip", "192.0.2.1", NULL } },
	{ "--jobs", 64, { "--ip", "192.0.2.1", NULL } },
	{ "--timeout", 64, { "--ip", "192.0.2.1", NULL } },
	{ "--batch", 64, { NULL } },
	{ "--config-dir", 78, { "--ip", "192.0.2.1", NULL } },
	{ "--color", 64, { "--ip", "192.0.2.1", NULL } },
	{ "--skip-list", 64, { "--ip", "192.0.2.1", NULL } },
};

/* Runs why550 with option value and the case's other arguments; no --config-dir of its own for that case. */
static void
run_echo(struct test_proc *p, const struct echo_case *ec, const char *value)
{
	const char *argv[12];
	char *conf = test_path("checks.d");
	size_t n = 0, i;

	argv[n++] = test_env("WHY550_BIN");
	if (strcmp(ec->option, "--config-dir") != 0) {
		argv[n++] = "--config-dir";
		argv[n++] = conf;
	}
	argv[n++] = "--resolver";
	argv[n++] = "127.0.0.1:9";
	for (i = 0; ec->extra[i] != NULL; i++)
		argv[n++] = ec->extra[i];
	argv[n++] = ec->option;
	argv[n++] = value;
	argv[n] = NULL;
	test_proc_run(p, argv, NULL, 30);
	free(conf);
}

Test(cli, every_echoed_argument_is_escaped_and_cut_with_its_length)
{
	const char hostile[] = "a\x1b[31mb\x07" "c\xff";
	size_t big_len = 120 * 1024, i;
	char *big = malloc(big_len + 1), want[64];

	cr_assert_not_null(big);
	memset(big, 'x', big_len);
	big[big_len] = '\0';
	snprintf(want, sizeof(want), "... (%zu bytes)", big_len);
	for (i = 0; i < ARRAY_SIZE(echo_cases); i++) {
		const struct echo_case *ec = &echo_cases[i];
		struct test_proc p;

		run_echo(&p, ec, hostile);
		cr_expect_eq(p.status, ec->status, "%s: exit %d: %s", ec->option, p.status, p.err);
		cr_expect(strpbrk(p.err, "\x1b\x07\xff") == NULL, "%s: raw bytes reach stderr: %s",
		    ec->option, p.err);
		cr_expect_not_null(strstr(p.err, "a\\x1b[31mb\\x07c\\xff"), "%s: %s", ec->option,
		    p.err);
		test_proc_release(&p);
		run_echo(&p, ec, big);
		cr_expect_eq(p.status, ec->status, "%s: exit %d", ec->option, p.status);
		cr_expect_lt(strlen(p.err), 2048, "%s: %zu bytes on stderr", ec->option,
		    strlen(p.err));
		cr_expect_not_null(strstr(p.err, want), "%s: %.300s", ec->option, p.err);
		test_proc_release(&p);
	}
	free(big);
}

/* A copy of the shipped checks.d in a fresh folder under the test's temp dir. */
static char *
copy_checks_d(const char *name)
{
	char *dir = xasprintf("%s/%s", test_env("WHY550_TMP"), name);
	char *src = test_path("checks.d");
	char *cmd = xasprintf("rm -rf '%s' && mkdir -p '%s' && cp '%s'/*.conf '%s'/", dir, dir, src,
	    dir);

	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
	free(src);
	return dir;
}

Test(cli, conf_file_that_cannot_be_read_exits_78_naming_it, .timeout = 60)
{
	static const char *const kinds[] = { "dangling", "fifo", "directory" };
	size_t i;

	/* a listed IP: skipping dnsbl.conf used to turn it into a verdict without blocklists */
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *dir = copy_checks_d("conf-unreadable");
		char *path = xasprintf("%s/dnsbl.conf", dir);
		const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", dir, "--resolver",
		    test_ns(), "--ip", "203.0.113.7", "--format", "json", NULL };
		struct test_proc p;

		cr_assert_eq(unlink(path), 0);
		if (strcmp(kinds[i], "dangling") == 0)
			cr_assert_eq(symlink("gone.conf", path), 0);
		else if (strcmp(kinds[i], "fifo") == 0)
			cr_assert_eq(mkfifo(path, 0600), 0);
		else
			cr_assert_eq(mkdir(path, 0700), 0);
		test_proc_run(&p, argv, NULL, 30);
		cr_expect_eq(p.status, 78, "%s: exit %d: %s", kinds[i], p.status, p.err);
		cr_expect_not_null(strstr(p.err, "dnsbl.conf: "), "%s: %s", kinds[i], p.err);
		cr_expect_str_eq(p.out, "", "%s: a document was printed", kinds[i]);
		test_proc_release(&p);
		free(path);
		free(dir);
	}
}

Test(cli, configuration_that_configures_no_check_or_no_list_exits_78, .timeout = 60)
{
	static const struct {
		const char *files;		/* shipped files kept, by shell pattern */
		const char *checks;		/* --checks, or NULL */
		int status;
		const char *says;
	} cases[] = {
		{ "", NULL, 78, "no .conf file" },
		{ "psl.conf verdict.conf", NULL, 78, "no [dnsbl \"zone\"] list" },
		{ "psl.conf verdict.conf", "rdns,helo", 78, "configures none of the checks to run" },
		{ "rdns.conf", "helo", 78, "configures none of the checks to run" },
		{ "rdns.conf", NULL, 78, "no [dnsbl \"zone\"] list" },
		{ "rdns.conf dnsbl.conf", NULL, 78, "no [dbl \"zone\"] list" },
		{ "rdns.conf", "rdns", 0, NULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *dir = xasprintf("%s/conf-none-%zu", test_env("WHY550_TMP"), i);
		char *src = test_path("checks.d");
		char *cmd = xasprintf("rm -rf '%s' && mkdir -p '%s' && for f in %s; do "
		    "cp '%s'/$f '%s'/; done", dir, dir, cases[i].files, src, dir);
		const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", dir, "--resolver",
		    test_ns(), "--ip", "192.0.2.1", "--format", "json", NULL, NULL, NULL };
		struct test_proc p;

		cr_assert_eq(system(cmd), 0, "%s", cmd);
		if (cases[i].checks != NULL) {
			argv[9] = "--checks";
			argv[10] = cases[i].checks;
		}
		test_proc_run(&p, argv, NULL, 30);
		cr_expect_eq(p.status, cases[i].status, "case %zu: exit %d: %s", i, p.status, p.err);
		if (cases[i].says != NULL) {
			cr_expect_not_null(strstr(p.err, cases[i].says), "case %zu: %s", i, p.err);
			cr_expect_str_eq(p.out, "", "case %zu: a document was printed", i);
		}
		test_proc_release(&p);
		free(cmd);
		free(src);
		free(dir);
	}
}

Test(cli, repeatable_options_repeat_and_single_ones_say_which_was_doubled)
{
	const char *args[] = { "--ip", "192.0.2.1", "--checks", "rdns", "--resolver", "127.0.0.1:9",
	    "--resolver", NULL, NULL };
	const char *twice[] = { "--ip", "192.0.2.1", "--checks", "rdns", "--checks", "rdns", NULL };
	struct test_proc p;

	args[7] = test_ns();
	test_why550(&p, NULL, args);
	cr_assert_neq(p.status, 64, "--resolver repeats: %s", p.err);
	test_proc_release(&p);
	test_why550(&p, test_ns(), twice);
	cr_assert_eq(p.status, 64);
	cr_assert(strstr(p.err, "--checks: given more than once") != NULL, "%s", p.err);
	test_proc_release(&p);
}

Test(cli, message_dash_reads_standard_input)
{
	const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", NULL, "--resolver",
	    test_ns(), "--checks", "dkim", "--message", "-", NULL };
	char *conf = test_path("checks.d"), *path = test_path("tests/data/demo.eml");
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t n;
	struct test_proc p;
	json_t *doc, *dkim;

	cr_assert_not_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	argv[2] = conf;
	test_proc_run(&p, argv, buf, 60);
	doc = test_valid_json(&p);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "target"),
	    "message")), "-");
	dkim = test_check(doc, "dkim");
	cr_assert_gt(json_array_size(json_object_get(dkim, "signatures")), 0,
	    "the signature of the message on stdin was read");
	json_decref(doc);
	test_proc_release(&p);
	free(conf);
	free(path);
}

Test(cli, list_checks_as_json_validates_and_names_every_check)
{
	const char *args[] = { "--list-checks", "--format", "json", NULL };
	struct test_proc p;
	json_t *doc, *checks, *c, *dnsbl = NULL;
	size_t i, j;

	test_why550(&p, NULL, args);
	cr_assert_eq(p.status, 0, "%s", p.err);
	doc = test_valid_json(&p);
	checks = json_object_get(doc, "checks");
	cr_assert_eq(json_array_size(checks), check_registry_len);
	for (i = 0; i < check_registry_len; i++) {
		bool seen = false;

		json_array_foreach(checks, j, c)
			if (strcmp(json_string_value(json_object_get(c, "name")),
			    check_registry[i]->name) == 0) {
				seen = true;
				if (strcmp(check_registry[i]->name, "dnsbl") == 0)
					dnsbl = c;
			}
		cr_expect(seen, "no '%s'", check_registry[i]->name);
	}
	cr_assert_not_null(dnsbl);
	cr_assert_gt(json_array_size(json_object_get(json_object_get(dnsbl, "settings"), "lists")), 0);
	cr_assert(strstr(json_string_value(json_object_get(doc, "config_dir")), "checks.d") != NULL);
	json_decref(doc);
	test_proc_release(&p);
}

#define DQS_KEY "t3stdqskey4fixture0000000q"

Test(cli, dqs_key_from_option_or_environment_never_appears_in_any_output)
{
	const char *opt[] = { "--ip", "203.0.113.7", "--from", "bob@shop.test", "--checks",
	    "dnsbl,dbl", "--dqs-key", DQS_KEY, NULL };
	const char *text[] = { "--ip", "203.0.113.7", "--from", "bob@shop.test", "--checks",
	    "dnsbl,dbl", "--format", "text", "--verbose", NULL };
	const char *list[] = { "--list-checks", NULL };
	const char *ljson[] = { "--list-checks", "--format", "json", NULL };
	struct test_proc p;
	json_t *doc, *e;
	size_t i;

	test_why550(&p, test_ns(), opt);
	doc = test_valid_json(&p);
	json_array_foreach(json_object_get(test_check(doc, "dnsbl"), "lists"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "zone")), "zen.spamhaus.org") == 0)
			cr_expect(strstr(json_string_value(json_object_get(e, "query")),
			    ".zen.dq.spamhaus.net") != NULL, "asked through DQS");
	cr_expect_null(strstr(p.out, DQS_KEY));
	cr_expect_null(strstr(p.err, DQS_KEY));
	json_decref(doc);
	test_proc_release(&p);

	setenv("WHY550_DQS_KEY", DQS_KEY, 1);
	test_why550(&p, test_ns(), text);
	cr_expect(strstr(p.out, "<dqs-key>.zen.dq.spamhaus.net") != NULL, "%s", p.out);
	cr_expect_null(strstr(p.out, DQS_KEY), "%s", p.out);
	cr_expect_null(strstr(p.err, DQS_KEY));
	test_proc_release(&p);
	test_why550(&p, NULL, list);
	cr_expect(strstr(p.out, "Data Query Service key is set") != NULL);
	cr_expect_null(strstr(p.out, DQS_KEY));
	test_proc_release(&p);
	test_why550(&p, NULL, ljson);
	cr_expect(strstr(p.out, "\"dqs_key_set\": true") != NULL);
	cr_expect_null(strstr(p.out, DQS_KEY));
	test_proc_release(&p);

	/* a bad key in the environment is a configuration error that does not show it */
	setenv("WHY550_DQS_KEY", "n0t-" DQS_KEY, 1);
	test_why550(&p, NULL, list);
	cr_expect_eq(p.status, 78);
	cr_expect(strstr(p.err, "WHY550_DQS_KEY") != NULL, "%s", p.err);
	cr_expect_null(strstr(p.err, DQS_KEY));
	test_proc_release(&p);
	unsetenv("WHY550_DQS_KEY");

	/* nor does a bad one on the command line */
	opt[7] = "bad/" DQS_KEY;
	test_why550(&p, test_ns(), opt);
	cr_expect_eq(p.status, 64);
	cr_expect_null(strstr(p.err, DQS_KEY), "%s", p.err);
	test_proc_release(&p);
}

Test(cli, skip_list_leaves_the_list_out_of_the_run)
{
	const char *args[] = { "--ip", "198.51.100.254", "--checks", "dnsbl", "--skip-list",
	    "zen.spamhaus.org", "--skip-list", "psbl.surriel.com", NULL };
	struct test_proc p;
	json_t *doc, *e, *dnsbl;
	size_t i;

	test_why550(&p, test_ns(), args);
	cr_assert_eq(p.status, 0, "%s", p.err);
	doc = test_valid_json(&p);
	dnsbl = test_check(doc, "dnsbl");
	cr_assert_str_eq(json_string_value(json_object_get(dnsbl, "status")), "pass");
	json_array_foreach(json_object_get(dnsbl, "lists"), i, e) {
		const char *z = json_string_value(json_object_get(e, "zone"));

		cr_expect(strcmp(z, "zen.spamhaus.org") != 0 && strcmp(z, "psbl.surriel.com") != 0,
		    "%s was asked", z);
	}
	cr_assert_eq(json_array_size(json_object_get(dnsbl, "not_checked")), 2);
	json_decref(doc);
	test_proc_release(&p);
}

Test(cli, refused_list_is_named_with_its_fix_in_text_and_json)
{
	const char *args[] = { "--ip", "198.51.100.254", "--checks", "dnsbl", "--format", "text",
	    NULL };
	struct test_proc p;

	test_why550(&p, test_ns(), args);
	cr_assert_eq(p.status, 0, "one list refused, the others answered: %s", p.err);
	cr_assert(strncmp(p.out, "CLEAN - ", 8) == 0, "%s", p.out);
	cr_assert(strstr(p.out, "\nNote: lists not checked: zen.spamhaus.org (refused") != NULL,
	    "%s", p.out);
	cr_assert(strstr(p.out, "--dqs-key") != NULL, "%s", p.out);
	test_proc_release(&p);
}

Test(cli, dead_resolver_is_named_as_such)
{
	const char *text[] = { "--ip", "192.0.2.1", "--checks", "rdns", "--timeout", "1",
	    "--format", "text", NULL };
	const char *json[] = { "--ip", "192.0.2.1", "--checks", "rdns", "--timeout", "1", NULL };
	struct test_proc p;

	test_why550(&p, "127.0.0.1:1", text);
	cr_assert_eq(p.status, 3);
	cr_assert(strncmp(p.out, "INCONCLUSIVE - 127.0.0.1:1 answered no query", 44) == 0, "%s",
	    p.out);
	test_proc_release(&p);
	test_why550(&p, "127.0.0.1:1", json);
	cr_assert_eq(p.status, 3);
	cr_assert(strstr(p.err, "127.0.0.1:1 answered no query") != NULL, "%s", p.err);
	test_proc_release(&p);
	/* a resolver that answers is never named so */
	test_why550(&p, test_ns(), json);
	cr_assert_null(strstr(p.err, "answered no query"), "%s", p.err);
	test_proc_release(&p);
}

/*
 * Runs why550 (args after the binary, --config-dir added) on a terminal
 * of cols columns; its output (CR LF as the terminal gives it) and exit status.
 */
static int
run_on_tty(const char *const *args, unsigned short cols, char **out)
{
	struct winsize ws = { .ws_row = 50, .ws_col = cols };
	const char *argv[32];
	char *conf = test_path("checks.d"), buf[4096];
	struct strbuf sb;
	int fd, wst;
	size_t n = 0, i;
	int64_t end = now_ms() + 30000;
	pid_t pid;

	argv[n++] = test_env("WHY550_BIN");
	argv[n++] = "--config-dir";
	argv[n++] = conf;
	for (i = 0; args[i] != NULL && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = forkpty(&fd, NULL, NULL, &ws);
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	strbuf_init(&sb);
	while (now_ms() < end) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&pf, 1, 200) <= 0)
			continue;
		/* EIO: the program ended and the terminal closed */
		if ((r = read(fd, buf, sizeof(buf))) <= 0)
			break;
		strbuf_add(&sb, buf, (size_t)r);
	}
	close(fd);
	waitpid(pid, &wst, 0);
	free(conf);
	*out = strbuf_detach(&sb, NULL);
	return WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
}

/* The widest line of text, in bytes (the report here is ASCII). */
static size_t
widest(const char *text)
{
	size_t max = 0, n;

	for (; *text != '\0'; text += n + (text[n] != '\0')) {
		n = strcspn(text, "\r\n");
		if (n > max)
			max = n;
		if (text[n] == '\r' && text[n + 1] == '\n')
			text++;
	}
	return max;
}

Test(cli, text_report_on_a_terminal_uses_its_width_beyond_80)
{
	const char *args[] = { "--ip", "203.0.113.7", "--checks", "dnsbl", "--resolver", NULL,
	    "--color", "never", NULL };
	char *out;

	args[5] = test_ns();
	cr_assert_eq(run_on_tty(args, 132, &out), 2);
	cr_assert(strncmp(out, "BLOCKED LIKELY", 14) == 0, "text on a terminal: %.40s", out);
	cr_expect(widest(out) > 80 && widest(out) <= 132, "widest line %zu", widest(out));
	free(out);
	/* a narrow terminal still gets 80 columns */
	cr_assert_eq(run_on_tty(args, 60, &out), 2);
	cr_expect(widest(out) > 60 && widest(out) <= 80, "widest line %zu", widest(out));
	free(out);
}

Test(cli, color_follows_the_option_then_no_color_then_the_terminal)
{
	const char *args[] = { "--ip", "203.0.113.7", "--checks", "dnsbl", "--resolver", NULL,
	    "--format", "text", "--color", NULL, NULL };
	const char *plain[] = { "--ip", "203.0.113.7", "--checks", "dnsbl", "--resolver", NULL,
	    NULL };
	struct test_proc p;
	char *out;

	args[5] = plain[5] = test_ns();
	args[9] = "always";
	test_why550(&p, NULL, args);
	cr_expect_not_null(strchr(p.out, '\x1b'), "always: colour in a pipe too");
	test_proc_release(&p);
	setenv("NO_COLOR", "1", 1);
	test_why550(&p, NULL, args);
	cr_expect_not_null(strchr(p.out, '\x1b'), "always wins over NO_COLOR");
	test_proc_release(&p);
	cr_assert_eq(run_on_tty(plain, 100, &out), 2);
	cr_expect_null(strchr(out, '\x1b'), "auto on a terminal with NO_COLOR");
	free(out);
	unsetenv("NO_COLOR");
	cr_assert_eq(run_on_tty(plain, 100, &out), 2);
	cr_expect_not_null(strchr(out, '\x1b'), "auto on a terminal");
	free(out);
	args[9] = "never";
	cr_assert_eq(run_on_tty(args, 100, &out), 2);
	cr_expect_null(strchr(out, '\x1b'), "never on a terminal");
	free(out);
}
