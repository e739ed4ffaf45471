import CurlHTTP
import Foundation

/// The multipart upload calls (`putFile` and the streaming writer use them): each part is sent with
/// retries on its own, so a failed part costs its own bytes again, not the object's.
extension S3Client {
    /// `POST ?uploads`: the upload's id.
    func initiateMultipart(bucket: String, key: String, headers: [(String, String)]) throws -> String {
        let initiate = try send({ request(.post, path(bucket: bucket, key: key, query: [("uploads", "")]), headers: headers) }, describe: "initiate upload of \(key)")
        guard let uploadID = XMLValues.first("UploadId", in: initiate.body) else {
            throw RepositoryError(message: "initiate upload of \(key): no UploadId in the reply")
        }
        return uploadID
    }

    /// `PUT ?partNumber&uploadId`: one part, from a fresh source per attempt; returns its ETag.
    func uploadPart(bucket: String, key: String, uploadID: String, number: Int, length: Int64, source: () throws -> any HTTPBodySource) throws -> String {
        let r = try send({
            try request(.put, path(bucket: bucket, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)]),
                        body: .stream(length: length, source: try source()))
        }, describe: "upload part \(number) of \(key)")
        guard let etag = r.head.header("ETag") else { throw RepositoryError(message: "upload part \(number) of \(key): no ETag") }
        return etag
    }

    /// `POST ?uploadId` with the parts' ETags; a 200 that carries an error (S3 may answer so) is one.
    func completeMultipart(bucket: String, key: String, uploadID: String, etags: [String]) throws {
        let xml = "<CompleteMultipartUpload>" + etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }.joined() + "</CompleteMultipartUpload>"
        let done = try send({ request(.post, path(bucket: bucket, key: key, query: [("uploadId", uploadID)]), body: .bytes(Array(xml.utf8)),
                                      headers: [("Content-Type", "application/xml")]) }, describe: "complete upload of \(key)")
        if let message = XMLValues.first("Message", in: done.body), XMLValues.first("Code", in: done.body) != nil {
            throw RepositoryError(message: "complete upload of \(key): \(message)")
        }
    }

    /// `DELETE ?uploadId`, best effort: no orphan parts stay billed.
    func abortMultipart(bucket: String, key: String, uploadID: String) {
        _ = try? send({ request(.delete, path(bucket: bucket, key: key, query: [("uploadId", uploadID)])) }, describe: "abort upload of \(key)")
    }

    /// `GET ?uploads`: the keys of multipart uploads begun and neither completed nor aborted.
    func listMultipartUploads(bucket: String) throws -> [String] {
        let r = try send({ request(.get, path(bucket: bucket, key: nil, query: [("uploads", "")])) }, describe: "list uploads of \(bucket)")
        return XMLValues.parse(r.body).filter { $0.path.suffix(2) == ["Upload", "Key"] }.map(\.text)
    }
}
