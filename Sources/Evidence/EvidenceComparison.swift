/// Source evidence against what the restored copy holds (docs/EVIDENCE.md). Each function returns the
/// differences, one line each, naming the object and both values (restored first); none is a match.
public enum EvidenceComparison {
    /// Row counts: every table of the source, exact. `beyond` adds rows the drill itself put on top of the
    /// dump (replayed receipts), by table.
    public static func rows(source: [String: Int64], restored: [String: Int64], beyond: [String: Int64] = [:]) -> [String] {
        var out: [String] = []
        for table in source.keys.sorted() {
            let expected = source[table]! + (beyond[table] ?? 0)
            guard let got = restored[table] else {
                out.append("\(table): \(source[table]!) rows in the source, the table is not restored")
                continue
            }
            if got != expected {
                let extra = beyond[table].map { " + \($0) replayed" } ?? ""
                out.append("\(table): \(got) rows restored, \(source[table]!)\(extra) in the source (\(got < expected ? "\(expected - got) missing" : "\(got - expected) more"))")
            }
        }
        for table in restored.keys.sorted() where source[table] == nil {
            out.append("\(table): \(restored[table]!) rows restored, the table is not in the source's evidence")
        }
        return out
    }

    /// The schema fingerprint, the sequences (restored at least as far as the evidence read them), the
    /// large objects' count and the database's encoding, locale and settings.
    public static func schema(source: DatabaseEvidence, restored: DatabaseEvidence) -> [String] {
        var out = entries(source.schema, restored.schema)
        for (name, value) in source.sequences.sorted(by: { $0.key < $1.key }) {
            guard let got = restored.sequences[name] else {
                out.append("sequence \(name): last value \(value) in the source, none restored")
                continue
            }
            if got < value { out.append("sequence \(name): restored at \(got), the source had reached \(value) (new rows would reuse ids)") }
        }
        if source.largeObjects != restored.largeObjects {
            out.append("large objects: \(restored.largeObjects) restored, \(source.largeObjects) in the source")
        }
        let (s, r) = (source.database, restored.database)
        if s.encoding != r.encoding { out.append("database encoding: restored \(r.encoding), source \(s.encoding)") }
        if s.collate != r.collate { out.append("database LC_COLLATE: restored \(r.collate), source \(s.collate)") }
        if s.ctype != r.ctype { out.append("database LC_CTYPE: restored \(r.ctype), source \(s.ctype)") }
        out += entries(s.settings, r.settings).map { "database settings for role " + $0 }
        return out
    }

    /// Owners and ACLs.
    public static func grants(source: DatabaseEvidence, restored: DatabaseEvidence) -> [String] {
        entries(source.grants, restored.grants)
    }

    /// Every role of the source exists in the restored server, with its attributes and memberships.
    public static func roles(source: [RoleEvidence], restored: [RoleEvidence]) -> [String] {
        let byName = Dictionary(restored.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [String] = []
        for role in source.sorted(by: { $0.name < $1.name }) {
            guard let got = byName[role.name] else {
                out.append("role \(role.name): in the source, not restored")
                continue
            }
            if got.attributes != role.attributes {
                out.append("role \(role.name): restored with attributes [\(got.attributes)], source [\(role.attributes)]")
            }
            let missing = Set(role.memberOf).subtracting(got.memberOf).sorted()
            let extra = Set(got.memberOf).subtracting(role.memberOf).sorted()
            if !missing.isEmpty { out.append("role \(role.name): not a member of \(missing.joined(separator: ", ")) as in the source") }
            if !extra.isEmpty { out.append("role \(role.name): a member of \(extra.joined(separator: ", ")), which it is not in the source") }
        }
        return out
    }

    /// Key-by-key differences of two fingerprints.
    static func entries(_ source: [String: String], _ restored: [String: String]) -> [String] {
        var out: [String] = []
        for key in Set(source.keys).union(restored.keys).sorted() {
            switch (source[key], restored[key]) {
            case let (s?, nil): out.append("\(key): in the source (\(s)), not restored")
            case let (nil, r?): out.append("\(key): restored (\(r)), not in the source")
            case let (s?, r?) where s != r: out.append("\(key): restored \(r), source \(s)")
            default: break
            }
        }
        return out
    }

    /// Differences folded into one evidence line: the first `limit`, then how many more.
    public static func summary(_ differences: [String], limit: Int = 5) -> String {
        let shown = differences.prefix(limit).joined(separator: "; ")
        return differences.count > limit ? "\(shown); and \(differences.count - limit) more" : shown
    }
}
