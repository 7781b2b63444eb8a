import Common
import Testing

@Suite("JSON: strict parsing, ordered objects, Python-compatible output")
struct JSONTests {
    @Test("round trip keeps key order and types")
    func roundTrip() throws {
        let text = #"{"z":1,"a":[true,false,null],"m":{"k":"v","n":-2.5},"e":{},"l":[]}"#
        #expect(JSONWriter.string(try JSONParser.parse(text)) == text)
    }

    @Test("escapes like json.dumps(ensure_ascii=False)")
    func escapes() {
        let value: JSONValue = .string("q\"b\\n\n\r\t\u{08}\u{0C}\u{01}é😀/")
        #expect(JSONWriter.string(value) == #""q\"b\\n\n\r\t\b\f\u0001é😀/""#)
    }

    @Test(
        "floats print as Python's repr",
        arguments: [(0.5, "0.5"), (100.0, "100.0"), (1e-05, "1e-05"), (1e16, "1e+16"), (0.1, "0.1")])
    func floats(value: Double, text: String) {
        #expect(JSONWriter.string(.double(value)) == text)
    }

    @Test("non-finite numbers are written as null")
    func nonFinite() {
        #expect(JSONWriter.string(.double(.nan)) == "null")
        #expect(JSONWriter.string(.double(.infinity)) == "null")
    }

    @Test("escapes and surrogate pairs decode")
    func unicodeEscapes() throws {
        #expect(try JSONParser.parse(#""\u00e9\ud83d\ude00\/""#) == .string("é😀/"))
    }

    @Test("duplicate keys: the last one wins, at the first one's position")
    func duplicates() throws {
        #expect(JSONWriter.string(try JSONParser.parse(#"{"a":1,"b":2,"a":3}"#)) == #"{"a":3,"b":2}"#)
    }

    @Test("integers stay integers, large ones become doubles")
    func numbers() throws {
        #expect(try JSONParser.parse("42") == .int(42))
        #expect(try JSONParser.parse("-0") == .int(0))
        #expect(try JSONParser.parse("1.5e3") == .double(1500))
        #expect(try JSONParser.parse("123456789012345678901234") == .double(1.2345678901234568e23))
    }

    @Test(
        "invalid documents are rejected",
        arguments: [
            "", "{", "[1,]", #"{"a":1,}"#, "01", "1.", ".5", "NaN", "Infinity", "tru", #"{"a" 1}"#, #""\x""#,
            "\"a\u{01}\"", #""\ud800""#, #""\udc00x""#, "{} {}", "'a'", "[1e400]",
        ])
    func invalid(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test("nesting is bounded")
    func depth() {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONParser.parse(fine)) != nil)
    }

    @Test("invalid UTF-8 inside strings is rejected")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONParseError.self) {
            try bytes.withUnsafeBytes { try JSONParser.parse($0) }
        }
    }
}
