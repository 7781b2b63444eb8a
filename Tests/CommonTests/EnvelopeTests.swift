import Common
import NIOCore
import Testing

@Suite("Envelope encoding and decoding (docs/protocol.md, Envelope)")
struct EnvelopeTests {
    @Test("nine keys, in order, nulls written, compact, raw UTF-8")
    func exactBytes() {
        let envelope = Envelope(
            id: "5e1c0d2a-0000-4000-8000-000000000001", type: .event, event: "workflow.started",
            data: ["workflow_id": "wf1", "note": "café \"quoted\"\n"], timestamp: "2026-11-22T12:32:57.669187+00:00",
            room: "workflow:wf1")
        #expect(
            envelope.json
                == #"{"id":"5e1c0d2a-0000-4000-8000-000000000001","correlation_id":null,"type":"event","event":"workflow.started","data":{"workflow_id":"wf1","note":"café \"quoted\"\n"},"timestamp":"2026-11-22T12:32:57.669187+00:00","room":"workflow:wf1","error_code":null,"error_message":null}"#
        )
    }

    @Test("error replies carry code and message, event null, data {}")
    func errorBytes() {
        var envelope = Envelope.error(ProtocolError(.forbidden, "Not authorized to subscribe to pool:p1"), correlationID: "C1")
        envelope.id = "x"
        envelope.timestamp = "t"
        #expect(
            envelope.json
                == #"{"id":"x","correlation_id":"C1","type":"error","event":null,"data":{},"timestamp":"t","room":null,"error_code":"FORBIDDEN","error_message":"Not authorized to subscribe to pool:p1"}"#
        )
    }

    @Test("extension keys come after the nine")
    func extensionsLast() {
        let envelope = Envelope(id: "i", type: .event, event: "e", timestamp: "t", extensions: ["seq": 7, "epoch": "ab"])
        #expect(envelope.json.hasSuffix(#""error_message":null,"seq":7,"epoch":"ab"}"#))
    }

    @Test("a response echoes correlation_id, else the request id")
    func correlation() throws {
        let withCorrelation = try Envelope.decode(.object(["type": "request", "event": "x", "id": "A", "correlation_id": "B"]))
        #expect(Envelope.response(to: withCorrelation, data: [:]).correlationID == "B")
        let idOnly = try Envelope.decode(.object(["type": "request", "event": "x", "id": "sub_001"]))
        #expect(Envelope.response(to: idOnly, data: [:]).correlationID == "sub_001")
    }

    @Test("timestamps: microseconds and +00:00")
    func timestampFormat() {
        #expect(Timestamp.format(microsecondsSinceEpoch: 1_795_350_777_669_187) == "2026-11-22T12:32:57.669187+00:00")
        #expect(Timestamp.format(microsecondsSinceEpoch: 0) == "1970-01-01T00:00:00.000000+00:00")
        #expect(Timestamp.now().utf8.count == 32)
    }

    @Test("uuid4: lowercase, version 4, RFC variant")
    func uuid() {
        let id = UUID4.make()
        let parts = id.split(separator: "-")
        #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
        #expect(id == id.lowercased())
        #expect(parts[2].first == "4")
        #expect("89ab".contains(parts[3].first!))
        #expect(UUID4.make() != id)
    }

    @Test("decoding: missing id is generated, missing data is {}, unknown keys kept aside as extensions")
    func lenientDecoding() throws {
        let envelope = try Envelope.decode(ByteBuffer(string: #"{"type":"ping","extra":[1,2]}"#))
        #expect(envelope.type == .ping)
        #expect(envelope.id.count == 36)
        #expect(envelope.data.isEmpty)
        #expect(envelope.extensions == ["extra": [1, 2]])
        let event = try Envelope.decode(ByteBuffer(string: #"{"type":"event","room":"r","seq":3,"epoch":"e"}"#))
        #expect(event.extensions == ["seq": 3, "epoch": "e"], "a room event's position, in order")
    }

    @Test("close codes: errors carry a metric label and fail the connection; an echo and shutdown do not")
    func closeCodes() {
        #expect(CloseCode.slowConsumer.failsConnection && CloseCode.slowConsumer.label == "slow_consumer")
        #expect(CloseCode.messageTooBig.failsConnection && CloseCode.messageTooBig.label == "message_too_big")
        #expect(!CloseCode.goingAway.failsConnection)
        #expect(!CloseCode.normal.failsConnection && !CloseCode.echo(4000).failsConnection)
        #expect(CloseCode.errorLabels.contains("heartbeat_timeout"))
    }

    @Test(
        "decoding failures are DECODE_ERROR",
        arguments: [
            "not json", "[1,2]", #"{"data":{}}"#, #"{"type":"REQUEST"}"#, #"{"type":"shout"}"#,
            #"{"type":"request","data":[1]}"#, #"{"type":"request","data":null}"#, #"{"type":"request","id":1}"#,
            #"{"type":"request","event":5}"#, #"{"type":"request","correlation_id":{}}"#, #"{"type":"request","id":null}"#,
        ])
    func decodeErrors(frame: String) {
        #expect(throws: ProtocolError.self) { try Envelope.decode(ByteBuffer(string: frame)) }
        do {
            _ = try Envelope.decode(ByteBuffer(string: frame))
        } catch {
            #expect(error.code == .decodeError)
        }
    }

    @Test("server frames: header built in front of the payload")
    func frames() {
        let small = ServerFrame.make { $0.writeString("hi") }
        #expect(Array(small.readableBytesView) == [0x81, 2, 0x68, 0x69])
        let medium = ServerFrame.make { $0.writeRepeatingByte(0x61, count: 300) }
        #expect(Array(medium.readableBytesView.prefix(4)) == [0x81, 126, 0x01, 0x2C])
        #expect(medium.readableBytes == 304)
        let large = ServerFrame.make { $0.writeRepeatingByte(0x61, count: 70_000) }
        #expect(Array(large.readableBytesView.prefix(2)) == [0x81, 127])
        #expect(large.readableBytes == 70_010)
        let close = ServerFrame.close(.goingAway)
        #expect(Array(close.readableBytesView.prefix(4)) == [0x88, UInt8(2 + "Server shutting down".utf8.count), 0x03, 0xE9])
    }
}
