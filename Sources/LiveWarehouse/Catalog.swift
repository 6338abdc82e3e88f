import PostgresClient
import WarehouseDDL

/// What the database holds in the schemas a spec manages, read from pg_catalog. Definitions are
/// PostgreSQL's own normalised text (format_type, pg_get_expr, pg_get_constraintdef, pg_get_viewdef),
/// read with `search_path = pg_catalog` so every relation is schema-qualified.
struct LiveCatalog {
    struct Column {
        var name: String
        var type: String
        var notNull: Bool
        var defaultExpression: String?
        var identity: Bool
        var comment: String?
    }
    struct Constraint {
        var name: String
        var kind: String
        var definition: String
        var columns: [String]
        var referencedTable: String?
        var referencedColumns: [String]
        var onDelete: String
    }
    struct Index {
        var table: String
        var unique: Bool
        var method: String
        var columns: [String]
        var predicate: String?
        var backsConstraint: Bool
    }
    /// pg_class.relkind of the relations the catalog reads.
    enum RelationKind: String {
        case table = "r", partitionedTable = "p", view = "v", materializedView = "m"

        var isTable: Bool { self == .table || self == .partitionedTable }
        var isView: Bool { self == .view || self == .materializedView }
        /// As drift and refusals name it.
        var noun: String {
            switch self {
            case .table, .partitionedTable: "table"
            case .view: "view"
            case .materializedView: "materialized view"
            }
        }
    }

    struct Relation {
        var kind: RelationKind
        var comment: String?
        var columns: [Column] = []
        var constraints: [Constraint] = []
        /// Plain and materialized views: pg_get_viewdef.
        var definition: String?
    }

    var schemas: Set<String> = []
    /// `schema.name` → tables ('r', 'p'), views ('v'), materialized views ('m'), sequences are ignored.
    var relations: [String: Relation] = [:]
    /// `schema.index` → index.
    var indexes: [String: Index] = [:]
    /// View → the relations its query reads (from pg_depend).
    var reads: [String: Set<String>] = [:]
    /// Role → can log in.
    var roles: [String: Bool] = [:]
    var privileges: Set<Privilege> = []
    /// Function signature → (body, SECURITY DEFINER, settings).
    var functions: [String: (body: String, securityDefiner: Bool, settings: [String])] = [:]
    /// Rows of sluice.managed_objects; empty when the control schema does not exist yet.
    var managed: Set<ManagedObject> = []

    static func read(_ connection: Connection, schemas wanted: [String]) throws -> LiveCatalog {
        var catalog = LiveCatalog()
        let schemaArray = PostgresArray.text(wanted)
        for row in try connection.query("SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])", [schemaArray]).rows {
            catalog.schemas.insert(row[0]!)
        }
        for row in try connection.query(
            """
            SELECT n.nspname || '.' || c.relname, c.relkind::text, obj_description(c.oid, 'pg_class'),
                   CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm')
            """, [schemaArray]
        ).rows {
            // The query selects only these four kinds.
            guard let kind = RelationKind(rawValue: row[1]!) else { continue }
            catalog.relations[row[0]!] = Relation(kind: kind, comment: row[2], definition: row[3])
        }
        for row in try connection.query(
            """
            SELECT n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity <> '', col_description(c.oid, a.attnum)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY 1, a.attnum
            """, [schemaArray]
        ).rows {
            catalog.relations[row[0]!]?.columns.append(
                Column(
                    name: row[1]!, type: row[2]!, notNull: row[3] == "t",
                    defaultExpression: row[4], identity: row[5] == "t", comment: row[6]))
        }
        for row in try connection.query(
            """
            SELECT n.nspname || '.' || c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid),
                   ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
                         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.ord)::text,
                   fn.nspname || '.' || f.relname,
                   ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
                         JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.ord)::text,
                   k.confdeltype::text
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_class f ON f.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace
            WHERE n.nspname = ANY($1::text[]) AND k.contype IN ('p', 'u', 'f', 'c')
            ORDER BY 1, 2
            """, [schemaArray]
        ).rows {
            catalog.relations[row[0]!]?.constraints.append(
                Constraint(
                    name: row[1]!, kind: row[2]!, definition: row[3]!, columns: parseArray(row[4]), referencedTable: row[5],
                    referencedColumns: parseArray(row[6]), onDelete: row[7] ?? " "))
        }
        for row in try connection.query(
            """
            SELECT n.nspname || '.' || ic.relname, n.nspname || '.' || c.relname, i.indisunique, am.amname,
                   ARRAY(SELECT coalesce(a.attname, '(expression)') FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(num, ord)
                         LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.num ORDER BY u.ord)::text,
                   pg_get_expr(i.indpred, i.indrelid),
                   EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
            FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = ic.relam
            WHERE n.nspname = ANY($1::text[])
            """, [schemaArray]
        ).rows {
            catalog.indexes[row[0]!] = Index(
                table: row[1]!, unique: row[2] == "t", method: row[3]!, columns: parseArray(row[4]),
                predicate: row[5], backsConstraint: row[6] == "t")
        }
        for row in try connection.query(
            """
            SELECT DISTINCT vn.nspname || '.' || v.relname, rn.nspname || '.' || r.relname
            FROM pg_rewrite w JOIN pg_class v ON v.oid = w.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace
            JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid AND d.refclassid = 'pg_class'::regclass
            JOIN pg_class r ON r.oid = d.refobjid JOIN pg_namespace rn ON rn.oid = r.relnamespace
            WHERE r.oid <> v.oid AND v.relkind IN ('v', 'm') AND rn.nspname = ANY($1::text[])
            """, [schemaArray]
        ).rows {
            catalog.reads[row[0]!, default: []].insert(row[1]!)
        }
        for row in try connection.query("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname !~ '^pg_'").rows {
            catalog.roles[row[0]!] = row[1] == "t"
        }
        // Privileges other than the owner's own, PUBLIC included (a NULL ACL means the defaults).
        for row in try connection.query(
            """
            SELECT 'schema', n.nspname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END, a.privilege_type
            FROM pg_namespace n CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
            WHERE n.nspname = ANY($1::text[]) AND a.grantee <> n.nspowner
            UNION ALL
            SELECT 'table', n.nspname || '.' || c.relname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END, a.privilege_type
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
            WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm') AND a.grantee <> c.relowner
            UNION ALL
            SELECT 'function', p.oid::regprocedure::text, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END, a.privilege_type
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
            WHERE n.nspname = ANY($1::text[]) AND a.grantee <> p.proowner
            """, [schemaArray]
        ).rows {
            catalog.privileges.insert(Privilege(role: row[2]!, privilege: row[3]!, kind: Privilege.ObjectKind(rawValue: row[0]!)!, object: row[1]!))
        }
        for row in try connection.query(
            """
            SELECT p.oid::regprocedure::text, p.prosrc, p.prosecdef, coalesce(array_to_string(p.proconfig, chr(10)), '')
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1::text[])
            """, [schemaArray]
        ).rows {
            catalog.functions[row[0]!] = (row[1]!, row[2] == "t", row[3]!.split(separator: "\n").map(String.init))
        }
        if catalog.relations["\(ControlSchema.name).managed_objects"] != nil {
            for row in try connection.query("SELECT kind, name FROM sluice.managed_objects").rows {
                catalog.managed.insert(ManagedObject(kind: row[0]!, name: row[1]!))
            }
        }
        return catalog
    }

    /// `{a,b,"c d"}` (PostgreSQL's text form of a name[] or text[]) → elements.
    static func parseArray(_ text: String?) -> [String] {
        guard let text, text.count >= 2 else { return [] }
        var elements: [String] = [], current = "", quoted = false, escaped = false
        for character in text.dropFirst().dropLast() {
            if escaped { current.append(character); escaped = false; continue }
            switch character {
            case "\\" where quoted: escaped = true
            case "\"": quoted.toggle()
            case "," where !quoted: elements.append(current); current = ""
            default: current.append(character)
            }
        }
        if !text.dropFirst().dropLast().isEmpty { elements.append(current) }
        return elements
    }
}
