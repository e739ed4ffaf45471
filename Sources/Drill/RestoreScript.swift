import Foundation

/// The one script a database's restore runs inside the sandbox (every exec is a runc start: CPU the
/// restores need, so list, create and restore share one). The dump is untrusted input until it restores,
/// and the host never parses it.
enum RestoreScript {
    /// `sh -c` script, run in the sandbox: `$1` the dump, `$2` the database, the rest pg_restore's
    /// arguments. Prints the table of contents (exit 91 when it cannot be read), then creates the database
    /// as the dump describes it (its archived CREATE DATABASE: encoding and locale). A locale the sandbox
    /// lacks falls back to the sandbox's default, then to C (which fits every encoding); each is printed
    /// as `; Encoding:` / `; Locale:` for the evidence. Exit 90 when no CREATE succeeds.
    ///
    /// Then the dump's code is contained: `$3` names a role of this database's own (NOLOGIN, no superuser,
    /// `restoreRole(for:)`) that is made the database's owner, no one else may connect to the database
    /// while it restores, and pg_restore runs `SET ROLE` to it (`--role`). What the dump creates is that
    /// role's, and what it runs (a CHECK constraint's function, a default, a trigger) runs as that role: no
    /// `COPY … FROM PROGRAM`, no server files, no untrusted language or C function, no other database. A
    /// dump that needs a superuser to restore at all fails its restore, saying what it needed. Exit 89 when
    /// the role cannot be set up; then it becomes pg_restore. Nothing is interpolated by the shell or into
    /// SQL: psql quotes every value (:"db", :'enc', :"role").
    static let text = #"""
        pg_restore --list "$1" || exit 91
        db=$2
        archived=$(pg_restore -C -L /dev/null -f - "$1" | grep -m 1 '^CREATE DATABASE ')
        enc=$(printf '%s\n' "$archived" | sed -n "s/.* ENCODING = '\([A-Za-z0-9_-]*\)'.*/\1/p")
        [ -n "$enc" ] || enc=$(pg_restore -L /dev/null -f - "$1" | sed -n "s/^SET client_encoding = '\([A-Za-z0-9_-]*\)';\$/\1/p" | head -n 1)
        enc=${enc:-UTF8}
        collate=$(printf '%s\n' "$archived" | sed -n "s/.* \(LC_COLLATE\|LOCALE\) = '\([^']*\)'.*/\2/p")
        ctype=$(printf '%s\n' "$archived" | sed -n "s/.* \(LC_CTYPE\|LOCALE\) = '\([^']*\)'.*/\2/p")
        printf '; Encoding: %s\n' "$enc"
        sql='CREATE DATABASE :"db" TEMPLATE template0 ENCODING :'"'"'enc'"'"
        mk() { echo "$sql $1;" | psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$db" -v enc="$enc" -v collate="$collate" -v ctype="${ctype:-$collate}"; }
        if [ -n "$collate" ] && mk "LC_COLLATE :'collate' LC_CTYPE :'ctype'" 2>/dev/null; then
          printf '; Locale: %s\n' "$collate"
        elif mk "" 2>/dev/null; then
          printf '; Locale: the sandbox default (the dump has %s)\n' "${collate:-none}"
        elif mk "LC_COLLATE 'C' LC_CTYPE 'C'"; then
          printf '; Locale: C (the dump has %s, which the sandbox lacks)\n' "${collate:-none}"
        else
          exit 90
        fi
        role=$3
        printf '%s\n' 'CREATE ROLE :"role" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;' \
          'ALTER DATABASE :"db" OWNER TO :"role";' 'REVOKE ALL ON DATABASE :"db" FROM PUBLIC;' |
          psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$db" -v role="$role" || exit 89
        printf '; Restored as: %s\n' "$role"
        shift 3
        exec pg_restore --role="$role" "$@"
        """#

    /// Exit status: the table of contents could not be read.
    static let listFailed: Int32 = 91
    /// Exit status: no CREATE DATABASE succeeded.
    static let createFailed: Int32 = 90
    /// Exit status: the database's own restore role could not be set up.
    static let roleFailed: Int32 = 89

    /// The role a database is restored as: `acp_restore_` and 16 hex digits of the name's FNV-1a hash
    /// (any database name, at most 63 bytes as PostgreSQL's names are).
    static func restoreRole(for db: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in db.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return "acp_restore_" + String(format: "%016llx", h)
    }
}
