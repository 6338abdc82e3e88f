import SluiceCore

struct PipelineReachesAPIRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL217", name: "pipeline-reaches-api", severity: .error,
        summary: "A pipeline reading a web API can reach its host on the internet, and its credential's secret, from every subnet it runs in.",
        explanation: """
            An API source is fetched by the pipeline's workload before its pages are loaded, so the workload must reach the \
            internet on the URL's port from each of its subnets: a default route to a NAT gateway in a public subnet whose route \
            table leads to an internet gateway (a Lambda function never has a public address, so an internet-gateway route does \
            not serve it), an egress rule of its security groups to 0.0.0.0/0 on that port, and network ACLs that pass the request \
            and the response. The API's address is not known before deploy, so all of the internet must be open to it on that \
            port: a rule to one address range is not proof. With `auth`, it must also reach Secrets Manager, where the \
            credential is. The landing bucket is checked with the source buckets (SL210), for writes too.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                pipelines:
                  - name: bank
                    workload: etl
                    source:
                      api: ↓{ url: "https://api.bank.example/v1/transactions" }
                      landing: { bucket: raw, prefix: bank/ }
                    targets:
                      - table: events
                        columns: { event_id: id, event_name: kind }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                network:
                  nat_gateways: [{ name: nat, subnet: public }]
                  subnets:
                    - { name: fetch-a, cidr: 10.0.4.0/24, az: a, type: private }
                  security_groups:
                    - name: fetch
                      egress:
                        - { port: 443, cidr: 0.0.0.0/0 }
                        - { port: 5432, security_group: dw }
                compute:
                  functions:
                    - { name: fetcher, subnets: [fetch-a], security_groups: [fetch] }
                pipelines:
                  - name: bank
                    workload: fetcher
                    source:
                      api: { url: "https://api.bank.example/v1/transactions" }
                      landing: { bucket: raw, prefix: bank/ }
                    targets:
                      - table: events
                        columns: { event_id: id, event_name: kind }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        context.spec.pipelines.flatMap { pipeline -> [Diagnostic] in
            guard let api = pipeline.source.api, let url = APISource.URLParts(api.url) else { return [] }
            let placements = context.reachability.placements(ofWorkload: pipeline.workload)
            guard let owner = placements.first?.owner else { return [] }
            let internet = placements.map { placement in
                (
                    placement.subnet.name, String?.none,
                    context.reachability.reachInternet(
                        from: placement, purpose: "\(url.host) port \(url.port)", path: ["\(placement)"], port: url.port)
                )
            }
            var findings = BlockedCut.gather(internet).map { cut in
                finding(
                    "pipeline '\(pipeline.name)': \(owner) cannot reach its API at \(url.host) (TCP \(url.port)) from \(BlockedCut.subnets(cut.sources)): \(cut.reason)",
                    at: api.location, subject: "pipeline:\(pipeline.name)", evidence: cut.path)
            }
            if let auth = api.auth {
                let secrets = placements.map { placement in
                    (placement.subnet.name, String?.none, context.reachability.reachService(from: placement, service: "secretsmanager"))
                }
                findings += BlockedCut.gather(secrets).map { cut in
                    finding(
                        "pipeline '\(pipeline.name)': \(owner) cannot reach Secrets Manager for the API's credential '\(auth.secret)' from \(BlockedCut.subnets(cut.sources)): \(cut.reason)",
                        at: api.location, subject: "pipeline:\(pipeline.name)", evidence: cut.path)
                }
            }
            return findings
        }
    }
}
