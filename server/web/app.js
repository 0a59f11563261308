/*
 * app.js - the live web view of smtp-mimic's HTTP API (index.html).
 *
 * Does: load the session list (GET /api/v1/sessions) and keep it live from
 * the Server-Sent Events stream (GET /api/v1/events, one transcript line a
 * message); show one session (GET /api/v1/sessions/{id}, then its lines as
 * they arrive) as two hops: the client's side (its commands as sent, the
 * replies as it received them: a middlebox's client_saw text) and the
 * server's side (the commands as it got them: server_got text; the replies
 * as sent); its rule firings with their why; its TLS ClientHello; the
 * message viewer (GET /api/v1/messages, /messages/{id}, /messages/{id}/raw);
 * presenter mode (?presenter=1 or the button: large type, follows the
 * newest session, the hops side by side). Reads the facts from the
 * transcript's schema-1 fields (server/out/transcript.schema.json), not
 * from its text.
 *
 * Does not: use innerHTML or any HTML parsing for data (every byte from the
 * transcript is attacker-controlled: it goes in as text nodes, control and
 * bidi characters shown as visible escapes), talk to any other origin, or
 * keep more than the bounded lists below. With --http-token the page's
 * own files load without the token (they hold no data) and every API call
 * needs "Authorization: Bearer": a 401 shows a token field, the token is
 * kept in sessionStorage (this tab only), and the live stream is then
 * read with fetch(), since EventSource cannot send a header.
 */
"use strict";

(() => {
	const API = "/api/v1";
	const MAX_SESSIONS = 500; /* kept in the list (oldest dropped) */
	const MAX_PENDING = 20000; /* lines buffered while a session loads */

	const $ = (id) => document.getElementById(id);

	const state = {
		sessions: new Map(), /* id -> summary (API shape) */
		view: null, /* {id, events: null|[], pending: [], rows} */
		presenter: false,
		follow: false,
		messages: [],
		messageId: null,
		stream: null,
		reloadTimer: null,
		messagesTimer: null,
	};

	/* ---- text: always text nodes, odd characters made visible ---- */

	/* C0 controls, DEL, C1, zero-width and bidi controls */
	const ODD = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;
	const NAMED = { "\t": "\\t", "\r": "\\r", "\n": "\\n" };

	function escapeOdd(ch) {
		if (NAMED[ch])
			return NAMED[ch];
		const cp = ch.codePointAt(0);
		if (cp < 0x100)
			return "\\x" + cp.toString(16).padStart(2, "0");
		return "\\u{" + cp.toString(16) + "}";
	}

	/* el(tag, attrs, ...children): children are nodes or plain strings
	 * (strings become text nodes: never parsed as HTML) */
	function el(tag, attrs, ...children) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k === "class")
				e.className = v;
			else
				e.setAttribute(k, v === true ? "" : String(v));
		}
		for (const c of children)
			if (c !== null && c !== undefined)
				e.append(typeof c === "string" ? document.createTextNode(c) : c);
		return e;
	}

	/* wire text: a fragment of text nodes, odd characters as <span
	 * class="esc"> with the escape as its text (textContent of the
	 * fragment is the text with those characters escaped) */
	function wireText(s) {
		const f = document.createDocumentFragment();
		s = s === null || s === undefined ? "" : String(s);
		let run = "";
		for (const ch of s) {
			if (ODD.test(ch)) {
				if (run)
					f.append(document.createTextNode(run));
				run = "";
				f.append(el("span", { class: "esc", title: "U+" + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") }, escapeOdd(ch)));
			} else {
				run += ch;
			}
		}
		if (run)
			f.append(document.createTextNode(run));
		return f;
	}

	/* a message as received: CRLF ends a line; a bare CR or LF (the
	 * stuff of smuggling) and other odd characters are shown escaped */
	function rawText(s) {
		const f = document.createDocumentFragment();
		const parts = s.split("\r\n");
		parts.forEach((line, i) => {
			const bits = line.split(/(\n)/);
			for (const b of bits) {
				if (b === "\n") {
					f.append(el("span", { class: "esc", title: "bare LF" }, "\\n"), document.createTextNode("\n"));
				} else if (b) {
					f.append(wireText(b));
				}
			}
			if (i < parts.length - 1)
				f.append(document.createTextNode("\n"));
		});
		return f;
	}

	function clear(node) {
		while (node.firstChild)
			node.firstChild.remove();
	}

	function addr(a) {
		if (!a || typeof a !== "object")
			return "";
		return (String(a.addr).includes(":") ? "[" + a.addr + "]" : a.addr) + ":" + a.port;
	}

	function clock(t) {
		const m = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(t || "");
		return m ? m[1] : t || "";
	}

	/* ---- the API ---- */

	class ApiError extends Error {
		constructor(status, msg) {
			super(msg);
			this.status = status;
		}
	}

	const TOKEN_KEY = "smtp-mimic-token";

	function authHeaders() {
		const t = sessionStorage.getItem(TOKEN_KEY);
		return t ? { Authorization: "Bearer " + t } : {};
	}

	/* the server wants its --http-token: ask for it, stop the stream */
	function needToken() {
		stopStream();
		setStatus("auth", "401: this server needs its --http-token");
		$("token-form").hidden = false;
		$("token").focus();
	}

	function tokenEntered(ev) {
		ev.preventDefault();
		const t = $("token").value.trim();
		if (!t)
			return;
		sessionStorage.setItem(TOKEN_KEY, t);
		$("token").value = "";
		$("token-form").hidden = true;
		setStatus("connecting", "connecting…");
		startStream();
	}

	async function api(path) {
		const r = await fetch(path, {
			credentials: "same-origin",
			cache: "no-store",
			headers: authHeaders(),
		});
		if (r.status === 401) {
			needToken();
			throw new ApiError(401, "unauthorized");
		}
		if (!r.ok) {
			let msg = r.status + " " + r.statusText;
			try {
				const j = await r.json();
				if (j && j.error)
					msg = j.error;
			} catch (e) { /* not JSON */ }
			throw new ApiError(r.status, msg);
		}
		return r;
	}

	async function getJSON(path) {
		return (await api(path)).json();
	}

	function setStatus(s, text) {
		const p = $("conn-status");
		p.dataset.state = s;
		p.textContent = text;
	}

	/* ---- the live stream ---- */

	function startStream() {
		stopStream();
		if (sessionStorage.getItem(TOKEN_KEY)) {
			fetchStream();
			return;
		}
		const es = new EventSource(API + "/events");
		state.stream = { close: () => es.close() };
		es.onopen = () => {
			setStatus("live", "live");
			reloadAll(); /* after (re)connecting: fill any gap */
		};
		es.onmessage = (m) => onLine(m.data);
		es.addEventListener("reset", onReset);
		es.onerror = () => {
			setStatus("reconnecting", "reconnecting…");
			/* a 401 closes an EventSource for good: find out why */
			if (es.readyState === EventSource.CLOSED)
				api("/healthz").then(() => setTimeout(startStream, 1000),
				                     () => {});
		};
	}

	/* The stream with the token in a header: text/event-stream parsed
	 * here (data, event and blank lines; comments skipped). */
	async function fetchStream() {
		const ctl = new AbortController();
		const mine = { close: () => ctl.abort() };
		state.stream = mine;
		try {
			const r = await fetch(API + "/events", {
				cache: "no-store",
				headers: authHeaders(),
				signal: ctl.signal,
			});
			if (r.status === 401) {
				sessionStorage.removeItem(TOKEN_KEY);
				needToken();
				return;
			}
			if (!r.ok)
				throw new ApiError(r.status, r.statusText);
			setStatus("live", "live");
			reloadAll();
			const reader = r.body.getReader();
			const dec = new TextDecoder();
			let buf = "", kind = "message", data = [];
			for (;;) {
				const { value, done } = await reader.read();
				if (done)
					break;
				buf += dec.decode(value, { stream: true });
				let nl;
				while ((nl = buf.indexOf("\n")) >= 0) {
					const line = buf.slice(0, nl);
					buf = buf.slice(nl + 1);
					if (line === "") {
						if (data.length && kind === "reset")
							onReset();
						else if (data.length)
							onLine(data.join("\n"));
						kind = "message";
						data = [];
					} else if (line.startsWith("data: ")) {
						data.push(line.slice(6));
					} else if (line.startsWith("event: ")) {
						kind = line.slice(7);
					}
				}
			}
		} catch (e) {
			if (state.stream !== mine)
				return; /* stopped on purpose */
		}
		if (state.stream === mine) {
			setStatus("reconnecting", "reconnecting…");
			setTimeout(() => {
				if (state.stream === mine)
					startStream();
			}, 1000);
		}
	}

	/* POST /api/v1/reset dropped the closed sessions and the messages from
	 * the server's index: the page drops them too. */
	function onReset() {
		for (const [id, s] of [...state.sessions]) {
			if (s.state === "open")
				continue;
			state.sessions.delete(id);
			const li = sessionItem(id);
			if (li)
				li.remove();
		}
		if (state.view && !state.sessions.has(state.view.id)) {
			state.view = null;
			clear($("transcript-body"));
			clear($("session-summary"));
			$("session-title").textContent = "No session selected";
		}
		$("session-count").textContent = String(state.sessions.size);
		$("session-empty").hidden = state.sessions.size > 0;
		loadMessages();
	}

	function stopStream() {
		if (state.stream)
			state.stream.close();
		state.stream = null;
	}

	/* one transcript line from the stream */
	function onLine(data) {
		let e;
		try {
			e = JSON.parse(data);
		} catch (err) {
			return;
		}
		if (!e || typeof e !== "object" || e.session === undefined)
			return;
		const isNew = !state.sessions.has(e.session);
		const s = sessionFor(e);
		applyToSummary(s, e);
		renderSessionItem(s);
		const v = state.view;
		if (v && v.id === e.session) {
			if (v.events === null) {
				if (v.pending.length < MAX_PENDING)
					v.pending.push(e);
			} else {
				v.events.push(e);
				appendEvent(v, e);
				renderSummary(s);
			}
		}
		if (isNew && e.dir === "connect" && (state.follow || state.presenter || !state.view))
			select(e.session);
		if (e.dir === "close")
			scheduleReload(); /* the server's own counts, once it is over */
		if (e.dir === "info" && e.event === "accepted")
			scheduleMessages();
	}

	/* ---- sessions: summaries ---- */

	function sessionFor(e) {
		let s = state.sessions.get(e.session);
		if (s)
			return s;
		s = {
			id: e.session, profile: e.profile, client: null, server: null,
			started: e.time, ended: null, state: "open", close: null,
			rules: [], messages: 0, tls: null, events: 0,
		};
		state.sessions.set(e.session, s);
		trimSessions();
		return s;
	}

	function trimSessions() {
		while (state.sessions.size > MAX_SESSIONS) {
			const oldest = state.sessions.keys().next().value;
			state.sessions.delete(oldest);
			const li = sessionItem(oldest);
			if (li)
				li.remove();
		}
	}

	function applyToSummary(s, e) {
		s.events = (s.events || 0) + 1;
		switch (e.dir) {
		case "connect": {
			s.client = e.client || s.client;
			s.server = e.server || s.server;
			s.started = s.started || e.time;
			break;
		}
		case "close": {
			s.state = "closed";
			s.ended = e.time;
			s.close = { how: e.how || "", reason: e.reason || "" };
			if (e.rule)
				s.close.rule = e.rule;
			break;
		}
		case "rule":
			if (e.rule && !s.rules.includes(e.rule))
				s.rules.push(e.rule);
			break;
		case "tls":
			if (e.event === "handshake_done")
				s.tls = { version: e.version, suite: e.suite };
			break;
		case "info":
			if (e.event === "accepted")
				s.messages = (s.messages || 0) + 1;
			break;
		}
	}

	function sessionItem(id) {
		return $("session-list").querySelector('li[data-session-id="' + Number(id) + '"]');
	}

	function sessionLabel(s) {
		const bits = ["#" + s.id, s.profile || ""];
		if (s.client)
			bits.push(addr(s.client));
		return bits.join(" · ");
	}

	function renderSessionItem(s) {
		const list = $("session-list");
		let li = sessionItem(s.id);
		if (!li) {
			li = el("li", { "data-session-id": s.id });
			/* newest first: before the first item with a smaller id */
			let before = null;
			for (const other of list.children)
				if (Number(other.dataset.sessionId) < s.id) {
					before = other;
					break;
				}
			list.insertBefore(li, before);
		}
		li.dataset.state = s.state;
		let btn = li.querySelector("button");
		if (!btn) {
			/* one button per session, kept: focus stays on it */
			btn = el("button", { type: "button", class: "session-button", "data-session-id": s.id });
			btn.addEventListener("click", () => select(s.id));
			li.append(btn);
		}
		const parts = [el("span", { class: "session-label" }, sessionLabel(s)), " ",
			el("span", { class: "badge state-" + s.state, "data-field": "state" }, s.state)];
		if (s.close && s.close.how)
			parts.push(" ", el("span", { class: "badge close", "data-field": "close" }, s.close.how));
		if (s.tls)
			parts.push(" ", el("span", { class: "badge tls", "data-field": "tls" }, "TLS " + (s.tls.version || "")));
		if (s.messages)
			parts.push(" ", el("span", { class: "badge msg", "data-field": "messages" }, s.messages + " msg"));
		for (const r of s.rules || [])
			parts.push(" ", el("span", { class: "badge rule", "data-rule": r }, r));
		if (state.view && state.view.id === s.id)
			btn.setAttribute("aria-current", "true");
		else
			btn.removeAttribute("aria-current");
		/* redrawn only when it changed: the list is aria-live */
		const sig = parts.map((p) => (typeof p === "string" ? p : p.textContent)).join("");
		if (btn.dataset.sig !== sig) {
			btn.dataset.sig = sig;
			clear(btn);
			btn.append(...parts);
		}
		$("session-count").textContent = String(state.sessions.size);
		$("session-empty").hidden = state.sessions.size > 0;
	}

	async function reloadAll() {
		try {
			const j = await getJSON(API + "/sessions");
			for (const s of j.sessions || []) {
				state.sessions.set(s.id, Object.assign(state.sessions.get(s.id) || {}, s));
				renderSessionItem(state.sessions.get(s.id));
			}
			trimSessions();
			const newest = [...state.sessions.keys()].reduce((a, b) => Math.max(a, b), -1);
			if (state.view)
				select(state.view.id);
			else if ((state.follow || state.presenter) && newest >= 0)
				select(newest);
			else if (newest >= 0 && !state.view)
				select(newest);
		} catch (e) {
			if (e.status !== 401)
				setStatus("error", "sessions: " + e.message);
		}
		loadMessages();
	}

	function scheduleReload() {
		clearTimeout(state.reloadTimer);
		state.reloadTimer = setTimeout(async () => {
			try {
				const j = await getJSON(API + "/sessions");
				for (const s of j.sessions || []) {
					const have = state.sessions.get(s.id);
					if (!have)
						continue; /* dropped here: not brought back */
					Object.assign(have, s);
					renderSessionItem(have);
					if (state.view && state.view.id === s.id)
						renderSummary(have);
				}
			} catch (e) { /* the stream goes on; the next close retries */ }
		}, 400);
	}

	/* ---- one session ---- */

	async function select(id) {
		const v = { id, events: null, pending: [], rows: null };
		state.view = v;
		for (const b of document.querySelectorAll("#session-list button[aria-current]"))
			b.removeAttribute("aria-current");
		const li = sessionItem(id);
		if (li)
			li.querySelector("button").setAttribute("aria-current", "true");
		let detail;
		try {
			detail = await getJSON(API + "/sessions/" + encodeURIComponent(id));
		} catch (e) {
			if (state.view === v && e.status !== 401)
				$("session-title").textContent = "Session " + id + ": " + e.message;
			return;
		}
		if (state.view !== v)
			return; /* another one was selected meanwhile */
		v.events = merge(detail.events || [], v.pending);
		v.pending = [];
		const s = state.sessions.get(id) || sessionFor({ session: id, profile: detail.profile, time: detail.started });
		const { events, ...summary } = detail;
		Object.assign(s, summary);
		renderSessionItem(s);
		renderSession(v, s);
	}

	/* the fetched events, then those the stream brought that they lack:
	 * the longest tail of fetched equal to a head of streamed overlaps */
	function merge(fetched, streamed) {
		const key = (e) => [e.time, e.dir, e.text, e.rule || "", e.why || ""].join("\u0000");
		const fk = fetched.map(key), sk = streamed.map(key);
		for (let k = Math.min(fk.length, sk.length); k > 0; k--) {
			let same = true;
			for (let i = 0; i < k && same; i++)
				same = fk[fk.length - k + i] === sk[i];
			if (same)
				return fetched.concat(streamed.slice(k));
		}
		/* no overlap: every streamed line came after the snapshot */
		return fetched.concat(streamed);
	}

	/* a suite: {name, hex} in transcript lines, a name in summaries */
	function suiteName(suite) {
		return suite && typeof suite === "object" ? suite.name : suite || "";
	}

	function renderSummary(s) {
		$("session-title").textContent = "Session #" + s.id + (s.profile ? " (" + s.profile + ")" : "");
		const dl = $("session-summary");
		clear(dl);
		const add = (name, field, value) => {
			if (value === null || value === undefined || value === "")
				return;
			dl.append(el("dt", null, name), el("dd", { "data-field": field }, wireText(String(value))));
		};
		add("Client", "client", addr(s.client));
		add("Server", "server", addr(s.server));
		add("State", "state", s.state);
		add("Started", "started", s.started);
		add("Ended", "ended", s.ended);
		if (s.close)
			add("Close", "close", [s.close.how, s.close.reason ? "(" + s.close.reason + ")" : "",
				s.close.rule ? "rule " + s.close.rule : ""].filter(Boolean).join(" "));
		add("Messages", "messages", s.messages);
		if (s.tls)
			add("TLS", "tls", [s.tls.version, suiteName(s.tls.suite)].filter(Boolean).join(" "));
	}

	function renderSession(v, s) {
		renderSummary(s);
		clear($("transcript-body"));
		clear($("rule-list"));
		$("rules").hidden = true;
		v.rows = { lastC: null, lastS: null, seq: 0 };
		v.tls = { hello: null, done: null, alerts: [] };
		renderTls(v);
		for (const e of v.events)
			appendEvent(v, e);
	}

	/* ---- the two hops ---- */

	function hopCell(hop, text, cls) {
		return el("span", { class: "hop " + hop + (cls ? " " + cls : ""), role: "cell", "data-hop": hop },
			el("span", { class: "line" }, wireText(text)));
	}

	function note(cell, e, what) {
		cell.classList.add("rewritten");
		const line = cell.querySelector(".line");
		if (what !== null) {
			clear(line);
			if (what === "")
				line.append(el("span", { class: "nothing" }, "(nothing)"));
			else
				line.append(wireText(what));
		}
		cell.append(el("span", { class: "note", "data-box": e.rule || "" },
			wireText((e.rule ? e.rule + ": " : "") + (e.why || ""))));
	}

	function appendEvent(v, e) {
		const body = $("transcript-body");
		const seq = v.rows.seq++;
		const base = { class: "row", role: "row", "data-seq": seq, "data-dir": e.dir, title: e.time || "" };
		const dirCell = () => el("span", { class: "dir", role: "cell" },
			el("span", { class: "t" }, clock(e.time)), " ", el("span", { class: "d" }, e.dir));
		let row;
		switch (e.dir) {
		case "C":
		case "S": {
			const text = e.text || "";
			row = el("div", base, dirCell(),
				hopCell("client", text, e.dir === "C" ? "sent" : "received"),
				hopCell("server", text, e.dir === "C" ? "received" : "sent"));
			if (e.lost) {
				/* never reached the far side */
				const far = row.querySelector(e.dir === "C" ? ".server" : ".client");
				far.classList.add("lost");
				clear(far.querySelector(".line"));
				far.querySelector(".line").append(el("span", { class: "nothing" }, "(not delivered)"));
				far.append(el("span", { class: "note" }, wireText(e.lost)));
				row.dataset.lost = "1";
			}
			if (e.rule) {
				/* a line a rule made (or answered) */
				row.dataset.rule = e.rule;
				for (const cell of row.querySelectorAll(".hop"))
					cell.append(el("span", { class: "rule-tag" }, "rule ", wireText(e.rule)));
			}
			if (e.dir === "C")
				v.rows.lastC = row;
			else
				v.rows.lastS = row;
			break;
		}
		case "client_saw":
		case "server_got": {
			const client = e.dir === "client_saw";
			const target = client ? v.rows.lastS : v.rows.lastC;
			const hop = client ? ".client" : ".server";
			if (target && !target.querySelector(hop + ".rewritten")) {
				note(target.querySelector(hop), e, e.text || "");
				target.dataset.rewritten = "1";
				return;
			}
			/* a second change to one line, or none to attach to */
			row = el("div", base, dirCell(),
				client ? hopCell("client", e.text || "", "rewritten") : el("span", { class: "hop client empty", role: "cell", "data-hop": "client" }),
				client ? el("span", { class: "hop server empty", role: "cell", "data-hop": "server" }) : hopCell("server", e.text || "", "rewritten"));
			note(row.querySelector(hop), e, null);
			row.dataset.rewritten = "1";
			break;
		}
		case "rule":
			row = wideRow(base, dirCell(), [
				el("strong", { class: "rule-name" }, wireText(e.rule || "")), ": ",
				el("span", { class: "why" }, wireText(e.why || "")),
				e.text ? el("span", { class: "detail" }, " — ", wireText(e.text)) : null,
			]);
			row.dataset.rule = e.rule || "";
			addRule(e);
			break;
		case "tls":
			onTls(v, e);
			row = wideRow(base, dirCell(), [wireText(e.text || e.event || "")]);
			if (e.event)
				row.dataset.event = e.event;
			break;
		default:
			row = wideRow(base, dirCell(), [wireText(e.text || ""),
				e.rule ? el("span", { class: "note" }, " (rule ", wireText(e.rule), ")") : null]);
			if (e.dir === "info" && /^packet \d+: \d+ bytes from the client$/.test(e.text || ""))
				row.classList.add("packet");
			if (e.event)
				row.dataset.event = e.event;
		}
		body.append(row);
		if (state.presenter || state.follow)
			row.scrollIntoView({ block: "nearest" });
	}

	function wideRow(attrs, dirCell, parts) {
		return el("div", Object.assign({}, attrs, { class: "row wide" }), dirCell,
			el("span", { class: "wide-text", role: "cell" }, ...parts));
	}

	function addRule(e) {
		$("rules").hidden = false;
		$("rule-list").append(el("li", { "data-rule": e.rule || "" },
			el("span", { class: "t" }, clock(e.time)), " ",
			el("strong", { class: "rule-name" }, wireText(e.rule || "")), " ",
			el("span", { class: "why" }, wireText(e.why || "")),
			e.text ? el("span", { class: "detail" }, " — ", wireText(e.text)) : null));
	}

	/* ---- TLS ---- */

	function onTls(v, e) {
		const ev = e.event || "";
		if (ev === "client_hello")
			v.tls.hello = e.offered || {};
		else if (ev === "handshake_done")
			v.tls.done = { version: e.version, suite: e.suite };
		else if (ev === "alert")
			v.tls.alerts.push(e.alert ? [e.alert.sent ? "sent" : "received", e.alert.level, e.alert.description].filter(Boolean).join(" ") : e.text);
		else if (ev === "handshake_failed")
			v.tls.alerts.push("handshake failed: " + (e.reason || e.text || ""));
		renderTls(v);
	}

	function renderTls(v) {
		const t = v.tls;
		const sec = $("tls");
		sec.hidden = !(t.hello || t.done || t.alerts.length);
		const h = t.hello || {};
		const set = (id, value) => {
			const dd = $(id);
			clear(dd);
			dd.append(wireText(value === null || value === undefined || value === "" ? "—" : String(value)));
		};
		set("tls-versions", (h.versions || []).join(", "));
		set("tls-legacy", h.legacy_version);
		set("tls-sni", h.sni === null ? "(none)" : h.sni);
		set("tls-groups", (h.groups || []).map((g) => (typeof g === "string" ? g : [g.name, g.hex ? "(" + g.hex + ")" : ""].filter(Boolean).join(" "))).join(", "));
		set("tls-negotiated", t.done ? [t.done.version, t.done.suite && t.done.suite.name,
			t.done.suite && t.done.suite.hex ? "(" + t.done.suite.hex + ")" : ""].filter(Boolean).join(" ") : "");
		set("tls-alerts", t.alerts.join("; "));
		const tb = $("tls-suites").tBodies[0];
		clear(tb);
		(h.suites || []).forEach((s, i) => {
			const name = typeof s === "string" ? s : s.name || "";
			const hex = typeof s === "string" ? "" : s.hex || "";
			tb.append(el("tr", { "data-suite-hex": hex, "data-suite": name },
				el("td", null, String(i + 1)), el("td", { class: "suite-name" }, wireText(name || "(unknown)")),
				el("td", { class: "suite-hex" }, wireText(hex))));
		});
	}

	/* ---- messages ---- */

	function scheduleMessages() {
		clearTimeout(state.messagesTimer);
		state.messagesTimer = setTimeout(loadMessages, 250);
	}

	async function loadMessages() {
		let j;
		try {
			j = await getJSON(API + "/messages");
		} catch (e) {
			return;
		}
		state.messages = j.messages || [];
		const tb = $("message-list").tBodies[0];
		const keep = new Set(state.messages.map((m) => String(m.id)));
		for (const tr of [...tb.rows])
			if (!keep.has(tr.dataset.messageId))
				tr.remove(); /* deleted (DELETE /api/v1/messages) */
		/* newest first; rows already shown are kept (focus stays) */
		let after = null;
		for (const m of state.messages.slice().reverse()) {
			let tr = [...tb.rows].find((r) => r.dataset.messageId === String(m.id));
			if (!tr) {
				const to = (m.rcpts || m.rcpt_to || []).map((r) => (typeof r === "string" ? r : r.addr)).join(", ");
				const open = el("button", { type: "button", class: "message-open", "data-message-id": m.id },
					wireText(m.subject || "(no subject)"));
				tr = el("tr", { "data-message-id": m.id },
					el("td", null, clock(m.received)),
					el("td", { "data-field": "mail_from" }, wireText(m.mail_from || "<>")),
					el("td", { "data-field": "rcpts" }, wireText(to)),
					el("td", { "data-field": "subject" }, open),
					el("td", { "data-field": "size" }, String(m.size === undefined ? "" : m.size)));
				tr.addEventListener("click", () => showMessage(m.id));
			}
			tr.classList.toggle("current", m.id === state.messageId);
			const at = after ? after.nextSibling : tb.firstChild;
			if (tr !== at)
				tb.insertBefore(tr, at);
			after = tr;
		}
		$("message-count").textContent = String(state.messages.length);
		$("message-empty").hidden = state.messages.length > 0;
	}

	async function showMessage(id) {
		state.messageId = id;
		for (const tr of $("message-list").tBodies[0].rows)
			tr.classList.toggle("current", tr.dataset.messageId === String(id));
		const base = API + "/messages/" + encodeURIComponent(id);
		let m, raw;
		try {
			m = await getJSON(base);
			const r = await api(base + "/raw");
			raw = new TextDecoder("utf-8").decode(await r.arrayBuffer());
		} catch (e) {
			return;
		}
		if (state.messageId !== id)
			return;
		$("message-view").hidden = false;
		$("message-view").dataset.messageId = id;
		const subj = $("message-subject");
		clear(subj);
		subj.append(wireText(m.subject || "(no subject)"));
		const dl = $("message-envelope");
		clear(dl);
		const add = (name, field, value) => dl.append(el("dt", null, name),
			el("dd", { "data-field": field }, wireText(value === null || value === undefined ? "" : String(value))));
		add("Queue id", "queue_id", m.queue_id || m.id);
		add("Session", "session", m.session);
		add("Profile", "profile", m.profile);
		add("Received", "received", m.received);
		add("MAIL FROM", "mail_from", "<" + (m.mail_from || "") + ">");
		const params = Object.entries(m.mail_params || {}).map(([k, val]) => (val === null || val === true ? k : k + "=" + val));
		add("MAIL parameters", "mail_params", params.join(" "));
		for (const r of m.rcpts || m.rcpt_to || []) {
			if (typeof r === "string") {
				add("RCPT TO", "rcpt", "<" + r + ">");
				continue;
			}
			add("RCPT TO", "rcpt", "<" + r.addr + ">" + (r.notify ? " NOTIFY=" + r.notify : "") + (r.orcpt ? " ORCPT=" + r.orcpt : ""));
		}
		if (m.helo)
			add("HELO/EHLO", "helo", m.helo);
		if (m.client && typeof m.client === "object")
			add("Client", "client", addr({ addr: m.client.addr || m.client.ip, port: m.client.port }));
		if (m.auth_user)
			add("AUTH user", "auth_user", m.auth_user);
		if (m.tls && typeof m.tls === "object")
			add("TLS", "tls", [m.tls.version, m.tls.cipher || (m.tls.suite && m.tls.suite.name)].filter(Boolean).join(" "));
		add("Size", "size", m.size);
		if (m.spool !== undefined)
			add("Spool file", "spool", m.spool === null ? "(none)" : m.spool);
		const tb = $("message-headers").tBodies[0];
		clear(tb);
		for (const h of m.headers || [])
			tb.append(el("tr", { "data-header": String(h[0]).toLowerCase() },
				el("th", { scope: "row" }, wireText(h[0])), el("td", null, wireText(h[1]))));
		const pre = $("message-raw");
		clear(pre);
		pre.append(rawText(raw));
		$("message-raw-link").setAttribute("href", base + "/raw");
	}

	/* ---- presenter mode and follow ---- */

	function setPresenter(on) {
		state.presenter = on;
		document.body.dataset.presenter = on ? "1" : "0";
		document.body.classList.toggle("presenter", on);
		const b = $("presenter-toggle");
		b.setAttribute("aria-pressed", on ? "true" : "false");
		b.textContent = on ? "Leave presenter mode" : "Presenter mode";
		const url = new URL(location.href);
		if (on)
			url.searchParams.set("presenter", "1");
		else
			url.searchParams.delete("presenter");
		history.replaceState(null, "", url.pathname + url.search + url.hash);
		if (on) {
			const newest = [...state.sessions.keys()].reduce((a, b2) => Math.max(a, b2), -1);
			if (newest >= 0 && (!state.view || state.view.id !== newest))
				select(newest);
		}
	}

	function init() {
		const q = new URLSearchParams(location.search);
		$("presenter-toggle").addEventListener("click", () => setPresenter(!state.presenter));
		const follow = $("follow-newest");
		follow.checked = q.get("follow") === "1";
		state.follow = follow.checked;
		follow.addEventListener("change", () => {
			state.follow = follow.checked;
		});
		setPresenter(q.get("presenter") === "1");
		$("token-form").addEventListener("submit", tokenEntered);
		startStream();
	}

	if (document.readyState === "loading")
		document.addEventListener("DOMContentLoaded", init);
	else
		init();
})();
