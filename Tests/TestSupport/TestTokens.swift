import Common
import Foundation
import JWTKit

/// Signs tokens the way the ecosystem's producers do (HS256 with a shared secret, or ES256), for auth tests.
public enum TestTokens {
    public static let secret = "test-secret-0123456789"

    public struct Claims: JWTPayload {
        public var user_id: String?
        public var sub: SubjectClaim?
        public var permissions: [String]?
        public var scopes: [String]?
        public var exp: ExpirationClaim?
        public var nbf: NotBeforeClaim?
        public var iat: IssuedAtClaim?
        public var aud: AudienceClaim?

        public func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A token for `user`, valid for `expiresIn` seconds (negative: already expired).
    public static func hs256(
        user: String? = "alice", permissions: [String]? = nil, scopes: [String]? = nil, expiresIn: Double? = 3600,
        notBefore: Double? = nil, issuedAt: Double? = 0, audience: String? = nil, secret: String = secret,
        digest: DigestAlgorithm = .sha256
    ) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: Authenticator.hmacKey(secret, length: 64)), digestAlgorithm: digest)
        return try await keys.sign(claims(user, permissions, scopes, expiresIn, notBefore, issuedAt, audience))
    }

    /// An ES256 token and the PEM of the public key that verifies it.
    public static func es256(
        user: String = "alice", permissions: [String] = []
    ) async throws -> (token: String, publicKeyPEM: String) {
        let key = ES256PrivateKey()
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key)
        let token = try await keys.sign(claims(user, permissions, nil, 3600, nil, 0, nil))
        return (token, key.publicKey.pemRepresentation)
    }

    static func claims(
        _ user: String?, _ permissions: [String]?, _ scopes: [String]?, _ expiresIn: Double?, _ notBefore: Double?,
        _ issuedAt: Double?, _ audience: String?
    ) -> Claims {
        let now = Date()
        return Claims(
            user_id: user, sub: user.map { SubjectClaim(value: $0) }, permissions: permissions, scopes: scopes,
            exp: expiresIn.map { ExpirationClaim(value: now.addingTimeInterval($0)) },
            nbf: notBefore.map { NotBeforeClaim(value: now.addingTimeInterval($0)) },
            iat: issuedAt.map { IssuedAtClaim(value: now.addingTimeInterval($0)) },
            aud: audience.map { AudienceClaim(value: [$0]) })
    }
}
