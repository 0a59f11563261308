/*
 * schema_data.c - the rows of the data section: which sequences end DATA
 * besides CRLF.CRLF, and what a bare LF or bare CR inside the message does
 * (keep, normalise, space, reject, exit), the knobs behind SMTP smuggling
 * (FACTS 13).
 *
 * Does not: decode the message (proto/message.c) or send the replies
 * (smtp/data.c).
 */
#include <string.h>

#include "schema.h"
#include "yaml_read.h"

#define CH(t)   .choices = (t), .nchoices = nitems(t)
#define ROWS(t) .rows = (t), .nrows = nitems(t)
#define DPF(f)  offsetof(struct data_policy, f)

static const char *const bare_why[BARE_ACTION_COUNT] = {
    [BARE_KEEP] = "keep (stays in the message as it came)",
    [BARE_CRLF] = "crlf (becomes CRLF, a line end)",
    [BARE_SPACE] = "space (becomes a space)",
    [BARE_REJECT] = "reject (the message is refused at its end)",
    [BARE_EXIT] = "exit (reply at once, then close)",
};

/* [CLOSE_x] names; the others are NULL, so not allowed */
static const char *const reject_close_names[] = {
    [CLOSE_NONE] = "none",
    [CLOSE_FIN] = "fin",
    [CLOSE_RST] = "rst",
};

/* end_of_data: a list of "A.B" (A, B one of CRLF, LF, CR), kept as
 * written for --check and the man page, and as EOD_SEQ bits for the
 * decoder. */
static int
load_end_of_data(struct layer *l, const struct schema_row *r,
                 const yaml_node_t *n, const char *what, void *base)
{
	struct data_policy *d = base;
	unsigned eod = 0;
	yaml_node_item_t *items;
	size_t count;

	if (want_list(l, n, what, "a list such as [LF.LF, CR.CR]", &items,
	              &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = node(l, items[i]);
		unsigned bit;

		if (want_scalar(l, item, what, "a sequence such as LF.LF") < 0)
			return -1;
		bit = eod_seq_from_str(sval(item));
		if (bit == 0)
			return err_node(l, item,
			                "bad sequence \"%s\" in \"%s\" (write "
			                "A.B with A and B each CRLF, LF or CR, "
			                "e.g. LF.LF or CR.CR)",
			                sval(item), what);
		eod |= bit;
	}
	if (schema_load_value(l, r, n, what, base) < 0)
		return -1;
	d->eod = eod;
	return 0;
}

static const struct schema_row data_rows[] = {
    {.name = "end_of_data",
     .type = T_WORDS,
     .off = DPF(end_of_data),
     .noff = DPF(nend_of_data),
     .word = WORD_VERB,
     .load = load_end_of_data,
     .zero = "CRLF.CRLF only",
     .def_doc = "none (CRLF.CRLF only; line_endings: lenient adds LF.LF, "
                "LF.CRLF and CRLF.LF)",
     .doc = "more sequences that end DATA besides CRLF.CRLF (RFC 5321 "
            "4.1.1.4), each A.B with A and B one of CRLF, LF, CR: the line "
            "end before the dot and after it; what follows is read as "
            "commands (SMTP smuggling, FACTS 13)"},
    {.name = "bare_lf",
     .type = T_CHOICE,
     .off = DPF(bare_lf),
     .def = BARE_KEEP,
     .choices = bare_action_names,
     .nchoices = BARE_ACTION_COUNT,
     .explain_choice = bare_why,
     .doc = "a LF without CR before it in the message: keep, crlf "
            "(normalise), space, reject (data_bare_lf at the end of data, "
            "then reject_close) or exit (data_bare_lf at once, then FIN)"},
    {.name = "bare_cr",
     .type = T_CHOICE,
     .off = DPF(bare_cr),
     .def = BARE_KEEP,
     .choices = bare_action_names,
     .nchoices = BARE_ACTION_COUNT,
     .explain_choice = bare_why,
     .doc = "a CR without LF after it in the message: as bare_lf, with "
            "data_bare_cr"},
    {.name = "reject_close",
     .type = T_CHOICE,
     .off = DPF(reject_close),
     .def = CLOSE_NONE,
     CH(reject_close_names),
     .doc = "after a reject's reply: none (the session goes on), fin or "
            "rst"},
};

const struct schema_section schema_data = {
    .name = "data",
    ROWS(data_rows),
    .allow_null = true,
    .form_hint = "data is a mapping, e.g. data: {end_of_data: [LF.LF], "
                 "bare_lf: crlf}",
};
