import CCurl
import Common
import Foundation
public import Logging
import Synchronization

/// An HTTP/1.1 client over libcurl for one endpoint (a unix socket, TCP or TLS).
///
/// Each transfer runs on a dedicated thread (libcurl blocks), never on Swift concurrency's cooperative pool.
/// Easy handles are pooled, so sequential calls reuse a live connection. Cancelling the calling task aborts
/// the transfer through libcurl's progress callback (within about a second on a quiet stream) and throws
/// `CancellationError`; no whole-transfer timeout is set unless a request asks for one, because timeouts
/// kill healthy quiet streams (wait, events, `logs?follow`).
public final class CurlClient: Sendable {
    public let endpoint: HTTPEndpoint
    /// The connect-phase limit for every request.
    public let connectTimeout: Duration
    private let idle = Mutex<[CurlEasy]>([])
    private let maxIdle: Int
    let logger: Logger

    public init(endpoint: HTTPEndpoint, connectTimeout: Duration = .seconds(10), maxIdleHandles: Int = 8, logger: Logger) {
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.maxIdle = maxIdleHandles
        self.logger = logger
        CurlGlobal.ensureInitialized()
    }

    /// Sends a request and collects the response body, failing with `CurlError.Code.tooLarge` past `maxBodyBytes`.
    public func send(_ request: HTTPRequest, maxBodyBytes: Int = 64 << 20) async throws -> HTTPResponse {
        let collected = Mutex<[UInt8]>([])
        let head = try await perform(request) { chunk in
            try collected.withLock { body in
                guard body.count + chunk.count <= maxBodyBytes else {
                    throw CurlError(
                        code: .tooLarge, message: "response body exceeds \(maxBodyBytes) bytes",
                        request: "\(request.method.rawValue) \(request.path)")
                }
                body.append(contentsOf: chunk)
            }
        }
        return HTTPResponse(head: head, body: collected.withLock { $0 })
    }

    /// Performs a request, streaming the response: `onHead` once the final head arrived, then `onBody` for
    /// every chunk as it arrives. Both run on the transfer's thread; throwing from them aborts the transfer
    /// and the error is rethrown here as is.
    @discardableResult
    public func perform(
        _ request: HTTPRequest,
        onHead: @escaping @Sendable (HTTPResponseHead) throws -> Void = { _ in },
        onBody: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> HTTPResponseHead {
        let cancel = CancellationFlag()
        if Task.isCancelled { throw CancellationError() }
        return try await BlockingExecutor.run("curl \(request.method.rawValue)", onCancel: { cancel.cancel() }) {
            try self.performBlocking(request, cancel: cancel, onHead: onHead, onBody: onBody)
        }
    }

    /// `send` for code already on a thread of its own (a process pipeline's reader): blocks that thread.
    public func sendBlocking(_ request: HTTPRequest, maxBodyBytes: Int = 64 << 20) throws -> HTTPResponse {
        var body: [UInt8] = []
        let head = try performBlocking(request, cancel: CancellationFlag(), onHead: { _ in }) { chunk in
            guard body.count + chunk.count <= maxBodyBytes else {
                throw CurlError(code: .tooLarge, message: "response body exceeds \(maxBodyBytes) bytes",
                                request: "\(request.method.rawValue) \(request.path)")
            }
            body.append(contentsOf: chunk)
        }
        return HTTPResponse(head: head, body: body)
    }

    /// `perform` for code already on a thread of its own (a process pipeline, an S3 download): blocks that thread.
    public func streamBlocking(
        _ request: HTTPRequest, onBody: @escaping (UnsafeRawBufferPointer) throws -> Void,
        onHead: @escaping (HTTPResponseHead) throws -> Void = { _ in }
    ) throws -> HTTPResponseHead {
        try performBlocking(request, cancel: CancellationFlag(), onHead: onHead, onBody: onBody)
    }

    /// The blocking transfer; callers must be on a thread that may block.
    func performBlocking(
        _ request: HTTPRequest, cancel: CancellationFlag,
        onHead: @escaping (HTTPResponseHead) throws -> Void,
        onBody: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) throws -> HTTPResponseHead {
        let easy = idle.withLock { $0.popLast() } ?? CurlEasy()
        easy.reset()
        var source: (any HTTPBodySource)?
        if case .stream(_, let s) = request.body { source = s }
        if case .bytes(let bytes) = request.body, request.method == .put { source = BytesBodySource(bytes) }
        let transfer = CurlTransfer(source: source, cancel: cancel, onHead: onHead, onBody: onBody)
        let describe = "\(request.method.rawValue) \(request.path)"

        configure(easy, for: request, transfer: transfer)
        let code = withExtendedLifetime(transfer) { easy.performInterruptibly(cancel: cancel) }

        if code != CURLE_OK {
            let message = endpoint.explain(code, libcurl: easy.message(for: code))
            // A handle whose transfer was cut may hold a half-read connection: drop it, do not pool it.
            if let error = transfer.callbackError { throw error }
            if code == CURLE_ABORTED_BY_CALLBACK, cancel.isCancelled { throw CancellationError() }
            throw CurlError(
                code: CurlError.classify(code), curlCode: Int(code.rawValue), message: message, request: describe)
        }
        transfer.status = easy.infoLong(CURLINFO_RESPONSE_CODE)
        if !transfer.headDelivered, !transfer.deliverHead(), let error = transfer.callbackError { throw error }
        let head = transfer.head
        idle.withLock { pool in if pool.count < maxIdle { pool.append(easy) } }
        return head
    }

    private func configure(_ easy: CurlEasy, for request: HTTPRequest, transfer: CurlTransfer) {
        easy.set(CURLOPT_URL, endpoint.baseURL + request.path)
        easy.apply(endpoint)
        easy.set(CURLOPT_NOSIGNAL, 1)
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout.milliseconds))
        easy.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(easy.errorBuffer))
        if let timeout = request.timeout { easy.set(CURLOPT_TIMEOUT_MS, Int(timeout.milliseconds)) }

        var headers = request.headers
        // libcurl sends `Expect: 100-continue` on uploads; servers that do not answer it stall each one.
        headers.append(("Expect", ""))
        switch request.method {
        case .get: break
        case .head: easy.set(CURLOPT_NOBODY, 1)
        case .delete: easy.set(CURLOPT_CUSTOMREQUEST, "DELETE")
        case .post: easy.set(CURLOPT_POST, 1)
        case .put: easy.set(CURLOPT_UPLOAD, 1)
        }
        switch (request.method, request.body) {
        case (.put, .empty):
            easy.set(CURLOPT_INFILESIZE_LARGE, offset: 0)
        case (.put, .bytes(let bytes)):
            easy.set(CURLOPT_INFILESIZE_LARGE, offset: Int64(bytes.count))
        case (.put, .stream(let length, _)):
            easy.set(CURLOPT_INFILESIZE_LARGE, offset: length ?? -1)
        case (_, .empty):
            if request.method == .post {
                easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: 0)
                easy.set(CURLOPT_COPYPOSTFIELDS, "")
            }
        case (_, .bytes(let bytes)):
            if request.method != .post { easy.set(CURLOPT_CUSTOMREQUEST, request.method.rawValue) }
            easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(bytes.count))
            bytes.withUnsafeBytes { raw in
                _ = ccurl_setopt_ptr(easy.handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
        case (_, .stream(let length, _)):
            if request.method != .post {
                easy.set(CURLOPT_POST, 1)
                easy.set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
            }
            if let length {
                easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: length)
            } else {
                headers.append(("Transfer-Encoding", "chunked"))
            }
        }
        easy.setHeaders(headers)

        let user = Unmanaged.passUnretained(transfer).toOpaque()
        easy.set(CURLOPT_HEADERFUNCTION, callback: CurlTransfer.headerCallback)
        easy.set(CURLOPT_HEADERDATA, pointer: user)
        easy.set(CURLOPT_WRITEFUNCTION, callback: CurlTransfer.writeCallback)
        easy.set(CURLOPT_WRITEDATA, pointer: user)
        easy.set(CURLOPT_READFUNCTION, callback: CurlTransfer.readCallback)
        easy.set(CURLOPT_READDATA, pointer: user)
        easy.set(CURLOPT_NOPROGRESS, 0)
        _ = ccurl_setopt_xferinfo(easy.handle, CurlTransfer.progressCallback)
        easy.set(CURLOPT_XFERINFODATA, pointer: user)
    }
}

/// An in-memory body served through the read callback (a PUT of a small payload, stdin for an exec).
public final class BytesBodySource: HTTPBodySource {
    private let staged: Mutex<StagedBytes>

    public init(_ bytes: [UInt8]) { staged = Mutex(StagedBytes(bytes)) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        staged.withLock { $0.copy(into: buffer, at: 0) }
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so that a positive duration never becomes 0 ("no limit" to libcurl).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}
