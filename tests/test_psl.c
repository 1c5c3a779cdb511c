/* Tests of the Public Suffix List service (core/psl.c): its lookups, the [psl] setting, and that the setting reaches every check that asks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "core/psl.h"
#include "src/runner.h"

/* A private list in which the fixture domain shop.test is a public suffix. */
static const char private_list[] = "// a private list\ntest\nshop.test\n";

/* The service configured by conf text (NULL: no [psl] section); NULL with err on failure. */
static struct psl_service *
service(const char *text, struct error *err)
{
	struct conf *conf = conf_new();
	struct psl_service *p;

	if (text != NULL)
		cr_assert_eq(conf_load_file(conf, "psl.conf", text, err), 0, "%s", err->msg);
	p = psl_service_new(conf, err);
	conf_free(conf);
	return p;
}

static struct psl_service *
default_service(void)
{
	struct error err = { "" };
	struct psl_service *p = service(NULL, &err);

	cr_assert_not_null(p, "%s", err.msg);
	return p;
}

/* "[psl]\nfile = <a temporary copy of private_list>\n"; *path is the caller's to unlink. */
static char *
private_setting(char **path)
{
	*path = test_temp_file(private_list, strlen(private_list));
	return xasprintf("[psl]\nfile = %s\n", *path);
}

static void
expect_org(const struct psl_service *p, const char *name, const char *want)
{
	char *org = psl_service_org_domain(p, name);

	cr_expect_str_eq(org, want, "organisational domain of %s", name);
	free(org);
}

Test(psl, listed_suffix_keeps_one_more_label)
{
	struct psl_service *p = default_service();

	expect_org(p, "deep.mail.example.co.uk", "example.co.uk");
	expect_org(p, "Mail.Example.COM.", "example.com");
	psl_service_free(p);
}

Test(psl, unlisted_tld_uses_the_default_rule)
{
	struct psl_service *p = default_service();
	const char *name = "a.b.dmarc.test";

	/* .test is not in the list: the "*" rule makes the TLD the suffix */
	expect_org(p, name, "dmarc.test");
	expect_org(p, "dmarc.test", "dmarc.test");
	cr_expect_eq(psl_service_registrable(p, name), name + 4, "borrowed from the name");
	psl_service_free(p);
}

Test(psl, public_suffix_has_no_registrable_domain_and_is_its_own_org_domain)
{
	struct psl_service *p = default_service();

	cr_expect_null(psl_service_registrable(p, "co.uk"));
	expect_org(p, "co.uk", "co.uk");
	expect_org(p, "CO.UK.", "co.uk");
	psl_service_free(p);
}

Test(psl, file_setting_replaces_the_default_list)
{
	struct error err = { "" };
	char *path, *text = private_setting(&path);
	struct psl_service *p = service(text, &err);

	cr_assert_not_null(p, "%s", err.msg);
	cr_expect_null(psl_service_registrable(p, "shop.test"));
	expect_org(p, "a.news.shop.test", "news.shop.test");
	expect_org(p, "a.b.dmarc.test", "dmarc.test");
	cr_expect_str_eq(psl_service_source(p), path);
	psl_service_free(p);
	unlink(path);
	free(path);
	free(text);
}

Test(psl, last_file_setting_wins)
{
	struct error err = { "" };
	char *path, *text = private_setting(&path);
	char *both = xasprintf("[psl]\nfile = /nonexistent/psl.dat\n%s", text);
	struct psl_service *p = service(both, &err);

	cr_assert_not_null(p, "%s", err.msg);
	cr_expect_str_eq(psl_service_source(p), path);
	psl_service_free(p);
	unlink(path);
	free(path);
	free(text);
	free(both);
}

Test(psl, unreadable_file_names_the_section_and_the_file)
{
	struct error err = { "" };

	cr_assert_null(service("\n[psl]\nfile = /nonexistent/psl.dat\n", &err));
	cr_expect(strstr(err.msg, "psl.conf:2") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "'/nonexistent/psl.dat'") != NULL, "%s", err.msg);
}

Test(psl, unknown_key_and_label_are_refused_with_file_and_line)
{
	struct error err = { "" };

	cr_assert_null(service("[psl]\npsl_file = x\n", &err));
	cr_expect(strstr(err.msg, "psl.conf:2") != NULL, "%s", err.msg);
	cr_assert_null(service("[psl \"x\"]\n", &err));
	cr_expect(strstr(err.msg, "psl.conf:1") != NULL, "%s", err.msg);
}

/* A domain list asked for registered domains (fixture zone dom.bl.test). */
#define REGLIST \
	"[dbl \"dom.bl.test\"]\n" \
	"code = 127.0.0.2 listed\n" \
	"registered_domain = yes\n"

/* The organisational domain each user of the list saw for --from FROM under conf text. */
struct seen {
	char *dmarc, *sender_domain, *dbl;
};

static char *
field(const struct run_result *res, const char *check, const char *key)
{
	const json_t *data = NULL, *v;
	size_t i;

	for (i = 0; i < res->nreports; i++)
		if (strcmp(report_name(res->reports[i]), check) == 0)
			data = report_data_const(res->reports[i]);
	cr_assert_not_null(data, "no report of %s", check);
	if (strcmp(check, "dbl") == 0)
		data = json_array_get(json_object_get(data, "lists"), 0);
	v = json_object_get(data, key);
	cr_assert(json_is_string(v), "%s has no string %s", check, key);
	return xstrdup(json_string_value(v));
}

static void
seen_by_every_user(const char *text, const char *from, struct seen *out)
{
	struct conf *conf = conf_new();
	struct error err = { "" };
	struct run_result res;
	struct dns_engine *eng;
	struct runner *r;
	struct target t;
	bool usage;

	cr_assert_eq(conf_load_file(conf, "test.conf", text, &err), 0, "%s", err.msg);
	r = runner_new(conf, "dmarc,sender_domain,dbl", &usage, &err);
	cr_assert_not_null(r, "%s", err.msg);
	eng = test_engine(test_ns(), 400, 2);
	target_init(&t);
	cr_assert_eq(target_set_mail_from(&t, "--from", from, &err), 0, "%s", err.msg);
	runner_run(r, eng, &t, 20000, &res);
	out->dmarc = field(&res, "dmarc", "org_domain");
	out->sender_domain = field(&res, "sender_domain", "organizational_domain");
	out->dbl = field(&res, "dbl", "subject");
	run_result_release(&res);
	target_release(&t);
	dns_engine_free(eng);
	runner_free(r);
	conf_free(conf);
}

static void
seen_release(struct seen *s)
{
	free(s->dmarc);
	free(s->sender_domain);
	free(s->dbl);
}

Test(psl, file_setting_reaches_dmarc_sender_domain_and_dbl)
{
	char *path, *setting = private_setting(&path);
	char *text = xasprintf("%s%s", setting, REGLIST);
	struct seen def, priv;

	/* without the setting, news.shop.test belongs to shop.test */
	seen_by_every_user(REGLIST, "bob@news.shop.test", &def);
	cr_expect_str_eq(def.dmarc, "shop.test");
	cr_expect_str_eq(def.sender_domain, "shop.test");
	cr_expect_str_eq(def.dbl, "shop.test");
	/* the private list makes shop.test a suffix, for every check at once */
	seen_by_every_user(text, "bob@news.shop.test", &priv);
	cr_expect_str_eq(priv.dmarc, "news.shop.test", "dmarc");
	cr_expect_str_eq(priv.sender_domain, "news.shop.test", "sender_domain");
	cr_expect_str_eq(priv.dbl, "news.shop.test", "dbl");
	seen_release(&def);
	seen_release(&priv);
	unlink(path);
	free(path);
	free(setting);
	free(text);
}
