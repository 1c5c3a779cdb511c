/* libFuzzer harness for the SPF record parser and the macro expander: any bytes as a record, a macro string, an explanation and a domain-spec. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/spf/parse.h"
#include "checks/spf/macro.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
validated(void *arg)
{
	(void)arg;
	return xstrdup("host.example.com");
}

static void
expand(const char *s, size_t len, int family, bool exp)
{
	static const unsigned char addr[16] = { 0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8,
	    192, 0, 2, 3 };
	struct spf_macro_env env;
	char *out;

	memset(&env, 0, sizeof(env));
	env.sender = "strong-bad@email.example.com";
	env.local = "strong-bad";
	env.sender_domain = "email.example.com";
	env.domain = "email.example.com";
	env.family = family;
	env.addr = family == AF_INET ? addr + 12 : addr;
	env.helo = "mx.example.org";
	env.receiver = "why550.invalid";
	env.timestamp = 1;
	env.validated = validated;
	out = spf_macro_expand(s, len, &env, exp);
	/* expansion succeeds exactly when the syntax check does */
	if ((out != NULL) != (spf_macro_check(s, len, exp, NULL) == 0))
		abort();
	if (out != NULL)
		spf_domain_trim(out);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct spf_record rec;
	struct spf_syntax err;
	char *copy, *rec_text;
	size_t i;

	/* the record parser on the raw bytes, and with the version in front */
	if (spf_record_parse(&rec, s, size, &err) == 0) {
		for (i = 0; i < rec.nterms; i++)
			if (rec.terms[i].pos >= size)
				abort();
		spf_record_release(&rec);
	} else if (err.pos > size) {
		abort();
	}
	rec_text = xmalloc(size + 7);
	memcpy(rec_text, "v=spf1 ", 7);
	memcpy(rec_text + 7, data, size);
	if (spf_record_parse(&rec, rec_text, size + 7, &err) == 0)
		spf_record_release(&rec);
	else if (err.pos > size + 7)
		abort();
	free(rec_text);

	/* the expander reads no byte past len: give it an unterminated copy */
	copy = xmalloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	expand(copy, size, AF_INET, false);
	expand(copy, size, AF_INET6, true);
	(void)spf_domain_spec_check(copy, size, &err);
	free(copy);
	return 0;
}
