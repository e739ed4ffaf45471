import Common

extension CheckRegistry {
    /// The registry as the report schema doc's table (docs/report-schema.md holds exactly this text
    /// between its `checks:begin` and `checks:end` markers; a test keeps the two equal).
    public static var markdownTable: String {
        var lines = ["| check | kind | needs | a pass means |", "| --- | --- | --- | --- |"]
        for d in all {
            let needs = d.needs.isEmpty ? "—" : d.needs.map(\.description).joined(separator: "; ")
            lines.append("| `\(d.name)` | \(d.kind.rawValue) | \(needs) | \(d.summary) |")
        }
        return lines.joined(separator: "\n")
    }

    /// The registry as `--help` lists it: one name and one line each.
    public static var helpText: String {
        let width = all.map(\.name.count).max() ?? 0
        return all.map { d in
            "  " + d.name + String(repeating: " ", count: max(1, width - d.name.count + 2)) + "(\(d.kind.rawValue)) \(d.summary)"
        }.joined(separator: "\n")
    }
}
