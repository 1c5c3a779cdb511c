/* libFuzzer harness for the blocklist parsers: return-code specs, list sections, answer classification and TXT URLs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dnsbl/list.h"
#include "core/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsbl_code code;
	struct dnsbl_list *l;
	struct conf *conf;
	const struct conf_section *sec = NULL;
	struct error err;
	char why[160], *text, *url;
	long matched[64];
	bool policy;
	size_t n;

	/* TXT answers are hostile bytes, NULs included */
	url = dnsbl_txt_url((const char *)data, size);
	if (url != NULL && strlen(url) > 512)
		abort();
	free(url);

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (dnsbl_code_parse(text, DNSBL_CODE_LISTED, &code, why, sizeof(why)) == 0) {
		if (code.lo > code.hi)
			abort();
		free(code.meaning);
	}

	/* the same bytes as a checks.d file; every list section, then answers from the bytes */
	conf = conf_new();
	if (conf_load_file(conf, "fuzz.conf", text, &err) == 0) {
		while ((sec = conf_next(conf, sec, "dnsbl")) != NULL) {
			l = dnsbl_list_from_section(sec, DNSBL_IP4, &err);
			if (l == NULL)
				continue;
			n = size / 4 < 64 ? size / 4 : 64;
			(void)dnsbl_classify(l, data, n, matched, &policy);
			url = dnsbl_delist_url(l, "192.0.2.1");
			free(url);
			dnsbl_list_free(l);
		}
	}
	conf_free(conf);
	free(text);
	return 0;
}
