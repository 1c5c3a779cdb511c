/* The bounce classifier measured on the corpus of real replies in tests/data/bounce-corpus: accuracy per cause. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bounce/classify.h"
#include "core/conf.h"
#include "support.h"

/* Targets: the top cause right on 95% of the texts, and on 85% of each cause's texts. */
#define MIN_TOTAL	0.95
#define MIN_CAUSE	0.85
/* The corpus must stay this large, so a lost file cannot pass as a better score. */
#define MIN_TEXTS	400

enum part {
	PART_DEV,	/* the texts the rules were written from */
	PART_HELD,	/* the texts set aside to measure them */
	PART_N,
};

struct tally {
	size_t n[PART_N][CAUSE_END];
	size_t ok[PART_N][CAUSE_END];
};

/* The bytes of a corpus file, any bytes; NULL if it cannot be read. */
static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

/* Classifies one corpus entry; fails the test on a malformed entry. Appends a miss to misses. */
static void
run_entry(const struct bounce_rules *r, json_t *e, const char *dir, struct tally *t,
    struct strbuf *misses)
{
	const char *id = json_string_value(json_object_get(e, "id"));
	const char *want = json_string_value(json_object_get(e, "cause"));
	const char *text = json_string_value(json_object_get(e, "text"));
	const char *file = json_string_value(json_object_get(e, "file"));
	const char *split = json_string_value(json_object_get(e, "split"));
	enum cause_code cause;
	struct bounce_class c;
	enum part part;
	char *buf = NULL, *path;
	size_t len;

	cr_assert(id != NULL && want != NULL && json_is_string(json_object_get(e, "source")),
	    "every entry has id, source and cause");
	cr_assert_eq(cause_parse(want, &cause), 0, "%s: '%s' is no cause code", id, want);
	cr_assert((text != NULL) != (file != NULL), "%s: text or file, one of them", id);
	cr_assert(split != NULL && (strcmp(split, "dev") == 0 || strcmp(split, "held") == 0),
	    "%s: split is dev or held", id);
	part = strcmp(split, "dev") == 0 ? PART_DEV : PART_HELD;
	if (file != NULL) {
		path = xasprintf("%s/%s", dir, file);
		buf = read_all(path, &len);
		cr_assert_not_null(buf, "%s: cannot read %s", id, path);
		free(path);
		bounce_classify(r, buf, len, &c);
	} else {
		json_t *s = json_object_get(e, "text");

		bounce_classify(r, text, json_string_length(s), &c);
	}
	t->n[part][cause]++;
	if (c.cause == cause)
		t->ok[part][cause]++;
	else if (part == PART_DEV)
		/* only the development part's misses are shown: the held-out part stays unseen */
		strbuf_addf(misses, "  %s: %s, want %s\n", id,
		    c.cause != CAUSE_NONE ? cause_name(c.cause) : "none", want);
	bounce_class_release(&c);
	free(buf);
}

static double
ratio(size_t ok, size_t n)
{
	return n > 0 ? (double)ok / (double)n : 1.0;
}

/* Prints the table, and returns the worst cause's accuracy over the whole corpus in *worst. */
static void
print_table(const struct tally *t, size_t *all_ok, size_t *all_n, double *worst,
    const char **worst_name)
{
	size_t sum_ok[PART_N] = { 0 }, sum_n[PART_N] = { 0 };
	int c, p;

	*worst = 1.0;
	*worst_name = "none";
	fprintf(stderr, "bounce corpus: accuracy of the top cause\n");
	fprintf(stderr, "  %-22s %12s %12s %12s\n", "cause", "development", "held-out", "total");
	for (c = CAUSE_NONE + 1; c < CAUSE_END; c++) {
		size_t ok = t->ok[PART_DEV][c] + t->ok[PART_HELD][c];
		size_t n = t->n[PART_DEV][c] + t->n[PART_HELD][c];

		for (p = 0; p < PART_N; p++) {
			sum_ok[p] += t->ok[p][c];
			sum_n[p] += t->n[p][c];
		}
		if (n == 0)
			continue;
		fprintf(stderr, "  %-22s %5zu/%-3zu%3.0f%% %5zu/%-3zu%3.0f%% %5zu/%-3zu%3.0f%%\n",
		    cause_name(c), t->ok[PART_DEV][c], t->n[PART_DEV][c],
		    100 * ratio(t->ok[PART_DEV][c], t->n[PART_DEV][c]),
		    t->ok[PART_HELD][c], t->n[PART_HELD][c],
		    100 * ratio(t->ok[PART_HELD][c], t->n[PART_HELD][c]), ok, n, 100 * ratio(ok, n));
		if (ratio(ok, n) < *worst) {
			*worst = ratio(ok, n);
			*worst_name = cause_name(c);
		}
	}
	*all_ok = sum_ok[PART_DEV] + sum_ok[PART_HELD];
	*all_n = sum_n[PART_DEV] + sum_n[PART_HELD];
	fprintf(stderr, "  %-22s %5zu/%-3zu%3.0f%% %5zu/%-3zu%3.0f%% %5zu/%-3zu%3.0f%%\n", "all",
	    sum_ok[PART_DEV], sum_n[PART_DEV], 100 * ratio(sum_ok[PART_DEV], sum_n[PART_DEV]),
	    sum_ok[PART_HELD], sum_n[PART_HELD], 100 * ratio(sum_ok[PART_HELD], sum_n[PART_HELD]),
	    *all_ok, *all_n, 100 * ratio(*all_ok, *all_n));
}

Test(bounce_corpus, top_cause_is_right_on_95_percent_and_each_cause_on_85)
{
	struct bounce_rules *r = test_shipped_bounce_rules();
	char *dir = test_path("tests/data/bounce-corpus");
	char *index = xasprintf("%s/corpus.jsonl", dir);
	FILE *f = fopen(index, "r");
	struct tally t;
	struct strbuf misses;
	char *line = NULL;
	size_t cap = 0, all_ok, all_n;
	const char *worst_name;
	double worst;
	ssize_t got;

	cr_assert_not_null(f, "cannot read %s", index);
	memset(&t, 0, sizeof(t));
	strbuf_init(&misses);
	while ((got = getline(&line, &cap, f)) > 0) {
		json_error_t jerr;
		json_t *e = json_loadb(line, (size_t)got, 0, &jerr);

		cr_assert_not_null(e, "%s: line %d: %s", index, jerr.line, jerr.text);
		run_entry(r, e, dir, &t, &misses);
		json_decref(e);
	}
	fclose(f);
	print_table(&t, &all_ok, &all_n, &worst, &worst_name);
	if (misses.len > 0)
		fprintf(stderr, "misses in the development part:\n%s", misses.buf);
	cr_expect_geq(all_n, MIN_TEXTS, "the corpus has %zu texts", all_n);
	cr_expect_geq(ratio(all_ok, all_n), MIN_TOTAL, "top cause right on %zu of %zu texts",
	    all_ok, all_n);
	cr_expect_geq(worst, MIN_CAUSE, "cause %s is right on %.0f%% of its texts", worst_name,
	    100 * worst);
	free(line);
	strbuf_release(&misses);
	free(index);
	free(dir);
	bounce_rules_free(r);
}
