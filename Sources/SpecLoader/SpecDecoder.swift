import Foundation
import SluiceCore
import YAML

/// Decodes the merged YAML tree into a `Spec`. Reads every section, then resolves
/// references, then derives what the spec leaves implicit (route tables, roles, endpoint policies).
final class SpecDecoder {
    let file: String
    let sink: DiagnosticSink
    /// Defined names per kind, with where they were defined.
    var defined: [String: [String: SourceLocation]] = [:]
    /// Per kind, the logical-ID part of each resource name (`EtlA`) and the name that has it.
    var logicalNames: [String: [String: Located<String>]] = [:]
    /// Every name used as a reference, checked once all sections are read.
    var references: [(kind: String, name: String, location: SourceLocation)] = []
    var region = "us-east-1"

    init(file: String, sink: DiagnosticSink) {
        self.file = file
        self.sink = sink
    }

    func decode(_ root: YAMLNode) -> Spec? {
        guard let top = MapReader(root, SpecSchema.spec, sink: sink) else { return nil }
        let project = top.value("project", required: true).flatMap(decodeProject)
        if let project { region = project.region }
        let networkNode = top.value("network", required: true)
        let network = networkNode.flatMap(decodeNetwork)
        let storage = top.value("storage").map(decodeStorage) ?? Storage()
        let messaging = top.value("messaging").map(decodeMessaging) ?? Messaging()
        let compute = top.value("compute").map(decodeCompute) ?? Compute()
        let explicitRoles = top.value("identity").map(decodeIdentity) ?? []
        let warehouse = top.value("warehouse").flatMap { decodeWarehouse($0, compute: compute) }
        var pipelines = top.list("pipelines").compactMap { decodePipeline($0) }
        let suppressions = top.list("suppressions").compactMap(decodeSuppression)
        let environments = top.list("environments").compactMap {
            decodeEnvironment($0, compute: compute, warehouse: warehouse, pipelines: pipelines)
        }

        resolveReferences()
        pipelines = resolvePipelineTables(pipelines, warehouse: warehouse)
        guard let project, var network else { return nil }

        network = deriveNetwork(network, pipelines: pipelines, compute: compute)
        let roles = deriveRoles(compute: compute, pipelines: pipelines, warehouse: warehouse, explicit: explicitRoles)
        return Spec(
            file: file, project: project, network: network, identity: Identity(roles: roles), storage: storage,
            messaging: messaging, compute: compute, warehouse: warehouse, pipelines: pipelines,
            suppressions: suppressions, environments: environments)
    }

    // MARK: Names and references

    /// Records a definition; reports a duplicate of the same kind.
    @discardableResult
    func define(_ kind: String, _ name: String, at location: SourceLocation) -> Bool {
        if let first = defined[kind]?[name] {
            sink.add(LoaderDiagnostics.duplicateName(kind, name, at: location, first: first))
            return false
        }
        defined[kind, default: [:]][name] = location
        return true
    }

    func refer(_ kind: String, _ name: String, at location: SourceLocation) {
        references.append((kind, name, location))
    }

    func refer(_ kind: String, _ names: [Located<String>]) {
        for name in names { refer(kind, name.value, at: name.location) }
    }

    private func resolveReferences() {
        for reference in references where defined[reference.kind]?[reference.name] == nil {
            let candidates = defined[reference.kind].map { Array($0.keys).sorted() } ?? []
            sink.add(LoaderDiagnostics.dangling(reference.kind, reference.name, candidates: candidates, at: reference.location))
        }
    }

    /// A name used for resources and logical IDs: letters, digits, '-' and '_', starting with a letter.
    func name(_ reader: MapReader, kind: String) -> Located<String>? {
        guard let text = reader.string("name", required: true) else { return nil }
        let location = reader.location(of: "name")
        let valid =
            text.first?.isLetter == true && text.count <= 64
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        if !valid {
            sink.add(
                LoaderDiagnostics.invalid(
                    "\(kind) name '\(text)' must start with a letter and use only letters, digits, '-' and '_' (64 at most)",
                    at: location))
            return nil
        }
        guard define(kind, text, at: location) else { return nil }
        let part = LogicalName.part(text)
        if let other = logicalNames[kind]?[part] {
            sink.add(LoaderDiagnostics.sameLogicalID(kind, text, other.value, part: part, at: location, first: other.location))
            return nil
        }
        logicalNames[kind, default: [:]][part] = Located(value: text, location: location)
        return Located(value: text, location: location)
    }

    // MARK: Project

    private func decodeProject(_ node: YAMLNode) -> Project? {
        guard let r = MapReader(node, SpecSchema.project, sink: sink) else { return nil }
        let name = r.string("name", required: true)
        let region = r.string("region", required: true)
        if let region, !Self.isRegion(region) {
            sink.add(LoaderDiagnostics.invalid("'\(region)' is not an AWS region name (e.g. eu-west-1)", at: r.location(of: "region")))
        }
        let account = r.string("account")
        if let account, !(account.count == 12 && account.allSatisfy({ $0.isASCII && $0.isNumber })) {
            sink.add(
                LoaderDiagnostics.invalid(
                    "account '\(account)' is not a 12-digit AWS account ID (quote it in YAML)",
                    at: r.location(of: "account")))
        }
        let tags = r.stringMap("tags").map { (key: $0.key, value: $0.value) }
        guard let name, let region else { return nil }
        return Project(name: name, region: region, account: account, tags: tags, location: r.location)
    }

    static func isRegion(_ text: String) -> Bool {
        let parts = text.split(separator: "-")
        return parts.count >= 3 && parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) } })
            && parts.last!.allSatisfy(\.isNumber)
    }

    // MARK: Suppressions

    private func decodeSuppression(_ node: YAMLNode) -> Suppression? {
        guard let r = MapReader(node, SpecSchema.suppression, sink: sink) else { return nil }
        let rule = r.string("rule", required: true)
        let subject = r.string("subject")
        let reason = r.string("reason", required: true)
        if let reason, reason.trimmingCharacters(in: .whitespaces).count < 10 {
            sink.add(
                LoaderDiagnostics.invalid(
                    "a suppression needs a written reason (at least a short sentence)",
                    at: r.location(of: "reason")))
            return nil
        }
        guard let rule, let reason else { return nil }
        return Suppression(rule: rule, subject: subject, reason: reason, location: r.location)
    }

    // MARK: Shared value parsers

    func cidr(_ r: MapReader, _ key: String, required: Bool = false) -> CIDR? {
        guard let text = r.string(key, required: required) else { return nil }
        do { return try CIDR(parsing: text) } catch {
            sink.add(LoaderDiagnostics.badCIDR(error.description, at: r.location(of: key)))
            return nil
        }
    }

    func cidr(_ text: String, at location: SourceLocation) -> CIDR? {
        do { return try CIDR(parsing: text) } catch {
            sink.add(LoaderDiagnostics.badCIDR(error.description, at: location))
            return nil
        }
    }

    /// `5432`, `1024-65535` or `all`.
    func ports(_ r: MapReader) -> PortRange? {
        let key = r.has("ports") ? "ports" : "port"
        guard let node = r.value(key) else { return nil }
        guard let text = node.scalar else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a port, a range such as 1024-65535, or 'all'", found: node, at: node.location))
            return nil
        }
        if text == "all" { return .all }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        if parts.count == 1, let port = parts[0], (0...65535).contains(port) { return PortRange(port) }
        if parts.count == 2, let from = parts[0], let to = parts[1], (0...65535).contains(from), (0...65535).contains(to), from <= to {
            return PortRange(from, to)
        }
        sink.add(LoaderDiagnostics.invalid("'\(text)' is not a port (0-65535), a range such as 1024-65535, or 'all'", at: node.location))
        return nil
    }

    func postgresType(_ text: String, at location: SourceLocation) -> PostgresType? {
        if let type = PostgresType(parsing: text) { return type }
        sink.add(LoaderDiagnostics.unknownPostgresType(text, at: location))
        return nil
    }
}
