public import AuditChain
import Synchronization

extension PlatformFixture {
    /// The databases, their schemas and generated tables.
    public var tables: [FixtureDatabase] {
        let s = scale
        let f = self
        let tenants = tenantCount
        let users = 40 * s
        let iso: @Sendable (Int64) -> String = { UTCTime.canonical(micros: $0) }
        func table(_ name: String, _ columns: [String], _ count: Int, _ line: @escaping @Sendable (Int) -> [String]) -> FixtureTable {
            FixtureTable(name: name, columns: columns, count: count) { i in line(i).map { $0 == "\\N" ? $0 : copyText($0) }.joined(separator: "\t") }
        }
        var dbs: [FixtureDatabase] = []

        dbs.append(FixtureDatabase(name: "acp_tenants", schema: """
            CREATE TABLE tenants (id uuid PRIMARY KEY, name text NOT NULL, plan text NOT NULL, created_at timestamptz NOT NULL);
            CREATE TABLE tenant_settings (tenant_id uuid PRIMARY KEY REFERENCES tenants(id), kill_switch boolean NOT NULL, rate_limit integer NOT NULL);
            """, tables: [
                table("tenants", ["id", "name", "plan", "created_at"], tenants) { i in
                    [f.tenantID(i), "tenant-\(i + 1)", ["free", "team", "enterprise"][i % 3], iso(Self.firstDay - Int64(100 - i % 90) * Self.dayMicros)]
                },
                table("tenant_settings", ["tenant_id", "kill_switch", "rate_limit"], tenants) { i in [f.tenantID(i), "f", String(100 * (i % 5 + 1))] },
            ]))

        dbs.append(FixtureDatabase(name: "acp_identity", schema: """
            CREATE TABLE users (id bigint PRIMARY KEY, tenant_id uuid NOT NULL, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL);
            CREATE TABLE api_keys (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), prefix text NOT NULL, created_at timestamptz NOT NULL);
            """, tables: [
                table("users", ["id", "tenant_id", "email", "created_at"], users) { i in
                    [String(i + 1), f.tenantID(i % tenants), "user\(i + 1)@tenant\(i % tenants + 1).example", iso(Self.firstDay - Int64(i % 60) * Self.dayMicros)]
                },
                table("api_keys", ["id", "user_id", "prefix", "created_at"], 2 * users) { i in
                    [String(i + 1), String(i % users + 1), "acp_\(String(f.rng(21, i), radix: 36).prefix(8))", iso(Self.firstDay - Int64(i % 30) * Self.dayMicros)]
                },
            ]))

        dbs.append(FixtureDatabase(name: "acp_keys", schema: """
            CREATE TABLE signing_keys (id text PRIMARY KEY, algorithm text NOT NULL, created_at timestamptz NOT NULL, retired_at timestamptz);
            CREATE TABLE key_usages (id bigint PRIMARY KEY, key_id text NOT NULL REFERENCES signing_keys(id), purpose text NOT NULL);
            """, tables: [
                table("signing_keys", ["id", "algorithm", "created_at", "retired_at"], 4) { i in
                    ["svc-key-\(i + 1)", "ed25519", iso(Self.firstDay - Int64(90 - 20 * i) * Self.dayMicros), i < 2 ? iso(Self.firstDay - Int64(70 - 20 * i) * Self.dayMicros) : "\\N"]
                },
                table("key_usages", ["id", "key_id", "purpose"], 10 * s) { i in [String(i + 1), "svc-key-\(i % 4 + 1)", ["jwt", "webhook", "receipt"][i % 3]] },
            ]))

        dbs.append(FixtureDatabase(name: "acp_tools", schema: """
            CREATE TABLE tools (id bigint PRIMARY KEY, name text NOT NULL UNIQUE, category text NOT NULL);
            CREATE TABLE tool_versions (id bigint PRIMARY KEY, tool_id bigint NOT NULL REFERENCES tools(id), version text NOT NULL, released_at timestamptz NOT NULL);
            """, tables: [
                table("tools", ["id", "name", "category"], Self.tools.count) { i in [String(i + 1), Self.tools[i], ["search", "compute", "io", "comms"][i % 4]] },
                table("tool_versions", ["id", "tool_id", "version", "released_at"], 3 * Self.tools.count) { i in
                    [String(i + 1), String(i % Self.tools.count + 1), "1.\(i / Self.tools.count).0", iso(Self.firstDay - Int64(60 - i) * Self.dayMicros)]
                },
            ]))

        dbs.append(FixtureDatabase(name: "acp_gateway", schema: """
            CREATE TABLE routes (id bigint PRIMARY KEY, path text NOT NULL UNIQUE, upstream text NOT NULL);
            CREATE TABLE requests (id bigint PRIMARY KEY, route_id bigint NOT NULL REFERENCES routes(id), tenant_id uuid NOT NULL, status integer NOT NULL, latency_ms integer NOT NULL, at timestamptz NOT NULL);
            CREATE INDEX requests_at ON requests (at);
            """, tables: [
                table("routes", ["id", "path", "upstream"], 12) { i in [String(i + 1), "/v1/route\(i + 1)", "http://svc-\(i % 4 + 1):8080"] },
                table("requests", ["id", "route_id", "tenant_id", "status", "latency_ms", "at"], 20_000 * s) { i in
                    let r = f.rng(31, i)
                    return [String(i + 1), String(Int(r % 12) + 1), f.tenantID(Int((r >> 8) % UInt64(tenants))), r % 50 == 0 ? "500" : "200",
                            String(5 + r % 400), iso(Self.firstDay + Int64(i) * (Int64(Self.days) * Self.dayMicros / Int64(20_000 * s)))]
                },
            ]))

        dbs.append(FixtureDatabase(name: "acp_policy", schema: """
            CREATE TABLE policies (id bigint PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL, version integer NOT NULL);
            CREATE TABLE policy_rules (id bigint PRIMARY KEY, policy_id bigint NOT NULL REFERENCES policies(id), effect text NOT NULL, expr text NOT NULL);
            """, tables: [
                table("policies", ["id", "tenant_id", "name", "version"], 5 * tenants) { i in [String(i + 1), f.tenantID(i % tenants), "policy-\(i + 1)", String(i % 4 + 1)] },
                table("policy_rules", ["id", "policy_id", "effect", "expr"], 25 * tenants) { i in
                    [String(i + 1), String(i % (5 * tenants) + 1), i % 3 == 0 ? "deny" : "allow", "tool == '\(Self.tools[i % Self.tools.count])'"]
                },
            ]))

        dbs.append(FixtureDatabase(name: "acp_sessions", schema: """
            CREATE TABLE sessions (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, user_id bigint NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz);
            CREATE TABLE session_events (id bigint PRIMARY KEY, session_id uuid NOT NULL REFERENCES sessions(id), kind text NOT NULL, at timestamptz NOT NULL);
            """, tables: [
                table("sessions", ["id", "tenant_id", "user_id", "started_at", "ended_at"], 500 * s) { i in
                    let start = Self.firstDay + Int64(i) * 600_000_000
                    return [f.uuid(41, i), f.tenantID(i % tenants), String(i % users + 1), iso(start), i % 10 == 0 ? "\\N" : iso(start + 900_000_000)]
                },
                table("session_events", ["id", "session_id", "kind", "at"], 2_000 * s) { i in
                    [String(i + 1), f.uuid(41, i % (500 * s)), ["prompt", "tool_call", "tool_result", "end"][i % 4], iso(Self.firstDay + Int64(i) * 150_000_000)]
                },
            ]))

        dbs.append(FixtureDatabase(name: "acp_billing", schema: """
            CREATE TABLE invoices (id bigint PRIMARY KEY, tenant_id uuid NOT NULL, period date NOT NULL, total_cents bigint NOT NULL);
            CREATE TABLE invoice_lines (id bigint PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices(id), tool text NOT NULL, units bigint NOT NULL, amount_cents bigint NOT NULL);
            """, tables: [
                table("invoices", ["id", "tenant_id", "period", "total_cents"], 4 * tenants) { i in [String(i + 1), f.tenantID(i % tenants), "2026-0\(1 + i / tenants)-01", String(1000 * (i + 1))] },
                table("invoice_lines", ["id", "invoice_id", "tool", "units", "amount_cents"], 4 * tenants * Self.tools.count) { i in
                    [String(i + 1), String(i / Self.tools.count + 1), Self.tools[i % Self.tools.count], String(10 + i % 90), String(125 * (i % 8 + 1))]
                },
            ]))

        dbs.append(FixtureDatabase(name: "acp_playground", schema: """
            CREATE TABLE scenarios (id bigint PRIMARY KEY, name text NOT NULL, severity text NOT NULL);
            CREATE TABLE runs (id bigint PRIMARY KEY, scenario_id bigint NOT NULL REFERENCES scenarios(id), outcome text NOT NULL, at timestamptz NOT NULL);
            """, tables: [
                table("scenarios", ["id", "name", "severity"], 12) { i in [String(i + 1), "attack-\(i + 1)", ["low", "medium", "high"][i % 3]] },
                table("runs", ["id", "scenario_id", "outcome", "at"], 120 * s) { i in [String(i + 1), String(i % 12 + 1), i % 7 == 0 ? "bypassed" : "blocked", iso(Self.firstDay + Int64(i) * 3_600_000_000)] },
            ]))

        dbs.append(auditDatabase())
        dbs.append(usageDatabase())
        return dbs
    }

    /// The payload of audit row `i`, exactly as PostgreSQL prints the `jsonb` (keys by length, then bytes).
    func payload(_ i: Int) -> (tool: String?, units: Int, text: String) {
        let r = rng(51, i)
        if isToolCall(i) {
            let tool = Self.tools[Int(r % UInt64(Self.tools.count))]
            let units = Int(1 + (r >> 8) % 20)
            return (tool, units, #"{"tool": "\#(tool)", "units": \#(units), "latency_ms": \#(20 + (r >> 16) % 900)}"#)
        }
        return (nil, 0, #"{"path": "/v1/route\#(r % 12 + 1)", "status": \#(r % 50 == 0 ? 403 : 200)}"#)
    }

    func auditDatabase() -> FixtureDatabase {
        let f = self
        let builder = Mutex(ChainBuilder())
        let audit = FixtureTable(name: "audit_logs", columns: ["id", "tenant_id", "occurred_at", "actor", "action", "resource", "payload", "prev_hash", "row_hash"],
                                 count: auditCount) { i in
            let p = f.payload(i)
            let tenant = f.tenantID(Int(f.rng(52, i) % UInt64(f.tenantCount)))
            let action = p.tool == nil ? Self.otherActions[Int(f.rng(53, i) % UInt64(Self.otherActions.count))] : "tool.execute"
            let row = builder.withLock {
                $0.append(tenantID: tenant, occurredAt: f.auditTime(i), actor: "user\(f.rng(54, i) % UInt64(40 * f.scale) + 1)",
                          action: action, resource: p.tool.map { "tool/\($0)" } ?? "api", payload: p.text)
            }
            return row.copyLine
        }
        let keys = (try? historicalKeys()) ?? []
        let keyLines = keys.map { k in
            [k.keyID, k.algorithm, "\\\\x" + ChainHash.hex(k.publicKey), UTCTime.canonical(micros: k.validFrom), k.validTo.map(UTCTime.canonical) ?? "\\N"].joined(separator: "\t")
        }
        return FixtureDatabase(name: "acp_audit", schema: """
            CREATE TABLE audit_logs (id bigint PRIMARY KEY, tenant_id uuid NOT NULL, occurred_at timestamptz NOT NULL, actor text NOT NULL,
              action text NOT NULL, resource text NOT NULL, payload jsonb NOT NULL, prev_hash bytea NOT NULL, row_hash bytea NOT NULL UNIQUE);
            CREATE INDEX audit_logs_action ON audit_logs (action);
            CREATE TABLE transparency_historical_keys (key_id text PRIMARY KEY, algorithm text NOT NULL, public_key bytea NOT NULL,
              valid_from timestamptz NOT NULL, valid_to timestamptz);
            CREATE TABLE transparency_roots (day date PRIMARY KEY, first_id bigint NOT NULL, last_id bigint NOT NULL, leaf_count integer NOT NULL,
              root_hash bytea NOT NULL, key_id text NOT NULL REFERENCES transparency_historical_keys(key_id), signature bytea NOT NULL, signed_at timestamptz NOT NULL);
            """, tables: [audit], trailer: [
                .text("COPY transparency_historical_keys (key_id, algorithm, public_key, valid_from, valid_to) FROM STDIN;\n" + keyLines.map { $0 + "\n" }.joined() + "\\.\n"),
                .deferred {
                    let roots = f.roots(builder.withLock { $0 })
                    let lines = roots.map { r in
                        [r.day, String(r.firstID), String(r.lastID), String(r.leafCount), "\\\\x" + ChainHash.hex(r.rootHash), r.keyID,
                         "\\\\x" + ChainHash.hex(r.signature), UTCTime.canonical(micros: r.signedAt)].joined(separator: "\t") + "\n"
                    }
                    return [.text("COPY transparency_roots (day, first_id, last_id, leaf_count, root_hash, key_id, signature, signed_at) FROM STDIN;\n" + lines.joined() + "\\.\n")]
                },
            ])
    }

    /// The signed roots of a built chain: every day but the last (the unsealed tail), each signed five
    /// minutes after its day ended by the key valid then.
    public func roots(_ chain: ChainBuilder) -> [TransparencyRoot] {
        guard let (old, new) = try? signers(), let lastDay = chain.dayNames.last else { return [] }
        let sealed = chain.dayNames.dropLast().last ?? ""
        guard sealed < lastDay else { return [] }
        return chain.roots(through: sealed) { day in
            let dayStart = UTCTime.parse(day + "T00:00:00Z") ?? Self.firstDay
            let signedAt = dayStart + Self.dayMicros + 300_000_000
            return (signedAt < Self.rotation ? old : new, signedAt)
        }
    }

    func usageDatabase() -> FixtureDatabase {
        let f = self
        // Usage event k belongs to the k-th billable audit row: ids and audit ids increase together.
        let auditIndexOfUsage = Mutex((next: 0, last: -1))
        let usage = FixtureTable(name: "usage_events", columns: ["id", "audit_id", "tenant_id", "occurred_at", "tool", "units"], count: usageCount) { k in
            let i = auditIndexOfUsage.withLock { state -> Int in
                var i = state.last + 1
                while !f.isToolCall(i) { i += 1 }
                state.last = i
                return i
            }
            let p = f.payload(i)
            let tenant = f.tenantID(Int(f.rng(52, i) % UInt64(f.tenantCount)))
            return [String(k + 1), String(i + 1), tenant, UTCTime.canonical(micros: f.auditTime(i)), p.tool ?? "", String(p.units)].joined(separator: "\t")
        }
        return FixtureDatabase(name: "acp_usage", schema: """
            CREATE TABLE usage_events (id bigint PRIMARY KEY, audit_id bigint NOT NULL UNIQUE, tenant_id uuid NOT NULL, occurred_at timestamptz NOT NULL,
              tool text NOT NULL, units bigint NOT NULL);
            CREATE TABLE usage_rollups (tenant_id uuid NOT NULL, day date NOT NULL, units bigint NOT NULL, PRIMARY KEY (tenant_id, day));
            """, tables: [usage], trailer: [
                .text("INSERT INTO usage_rollups SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, sum(units) FROM usage_events GROUP BY 1, 2;\n"),
            ])
    }

    /// The whole load script of one database, for `psql -v ON_ERROR_STOP=1`.
    public func script(for db: FixtureDatabase) -> SQLStream {
        var parts: [SQLStream.Part] = [.text("SET client_min_messages = warning;\nBEGIN;\n" + db.schema + "\n")]
        for t in db.tables {
            parts.append(.text("COPY \(t.name) (\(t.columns.joined(separator: ", "))) FROM STDIN;\n"))
            parts.append(.rows(count: t.count, line: t.line))
            parts.append(.text("\\.\n"))
        }
        parts += db.trailer
        parts.append(.text("COMMIT;\nANALYZE;\n"))
        return SQLStream(parts)
    }
}
