import NIOCore

/// Echoes every message back, text as text and binary as binary. Mounted at `/echo` only when the
/// `echo_endpoint` setting is on, so the Autobahn conformance suite can exercise our framing code
/// (the same `WebSocketConnection` every client uses).
final class EchoDelegate: ConnectionDelegate {
    func connectionOpened(_ connection: WebSocketConnection) {}

    func connection(_ connection: WebSocketConnection, received message: ByteBuffer, isText: Bool) {
        var message = message
        let frame = ServerFrame.make(opcode: isText ? .text : .binary, capacity: message.readableBytes) {
            $0.writeBuffer(&message)
        }
        connection.write(frame, flush: true)
    }

    func connectionClosed(_ connection: WebSocketConnection) {}
}
