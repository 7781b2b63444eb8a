// Node's built-in WebSocket offers permessage-deflate: a large event arrives compressed and inflates to exactly
// what was published. One WebSocket and no fetch(): Node's fetch pool may hand a later WebSocket an idle
// keep-alive connection, which our server redirects (docs/operations.md, "Troubleshooting").
//   node --experimental-websocket scripts/js_deflate_check.mjs <port>
const [port] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, what) => { console.log(`${ok ? "ok  " : "FAIL"}  node deflate: ${what}`); ok ? passed++ : failed++; return ok; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (test, ms = 15000) => { const end = Date.now() + ms; while (!test() && Date.now() < end) await sleep(20); return test(); };

const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
const messages = [];
ws.onmessage = (m) => messages.push({ text: m.data, message: JSON.parse(m.data) });
const find = (test) => messages.find(({ message }) => test(message));
if (check(await until(() => find((m) => m.event === "session.created")), "welcome received")) {
  check(ws.extensions.startsWith("permessage-deflate"), `negotiated (${ws.extensions})`);
  ws.send(JSON.stringify({ type: "request", event: "subscribe", id: "s", data: { channel: "global" } }));
  check(await until(() => find((m) => m.correlation_id === "s")), "subscribed to global");
  const report = [...Array(80).keys()].map((i) => `tests/unit/test_js_${i}.py::test_case_${(i * 7) % 13} failed`);
  ws.send(JSON.stringify({ type: "request", event: "publish", id: "p",
    data: { room: "global", event: "js.large", data: { report } } }));
  check(await until(() => find((m) => m.event === "js.large")), "the large event arrives");
  const large = find((m) => m.event === "js.large");
  check(large && JSON.stringify(large.message.data.report) === JSON.stringify(report),
    `the ${large?.text.length}-byte event inflates to exactly what was published`);
}
ws.close();
console.log(`node deflate: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
