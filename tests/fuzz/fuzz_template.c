/*
 * fuzz_template.c - libFuzzer target for server/proto/template.h: one
 * input is a reply template as a profile would carry it. It is checked
 * (template_check) and, whether or not it passes, expanded with every
 * variable set (and once with none), so a template the loader would
 * reject cannot crash a session either. With every variable set {date}
 * is a fixed string; with none it is the clock's (template.c formats it).
 * The same input is also a profile's date_format: checked
 * (template_date_check), formatted whether or not it passes
 * (template_date, into a full and a one-byte buffer), and used as
 * {date}'s format and UTC format by the second expansion.
 *
 * Does not: compare expansions with expected text (tests/unit does).
 */
#include "template.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tpl_vars full = {{0}, NULL, NULL}, none = {{0}, NULL, NULL};
	struct evbuffer *out;
	size_t errpos = 0, n;
	char date[TEMPLATE_DATE_MAX], tiny[1];
	char *tpl;

	tpl = malloc(size + 1);
	if (tpl == NULL)
		return 0;
	memcpy(tpl, data, size);
	tpl[size] = '\0';
	for (int i = 0; i < TPL_COUNT; i++)
		full.v[i] = template_var_name((enum tpl_var)i);
	full.v[TPL_DATE] = "Fri, 5 Aug 2016 16:24:41 -0700";

	if (template_check(tpl, &errpos) < 0 && errpos > strlen(tpl))
		abort();
	errpos = 0;
	if (template_date_check(tpl, &errpos) < 0 && errpos >= strlen(tpl))
		abort();
	n = template_date(tpl, (time_t)size * 86399, date, sizeof(date));
	if (n >= sizeof(date) || date[n] != '\0')
		abort();
	if (template_date(tpl, 0, tiny, sizeof(tiny)) != 0 || tiny[0] != '\0')
		abort();
	out = evbuffer_new();
	template_expand(tpl, &full, out);
	none.date_format = tpl;
	none.date_format_utc = size % 2 ? tpl : NULL;
	template_expand(tpl, &none, out);
	evbuffer_free(out);
	free(tpl);
	return 0;
}
