import CCurl

/// The state of one transfer, reached from libcurl's C callbacks through their user-data pointer.
/// Created and used on the transfer's thread only.
final class CurlTransfer {
    let source: (any HTTPBodySource)?
    let onHead: (HTTPResponseHead) throws -> Void
    let onBody: (UnsafeRawBufferPointer) throws -> Void
    let cancel: CancellationFlag

    var status = 0
    var headers: [(name: String, value: String)] = []
    var headDelivered = false
    /// The first error a callback threw; it is rethrown as is once libcurl returns.
    var callbackError: (any Error)?

    init(
        source: (any HTTPBodySource)?, cancel: CancellationFlag,
        onHead: @escaping (HTTPResponseHead) throws -> Void,
        onBody: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) {
        self.source = source
        self.cancel = cancel
        self.onHead = onHead
        self.onBody = onBody
    }

    var head: HTTPResponseHead { HTTPResponseHead(status: status, headers: headers) }

    /// One header line. A status line starts a new head (interim `100 Continue` heads are dropped);
    /// the blank line ends it.
    func headerLine(_ line: String) -> Bool {
        let trimmed = line.trimmingSuffix(while: \.isNewline)
        if trimmed.hasPrefix("HTTP/") {
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = []
            return true
        }
        if trimmed.isEmpty {
            if status >= 200 || status == 101 { return deliverHead() }
            return true
        }
        if let colon = trimmed.firstIndex(of: ":") {
            let name = String(trimmed[..<colon])
            let value = trimmed[trimmed.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((name, String(value)))
        }
        return true
    }

    func deliverHead() -> Bool {
        guard !headDelivered else { return true }
        headDelivered = true
        do { try onHead(head) } catch {
            callbackError = callbackError ?? error
            return false
        }
        return true
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if !headDelivered, !deliverHead() { return false }
        do { try onBody(bytes) } catch {
            callbackError = callbackError ?? error
            return false
        }
        return true
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard let source else { return 0 }
        do { return try source.read(into: buffer) } catch {
            callbackError = callbackError ?? error
            return nil
        }
    }

    // MARK: C callbacks (no captures: the transfer comes back through the user-data pointer)

    static let headerCallback: ccurl_io_cb = { ptr, size, count, user in
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
        let n = size * count
        let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
        return transfer.headerLine(line) ? n : 0
    }

    static let writeCallback: ccurl_io_cb = { ptr, size, count, user in
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
        let n = size * count
        return transfer.body(UnsafeRawBufferPointer(start: ptr, count: n)) ? n : 0
    }

    static let readCallback: ccurl_io_cb = { ptr, size, count, user in
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
        guard let ptr else { return ccurl_readfunc_abort() }
        let buffer = UnsafeMutableRawBufferPointer(start: ptr, count: size * count)
        return transfer.read(into: buffer).map { $0 } ?? ccurl_readfunc_abort()
    }

    static let progressCallback: ccurl_xferinfo_cb = { user, _, _, _, _ in
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
        return transfer.cancel.isCancelled ? 1 : 0
    }
}

extension String {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex {
            let before = index(before: end)
            guard predicate(self[before]) else { break }
            end = before
        }
        return self[..<end]
    }
}
