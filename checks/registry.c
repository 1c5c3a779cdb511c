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

/* The inputs in the order the runner names a missing one. */
static const struct {
	unsigned need;
	const char *option;
} inputs[] = {
	{ NEED_IP, "--ip" },
	{ NEED_HELO, "--helo" },
	{ NEED_MAIL_FROM, "--from" },
	{ NEED_RCPT_TO, "--to" },
	{ NEED_MESSAGE, "--message" },
	{ NEED_BOUNCE, "--bounce" },
};

unsigned
check_target_inputs(const struct target *t)
{
	unsigned have = 0;

	if (t->ip != NULL)
		have |= NEED_IP;
	if (t->helo != NULL)
		have |= NEED_HELO;
	if (t->mail_from != NULL)
		have |= NEED_MAIL_FROM;
	if (t->rcpt_to != NULL)
		have |= NEED_RCPT_TO;
	if (t->message != NULL)
		have |= NEED_MESSAGE;
	if (t->bounce != NULL)
		have |= NEED_BOUNCE;
	return have;
}

const char *
check_need_option(unsigned need)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(inputs); i++)
		if (inputs[i].need == need)
			return inputs[i].option;
	return NULL;
}

const char *
check_missing_input(const struct check_ops *ops, const struct target *t)
{
	unsigned have = check_target_inputs(t);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(inputs); i++)
		if ((ops->needs & inputs[i].need) && !(have & inputs[i].need))
			return inputs[i].option;
	if (ops->wants != 0 && (ops->wants & have) == 0)
		for (i = 0; i < ARRAY_SIZE(inputs); i++)
			if (ops->wants & inputs[i].need)
				return inputs[i].option;
	return NULL;
}
