/// Bounded concurrency over a list: the backup's dumps, the drill's downloads, decrypts, restores and counts.
public enum Concurrently {
    /// Runs `body` for each item with at most `limit` at once; cancellation stops new items.
    public static func forEach<T: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0 ..< min(max(1, limit), items.count) {
                let item = items[next]; next += 1
                group.addTask { try await body(item) }
            }
            while try await group.next() != nil {
                try Task.checkCancellation()
                if next < items.count {
                    let item = items[next]; next += 1
                    group.addTask { try await body(item) }
                }
            }
        }
    }
}
