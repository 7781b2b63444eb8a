/// Random (version 4) UUIDs as lowercase strings, like Python's `str(uuid.uuid4())`.
/// (Foundation's `UUID().uuidString` is uppercase.)
public enum UUID4 {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = (generator.next() as UInt64) & ~0xF000 | 0x4000  // version 4
        let low = (generator.next() as UInt64) & ~(0xC000 << 48) | (0x8000 << 48)  // RFC 4122 variant
        return String(unsafeUninitializedCapacity: 36) { out in
            var index = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    out[index] = UInt8(ascii: "-")
                    index += 1
                }
                let word = nibble < 16 ? high : low
                let shift = UInt64(60 - (nibble % 16) * 4)
                out[index] = hex[Int((word >> shift) & 0xF)]
                index += 1
            }
            return index
        }
    }
}
