import Foundation
import SluiceCore
import SpecLoader
import TestSupport
import Testing

@testable import Checks

/// The whole "must reach" answer (routes, both subnets' network ACLs, both security groups) against
/// a deliberately naive evaluator that follows one packet at a time, on the reference specs with
/// their networks mutated at random. The packets are the boundaries: every rule's first and last
/// address and port, one either side, and the ends of the ranges asked about. Decisions are
/// constant between boundaries, so a set answer that differs from every sampled packet's is wrong.
@Suite struct ConcreteReachabilityTests {
    /// AWS's documented behaviour for one TCP packet at a time.
    struct Concrete {
        let network: Network

        func route(from subnet: Subnet, to address: UInt128) -> RouteTarget? {
            var routes = network.routeTable(for: subnet.name)?.routes ?? []
            routes.append(Route(destination: network.vpc.cidr, target: .local))
            return routes.filter { $0.destination.family == .v4 && $0.destination.firstAddress <= address && address <= $0.destination.lastAddress }
                .max { $0.destination.prefixLength < $1.destination.prefixLength }?.target
        }

        func acl(_ subnet: Subnet, egress: Bool, peer: UInt128, port: Int) -> Bool {
            guard let acl = network.networkACL(for: subnet.name) else { return true }
            for entry in egress ? acl.egress : acl.ingress where entry.proto.matches(.tcp) {
                let ports = entry.proto == .all ? PortRange.all : entry.ports
                if entry.cidr.firstAddress <= peer && peer <= entry.cidr.lastAddress && ports.contains(port: port) { return entry.action == .allow }
            }
            return false
        }

        func group(_ groups: [String], egress: Bool, peerGroups: [String], peer: UInt128, port: Int) -> Bool {
            groups.contains { name in
                (egress ? network.securityGroup(name)?.egress : network.securityGroup(name)?.ingress)?.contains { rule in
                    guard rule.proto.matches(.tcp), rule.proto == .all || rule.ports.contains(port: port) else { return false }
                    switch rule.peer {
                    case .securityGroup(let other): return peerGroups.contains(other)
                    case .cidr(let block): return block.family == .v4 && block.firstAddress <= peer && peer <= block.lastAddress
                    case .prefixList: return false
                    }
                } ?? false
            }
        }

        /// Every sampled packet of the connection and its response gets through.
        func reaches(_ source: Placement, _ target: Placement, port: Int, sources: [UInt128], targets: [UInt128], ephemeral: [Int]) -> Bool {
            for s in sources {
                for d in targets {
                    guard route(from: source.subnet, to: d) == .local, route(from: target.subnet, to: s) == .local else { return false }
                    if source.subnet.name != target.subnet.name {
                        guard acl(source.subnet, egress: true, peer: d, port: port), acl(target.subnet, egress: false, peer: s, port: port) else {
                            return false
                        }
                        for e in ephemeral {
                            guard acl(target.subnet, egress: true, peer: s, port: e), acl(source.subnet, egress: false, peer: d, port: e) else {
                                return false
                            }
                        }
                    }
                    guard group(source.securityGroups, egress: true, peerGroups: target.securityGroups, peer: d, port: port),
                        group(target.securityGroups, egress: false, peerGroups: source.securityGroups, peer: s, port: port)
                    else { return false }
                }
            }
            return true
        }
    }

    /// Boundaries inside `range`: its ends, and every rule edge and its neighbours that fall in it.
    static func samples(_ range: ClosedRange<UInt128>, edges: [UInt128]) -> [UInt128] {
        let around = edges.flatMap { [$0 == 0 ? 0 : $0 - 1, $0, $0 + 1] }
        return Array(Set([range.lowerBound, range.upperBound] + around.filter(range.contains))).sorted()
    }

    static func mutate(_ network: inout Network, _ random: inout SplitMix64, subnets: [Subnet]) {
        func anyCIDR() -> CIDR {
            let subnet = subnets.randomElement(using: &random)!
            let prefix = Int.random(in: max(subnet.cidr.prefixLength - 2, 8)...min(subnet.cidr.prefixLength + 3, 32), using: &random)
            let offset = UInt128(Int.random(in: 0...Int(min(subnet.cidr.addressCount - 1, 1 << 20)), using: &random))
            return CIDR(family: .v4, network: subnet.cidr.firstAddress + offset, prefixLength: prefix)
        }
        func anyPorts() -> PortRange {
            switch Int.random(in: 0...4, using: &random) {
            case 0: return PortRange(1024, 32767)
            case 1: return PortRange(32768, 65535)
            case 2: return PortRange(5432)
            case 3: let low = Int.random(in: 1000...60000, using: &random); return PortRange(low, low + Int.random(in: 0...5000, using: &random))
            default: return .all
            }
        }
        switch Int.random(in: 0...2, using: &random) {
        case 0:
            // A network ACL on some subnets: allows split in halves, denies in front, gaps.
            let chosen = subnets.filter { _ in Bool.random(using: &random) }
            guard !chosen.isEmpty else { return }
            network.networkACLs.removeAll { !Set($0.subnets).isDisjoint(with: chosen.map(\.name)) }
            func entries() -> [NetworkACLEntry] {
                (0..<Int.random(in: 1...5, using: &random)).map { index in
                    NetworkACLEntry(
                        number: 100 + 10 * index, proto: [.tcp, .tcp, .all, .udp].randomElement(using: &random)!, ports: anyPorts(),
                        cidr: Bool.random(using: &random) ? network.vpc.cidr : anyCIDR(),
                        action: Int.random(in: 0...3, using: &random) == 0 ? .deny : .allow)
                }
            }
            network.networkACLs.append(
                NetworkACL(name: "m\(network.networkACLs.count)", subnets: chosen.map(\.name), ingress: entries(), egress: entries()))
        case 1:
            // A security group rule replaced by CIDR rules, perhaps split, perhaps short of the subnet.
            guard let index = network.securityGroups.indices.randomElement(using: &random) else { return }
            let rules = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                SecurityGroupRule(proto: Bool.random(using: &random) ? .tcp : .all, ports: anyPorts(), peer: .cidr(anyCIDR()))
            }
            if Bool.random(using: &random) { network.securityGroups[index].ingress += rules } else { network.securityGroups[index].egress += rules }
            if Bool.random(using: &random), !network.securityGroups[index].ingress.isEmpty { network.securityGroups[index].ingress.removeFirst() }
        default:
            // A route inside the VPC to a NAT gateway, which takes a subnet's traffic off the local route.
            guard let table = network.routeTables.indices.randomElement(using: &random), let subnet = subnets.randomElement(using: &random) else {
                return
            }
            // The whole subnet, or a half of it (which AWS would refuse, SL209, but which must still be judged right).
            let half = CIDR(
                family: .v4, network: subnet.cidr.firstAddress + (Bool.random(using: &random) ? 0 : subnet.cidr.addressCount / 2),
                prefixLength: subnet.cidr.prefixLength + 1)
            network.routeTables[table].routes.append(Route(destination: Bool.random(using: &random) ? subnet.cidr : half, target: .natGateway("m")))
        }
    }

    @Test func mutatedReferenceNetworksAgreeWithOnePacketAtATime() throws {
        let directory = packageRoot.appendingPathComponent("specs")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        var random = SplitMix64(state: 2026)
        var questions = 0, blocked = 0
        for name in names {
            guard let base = SpecLoader.load(path: directory.appendingPathComponent(name).path).spec, let warehouse = base.warehouse else { continue }
            for _ in 0..<40 {
                var spec = base
                let subnets = spec.network.subnets.filter { $0.cidr.family == .v4 }
                for _ in 0..<Int.random(in: 1...3, using: &random) { Self.mutate(&spec.network, &random, subnets: subnets) }
                let engine = ReachabilityEngine(spec: spec)
                let concrete = Concrete(network: spec.network)
                for pipeline in spec.pipelines {
                    for source in engine.placements(ofWorkload: pipeline.workload) {
                        for target in engine.placements(ofWarehouse: warehouse) {
                            let acls = [source.subnet, target.subnet].compactMap { spec.network.networkACL(for: $0.name) }
                            let entries = acls.flatMap { $0.ingress + $0.egress }
                            let cidrRules = spec.network.securityGroups.flatMap { $0.ingress + $0.egress }.compactMap { rule -> CIDR? in
                                if case .cidr(let block) = rule.peer { return block } else { return nil }
                            }
                            let blocks = entries.map(\.cidr) + cidrRules + spec.network.routeTables.flatMap(\.routes).map(\.destination)
                            let edges = blocks.filter { $0.family == .v4 }.flatMap { [$0.firstAddress, $0.lastAddress] }
                            let ports = (entries.map(\.ports) + spec.network.securityGroups.flatMap { $0.ingress + $0.egress }.map(\.ports))
                                .flatMap { [UInt128($0.from), UInt128($0.to)] }
                            let ephemeral = source.ephemeralPorts
                            let verdict = engine.reach(from: source, to: target, port: warehouse.port, .every)
                            let truth = concrete.reaches(
                                source, target, port: warehouse.port,
                                sources: Self.samples(source.subnet.cidr.firstAddress...source.subnet.cidr.lastAddress, edges: edges),
                                targets: Self.samples(target.subnet.cidr.firstAddress...target.subnet.cidr.lastAddress, edges: edges),
                                ephemeral: Self.samples(UInt128(ephemeral.from)...UInt128(ephemeral.to), edges: ports).map { Int($0) })
                            #expect(verdict.isReachable == truth, "\(name): \(source) → \(target): \(verdict)")
                            questions += 1
                            if !truth { blocked += 1 }
                        }
                    }
                }
            }
        }
        #expect(
            questions > 200 && blocked > 20 && questions - blocked > 20, "both answers must be exercised: \(questions) questions, \(blocked) blocked")
        print("whole-path differential: \(questions) workload-to-warehouse questions on mutated reference networks, \(blocked) blocked")
    }
}
