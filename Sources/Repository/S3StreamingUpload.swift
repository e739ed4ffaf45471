import CurlHTTP
import Foundation
import Synchronization

/// An object streamed to S3 while it is written (a backup's `pg_dump | age`): bytes fill a part in memory;
/// a full part is uploaded on a thread of its own while the next one fills (so pg_dump keeps running), and
/// the writer waits only when both parts are full. An object smaller than one part is one PUT on
/// `commit()`; a larger one a multipart upload, completed on `commit()` and aborted on any failure or
/// `abort()`, so nothing is visible under the key until it is whole. Nothing touches the disk, and a
/// retried part is re-sent from its buffer.
///
/// Memory: one part buffer per writer (5 MiB, the S3 minimum, doubling every 2,000 parts so that 10,000
/// parts reach 310 GiB), and a second one for the writer that holds the process's one spare-part token
/// (`spareParts`): the others upload their full part before they fill it again. So N concurrent dumps hold
/// N + 1 parts, not 2N. Buffers are mapped for their writer alone and unmapped when it ends, so the resident
/// set keeps no freed part in malloc's per-thread arenas (81 MiB measured that way for two dumps).
final class S3StreamingUpload: ObjectWriter, @unchecked Sendable {
    let client: S3Client
    let bucket: String
    let key: String
    let headers: [(String, String)]
    let basePartSize: Int

    private var filling: PartBuffer
    private var spare: PartBuffer?
    private var uploadID: String?
    private var etags: [String] = []
    private var inFlight: (buffer: PartBuffer, done: DispatchSemaphore, result: ResultBox)?
    private var finished = false
    /// Whether this writer holds a spare-part token (returned when it ends).
    private var holdsSpare = false

    /// Second buffers the whole process may hold at once (one: two dumps at a time then hold three parts).
    static let spareParts = DispatchSemaphore(value: 1)

    init(client: S3Client, bucket: String, key: String, headers: [(String, String)], partSize: Int = 5 << 20) {
        self.client = client
        self.bucket = bucket
        self.key = key
        self.headers = headers
        basePartSize = max(5 << 20, partSize)
        filling = PartBuffer(capacity: basePartSize)
    }

    /// The size of part `number` (1-based).
    static func partSize(_ number: Int, base: Int) -> Int { base << min(4, (number - 1) / 2000) }

    /// The number of the part being filled.
    private var fillingNumber: Int { etags.count + (inFlight == nil ? 1 : 2) }

    func write(_ data: Data) throws {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var at = 0
            while at < bytes.count {
                let size = Self.partSize(fillingNumber, base: basePartSize)
                if filling.capacity < size { filling = PartBuffer(capacity: size) }
                let n = min(size - filling.count, bytes.count - at)
                filling.append(UnsafeRawBufferPointer(rebasing: bytes[at ..< at + n]))
                at += n
                if filling.count >= size { try sendFullPart() }
            }
        }
    }

    /// Hands the full buffer to a thread of its own, once the part before it is in, and fills a second
    /// buffer meanwhile; without a spare-part token, uploads it here and fills it again.
    private func sendFullPart() throws {
        let freed = try awaitInFlight()
        if uploadID == nil { uploadID = try client.initiateMultipart(bucket: bucket, key: key, headers: headers) }
        if freed == nil && spare == nil && !holdsSpare {
            holdsSpare = Self.spareParts.wait(timeout: .now()) == .success
        }
        guard holdsSpare else {
            let part = filling
            etags.append(try client.uploadPart(bucket: bucket, key: key, uploadID: uploadID!, number: etags.count + 1, length: Int64(part.count)) { part.source() })
            filling.count = 0
            return
        }
        let part = filling
        filling = freed ?? spare ?? PartBuffer(capacity: Self.partSize(fillingNumber + 1, base: basePartSize))
        spare = nil
        filling.count = 0
        let (client, bucket, key, id, number) = (client, bucket, key, uploadID!, etags.count + 1)
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        let thread = Thread {
            result.value = Result {
                try client.uploadPart(bucket: bucket, key: key, uploadID: id, number: number, length: Int64(part.count)) { part.source() }
            }
            done.signal()
        }
        thread.name = "s3-part"
        thread.stackSize = 1 << 20
        inFlight = (part, done, result)
        thread.start()
    }

    /// Waits for the part in flight; returns its buffer, free again.
    @discardableResult
    private func awaitInFlight() throws -> PartBuffer? {
        guard let flight = inFlight else { return nil }
        flight.done.wait()
        inFlight = nil
        spare = flight.buffer
        switch flight.result.value {
        case .success(let etag)?: etags.append(etag)
        case .failure(let error)?: throw error
        case nil: throw RepositoryError(message: "upload part \(etags.count + 1) of \(key): no result")
        }
        spare = nil
        return flight.buffer
    }

    func commit() throws {
        guard !finished else { return }
        do {
            try awaitInFlight()
            if let id = uploadID {
                if filling.count > 0 {
                    let last = filling
                    etags.append(try client.uploadPart(bucket: bucket, key: key, uploadID: id, number: etags.count + 1, length: Int64(last.count)) { last.source() })
                }
                try client.completeMultipart(bucket: bucket, key: key, uploadID: id, etags: etags)
            } else {
                try client.putData(bucket: bucket, key: key, data: filling.bytes(), headers: headers)
            }
            finished = true
            releaseSpare()
        } catch {
            abort()
            throw error
        }
    }

    func abort() {
        guard !finished else { return }
        finished = true
        if let flight = inFlight { flight.done.wait(); inFlight = nil }
        if let id = uploadID { client.abortMultipart(bucket: bucket, key: key, uploadID: id) }
        releaseSpare()
    }

    private func releaseSpare() {
        spare = nil
        if holdsSpare { holdsSpare = false; Self.spareParts.signal() }
    }

    deinit { releaseSpare() }

    final class ResultBox: @unchecked Sendable { var value: Result<String, any Error>? }
}

/// One part's bytes, in pages of its own (`mmap`): unmapped, and so given back, when the part is dropped.
final class PartBuffer: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        guard let p = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            fatalError("cannot map \(capacity) bytes for an upload part")
        }
        base = p
    }

    deinit { munmap(base, capacity) }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        (base + count).copyMemory(from: src, byteCount: bytes.count)
        count += bytes.count
    }

    /// A fresh reader of the part (each attempt of an upload starts from its first byte).
    func source() -> any HTTPBodySource { PartSource(buffer: self) }

    /// A copy of the bytes (a small object's one PUT).
    func bytes() -> [UInt8] { Array(UnsafeRawBufferPointer(start: base, count: count)) }

    final class PartSource: HTTPBodySource, @unchecked Sendable {
        let buffer: PartBuffer
        private let offset = Mutex(0)
        init(buffer: PartBuffer) { self.buffer = buffer }

        func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
            offset.withLock { at in
                let n = min(out.count, buffer.count - at)
                guard n > 0, let dst = out.baseAddress else { return 0 }
                dst.copyMemory(from: buffer.base + at, byteCount: n)
                at += n
                return n
            }
        }
    }
}
