/// One audit row's receipt, as the audit service mirrors it right after the row is written (docs/RECEIPTS.md):
/// every field the chain hashes, `prev_hash`, `row_hash` and the id. A receipt is verifiable on its own (its
/// `row_hash` recomputes from its fields) and as a link (its `prev_hash` is the previous row's `row_hash`).
///
/// The format is one JSON object per line, version `acp-audit-receipt-v1`:
///
///     {"receipt":"acp-audit-receipt-v1","id":12451,"tenant_id":"…","occurred_at":"2026-05-16T10:00:00.123456Z",
///      "actor":"…","action":"…","resource":"…","payload":"{\"tool\": \"search\", …}","prev_hash":"<64 hex>","row_hash":"<64 hex>"}
///
/// `payload` is PostgreSQL's own `jsonb` text output, carried as a string so that it hashes byte for byte.
public struct Receipt: Sendable, Equatable {
    /// The format's name and version, the first field of every receipt.
    public static let version = "acp-audit-receipt-v1"

    public var row: AuditRow

    public init(row: AuditRow) { self.row = row }

    public var id: Int64 { row.id }

    /// The receipt as one line of JSON, `\n` included. Fields in a fixed order; the text fields escaped as
    /// RFC 8259 requires (quote, backslash, control characters), everything else verbatim UTF-8.
    public func line() -> String {
        var out = "{\"receipt\":\"\(Self.version)\",\"id\":\(row.id),\"tenant_id\":"
        Self.appendString(row.tenantID, to: &out)
        out += ",\"occurred_at\":\"\(UTCTime.canonical(micros: row.occurredAt))\",\"actor\":"
        Self.appendString(row.actor, to: &out)
        out += ",\"action\":"
        Self.appendString(row.action, to: &out)
        out += ",\"resource\":"
        Self.appendString(row.resource, to: &out)
        out += ",\"payload\":"
        Self.appendString(row.payload, to: &out)
        out += ",\"prev_hash\":\"\(ChainHash.hex(row.prevHash))\",\"row_hash\":\"\(ChainHash.hex(row.rowHash))\"}\n"
        return out
    }

    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = Array("0123456789abcdef")
                out += "\\u00" + String(hex[Int(scalar.value >> 4)]) + String(hex[Int(scalar.value & 15)])
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// Whether the receipt's `row_hash` recomputes from its fields and `prev_hash`.
    public var recomputes: Bool { ChainHash.rowHash(of: row) == row.rowHash }
}

/// A receipt that could not be read, with what is wrong in it.
public struct ReceiptParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
