import Common
import CurlHTTP
public import Foundation
import Synchronization

extension DockerClient {
    /// Maps to `GET /events?filters=…&since=…&until=…`: events as they happen (or, with `until`, the stored
    /// ones in the window, then the stream ends). Times are `seconds.nanoseconds` text: a whole-second
    /// `until` drops that second's events. Stop the stream by ending the iteration or cancelling the task.
    public func events(filters: DockerFilters = DockerFilters(), since: String? = nil, until: String? = nil)
        -> AsyncThrowingStream<DockerEvent, any Error>
    {
        var query = DockerQuery()
        if !filters.isEmpty { query["filters"] = filters.json }
        query["since"] = since
        query["until"] = until
        let request = HTTPRequest(.get, versioned("/events", query))
        return AsyncThrowingStream { continuation in
            let task = Task {
                let splitter = Mutex(JSONLineSplitter())
                let handle: @Sendable ([UInt8]) -> Void = { line in
                    if let event = try? JSONDecoder().decode(DockerEvent.self, from: Data(line)) {
                        continuation.yield(event)
                    }
                }
                do {
                    try await self.stream(request, describe: "GET /events") { chunk in
                        splitter.withLock { $0.feed(chunk, line: handle) }
                    }
                    splitter.withLock { $0.finish(line: handle) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error is CancellationError ? nil : error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// A timestamp for `events(since:until:)`: seconds with nanoseconds, as the daemon compares them.
    public static func eventTime(_ date: Date) -> String {
        String(format: "%.9f", date.timeIntervalSince1970)
    }
}
