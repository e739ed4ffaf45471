import ArgumentParser
import Common
import Drill
import DrillCommands
import Foundation
import Sandbox
import Testing

/// The one duration grammar across every flag and key that takes a duration: each accepts and refuses the
/// same texts (the issue that found `up --ttl 1.5h` refused while `run --keep-ttl 1.5h` was accepted).
@Suite struct DurationFlagsTests {
    static let accepted: [(String, Double)] = [
        ("90s", 90), ("1.5h", 5400), ("1h30m", 5400), ("30m", 1800), ("7d", 604_800), ("500ms", 0.5), ("45", 45), ("2w", 1_209_600), ("1m30s", 90),
    ]
    static let refused = ["", "-5s", "1.5.3h", "5x", "inf", "1e3", "h", "1h 30m", "0s", "0"]

    /// Every place a duration is read, as a function that returns the seconds it took from `text`, or throws.
    static let readers: [(String, @Sendable (String) throws -> Double)] = [
        ("up --ttl", { t in try flag(["up", "--ttl", t]) }),
        ("run --keep-ttl", { t in try flag(["run", "--keep-ttl", t]) }),
        ("run --random-within", { t in try flag(["run", "--random-within", t]) }),
        ("run --budget restore=", { t in
            _ = try AcpDrill.parseAsRoot(["run", "--budget", "restore=\(t)"])
            return try DrillBudgets().applying("restore=\(t)").restorePerDatabase
        }),
        ("healthcheck interval (stack file)", { t in
            let spec = try StackSpec.parse(yaml: """
                services:
                  db:
                    image: acp-drill/postgres:15
                    x-acp-drill-role: postgres
                    healthcheck:
                      test: pg_isready
                      interval: "\(t)"
                """)
            let d = try #require(spec.services.first?.healthcheck?.interval)
            guard d > .zero else { throw ValidationError("zero") }
            return d.inSeconds
        }),
        ("user check timeout (checks file)", { t in
            try #require(try UserCheck.parse(yaml: "checks: [{name: a, database: d, query: SELECT 1, expect: 1, timeout: \"\(t)\"}]").first).timeoutSeconds
        }),
    ]

    /// A flag that parses only if its duration is good; the seconds come from the grammar itself.
    static func flag(_ arguments: [String]) throws -> Double {
        _ = try AcpDrill.parseAsRoot(arguments)
        return try #require(DurationText.positiveSeconds(arguments[2]))
    }

    @Test(arguments: 0 ..< readers.count)
    func everyReaderAcceptsTheSameDurations(reader: Int) throws {
        let (name, read) = Self.readers[reader]
        for (text, seconds) in Self.accepted {
            let got = try read(text)
            #expect(abs(got - seconds) < 1e-9, "\(name) \(text): \(got)")
        }
    }

    @Test(arguments: 0 ..< readers.count)
    func everyReaderRefusesTheSameTexts(reader: Int) {
        let (name, read) = Self.readers[reader]
        for text in Self.refused {
            #expect(throws: (any Error).self, "\(name) accepted \"\(text)\"") { _ = try read(text) }
        }
    }
}
