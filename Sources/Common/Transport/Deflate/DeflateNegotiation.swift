/// permessage-deflate as agreed with one client (RFC 7692 §7), from its `Sec-WebSocket-Extensions` offers.
struct PerMessageDeflate: Sendable, Equatable {
    /// The server starts every message with an empty window, so one compressed frame serves every subscriber
    /// that agreed to this (`compression: shared`, or a client asking for it).
    var serverNoContextTakeover: Bool
    /// The LZ77 window the server compresses with, 9...15.
    var serverWindowBits: Int
    /// The `Sec-WebSocket-Extensions` value of the 101 response.
    var responseHeader: String

    /// The first offer we accept, in the client's order of preference; nil when there is none (plain frames).
    ///
    /// We always answer `client_no_context_takeover` (RFC 7692 §7.1.1.2 lets a server add it): what clients
    /// send are small requests, and without a client window to keep, one inflater per event loop serves
    /// every connection. An offer is declined when a parameter is unknown, repeated or has a bad value, or when
    /// it asks for `server_max_window_bits=8`, which zlib cannot produce.
    static func negotiate(offers headerValues: [String], settings: CompressionSettings) -> PerMessageDeflate? {
        guard settings.mode != .off else { return nil }
        for offer in headerValues.flatMap(ExtensionOffer.parse) where offer.name == "permessage-deflate" {
            if let accepted = accept(offer, settings: settings) { return accepted }
        }
        return nil
    }

    private static func accept(_ offer: ExtensionOffer, settings: CompressionSettings) -> PerMessageDeflate? {
        var seen = Set<String>()
        var noContextTakeover = settings.mode == .shared
        var requestedWindow: Int?
        for (name, value) in offer.parameters {
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
                noContextTakeover = true
            case "client_no_context_takeover":
                guard value == nil else { return nil }
            case "server_max_window_bits":
                guard let bits = value.flatMap(windowBits), bits >= 9 else { return nil }
                requestedWindow = bits
            case "client_max_window_bits":
                // Without a value the client only says it could honour one; we never ask (no client window).
                if let value, windowBits(value) == nil { return nil }
            default:
                return nil
            }
        }
        let window = min(settings.windowBits, requestedWindow ?? 15)
        var header = "permessage-deflate"
        if noContextTakeover { header += "; server_no_context_takeover" }
        header += "; client_no_context_takeover"
        // Only an offer that limits our window gets an answer to it (§7.1.2.1).
        if requestedWindow != nil { header += "; server_max_window_bits=\(window)" }
        return PerMessageDeflate(serverNoContextTakeover: noContextTakeover, serverWindowBits: window, responseHeader: header)
    }

    /// 8...15 written as plain digits (no sign, no leading zero), as §7.1.2 requires.
    private static func windowBits(_ text: String) -> Int? {
        guard text.first != "0", text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let bits = Int(text),
            (8...15).contains(bits)
        else { return nil }
        return bits
    }
}

/// One extension of a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1): a name and its parameters, names
/// lower-cased, quoted values unquoted. A syntactically broken element yields nothing (it cannot be accepted).
struct ExtensionOffer {
    var name: String
    var parameters: [(name: String, value: String?)]

    /// Every extension in one header value, in order.
    static func parse(_ header: String) -> [ExtensionOffer] {
        splitOutsideQuotes(header, on: ",").filter { !trimmed($0).isEmpty }.compactMap(parseOne)
    }

    private static func parseOne(_ element: Substring) -> ExtensionOffer? {
        let parts = splitOutsideQuotes(element, on: ";").map(trimmed)
        guard let name = parts.first, isToken(name) else { return nil }
        var parameters: [(name: String, value: String?)] = []
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(trimmed)
            guard isToken(pair[0]) else { return nil }
            var value: String?
            if pair.count == 2 {
                var raw = pair[1]
                if raw.count >= 2, raw.first == "\"", raw.last == "\"" { raw = raw.dropFirst().dropLast() }
                guard isToken(raw) else { return nil }
                value = String(raw)
            }
            parameters.append((pair[0].lowercased(), value))
        }
        return ExtensionOffer(name: name.lowercased(), parameters: parameters)
    }

    private static func splitOutsideQuotes(_ text: some StringProtocol, on separator: Character) -> [Substring] {
        let text = Substring(text)
        var pieces: [Substring] = []
        var start = text.startIndex
        var quoted = false
        for index in text.indices {
            if text[index] == "\"" { quoted.toggle() }
            if text[index] == separator, !quoted {
                pieces.append(text[start..<index])
                start = text.index(after: index)
            }
        }
        pieces.append(text[start...])
        return pieces
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }

    /// An RFC 7230 token: visible ASCII without separators.
    private static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                byte > 0x20 && byte < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
            }
    }
}
