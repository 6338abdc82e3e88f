/// What a spec name becomes inside a CloudFormation logical ID: its letters and digits, each run
/// starting upper-case (`etl-a` and `etl_a` both become `EtlA`). The loader refuses two names of one
/// kind with the same part, since the template would hold one resource for both.
public enum LogicalName {
    public static func part(_ name: String) -> String {
        let parts = name.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return parts.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
