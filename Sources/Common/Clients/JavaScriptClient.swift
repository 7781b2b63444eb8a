/// The JavaScript client served at `GET /client.js` (browsers, and Node 20+ with `--experimental-websocket`).
/// Same behaviour as the Swift client: reconnect with full-jitter backoff over several URLs, no retry after
/// 1008/4003, resubscribe from the last position (`since`), duplicates dropped by `seq`, correlated requests.
/// The source is `Resources/client.js`, embedded in the binary; `scripts/js_client_check.mjs` drives it in Node.
enum JavaScriptClient {
    static let source = String(decoding: PackageResources.client_js, as: UTF8.self)
}
