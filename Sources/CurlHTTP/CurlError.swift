import CCurl

/// A transport failure: libcurl could not complete the exchange (no HTTP status was received, or the
/// transfer was cut). HTTP error statuses are not `CurlError`s; callers read the status themselves.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// Why the transfer failed. Wraps a private representation so that codes can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable {
            case couldNotConnect, timedOut, cancelled, tooLarge, other
        }
        let base: Base
        /// The server could not be reached (no such socket, refused, no route).
        public static let couldNotConnect = Code(base: .couldNotConnect)
        /// A time limit set on the request ran out.
        public static let timedOut = Code(base: .timedOut)
        /// The caller cancelled the transfer (task cancellation).
        public static let cancelled = Code(base: .cancelled)
        /// The response exceeded the size the caller allowed for a collected body.
        public static let tooLarge = Code(base: .tooLarge)
        /// Any other libcurl error; `curlCode` and the message say which.
        public static let other = Code(base: .other)
        public var description: String { "\(base)" }
    }

    public var code: Code
    /// libcurl's `CURLcode`, when the failure came from libcurl.
    public var curlCode: Int?
    /// libcurl's own message (`CURLOPT_ERRORBUFFER`, else `curl_easy_strerror`). Never holds credentials:
    /// libcurl's messages name hosts and paths, not request headers or bodies.
    public var message: String
    /// What the request was (`GET /v1.41/_ping`), without its body or headers.
    public var request: String
    public var underlying: (any Error)?

    public init(code: Code, curlCode: Int? = nil, message: String, request: String, underlying: (any Error)? = nil) {
        self.code = code
        self.curlCode = curlCode
        self.message = message
        self.request = request
        self.underlying = underlying
    }

    public var description: String {
        var text = "\(request): \(message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }

    static func classify(_ code: CURLcode) -> Code {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .couldNotConnect
        case CURLE_OPERATION_TIMEDOUT: return .timedOut
        case CURLE_ABORTED_BY_CALLBACK: return .cancelled
        default: return .other
        }
    }
}
