/* A main() for the fuzz harnesses without libFuzzer: each input file named (or each file of a folder named) goes through LLVMFuzzerTestOneInput once, so seeds and crash inputs replay in make check with any compiler. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one file; its bytes sit in a buffer of exactly their size, so a sanitizer sees a read past the end. */
static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long size;
	int ret = -1;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		goto out;
	}
	data = malloc(size > 0 ? (size_t)size : 1);
	if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(data, (size_t)size);
	ret = 0;
out:
	free(data);
	if (f != NULL)
		fclose(f);
	return ret;
}

static int
replay(const char *path, size_t *n)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *sub;
	int ret = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: no such input '%s'\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*n)++;
		return replay_file(path);
	}
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0)
			continue;
		sub = malloc(strlen(path) + strlen(de->d_name) + 2);
		if (sub == NULL)
			abort();
		sprintf(sub, "%s/%s", path, de->d_name);
		if (replay(sub, n) != 0)
			ret = -1;
		free(sub);
	}
	closedir(d);
	return ret;
}

int
main(int argc, char **argv)
{
	size_t n = 0;
	int i, ret = 0;

	/* libFuzzer starts with the empty input too */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	for (i = 1; i < argc; i++)
		if (replay(argv[i], &n) != 0)
			ret = 1;
	printf("%s: %zu inputs replayed\n", argv[0], n);
	return ret;
}
