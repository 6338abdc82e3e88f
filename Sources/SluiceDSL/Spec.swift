#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole Sluice spec, the Swift form of a spec YAML file.
///
/// ```swift
/// import SluiceDSL
///
/// let spec = Spec {
///     Project("clickstream", region: "eu-west-1")
///     VPC("analytics", cidr: "10.0.0.0/16") {
///         Subnet("etl-a", cidr: "10.0.3.0/24", az: "a", type: .isolated)
///     }
/// }
/// ```
///
/// In a single-file spec (`sluice check specs/clickstream.swift`) declaring it is enough: like
/// `Package.swift`, the file is compiled against SluiceDSL and run, and the spec hands itself to
/// sluice when the program ends. A package of its own calls ``main()`` from its executable.
public struct Spec: Sendable {
    let root: SpecNode

    public init(file: String = #filePath, line: Int = #line, column: Int = #column, @SpecBuilder _ content: () -> [any SpecPart]) {
        var root = SpecNode.mapping(DeclarationSite(file: file, line: line, column: column))
        root.add(content().flatMap(\.contributions))
        self.root = root
        SpecRegistry.shared.declared(self)
    }

    /// The entry point of an executable that describes a spec. Run by sluice (`sluice check PATH`),
    /// it writes the spec where sluice asks; run by hand, it says how to check it.
    public func main() -> Never {
        SpecRegistry.shared.entryPointCalled = true
        let arguments = CommandLine.arguments
        if let flag = arguments.firstIndex(of: SpecRegistry.emitFlag), flag + 1 < arguments.count {
            exit(write(to: arguments[flag + 1]) ? 0 : 1)
        }
        let program = arguments.first ?? "this program"
        printError("\(program) describes a Sluice spec. Check it with: sluice check \(program)\n")
        exit(arguments.count > 1 ? 64 : 0)
    }

    /// The tree as JSON, the format sluice reads.
    public var wireJSON: String {
        var files: [String: Int] = [:]
        var order: [String] = []
        let body = root.json(files: &files, order: &order)
        return "{\"format\":\"sluice-spec-nodes/1\",\"files\":[\(order.map(SpecNode.quoted).joined(separator: ","))],\"root\":\(body)}\n"
    }

    func write(to path: String) -> Bool {
        guard let file = fopen(path, "w") else {
            printError("cannot write the spec to \(path): \(String(cString: strerror(errno)))\n")
            return false
        }
        let text = wireJSON
        let written = fputs(text, file) >= 0
        return fclose(file) == 0 && written
    }
}

/// Writes to standard error through its file descriptor (the C `stderr` global is shared mutable state to Swift 6).
func printError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// Specs declared by a single-file spec's top-level code, written out at exit (as SwiftPM does with
/// `Package`). One file declares one spec; a second declaration is reported, not silently preferred.
final class SpecRegistry: @unchecked Sendable {
    static let shared = SpecRegistry()
    static let emitFlag = "--sluice-emit"

    private var specs: [Spec] = []
    var entryPointCalled = false

    func declared(_ spec: Spec) {
        specs.append(spec)
        if specs.count == 1 { atexit { SpecRegistry.shared.atExit() } }
    }

    private func atExit() {
        guard !entryPointCalled, let flag = CommandLine.arguments.firstIndex(of: Self.emitFlag),
            flag + 1 < CommandLine.arguments.count
        else { return }
        guard specs.count == 1 else {
            let sites = specs.map { "\($0.root.site.file):\($0.root.site.line)" }.joined(separator: ", ")
            printError("error: a spec file declares one Spec; this one declares \(specs.count) (\(sites))\n")
            _exit(1)
        }
        if !specs[0].write(to: CommandLine.arguments[flag + 1]) { _exit(1) }
    }
}

/// `project:` — the deployment's name, region, account and tags.
public struct Project: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ name: String, region: String, account: String? = nil, tags: [String: String]? = nil,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .set(
                "project",
                to: .mapping(
                    at,
                    [
                        ("name", at.string(name)), ("region", at.string(region)), ("account", at.string(account)), ("tags", at.stringMap(tags)),
                    ]))
        ]
    }
}

/// `suppressions:` — a finding this deployment accepts, with the reason written down.
public struct Suppression: SpecPart {
    public let contributions: [Contribution]

    public init(
        _ rule: String, subject: String? = nil, reason: String,
        file: String = #filePath, line: Int = #line, column: Int = #column
    ) {
        let at = DeclarationSite(file: file, line: line, column: column)
        contributions = [
            .append(
                "suppressions",
                item: .mapping(
                    at,
                    [
                        ("rule", at.string(rule)), ("subject", at.string(subject)), ("reason", at.string(reason)),
                    ]))
        ]
    }
}
