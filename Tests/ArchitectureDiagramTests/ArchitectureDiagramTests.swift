import ArchitectureDiagram
import Foundation
import SluiceCore
import SpecLoader
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("architecture.md")
struct ArchitectureDiagramTests {
    func clickstream() throws -> Spec {
        try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/clickstream.yaml").path).spec)
    }

    @Test func showsZonesWorkloadsEndpointsAndDataFlow() throws {
        let text = ArchitectureDiagram.render(spec: try clickstream())
        #expect(text.contains("subgraph az_eu_west_1b[\"eu-west-1b\"]"))
        #expect(text.contains("subnet_etl_b[\"etl-b · isolated · 10.0.4.0/24\"]"))
        #expect(text.contains("function_etl -.- subnet_etl_a"))
        #expect(text.contains("subnet_etl_a -.- endpoint_s3"))
        #expect(text.contains("function_etl -- \"tcp 5432\" --> host_warehouse"))
        #expect(text.contains("cidr_0_0_0_0_0 -- \"tcp 443\" --> host_oltp"))
        #expect(text.contains("pipeline_clickstream -- \"upsert on user_id\" --> table_analytics_dim_users"))
        #expect(text.contains("pipeline_clickstream -. \"refresh\" .-> view_analytics_daily_event_counts"))
        #expect(text == ArchitectureDiagram.render(spec: try clickstream()))
    }

    @Test func aConnectionWithOnlyOneSideAllowedIsDashed() throws {
        var spec = try clickstream()
        let etl = try #require(spec.network.securityGroups.firstIndex { $0.name == "etl" })
        spec.network.securityGroups[etl].egress.removeAll { $0.ports == PortRange(5432, 5432) }
        let text = ArchitectureDiagram.render(spec: spec)
        #expect(text.contains("function_etl -. \"tcp 5432 · no egress rule lets it out\" .-> host_warehouse"))
        #expect(!text.contains("function_etl -- \"tcp 5432\" --> host_warehouse"))
        // An egress rule to an address range covers the connection again.
        spec.network.securityGroups[etl].egress.append(
            SecurityGroupRule(proto: .tcp, ports: PortRange(5432, 5432), peer: .cidr(try CIDR(parsing: "10.0.0.0/16"))))
        #expect(ArchitectureDiagram.render(spec: spec).contains("function_etl -- \"tcp 5432\" --> host_warehouse"))
    }
}
