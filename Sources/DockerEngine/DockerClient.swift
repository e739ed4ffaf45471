import CurlHTTP
public import Logging
import Foundation

/// A client of the Docker Engine API (and Podman's Docker-compatible API) over libcurl.
///
/// `connect` resolves the host (see `DockerHost.candidates`), confirms it with `/_ping` and negotiates the
/// API version: the engine's `Api-Version` capped at `maximumAPIVersion`, refusing engines below
/// `minimumAPIVersion`. Every call is sent under `/v<negotiated>/`, so behaviour is that version's whatever
/// the daemon's own version is. Methods document the call they map to.
public final class DockerClient: Sendable {
    /// The newest API version whose semantics this client knows.
    public static let maximumAPIVersion = APIVersion(1, 47)
    /// The oldest it accepts (wait conditions, labelled mounts and health start periods are all older).
    public static let minimumAPIVersion = APIVersion(1, 32)

    public let host: DockerHost
    public let apiVersion: APIVersion
    /// Set when the engine is Podman's Docker-compatible service.
    public let libpodVersion: String?
    let http: CurlClient
    let logger: Logger

    init(host: DockerHost, http: CurlClient, apiVersion: APIVersion, libpodVersion: String?, logger: Logger) {
        self.host = host
        self.http = http
        self.apiVersion = apiVersion
        self.libpodVersion = libpodVersion
        self.logger = logger
    }

    /// Resolves the engine, confirms it answers, and negotiates the API version.
    ///
    /// - Throws: `DockerError` with code `.noEngine` naming every address tried and why each failed, or
    ///   `.unsupportedEngine` when the engine is too old.
    public static func connect(
        hostFlag: String? = nil, environment: HostEnvironment, logger: Logger
    ) async throws -> DockerClient {
        let candidates: [DockerHost]
        do { candidates = try DockerHost.candidates(flag: hostFlag, in: environment) } catch let error as DockerHostError {
            throw DockerError(code: .noEngine, message: error.message, request: "")
        }
        guard !candidates.isEmpty else {
            throw DockerError(
                code: .noEngine,
                message: "no Docker engine found: DOCKER_HOST is not set, no context is selected, and none of "
                    + "/var/run/docker.sock, the rootless or the Podman sockets exists",
                request: "")
        }
        var failures: [String] = []
        for candidate in candidates {
            let http = CurlClient(endpoint: candidate.endpoint, connectTimeout: .seconds(5), logger: logger)
            do {
                let ping = try await ping(http)
                let version = min(ping.apiVersion ?? minimumAPIVersion, maximumAPIVersion)
                guard version >= minimumAPIVersion else {
                    throw DockerError(
                        code: .unsupportedEngine,
                        message: "the engine at \(candidate) speaks API \(version); \(minimumAPIVersion) or newer is needed",
                        request: "GET /_ping")
                }
                logger.debug("engine answered", metadata: [
                    "docker.host": "\(candidate)", "docker.api": "\(version)",
                ])
                return DockerClient(host: candidate, http: http, apiVersion: version,
                                    libpodVersion: ping.libpodVersion, logger: logger)
            } catch let error as DockerError where error.code == .unsupportedEngine {
                throw error
            } catch {
                failures.append("\(candidate): \(error)")
            }
        }
        throw DockerError(code: .noEngine, message: "no Docker engine answers — " + failures.joined(separator: "; "), request: "")
    }

    /// Maps to `GET /_ping` (unversioned, so that any engine answers).
    static func ping(_ http: CurlClient) async throws -> PingResult {
        let response: HTTPResponse
        do { response = try await http.send(HTTPRequest(.get, "/_ping", timeout: .seconds(10))) } catch let error as CurlError {
            throw DockerError.transport(error)
        }
        guard response.status == 200 else {
            throw DockerError.from(status: response.status, body: response.body, request: "GET /_ping")
        }
        return PingResult(
            apiVersion: response.head.header("Api-Version").flatMap(APIVersion.init),
            libpodVersion: response.head.header("Libpod-API-Version"),
            server: response.head.header("Server"), osType: response.head.header("Ostype"))
    }

    // MARK: Request helpers

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    func versioned(_ path: String, _ query: DockerQuery = DockerQuery()) -> String {
        "/v\(apiVersion)\(path)\(query.encoded)"
    }

    /// Sends a call and returns the response when its status is one of `accept`; otherwise throws the
    /// daemon's error. An error response never reaches a decoder.
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, query: DockerQuery = DockerQuery(), json body: (any Encodable)? = nil,
        accept: Set<Int> = [200, 201, 204], timeout: Duration? = .seconds(120), maxBodyBytes: Int = 64 << 20
    ) async throws -> HTTPResponse {
        var request = HTTPRequest(method, versioned(path, query), timeout: timeout)
        if let body {
            request.body = .bytes(Array(try Self.encoder.encode(body)))
            request.headers.append(("Content-Type", "application/json"))
        }
        let response: HTTPResponse
        // A short call is never aborted half-way: the daemon may already have acted on it (a container
        // created after the caller's teardown listed the project would leak). Cancellation is observed
        // between calls; only streams (wait, logs, events, exec output) abort mid-flight.
        let http = self.http
        do {
            response = try await Task.detached { try await http.send(request, maxBodyBytes: maxBodyBytes) }.value
        } catch let error as CurlError {
            throw DockerError.transport(error)
        }
        try Task.checkCancellation()
        guard accept.contains(response.status) else {
            throw DockerError.from(status: response.status, body: response.body, request: "\(method.rawValue) \(path)")
        }
        return response
    }

    func decode<T: Decodable>(_ type: T.Type, from response: HTTPResponse, request: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(response.body)) } catch {
            throw DockerError(code: .decoding, status: response.status,
                              message: "cannot decode the reply: \(error)", request: request, underlying: error)
        }
    }

    /// `call` + `decode`.
    func get<T: Decodable>(_ type: T.Type, _ path: String, query: DockerQuery = DockerQuery()) async throws -> T {
        let response = try await call(.get, path, query: query)
        return try decode(T.self, from: response, request: "GET \(path)")
    }

    /// Streams a call's body to `onBody` after checking its status; an error status is collected and thrown.
    @discardableResult
    func stream(
        _ request: HTTPRequest, describe: String, accept: Set<Int> = [200],
        onHead: (@Sendable (HTTPResponseHead) -> Void)? = nil,
        onBody: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> HTTPResponseHead {
        let failure = FailureBody()
        do {
            let head = try await http.perform(request, onHead: { head in
                failure.setStatus(head.status, accepted: accept)
                if accept.contains(head.status) { onHead?(head) }
            }) { chunk in
                if failure.isFailing { failure.append(chunk) } else { try onBody(chunk) }
            }
            if !accept.contains(head.status) {
                throw DockerError.from(status: head.status, body: failure.bytes, request: describe)
            }
            return head
        } catch let error as CurlError {
            throw DockerError.transport(error)
        }
    }
}

/// Collects the body of a response whose status says it failed (bounded).
final class FailureBody: Sendable {
    private let state = Mutex<(failing: Bool, bytes: [UInt8])>((false, []))
    func setStatus(_ status: Int, accepted: Set<Int>) { state.withLock { $0.failing = !accepted.contains(status) } }
    var isFailing: Bool { state.withLock { $0.failing } }
    var bytes: [UInt8] { state.withLock { $0.bytes } }
    func append(_ chunk: UnsafeRawBufferPointer) {
        state.withLock { if $0.bytes.count < 65536 { $0.bytes.append(contentsOf: chunk.prefix(65536 - $0.bytes.count)) } }
    }
}

import Synchronization
