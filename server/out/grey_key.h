/*
 * grey_key.h - the parts of a policy state key, as postgrey 1.37 forms
 * them: the client's network, the sender with its VERP noise removed, and
 * the lower-cased "net/sender/recipient" triplet.
 *
 * Does not: look anything up (grey_store.h) or know a session.
 */
#ifndef GREY_KEY_H
#define GREY_KEY_H

#include <stddef.h>

/*
 * grey_key_net - the network of address ip (IPv4, IPv6, or IPv4-mapped
 * IPv6, which counts as IPv4) with the host bits cleared: "192.0.2.0"
 * for 192.0.2.77 at 24 bits. Returns 0, or -1 when ip is not an address
 * (out then holds ip as given).
 */
int grey_key_net(const char *ip, int v4_bits, int v6_bits, char *out,
                 size_t len);

/*
 * grey_key_sender - postgrey's sender substitutions: the local part loses
 * a "+extension", and every number standing alone as a word in it becomes
 * "#" ("bounce-1234-x@d" -> "bounce-#-x@d"); an address without "@" stays.
 * Cut to len - 1 bytes.
 */
void grey_key_sender(const char *addr, char *out, size_t len);

/*
 * grey_key_join - "a/b/c" of n parts, lower-cased (ASCII), into out;
 * returns its length, or 0 when it does not fit in len - 1 bytes.
 */
size_t grey_key_join(const char *const *parts, size_t n, char *out, size_t len);

#endif
