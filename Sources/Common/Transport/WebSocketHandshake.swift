import Crypto
import NIOCore
import NIOHTTP1

/// Why an upgrade request was turned away; answered over plain HTTP before any WebSocket exists.
public struct UpgradeRefusal: Error, Sendable {
    public let status: HTTPResponseStatus
    /// `error_code` of the JSON body.
    public let code: RefusalCode
    public let message: String
    public var headers: [(String, String)] = []

    public init(_ status: HTTPResponseStatus, code: RefusalCode, _ message: String, headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }
}

/// Why an upgrade request was answered with an HTTP error instead of a WebSocket (docs/protocol.md).
public enum RefusalCode: String, Sendable, CaseIterable {
    case badHandshake = "BAD_HANDSHAKE"
    case notFound = "NOT_FOUND"
    case originForbidden = "ORIGIN_FORBIDDEN"
    case shuttingDown = "SHUTTING_DOWN"
    case serverAtCapacity = "SERVER_AT_CAPACITY"
    case tooManyConnectionsFromAddress = "TOO_MANY_CONNECTIONS_FROM_ADDRESS"
    case headersTooLarge = "HEADERS_TOO_LARGE"

    /// The `error_type` label of `websocket_connection_errors_total`.
    var label: String { rawValue.lowercased() }
}

/// The server's side of the RFC 6455 opening handshake: admission (path, origin, capacity...), then the key
/// and version checks, then the `Sec-WebSocket-Accept` value. (NIO's `NIOWebSocketServerUpgrader` is not used:
/// it also installs NIO's frame encoder, which would re-frame every broadcast per subscriber, while our
/// connections write frames that are built once.)
struct WebSocketHandshake: Sendable {
    /// Decides whether this request may become a WebSocket (path, capacity, origin...).
    let admit: @Sendable (HTTPRequestHead, any Channel) -> UpgradeRefusal?
    /// Installs the WebSocket handlers once the 101 response is written, with the compression agreed.
    let install: @Sendable (HTTPRequestHead, any Channel, PerMessageDeflate?) throws -> Void
    /// What permessage-deflate offers are accepted.
    let compression: CompressionSettings

    private static let magicGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// What the 101 response carries.
    struct Accepted {
        /// `Sec-WebSocket-Accept`.
        var accept: String
        /// The extension agreed on, answered in `Sec-WebSocket-Extensions`.
        var deflate: PerMessageDeflate?

        var response: String {
            var head =
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n"
            if let deflate { head += "Sec-WebSocket-Extensions: \(deflate.responseHeader)\r\n" }
            return head + "\r\n"
        }
    }

    /// The 101's values, or why the upgrade is refused.
    func respond(to request: HTTPRequestHead, on channel: any Channel) -> Result<Accepted, UpgradeRefusal> {
        if let refused = admit(request, channel) { return .failure(refused) }
        let keys = request.headers[canonicalForm: "sec-websocket-key"]
        let versions = request.headers[canonicalForm: "sec-websocket-version"]
        guard keys.count == 1, let key = keys.first, !key.isEmpty else {
            return .failure(UpgradeRefusal(.badRequest, code: .badHandshake, "exactly one Sec-WebSocket-Key header is required"))
        }
        guard versions == ["13"] else {
            return .failure(
                UpgradeRefusal(
                    .upgradeRequired, code: .badHandshake, "only WebSocket version 13 is supported",
                    headers: [("Sec-WebSocket-Version", "13")]))
        }
        let digest = Insecure.SHA1.hash(data: Array((String(key) + Self.magicGUID).utf8))
        let deflate = PerMessageDeflate.negotiate(
            offers: request.headers["sec-websocket-extensions"], settings: compression)
        return .success(Accepted(accept: Base64.encode(Array(digest)), deflate: deflate))
    }
}

/// Standard base64 (only the handshake needs it; Foundation is avoided on the server path).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let b0 = chunk[chunk.startIndex]
            let b1 = chunk.count > 1 ? chunk[chunk.startIndex + 1] : 0
            let b2 = chunk.count > 2 ? chunk[chunk.startIndex + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(chunk.count > 1 ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(chunk.count > 2 ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
