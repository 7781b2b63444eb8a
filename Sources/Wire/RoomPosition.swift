import NIOCore

/// A room's position: the last `seq` published and the `epoch` it counts in. The epoch changes whenever the
/// count starts over (a new process, or history evicted), so a client can tell "nothing missed" from "lost".
public struct RoomPosition: Sendable, Equatable {
    public let seq: Int
    public let epoch: String

    public init(seq: Int, epoch: String) {
        self.seq = seq
        self.epoch = epoch
    }

    public var json: JSONObject { ["seq": JSONValue(seq), "epoch": .string(epoch)] }
}
