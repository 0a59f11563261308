"""What a healthy exchange2013 says, for the tests of every profile built
on it (exchange2013, its scenarios and the paths in front of it): one
copy of the banner, the EHLO replies before and after STARTTLS, and the
STARTTLS go-ahead. Each line cites ../shared/FACTS.md section 1 (the 2017
s_client transcript); the profile's --check says which are model choices.
"""
import re

BANNER_RE = re.compile(  # FACTS.md 1, banner template
    r"220 ex2013\.lab\.test Microsoft ESMTP MAIL Service ready at "
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?:[1-9]|[12][0-9]|3[01]) "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] [+-][0-9]{4}\Z")
EHLO_REPLY = [  # FACTS.md 1
    "250-ex2013.lab.test Hello [127.0.0.1]",
    "250-SIZE 37748736",
    "250-PIPELINING",
    "250-DSN",
    "250-ENHANCEDSTATUSCODES",
    "250-STARTTLS",
    "250-X-ANONYMOUSTLS",
    "250-AUTH NTLM",
    "250-X-EXPS GSSAPI NTLM",
    "250-8BITMIME",
    "250-BINARYMIME",
    "250-CHUNKING",
    "250 XRDST",
]
# FACTS.md 1 / RFC 3207 4.2: after STARTTLS the re-EHLO lists neither
# STARTTLS nor X-ANONYMOUSTLS, and AUTH adds LOGIN.
EHLO_REPLY_TLS = [
    "250-AUTH NTLM LOGIN" if line == "250-AUTH NTLM" else line
    for line in EHLO_REPLY if line not in ("250-STARTTLS", "250-X-ANONYMOUSTLS")]
STARTTLS_READY = "220 2.0.0 SMTP server ready"   # FACTS.md 1, model choice
