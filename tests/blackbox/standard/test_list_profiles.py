"""--list-profiles: the shelf grouped by vendor ("vendor:" lines, sorted),
each peer indented two spaces with its description, each scenario four
spaces under the profile it extends, "(scenario on <peer>)" before its
description; then "invalid:" (files that do not load) and "middleboxes:".

Every file in profiles/ must be listed exactly once, under the vendor its
YAML says (its own "vendor:" or the nearest one along "extends"); the
expectation is read from the files themselves (a plain line scan), so new
profiles on the shelf are checked too. A fixture directory adds a profile
without a vendor, a scenario on a scenario and a broken file.
"""
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, run_cli  # noqa: E402


def top_keys(path):
    """name, extends, vendor, scenario of a profile file (top-level keys)."""
    keys = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"(name|extends|vendor|scenario|kind):\s*(\S.*?)\s*"
                         r"(?:#.*)?$", line)
            if m and m.group(1) not in keys:
                keys[m.group(1)] = m.group(2).strip('"')
    return keys


def shelf(dirs):
    """{name: keys} of the server profiles in dirs (first one wins)."""
    out = {}
    for d in dirs:
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".yaml") and fn[:-5] not in out:
                keys = top_keys(os.path.join(d, fn))
                if keys.get("kind") != "middlebox":
                    out[fn[:-5]] = keys
    return out


def vendor_of(profiles, name, depth=0):
    k = profiles.get(name, {})
    if "vendor" in k or depth > 8:
        return k.get("vendor")
    return vendor_of(profiles, k["extends"], depth + 1) if "extends" in k \
        else None


def parse(out):
    """[(group, depth, name, text)] in order; depth 1 peer, 2 scenario;
    the closing "from:" group (where each came from) is left out."""
    rows, group = [], None
    for line in out.splitlines():
        if not line:
            continue
        m = re.match(r"(\S.*):$", line)
        if m:
            group = m.group(1)
            continue
        if group == "from":
            continue
        m = re.match(r"( +)(\S+) +(.*)$", line)
        assert m, line
        rows.append((group, len(m.group(1)) // 2, m.group(2), m.group(3)))
    return rows


class ListProfiles(unittest.TestCase):

    def listing(self, dirs):
        args = ["--list-profiles"]
        for d in dirs:
            args += ["--profile-path", d]
        cp = run_cli(args)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        return cp.stdout

    def check_tree(self, out, profiles):
        rows = parse(out)
        names = [r[2] for r in rows if r[0] != "middleboxes"]
        self.assertEqual(sorted(names), sorted(profiles), out)
        groups = [g for g in dict.fromkeys(r[0] for r in rows)]
        vendors = [g for g in groups if g not in ("invalid", "middleboxes")]
        self.assertEqual(vendors, sorted(vendors), out)
        self.assertEqual(groups[-1], "middleboxes", out)
        parent_at = {}
        for group, depth, name, text in rows:
            if group in ("invalid", "middleboxes"):
                continue
            keys = profiles[name]
            self.assertEqual(group, vendor_of(profiles, name) or "(none)",
                             name)
            parent_at[depth] = name
            if keys.get("scenario") == "true" and keys.get("extends") in \
                    profiles:
                self.assertEqual(depth, 2 + (profiles[keys["extends"]]
                                             .get("scenario") == "true"),
                                 name)
                self.assertEqual(parent_at[depth - 1], keys["extends"], name)
                self.assertTrue(text.startswith(
                    "(scenario on %s)  " % keys["extends"]), text)
            else:
                self.assertEqual(depth, 1, name)
        return rows

    def test_from(self):
        """The listing ends with "from:": the -P dir and how many it gave."""
        out = self.listing([PROFILES])
        rows = parse(out)
        self.assertEqual(
            out.splitlines()[-3:],
            ["", "from:", "  -P           %s: %d profiles and middleboxes"
             % (PROFILES, len(rows))], out)

    def test_shipped_shelf(self):
        out = self.listing([PROFILES])
        rows = self.check_tree(out, shelf([PROFILES]))
        lines = out.splitlines()
        # A few lines exactly (the column is the widest name + 2).
        width = max(2 * r[1] + len(r[2]) for r in rows
                    if r[0] != "middleboxes")
        for depth, name, text in (
                (1, "exchange2013", "Exchange Server 2013 Receive connector: "
                 "banner, EHLO, replies, limits, 5 s RCPT tarpit"),
                (2, "exchange2013-dhe-leading-zero",
                 "(scenario on exchange2013)  Schannel DHE leading-zero bug: "
                 "RST after the client's Finished when its DH public value "
                 "is shorter than the prime"),
                (1, "standard", "well-behaved RFC 5321 receiver: accepts "
                 "everything, no vendor quirks")):
            self.assertIn("  " * depth + name.ljust(width - 2 * depth) +
                          "  " + text, lines)
        i = lines.index("microsoft:")
        self.assertEqual(lines[i + 1].split()[0], "exchange-online")
        self.assertEqual(lines[i + 2].split()[0], "exchange-online-banned-ip")
        for v in ("cisco:", "google:", "smtp-mimic:", "middleboxes:"):
            self.assertIn(v, lines)

    def test_fixtures_no_vendor_nested_and_invalid(self):
        d = tempfile.mkdtemp(prefix="mimic-list-")
        self.addCleanup(shutil.rmtree, d, True)
        files = {
            "plain.yaml": 'name: plain\ndescription: "no vendor"\n',
            "plain-bug.yaml": 'name: plain-bug\ndescription: "bug"\n'
                              'scenario: true\nextends: plain\n',
            "plain-bug-worse.yaml": 'name: plain-bug-worse\n'
                                    'description: "worse"\nscenario: true\n'
                                    'extends: plain-bug\n',
            "broken.yaml": 'name: broken\nnope: 1\n',
        }
        for fn, text in files.items():
            with open(os.path.join(d, fn), "w") as f:
                f.write(text)
        out = self.listing([d, PROFILES])
        rows = parse(out)
        got = {r[2]: r for r in rows}
        self.assertEqual(got["plain"][:2], ("(none)", 1), out)
        self.assertEqual(got["plain-bug"][:2], ("(none)", 2), out)
        self.assertEqual(got["plain-bug-worse"][:2], ("(none)", 3), out)
        self.assertEqual(got["plain-bug-worse"][3],
                         "(scenario on plain-bug)  worse")
        self.assertEqual(got["broken"][0], "invalid", out)
        self.assertTrue(got["broken"][3].startswith("(invalid: "), out)
        lines = out.splitlines()
        self.assertLess(lines.index("(none):"), lines.index("cisco:"))
        self.assertLess(lines.index("invalid:"), lines.index("middleboxes:"))
        first = [(ln.split() or [""])[0] for ln in lines]
        self.assertEqual(first.index("plain"), lines.index("(none):") + 1)
        self.assertEqual(first.index("plain-bug"), first.index("plain") + 1)


if __name__ == "__main__":
    unittest.main()
