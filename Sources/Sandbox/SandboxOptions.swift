/// How a sandbox is provisioned.
public struct SandboxOptions: Sendable {
    /// Production host names that must not resolve from inside (besides `acp_postgres`, `acp_redis`).
    public var productionHosts: [String]
    /// Keep PostgreSQL durable (no fsync-off tuning).
    public var durable: Bool
    /// How long a service may take to become ready.
    public var readinessTimeout: Duration
    /// Memory limit for services that set none.
    public var defaultMemory: Int64
    public var pidsLimit: Int64

    public init(productionHosts: [String] = [], durable: Bool = false, readinessTimeout: Duration = .seconds(120),
                defaultMemory: Int64 = 2 << 30, pidsLimit: Int64 = 1024) {
        self.productionHosts = productionHosts
        self.durable = durable
        self.readinessTimeout = readinessTimeout
        self.defaultMemory = defaultMemory
        self.pidsLimit = pidsLimit
    }

    /// The embedded DNS's upstream for sandbox containers: their own loopback, where nothing listens.
    /// Docker's embedded DNS otherwise forwards names it does not know to the host's resolvers, even from
    /// an internal network — a path out of the sandbox (DNS exfiltration) and, when the resolver is
    /// unreachable, seconds of delay on every unknown name and on container removal.
    public static let sandboxDNS = ["127.0.0.1"]

    public static let defaultProductionHosts = ["acp_postgres", "acp_redis"]

    public var allProductionHosts: [String] {
        var seen = Set<String>()
        return (Self.defaultProductionHosts + productionHosts).filter { seen.insert($0).inserted }
    }

    /// Throw-away PostgreSQL settings (PostgreSQL docs, "Non-Durable Settings" and "Populating a Database").
    public static let throwAwayPostgresSettings = [
        "fsync=off", "synchronous_commit=off", "full_page_writes=off", "wal_level=minimal", "max_wal_senders=0",
        "max_wal_size=8GB", "checkpoint_timeout=1h", "maintenance_work_mem=512MB",
        "max_parallel_maintenance_workers=2", "shared_buffers=256MB", "autovacuum=off", "jit=off",
    ]
}
