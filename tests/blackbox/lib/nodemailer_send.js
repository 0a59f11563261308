// nodemailer_send.js - send one message with nodemailer, for clients.py.
//
// usage: NODE_PATH=<tools>/node/node_modules node nodemailer_send.js JSON
//   JSON: {"port": N, "name": EHLO, "from": A, "to": B, "ciphers": S?}
// nodemailer's defaults otherwise: STARTTLS whenever the server offers it
// (opportunistic), Node's default cipher list unless "ciphers" is given,
// the certificate not checked (it is self-signed). Prints one line, its
// verdict: "ok: <the server's end-of-data reply>" (exit 0) or
// "error: <code> <message>" (exit 1). Every wait is bounded (5 s).
//
// Does not: retry, fall back to clear text (nodemailer does not), or judge.
"use strict";
const nodemailer = require("nodemailer");

const spec = JSON.parse(process.argv[2]);
const tls = {rejectUnauthorized: false};
if (spec.ciphers) tls.ciphers = spec.ciphers;
const transport = nodemailer.createTransport({
  host: "127.0.0.1",
  port: spec.port,
  secure: false,
  name: spec.name,
  tls: tls,
  connectionTimeout: 5000,
  greetingTimeout: 5000,
  socketTimeout: 5000,
});
transport.sendMail(
    {from: spec.from, to: spec.to, subject: "nodemailer",
     text: "hello from nodemailer"},
    (err, info) => {
      if (err) {
        console.log("error: " + (err.code || "") + " " + err.message);
        process.exit(1);
      }
      console.log("ok: " + info.response);
      process.exit(0);
    });
