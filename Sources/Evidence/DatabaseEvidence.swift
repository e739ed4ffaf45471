/// What one database held in the snapshot its dump was taken from (docs/EVIDENCE.md): recorded by the
/// backup in the manifest, and read again from the restored copy by the drill, with the same query
/// (`EvidenceQuery.database`), so that the two compare key by key.
public struct DatabaseEvidence: Codable, Sendable, Equatable {
    /// The exact row count of every ordinary table (each partition on its own) and every populated
    /// materialized view, by `schema.table` (identifiers quoted as PostgreSQL quotes them).
    public var rows: [String: Int64]
    /// Each sequence's last value as the evidence read it (before `pg_dump` read its own: a restored
    /// sequence is at least this far on). A sequence never used has none.
    public var sequences: [String: Int64]
    /// The schema fingerprint: one entry per object (`table sales.orders`, `column sales.orders.id`,
    /// `index …`, `constraint …`, `trigger …`, `policy …`, `function …`, `type …`, `extension …`), its
    /// definition (or the MD5 of a long one) as the value.
    public var schema: [String: String]
    /// Owners and ACLs: `table sales.orders` → `owner app; app=arwdDxt/app ro=r/app` (ACL items sorted,
    /// a default ACL spelled out), column ACLs, default privileges, large objects by owner and ACL, and
    /// the database itself (`database`).
    public var grants: [String: String]
    /// Encoding, locale and `ALTER DATABASE … SET` settings.
    public var database: Properties
    /// `pg_largeobject_metadata`'s count.
    public var largeObjects: Int64
    /// When the dump's snapshot was taken (UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`); recorded by the backup,
    /// so that checks across databases dumped at different moments know each one's moment.
    public var snapshotAt: String?

    /// A database's own properties.
    public struct Properties: Codable, Sendable, Equatable {
        public var encoding: String
        public var collate: String
        public var ctype: String
        /// `*` for the database's own settings, a role's name for `ALTER ROLE … IN DATABASE … SET`;
        /// the value lists `name=value` sorted, space-separated.
        public var settings: [String: String]

        public init(encoding: String, collate: String, ctype: String, settings: [String: String]) {
            self.encoding = encoding
            self.collate = collate
            self.ctype = ctype
            self.settings = settings
        }
    }

    public init(rows: [String: Int64], sequences: [String: Int64], schema: [String: String], grants: [String: String],
                database: Properties, largeObjects: Int64) {
        self.rows = rows
        self.sequences = sequences
        self.schema = schema
        self.grants = grants
        self.database = database
        self.largeObjects = largeObjects
    }
}

/// A role of the server, as `EvidenceQuery.roles` reads it (passwords never).
public struct RoleEvidence: Codable, Sendable, Equatable {
    public var name: String
    /// `login superuser createdb createrole replication bypassrls noinherit`, those that hold, in this order.
    public var attributes: String
    /// The roles it is a direct member of, sorted.
    public var memberOf: [String]

    public init(name: String, attributes: String, memberOf: [String]) {
        self.name = name
        self.attributes = attributes
        self.memberOf = memberOf
    }

    public var canLogin: Bool { attributes.split(separator: " ").contains("login") }
}

/// Which of the server's databases a backup covers (`pg_database` without templates and the maintenance
/// database `postgres`).
public struct Coverage: Codable, Sendable, Equatable {
    /// Every database the server had, sorted.
    public var server: [String]
    /// Left out on purpose (`ACP_BACKUP_EXCLUDE`).
    public var excluded: [String]
    /// Left out by nobody's choice: on the server, neither backed up nor excluded.
    public var uncovered: [String]

    public init(server: [String], databases: [String], excluded: [String]) {
        self.server = server.sorted()
        let listed = Set(databases)
        let skip = Set(excluded)
        self.excluded = excluded.filter { server.contains($0) }.sorted()
        uncovered = self.server.filter { !listed.contains($0) && !skip.contains($0) }
    }
}
