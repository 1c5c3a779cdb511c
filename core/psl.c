/* The Public Suffix List service: reads the [psl] setting and holds the libpsl object. */
#include "core/psl.h"

#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

#define PSL_DEFAULT	"the newest of the system's and libpsl's built-in list"

struct psl_service {
	psl_ctx_t *owned;		/* loaded from a file: ours to free */
	const psl_ctx_t *ctx;		/* what lookups use (maybe libpsl's built-in list) */
	char *file;			/* the [psl] file setting, or NULL */
};

static const char *const psl_keys[] = { "file", NULL };

/* The last "file" of every [psl] section, and the section that set it. */
static int
read_setting(const struct conf *conf, const char **file,
    const struct conf_section **where, struct error *err)
{
	const struct conf_section *sec = NULL;
	const char *v;

	*file = NULL;
	*where = NULL;
	while ((sec = conf_next(conf, sec, "psl")) != NULL) {
		if (sec->label != NULL)
			return conf_error(sec, NULL, err, "[psl] takes no label");
		if (conf_section_check_keys(sec, psl_keys, err) < 0)
			return -1;
		if ((v = conf_section_get(sec, "file")) != NULL) {
			*file = v;
			*where = sec;
		}
	}
	return 0;
}

struct psl_service *
psl_service_new(const struct conf *conf, struct error *err)
{
	struct psl_service *psl = xcalloc(1, sizeof(*psl));
	const struct conf_section *where;
	const char *file;

	if (read_setting(conf, &file, &where, err) < 0)
		goto fail;
	if (file != NULL) {
		if ((psl->owned = psl_load_file(file)) == NULL) {
			conf_error(where, NULL, err, "cannot read the public suffix list '%s'", file);
			goto fail;
		}
		psl->file = xstrdup(file);
	} else {
		/* the system's list when newer than libpsl's built-in copy */
		psl->owned = psl_latest(NULL);
	}
	psl->ctx = psl->owned != NULL ? psl->owned : psl_builtin();
	if (psl->ctx == NULL) {
		error_set(err, "psl: libpsl has no public suffix list");
		goto fail;
	}
	return psl;
fail:
	psl_service_free(psl);
	return NULL;
}

void
psl_service_free(struct psl_service *psl)
{
	if (psl == NULL)
		return;
	psl_free(psl->owned);
	free(psl->file);
	free(psl);
}

const char *
psl_service_source(const struct psl_service *psl)
{
	return psl->file != NULL ? psl->file : PSL_DEFAULT;
}

const char *
psl_service_registrable(const struct psl_service *psl, const char *name)
{
	return psl_registrable_domain(psl->ctx, name);
}

char *
psl_service_org_domain(const struct psl_service *psl, const char *name)
{
	char *d = xstrdup_lower(name), *org;
	size_t n = strlen(d);
	const char *reg;

	if (n > 0 && d[n - 1] == '.')
		d[n - 1] = '\0';
	if ((reg = psl_registrable_domain(psl->ctx, d)) == NULL)
		return d;
	org = xstrdup(reg);
	free(d);
	return org;
}
