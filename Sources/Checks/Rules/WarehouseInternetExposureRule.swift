import SluiceCore

struct WarehouseInternetExposureRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL213", name: "warehouse-internet-exposure", severity: .error,
        summary: "Nothing on the internet can connect to the warehouse.",
        explanation: """
        Internet traffic reaches an interface when its subnet routes to an internet gateway, the interface has a public address, \
        the network ACL admits the request and lets the response out, and a security group admits some public address on the \
        port. The finding shows that whole path; break any link of it.
        """)

    func check(_ context: CheckContext) -> [Diagnostic] {
        guard let warehouse = context.spec.warehouse else { return [] }
        return context.reachability.placements(ofWarehouse: warehouse).compactMap { placement in
            guard case .reachable(let path) = context.reachability.reachFromInternet(to: placement, port: warehouse.port) else { return nil }
            return finding("warehouse '\(warehouse.name)' can be reached from the internet on port \(warehouse.port) in subnet '\(placement.subnet.name)'",
                           at: warehouse.location, subject: "warehouse:\(warehouse.name)", evidence: path)
        }
    }
}
