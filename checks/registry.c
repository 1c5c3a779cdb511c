/* The one list of check modules, in the order they run and report. */
#include <string.h>

#include "checks/check.h"

extern const struct check_ops check_rdns;
extern const struct check_ops check_dnsbl;
extern const struct check_ops check_dbl;
extern const struct check_ops check_helo;
extern const struct check_ops check_sender_domain;
extern const struct check_ops check_recipient;
extern const struct check_ops check_spf;
extern const struct check_ops check_dkim;
extern const struct check_ops check_dmarc;
extern const struct check_ops check_bounce;
extern const struct check_ops check_smtp;
extern const struct check_ops check_bulk;

const struct check_ops *const check_registry[] = {
	&check_rdns,
	&check_dnsbl,
	&check_dbl,
	&check_helo,
	&check_sender_domain,
	&check_recipient,
	&check_spf,
	&check_dkim,
	&check_dmarc,
	&check_bounce,
	&check_smtp,
	&check_bulk,
};

const size_t check_registry_len = ARRAY_SIZE(check_registry);

const struct check_ops *
check_find(const char *name)
{
	size_t i;

	for (i = 0; i < check_registry_len; i++)
		if (strcmp(check_registry[i]->name, name) == 0)
			return check_registry[i];
	return NULL;
}
