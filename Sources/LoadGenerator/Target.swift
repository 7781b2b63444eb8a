import NIOCore

/// The server under test, from a `ws://127.0.0.1:PORT/path` URL. Only literal IP addresses: the benchmark
/// runs on loopback and a resolver would only add noise to connect timings.
struct Target: Sendable {
    let address: SocketAddress
    let hostHeader: String
    let path: String
    /// Offer permessage-deflate in the handshake (`--deflate`).
    let offersDeflate: Bool

    init(url: String, offersDeflate: Bool = false) throws {
        self.offersDeflate = offersDeflate
        guard url.hasPrefix("ws://") else { throw LoadError("only ws:// URLs are supported: \(url)") }
        let rest = url.dropFirst("ws://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) else {
            throw LoadError("URL needs host:port: \(url)")
        }
        hostHeader = String(authority)
        address = try SocketAddress(ipAddress: String(authority[..<colon]), port: port)
    }

    /// The opening handshake, encoded once and shared by every connection. The key is fixed: servers only
    /// hash it back, and the client does not verify Sec-WebSocket-Accept (a 101 status is enough here).
    /// The deflate offer is the one browsers send: each server picks its own window and context takeover.
    func handshakeRequest() -> ByteBuffer {
        let offer = offersDeflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : ""
        return ByteBuffer(
            string: "GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + offer + "\r\n")
    }
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
