import Evidence
import Foundation
import Testing

@Suite struct EvidenceComparisonTests {
    static func evidence(rows: [String: Int64] = ["sales.orders": 1000], schema: [String: String] = ["column sales.orders.id": "bigint not null"],
                         grants: [String: String] = ["table sales.orders": "owner app; app=arwdDxt/app ro=r/app"],
                         sequences: [String: Int64] = ["sales.orders_id_seq": 1000]) -> DatabaseEvidence {
        DatabaseEvidence(rows: rows, sequences: sequences, schema: schema, grants: grants,
                         database: .init(encoding: "UTF8", collate: "C.UTF-8", ctype: "C.UTF-8", settings: ["*": "work_mem=8MB"]), largeObjects: 1)
    }

    @Test("rows: a lost row names the table and both counts; replayed rows are expected on top; an extra table is named")
    func rows() {
        #expect(EvidenceComparison.rows(source: ["a.t": 10], restored: ["a.t": 10]).isEmpty)
        #expect(EvidenceComparison.rows(source: ["a.t": 1_000_000], restored: ["a.t": 999_990])
            == ["a.t: 999990 rows restored, 1000000 in the source (10 missing)"])
        #expect(EvidenceComparison.rows(source: ["public.audit_logs": 10], restored: ["public.audit_logs": 15], beyond: ["public.audit_logs": 5]).isEmpty)
        #expect(EvidenceComparison.rows(source: ["a.t": 1], restored: [:]) == ["a.t: 1 rows in the source, the table is not restored"])
        #expect(EvidenceComparison.rows(source: [:], restored: ["a.u": 2]) == ["a.u: 2 rows restored, the table is not in the source's evidence"])
    }

    @Test("schema: a dropped column, a changed type, a sequence behind, settings and locale are named")
    func schema() {
        let source = Self.evidence(schema: ["column sales.orders.id": "bigint not null", "column sales.orders.total": "numeric(10,2)"])
        var restored = Self.evidence(schema: ["column sales.orders.id": "integer not null"], sequences: ["sales.orders_id_seq": 990])
        restored.database.collate = "C"
        restored.database.settings = [:]
        let d = EvidenceComparison.schema(source: source, restored: restored)
        #expect(d.contains("column sales.orders.id: restored integer not null, source bigint not null"))
        #expect(d.contains("column sales.orders.total: in the source (numeric(10,2)), not restored"))
        #expect(d.contains { $0.hasPrefix("sequence sales.orders_id_seq: restored at 990, the source had reached 1000") })
        #expect(d.contains("database LC_COLLATE: restored C, source C.UTF-8"))
        #expect(d.contains("database settings for role *: in the source (work_mem=8MB), not restored"))
        // A sequence ahead of its evidence is what pg_dump read later: fine.
        #expect(EvidenceComparison.schema(source: Self.evidence(), restored: Self.evidence(sequences: ["sales.orders_id_seq": 1200])).isEmpty)
    }

    @Test("grants and roles: a revoked grant, a missing role and a lost membership are named")
    func grantsAndRoles() {
        let d = EvidenceComparison.grants(source: Self.evidence(), restored: Self.evidence(grants: ["table sales.orders": "owner app; app=arwdDxt/app"]))
        #expect(d == ["table sales.orders: restored owner app; app=arwdDxt/app, source owner app; app=arwdDxt/app ro=r/app"])
        let source = [RoleEvidence(name: "app", attributes: "login", memberOf: []), RoleEvidence(name: "analyst", attributes: "login", memberOf: ["ro"]),
                      RoleEvidence(name: "ro", attributes: "", memberOf: [])]
        let restored = [RoleEvidence(name: "app", attributes: "login", memberOf: []), RoleEvidence(name: "analyst", attributes: "login", memberOf: []),
                        RoleEvidence(name: "acp_restore_1", attributes: "", memberOf: [])]
        #expect(EvidenceComparison.roles(source: source, restored: restored) == ["role analyst: not a member of ro as in the source", "role ro: in the source, not restored"])
        #expect(EvidenceComparison.summary(["a", "b", "c"], limit: 2) == "a; b; and 1 more")
    }

    @Test("the evidence query's answer reads, nulls included; coverage names what nobody backs up")
    func parse() throws {
        let json = #"{"rows" : {"a.t" : 3}, "schema" : {"schema a" : "present"}, "sequences" : {"a.s" : null, "a.u" : 7}, "grants" : {"column a.t.c" : null}, "database" : {"encoding" : "LATIN1", "collate" : "C", "ctype" : "C", "settings" : {}}, "largeObjects" : 0}"#
        let e = try DatabaseEvidence.parse(json)
        #expect(e.rows == ["a.t": 3] && e.sequences == ["a.u": 7] && e.database.encoding == "LATIN1" && e.grants["column a.t.c"] == "none")
        #expect(throws: EvidenceError.self) { try DatabaseEvidence.parse("{\"rows\": 1}") }
        let c = Coverage(server: ["shop", "acp_audit", "scratch", "legacy"], databases: ["acp_audit", "shop"], excluded: ["scratch", "absent"])
        #expect(c.uncovered == ["legacy"] && c.excluded == ["scratch"] && c.server == ["acp_audit", "legacy", "scratch", "shop"])
    }
}
