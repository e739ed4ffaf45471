public import Foundation

/// A file of JSON records, written either as one JSON array of them or as JSON lines (one record a line,
/// blank lines skipped): customer-archived roots, pinned transparency keys, trusted signing keys.
public enum JSONRecords {
    /// Why a file's records could not be read: `line` (1-based) is the line that is not a record, nil when
    /// the file is an array that does not decode; `reason` is the decoder's own text.
    public struct Failure: Error, Sendable {
        public var line: Int?
        public var reason: String
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(Failure) -> [T] {
        let decoder = JSONDecoder()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("[") {
            do { return try decoder.decode([T].self, from: Data(text.utf8)) } catch { throw Failure(line: nil, reason: "\(error)") }
        }
        var records: [T] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            do { records.append(try decoder.decode(T.self, from: Data(raw.utf8))) } catch { throw Failure(line: i + 1, reason: "\(error)") }
        }
        return records
    }
}
