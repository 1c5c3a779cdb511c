/* Tests of SPF macro expansion (RFC 7208 section 7), with the examples of section 7.4. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/spf/parse.h"
#include "checks/spf/macro.h"
#include "core/util.h"

static const unsigned char ip4[4] = { 192, 0, 2, 3 };
static const unsigned char ip6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcb, 0x01,
};
static int validated_calls;

static char *
validated(void *arg)
{
	(void)arg;
	validated_calls++;
	return xstrdup("mx.example.com");
}

static void
env4(struct spf_macro_env *env)
{
	memset(env, 0, sizeof(*env));
	env->sender = "strong-bad@email.example.com";
	env->local = "strong-bad";
	env->sender_domain = "email.example.com";
	env->domain = "email.example.com";
	env->family = AF_INET;
	env->addr = ip4;
	env->helo = "mx.example.org";
	env->receiver = "receiver.example";
	env->timestamp = 1234567890;
	env->validated = validated;
}

static void
expect_expansion(const struct spf_macro_env *env, const char *in, const char *want, bool exp)
{
	char *got = spf_macro_expand(in, strlen(in), env, exp);

	cr_expect_not_null(got, "'%s' did not expand", in);
	if (got != NULL)
		cr_expect_str_eq(got, want, "'%s' gave '%s', want '%s'", in, got, want);
	free(got);
}

Test(spf_macro, rfc7208_section_7_4_examples_expand)
{
	static const char *const cases[][2] = {
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" },
		{ "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" },
		{ "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" },
		{ "%{d1}", "com" },
		{ "%{dr}", "com.example.email" },
		{ "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" },
		{ "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" },
		{ "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
		    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
		    "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net" },
	};
	struct spf_macro_env env;
	size_t i;

	env4(&env);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_expansion(&env, cases[i][0], cases[i][1], false);
}

Test(spf_macro, ipv6_i_is_dotted_nibbles_and_v_is_ip6)
{
	struct spf_macro_env env;

	env4(&env);
	env.family = AF_INET6;
	env.addr = ip6;
	expect_expansion(&env, "%{ir}.%{v}._spf.%{d2}",
	    "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com",
	    false);
	expect_expansion(&env, "%{c}", "2001:db8::cb01", true);
}

Test(spf_macro, uppercase_letters_are_url_escaped)
{
	struct spf_macro_env env;

	env4(&env);
	expect_expansion(&env, "%{S}", "strong-bad%40email.example.com", false);
	env.local = "a b/c";
	expect_expansion(&env, "%{L}", "a%20b%2Fc", false);
}

Test(spf_macro, escapes_and_explanation_letters)
{
	struct spf_macro_env env;

	env4(&env);
	expect_expansion(&env, "100%% %_%-x", "100%  %20x", true);
	expect_expansion(&env, "100%%%_%-x", "100% %20x", false);
	expect_expansion(&env, "%{c} at %{t} by %{r} via %{h}",
	    "192.0.2.3 at 1234567890 by receiver.example via mx.example.org", true);
	cr_expect_null(spf_macro_expand("%{c}", 4, &env, false));
	cr_expect_null(spf_macro_expand("a b", 3, &env, false));
	{
		char *s = spf_macro_expand("a b", 3, &env, true);

		cr_expect_str_eq(s, "a b", "a space is literal text in an explanation");
		free(s);
	}
}

Test(spf_macro, p_asks_for_the_validated_name_once)
{
	struct spf_macro_env env;

	env4(&env);
	validated_calls = 0;
	expect_expansion(&env, "%{p}.%{p2}", "mx.example.com.example.com", false);
	cr_expect_eq(validated_calls, 1);
}

Test(spf_macro, transformers_over_the_part_count_keep_all_parts)
{
	struct spf_macro_env env;

	env4(&env);
	expect_expansion(&env, "%{d128}", "email.example.com", false);
	expect_expansion(&env, "%{d99999999999}", "email.example.com", false);
	expect_expansion(&env, "%{l1-}", "bad", false);
	expect_expansion(&env, "%{s2.=}", "example.com", false);
}

Test(spf_macro, syntax_errors_are_refused)
{
	static const char *const bad[] = {
		"%", "%{", "%{d", "%{x}", "%{d0}", "%{dr", "%{d2r+x}", "%a", "\x7f", "caf\xc3\xa9",
	};
	struct spf_syntax err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(spf_macro_check(bad[i], strlen(bad[i]), true, &err), -1,
		    "'%s' should be refused", bad[i]);
}

Test(spf_macro, long_names_lose_labels_on_the_left)
{
	char name[400];
	size_t i;

	for (i = 0; i < 300; i++)
		name[i] = (i % 10 == 9) ? '.' : 'a';
	strcpy(name + 300, "example.com.");
	spf_domain_trim(name);
	cr_expect_leq(strlen(name), 253);
	cr_expect(strlen(name) > 240);
	cr_expect_eq(strcmp(name + strlen(name) - 11, "example.com"), 0);
	cr_expect_neq(name[0], '.');
}
