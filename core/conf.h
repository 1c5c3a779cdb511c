/*
 * checks.d: drop-in configuration. Files are read in lexical order; each
 * holds sections "[name]" or "[name "label"]" of "key = value" lines, '#'
 * starts a comment. A key may repeat (lists). Values may be double-quoted.
 */
#ifndef WHY550_CONF_H
#define WHY550_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

struct conf_entry {
	char *key;
	char *value;
	const char *file;	/* borrowed from the conf */
	int line;
};

struct conf_section {
	char *name;		/* "dnsbl" */
	char *label;		/* "zen.spamhaus.org" or NULL */
	const char *file;
	int line;
	struct conf_entry *entries;
	size_t nentries;
};

struct conf {
	struct conf_section *sections;
	size_t nsections;
	char **files;
	size_t nfiles;
};

/* An empty configuration. */
struct conf *conf_new(void);
void conf_free(struct conf *conf);

/*
 * Reads every regular "*.conf" file of dir in lexical order. -1 with
 * err = "file:line: what is wrong" on a syntax error, -1 with the path if the
 * directory cannot be read.
 */
int conf_load_dir(struct conf *conf, const char *dir, struct error *err);
/* Reads one file (or text with a name for messages, when text is not NULL). */
int conf_load_file(struct conf *conf, const char *path, const char *text, struct error *err);

/* The next section called name after prev (NULL: the first). */
const struct conf_section *conf_next(const struct conf *conf,
    const struct conf_section *prev, const char *name);

/* The last value of key in sec, or NULL. */
const char *conf_section_get(const struct conf_section *sec, const char *key);
/* Typed getters: 0 with *out set, 1 if absent (out untouched), -1 with err naming file:line. */
int conf_section_get_int(const struct conf_section *sec, const char *key,
    long min, long max, long *out, struct error *err);
int conf_section_get_double(const struct conf_section *sec, const char *key,
    double *out, struct error *err);
int conf_section_get_bool(const struct conf_section *sec, const char *key,
    bool *out, struct error *err);
/* -1 naming file:line for the first key not in the NULL-terminated allowed list. */
int conf_section_check_keys(const struct conf_section *sec,
    const char *const *allowed, struct error *err);
/* Reports "file:line: msg" for entry e (or the section header if e is NULL): returns -1. */
int conf_error(const struct conf_section *sec, const struct conf_entry *e,
    struct error *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
