import Foundation

/// An object streamed to S3 while it is written (a backup's `pg_dump | age`): bytes fill a part in memory;
/// a full part is uploaded on a thread of its own while the next one fills (so pg_dump keeps running), and
/// the writer waits only when both parts are full. An object smaller than one part is one PUT on
/// `commit()`; a larger one a multipart upload, completed on `commit()` and aborted on any failure or
/// `abort()`, so nothing is visible under the key until it is whole. Nothing touches the disk, and a
/// retried part is re-sent from memory. Memory: two parts (5 MiB each, the S3 minimum, doubling every
/// 2,000 parts so that 10,000 parts reach 310 GiB).
final class S3StreamingUpload: ObjectWriter, @unchecked Sendable {
    let client: S3Client
    let bucket: String
    let key: String
    let headers: [(String, String)]
    let basePartSize: Int

    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var etags: [String] = []
    private var inFlight: (thread: Thread, done: DispatchSemaphore, result: ResultBox)?
    private var finished = false

    init(client: S3Client, bucket: String, key: String, headers: [(String, String)], partSize: Int = 5 << 20) {
        self.client = client
        self.bucket = bucket
        self.key = key
        self.headers = headers
        basePartSize = max(5 << 20, partSize)
        buffer.reserveCapacity(basePartSize)
    }

    /// The size of part `number` (1-based).
    static func partSize(_ number: Int, base: Int) -> Int { base << min(4, (number - 1) / 2000) }

    func write(_ data: Data) throws {
        var rest = data[...]
        while !rest.isEmpty {
            let size = Self.partSize(etags.count + (inFlight == nil ? 1 : 2), base: basePartSize)
            let room = size - buffer.count
            buffer.append(contentsOf: rest.prefix(room))
            rest = rest.dropFirst(room)
            if buffer.count >= size { try sendFullPart() }
        }
    }

    /// Hands the full buffer to a thread of its own, once the part before it is in.
    private func sendFullPart() throws {
        try awaitInFlight()
        if uploadID == nil { uploadID = try client.initiateMultipart(bucket: bucket, key: key, headers: headers) }
        let part = buffer
        buffer = []
        buffer.reserveCapacity(Self.partSize(etags.count + 2, base: basePartSize))
        let (client, bucket, key, id, number) = (client, bucket, key, uploadID!, etags.count + 1)
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        let thread = Thread {
            result.value = Result { try client.uploadPart(bucket: bucket, key: key, uploadID: id, number: number, bytes: part) }
            done.signal()
        }
        thread.name = "s3-part"
        thread.stackSize = 1 << 20
        inFlight = (thread, done, result)
        thread.start()
    }

    private func awaitInFlight() throws {
        guard let flight = inFlight else { return }
        flight.done.wait()
        inFlight = nil
        switch flight.result.value {
        case .success(let etag)?: etags.append(etag)
        case .failure(let error)?: throw error
        case nil: throw RepositoryError(message: "upload part \(etags.count + 1) of \(key): no result")
        }
    }

    func commit() throws {
        guard !finished else { return }
        do {
            try awaitInFlight()
            if let id = uploadID {
                if !buffer.isEmpty { etags.append(try client.uploadPart(bucket: bucket, key: key, uploadID: id, number: etags.count + 1, bytes: buffer)) }
                try client.completeMultipart(bucket: bucket, key: key, uploadID: id, etags: etags)
            } else {
                try client.putData(bucket: bucket, key: key, data: buffer, headers: headers)
            }
            finished = true
            buffer = []
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
        buffer = []
    }

    final class ResultBox: @unchecked Sendable { var value: Result<String, any Error>? }
}
