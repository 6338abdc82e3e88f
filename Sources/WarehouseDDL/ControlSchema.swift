import SluiceCore

/// Sluice's own bookkeeping in the warehouse, schema `sluice`. It is part of every desired schema,
/// so it is created and migrated exactly like the spec's tables.
public enum ControlSchema {
    public static let name = "sluice"

    private static func column(
        _ name: String, _ type: PostgresType.Base, notNull: Bool = true, default value: String? = nil,
        identity: Bool = false, _ description: String
    ) -> Column {
        Column(name: name, type: PostgresType(type), notNull: notNull, defaultExpression: value, description: description, identity: identity)
    }

    public static let tables: [Table] = [
        Table(
            schema: name, name: "schema_version",
            columns: [
                column("version", .bigint, identity: true, "Increases by one per migration that changed something."),
                column("schema_digest", .text, "Fingerprint (FNV-1a 64) of the DDL the spec renders to."),
                column("source", .text, "What applied it: schema.sql, or sluice apply and its version."),
                column("statements", .integer, "How many statements the migration ran."),
                column("applied_at", .timestamptz, default: "now()", "When the migration committed."),
                column("applied_by", .text, default: "CURRENT_USER", "The database user that applied it."),
            ], primaryKey: ["version"], description: "Each migration that changed the database, newest last."),
        Table(
            schema: name, name: "managed_objects",
            columns: [
                column("kind", .text, "schema, table, column, constraint, index, view, materialized view, role or function."),
                column("name", .text, "Qualified name; columns and constraints as schema.table.name."),
            ], primaryKey: ["kind", "name"],
            description: "What Sluice created. A migration drops only these; anything else it finds is reported as drift."),
        Table(
            schema: name, name: "load_runs",
            columns: [
                column("run_id", .bigint, identity: true, "One run of one pipeline."),
                column("pipeline", .text, "Pipeline name from the spec."),
                column("started_at", .timestamptz, default: "now()", "When the run started."),
                column("finished_at", .timestamptz, notNull: false, "When it ended; null while it runs."),
                column("status", .text, default: "'running'", "running, succeeded or failed."),
                column("database_role", .text, default: "CURRENT_USER", "The role the run logged in as (the pipeline's writer role)."),
                column("objects_loaded", .integer, default: "0", "Source objects loaded by this run."),
                column("objects_skipped", .integer, default: "0", "Source objects already in the manifest."),
                column("objects_changed", .integer, default: "0", "Objects rewritten after they were loaded: reported, not reloaded."),
                column("objects_failed", .integer, default: "0", "Objects whose load failed and was rolled back."),
                column("records_read", .bigint, default: "0", "Records read from the loaded objects."),
                column("records_loaded", .bigint, default: "0", "Records written to the target tables."),
                column("records_duplicate", .bigint, default: "0", "Records whose dedupe key was already seen or loaded."),
                column("records_filtered", .bigint, default: "0", "Records a filter rule dropped."),
                column("records_quarantined", .bigint, default: "0", "Records refused and kept in sluice.quarantine."),
                column("error", .text, notNull: false, "Why a failed run failed."),
            ], primaryKey: ["run_id"],
            checks: [
                CheckConstraint(name: "load_runs_status_check", expression: "status IN ('running', 'succeeded', 'failed')")
            ],
            indexes: [
                Index(name: "load_runs_pipeline_started_at_idx", columns: ["pipeline", "started_at"])
            ], description: "Every pipeline run, with its counts."),
        Table(
            schema: name, name: "manifest",
            columns: manifestEntryColumns + [
                column("loaded_at", .timestamptz, default: "now()", "When its load committed."),
                column("replaces_run", .bigint, notNull: false, "A reload: the run whose load of this key it replaced (in manifest_replaced)."),
            ], primaryKey: ["pipeline", "object_key", "etag"],
            foreignKeys: [
                ForeignKey(columns: ["run_id"], referencedTable: "\(name).load_runs", referencedColumns: ["run_id"])
            ],
            indexes: [
                Index(name: "manifest_run_id_idx", columns: ["run_id"])
            ], description: "Source objects already loaded, committed with their rows: what makes loads exactly-once."),
        Table(
            schema: name, name: "manifest_replaced",
            columns: manifestEntryColumns + [
                column("loaded_at", .timestamptz, "When that load committed."),
                column("replaced_by_run", .bigint, "The reload that replaced it."),
                column("replaced_at", .timestamptz, default: "now()", "When."),
            ], primaryKey: ["pipeline", "object_key", "etag", "replaced_by_run"],
            foreignKeys: [
                ForeignKey(columns: ["replaced_by_run"], referencedTable: "\(name).load_runs", referencedColumns: ["run_id"])
            ],
            description: "Manifest entries a reload replaced: what was loaded before, and by which run."),
        Table(
            schema: name, name: "quarantine",
            columns: [
                column("quarantine_id", .bigint, identity: true, "One refused record."),
                column("run_id", .bigint, "The run that refused it."),
                column("pipeline", .text, "Pipeline name from the spec."),
                column("object_key", .text, "Source object it came from."),
                column("line", .bigint, notNull: false, "1-based line (JSON Lines, CSV) or record number."),
                column("field", .text, notNull: false, "The field that failed, when one did."),
                column("reason", .text, "Why it was refused."),
                column("record", .text, notNull: false, "The raw record, as read (it may not be valid JSON)."),
                column("quarantined_at", .timestamptz, default: "now()", "When it was refused."),
                column(
                    "replaced_by_run", .bigint, notNull: false,
                    "A reload of its object replaced the load that refused it: kept, but no longer current."),
            ], primaryKey: ["quarantine_id"],
            foreignKeys: [
                ForeignKey(columns: ["run_id"], referencedTable: "\(name).load_runs", referencedColumns: ["run_id"])
            ],
            indexes: [
                Index(name: "quarantine_run_id_idx", columns: ["run_id"]),
                Index(name: "quarantine_pipeline_quarantined_at_idx", columns: ["pipeline", "quarantined_at"]),
            ], description: "Records a pipeline refused, kept whole with the reason, so nothing is lost."),
        Table(
            schema: name, name: "api_cursors",
            columns: [
                column("pipeline", .text, "Pipeline name from the spec (one with an API source)."),
                column(
                    "cursor", .text, notNull: false,
                    "The greatest value of the records' incremental field landed so far: the next fetch starts from it."),
                column(
                    "fetching_into", .text, notNull: false,
                    "While a fetch runs: the folder its pages are landed in. Left set by a fetch cut short, whose pages are not loaded until the next run has gone on with it."
                ),
                column(
                    "resume", .text, notNull: false,
                    "While a fetch runs: the request for its next page, the pages landed and the greatest cursor value so far (JSON), for going on after it is cut short."
                ),
                column("fetched_at", .timestamptz, notNull: false, "When the last fetch finished."),
                column("run_id", .bigint, "The run that fetched last (or is fetching)."),
            ], primaryKey: ["pipeline"],
            foreignKeys: [
                ForeignKey(columns: ["run_id"], referencedTable: "\(name).load_runs", referencedColumns: ["run_id"])
            ],
            description: "Where each API source's next fetch starts, kept with the loads it leads to."),
    ]

    /// What a manifest entry says of one load of one object; a replaced entry keeps all of it.
    static let manifestEntryColumns: [Column] = [
        column("pipeline", .text, "Pipeline name from the spec."),
        column("object_key", .text, "Source object key (S3) or path (local folder)."),
        column("etag", .text, "The object's ETag (S3) or content hash (local): a rewritten object is new."),
        column("size_bytes", .bigint, "Object size when loaded."),
        column("run_id", .bigint, "The run that loaded it."),
        column("records_read", .bigint, "Records read from this object."),
        column("records_loaded", .bigint, "Records of this object written to the target tables."),
        column("records_quarantined", .bigint, "Records of this object refused."),
    ]

    /// What a pipeline's writer role needs of the control schema: no DELETE, no TRUNCATE, no DDL.
    public static let writerPrivileges: [(table: String, privileges: [String])] = [
        ("\(name).load_runs", ["INSERT", "SELECT", "UPDATE"]),
        ("\(name).manifest", ["INSERT", "SELECT"]),
        ("\(name).schema_version", ["SELECT"]),
        ("\(name).quarantine", ["INSERT", "SELECT"]),
        ("\(name).api_cursors", ["INSERT", "SELECT", "UPDATE"]),
    ]

    /// PostgreSQL lets only a materialized view's owner refresh it. This function runs as its owner
    /// (SECURITY DEFINER, with a fixed search_path so callers cannot redirect names) and refreshes only
    /// the materialized views Sluice manages; EXECUTE goes to the writer roles of the pipelines that
    /// refresh one, and nobody else (PUBLIC's default EXECUTE is revoked).
    public static let refreshFunction = FunctionDefinition(
        signature: "\(name).refresh_materialized_view(regclass)",
        qualifiedName: "\(name).refresh_materialized_view",
        arguments: "view regclass",
        returns: "void",
        attributes: "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp",
        body: """
            DECLARE
                view_schema name;
                view_name name;
                populated boolean;
            BEGIN
                SELECT n.nspname, c.relname, c.relispopulated INTO view_schema, view_name, populated
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = view AND c.relkind = 'm';
                IF NOT FOUND THEN
                    RAISE EXCEPTION '% is not a materialized view', view;
                END IF;
                IF NOT EXISTS (SELECT FROM sluice.managed_objects
                               WHERE kind = 'materialized view' AND name = view_schema || '.' || view_name) THEN
                    RAISE EXCEPTION '% is not a materialized view that Sluice manages', view;
                END IF;
                -- CONCURRENTLY keeps the view readable while it refreshes; it needs rows already there
                -- and a unique index without a WHERE clause.
                IF populated AND EXISTS (SELECT FROM pg_index i
                                         WHERE i.indrelid = view AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL) THEN
                    EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.%I', view_schema, view_name);
                ELSE
                    EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I', view_schema, view_name);
                END IF;
            END;
            """)
}
