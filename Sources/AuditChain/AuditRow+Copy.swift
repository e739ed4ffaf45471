public import Common

extension AuditRow {
    /// `audit_logs`' columns in the order `copyLine` writes them.
    public static let copyColumns = "id, tenant_id, occurred_at, actor, action, resource, payload, prev_hash, row_hash"

    /// The row as one line of PostgreSQL's COPY text format (no newline): text fields escaped, the time
    /// canonical, the hashes as bytea hex. The fixture's load, the audit writer and the receipts replay all
    /// write rows this way.
    public var copyLine: String {
        [String(id), CopyText.escape(tenantID), UTCTime.canonical(micros: occurredAt), CopyText.escape(actor), CopyText.escape(action),
         CopyText.escape(resource), CopyText.escape(payload), "\\\\x" + ChainHash.hex(prevHash), "\\\\x" + ChainHash.hex(rowHash)]
            .joined(separator: "\t")
    }
}
