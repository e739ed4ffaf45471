import CurlHTTP
import Foundation

/// A failed Engine API call: the HTTP status and the daemon's own message, or the transport's failure.
///
/// Messages come from the daemon (`{"message": …}` bodies, or errors inside a 200 stream) or from libcurl;
/// request bodies (which may hold environment values) are never part of the text.
public struct DockerError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure. Wraps a private enum so that codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable {
            case notModified, badRequest, forbidden, notFound, conflict, serverError, unexpectedStatus
            case streamError, decoding, transport, noEngine, unsupportedEngine
        }
        let base: Base
        /// 304: the container was already started/stopped.
        public static let notModified = Code(base: .notModified)
        /// 400: bad parameters (the message says which).
        public static let badRequest = Code(base: .badRequest)
        /// 403: e.g. a network with active endpoints, an endpoint that already exists.
        public static let forbidden = Code(base: .forbidden)
        /// 404: no such container, image, network, volume, exec or path.
        public static let notFound = Code(base: .notFound)
        /// 409: a name in use, a container not running, a volume in use.
        public static let conflict = Code(base: .conflict)
        /// 500: the daemon failed.
        public static let serverError = Code(base: .serverError)
        /// Any other status this call does not expect.
        public static let unexpectedStatus = Code(base: .unexpectedStatus)
        /// A 200 response whose stream carried an error (pull, import, load).
        public static let streamError = Code(base: .streamError)
        /// The daemon's answer could not be decoded.
        public static let decoding = Code(base: .decoding)
        /// The connection failed or was cut (`underlying` holds the `CurlError`).
        public static let transport = Code(base: .transport)
        /// No engine answered at any candidate address.
        public static let noEngine = Code(base: .noEngine)
        /// The engine answered but speaks an API version below the minimum we support.
        public static let unsupportedEngine = Code(base: .unsupportedEngine)

        public var description: String { "\(base)" }
    }

    public var code: Code
    /// The HTTP status, when a response arrived.
    public var status: Int?
    /// The daemon's (or transport's) own message.
    public var message: String
    /// The call that failed: method and path (no body, no headers).
    public var request: String
    public var underlying: (any Error)?

    public init(code: Code, status: Int? = nil, message: String, request: String, underlying: (any Error)? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.request = request
        self.underlying = underlying
    }

    public var description: String {
        let where_ = request.isEmpty ? "" : "\(request): "
        let status = status.map { "\($0) " } ?? ""
        return "\(where_)\(status)\(message)"
    }

    public var isNotFound: Bool { code == .notFound }
    public var isConflict: Bool { code == .conflict }
    public var isNotModified: Bool { code == .notModified }

    /// The code for an HTTP status.
    public static func code(forStatus status: Int) -> Code {
        switch status {
        case 304: return .notModified
        case 400: return .badRequest
        case 403: return .forbidden
        case 404: return .notFound
        case 409: return .conflict
        case 500 ..< 600: return .serverError
        default: return .unexpectedStatus
        }
    }

    /// The error for a non-success response: the `message` of a JSON body, else the body's text (the
    /// "API version too old" reply is plain text), else the status.
    public static func from(status: Int, body: [UInt8], request: String) -> DockerError {
        let text = message(from: body, status: status)
        var code = code(forStatus: status)
        // Podman answers a name already taken with 500 and its own words where dockerd answers 409.
        if status == 500, text.contains("already exists") || text.contains("already in use") { code = .conflict }
        return DockerError(code: code, status: status, message: text, request: request)
    }

    static func message(from body: [UInt8], status: Int) -> String {
        struct Body: Decodable { var message: String? }
        if let decoded = try? JSONDecoder().decode(Body.self, from: Data(body)), let message = decoded.message {
            return message
        }
        let text = String(decoding: body.prefix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "HTTP status \(status)" : text
    }

    static func transport(_ error: CurlError) -> DockerError {
        DockerError(code: .transport, message: error.message, request: error.request, underlying: error)
    }
}
