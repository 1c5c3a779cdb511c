/* Identifier alignment for DMARC: strict names, or organisational domains from the Public Suffix List. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/dmarc/org.h"

/* The length of name without a final dot. */
static size_t
bare_len(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && name[n - 1] == '.' ? n - 1 : n;
}

bool
dmarc_aligned(const struct psl_service *psl, const char *a, const char *b, bool strict)
{
	char *oa, *ob;
	bool same;

	/* RFC 7489 3.1.1/3.1.2: strict is an exact match, relaxed shares the organisational domain */
	if (bare_len(a) == bare_len(b) && strncasecmp(a, b, bare_len(a)) == 0)
		return true;
	if (strict)
		return false;
	oa = psl_service_org_domain(psl, a);
	ob = psl_service_org_domain(psl, b);
	same = strcmp(oa, ob) == 0;
	free(oa);
	free(ob);
	return same;
}
