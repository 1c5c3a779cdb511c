/* libFuzzer harness for the checks.d reader: any bytes, as text or as a file, then every getter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const allowed[] = { "zone", "weight", "selector", "enabled", NULL };

/* One file reused for every input: the byte-level path (NUL bytes, long lines). */
static int
input_file(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	static FILE *f;

	if (f == NULL && (f = tmpfile()) == NULL)
		return -1;
	if (ftruncate(fileno(f), 0) == -1 ||
	    pwrite(fileno(f), data, size, 0) != (ssize_t)size)
		return -1;
	snprintf(path, pathlen, "/proc/self/fd/%d", fileno(f));
	return 0;
}

static void
exercise(const struct conf *conf)
{
	const struct conf_section *sec = NULL;
	struct error err;
	size_t i;
	long l;
	double d;
	bool b;

	while ((sec = conf_next(conf, sec, NULL)) != NULL) {
		(void)conf_section_check_keys(sec, allowed, &err);
		(void)conf_error(sec, NULL, &err, "header of '%s'", sec->name);
		for (i = 0; i < sec->nentries; i++) {
			const char *key = sec->entries[i].key;

			if (key[0] == '\0' || conf_section_get(sec, key) == NULL)
				abort();
			(void)conf_section_get_int(sec, key, -100, 100, &l, &err);
			(void)conf_section_get_double(sec, key, &d, &err);
			(void)conf_section_get_bool(sec, key, &b, &err);
			(void)conf_error(sec, &sec->entries[i], &err, "value '%s'",
			    sec->entries[i].value);
		}
		if (conf_next(conf, NULL, sec->name) == NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *conf = conf_new();
	struct error err;
	char path[64];
	char *text;

	if (size > 0 && (data[0] & 1)) {
		if (input_file(data + 1, size - 1, path, sizeof(path)) == 0 &&
		    conf_load_file(conf, path, NULL, &err) == 0)
			exercise(conf);
	} else {
		text = malloc(size + 1);
		if (text == NULL)
			abort();
		memcpy(text, data, size);
		text[size] = '\0';
		if (conf_load_file(conf, "fuzz.conf", text, &err) == 0)
			exercise(conf);
		/* A second file on top: the rollback of a failed file must leave a sound conf. */
		(void)conf_load_file(conf, "again.conf", text, &err);
		exercise(conf);
		free(text);
	}
	conf_free(conf);
	return 0;
}
