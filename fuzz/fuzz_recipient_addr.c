/* libFuzzer harness for the recipient address parser and the typo suggestions: any bytes as an address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/domain/recipient_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const common[] = {
	"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "yahoo.co.uk",
};

/* What a valid result promises: parts present, within the limits, an ASCII lower-case domain. */
static void
check_valid(const struct recipient_addr *a)
{
	const unsigned char *p;

	if (a->problem != RADDR_OK || a->detail[0] != '\0' || a->local == NULL ||
	    a->domain == NULL || a->domain_ascii == NULL || a->domain_unicode == NULL)
		abort();
	if (a->local[0] == '\0' || strlen(a->local) > RECIPIENT_LOCAL_MAX)
		abort();
	if (a->literal)
		return;
	if (strlen(a->domain_ascii) > 253 || strchr(a->domain_ascii, '.') == NULL)
		abort();
	for (p = (const unsigned char *)a->domain_ascii; *p != '\0'; p++)
		if (*p >= 0x80 || (*p >= 'A' && *p <= 'Z') || *p == ' ' || *p == '@')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipient_addr a;
	char *s;
	int r, d = -1;
	const char *sugg;

	r = recipient_addr_parse((const char *)data, size, &a);
	if (r == 0) {
		check_valid(&a);
		sugg = recipient_typo_suggest(a.domain_ascii, common, 5, 2, &d);
		if (sugg != NULL && (d < 1 || d > 2 || strcmp(sugg, a.domain_ascii) == 0))
			abort();
	} else {
		if (r != -1 || a.problem == RADDR_OK || a.detail[0] == '\0' ||
		    a.domain_ascii != NULL)
			abort();
		if (strcmp(recipient_addr_problem_name(a.problem), "unknown") == 0)
			abort();
	}
	recipient_addr_release(&a);

	/* the distance of the input to itself is 0; to a common domain, symmetric */
	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (strlen(s) <= 255 && recipient_edit_distance(s, s, 2) != 0)
		abort();
	if (recipient_edit_distance(s, "gmail.com", 2) != recipient_edit_distance("gmail.com", s, 2))
		abort();
	free(s);
	return 0;
}
