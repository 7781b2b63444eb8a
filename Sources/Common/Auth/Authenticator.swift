import Crypto
import Foundation
import JWTKit

/// The claims we read (docs/security.md); everything else in a token is ignored.
struct TokenClaims: JWTPayload {
    var sub: SubjectClaim?
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var aud: AudienceClaim?
    var user_id: String?
    var permissions: [String]?
    var scopes: [String]?

    /// Zero leeway, like PyJWT in the reference: expired, not yet valid, or issued in the future fails.
    func verify(using algorithm: some JWTAlgorithm) async throws {
        let now = Date()
        try exp?.verifyNotExpired(currentDate: now)
        try nbf?.verifyNotBefore(currentDate: now)
        if let iat, iat.value > now { throw JWTError.claimVerificationFailure(failedClaim: iat, reason: "issued in the future") }
    }
}

/// Verifies tokens and API keys for one service. Every failure is an `AUTH_FAILED` with the reference's message.
public final class Authenticator: Sendable {
    static let malformed = ProtocolError(.authFailed, "Missing or malformed auth token")
    static let invalid = ProtocolError(.authFailed, "Invalid or expired token")

    private let keys: JWTKeyCollection
    /// Each configured key with its name (`name(ofAPIKey:)`), computed once.
    private let apiKeys: [(key: String, name: String)]
    private let service: String

    public init(settings: AuthSettings, service: String) async throws {
        self.service = service
        self.apiKeys = Set(settings.apiKeys).sorted().map { ($0, Self.name(ofAPIKey: $0)) }
        let keys = JWTKeyCollection()
        switch settings.jwtAlgorithm {
        case "HS256", "HS384", "HS512":
            if let secret = settings.jwtSecret {
                let (digest, length): (DigestAlgorithm, Int) =
                    switch settings.jwtAlgorithm {
                    case "HS384": (.sha384, 48)
                    case "HS512": (.sha512, 64)
                    default: (.sha256, 32)
                    }
                await keys.add(hmac: HMACKey(key: Self.hmacKey(secret, length: length)), digestAlgorithm: digest)
            }
        case "RS256":
            if let path = settings.jwtPublicKeyFile {
                let pem = try String(contentsOfFile: path, encoding: .utf8)
                let key =
                    pem.contains("CERTIFICATE")
                    ? try Insecure.RSA.PublicKey(certificatePEM: pem) : try Insecure.RSA.PublicKey(pem: pem)
                await keys.add(rsa: key, digestAlgorithm: .sha256)
            }
        case "ES256":
            if let path = settings.jwtPublicKeyFile {
                await keys.add(ecdsa: try ES256PublicKey(pem: String(contentsOfFile: path, encoding: .utf8)))
            }
        default:
            throw SettingsError(description: "jwt_algorithm: unsupported \(settings.jwtAlgorithm)")
        }
        self.keys = keys
    }

    /// An API key's identity, or nil when it is not one of ours.
    public func identity(apiKey: String) -> Identity? {
        // Compare every key in full, so timing does not reveal how much of a guess was right.
        var match: String?
        for (key, name) in apiKeys where Self.constantTimeEqual(key, apiKey) { match = name }
        return match.map { .apiKey(name: $0) }
    }

    /// `api_key:` and the first 8 hex digits of the key's SHA-256: names a key without revealing it.
    static func name(ofAPIKey key: String) -> String {
        "api_key:" + SHA256.hash(data: Data(key.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    /// A verified token's identity. Only the configured algorithm is accepted (the key collection holds one key).
    public func identity(token: String) async throws(ProtocolError) -> Identity {
        guard !token.isEmpty, token.utf8.count < 16 << 10 else { throw Self.malformed }
        let claims: TokenClaims
        do {
            claims = try await keys.verify(token, as: TokenClaims.self)
        } catch {
            throw Self.invalid
        }
        // The reference rejects any `aud`; we accept tokens addressed to this service (crackerjack's own tokens).
        if let audience = claims.aud?.value, !audience.contains(service) { throw Self.invalid }
        let granted = (claims.permissions ?? claims.scopes ?? []).map {
            $0.lowercased().replacingOccurrences(of: " ", with: "")
        }
        return Identity(
            source: .token, userID: claims.user_id ?? claims.sub?.value, permissions: Set(granted),
            expiresAt: claims.exp.map { $0.value.timeIntervalSince1970 })
    }

    /// Either credential: API keys are checked first (they are cheap), then tokens. A bearer credential may be
    /// an API key too (the ecosystem's API spec sends keys both as `X-API-Key` and as `Authorization: Bearer`).
    public func identity(credential: Credential) async throws(ProtocolError) -> Identity {
        switch credential {
        case .apiKey(let key):
            guard let identity = identity(apiKey: key) else { throw ProtocolError(.authFailed, "Invalid API key") }
            return identity
        case .token(let token):
            if let identity = identity(apiKey: token) { return identity }
            return try await identity(token: token)
        }
    }

    /// jwt-kit refuses HMAC keys shorter than the digest (32/48/64 bytes), but the ecosystem's secrets can be
    /// shorter (PyJWT accepts them). HMAC pads every key shorter than its block size (64 bytes for SHA-256,
    /// 128 for SHA-384/512) with zeros (RFC 2104 §2), so zero-padding to the digest length gives exactly the
    /// same MACs: tokens signed with the short secret still verify.
    public static func hmacKey(_ secret: String, length: Int = 32) -> SymmetricKey {
        var bytes = Array(secret.utf8)
        if bytes.count < length { bytes += Array(repeating: 0, count: length - bytes.count) }
        return SymmetricKey(data: bytes)
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8), b = Array(b.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// A credential presented with the upgrade request or an HTTP call.
public enum Credential: Sendable, Equatable {
    case token(String)
    case apiKey(String)

    /// `X-API-Key`, then `Authorization: Bearer`, then `?token=` (docs/security.md).
    public static func from(headers: [(name: String, value: String)], uri: String) -> Credential? {
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value.trimmingCharacters(in: .whitespaces)
        }
        if let key = header("x-api-key"), !key.isEmpty { return .apiKey(key) }
        if let authorization = header("authorization"), authorization.lowercased().hasPrefix("bearer ") {
            return .token(String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        }
        if let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first {
            for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
                return .token(String(pair.dropFirst(6)).removingPercentEncoding ?? String(pair.dropFirst(6)))
            }
        }
        return nil
    }
}
