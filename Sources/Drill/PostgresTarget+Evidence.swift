public import Evidence
import Foundation

/// A database's evidence, read the way the backup read it (`EvidenceQuery`), from the restored copy.
extension PostgresTarget {
    /// The catalog line (`EvidenceQuery.database`) and the counts line (`EvidenceQuery.counts`, whose
    /// generated statement runs next), with `search_path` pinned to `pg_catalog` and row security off.
    /// Over the direct connection when the host has one (three short connections, no exec: at a drill's
    /// eleven databases the execs' runc starts cost a core-second of the checks stage), else psql's
    /// `\gexec` through the backend.
    public func evidence(countedElsewhere tables: [String]) async throws -> (catalog: String, counts: String) {
        if directAddress != nil {
            let pinned = adding(sessionOptions: "-c search_path=pg_catalog -c row_security=off")
            async let catalog = pinned.query(EvidenceQuery.database)
            let generated = try await pinned.query(EvidenceQuery.counts(countedElsewhere: tables))
            guard let statement = generated.first?.first, generated.count == 1 else {
                throw QueryError(database: database, message: "the evidence's count generator printed \(generated.count) row(s), not 1")
            }
            let counts = try await pinned.query(statement)
            let lines = try await catalog
            guard lines.count == 1, counts.count == 1 else {
                throw QueryError(database: database, message: "the evidence query printed \(lines.count) and \(counts.count) line(s), not 1 each")
            }
            return (lines[0].joined(separator: "\t"), counts[0].joined(separator: "\t"))
        }
        let lines = try await script(EvidenceQuery.script(countedElsewhere: tables))
        guard lines.count == 2 else { throw QueryError(database: database, message: "the evidence query printed \(lines.count) line(s), not 2") }
        return (lines[0], lines[1])
    }
}
