import Foundation

/// The catalog queries behind the evidence (docs/EVIDENCE.md). Each answers one line of JSON, so that psql's
/// unaligned output carries it whole. Run them with `search_path` pinned to `pg_catalog` (`pinned`): every
/// name then prints schema-qualified, the same on the source and the restored copy, and no function of a
/// database shadows a built-in. Objects that belong to an extension are left out: `CREATE EXTENSION`
/// makes them, not the dump.
public enum EvidenceQuery {
    /// Run first in a session that reads evidence.
    public static let pinned = "SET search_path = pg_catalog; SET row_security = off;"

    /// The current database's `DatabaseEvidence` but its row counts (`rows` is empty: `counts` fills it),
    /// as one JSON object.
    public static let database = #"""
        WITH rel AS (\#(relations)), nsp AS (
          SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
        ), fn AS (
          SELECT p.oid, p.prokind, p.proowner, p.proacl, p.oid::regprocedure::text AS sig FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace
          WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        ), typ AS (
          SELECT t.oid, t.typtype, t.typowner, t.typacl, t.oid::regtype::text AS name FROM pg_type t JOIN nsp ON nsp.oid = t.typnamespace
          WHERE (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
        ), acl(kind, name, owner, acl) AS (
          SELECT 'schema', quote_ident(nspname), nspowner, coalesce(nspacl, acldefault('n', nspowner)) FROM nsp
          UNION ALL SELECT CASE relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE 'table' END,
                           q, relowner, coalesce(relacl, acldefault((CASE relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", relowner)) FROM rel
          UNION ALL SELECT CASE prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, sig, proowner, coalesce(proacl, acldefault('f', proowner)) FROM fn
          UNION ALL SELECT 'type', name, typowner, coalesce(typacl, acldefault('T', typowner)) FROM typ
        )
        SELECT json_build_object(
          'rows', '{}'::json,
          'schema', (SELECT coalesce(json_object_agg(k, v ORDER BY k), '{}') FROM (
              SELECT 'schema ' || quote_ident(nspname) AS k, 'present' AS v FROM nsp
              UNION ALL SELECT CASE relkind WHEN 'S' THEN 'sequence ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'f' THEN 'foreign table ' ELSE 'table ' END || q,
                     concat_ws('; ', CASE relpersistence WHEN 'u' THEN 'unlogged' END,
                               CASE WHEN relkind = 'p' THEN 'partitioned by ' || pg_get_partkeydef(oid) END,
                               CASE WHEN relispartition THEN 'partition of ' || (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = rel.oid) || ' ' || pg_get_expr((SELECT relpartbound FROM pg_class WHERE oid = rel.oid), rel.oid) END,
                               CASE WHEN relrowsecurity THEN 'row level security' || CASE WHEN relforcerowsecurity THEN ' forced' ELSE '' END END,
                               CASE WHEN relkind = 'm' THEN CASE WHEN relispopulated THEN 'populated' ELSE 'not populated' END END,
                               CASE WHEN relkind IN ('v', 'm') THEN 'definition md5 ' || md5(pg_get_viewdef(oid)) END,
                               CASE WHEN relkind = 'S' THEN (SELECT format('%s increment %s from %s to %s%s', format_type(seqtypid, NULL), seqincrement, seqmin, seqmax, CASE WHEN seqcycle THEN ' cycle' ELSE '' END) FROM pg_sequence WHERE seqrelid = rel.oid) END)
                     FROM rel
              UNION ALL SELECT 'column ' || rel.q || '.' || quote_ident(a.attname),
                     concat_ws(' ', format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'not null' END,
                               CASE WHEN a.attidentity <> '' THEN 'identity' END, CASE WHEN a.attgenerated <> '' THEN 'generated' END,
                               CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid) THEN 'collate ' || a.attcollation::regcollation::text END,
                               (SELECT 'default ' || pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum))
                     FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped WHERE rel.relkind IN ('r', 'p', 'v', 'm', 'f')
              UNION ALL SELECT 'index ' || quote_ident(n.nspname) || '.' || quote_ident(ic.relname), pg_get_indexdef(i.indexrelid)
                     FROM pg_index i JOIN rel ON rel.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
              UNION ALL SELECT 'constraint ' || rel.q || '.' || quote_ident(co.conname), pg_get_constraintdef(co.oid)
                     FROM pg_constraint co JOIN rel ON rel.oid = co.conrelid
              UNION ALL SELECT 'trigger ' || rel.q || '.' || quote_ident(tg.tgname), pg_get_triggerdef(tg.oid) || CASE tg.tgenabled WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (replica)' WHEN 'A' THEN ' (always)' ELSE '' END
                     FROM pg_trigger tg JOIN rel ON rel.oid = tg.tgrelid WHERE NOT tg.tgisinternal
              UNION ALL SELECT 'policy ' || rel.q || '.' || quote_ident(po.polname),
                     concat_ws(' ', CASE WHEN po.polpermissive THEN 'permissive' ELSE 'restrictive' END, po.polcmd,
                               'to', (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END, ',' ORDER BY 1) FROM unnest(po.polroles) r),
                               'using ' || pg_get_expr(po.polqual, po.polrelid), 'check ' || pg_get_expr(po.polwithcheck, po.polrelid))
                     FROM pg_policy po JOIN rel ON rel.oid = po.polrelid
              UNION ALL SELECT CASE prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END || sig,
                     CASE WHEN prokind = 'a' THEN 'aggregate' ELSE 'definition md5 ' || md5(pg_get_functiondef(oid)) END FROM fn
              UNION ALL SELECT 'type ' || name, CASE typtype WHEN 'e' THEN 'enum (' || (SELECT string_agg(quote_literal(enumlabel), ', ' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = typ.oid) || ')'
                                                            WHEN 'd' THEN 'domain over ' || (SELECT format_type(typbasetype, typtypmod) FROM pg_type WHERE oid = typ.oid)
                                                            WHEN 'r' THEN 'range' WHEN 'm' THEN 'multirange' ELSE 'composite' END FROM typ
              UNION ALL SELECT 'constraint ' || typ.name || '.' || quote_ident(co.conname), pg_get_constraintdef(co.oid) FROM pg_constraint co JOIN typ ON typ.oid = co.contypid
              UNION ALL SELECT 'extension ' || quote_ident(e.extname), 'version ' || e.extversion || ' in schema ' || quote_ident(n.nspname)
                     FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            ) s),
          'sequences', (\#(sequencesExpression)),
          'grants', (SELECT coalesce(json_object_agg(k, v ORDER BY k), '{}') FROM (
              SELECT kind || ' ' || name AS k, 'owner ' || quote_ident(pg_get_userbyid(owner)) || '; ' || (SELECT coalesce(string_agg(a::text, ' ' ORDER BY a::text), 'none') FROM unnest(acl) a) AS v FROM acl
              UNION ALL SELECT 'column ' || rel.q || '.' || quote_ident(a.attname), (SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(a.attacl) x)
                     FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
              UNION ALL SELECT 'default privileges' || CASE WHEN da.defaclrole <> 0 THEN ' for ' || quote_ident(pg_get_userbyid(da.defaclrole)) ELSE '' END
                               || CASE WHEN da.defaclnamespace <> 0 THEN ' in schema ' || quote_ident(da.defaclnamespace::regnamespace::text) ELSE '' END
                               || ' on ' || CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' END,
                     (SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(da.defaclacl) x) FROM pg_default_acl da
              UNION ALL SELECT 'large objects owned by ' || quote_ident(pg_get_userbyid(lomowner)) || '; ' || coalesce((SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(lomacl) x), 'default'), count(*)::text
                     FROM pg_largeobject_metadata GROUP BY lomowner, lomacl
              UNION ALL SELECT 'database', 'owner ' || quote_ident(pg_get_userbyid(datdba)) || '; ' || (SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(coalesce(datacl, acldefault('d', datdba))) x)
                     FROM pg_database WHERE datname = current_database()
            ) g),
          'database', (SELECT json_build_object('encoding', pg_encoding_to_char(encoding), 'collate', datcollate, 'ctype', datctype,
                          'settings', (SELECT coalesce(json_object_agg(coalesce(quote_ident(pg_get_userbyid(nullif(s.setrole, 0))), '*'), array_to_string(ARRAY(SELECT unnest(s.setconfig) ORDER BY 1), ' ')), '{}')
                                       FROM pg_db_role_setting s WHERE s.setdatabase = d.oid))
                       FROM pg_database d WHERE datname = current_database()),
          'largeObjects', (SELECT count(*) FROM pg_largeobject_metadata)
        )::text
        """#

    /// A query whose one cell is another: `SELECT json_object_agg(t, n) FROM (SELECT 'a.t' AS t, count(*)
    /// AS n FROM a.t UNION ALL …)`, the exact count of every ordinary table (each partition) and populated
    /// materialized view, in one statement. Run it with psql's `\gexec`, which runs that cell and prints its
    /// one line of JSON (one plan, where a `query_to_xml` per table cost 5 ms each). Tables named in
    /// `countedElsewhere` (`schema.table`, quoted as in `rows`) are left out: a reader that passes over such a
    /// table anyway (the drill's audit chain) supplies its count, so the table is read once.
    public static func counts(countedElsewhere tables: [String] = []) -> String {
        let countedElsewhere = "ARRAY[" + tables.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ", ") + "]::text[]"
        return #"""
            WITH rel AS (\#(relations))
            SELECT 'SELECT coalesce(json_object_agg(t, n), ''{}'')::text FROM ('
                   || coalesce(string_agg(format('SELECT %L::text AS t, count(*) AS n FROM %s', q, q), ' UNION ALL ' ORDER BY q),
                               'SELECT NULL::text AS t, NULL::bigint AS n WHERE false')
                   || ') s'
            FROM rel WHERE (relkind = 'r' OR (relkind = 'm' AND relispopulated)) AND q <> ALL (\#(countedElsewhere))
            """#
    }

    /// psql input that prints two lines: the `database` evidence, then the `counts` JSON.
    public static func script(countedElsewhere tables: [String] = []) -> String {
        pinned + "\n" + database + ";\n" + counts(countedElsewhere: tables) + "\n\\gexec\n"
    }

    /// Each sequence's last value, as one JSON object (the backup reads it before pg_dump starts).
    public static let sequences = #"""
        WITH rel AS (\#(relations))
        SELECT json_build_object('sequences', (\#(sequencesExpression)))::text
        """#

    static let sequencesExpression = #"""
        SELECT coalesce(json_object_agg(q, pg_sequence_last_value(oid) ORDER BY q) FILTER (WHERE has_sequence_privilege(oid, 'SELECT')), '{}') FROM rel WHERE relkind = 'S'
        """#

    static let relations = #"""
        SELECT c.oid, c.relname, c.relkind, c.relowner, c.relacl, c.relispartition, c.relispopulated, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
               n.nspname, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS q
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        """#

    /// The server's roles (not the predefined `pg_*` ones), as a JSON array of `RoleEvidence`.
    public static let roles = #"""
        SELECT coalesce(json_agg(json_build_object('name', r.rolname,
                 'attributes', concat_ws(' ', CASE WHEN r.rolcanlogin THEN 'login' END, CASE WHEN r.rolsuper THEN 'superuser' END,
                                         CASE WHEN r.rolcreatedb THEN 'createdb' END, CASE WHEN r.rolcreaterole THEN 'createrole' END,
                                         CASE WHEN r.rolreplication THEN 'replication' END, CASE WHEN r.rolbypassrls THEN 'bypassrls' END,
                                         CASE WHEN NOT r.rolinherit THEN 'noinherit' END),
                 'memberOf', (SELECT coalesce(json_agg(b.rolname ORDER BY b.rolname), '[]') FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid))
               ORDER BY r.rolname), '[]')::text
        FROM pg_roles r WHERE r.rolname !~ '^pg_'
        """#

    /// The server's databases a backup should cover: not templates, not `postgres`, open to connections.
    public static let serverDatabases = #"""
        SELECT coalesce(json_agg(datname ORDER BY datname), '[]')::text FROM pg_database WHERE NOT datistemplate AND datallowconn AND datname <> 'postgres'
        """#

    /// The server's facts a backup records, in one connection: its version, its databases (`serverDatabases`)
    /// and its roles (`roles`), as one JSON object.
    public static var server: String {
        "SELECT json_build_object('version', current_setting('server_version'), 'databases', (\(serverDatabases))::json, 'roles', (\(roles))::json)::text"
    }
}
