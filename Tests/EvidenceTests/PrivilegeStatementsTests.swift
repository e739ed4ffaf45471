@testable import Evidence
import Testing

@Suite struct PrivilegeStatementsTests {
    @Test("the owner and privilege statements pg_restore prints are taken; anything that could run code is not")
    func table() {
        let accepted = [
            "ALTER TABLE sales.orders OWNER TO shop_owner;",
            "ALTER TABLE \"Sales\".\"Order Lines\" OWNER TO \"App Role\";",
            "ALTER FUNCTION sales.touch(v text, n integer[]) OWNER TO shop_owner;",
            "ALTER FUNCTION public.f(numeric(10,2)) OWNER TO a;",
            "ALTER MATERIALIZED VIEW sales.daily OWNER TO a;",
            "ALTER LARGE OBJECT 16568 OWNER TO shop_owner;",
            "ALTER OPERATOR public.=(integer, integer) OWNER TO a;",
            "ALTER OPERATOR FAMILY public.f USING btree OWNER TO a;",
            "ALTER DATABASE shop OWNER TO shop_owner;",
            "ALTER SCHEMA sales OWNER TO shop_owner;",
            "GRANT SELECT ON TABLE sales.orders TO shop_ro;",
            "GRANT SELECT(email),UPDATE(email) ON TABLE sales.orders TO shop_ro WITH GRANT OPTION;",
            "REVOKE ALL ON SCHEMA public FROM PUBLIC;",
            "GRANT CONNECT ON DATABASE shop TO shop_ro;",
            "ALTER DEFAULT PRIVILEGES FOR ROLE shop_owner IN SCHEMA sales GRANT SELECT ON TABLES  TO shop_ro;",
            "ALTER DATABASE shop SET work_mem TO '8MB';",
            "ALTER DATABASE shop SET search_path TO 'sales', 'public';",
            "ALTER ROLE analyst IN DATABASE shop SET statement_timeout TO '5s';",
            "SET SESSION AUTHORIZATION shop_owner;",
            "RESET SESSION AUTHORIZATION;",
        ]
        let refused = [
            "ALTER TABLE t ADD CONSTRAINT c CHECK (evil()), OWNER TO postgres;",
            "ALTER TABLE t ALTER COLUMN c TYPE int USING evil(c), OWNER TO a;",
            "GRANT pg_execute_server_program TO acp_restore_x;",
            "GRANT SELECT ON TABLE t TO a; COPY x FROM PROGRAM 'id';",
            "ALTER DATABASE shop SET session_preload_libraries TO 'evil';",
            "ALTER DATABASE shop SET search_path TO E'a\\';';",
            "ALTER FUNCTION f('x') OWNER TO a;",
            "GRANT SELECT ON TABLE t /* hidden */ TO a;",
            "SET SESSION AUTHORIZATION a b;",
        ]
        let ignored = ["CREATE TABLE t (a int);", "SET statement_timeout = 0;", "SELECT pg_catalog.set_config('search_path', '', false);",
                       "ALTER TABLE ONLY t ADD CONSTRAINT p PRIMARY KEY (a);", "CREATE ROLE x;", "COMMENT ON TABLE t IS 'GRANT';"]
        for s in accepted { #expect(PrivilegeStatements.classify(s) == .accept, "\(s)") }
        for s in refused {
            if case .refuse = PrivilegeStatements.classify(s) {} else { Issue.record("not refused: \(s) → \(PrivilegeStatements.classify(s))") }
        }
        for s in ignored { #expect(PrivilegeStatements.classify(s) == .ignore, "\(s)") }
    }

    @Test("a GRANT inside a function body is not a statement of the dump")
    func bodyIsNotAStatement() {
        let script = """
            CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$
            GRANT ALL ON TABLE secrets TO intruder;
            $$;
            ALTER FUNCTION public.f() OWNER TO app;
            \\connect shop
            GRANT SELECT ON TABLE public.t TO ro;
            """
        let s = PrivilegeStatements.select(from: script)
        #expect(s.accepted == ["ALTER FUNCTION public.f() OWNER TO app;", "GRANT SELECT ON TABLE public.t TO ro;"])
        #expect(s.refused.isEmpty)
    }
}

@Suite struct RoleStatementsTests {
    @Test("pg_dumpall's role statements are taken; a password, a second statement or anything else is not")
    func table() {
        let script = """
            \\restrict abc
            SET default_transaction_read_only = off;
            CREATE ROLE analyst;
            ALTER ROLE analyst WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5;
            ALTER ROLE "App Role" WITH LOGIN VALID UNTIL '2030-01-01 00:00:00+00';
            GRANT shop_ro TO analyst GRANTED BY postgres;
            GRANT a, b TO c WITH ADMIN OPTION;
            ALTER ROLE analyst SET statement_timeout TO '5s';
            ALTER ROLE analyst IN DATABASE shop SET work_mem TO '8MB';
            CREATE TABLESPACE t OWNER x LOCATION '/x';
            ALTER ROLE evil WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:abc';
            ALTER ROLE evil SET session_preload_libraries TO 'x';
            GRANT pg_execute_server_program TO a; SELECT 1;
            CREATE ROLE x SUPERUSER;
            """
        let s = RoleStatements.select(from: script)
        #expect(s.accepted == [
            "CREATE ROLE analyst;",
            "ALTER ROLE analyst WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5;",
            "ALTER ROLE \"App Role\" WITH LOGIN VALID UNTIL '2030-01-01 00:00:00+00';",
            "GRANT shop_ro TO analyst GRANTED BY postgres;",
            "GRANT a, b TO c WITH ADMIN OPTION;",
            "ALTER ROLE analyst SET statement_timeout TO '5s';",
            "GRANT pg_execute_server_program TO a;",
        ])
        #expect(s.refused.count == 3, "\(s.refused)")
        #expect(s.refused.contains { $0.contains("PASSWORD") })
    }
}
