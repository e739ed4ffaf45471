import Common

/// `archive.<db>`: the dump the manifest files under a database is a dump of that database, by its own
/// archive header (`pg_restore --list`: `dbname:`). Whoever can write the repository can swap two objects
/// and rewrite the manifest's checksums to match; the header, written by pg_dump, still names the source.
struct ArchiveIdentityCheck: DrillCheck {
    static let fix = "the objects of the set were swapped or relabelled after the backup: treat the repository as tampered with, and drill an older set with --backup TS"

    let descriptor = CheckDescriptor("archive.<db>", kind: .core, needs: [.restoredDatabases],
                                     "the dump's own archive header (dbname) names the database the manifest files it under")

    func run(_ context: CheckContext) async throws -> [CheckResult] {
        context.databaseRecords.compactMap { record in
            // A table of contents that could not be read has failed list.<db> already.
            guard let source = record.archiveDatabase else { return nil }
            let name = "archive.\(record.name)"
            guard source == record.name else {
                return .failed(name, "the manifest files this object under \(record.name), but the dump inside it was taken from database \(source)", fix: Self.fix)
            }
            return .passed(name, "the archive header names \(source), as the manifest does")
        }
    }
}
