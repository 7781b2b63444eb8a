import NIOSSL

extension TLSSettings {
    /// The server's TLS context: certificate chain and key from files, TLS 1.2 minimum, client certificates
    /// required when `ca_file` or `verify_client` is set. Built once at start-up; errors name the file.
    func makeContext() throws(SettingsError) -> NIOSSLContext? {
        guard enabled, let certFile, let keyFile else { return nil }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certFile).map { NIOSSLCertificateSource.certificate($0) }
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem)))
            configuration.minimumTLSVersion = .tlsv12
            if let caFile {
                configuration.trustRoots = .file(caFile)
            }
            if verifyClient || caFile != nil {
                configuration.certificateVerification = .noHostnameVerification
            }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SettingsError(
                description: "tls: cannot use \(certFile) / \(keyFile)\(caFile.map { " / \($0)" } ?? ""): \(error)")
        }
    }
}
