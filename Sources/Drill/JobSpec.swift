import Common
import Foundation

/// A job check from the drill config (`--checks FILE`): a program run as a one-off container on the
/// sandbox network once the data is restored and the app services are healthy — an attack scenario, an
/// app's smoke suite, a `curl` against an API. It passes when it exits as expected (0 by default) and, if
/// given, its output (stdout and stderr) matches a pattern.
///
/// ```yaml
/// checks:
///   - name: audit rows are append-only for the app's role
///     image: acp-drill/postgres:15          # must be on the engine: nothing is pulled
///     command: ["sh", "-c", "psql -c 'UPDATE audit_logs SET actor = actor'"]   # or one string, run by sh -c
///     environment: [APP_ROLE=acp_app]       # besides the stack's connection settings (PGHOST, PGPASSWORD, …)
///     timeout: 2m                           # default 5m; over it the check is timed_out
///     expect_exit: 1                        # default 0
///     expect_output: "permission denied"    # a regular expression (^ and $ match at each line), searched
///                                           # in the output's last 64 KiB
/// ```
public struct JobSpec: Sendable, Equatable {
    public var name: String
    public var image: String
    /// Empty: the image's own command.
    public var command: [String]
    public var environment: [String]
    public var user: String?
    public var timeoutSeconds: Double
    public var expectExit: Int
    public var expectOutput: String?

    public init(name: String, image: String, command: [String], environment: [String] = [], user: String? = nil,
                timeoutSeconds: Double = 300, expectExit: Int = 0, expectOutput: String? = nil) {
        self.name = name
        self.image = image
        self.command = command
        self.environment = environment
        self.user = user
        self.timeoutSeconds = timeoutSeconds
        self.expectExit = expectExit
        self.expectOutput = expectOutput
    }

    static let keys: Set<String> = ["name", "image", "command", "environment", "user", "timeout", "expect_exit", "expect_output"]

    /// One `checks:` entry that has an `image`; every problem names the check and the key.
    static func parse(_ c: [String: Any], name: String, at: String) throws(DrillError) -> JobSpec {
        if let unknown = c.keys.sorted().first(where: { !keys.contains($0) }) {
            throw DrillError(.configuration, "\(at) (\(name)): unknown key `\(unknown)` for a job (known: \(keys.sorted().joined(separator: ", ")))")
        }
        guard let image = c["image"] as? String, !image.isEmpty else { throw DrillError(.configuration, "\(at) (\(name)): `image` must be an image name") }
        var command: [String] = []
        switch c["command"] {
        case nil: break
        case let text as String: command = ["sh", "-c", text]
        case let list as [Any]: command = list.map { "\($0)" }
        default: throw DrillError(.configuration, "\(at) (\(name)): `command` must be a string (run by sh -c) or a list")
        }
        var environment: [String] = []
        switch c["environment"] {
        case nil: break
        case let list as [Any]: environment = list.map { "\($0)" }
        case let map as [String: Any]: environment = map.keys.sorted().map { "\($0)=\(map[$0].map { "\($0)" } ?? "")" }
        default: throw DrillError(.configuration, "\(at) (\(name)): `environment` must be a list of NAME=VALUE or a mapping")
        }
        if let bad = environment.first(where: { !$0.contains("=") || $0.hasPrefix("=") }) {
            throw DrillError(.configuration, "\(at) (\(name)): environment entry \(bad.debugDescription) is not NAME=VALUE")
        }
        var job = JobSpec(name: name, image: image, command: command, environment: environment, user: c["user"].map { "\($0)" })
        if let t = c["timeout"] {
            guard let s = DurationText.positiveSeconds("\(t)") else { throw DrillError(.configuration, "\(at) (\(name)): `timeout` must be a duration like 2m") }
            job.timeoutSeconds = s
        }
        if let e = c["expect_exit"] {
            guard let code = e as? Int ?? Int("\(e)"), (0 ... 255).contains(code) else {
                throw DrillError(.configuration, "\(at) (\(name)): `expect_exit` must be an exit code, 0–255")
            }
            job.expectExit = code
        }
        if let p = c["expect_output"] {
            let pattern = "\(p)"
            guard (try? NSRegularExpression(pattern: pattern, options: Self.patternOptions)) != nil else {
                throw DrillError(.configuration, "\(at) (\(name)): `expect_output` is not a regular expression: \(pattern)")
            }
            job.expectOutput = pattern
        }
        return job
    }

    /// Whether an exit code and the output's tail meet the expectation; the evidence says why.
    public func judge(exitCode: Int, output: String) -> (passed: Bool, evidence: String) {
        var problems: [String] = []
        if exitCode != expectExit { problems.append("exited \(exitCode), expected \(expectExit)") }
        if let expectOutput, let re = try? NSRegularExpression(pattern: expectOutput, options: Self.patternOptions),
           re.firstMatch(in: output, range: NSRange(output.startIndex..., in: output)) == nil {
            problems.append("its output does not match \(expectOutput.debugDescription)")
        }
        let tail = Self.tail(output)
        let said = tail.isEmpty ? "no output" : "output: \(tail)"
        if problems.isEmpty {
            return (true, "exited \(exitCode)" + (expectOutput.map { ", output matches \($0.debugDescription)" } ?? "") + "; \(said)")
        }
        return (false, problems.joined(separator: ", and ") + "; \(said)")
    }

    /// `^` and `$` match at every line's start and end.
    static let patternOptions: NSRegularExpression.Options = [.anchorsMatchLines]

    /// The last lines of an output, at most 600 characters, for evidence.
    static func tail(_ output: String) -> String {
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.count > 600 ? "…" + String(trimmed.suffix(600)) : trimmed
    }
}
