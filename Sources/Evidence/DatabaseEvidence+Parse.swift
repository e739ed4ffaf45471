import Foundation

/// An evidence query's answer that is not what it should be.
public struct EvidenceError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension DatabaseEvidence {
    /// Reads `EvidenceQuery.database`'s answer.
    public static func parse(_ json: String) throws -> DatabaseEvidence {
        struct Raw: Decodable {
            var rows: [String: Int64]
            var sequences: [String: Int64?]
            var schema: [String: String]
            var grants: [String: String?]
            var database: Properties
            var largeObjects: Int64
        }
        let raw: Raw
        do { raw = try JSONDecoder().decode(Raw.self, from: Data(json.utf8)) } catch {
            throw EvidenceError("the evidence query answered something unreadable (\(json.utf8.count) bytes): \(error)")
        }
        return DatabaseEvidence(rows: raw.rows, sequences: raw.sequences.compactMapValues { $0 }, schema: raw.schema,
                                grants: raw.grants.mapValues { $0 ?? "none" }, database: raw.database, largeObjects: raw.largeObjects)
    }

    /// Reads `EvidenceQuery.database`'s answer and the row counts `EvidenceQuery.counts` printed.
    public static func parse(_ json: String, counts: String) throws -> DatabaseEvidence {
        var evidence = try parse(json)
        do { evidence.rows = try JSONDecoder().decode([String: Int64].self, from: Data(counts.utf8)) } catch {
            throw EvidenceError("the row counts answered something unreadable (\(counts.utf8.count) bytes): \(error)")
        }
        return evidence
    }

    /// Reads `EvidenceQuery.sequences`'s answer.
    public static func parseSequences(_ json: String) throws -> [String: Int64] {
        struct Raw: Decodable { var sequences: [String: Int64?] }
        do { return try JSONDecoder().decode(Raw.self, from: Data(json.utf8)).sequences.compactMapValues { $0 } } catch {
            throw EvidenceError("the sequences query answered something unreadable: \(error)")
        }
    }
}

extension RoleEvidence {
    /// Reads `EvidenceQuery.roles`'s answer.
    public static func parseList(_ json: String) throws -> [RoleEvidence] {
        do { return try JSONDecoder().decode([RoleEvidence].self, from: Data(json.utf8)) } catch {
            throw EvidenceError("the roles query answered something unreadable: \(error)")
        }
    }
}

/// The server's facts (`EvidenceQuery.server`).
public struct ServerFacts: Decodable, Sendable {
    public var version: String
    public var databases: [String]
    public var roles: [RoleEvidence]

    public static func parse(_ json: String) throws -> ServerFacts {
        do { return try JSONDecoder().decode(ServerFacts.self, from: Data(json.utf8)) } catch {
            throw EvidenceError("the server query answered something unreadable: \(error)")
        }
    }
}
