/*
 * data.h - a message's body: DATA (RFC 5321 4.1.1.4) and BDAT chunks
 * (RFC 3030) streamed to the spool with their limits and hooks, and the
 * reply at the end of the data.
 *
 * Does not: decide whether DATA or BDAT may start (commands.c).
 */
#ifndef DATA_H
#define DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

/* DATA is decoded in chunks of at most this many bytes. */
#define DATA_CHUNK (16 * 1024)

struct evbuffer;
struct session;

/* data_start - open the spool for DATA; false (451 sent) on error */
bool data_start(struct session *s);

/* data_start_bdat - receive a BDAT chunk of size bytes; with discard,
 * read it past and answer refusal */
void data_start_bdat(struct session *s, uint64_t size, bool last, bool discard,
                     enum reply_id refusal);

/* data_in - decode what DATA input there is; true if it made progress */
bool data_in(struct session *s, struct evbuffer *in);

/* data_bdat_in - read BDAT chunk bytes; true if it made progress */
bool data_bdat_in(struct session *s, struct evbuffer *in);

/* data_message_end - answer the end of a message: the verdict's reply,
 * or spool it and 250 */
void data_message_end(struct session *s);

#endif
