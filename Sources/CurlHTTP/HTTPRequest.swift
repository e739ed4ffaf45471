/// The HTTP methods the clients in this package use.
public enum HTTPMethod: String, Sendable {
    case get = "GET", head = "HEAD", post = "POST", put = "PUT", delete = "DELETE"
}

/// A source of request-body bytes, pulled by libcurl's read callback on the transfer's own thread.
///
/// `read(into:)` fills at most `buffer.count` bytes and returns how many it wrote; `0` means end of body.
/// Throwing aborts the transfer and the error is rethrown to the caller of `perform`.
public protocol HTTPBodySource: Sendable {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// What a request sends.
public enum HTTPBody: Sendable {
    case empty
    case bytes([UInt8])
    /// Streamed through the read callback; `length: nil` sends `Transfer-Encoding: chunked`.
    case stream(length: Int64?, source: any HTTPBodySource)
}

/// One HTTP request. `path` includes the query string, already percent-encoded.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var headers: [(name: String, value: String)]
    public var body: HTTPBody
    /// A limit on the whole transfer. Leave `nil` for streams that may be quiet for long (wait, events,
    /// `logs?follow`, exec output): cancel those through task cancellation instead.
    public var timeout: Duration?

    public init(
        _ method: HTTPMethod, _ path: String, headers: [(name: String, value: String)] = [],
        body: HTTPBody = .empty, timeout: Duration? = nil
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}
