/// What a failed `pg_restore --exit-on-error` said, and the runbook's fix for it.
enum PgRestoreFailure {
    /// pg_restore's error, the TOC entry and the statement that failed, and the runbook's fix for it.
    static func parse(_ stderr: String) -> (evidence: String, fix: String) {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let error = lines.first { $0.contains("ERROR:") || $0.contains("error:") } ?? lines.last ?? "pg_restore failed"
        let toc = lines.first { $0.contains("from TOC entry") }
        var command: String?
        if let i = stderr.range(of: "Command was: ") {
            command = String(stderr[i.upperBound...].prefix(600)).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let detail = lines.first { $0.hasPrefix("DETAIL:") }
        var text = error
        if let detail { text += " \(detail)" }
        if let toc { text += "; \(toc)" }
        if let command { text += "; failing statement: \(command)" }
        let fix: String
        if error.contains("foreign key") || (command ?? "").contains("FOREIGN KEY") {
            fix = "pg_restore restores parents first and adds foreign keys after all the data, so rows in the dump violate the constraint: orphaned rows in production, or a partial dump (--table/--exclude-table). Fix the data at the source and take a new backup"
        } else if error.contains("permission denied") || error.contains("must be superuser") || error.contains("must be owner")
                    || error.contains("external program") || error.contains("privileges of the") {
            fix = "the dump needs a superuser to restore (an untrusted extension or language, a C function, an event trigger), or its code tried what only a superuser may (COPY … FROM PROGRAM, server files): each database is restored as a role of its own without superuser, so a dump's code can neither run programs nor reach another database. Investigate the named object before trusting this backup"
        } else if error.contains("role") && error.contains("does not exist") {
            fix = "the dump refers to a role the sandbox lacks: the drill restores with --no-owner --no-privileges; check for roles named in functions or policies"
        } else if error.contains("extension") || error.contains("could not open extension control file") {
            fix = "the sandbox's Postgres lacks an extension the database uses: add it to the drill image (compose/drill.yml)"
        } else {
            fix = "keep the sandbox (--keep) and rerun the failing statement by hand: acp-drill exec PROJECT postgres -- psql"
        }
        return (text, fix)
    }
}
