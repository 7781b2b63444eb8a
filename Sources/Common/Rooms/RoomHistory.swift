import NIOCore

/// Recent events of every room, as the frames that were sent (shared buffers, no copies), bounded three ways:
/// `history_size` events per room, `history_ttl` seconds, and `history_rooms` rooms (least recently published
/// first out). Used only under the hub's publish lock.
struct RoomHistories {
    struct Entry {
        let seq: Int
        let frame: ByteBuffer
        let at: NIODeadline
    }

    struct Room {
        let epoch: String
        var lastSeq = 0
        var entries: [Entry] = []
        var start = 0  // ring buffer: index of the oldest entry once full
        var touched: UInt64 = 0
    }

    let size: Int
    let ttl: TimeAmount
    let maxRooms: Int
    private var rooms: [String: Room] = [:]
    private var clock: UInt64 = 0

    init(size: Int, ttl: TimeAmount, maxRooms: Int) {
        self.size = size
        self.ttl = ttl
        self.maxRooms = maxRooms
    }

    /// The next position in `room` (creating the room, with a fresh epoch, when it has none).
    mutating func next(_ room: String) -> RoomPosition {
        clock += 1
        if rooms[room] == nil {
            if rooms.count >= maxRooms { evict() }
            rooms[room] = Room(epoch: String(UUID4.make().prefix(8)))
        }
        rooms[room]!.lastSeq += 1
        rooms[room]!.touched = clock
        return RoomPosition(seq: rooms[room]!.lastSeq, epoch: rooms[room]!.epoch)
    }

    /// Records an event ordered elsewhere (by Redis): adopts its epoch, starting the room over if it changed.
    mutating func record(_ room: String, at position: RoomPosition, frame: ByteBuffer) {
        clock += 1
        if rooms[room]?.epoch != position.epoch {
            if rooms[room] == nil, rooms.count >= maxRooms { evict() }
            rooms[room] = Room(epoch: position.epoch)
        }
        rooms[room]!.lastSeq = position.seq
        rooms[room]!.touched = clock
        append(room, seq: position.seq, frame: frame)
    }

    mutating func append(_ room: String, seq: Int, frame: ByteBuffer) {
        guard size > 0, var entry = rooms[room] else { return }
        rooms[room] = nil  // edit uniquely owned storage
        let item = Entry(seq: seq, frame: frame, at: .now())
        if entry.entries.count < size {
            entry.entries.append(item)
        } else {
            entry.entries[entry.start] = item
            entry.start = (entry.start + 1) % size
        }
        rooms[room] = entry
    }

    func position(_ room: String) -> RoomPosition? {
        rooms[room].map { RoomPosition(seq: $0.lastSeq, epoch: $0.epoch) }
    }

    /// The frames after `since`, oldest first, or nil when they are not all here any more (other epoch,
    /// trimmed, expired): the client must then treat its state as stale.
    func frames(_ room: String, after since: RoomPosition) -> [Entry]? {
        guard let entry = rooms[room] else { return since.seq == 0 ? [] : nil }
        guard entry.epoch == since.epoch, since.seq <= entry.lastSeq else { return nil }
        if since.seq == entry.lastSeq { return [] }
        let ordered = Array(entry.entries[entry.start...] + entry.entries[..<entry.start])
        let cutoff = NIODeadline.now() - ttl
        let wanted = ordered.filter { $0.seq > since.seq && $0.at >= cutoff }
        // Complete only if the first missing event is still held.
        guard wanted.first?.seq == since.seq + 1, wanted.count == entry.lastSeq - since.seq else { return nil }
        return wanted
    }

    mutating func removeAll() { rooms = [:] }

    private mutating func evict() {
        let excess = rooms.count - maxRooms + max(1, maxRooms / 10)
        for (room, _) in rooms.sorted(by: { $0.value.touched < $1.value.touched }).prefix(excess) { rooms[room] = nil }
    }
}
