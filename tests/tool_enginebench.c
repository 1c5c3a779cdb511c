/* Benchmark driver: resolves every name of a file through the engine, all in flight at once, and prints the rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "core/util.h"

int
main(int argc, char **argv)
{
	struct dns_config cfg;
	struct dns_engine *eng;
	struct dns *dns;
	struct dns_query **qs = NULL;
	char **names = NULL, line[512], err[256];
	size_t n = 0, i, ok = 0;
	int64_t start, elapsed;
	FILE *fp;

	if (argc != 3) {
		fprintf(stderr, "usage: enginebench ADDR:PORT NAMES\n");
		return 64;
	}
	dns_config_init(&cfg);
	if (dns_server_parse(argv[1], &cfg.servers[0]) < 0) {
		fprintf(stderr, "enginebench: bad server '%s'\n", argv[1]);
		return 64;
	}
	cfg.nservers = 1;
	fp = fopen(argv[2], "r");
	if (fp == NULL) {
		fprintf(stderr, "enginebench: cannot read '%s'\n", argv[2]);
		return 66;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *sp = strchr(line, ' ');

		if (sp != NULL)
			*sp = '\0';
		line[strcspn(line, "\n")] = '\0';
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(line);
	}
	fclose(fp);
	eng = dns_engine_new(&cfg, err, sizeof(err));
	if (eng == NULL) {
		fprintf(stderr, "enginebench: %s\n", err);
		return 1;
	}
	dns = dns_new(eng, 0);
	qs = xcalloc(n, sizeof(*qs));
	start = now_ms();
	for (i = 0; i < n; i++)
		qs[i] = dns_query_submit(dns, names[i], DNS_T_A);
	for (i = 0; i < n; i++) {
		struct dns_result *res = dns_query_wait(dns, qs[i]);

		if (res->status == DNS_ANSWER)
			ok++;
		dns_result_free(res);
		dns_query_free(qs[i]);
	}
	elapsed = now_ms() - start;
	printf("names %zu\nanswered %zu\nms %lld\nqps %.0f\n", n, ok, (long long)elapsed,
	    elapsed > 0 ? (double)n * 1000.0 / (double)elapsed : 0.0);
	dns_free(dns);
	dns_engine_free(eng);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(qs);
	return ok == n ? 0 : 1;
}
