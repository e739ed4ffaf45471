public import CurlHTTP
public import Foundation

/// The machine facts host resolution reads, injectable for table tests.
public struct HostEnvironment: Sendable {
    public var variables: [String: String]
    public var home: String?
    public var uid: UInt32
    public var fileExists: @Sendable (String) -> Bool
    public var readFile: @Sendable (String) -> Data?
    public var listDirectory: @Sendable (String) -> [String]

    public init(
        variables: [String: String], home: String?, uid: UInt32,
        fileExists: @escaping @Sendable (String) -> Bool,
        readFile: @escaping @Sendable (String) -> Data?,
        listDirectory: @escaping @Sendable (String) -> [String]
    ) {
        self.variables = variables
        self.home = home
        self.uid = uid
        self.fileExists = fileExists
        self.readFile = readFile
        self.listDirectory = listDirectory
    }

    /// This machine's file system with the environment the caller read (DrillCommands reads the process
    /// environment once per command; no library reads it).
    public static func system(variables env: [String: String]) -> HostEnvironment {
        HostEnvironment(
            variables: env, home: env["HOME"] ?? NSHomeDirectory(), uid: getuid(),
            fileExists: { FileManager.default.fileExists(atPath: $0) },
            readFile: { FileManager.default.contents(atPath: $0) },
            listDirectory: { (try? FileManager.default.contentsOfDirectory(atPath: $0)) ?? [] })
    }
}

extension DockerHost {
    /// The addresses to try, in the order users expect: `--host`, `DOCKER_HOST`, the Docker CLI's current
    /// context (`DOCKER_CONTEXT` or config.json's `currentContext`), then the sockets that exist among
    /// `/var/run/docker.sock`, the rootless Docker socket and the Podman sockets. An explicit choice (flag,
    /// variable, context) is returned alone: when the user named an engine, no other one is silently used.
    public static func candidates(flag: String? = nil, in env: HostEnvironment) throws -> [DockerHost] {
        let vars = env.variables
        if let flag, !flag.isEmpty {
            return [DockerHost(endpoint: try parse(flag, in: env), source: .flag)]
        }
        if let value = vars["DOCKER_HOST"], !value.isEmpty {
            return [DockerHost(endpoint: try parse(value, in: env), source: .environment)]
        }
        if let context = currentContext(in: env), context != "default" {
            return [DockerHost(endpoint: try contextEndpoint(context, in: env), source: .context(context))]
        }
        var found: [DockerHost] = []
        func add(_ path: String, _ source: Source) {
            if env.fileExists(path), !found.contains(where: { $0.endpoint == .unixSocket(path) }) {
                found.append(DockerHost(endpoint: .unixSocket(path), source: source))
            }
        }
        add("/var/run/docker.sock", .defaultSocket)
        let runtime = vars["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/user/\(env.uid)"
        add("\(runtime)/docker.sock", .rootlessSocket)
        add("/run/podman/podman.sock", .podmanSocket)
        add("\(runtime)/podman/podman.sock", .podmanSocket)
        return found
    }

    /// Parses a `DOCKER_HOST`-style address: `unix:///path` or `tcp://host[:port]` (port 2375 when omitted);
    /// `tcp://` uses TLS when `DOCKER_TLS_VERIFY` is non-empty (verifying the server) or `DOCKER_CERT_PATH`
    /// is set (certificates from that folder, default `~/.docker`: `ca.pem`, `cert.pem`, `key.pem`).
    /// Anything else — no scheme, `http://`, `ssh://`, `npipe://` — is refused with a message saying why.
    public static func parse(_ text: String, in env: HostEnvironment) throws -> HTTPEndpoint {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw DockerHostError(message: "\(text): a unix socket path must be absolute") }
            guard path.utf8.count <= 107 else { throw DockerHostError(message: "\(text): socket path longer than 107 bytes") }
            return .unixSocket(path)
        }
        if text.hasPrefix("tcp://") {
            var rest = String(text.dropFirst("tcp://".count))
            if let slash = rest.firstIndex(of: "/") { rest = String(rest[..<slash]) }
            let (host, port) = try splitHostPort(rest, original: text)
            let verify = !(env.variables["DOCKER_TLS_VERIFY"] ?? "").isEmpty
            let certPathVar = env.variables["DOCKER_CERT_PATH"].flatMap { $0.isEmpty ? nil : $0 }
            guard verify || certPathVar != nil else { return HTTPEndpoint(.tcp(host: host, port: port)) }
            let dir = certPathVar ?? "\(env.home ?? "~")/.docker"
            func file(_ name: String) -> String? {
                let path = "\(dir)/\(name)"
                return env.fileExists(path) ? path : nil
            }
            let files = HTTPEndpoint.TLSFiles(
                caCertificate: file("ca.pem"), clientCertificate: file("cert.pem"), clientKey: file("key.pem"),
                verifyPeer: verify)
            return HTTPEndpoint(.tls(host: host, port: port, files: files))
        }
        if text.hasPrefix("/") {
            throw DockerHostError(message: "\(text): DOCKER_HOST needs a scheme; did you mean unix://\(text)?")
        }
        let scheme = text.components(separatedBy: "://").first ?? text
        throw DockerHostError(
            message: "\(text): unsupported address scheme \"\(scheme)\" (use unix:///path or tcp://host:port)")
    }

    private static func splitHostPort(_ text: String, original: String) throws -> (String, Int) {
        var host = text
        var portText: String?
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex) ..< close])
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty else { throw DockerHostError(message: "\(original): no host") }
        guard let portText else { return (host, 2375) }
        guard let port = Int(portText), (1 ... 65535).contains(port) else {
            throw DockerHostError(message: "\(original): invalid port \"\(portText)\"")
        }
        return (host, port)
    }

    private static func configDirectory(in env: HostEnvironment) -> String {
        if let dir = env.variables["DOCKER_CONFIG"], !dir.isEmpty { return dir }
        return "\(env.home ?? "~")/.docker"
    }

    /// `DOCKER_CONTEXT`, else `currentContext` from the CLI's config.json, else nil.
    static func currentContext(in env: HostEnvironment) -> String? {
        if let name = env.variables["DOCKER_CONTEXT"], !name.isEmpty { return name }
        struct Config: Decodable { var currentContext: String? }
        guard let data = env.readFile("\(configDirectory(in: env))/config.json"),
            let config = try? JSONDecoder().decode(Config.self, from: data),
            let name = config.currentContext, !name.isEmpty
        else { return nil }
        return name
    }

    /// The Docker endpoint of a CLI context, found by its `meta.json` (`contexts/meta/<id>/meta.json`).
    static func contextEndpoint(_ name: String, in env: HostEnvironment) throws -> HTTPEndpoint {
        struct Meta: Decodable {
            struct Endpoint: Decodable {
                var Host: String?
                var SkipTLSVerify: Bool?
            }
            var Name: String
            var Endpoints: [String: Endpoint]?
        }
        let root = "\(configDirectory(in: env))/contexts"
        for id in env.listDirectory("\(root)/meta") {
            guard let data = env.readFile("\(root)/meta/\(id)/meta.json"),
                let meta = try? JSONDecoder().decode(Meta.self, from: data), meta.Name == name
            else { continue }
            guard let endpoint = meta.Endpoints?["docker"], let host = endpoint.Host, !host.isEmpty else {
                throw DockerHostError(message: "docker context \"\(name)\" has no Docker endpoint")
            }
            var parsed = try parse(host, in: HostEnvironment(
                variables: [:], home: env.home, uid: env.uid, fileExists: env.fileExists,
                readFile: env.readFile, listDirectory: env.listDirectory))
            let tlsDir = "\(root)/tls/\(id)/docker"
            if case .tcp(let h, let p) = parsed.kind, env.fileExists("\(tlsDir)/ca.pem") || env.fileExists("\(tlsDir)/cert.pem") {
                func file(_ f: String) -> String? { env.fileExists("\(tlsDir)/\(f)") ? "\(tlsDir)/\(f)" : nil }
                parsed = HTTPEndpoint(.tls(host: h, port: p, files: .init(
                    caCertificate: file("ca.pem"), clientCertificate: file("cert.pem"), clientKey: file("key.pem"),
                    verifyPeer: !(endpoint.SkipTLSVerify ?? false))))
            }
            return parsed
        }
        throw DockerHostError(message: "docker context \"\(name)\" not found under \(root)/meta")
    }
}
