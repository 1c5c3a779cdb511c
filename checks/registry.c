/* The one list of check modules, in the order they run and report. */
#include <string.h>

#include "check.h"

extern const struct check_ops check_rdns;

const struct check_ops *const check_registry[] = {
	&check_rdns,
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
