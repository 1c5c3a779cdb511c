/* Check bounce: classifies the bounce text the user received into codes, host, named lists and a cause. */
#include <stdlib.h>
#include <string.h>

#include "checks/bounce/classify.h"
#include "checks/check.h"
#include "core/textsafe.h"

/* Bytes of the reply quoted in the finding's message. */
#define EXCERPT	160

static void
bounce_free(void *ctx)
{
	bounce_rules_free(ctx);
}

static int
bounce_configure(void **ctx, const struct conf *conf, struct error *err)
{
	struct bounce_rules *r = bounce_rules_new();

	if (bounce_rules_load(r, conf, err) < 0) {
		bounce_rules_free(r);
		return -1;
	}
	*ctx = r;
	return 0;
}

/* Who answered, for the message. */
static char *
reply_head(const struct bounce_class *c)
{
	return c->host != NULL ? xstrdup(c->host) : xstrdup("the receiver");
}

/* Bytes of the reply quoted in the message: whole characters, at most EXCERPT. */
static int
excerpt_len(const char *reply)
{
	size_t n = strlen(reply);

	if (n <= EXCERPT)
		return (int)n;
	n = EXCERPT;
	while (n > 0 && ((unsigned char)reply[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

static void
bounce_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const struct bounce_rules *r = ctx;
	struct bounce_class c;
	struct strbuf lists;
	json_t *data;
	char *head;
	size_t i;

	(void)dns;
	bounce_classify(r, t->bounce, t->bounce_len > 0 ? t->bounce_len : strlen(t->bounce), &c);
	data = bounce_class_json(&c);
	head = reply_head(&c);
	strbuf_init(&lists);
	for (i = 0; i < c.nlists; i++)
		strbuf_addf(&lists, "%s%s", i ? ", " : "", c.lists[i]);

	if (c.success) {
		report_add(rep, "bounce_not_failure", SEV_INFO, data,
		    "%s said \"%.*s\": a success reply, not a bounce", head,
		    excerpt_len(c.reply), c.reply);
	} else if (c.cause == CAUSE_NONE) {
		report_add(rep, "bounce_unrecognized", SEV_WARN, data,
		    "the bounce has no SMTP status code and no wording why550 knows");
	} else {
		report_add(rep, "bounce_classified",
		    c.transient || (c.basic_code == 0 && c.enhanced[0] == '\0') ? SEV_WARN : SEV_FAIL,
		    data, "%s (%s confidence%s%s%s%s%s): %s said \"%.*s%s\"", cause_name(c.cause),
		    confidence_name(c.confidence), c.transient ? ", temporary" : "",
		    c.second_cause != CAUSE_NONE ? ", maybe also " : "",
		    c.second_cause != CAUSE_NONE ? cause_name(c.second_cause) : "",
		    c.nlists > 0 ? ", names " : "", c.nlists > 0 ? lists.buf : "", head,
		    excerpt_len(c.reply), c.reply,
		    strlen(c.reply) > (size_t)excerpt_len(c.reply) ? "..." : "");
	}
	strbuf_release(&lists);
	free(head);
	bounce_class_release(&c);
}

static void
bounce_describe(const void *ctx, struct strbuf *out)
{
	bounce_rules_describe(ctx, out);
}

const struct check_ops check_bounce = {
	.name = "bounce",
	.summary = "the bounce text: status codes, reporting host, named blocklists, cause",
	.needs = NEED_BOUNCE,
	.configure = bounce_configure,
	.run = bounce_run,
	.describe = bounce_describe,
	.free = bounce_free,
};
