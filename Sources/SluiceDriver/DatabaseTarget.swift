import Foundation
import LiveWarehouse

/// Which database a command talks to: `--database URL`, else libpq's `PG*` environment, else the
/// throwaway local cluster (started on demand, the spec's database created in it).
public enum DatabaseTarget {
    public static let environmentKeys = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]

    case url(String)
    case environment
    case localCluster(LocalCluster)

    public static func resolve(_ option: String?) -> DatabaseTarget {
        if let option, !option.isEmpty { return .url(option) }
        let environment = ProcessInfo.processInfo.environment
        if environmentKeys.contains(where: { environment[$0] != nil }) { return .environment }
        return .localCluster(LocalCluster.default())
    }

    /// The conninfo for libpq, starting the local cluster and creating `database` in it if needed.
    public func connectionString(database: String) throws -> String {
        switch self {
        case .url(let url): return url
        case .environment: return ""
        case .localCluster(let cluster):
            try cluster.start()
            try cluster.createDatabase(database)
            return cluster.url(database: database)
        }
    }

    /// How to show the target without leaking a password.
    public func describe(database: String) -> String {
        switch self {
        case .url(let url): return Self.redacted(url)
        case .environment: return "the database the PG* environment names"
        case .localCluster(let cluster): return "the local cluster in \(cluster.root.path), database \(database)"
        }
    }

    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// How to connect by hand to a database of the local cluster, when that is the target.
    public func connectHint(database: String) -> String? {
        guard case .localCluster(let cluster) = self else { return nil }
        return "connect: psql '\(cluster.url(database: database))'   (or: sluice db psql --database \(database))"
    }
}

/// The throwaway local cluster the commands default to, as `sluice db` manages it.
public typealias LocalCluster = LiveWarehouse.LocalCluster
