/*
 * ntlm.h - the server's half of NTLM's first round trip, as SMTP's AUTH
 * NTLM carries it (MS-NLMP 2.2.1; MS-SMTPNTLM 2.2): tell what a client's
 * message is (NEGOTIATE, CHALLENGE or AUTHENTICATE) and build the
 * CHALLENGE_MESSAGE (type 2) a Windows server answers a NEGOTIATE with,
 * its TargetInfo carrying the server's NetBIOS and DNS names.
 *
 * Pure functions over byte buffers: no I/O, no clock, no randomness (the
 * caller passes the 8-byte challenge and the timestamp), no base64 (the
 * caller encodes). Does not: verify an AUTHENTICATE_MESSAGE (the engine
 * has no NT hashes; it refuses every one), NTLMv1, signing or sealing.
 */
#ifndef NTLM_H
#define NTLM_H

#include <stddef.h>
#include <stdint.h>

/* MS-NLMP 2.2.1: the message types (MessageType field). */
enum ntlm_type {
	NTLM_NEGOTIATE = 1,
	NTLM_CHALLENGE = 2,
	NTLM_AUTHENTICATE = 3,
};

/* MS-NLMP 2.2.2.5: the NegotiateFlags bits the CHALLENGE uses. */
#define NTLM_NEGOTIATE_UNICODE                  0x00000001u
#define NTLM_NEGOTIATE_OEM                      0x00000002u
#define NTLM_REQUEST_TARGET                     0x00000004u
#define NTLM_NEGOTIATE_SIGN                     0x00000010u
#define NTLM_NEGOTIATE_SEAL                     0x00000020u
#define NTLM_NEGOTIATE_NTLM                     0x00000200u
#define NTLM_NEGOTIATE_ALWAYS_SIGN              0x00008000u
#define NTLM_TARGET_TYPE_DOMAIN                 0x00010000u
#define NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLM_NEGOTIATE_TARGET_INFO              0x00800000u
#define NTLM_NEGOTIATE_VERSION                  0x02000000u
#define NTLM_NEGOTIATE_128                      0x20000000u
#define NTLM_NEGOTIATE_KEY_EXCH                 0x40000000u
#define NTLM_NEGOTIATE_56                       0x80000000u

/* MS-NLMP 2.2.2.1: the AV_PAIR ids (AvId) the CHALLENGE carries. */
enum ntlm_av_id {
	NTLM_AV_EOL = 0,
	NTLM_AV_NB_COMPUTER_NAME = 1,
	NTLM_AV_NB_DOMAIN_NAME = 2,
	NTLM_AV_DNS_COMPUTER_NAME = 3,
	NTLM_AV_DNS_DOMAIN_NAME = 4,
	NTLM_AV_DNS_TREE_NAME = 5,
	NTLM_AV_TIMESTAMP = 7,
};

/* Offsets in a CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2). */
#define NTLM_CHALLENGE_HEADER 56 /* fixed part; the payload follows */

/* The server's names, as UTF-8 (ASCII in practice); none may be NULL. */
struct ntlm_names {
	const char *netbios_domain;   /* MsvAvNbDomainName; TargetName */
	const char *netbios_computer; /* MsvAvNbComputerName */
	const char *dns_domain;       /* MsvAvDnsDomainName */
	const char *dns_computer;     /* MsvAvDnsComputerName */
};

/* MS-NLMP 2.2.2.10 VERSION: the Windows build the server says it is. */
struct ntlm_version {
	uint8_t major;
	uint8_t minor;
	uint16_t build;
};

/*
 * ntlm_type_of - the MessageType of a decoded NTLM message: the
 * "NTLMSSP\0" signature and a 32-bit type; -1 when it is not one.
 */
int ntlm_type_of(const unsigned char *msg, size_t len);

/*
 * ntlm_challenge - write a CHALLENGE_MESSAGE to out: flags as given,
 * TargetName the NetBIOS domain (UTF-16LE), TargetInfo the AV pairs
 * MsvAvNbDomainName, MsvAvNbComputerName, MsvAvDnsDomainName,
 * MsvAvDnsComputerName, MsvAvTimestamp (filetime) and MsvAvEOL, in that
 * order (a Windows server's), then the VERSION. Returns the length, or -1
 * when out is too small or a name is longer than an AV pair can hold.
 */
long ntlm_challenge(const struct ntlm_names *names,
                    const struct ntlm_version *version, uint32_t flags,
                    const unsigned char challenge[8], uint64_t filetime,
                    unsigned char *out, size_t outlen);

/*
 * ntlm_user - "DOMAIN\\user" of an AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3),
 * for the transcript: UTF-16LE or OEM as its flags say, anything but
 * printable ASCII as "?", cut to fit out; "" when the fields are not
 * inside the message.
 */
void ntlm_user(const unsigned char *msg, size_t len, char *out, size_t outlen);

/* ntlm_filetime - Unix seconds and nanoseconds as a FILETIME (100 ns
 * since 1601-01-01, MS-DTYP 2.3.3) */
uint64_t ntlm_filetime(int64_t unix_sec, long nsec);

/* ntlm_parse_version - "6.3.9600" into v; -1 when it is not that form */
int ntlm_parse_version(const char *s, struct ntlm_version *v);

#endif
