// Drives the JavaScript client (/client.js, as served) in Node with a real service under supervisord:
// subscribe, events, a restart of the service through supervisorctl, and every event exactly once; direct
// messages; then presence and a client-to-client room (collab:{session_id}) on session-buddy.
//   node --experimental-websocket scripts/js_client_check.mjs <port> "<supervisorctl command>" <service> <session-buddy port>
// BACKBONE_CLIENT_JS=<path> loads that file instead of the served one (to try edits without rebuilding).
import { execSync } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [port, supervisorctl, service, sessionBuddyPort] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const source = process.env.BACKBONE_CLIENT_JS ? readFileSync(process.env.BACKBONE_CLIENT_JS, "utf8")
  : await (await fetch(`${base}/client.js`)).text();
const file = join(tmpdir(), `backbone-client-${process.pid}.cjs`);
writeFileSync(file, source);
const { BackboneClient } = createRequire(import.meta.url)(file);

let passed = 0, failed = 0;
const check = (ok, what) => { console.log(`${ok ? "ok  " : "FAIL"}  js client: ${what}`); ok ? passed++ : failed++; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (test, ms = 15000) => { const end = Date.now() + ms; while (!test() && Date.now() < end) await sleep(20); return test(); };
const publish = (n) => fetch(`${base}/api/events`, { method: "POST", headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ room: "global", event: "js.tick", data: { n } }) }).then((r) => r.json());

const events = [], resyncs = [], states = [];
const client = new BackboneClient({ urls: [`ws://127.0.0.1:${port}/ws`], onEvent: (e) => events.push(e),
  onResync: (room) => resyncs.push(room), onState: (s) => states.push(s.state) });
check(await until(() => states.includes("connected")), "connects");
check(await until(() => client.connectionId !== null) && client.userId === null, "knows its connection id from the welcome");
const firstConnection = client.connectionId;
await client.subscribe("global");
for (let n = 1; n <= 10; n++) await publish(n);
check(await until(() => events.length >= 10), "receives 10 events");
execSync(`${supervisorctl} restart backbone:${service}`, { stdio: "ignore" });
check(await until(() => states.filter((s) => s === "connected").length >= 2), "reconnects after the restart");
const subscribed = await until(async () => false, 0) || await (async () => {
  for (let i = 0; i < 100; i++) { const rooms = await (await fetch(`${base}/api/rooms`)).json(); if (rooms.rooms.global) return true; await sleep(50); }
  return false; })();
check(subscribed, "resubscribed by itself");
for (let n = 11; n <= 20; n++) await publish(n);
check(await until(() => events.length >= 20), "receives the events after the restart");
await sleep(200);
check(JSON.stringify(events.map((e) => e.data.n)) === JSON.stringify([...Array(20).keys()].map((i) => i + 1)),
  `every event exactly once, in order (${events.map((e) => e.data.n).join(",")})`);
check(resyncs.length === 1, "told that the restarted service could not replay (new epoch)");
const status = await client.request("get_workflow_status", { workflow_id: "none" }).catch((e) => ({ error: String(e) }));
check(status.status === "not_found" || service !== "mahavishnu", "requests are answered by correlation");

// Direct messages (room null, no position) reach onEvent and the handlers of their name.
const notes = [];
client.on("js.note", (e) => notes.push(e));
check(client.connectionId && client.connectionId !== firstConnection, "a new connection id after reconnecting");
const ack = await client.sendToConnection(client.connectionId, "js.note", { n: 1 }).catch((e) => ({ error: e.code }));
check(ack.status === "delivered" && ack.to_connection === client.connectionId && ack.connections === 1,
  `sendToConnection resolves with the ack (${JSON.stringify(ack)})`);
check(await until(() => notes.length === 1) && notes[0].room === null && notes[0].data.n === 1
  && notes[0].toConnection === client.connectionId && notes[0].fromConnection === client.connectionId
  && events.includes(notes[0]), "a direct message reaches on() and onEvent, with toConnection and fromConnection");
const nobody = await client.sendToUser("nobody", "js.note", {}).then(() => null, (e) => e.code);
check(nobody === "NOT_FOUND", `sendToUser rejects with code NOT_FOUND when nobody is there (${nobody})`);
client.close();

// Presence and a client-to-client room on session-buddy: two clients edit together.
const room = `collab:js${process.pid}`, sb = [`ws://127.0.0.1:${sessionBuddyPort}/ws`];
const [alice, bob] = [new BackboneClient({ urls: sb }), new BackboneClient({ urls: sb })];
const joined = [], left = [], edits = [];
alice.on("presence.joined", (e) => joined.push(e));
alice.on("presence.left", (e) => left.push(e));
alice.on("collab.edit", (e) => edits.push(e));
check(await until(() => alice.connectionId !== null), "connects to session-buddy");
await alice.subscribe(room);
const alone = await alice.presence(room).catch((e) => ({ error: e.code }));
check(alone.mode === "members" && alone.count === 1 && alone.members[0].connection_id === alice.connectionId,
  `presence lists the one member (${JSON.stringify(alone)})`);
check(await until(() => bob.connectionId !== null), "a second client connects");
await bob.subscribe(room);
const has = (e, id) => (e.data.members || []).some((m) => m.connection_id === id);
check(await until(() => joined.some((e) => e.room === room && e.data.count === 2 && has(e, bob.connectionId)), 5000),
  "presence.joined names the second client");
const first = await alice.presence(room, { limit: 1 }).catch((e) => ({ error: e.code }));
check(first.count === 2 && first.members.length === 1 && first.truncated === true, "presence with a limit is truncated");
const published = await bob.publish(room, "collab.edit", { ops: [{ insert: "hi", at: 0 }], version: 1 }).catch((e) => ({ error: e.code }));
check(published.subscribers === 2, `a member publishes to the room (${JSON.stringify(published)})`);
check(await until(() => edits.length === 1) && edits[0].fromConnection === bob.connectionId && edits[0].data.version === 1,
  "the other member gets the edit, with fromConnection");
const unreported = await alice.presence("global").then(() => null, (e) => e.code);
check(unreported === "VALIDATION_ERROR", `presence of a room without presence rejects (${unreported})`);
const bobConnection = bob.connectionId;
bob.close();
check(await until(() => left.some((e) => e.data.count === 1 && has(e, bobConnection)), 5000), "presence.left when it leaves");
alice.close();
console.log(`js client: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
