import Yams
/// The drill config (`--checks FILE`): a `checks:` list whose entries are SQL checks (`query`) or job
/// checks (`image`). Names are unique across both.
public struct ChecksFile: Sendable, Equatable {
    public var sql: [UserCheck]
    public var jobs: [JobSpec]

    public init(sql: [UserCheck] = [], jobs: [JobSpec] = []) {
        self.sql = sql
        self.jobs = jobs
    }

    public static func parse(yaml text: String, file: String = "checks") throws(DrillError) -> ChecksFile {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw DrillError(.configuration, "\(file): not valid YAML: \(error)") }
        guard let map = root as? [String: Any], let list = map["checks"] as? [Any] else {
            throw DrillError(.configuration, "\(file): expected a top-level `checks:` list")
        }
        var out = ChecksFile(sql: [], jobs: [])
        var names: Set<String> = []
        for (i, item) in list.enumerated() {
            let at = "\(file): checks[\(i)]"
            guard let c = item as? [String: Any] else { throw DrillError(.configuration, "\(at): expected a mapping") }
            guard let name = c["name"].map({ "\($0)" }), !name.isEmpty else { throw DrillError(.configuration, "\(at): `name` is required") }
            guard names.insert(name).inserted else { throw DrillError(.configuration, "\(at): a check named \"\(name)\" already exists") }
            if c["image"] != nil {
                guard c["query"] == nil else { throw DrillError(.configuration, "\(at) (\(name)): give `query` (an SQL check) or `image` (a job), not both") }
                out.jobs.append(try JobSpec.parse(c, name: name, at: at))
            } else {
                out.sql.append(try UserCheck.parse(c, name: name, at: at))
            }
        }
        return out
    }
}
