import Common
import Testing

/// The one duration grammar, as a table: every flag, variable and stack-file key that takes a duration
/// reads it through `DurationText` (the flags' own table is in DrillCommandsTests).
@Suite struct DurationTextTests {
    @Test(arguments: [
        ("90s", 90.0), ("1.5h", 5400), ("1h30m", 5400), ("30m", 1800), ("24h", 86400), ("7d", 604_800), ("2w", 1_209_600),
        ("500ms", 0.5), ("250us", 0.00025), ("1m30s", 90), ("1.5m", 90), ("45", 45), ("2.5", 2.5), (" 10s ", 10), ("10S", 10),
        ("0s", 0), ("0", 0), (".5s", 0.5), ("1.s", 1), ("1h0.5m", 3630),
    ])
    func accepted(text: String, seconds: Double) {
        #expect(DurationText.seconds(text) == seconds)
        #expect(DurationText.parse(text).map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } == seconds)
    }

    @Test(arguments: ["", " ", "s", "h1", "-5s", "+5s", "1.5.3s", "1x", "5 s", "1h 30m", "inf", "nan", "1e3", "1e3s", "30s5", "m30", ".", ".s", "1,5h"])
    func refused(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test func positive() {
        #expect(DurationText.positiveSeconds("0s") == nil)
        #expect(DurationText.positiveSeconds("0") == nil)
        #expect(DurationText.positiveSeconds("1ms") == 0.001)
    }
}

@Suite struct BackoffTests {
    @Test(arguments: [(1, 0.2), (2, 0.6), (3, 1.8), (4, 5.0), (9, 5.0)])
    func ceilings(attempt: Int, ceiling: Double) {
        let b = Backoff(attempts: 5, base: 0.2, cap: 5)
        #expect(abs(b.ceiling(after: attempt) - ceiling) < 1e-9)
    }

    @Test func jitterStaysUnderTheCeiling() {
        let b = Backoff(attempts: 5, base: 0.2, cap: 5)
        var rng = SystemRandomNumberGenerator()
        for attempt in 1 ... 6 {
            for _ in 0 ..< 200 {
                let d = b.delay(after: attempt, using: &rng)
                #expect(d >= 0 && d <= b.ceiling(after: attempt))
            }
        }
    }

    struct Flaky: Error { var n: Int }
    struct Fatal: Error {}

    @Test func retriesThenSucceeds() throws {
        var slept: [Double] = []
        var retried: [Int] = []
        let value = try Backoff(attempts: 4).run({ attempt in
            if attempt < 3 { throw Flaky(n: attempt) }
            return attempt
        }, classify: { .retry($0) }, onRetry: { a, _ in retried.append(a) }, sleep: { slept.append($0) })
        #expect(value == 3)
        #expect(retried == [1, 2])
        #expect(slept.count == 2)
    }

    @Test func stopsAtTheLastAttemptWithItsError() {
        var calls = 0
        #expect(throws: Flaky.self) {
            try Backoff(attempts: 3).run({ attempt -> Int in
                calls += 1
                throw Flaky(n: attempt)
            }, classify: { .retry($0) }, sleep: { _ in })
        }
        #expect(calls == 3)
    }

    @Test func aFatalErrorIsNotRetried() {
        var calls = 0
        #expect(throws: Fatal.self) {
            try Backoff(attempts: 5).run({ _ -> Int in
                calls += 1
                throw Fatal()
            }, classify: { .fail($0) }, sleep: { _ in })
        }
        #expect(calls == 1)
    }
}
