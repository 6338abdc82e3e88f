// A Swift spec the compiler refuses: a subnet type that does not exist. The DSL's enums turn what
// YAML would report after loading into a compile error at the exact line and column.
import SluiceDSL

let spec = Spec {
    Project("broken", region: "eu-west-1")
    VPC(cidr: "10.0.0.0/16") {
        Subnet("etl-a", cidr: "10.0.1.0/24", az: "a", type: .isolatd)
    }
}
