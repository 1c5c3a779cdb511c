/* Tests of the bounce rules (checks/bounce/rules.c): loading checks.d, overriding, refusing bad sections. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bounce/classify.h"
#include "checks/bounce/rules.h"
#include "core/conf.h"
#include "support.h"

static void
classify(const struct bounce_rules *r, const char *text, struct bounce_class *c)
{
	bounce_classify(r, text, strlen(text), c);
}

Test(bounce_rules, users_add_and_override_wordings)
{
	static const char local[] =
	    "[bounce \"phrase acme_quota\"]\n"
	    "cause = mailbox_full\n"
	    "match = acme storage exhausted\n"
	    "[bounce \"code X.7.1\"]\n"
	    "meaning = Refused by the local content filter\n"
	    "cause = content_rejected\n"
	    "strength = strong\n";
	struct bounce_rules *r = bounce_rules_new();
	struct conf *conf = conf_new();
	char *path = test_path("checks.d/bounce.conf");
	struct bounce_class c;
	struct error err;

	cr_assert_eq(conf_load_file(conf, path, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(conf_load_file(conf, "zz-local.conf", local, &err), 0, "%s", err.msg);
	cr_assert_eq(bounce_rules_load(r, conf, &err), 0, "%s", err.msg);
	classify(r, "452 4.3.0 ACME storage exhausted for this user", &c);
	cr_expect_eq(c.cause, CAUSE_MAILBOX_FULL);
	bounce_class_release(&c);
	classify(r, "550 5.7.1 go away", &c);
	cr_expect_eq(c.cause, CAUSE_CONTENT_REJECTED, "the later X.7.1 replaces the shipped one");
	cr_expect_str_eq(c.meaning, "Refused by the local content filter");
	bounce_class_release(&c);
	conf_free(conf);
	free(path);
	bounce_rules_free(r);
}

Test(bounce_rules, bad_rules_are_refused_with_file_and_line)
{
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "[bounce \"phrase x\"]\ncause = mailbox_full\nmatch = (unclosed\n", "t.conf:3:" },
		{ "[bounce \"phrase x\"]\ncause = no_such_cause\nmatch = a\n", "not a cause code" },
		{ "[bounce \"phrase x\"]\ncause = mailbox_full\n", "needs at least one match" },
		{ "[bounce \"code 5.x.1\"]\nmeaning = m\n", "is not a code" },
		{ "[bounce \"code X.1.9-3\"]\nmeaning = m\n", "is not a code" },
		{ "[bounce \"list x\"]\nmatch = listed here\n", "needs a (group)" },
		{ "[bounce \"thing x\"]\nmatch = a\n", "code, phrase, list, host or provider" },
		{ "[bounce \"phrase x\"]\ncause = mailbox_full\nstrength = huge\nmatch = a\n",
		  "is not weak, strong or decisive" },
		{ "[bounce]\nzone = x\n", "zone" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct bounce_rules *r = bounce_rules_new();
		struct conf *conf = conf_new();
		struct error err;

		cr_assert_eq(conf_load_file(conf, "t.conf", bad[i].text, &err), 0, "%s", err.msg);
		cr_expect_eq(bounce_rules_load(r, conf, &err), -1, "case %zu loaded", i);
		cr_expect_not_null(strstr(err.msg, bad[i].want), "case %zu: '%s'", i, err.msg);
		conf_free(conf);
		bounce_rules_free(r);
	}
}

Test(bounce_rules, code_labels_give_class_subject_and_detail_range)
{
	static const char text[] =
	    "[bounce \"code 4.7.500-699\"]\nmeaning = busy\ncause = rate_limited\n"
	    "[bounce \"code X.1.1\"]\nmeaning = bad mailbox\nstrength = weak\n"
	    "[bounce \"code 552\"]\nmeaning = storage\n";
	struct bounce_rules *r = bounce_rules_new();
	struct conf *conf = conf_new();
	struct error err;

	cr_assert_eq(conf_load_file(conf, "t.conf", text, &err), 0, "%s", err.msg);
	cr_assert_eq(bounce_rules_load(r, conf, &err), 0, "%s", err.msg);
	cr_assert_eq(r->ncodes, 3);
	cr_expect(!r->codes[0].basic && r->codes[0].cls == 4 && r->codes[0].subject == 7);
	cr_expect(r->codes[0].lo == 500 && r->codes[0].hi == 699);
	cr_expect_eq(r->codes[0].cause, CAUSE_RATE_LIMITED);
	cr_expect_eq(r->codes[0].strength, BOUNCE_STRONG, "strong unless said otherwise");
	cr_expect(r->codes[1].cls == 0 && r->codes[1].lo == 1 && r->codes[1].hi == 1, "X is any class");
	cr_expect_eq(r->codes[1].cause, CAUSE_NONE, "a code with a meaning only");
	cr_expect_eq(r->codes[1].strength, BOUNCE_WEAK);
	cr_expect(r->codes[2].basic && r->codes[2].lo == 552 && r->codes[2].hi == 552);
	conf_free(conf);
	bounce_rules_free(r);
}
