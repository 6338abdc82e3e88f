/// How a workload that runs pipelines logs in to the warehouse: as the database role that writes
/// its pipelines' targets, never as the warehouse's admin. RDS and Aurora take an IAM authentication
/// token for it (the workload's IAM role may connect as that database user and no other); a
/// self-managed PostgreSQL takes a password generated into a secret of the role's own.
public struct WarehouseLogin: Hashable, Sendable {
    public enum Method: String, Hashable, Sendable {
        case iam
        case password
    }

    public var role: String
    public var method: Method

    /// The generated secret of a password login (`{"username": ROLE, "password": …}`).
    public var secret: String? { method == .password ? "\(role)-credentials" : nil }
}

extension WarehouseLogin {
    /// The login of a workload's pipelines: the first role (by name) that may write the targets of
    /// every pipeline it runs. Nil when it runs none against the warehouse, or no role writes them all.
    public static func of(workload: String, pipelines: [Pipeline], warehouse: Warehouse?) -> WarehouseLogin? {
        guard let warehouse else { return nil }
        let mine = pipelines.filter { $0.workload == workload && !$0.targets.isEmpty }
        guard let first = mine.first else { return nil }
        let shared = mine.dropFirst().reduce(Set(warehouse.writerRoles(of: first))) { $0.intersection(warehouse.writerRoles(of: $1)) }
        guard let role = shared.min() else { return nil }
        return WarehouseLogin(role: role, method: warehouse.engine.isManaged ? .iam : .password)
    }

    /// The generated secret whose string is the key of `mask: hash` columns, when a pipeline has one.
    public static func maskKeySecret(_ pipelines: [Pipeline]) -> String? { pipelines.contains(where: \.hashesValues) ? "mask-key" : nil }
}

extension Spec {
    public func warehouseLogin(forWorkload workload: String) -> WarehouseLogin? {
        WarehouseLogin.of(workload: workload, pipelines: pipelines, warehouse: warehouse)
    }

    public var maskKeySecret: String? { WarehouseLogin.maskKeySecret(pipelines) }
}

extension Pipeline {
    /// A column of one of its targets is written as an HMAC (`mask: hash`), which needs the key.
    public var hashesValues: Bool { targets.contains { $0.mappings.contains { $0.mask == .hash } } }
}

extension Warehouse {
    /// Roles with INSERT or UPDATE on one of the pipeline's target tables.
    public func writerRoles(of pipeline: Pipeline) -> [String] {
        let targets = Set(pipeline.targets.compactMap { table($0.table)?.qualifiedName })
        return roles.filter { role in
            role.grants.contains { grant in
                guard grant.privileges.contains(where: { $0 == "INSERT" || $0 == "UPDATE" }) else { return false }
                return grant.on.contains { target in
                    if target.hasPrefix("schema:") {
                        return targets.contains { $0.hasPrefix(String(target.dropFirst("schema:".count)) + ".") }
                    }
                    return table(target).map { targets.contains($0.qualifiedName) } ?? false
                }
            }
        }.map(\.name).sorted()
    }
}
