"""OpenAPI conformance: walk server/api/openapi.json and check that each
documented path and method answers with a documented status and content
type, and that every JSON body validates against the documented response
schema (jsonschema, from Debian's python3-jsonschema)."""
import http.client
import json
import os
import shutil
import smtplib
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import TOP, ServerTest, with_modules  # noqa: E402

HAVE = with_modules("jsonschema")
if HAVE:
    import jsonschema  # noqa: E402

from test_http_api import http_port  # noqa: E402

SPEC = os.path.join(TOP, "server", "api", "openapi.json")
ORDER = ["get", "put", "post", "delete"]  # safe calls first, purge last


@unittest.skipUnless(HAVE, "python3-jsonschema not installed")
class OpenApi(ServerTest):
    def call(self, port, method, path, body=None, ctype=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        try:
            headers = {"Content-Type": ctype} if ctype else {}
            c.request(method.upper(), path, body=body, headers=headers)
            r = c.getresponse()
            ct = r.getheader("Content-Type", "")
            # a stream never ends: its headers are enough
            data = b"" if ct == "text/event-stream" else r.read()
            return r.status, ct, data
        finally:
            c.close()

    def test_every_documented_route(self):
        with open(SPEC) as f:
            spec = json.load(f)
        self.assertEqual(spec["openapi"][:2], "3.")
        web = tempfile.mkdtemp(prefix="mimic-web-")
        self.addCleanup(shutil.rmtree, web)
        for name in ("index.html", "app.js", "style.css"):
            with open(os.path.join(web, name), "w") as f:
                f.write("/* x */\n")
        srv = self.start("std-connect", ["--http", "127.0.0.1:0",
                                         "--web-root", web])
        port = http_port(srv)
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        s.sendmail("a@b.test", ["c@d.test"], b"Subject: s\r\n\r\nbody\r\n")
        s.quit()
        status, _, body = self.call(port, "get", "/api/v1/wait?messages=1"
                                    "&sessions_closed=1&timeout=10")
        self.assertEqual(status, 200)
        qid = json.loads(self.call(port, "get", "/api/v1/messages")[2])[
            "messages"][0]["id"]
        ids = {"/api/v1/sessions/{id}": "1", "/api/v1/messages/{id}": qid,
               "/api/v1/messages/{id}/raw": qid,
               "/api/v1/rules/{id}": "r999"}
        bodies = {("put", "/api/v1/profile"): ('{"name": "standard"}',
                                               "application/json"),
                  ("post", "/api/v1/rules"): (
                      "name: api-x\nwhen: {command: {verb: NOOP}}\n"
                      "do: {reply: [\"250 x\"]}\n", "application/yaml")}
        checked = 0
        calls = [(m, p) for m in ORDER for p in spec["paths"]
                 if m in spec["paths"][p]]
        for method, tmpl in calls:
            op = spec["paths"][tmpl][method]
            path = tmpl.replace("{id}", ids.get(tmpl, "x"))
            body, ctype = bodies.get((method, tmpl), (None, None))
            status, ct, data = self.call(port, method, path, body, ctype)
            label = "%s %s -> %d %s" % (method.upper(), path, status, ct)
            self.assertIn(str(status), op["responses"], label)
            resp = op["responses"][str(status)]
            if "$ref" in resp:
                resp = spec["components"]["responses"][
                    resp["$ref"].rsplit("/", 1)[1]]
            content = resp.get("content")
            if content is None:
                continue
            self.assertIn(ct, content, label)
            schema = content[ct].get("schema")
            if ct == "application/json" and schema:
                root = {"components": spec["components"]}
                root.update(schema)
                jsonschema.Draft202012Validator(root).validate(
                    json.loads(data))
            checked += 1
        self.assertGreaterEqual(checked, 15)


if __name__ == "__main__":
    unittest.main()
