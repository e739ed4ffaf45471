/// A manifest is read from the repository, so whoever can write there writes it: before a drill acts on
/// one, its keys and database names must be names, not paths. A database name becomes a file name in
/// the scratch folder and in the sandbox, an object key a path under the repository.
extension Manifest {
    /// Why this manifest must not be acted on (empty when it is safe).
    public func safetyProblems() -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for object in objects {
            if !Self.isPlainRelativePath(object.key) {
                problems.append("object key \(Self.visible(object.key)) is not a plain relative path")
            }
            if let db = object.database {
                if !Self.isSafeName(db) {
                    problems.append("database name \(Self.visible(db)) is not a PostgreSQL name (1-63 bytes, no '/', no control characters, not '.' or '..')")
                } else if object.kind == "dump" && !seen.insert(db).inserted {
                    problems.append("database \(db) has more than one dump")
                }
            }
        }
        return problems
    }

    /// 1 to 63 bytes (PostgreSQL's NAMEDATALEN), no slash, no control character, not `.` or `..`.
    public static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 63 && name != "." && name != ".."
            && !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.properties.generalCategory == .control }
    }

    /// Relative, no empty, `.` or `..` component, no backslash or control character.
    public static func isPlainRelativePath(_ key: String) -> Bool {
        guard !key.isEmpty, !key.hasPrefix("/") else { return false }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        return !parts.contains { $0.isEmpty || $0 == "." || $0 == ".." }
            && !key.unicodeScalars.contains { $0 == "\\" || $0.properties.generalCategory == .control }
    }

    /// A name as it can be shown in a message: control characters escaped.
    static func visible(_ text: String) -> String {
        "\"" + text.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined() + "\""
    }
}
