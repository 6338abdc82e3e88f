// A Swift spec that compiles but names a security group it never declares: the finding points at the
// Ingress declaration below, as a YAML finding points at its line.
import SluiceDSL

let spec = Spec {
    Project("dangling", region: "eu-west-1")
    VPC(cidr: "10.0.0.0/16") {
        Subnet("db", cidr: "10.0.1.0/24", az: "a", type: .isolated)
        SecurityGroup("dw", description: "Warehouse PostgreSQL", outbound: .none) {
            Ingress(.postgres, from: "etl", description: "ETL loads")
        }
    }
}
