/* Tests of checks/recipient.c against the fixture zones: syntax, typos, the domain's mail routing, IDN, timeouts. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "checks/check.h"
#include "core/conf.h"
#include "core/target.h"

extern const struct check_ops check_recipient;

/* The test configuration: example.test is a common mail domain here only. */
static const char test_conf[] =
    "[recipient]\n"
    "common_domain = example.test\n"
    "common_domain = dom-mx.test\n";

/* Runs the check for rcpt (stored as given, bypassing the --to validation) with conf (NULL: checks.d). */
static struct report *
run_rcpt(const char *server, const char *rcpt, const char *conf_text)
{
	struct conf *conf = conf_new();
	struct error err = { "" };
	struct target t;
	struct dns_engine *eng;
	struct dns *dns;
	struct report *rep;
	void *ctx = NULL;
	char *dir = NULL;

	if (conf_text != NULL) {
		cr_assert_eq(conf_load_file(conf, "test.conf", conf_text, &err), 0, "%s", err.msg);
	} else {
		dir = test_path("checks.d");
		cr_assert_eq(conf_load_dir(conf, dir, &err), 0, "%s", err.msg);
	}
	cr_assert_eq(check_recipient.configure(&ctx, conf, &err), 0, "%s", err.msg);
	target_init(&t);
	t.rcpt_to = xstrdup(rcpt);
	eng = test_engine(server, 300, 2);
	dns = dns_new(eng, now_ms() + 5000);
	rep = report_new(&check_recipient);
	check_recipient.run(ctx, &t, dns, rep);
	dns_free(dns);
	dns_engine_free(eng);
	check_recipient.free(ctx);
	target_release(&t);
	conf_free(conf);
	free(dir);
	return rep;
}

Test(recipient, domain_routing_is_reported_as_the_recipient_domain)
{
	struct report *rep = run_rcpt(test_ns(), "alice@dom-nullmx.test", test_conf);
	const struct finding *f = report_find(rep, "null_mx");

	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "recipient domain 'dom-nullmx.test'") != NULL, "%s",
	    f->message);
	cr_expect_eq(report_status(rep), CHECK_FAIL);
	cr_expect_str_eq(test_data_str(rep, "mail"), "null_mx", "the routing is in the data");
	cr_expect(json_is_true(json_object_get(report_data_const(rep), "exists")));
	cr_expect_str_eq(test_data_str(rep, "syntax"), "valid");
	report_free(rep);
}

Test(recipient, invalid_address_fails_with_the_problem)
{
	struct report *rep = run_rcpt(test_ns(), "al..ice@dom-mx.test", test_conf);
	const struct finding *f = report_find(rep, "address_invalid");

	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_FAIL);
	cr_expect_str_eq(json_string_value(json_object_get(f->data, "problem")), "dot_double");
	cr_expect_str_eq(test_data_str(rep, "syntax"), "dot_double");
	cr_expect_null(report_find(rep, "mx_found"), "no DNS for an invalid address");
	report_free(rep);
}

Test(recipient, address_with_spaces_fails)
{
	struct report *rep = run_rcpt(test_ns(), "alice @dom-mx.test", test_conf);
	const struct finding *f = report_find(rep, "address_invalid");

	cr_assert_not_null(f);
	cr_expect_str_eq(json_string_value(json_object_get(f->data, "problem")), "space_inner");
	report_free(rep);
}

Test(recipient, typo_of_a_common_domain_is_a_suggestion_not_a_failure)
{
	struct report *rep = run_rcpt(test_ns(), "alice@exmaple.test", test_conf);
	const struct finding *f = report_find(rep, "domain_typo");

	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_WARN);
	cr_expect_str_eq(json_string_value(json_object_get(f->data, "suggestion")),
	    "example.test");
	cr_expect_eq(json_integer_value(json_object_get(f->data, "distance")), 1);
	cr_expect(json_is_true(json_object_get(f->data, "domain_receives_mail")),
	    "the squatted typo domain has an address");
	cr_expect_str_eq(test_data_str(rep, "suggestion"), "example.test");
	cr_expect_eq(report_status(rep), CHECK_WARN);
	report_free(rep);
}

Test(recipient, common_domain_itself_is_no_typo)
{
	struct report *rep = run_rcpt(test_ns(), "alice@dom-mx.test", test_conf);

	cr_expect_null(report_find(rep, "domain_typo"));
	cr_expect(json_is_null(json_object_get(report_data_const(rep), "suggestion")));
	report_free(rep);
}

Test(recipient, typo_is_suggested_for_an_invalid_address_too)
{
	struct report *rep = run_rcpt(test_ns(), "alice.@exmaple.test", test_conf);

	cr_expect_not_null(report_find(rep, "address_invalid"));
	cr_expect_not_null(report_find(rep, "domain_typo"));
	report_free(rep);
}

struct typo_case {
	const char *rcpt;
	const char *want;
};

static const struct typo_case shipped_typos[] = {
	{ "alice@gmial.com", "gmail.com" },
	{ "alice@hotmial.com", "hotmail.com" },
	{ "alice@yaho.com", "yahoo.com" },
	{ "alice@outlok.com", "outlook.com" },
	{ "alice@gmail.co", "gmail.com" },
	{ "alice@gmail.con", "gmail.com" },
};

Test(recipient, shipped_list_catches_the_classic_typos)
{
	size_t i;

	/* NSD refuses these names (no such zone): the suggestion needs no answer */
	for (i = 0; i < sizeof(shipped_typos) / sizeof(shipped_typos[0]); i++) {
		struct report *rep = run_rcpt(test_ns(), shipped_typos[i].rcpt, NULL);
		const struct finding *f = report_find(rep, "domain_typo");

		cr_expect_not_null(f, "%s: no suggestion", shipped_typos[i].rcpt);
		if (f != NULL)
			cr_expect_str_eq(json_string_value(json_object_get(f->data, "suggestion")),
			    shipped_typos[i].want, "%s", shipped_typos[i].rcpt);
		report_free(rep);
	}
}

Test(recipient, shipped_list_leaves_real_providers_alone)
{
	static const char *const real[] = {
		"alice@gmail.com", "alice@ymail.com", "alice@gmx.de", "alice@mail.com",
	};
	size_t i;

	for (i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		struct report *rep = run_rcpt(test_ns(), real[i], NULL);

		cr_expect_null(report_find(rep, "domain_typo"), "%s", real[i]);
		report_free(rep);
	}
}

Test(recipient, unicode_domain_is_checked_as_alabel)
{
	struct report *rep = run_rcpt(test_ns(), "alice@B\xc3\xbc" "cher.test", test_conf);
	const struct finding *f = report_find(rep, "domain_idn");

	cr_assert_not_null(f);
	cr_expect_str_eq(json_string_value(json_object_get(f->data, "domain")),
	    "xn--bcher-kva.test");
	cr_expect_str_eq(test_data_str(rep, "domain_unicode"), "b\xc3\xbc" "cher.test");
	cr_expect_not_null(report_find(rep, "mx_found"));
	cr_expect_eq(report_status(rep), CHECK_PASS);
	report_free(rep);
}

Test(recipient, target_accepts_unicode_domains_as_alabels)
{
	struct target t;
	struct error err = { "" };

	target_init(&t);
	cr_assert_eq(target_set_rcpt_to(&t, "--to", "alice@B\xc3\xbc" "cher.test", &err), 0,
	    "%s", err.msg);
	cr_expect_str_eq(t.rcpt_domain, "xn--bcher-kva.test");
	cr_expect_str_eq(t.rcpt_to, "alice@B\xc3\xbc" "cher.test", "the given form is kept");
	cr_assert_eq(target_set_mail_from(&t, "--from", "news@b\xc3\xbc" "cher.test.", &err), 0,
	    "%s", err.msg);
	cr_expect_str_eq(t.mail_domain, "xn--bcher-kva.test");
	cr_expect_eq(target_set_rcpt_to(&t, "--to", "alice@\xe2\x98\x83.test", &err), -1);
	cr_expect(strstr(err.msg, "not a valid internationalised name") != NULL, "%s", err.msg);
	cr_expect_str_eq(t.rcpt_domain, "xn--bcher-kva.test", "a refused value changes nothing");
	target_release(&t);
}

Test(recipient, typo_domain_whose_routing_is_unknown_is_not_said_to_receive_mail)
{
	/* the fault server never answers names whose first label is "timeout" */
	struct report *rep = run_rcpt(test_fault(), "alice@timeout.dom-mx.test",
	    "[recipient]\ncommon_domain = timeout.dom-mx.tst\n");
	const struct finding *f = report_find(rep, "domain_typo");

	cr_assert_not_null(f);
	cr_expect(json_is_null(json_object_get(f->data, "domain_receives_mail")));
	cr_expect_not_null(report_find(rep, "domain_lookup_failed"));
	cr_expect_eq(report_status(rep), CHECK_ERROR, "%s", check_status_name(report_status(rep)));
	report_free(rep);
}

Test(recipient, typo_domain_with_a_null_mx_is_said_to_receive_no_mail)
{
	struct report *rep = run_rcpt(test_ns(), "alice@dom-nullmx.test",
	    "[recipient]\ncommon_domain = dom-nullmx.tst\n");
	const struct finding *f = report_find(rep, "domain_typo");

	cr_assert_not_null(f);
	cr_expect(json_is_false(json_object_get(f->data, "domain_receives_mail")));
	report_free(rep);
}

Test(recipient, address_literal_skips_dns)
{
	struct report *rep = run_rcpt(test_ns(), "alice@[192.0.2.1]", test_conf);

	cr_expect_not_null(report_find(rep, "domain_literal"));
	cr_expect_null(json_object_get(report_data_const(rep), "mail"));
	report_free(rep);
}

Test(recipient, bad_common_domain_names_file_and_line)
{
	struct conf *conf = conf_new();
	struct error err = { "" };
	void *ctx = NULL;

	cr_assert_eq(conf_load_file(conf, "r.conf", "[recipient]\ncommon_domain = gmail\n",
	    &err), 0);
	cr_expect_eq(check_recipient.configure(&ctx, conf, &err), -1);
	cr_expect_str_eq(err.msg, "r.conf:2: common_domain 'gmail' is not a domain name");
	conf_free(conf);
}

/* A config dir with every shipped file plus one that makes example.test common. */
static char *
make_test_config_dir(void)
{
	char *src = test_path("checks.d");
	char *dir = xasprintf("%s/recipient-conf-%ld", test_env("WHY550_TMP"), (long)getpid());
	char *path;
	struct dirent *e;
	DIR *d;
	FILE *f;

	mkdir(dir, 0700);
	d = opendir(src);
	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char *from;

		if (n < 6 || strcmp(e->d_name + n - 5, ".conf") != 0)
			continue;
		from = xasprintf("%s/%s", src, e->d_name);
		path = xasprintf("%s/%s", dir, e->d_name);
		unlink(path);
		cr_assert_eq(symlink(from, path), 0);
		free(from);
		free(path);
	}
	closedir(d);
	path = xasprintf("%s/zz-test-domains.conf", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(test_conf, f);
	fclose(f);
	free(path);
	free(src);
	return dir;
}

Test(recipient, cli_json_validates_and_suggests_the_common_domain)
{
	char *dir = make_test_config_dir();
	const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", dir, "--resolver",
	    test_ns(), "--checks", "recipient", "--to", "alice@exmaple.test", "--format", "json",
	    NULL };
	struct test_proc p;
	json_t *doc, *chk;

	test_proc_run(&p, argv, NULL, 60);
	doc = test_valid_json(&p);
	chk = test_check(doc, "recipient");
	cr_assert_not_null(chk);
	cr_expect_str_eq(json_string_value(json_object_get(chk, "status")), "warn");
	cr_expect(test_has_finding(chk, "domain_typo"));
	cr_expect_str_eq(json_string_value(json_object_get(chk, "suggestion")), "example.test");
	json_decref(doc);
	test_proc_release(&p);
	free(dir);
}

Test(recipient, cli_accepts_a_unicode_recipient)
{
	const char *args[] = { "--checks", "recipient", "--to", "alice@b\xc3\xbc" "cher.test",
	    "--format", "json", NULL };
	struct test_proc p;
	json_t *doc, *chk;

	test_why550(&p, test_ns(), args);
	cr_assert_eq(p.status, 0, "exit %d: %s", p.status, p.err);
	doc = test_valid_json(&p);
	chk = test_check(doc, "recipient");
	cr_assert_not_null(chk);
	cr_expect_str_eq(json_string_value(json_object_get(chk, "domain")), "xn--bcher-kva.test");
	cr_expect(test_has_finding(chk, "mx_found"));
	json_decref(doc);
	test_proc_release(&p);
}
