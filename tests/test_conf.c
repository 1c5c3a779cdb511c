/* Tests of the checks.d reader: syntax, errors with file:line, directory order, typed getters. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"

/* A fresh temporary directory; the caller removes it. */
static char *
temp_dir(void)
{
	const char *base = getenv("TMPDIR");
	char *path = malloc(4096);

	cr_assert(path != NULL);
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(path, 4096, "%s/why550-conf-XXXXXX", base);
	cr_assert(mkdtemp(path) != NULL, "mkdtemp: %s", strerror(errno));
	return path;
}

static void
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cr_assert(f != NULL, "fopen %s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
remove_path(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	remove(path);
}

struct bad_case {
	const char *name;
	const char *text;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "key_before_section", "# top\n\nzone = x\n",
	    "t.conf:3: key 'zone' is outside of any [section]" },
	{ "header_unclosed", "[dnsbl\n", "t.conf:1: malformed section header: expected ']'" },
	{ "header_empty", "[]\n", "t.conf:1: malformed section header: missing name" },
	{ "header_upper", "[a]\n[DNSBL]\n",
	    "t.conf:2: malformed section header: bad name 'DNSBL': use [a-z0-9_-]" },
	{ "header_dot", "[a.b]\n",
	    "t.conf:1: malformed section header: bad name 'a.b': use [a-z0-9_-]" },
	{ "header_trailing_text", "[dnsbl] zone = x\n",
	    "t.conf:1: malformed section header: text after ']'" },
	{ "header_two_labels", "[dnsbl \"a\" \"b\"]\n",
	    "t.conf:1: malformed section header: expected ']'" },
	{ "header_unterminated_label", "[dnsbl \"zen]\n", "t.conf:1: unterminated quoted string" },
	{ "header_empty_label", "[dnsbl \"\"]\n", "t.conf:1: malformed section header: empty label" },
	{ "no_equals", "[a]\nx = 1\njunk\n",
	    "t.conf:3: expected 'key = value' or a [section] header" },
	{ "no_key", "[a]\n = 1\n", "t.conf:2: missing key before '='" },
	{ "bad_key_upper", "[a]\nZone = 1\n", "t.conf:2: bad key 'Zone': use [a-z0-9_.-]" },
	{ "bad_key_space", "[a]\nmy key = 1\n", "t.conf:2: bad key 'my key': use [a-z0-9_.-]" },
	{ "unterminated_quote", "[a]\n\nk = \"abc\n", "t.conf:3: unterminated quoted string" },
	{ "escaped_final_quote", "[a]\nk = \"abc\\\"\n", "t.conf:2: unterminated quoted string" },
	{ "text_after_quote", "[a]\nk = \"a\" b\n", "t.conf:2: text after the closing quote" },
	{ "error_on_last_line_without_newline", "[a]\nk = 1\nbroken", 
	    "t.conf:3: expected 'key = value' or a [section] header" },
	{ "crlf_line_count", "[a]\r\nk = 1\r\n\r\noops\r\n",
	    "t.conf:4: expected 'key = value' or a [section] header" },
};

Test(conf, syntax_errors_name_file_and_line)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct conf *conf = conf_new();
		struct error err = { "" };

		cr_assert_eq(conf_load_file(conf, "t.conf", c->text, &err), -1,
		    "case %s: accepted", c->name);
		cr_assert_str_eq(err.msg, c->msg, "case %s", c->name);
		cr_assert_eq(conf->nsections, 0, "case %s: sections kept", c->name);
		conf_free(conf);
	}
}

struct value_case {
	const char *name;
	const char *line;
	const char *key;
	const char *want;
};

static const struct value_case value_cases[] = {
	{ "plain", "k = v", "k", "v" },
	{ "spaces_trimmed", "  k   =   hello world   ", "k", "hello world" },
	{ "comment_after_blank", "k = hello # note", "k", "hello" },
	{ "hash_inside_word", "k = a#b", "k", "a#b" },
	{ "hash_after_tab", "k = a\t#b", "k", "a" },
	{ "empty", "k =", "k", "" },
	{ "empty_with_comment", "k = # nothing", "k", "" },
	{ "no_spaces", "k=v", "k", "v" },
	{ "equals_in_value", "k = a=b", "k", "a=b" },
	{ "quoted_keeps_hash_and_spaces", "k = \"  a # b  \"", "k", "  a # b  " },
	{ "quoted_escapes", "k = \"say \\\"hi\\\" \\\\ ok\"", "k", "say \"hi\" \\ ok" },
	{ "quoted_other_backslash_kept", "k = \"\\d+\\.example\"", "k", "\\d+\\.example" },
	{ "quoted_empty", "k = \"\"", "k", "" },
	{ "quoted_then_comment", "k=\"x\"   # c", "k", "x" },
	{ "quote_inside_plain", "k = it\"s", "k", "it\"s" },
	{ "key_chars", "a.b-c_9 = 1", "a.b-c_9", "1" },
	{ "crlf", "k = v\r", "k", "v" },
	{ "utf8_value", "k = caf\xc3\xa9", "k", "caf\xc3\xa9" },
};

Test(conf, values_are_trimmed_quoted_and_unescaped)
{
	char text[512];
	size_t i;

	for (i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
		const struct value_case *c = &value_cases[i];
		struct conf *conf = conf_new();
		struct error err = { "" };
		const struct conf_section *sec;

		snprintf(text, sizeof(text), "[s]\n%s\n", c->line);
		cr_assert_eq(conf_load_file(conf, "t.conf", text, &err), 0,
		    "case %s: %s", c->name, err.msg);
		sec = conf_next(conf, NULL, "s");
		cr_assert(sec != NULL, "case %s: no section", c->name);
		cr_assert_eq(sec->nentries, 1, "case %s: %zu entries", c->name, sec->nentries);
		cr_assert_str_eq(sec->entries[0].key, c->key, "case %s", c->name);
		cr_assert_str_eq(conf_section_get(sec, c->key), c->want, "case %s", c->name);
		cr_assert_eq(sec->entries[0].line, 2, "case %s: line", c->name);
		conf_free(conf);
	}
}

Test(conf, headers_with_labels_and_positions)
{
	const char *text =
	    "# dnsbl zones\n"
	    "\n"
	    "[dnsbl \"zen.spamhaus.org\"]\n"
	    "weight = 3\n"
	    "  [ helo ]   # no label\n"
	    "[dnsbl \"b l.example\" ]\n"
	    "[dnsbl\"c.example\"]\n";
	struct conf *conf = conf_new();
	struct error err = { "" };
	const struct conf_section *sec;

	cr_assert_eq(conf_load_file(conf, "x/10-dnsbl.conf", text, &err), 0, "%s", err.msg);
	cr_assert_eq(conf->nsections, 4);
	sec = &conf->sections[0];
	cr_assert_str_eq(sec->name, "dnsbl");
	cr_assert_str_eq(sec->label, "zen.spamhaus.org");
	cr_assert_str_eq(sec->file, "x/10-dnsbl.conf");
	cr_assert_eq(sec->line, 3);
	cr_assert_eq(sec->nentries, 1);
	cr_assert_str_eq(sec->entries[0].file, "x/10-dnsbl.conf");
	cr_assert_eq(sec->entries[0].line, 4);
	sec = &conf->sections[1];
	cr_assert_str_eq(sec->name, "helo");
	cr_assert_null(sec->label);
	cr_assert_eq(sec->line, 5);
	cr_assert_eq(sec->nentries, 0);
	cr_assert_str_eq(conf->sections[2].label, "b l.example");
	cr_assert_str_eq(conf->sections[3].label, "c.example");
	conf_free(conf);
}

Test(conf, repeated_keys_keep_order_and_get_returns_last)
{
	const char *text = "[dkim]\nselector = s1\nselector = s2\nother = x\nselector = s3\n";
	struct conf *conf = conf_new();
	struct error err = { "" };
	const struct conf_section *sec;
	const char *want[] = { "s1", "s2", "s3" };
	size_t i, n = 0;

	cr_assert_eq(conf_load_file(conf, "t.conf", text, &err), 0, "%s", err.msg);
	sec = conf_next(conf, NULL, "dkim");
	cr_assert_not_null(sec);
	cr_assert_eq(sec->nentries, 4);
	for (i = 0; i < sec->nentries; i++) {
		if (strcmp(sec->entries[i].key, "selector") != 0)
			continue;
		cr_assert_str_eq(sec->entries[i].value, want[n], "selector %zu", n);
		n++;
	}
	cr_assert_eq(n, 3);
	cr_assert_str_eq(conf_section_get(sec, "selector"), "s3");
	cr_assert_null(conf_section_get(sec, "missing"));
	conf_free(conf);
}

Test(conf, next_walks_sections_of_one_name)
{
	const char *text = "[dnsbl \"a\"]\n[helo]\n[dnsbl \"b\"]\n[dnsblx]\n[dnsbl \"c\"]\n";
	struct conf *conf = conf_new();
	struct error err = { "" };
	const struct conf_section *sec = NULL;
	const char *want[] = { "a", "b", "c" };
	size_t n = 0;

	cr_assert_eq(conf_load_file(conf, "t.conf", text, &err), 0, "%s", err.msg);
	while ((sec = conf_next(conf, sec, "dnsbl")) != NULL) {
		cr_assert(n < 3, "too many sections");
		cr_assert_str_eq(sec->label, want[n]);
		n++;
	}
	cr_assert_eq(n, 3);
	cr_assert_null(conf_next(conf, NULL, "spf"));
	conf_free(conf);
}

Test(conf, a_key_does_not_carry_into_the_next_file)
{
	struct conf *conf = conf_new();
	struct error err = { "" };

	cr_assert_eq(conf_load_file(conf, "a.conf", "[a]\nk = 1\n", &err), 0);
	cr_assert_eq(conf_load_file(conf, "b.conf", "k = 2\n", &err), -1);
	cr_assert_str_eq(err.msg, "b.conf:1: key 'k' is outside of any [section]");
	cr_assert_eq(conf->nsections, 1, "the good file stays loaded");
	conf_free(conf);
}

Test(conf, directory_files_load_in_lexical_order)
{
	char *dir = temp_dir();
	char want[4200];
	struct conf *conf = conf_new();
	struct error err = { "" };

	write_file(dir, "20-b.conf", "[b]\nk = 2\n", 10);
	write_file(dir, "10-a.conf", "\n[a]\nk = 1\n", 11);
	write_file(dir, "30-c.conf", "[c]\n", 4);
	write_file(dir, "README", "not [a] config", 14);
	write_file(dir, "15.conf.bak", "junk", 4);
	write_file(dir, ".hidden.conf", "junk", 4);

	cr_assert_eq(conf_load_dir(conf, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(conf->nsections, 3);
	cr_assert_str_eq(conf->sections[0].name, "a");
	cr_assert_str_eq(conf->sections[1].name, "b");
	cr_assert_str_eq(conf->sections[2].name, "c");
	snprintf(want, sizeof(want), "%s/10-a.conf", dir);
	cr_assert_str_eq(conf->sections[0].file, want);
	cr_assert_eq(conf->sections[0].line, 2);
	cr_assert_eq(conf->sections[0].entries[0].line, 3);
	cr_assert_eq(conf->nfiles, 3);
	conf_free(conf);

	remove_path(dir, "20-b.conf");
	remove_path(dir, "10-a.conf");
	remove_path(dir, "30-c.conf");
	remove_path(dir, "README");
	remove_path(dir, "15.conf.bak");
	remove_path(dir, ".hidden.conf");
	rmdir(dir);
	free(dir);
}

Test(conf, directory_error_names_the_file_and_line)
{
	char *dir = temp_dir();
	char want[4200];
	struct conf *conf = conf_new();
	struct error err = { "" };

	write_file(dir, "a.conf", "[a]\n", 4);
	write_file(dir, "b.conf", "[b]\n\nK = 1\n", 11);
	cr_assert_eq(conf_load_dir(conf, dir, &err), -1);
	snprintf(want, sizeof(want), "%s/b.conf:3: bad key 'K': use [a-z0-9_.-]", dir);
	cr_assert_str_eq(err.msg, want);
	conf_free(conf);
	remove_path(dir, "a.conf");
	remove_path(dir, "b.conf");
	rmdir(dir);
	free(dir);
}

Test(conf, missing_directory_and_file_are_named)
{
	struct conf *conf = conf_new();
	struct error err = { "" };
	char *dir = temp_dir();

	cr_assert_eq(conf_load_dir(conf, "/nonexistent/why550.d", &err), -1);
	cr_assert_str_eq(err.msg, "/nonexistent/why550.d: No such file or directory");
	cr_assert_eq(conf_load_file(conf, "/nonexistent/x.conf", NULL, &err), -1);
	cr_assert_str_eq(err.msg, "/nonexistent/x.conf: No such file or directory");
	cr_assert_eq(conf_load_file(conf, dir, NULL, &err), -1);
	cr_assert(strstr(err.msg, "a directory, not a regular file") != NULL, "got %s", err.msg);
	cr_assert(strncmp(err.msg, dir, strlen(dir)) == 0, "got %s", err.msg);
	conf_free(conf);
	rmdir(dir);
	free(dir);
}

Test(conf, nul_byte_is_an_error_naming_the_line)
{
	char *dir = temp_dir();
	char path[4096], want[4200];
	struct conf *conf = conf_new();
	struct error err = { "" };

	write_file(dir, "n.conf", "[a]\nk = a\0b\n", 12);
	snprintf(path, sizeof(path), "%s/n.conf", dir);
	cr_assert_eq(conf_load_file(conf, path, NULL, &err), -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	cr_assert_str_eq(err.msg, want);
	conf_free(conf);
	remove(path);
	rmdir(dir);
	free(dir);
}

Test(conf, lines_up_to_64k_are_read_longer_refused)
{
	size_t keylen = 4;	/* "k = " */
	size_t max = 65536;
	char *text = malloc(max + 16);
	struct conf *conf = conf_new();
	struct error err = { "" };

	cr_assert_not_null(text);
	memcpy(text, "[a]\nk = ", 8);
	memset(text + 8, 'x', max - keylen);
	text[8 + max - keylen] = '\0';
	cr_assert_eq(conf_load_file(conf, "t.conf", text, &err), 0, "%s", err.msg);
	cr_assert_eq(strlen(conf_section_get(&conf->sections[0], "k")), max - keylen);

	memset(text + 8, 'x', max - keylen + 1);
	text[8 + max - keylen + 1] = '\0';
	cr_assert_eq(conf_load_file(conf, "u.conf", text, &err), -1);
	cr_assert_str_eq(err.msg, "u.conf:2: line is longer than 65536 bytes");
	conf_free(conf);
	free(text);
}

static struct conf *
load(const char *text)
{
	struct conf *conf = conf_new();
	struct error err = { "" };

	cr_assert_eq(conf_load_file(conf, "t.conf", text, &err), 0, "%s", err.msg);
	return conf;
}

struct int_case {
	const char *name;
	const char *value;
	long min, max;
	int ret;
	long want;
};

static const struct int_case int_cases[] = {
	{ "inside", "42", 0, 100, 0, 42 },
	{ "min", "0", 0, 100, 0, 0 },
	{ "max", "100", 0, 100, 0, 100 },
	{ "negative", "-5", -10, 10, 0, -5 },
	{ "plus", "+7", 0, 10, 0, 7 },
	{ "above", "101", 0, 100, -1, 0 },
	{ "below", "-1", 0, 100, -1, 0 },
	{ "letters", "abc", 0, 100, -1, 0 },
	{ "empty", "", 0, 100, -1, 0 },
	{ "trailing_junk", "5x", 0, 100, -1, 0 },
	{ "hex", "0x10", 0, 100, -1, 0 },
	{ "decimal_point", "1.5", 0, 100, -1, 0 },
	{ "overflow", "99999999999999999999999", 0, 100, -1, 0 },
};

Test(conf, get_int_checks_syntax_and_range)
{
	char text[256], want[256];
	size_t i;

	for (i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
		const struct int_case *c = &int_cases[i];
		struct conf *conf;
		struct error err = { "" };
		long v = -999;
		int r;

		snprintf(text, sizeof(text), "[s]\nother = 1\nn = \"%s\"\n", c->value);
		conf = load(text);
		r = conf_section_get_int(&conf->sections[0], "n", c->min, c->max, &v, &err);
		cr_assert_eq(r, c->ret, "case %s: returned %d (%s)", c->name, r, err.msg);
		if (r == 0) {
			cr_assert_eq(v, c->want, "case %s: %ld", c->name, v);
		} else {
			snprintf(want, sizeof(want),
			    "t.conf:3: key 'n' must be an integer between %ld and %ld",
			    c->min, c->max);
			cr_assert_str_eq(err.msg, want, "case %s", c->name);
			cr_assert_eq(v, -999, "case %s: out touched", c->name);
		}
		conf_free(conf);
	}
}

Test(conf, getters_return_one_when_absent)
{
	struct conf *conf = load("[s]\nx = 1\n");
	struct error err = { "" };
	long l = 7;
	double d = 7.5;
	bool b = true;

	cr_assert_eq(conf_section_get_int(&conf->sections[0], "n", 0, 9, &l, &err), 1);
	cr_assert_eq(l, 7);
	cr_assert_eq(conf_section_get_double(&conf->sections[0], "n", &d, &err), 1);
	cr_assert(d == 7.5);
	cr_assert_eq(conf_section_get_bool(&conf->sections[0], "n", &b, &err), 1);
	cr_assert(b);
	conf_free(conf);
}

struct double_case {
	const char *name;
	const char *value;
	int ret;
	double want;
};

static const struct double_case double_cases[] = {
	{ "fraction", "0.5", 0, 0.5 },
	{ "integer", "-2", 0, -2.0 },
	{ "exponent", "1e3", 0, 1000.0 },
	{ "leading_point", ".25", 0, 0.25 },
	{ "nan", "nan", -1, 0 },
	{ "inf", "inf", -1, 0 },
	{ "hex", "0x1p3", -1, 0 },
	{ "letters", "abc", -1, 0 },
	{ "empty", "", -1, 0 },
	{ "two_points", "1.2.3", -1, 0 },
	{ "huge", "1e999", -1, 0 },
	{ "sign_only", "-", -1, 0 },
};

Test(conf, get_double_accepts_plain_decimals_only)
{
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(double_cases) / sizeof(double_cases[0]); i++) {
		const struct double_case *c = &double_cases[i];
		struct conf *conf;
		struct error err = { "" };
		double v = -999;
		int r;

		snprintf(text, sizeof(text), "[s]\nw = \"%s\"\n", c->value);
		conf = load(text);
		r = conf_section_get_double(&conf->sections[0], "w", &v, &err);
		cr_assert_eq(r, c->ret, "case %s: returned %d", c->name, r);
		if (r == 0)
			cr_assert(v == c->want, "case %s: %g", c->name, v);
		else
			cr_assert_str_eq(err.msg, "t.conf:2: key 'w' must be a number",
			    "case %s", c->name);
		conf_free(conf);
	}
}

struct bool_case {
	const char *name;
	const char *value;
	int ret;
	bool want;
};

static const struct bool_case bool_cases[] = {
	{ "true", "true", 0, true },
	{ "yes", "yes", 0, true },
	{ "on", "on", 0, true },
	{ "one", "1", 0, true },
	{ "upper_true", "TRUE", 0, true },
	{ "false", "false", 0, false },
	{ "no", "no", 0, false },
	{ "off", "Off", 0, false },
	{ "zero", "0", 0, false },
	{ "maybe", "maybe", -1, false },
	{ "empty", "", -1, false },
	{ "two", "2", -1, false },
};

Test(conf, get_bool_accepts_the_usual_words)
{
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(bool_cases) / sizeof(bool_cases[0]); i++) {
		const struct bool_case *c = &bool_cases[i];
		struct conf *conf;
		struct error err = { "" };
		bool v = !c->want;
		int r;

		snprintf(text, sizeof(text), "[s]\n\n\nb = %s\n", c->value);
		conf = load(text);
		r = conf_section_get_bool(&conf->sections[0], "b", &v, &err);
		cr_assert_eq(r, c->ret, "case %s: returned %d", c->name, r);
		if (r == 0)
			cr_assert_eq(v, c->want, "case %s", c->name);
		else
			cr_assert_str_eq(err.msg, "t.conf:4: key 'b' must be true or false",
			    "case %s", c->name);
		conf_free(conf);
	}
}

Test(conf, check_keys_reports_the_first_unknown_key)
{
	static const char *const allowed[] = { "zone", "weight", NULL };
	struct conf *conf = load("[dnsbl \"zen\"]\nzone = a\nweight = 2\nzonez = b\nfoo = c\n[x]\nzone = 1\n");
	struct error err = { "" };

	cr_assert_eq(conf_section_check_keys(&conf->sections[0], allowed, &err), -1);
	cr_assert_str_eq(err.msg, "t.conf:4: unknown key 'zonez' in [dnsbl]");
	cr_assert_eq(conf_section_check_keys(&conf->sections[1], allowed, &err), 0);
	conf_free(conf);
}

Test(conf, conf_error_points_at_entry_or_header)
{
	struct conf *conf = load("\n[s]\nk = v\n");
	struct error err = { "" };
	const struct conf_section *sec = &conf->sections[0];

	cr_assert_eq(conf_error(sec, NULL, &err, "bad thing %d", 7), -1);
	cr_assert_str_eq(err.msg, "t.conf:2: bad thing 7");
	cr_assert_eq(conf_error(sec, &sec->entries[0], &err, "value '%s' is odd", "v"), -1);
	cr_assert_str_eq(err.msg, "t.conf:3: value 'v' is odd");
	conf_free(conf);
}

Test(conf, free_null_is_a_no_op)
{
	conf_free(NULL);
	cr_assert_null(conf_next(NULL, NULL, "x"));
}

/* Makes name in dir what kind says: a link to nothing, a loop of links, a FIFO, a directory. */
static void
make_unreadable(const char *dir, const char *name, const char *kind)
{
	char path[4096], other[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(other, sizeof(other), "%s/other.link", dir);
	if (strcmp(kind, "dangling") == 0) {
		cr_assert_eq(symlink("does-not-exist.conf", path), 0);
	} else if (strcmp(kind, "loop") == 0) {
		cr_assert_eq(symlink("other.link", path), 0);
		cr_assert_eq(symlink(name, other), 0);
	} else if (strcmp(kind, "fifo") == 0) {
		cr_assert_eq(mkfifo(path, 0600), 0);
	} else {
		cr_assert_eq(mkdir(path, 0700), 0);
	}
}

Test(conf, conf_name_that_is_not_a_readable_regular_file_stops_the_load, .timeout = 20)
{
	static const struct {
		const char *kind;
		const char *says;
	} cases[] = {
		{ "dangling", "a symbolic link to a file that does not exist" },
		{ "loop", "a loop of symbolic links" },
		{ "fifo", "a FIFO, not a regular file" },
		{ "directory", "a directory, not a regular file" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = temp_dir(), path[4096];
		struct conf *conf = conf_new();
		struct error err = { "" };

		write_file(dir, "a.conf", "[a]\nk = 1\n", 10);
		make_unreadable(dir, "dnsbl.conf", cases[i].kind);
		cr_expect_eq(conf_load_dir(conf, dir, &err), -1, "%s: loaded", cases[i].kind);
		snprintf(path, sizeof(path), "%s/dnsbl.conf: %s", dir, cases[i].says);
		cr_expect_str_eq(err.msg, path, "%s", cases[i].kind);
		conf_free(conf);
		snprintf(path, sizeof(path), "%s/dnsbl.conf", dir);
		if (strcmp(cases[i].kind, "directory") == 0)
			rmdir(path);
		else
			unlink(path);
		remove_path(dir, "other.link");
		remove_path(dir, "a.conf");
		rmdir(dir);
		free(dir);
	}
}

Test(conf, link_to_a_regular_file_is_read)
{
	char *dir = temp_dir(), path[4096];
	struct conf *conf = conf_new();
	struct error err = { "" };

	write_file(dir, "real.txt", "[a]\nk = 1\n", 10);
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	cr_assert_eq(symlink("real.txt", path), 0);
	cr_assert_eq(conf_load_dir(conf, dir, &err), 0, "%s", err.msg);
	cr_expect_eq(conf->nsections, 1);
	conf_free(conf);
	unlink(path);
	remove_path(dir, "real.txt");
	rmdir(dir);
	free(dir);
}

Test(conf, directory_without_conf_files_is_an_error)
{
	char *dir = temp_dir(), want[4200];
	struct conf *conf = conf_new();
	struct error err = { "" };

	write_file(dir, "README", "[a]\n", 4);
	cr_assert_eq(conf_load_dir(conf, dir, &err), -1);
	snprintf(want, sizeof(want), "%s: no .conf file", dir);
	cr_expect_eq(strncmp(err.msg, want, strlen(want)), 0, "got %s", err.msg);
	conf_free(conf);
	remove_path(dir, "README");
	rmdir(dir);
	free(dir);
}

/* The peak resident memory of this process, in KiB. */
static long
peak_kib(void)
{
	struct rusage ru;

	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

Test(conf, file_over_the_size_limit_is_refused_before_it_is_read)
{
	char *dir = temp_dir(), path[4096];
	struct conf *conf = conf_new();
	struct error err = { "" };
	long before;
	int fd;

	/* 200 MB of a comment: sparse, so the disk does not fill */
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "# ", 2), 2);
	cr_assert_eq(ftruncate(fd, 200L * 1024 * 1024), 0);
	close(fd);
	before = peak_kib();
	cr_assert_eq(conf_load_file(conf, path, NULL, &err), -1);
	cr_expect(strstr(err.msg, "209715200 bytes, over the limit") != NULL, "got %s", err.msg);
	cr_expect_lt(peak_kib() - before, 20 * 1024, "the file was read: %ld KiB more",
	    peak_kib() - before);
	conf_free(conf);
	unlink(path);
	rmdir(dir);
	free(dir);
}

Test(conf, control_bytes_and_invalid_utf8_are_refused_at_their_column)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "[a]\nk = red \x1b[31m\n", "t.conf:2: byte 0x1b at column 9" },
		{ "[a]\nk = bell \x07\n", "t.conf:2: byte 0x07 at column 10" },
		{ "[a]\nk = caf\xe9\n", "t.conf:2: byte 0xe9 at column 8" },
		{ "[a \"\xe2\x80\xae" "evil\"]\n", "t.conf:1: byte 0xe2 at column 5" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *conf = conf_new();
		struct error err = { "" };

		cr_expect_eq(conf_load_file(conf, "t.conf", cases[i].text, &err), -1, "case %zu", i);
		cr_expect_eq(strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)), 0,
		    "case %zu: got %s", i, err.msg);
		conf_free(conf);
	}
}

Test(conf, odd_bytes_of_a_path_are_escaped_in_messages)
{
	char *dir = temp_dir(), sub[512];
	struct conf *conf = conf_new();
	struct error err = { "" };

	snprintf(sub, sizeof(sub), "%s/a\x1b[31mb", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	write_file(sub, "x.conf", "[a\n", 3);
	cr_assert_eq(conf_load_dir(conf, sub, &err), -1);
	cr_expect_null(strchr(err.msg, '\x1b'), "ESC reached the message: %s", err.msg);
	cr_expect_not_null(strstr(err.msg, "a\\x1b[31mb/x.conf:1:"), "got %s", err.msg);
	conf_free(conf);
	remove_path(sub, "x.conf");
	rmdir(sub);
	rmdir(dir);
	free(dir);
}

Test(conf, long_value_quoted_in_a_message_is_cut_with_its_length)
{
	struct conf *conf = conf_new();
	struct error err = { "" };
	char *text = malloc(11000), *value = malloc(5001);
	const struct conf_entry *e;

	memset(value, 'v', 5000);
	value[5000] = '\0';
	snprintf(text, 11000, "[a \"%s\"]\nkind = %s\n", value, value);
	cr_assert_eq(conf_load_file(conf, "t.conf", text, &err), 0, "%s", err.msg);
	e = &conf->sections[0].entries[0];
	conf_error(&conf->sections[0], e, &err, "kind '%s' of [a \"%s\"] is not ip4", e->value,
	    conf->sections[0].label);
	cr_expect_not_null(strstr(err.msg, "t.conf:2: kind 'vvvv"), "got %s", err.msg);
	cr_expect_not_null(strstr(err.msg, "vvvv... (5000 bytes)' of [a \"vvvv"), "got %s", err.msg);
	cr_expect_not_null(strstr(err.msg, "vvvv... (5000 bytes)\"] is not ip4"), "got %s", err.msg);
	conf_free(conf);
	free(text);
	free(value);
}
