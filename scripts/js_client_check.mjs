// Drives the JavaScript client (/client.js, as served) in Node with a real service under supervisord:
// subscribe, events, a restart of the service through supervisorctl, and every event exactly once.
//   node --experimental-websocket scripts/js_client_check.mjs <port> "<supervisorctl command>" <service>
import { execSync } from "node:child_process";
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [port, supervisorctl, service] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const source = await (await fetch(`${base}/client.js`)).text();
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
client.close();
console.log(`js client: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
