"""clients.py - real SMTP clients nobody here wrote, as judges.

One place that runs swaks, openssl s_client, Python smtplib+ssl, msmtp
(GnuTLS), Exim 4 (GnuTLS) and nodemailer against a test server on
127.0.0.1 and reads each client's OWN verdict out of its own output or
log: an Outcome says whether the client delivered over TLS ("delivered"),
fell back to clear text and delivered ("cleartext") or gave up
("refused"), and quotes the line it said it in. The tests then hold that
verdict against the server's spool and transcript.

Where the tools are: swaks, openssl, msmtp and node on PATH; Exim and
nodemailer in the tools folder scripts/deps.sh --test fills,
$SMTP_MIMIC_TOOLS (default /opt/smtp-mimic-tools): exim4/usr/sbin/exim4
(the unpacked exim4-daemon-light) and node/node_modules/nodemailer.

need(test, tool) skips a test whose tool is missing, with the reason,
unless CI is set: under CI a missing tool fails the test, so CI can never
pass by skipping.

Exim runs as a client only: a config generated per run (-C), its own
spool and log in the run's directory, one manualroute router sending
every domain to 127.0.0.1:port, hosts_require_tls unset (so a failed TLS
session falls back to clear text, as Exim does by default), short
timeouts, and -odi: the message is delivered by the submitting process
before it exits, so no queue runner and no retry wait is involved.

Does not: start servers (harness.py), judge anything on the wire, or
decide what a test expects.
"""
import json
import os
import pwd
import re
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import threading
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.environ.get("SMTP_MIMIC_TOOLS", "/opt/smtp-mimic-tools")
EXIM = os.path.join(TOOLS, "exim4", "usr", "sbin", "exim4")
NODE_MODULES = os.path.join(TOOLS, "node", "node_modules")
NODEMAILER_JS = os.path.join(HERE, "nodemailer_send.js")

HELO = "client.lab.test"
FROM = "gw@esa.lab.test"
TO = "user@ex2013.lab.test"

# FACTS.md 3: the gateway cipher strings of seed 000 (OpenSSL syntax).
PROMPT = "DEFAULT:!aNULL:!eNULL"   # AsyncOS 15.0 prompt value (model choice)
BASE = ("ECDH+aRSA:ECDH+ECDSA:DHE+DSS+AES:AES128:AES256:!SRP:"
        "!AESGCM+DH+aRSA:!AESGCM+RSA:!aNULL:!eNULL:!DES:!3DES:!IDEA:!RC2:"
        "-IDEA:-aNULL:-EXPORT")    # the long-standing AsyncOS default
WORKAROUND = BASE + (              # the published workaround
    ":!DHE-RSA-AES256-SHA:!DHE-RSA-AES128-CCM:!DHE-RSA-AES256-CCM"
    ":!ECDHE-ECDSA-CAMELLIA128-SHA256:!ECDHE-RSA-CAMELLIA128-SHA256"
    ":!ECDHE-ECDSA-CAMELLIA256-SHA384:!ECDHE-RSA-CAMELLIA256-SHA384"
    ":!ECDHE-ECDSA-AES128-CCM:!ECDHE-ECDSA-AES256-CCM")
# In seed order, with what FACTS.md 3 says each does against CSCwh48138.
SEED_STRINGS = [("AsyncOS 15.0 prompt", PROMPT, "FAILS"),
                ("AsyncOS default", BASE, "FAILS"),
                ("workaround", WORKAROUND, "DELIVERS")]

DELIVERED = "delivered"   # delivered, inside TLS
CLEARTEXT = "cleartext"   # TLS failed, delivered in clear text
REFUSED = "refused"       # not delivered


class Outcome:
    """A client's own verdict: result (DELIVERED, CLEARTEXT, REFUSED), the
    line of its output that says so, its whole output and exit status."""

    def __init__(self, client, result, line, out, rc):
        self.client, self.result, self.line = client, result, line
        self.out, self.rc = out, rc

    def __repr__(self):
        return "%s: %s (%r)\n--- output (exit %s) ---\n%s" % (
            self.client, self.result, self.line, self.rc, self.out)


def _have(tool):
    if tool == "exim":
        return os.access(EXIM, os.X_OK)
    if tool == "nodemailer":
        return (shutil.which("node") is not None and os.path.isfile(
            os.path.join(NODE_MODULES, "nodemailer", "package.json")))
    return shutil.which(tool) is not None


def need(test, *tools):
    """Skip test (a unittest.TestCase) unless every tool is there; under
    CI=... or SMTP_MIMIC_REQUIRE_TOOLS=1 (scripts/test.sh sets it after
    deps.sh --test) a missing tool is a failure instead."""
    missing = [t for t in tools if not _have(t)]
    if not missing:
        return
    why = "%s not installed (run scripts/deps.sh --test)" % ", ".join(missing)
    if os.environ.get("CI") or os.environ.get("SMTP_MIMIC_REQUIRE_TOOLS"):
        test.fail("scripts/test.sh or CI requires the clients, and " + why)
    test.skipTest(why)


def _run(argv, stdin=b"", timeout=25, env=None):
    cp = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=timeout, env=env)
    return cp.returncode, cp.stdout.decode("utf-8", "replace")


def _last(pattern, text):
    found = re.findall(pattern, text, re.M)
    return found[-1] if found else None


# --- swaks ----------------------------------------------------------------

def swaks(port, tls=True, ciphers=None, protocol=None, subject="swaks"):
    """swaks (--tls: STARTTLS required). Its verdict: the server's last
    reply it printed ("<~  250 2.6.0 ...") when it exits 0, else its
    "*** ..." error line."""
    argv = ["swaks", "--server", "127.0.0.1:%d" % port, "--helo", HELO,
            "--from", FROM, "--to", TO, "--timeout", "10",
            "--data", "Subject: %s\\n\\nhello from swaks\\n" % subject]
    if tls:
        argv.append("--tls")
    if ciphers:
        argv += ["--tls-cipher", ciphers]
    if protocol:
        argv += ["--tls-protocol", protocol]
    rc, out = _run(argv, stdin=None)
    if rc == 0:
        line = _last(r"^<~?  (250 2\.6\.0 .*)$", out)
        return Outcome("swaks", DELIVERED if tls else CLEARTEXT, line, out, rc)
    return Outcome("swaks", REFUSED, _last(r"^(\*\*\* .*)$", out), out, rc)


# --- openssl s_client -----------------------------------------------------

class Piped:
    """An interactive child (openssl s_client): write lines, wait for text."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = b""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                return
            with self.lock:
                self.out += chunk

    def text(self):
        with self.lock:
            return self.out.decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=10):
        """The match of pattern in the output, or None if the child ended
        (or timeout passed) first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text(), re.M)
            if m:
                return m
            if self.proc.poll() is not None and not self.reader.is_alive():
                return re.search(pattern, self.text(), re.M)
            time.sleep(0.02)
        return None

    def send(self, text):
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass

    def finish(self, timeout=15):
        """Close stdin, wait for the exit; (status, output)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        self.reader.join(5)
        return rc, self.text()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


S_CLIENT_STEPS = [
    ("EHLO " + HELO, r"^250 \S"),
    ("MAIL FROM:<%s>" % FROM, r"^250 2\.1\.0 "),
    ("RCPT TO:<%s>" % TO, r"^250 2\.1\.5 "),
    ("DATA", r"^354 "),
    ("Subject: s_client\r\n\r\nhello from s_client\r\n.", r"^250 2\.6\.0 "),
    ("QUIT", r"^221 "),
]


def s_client(port, ciphers=None, extra=()):
    """openssl s_client -starttls smtp, typing one transaction after the
    handshake. Its verdict: the "250 2.6.0" line it printed, or its own
    error line (e.g. "...:unexpected eof while reading:...")."""
    argv = ["openssl", "s_client", "-starttls", "smtp", "-connect",
            "127.0.0.1:%d" % port, "-name", HELO, "-ign_eof"]
    if ciphers:
        argv += ["-cipher", ciphers]
    p = Piped(argv + list(extra))
    try:
        if p.wait_for(r"^---\n(?:.|\n)*^---\n", 10):
            # the session block printed: the handshake is done
            p.wait_for(r"^(?:    )?Verify return code.*\n---\n", 5)
        for line, want in S_CLIENT_STEPS:
            if p.proc.poll() is not None:
                break
            p.send(line + "\r\n")
            if not p.wait_for(want):
                break
        rc, out = p.finish()
    finally:
        p.kill()
    ok = _last(r"^(250 2\.6\.0 .*?)\r?$", out)
    if ok and re.search(r"^221 ", out, re.M):
        return Outcome("s_client", DELIVERED, ok, out, rc)
    return Outcome("s_client", REFUSED,
                   _last(r"^(\S*:error:.*)$", out) or out.splitlines()[-1:],
                   out, rc)


# --- Python smtplib + ssl -------------------------------------------------

def tls_context(ciphers=None, minimum=None, maximum=None):
    """A client context that trusts anything (the certificate is
    self-signed), with the given OpenSSL cipher string and versions."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if minimum is not None:
            ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    return ctx


def smtplib_tls(port, ciphers=None, maximum=ssl.TLSVersion.TLSv1_2):
    """smtplib: EHLO, starttls(), one message. Its verdict: the end-of-data
    reply, or the exception it raised ("SMTPServerDisconnected: ...")."""
    body = b"Subject: smtplib\r\n\r\nhello from smtplib\r\n"
    log = []
    try:
        with smtplib.SMTP("127.0.0.1", port, local_hostname=HELO,
                          timeout=10) as s:
            s.ehlo()
            log.append("starttls: %r" % (s.starttls(
                context=tls_context(ciphers, maximum=maximum)),))
            log.append("cipher: %r" % (s.sock.cipher(),))
            s.ehlo()
            s.mail(FROM)
            s.rcpt(TO)
            code, msg = s.data(body)
            log.append("data: %d %s" % (code, msg.decode()))
            s.quit()
    except (smtplib.SMTPException, OSError) as e:
        line = "%s: %s" % (type(e).__name__, e)
        return Outcome("smtplib", REFUSED, line, "\n".join(log + [line]), 1)
    line = "%d %s" % (code, msg.decode())
    return Outcome("smtplib", DELIVERED if code == 250 else REFUSED, line,
                   "\n".join(log), 0)


# --- msmtp ----------------------------------------------------------------

def msmtp(port, workdir, tls=True):
    """msmtp (GnuTLS, its default priorities), STARTTLS. Its verdict: the
    line it writes to its --logfile (smtpmsg=... exitcode=EX_OK, or
    errormsg='...' exitcode=EX_...)."""
    logfile = os.path.join(workdir, "msmtp.log")
    argv = ["msmtp", "--host=127.0.0.1", "--port=%d" % port,
            "--tls=%s" % ("on" if tls else "off"), "--tls-starttls=on",
            "--tls-certcheck=off", "--auth=off", "--domain=" + HELO,
            "--from=" + FROM, "--timeout=10", "--logfile=" + logfile, TO]
    rc, out = _run(argv, b"Subject: msmtp\n\nhello from msmtp\n")
    with open(logfile, encoding="utf-8", errors="replace") as f:
        line = f.read().splitlines()[-1]
    ok = rc == 0 and "exitcode=EX_OK" in line
    return Outcome("msmtp", (DELIVERED if tls else CLEARTEXT) if ok
                   else REFUSED, line, out, rc)


# --- Exim 4 ---------------------------------------------------------------

EXIM_CONF = """\
# generated by tests/blackbox/lib/clients.py: Exim as a client only
exim_path = {exim}
primary_hostname = gw.lab.test
spool_directory = {spool}
log_file_path = {spool}/log/%slog
exim_user = {user}
exim_group = {group}
never_users =
keep_environment =
begin routers
to_mimic:
  driver = manualroute
  domains = *
  transport = remote_smtp
  route_list = * 127.0.0.1 byname
  self = send
begin transports
remote_smtp:
  driver = smtp
  port = {port}
  allow_localhost
  connect_timeout = 5s
  command_timeout = 10s
  data_timeout = 10s
  final_timeout = 10s
{extra}
begin retry
* * F,1m,1m
"""


def exim(port, workdir, transport_extra=""):
    """Exim 4.96 (GnuTLS, Debian's defaults: STARTTLS whenever offered,
    clear text after a failed TLS session). Its verdict, from its main log:
    "=> ... X=<TLS>" delivered inside TLS; "TLS session: ... delivering
    unencrypted" then "=> ..." without X= is CLEARTEXT (line: the fallback
    line); anything else REFUSED (line: its "==" or "**" line)."""
    d = os.path.join(workdir, "exim")
    os.makedirs(d, exist_ok=True)
    # Root runs it as Debian-exim (the user deps.sh adds), which must be
    # able to reach the spool; anybody else runs it as themselves (-C).
    if os.geteuid() == 0:
        user = group = "Debian-exim"
        for p in (workdir, d):
            os.chmod(p, 0o755)
    else:
        user = pwd.getpwuid(os.getuid()).pw_name
        group = str(os.getgid())
    conf = os.path.join(d, "exim.conf")
    spool = os.path.join(d, "spool")
    with open(conf, "w") as f:
        f.write(EXIM_CONF.format(exim=EXIM, spool=spool, user=user,
                                 group=group, port=port,
                                 extra=transport_extra))
    rc, out = _run([EXIM, "-C", conf, "-odi", "-oi", "-f", FROM, TO],
                   b"Subject: exim\n\nhello from exim\n")
    try:
        with open(os.path.join(spool, "log", "mainlog"),
                  encoding="utf-8", errors="replace") as f:
            log = f.read()
    except OSError:
        log = ""
    # Not root, Exim may log to stderr instead (and without the message
    # id): read both.
    out = log + "--- exim's stdout/stderr ---\n" + out
    stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?:\S+ )?"
    done = _last(stamp + r"(=> .*)$", out)
    fallback = _last(stamp + r"(TLS session: .*delivering unencrypted.*)$",
                     out)
    if done and " X=" in done:
        return Outcome("exim", DELIVERED, done, out, rc)
    if done and fallback:
        return Outcome("exim", CLEARTEXT, fallback, out, rc)
    return Outcome("exim", REFUSED, _last(stamp + r"((?:==|\*\*) .*)$", out),
                   out, rc)


def exim_log_line(outcome, pattern):
    """The first line of an Exim outcome's main log matching pattern."""
    m = re.search(pattern, outcome.out, re.M)
    return m.group(0) if m else None


# --- nodemailer -----------------------------------------------------------

def nodemailer(port, ciphers=None):
    """nodemailer 6 (Node's OpenSSL, its default cipher list; STARTTLS
    whenever offered). Its verdict: "ok: <server reply>" or
    "error: <code> <message>", printed by nodemailer_send.js."""
    spec = {"port": port, "name": HELO, "from": FROM, "to": TO}
    if ciphers:
        spec["ciphers"] = ciphers
    env = dict(os.environ, NODE_PATH=NODE_MODULES)
    rc, out = _run(["node", NODEMAILER_JS, json.dumps(spec)], None, env=env)
    line = _last(r"^((?:ok|error): .*)$", out)
    ok = rc == 0 and line is not None and line.startswith("ok: 250")
    return Outcome("nodemailer", DELIVERED if ok else REFUSED, line, out, rc)


def workdir(test):
    """A temporary directory removed after test."""
    d = tempfile.mkdtemp(prefix="mimic-client-")
    test.addCleanup(shutil.rmtree, d, True)
    return d
