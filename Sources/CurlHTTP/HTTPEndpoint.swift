/// Where an HTTP server listens: a unix socket, plain TCP, or TCP with TLS (client certificates optional).
public struct HTTPEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The files of a TLS client identity and trust anchor (the Docker `DOCKER_CERT_PATH` layout).
    public struct TLSFiles: Sendable, Hashable {
        public var caCertificate: String?
        public var clientCertificate: String?
        public var clientKey: String?
        /// Verify the server's certificate and host name.
        public var verifyPeer: Bool

        public init(caCertificate: String?, clientCertificate: String?, clientKey: String?, verifyPeer: Bool) {
            self.caCertificate = caCertificate
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.verifyPeer = verifyPeer
        }
    }

    public enum Kind: Sendable, Hashable {
        case unixSocket(path: String)
        case tcp(host: String, port: Int)
        case tls(host: String, port: Int, files: TLSFiles)
        /// A full base URL (`http://127.0.0.1:9000`, `https://s3.example`), for HTTP services other than Docker.
        case url(String)
    }

    public var kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public static func unixSocket(_ path: String) -> HTTPEndpoint { HTTPEndpoint(.unixSocket(path: path)) }

    /// The URL prefix requests are sent to; for a unix socket the host only fills the `Host` header.
    public var baseURL: String {
        switch kind {
        case .unixSocket: return "http://localhost"
        case .tcp(let host, let port): return "http://\(Self.bracketed(host)):\(port)"
        case .tls(let host, let port, _): return "https://\(Self.bracketed(host)):\(port)"
        case .url(let url): return url.hasSuffix("/") ? String(url.dropLast()) : url
        }
    }

    public var description: String {
        switch kind {
        case .unixSocket(let path): return "unix://\(path)"
        case .tcp(let host, let port): return "tcp://\(Self.bracketed(host)):\(port)"
        case .tls(let host, let port, _): return "tcp://\(Self.bracketed(host)):\(port) (TLS)"
        case .url(let url): return url
        }
    }

    private static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }
}
