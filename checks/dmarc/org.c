/* Organisational domains and identifier alignment for DMARC, through the Public Suffix List of libpsl. */
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/dmarc/org.h"
#include "core/util.h"

struct dmarc_psl {
	psl_ctx_t *owned;		/* loaded from a file: ours to free */
	const psl_ctx_t *ctx;		/* what lookups use (maybe libpsl's built-in list) */
};

struct dmarc_psl *
dmarc_psl_new(const char *file, char *why, size_t whylen)
{
	struct dmarc_psl *psl = xcalloc(1, sizeof(*psl));

	if (file != NULL) {
		if ((psl->owned = psl_load_file(file)) == NULL) {
			snprintf(why, whylen, "cannot read the public suffix list '%s'", file);
			free(psl);
			return NULL;
		}
	} else {
		/* the system's list when newer than libpsl's built-in copy */
		psl->owned = psl_latest(NULL);
	}
	psl->ctx = psl->owned != NULL ? psl->owned : psl_builtin();
	if (psl->ctx == NULL) {
		snprintf(why, whylen, "libpsl has no public suffix list");
		free(psl);
		return NULL;
	}
	return psl;
}

void
dmarc_psl_free(struct dmarc_psl *psl)
{
	if (psl == NULL)
		return;
	psl_free(psl->owned);
	free(psl);
}

/* A lower-case copy without a final dot. */
static char *
canonical(const char *domain)
{
	char *d = xstrdup_lower(domain);
	size_t n = strlen(d);

	if (n > 0 && d[n - 1] == '.')
		d[n - 1] = '\0';
	return d;
}

char *
dmarc_org_domain(const struct dmarc_psl *psl, const char *domain)
{
	char *d = canonical(domain), *org;
	const char *reg;

	/*
	 * RFC 7489 3.2: the public suffix plus one label. libpsl applies the
	 * "*" default rule, so a name under an unlisted TLD keeps two labels.
	 */
	reg = psl_registrable_domain(psl->ctx, d);
	if (reg == NULL)
		return d;
	org = xstrdup(reg);
	free(d);
	return org;
}

bool
dmarc_aligned(const struct dmarc_psl *psl, const char *a, const char *b, bool strict)
{
	char *ca = canonical(a), *cb = canonical(b), *oa = NULL, *ob = NULL;
	bool same;

	/* RFC 7489 3.1.1/3.1.2: strict is an exact match, relaxed shares the organisational domain */
	same = strcmp(ca, cb) == 0;
	if (!same && !strict) {
		oa = dmarc_org_domain(psl, ca);
		ob = dmarc_org_domain(psl, cb);
		same = strcmp(oa, ob) == 0;
	}
	free(ca);
	free(cb);
	free(oa);
	free(ob);
	return same;
}
