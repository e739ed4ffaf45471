import Foundation

/// A query string for an Engine API call, percent-encoded in code (never left to the transport).
public struct DockerQuery: Sendable, ExpressibleByDictionaryLiteral {
    public private(set) var items: [(name: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String?)...) {
        for (name, value) in elements { self[name] = value }
    }

    /// Sets (or removes, with nil) one parameter; a repeated name (`changes`) is added with `append`.
    public subscript(name: String) -> String? {
        get { items.first { $0.name == name }?.value }
        set {
            items.removeAll { $0.name == name }
            if let newValue { items.append((name, newValue)) }
        }
    }

    public mutating func append(_ name: String, _ value: String) { items.append((name, value)) }

    /// `?a=1&b=x%20y`, or empty.
    public var encoded: String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(Self.escape($0.name))=\(Self.escape($0.value))" }.joined(separator: "&")
    }

    /// RFC 3986 unreserved characters stay; everything else (`{ } " : [ ] = , / + space`) is escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A") ... UInt8(ascii: "Z"), UInt8(ascii: "a") ... UInt8(ascii: "z"),
                UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

/// The `filters` parameter of list and event calls: a JSON map of string arrays, e.g.
/// `{"label":["dev.acp-drill.project=x"],"status":["exited"]}`. Several values of one key are ANDed for
/// labels and ORed for most others, as the daemon defines.
public struct DockerFilters: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var values: [String: [String]] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, [String])...) {
        for (key, list) in elements { values[key, default: []] += list }
    }

    public mutating func add(_ key: String, _ value: String) { values[key, default: []].append(value) }

    /// A filter on one label: `key` alone matches any value.
    public static func label(_ key: String, _ value: String? = nil) -> DockerFilters {
        ["label": [value.map { "\(key)=\($0)" } ?? key]]
    }

    public var isEmpty: Bool { values.isEmpty }

    /// The JSON text, with keys sorted so the same filters always encode the same way.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(values)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
