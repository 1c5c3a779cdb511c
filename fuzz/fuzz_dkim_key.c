/* libFuzzer harness for the DKIM key-record parser, the tag-list parser, base64 and the private-key DER reader. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dkim/key.h"
#include "checks/dkim/tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct dkim_key key;
	struct dkim_tags tags;
	unsigned char *out = NULL;
	const unsigned char *mod;
	size_t len, modlen;
	char why[256], *s;

	/* a TXT record may hold any byte, NUL included */
	(void)dkim_key_parse(text, size, &key);
	/* an RSA key's size is its modulus's; an ed25519 key is 32 bytes, 256 bits, whatever they hold */
	if (key.modulus != NULL && key.type == DKIM_KEY_RSA &&
	    key.bits != dkim_bits(key.modulus, key.modulus_len))
		abort();
	if (key.modulus != NULL && key.type == DKIM_KEY_ED25519 &&
	    (key.bits != 256 || key.modulus_len != 32))
		abort();
	dkim_key_release(&key);
	if (dkim_tags_parse(text, size, &tags, why, sizeof(why)) == 0)
		(void)dkim_tags_get(&tags, "p");
	dkim_tags_release(&tags);
	(void)dkim_spki_parse(data, size, &mod, &modlen, why, sizeof(why));
	(void)dkim_rsa_private_modulus(text, size, &out, &len, why, sizeof(why));
	free(out);
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	out = NULL;
	if (dkim_base64_decode(s, &out, &len, why, sizeof(why)) == 0 && len > size)
		abort();
	free(out);
	free(s);
	return 0;
}
