/* libFuzzer harness for the bounce classifier: any bytes, with the shipped patterns, give a sound result and valid JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bounce/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bounce_rules *rules;

/* checks.d/bounce.conf of the tree this file is in (or $WHY550_ROOT's). */
static struct bounce_rules *
load_rules(void)
{
	struct bounce_rules *r = bounce_rules_new();
	struct conf *conf = conf_new();
	const char *root = getenv("WHY550_ROOT");
	char path[4096];
	struct error err;

	if (root != NULL && root[0] != '\0') {
		snprintf(path, sizeof(path), "%s/checks.d/bounce.conf", root);
	} else {
		const char *end = strstr(__FILE__, "fuzz/fuzz_bounce.c");

		snprintf(path, sizeof(path), "%.*schecks.d/bounce.conf",
		    end != NULL ? (int)(end - __FILE__) : 0, __FILE__);
	}
	if (conf_load_file(conf, path, NULL, &err) < 0 || bounce_rules_load(r, conf, &err) < 0) {
		/* fuzzing without the patterns would test little: stop loudly */
		fprintf(stderr, "fuzz_bounce: %s\n", err.msg);
		abort();
	}
	conf_free(conf);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_class c;
	json_t *j;
	char *dump;
	size_t i;

	if (rules == NULL)
		rules = load_rules();
	bounce_classify(rules, (const char *)data, size, &c);
	if (c.reply == NULL || strlen(c.reply) > BOUNCE_MAX_REPLY || c.nlists > BOUNCE_MAX_LISTS)
		abort();
	if (c.cause != CAUSE_NONE && cause_name(c.cause) == NULL)
		abort();
	if (c.second_cause != CAUSE_NONE && (cause_name(c.second_cause) == NULL ||
	    c.cause == CAUSE_NONE || c.second_cause == c.cause))
		abort();
	if (c.success && c.cause != CAUSE_NONE)
		abort();
	if (c.transient && c.confidence == CONF_HIGH)
		abort();
	if (c.basic_code != 0 && (c.basic_code < 200 || c.basic_code > 559))
		abort();
	for (i = 0; i < c.nlists; i++)
		if (c.lists[i] == NULL || c.lists[i][0] == '\0')
			abort();
	j = bounce_class_json(&c);
	/* every string must be valid UTF-8, or jansson refuses to dump */
	dump = json_dumps(j, 0);
	if (dump == NULL)
		abort();
	free(dump);
	json_decref(j);
	bounce_class_release(&c);
	return 0;
}
