import Foundation

/// The running executable made self-contained for a Lambda task root: the binary as `bootstrap`, and
/// every shared library it loads — the dynamic loader and glibc included — under `lib/`.
///
/// Why bundle rather than link statically: provided.al2023 has glibc 2.34 and none of the Swift
/// runtime, Foundation, ICU, libpq (with its Kerberos, LDAP and TLS libraries), libyaml or simdjson;
/// the toolchain here cannot link glibc statically, and building against an older glibc would tie
/// the build machine to Amazon Linux. With its own loader (PT_INTERP → `/var/task/lib/ld.so`) and a
/// DT_RPATH of `/var/task/lib` (absolute: `$ORIGIN` needs /proc), the binary runs the glibc it was built with whatever the host's is:
/// nothing of the host's `/lib64` is loaded before the bundled copies.
public enum RuntimeBundle {
    /// Where Lambda unpacks a zip function's code (`LAMBDA_TASK_ROOT`).
    public static let taskRoot = "/var/task"
    public static let loaderPath = "lib/ld.so"

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// The architecture this build of sluice runs on, and so the only one it can package.
    public static var hostMachine: ELFImage.Machine {
        #if arch(x86_64)
            return .x86_64
        #elseif arch(arm64)
            return .arm64
        #else
            return .other(0)
        #endif
    }

    /// `bootstrap` and `lib/*` for `executable` (this process's own binary by default). Debug symbols
    /// are stripped (`strip --strip-unneeded`) to keep under Lambda's 250 MB.
    public static func files(executable: String = "/proc/self/exe") throws -> [PackageFile] {
        let binary = try stripped(executable)
        var image = try ELFImage([UInt8](binary))
        guard image.machine == hostMachine else {
            throw Problem(description: "\(executable) is an \(image.machine) binary; this sluice runs on \(hostMachine)")
        }
        try image.setInterpreter("\(taskRoot)/\(loaderPath)")
        try image.setRPATH("\(taskRoot)/lib")
        var files = [PackageFile(path: "bootstrap", contents: Data(image.bytes), executable: true)]
        for library in try sharedLibraries(of: executable) {
            let name = library.isLoader ? loaderPath : "lib/\(library.name)"
            files.append(PackageFile(path: name, contents: try stripped(library.path), executable: true))
        }
        return files
    }

    struct SharedLibrary: Equatable {
        var name: String
        var path: String
        var isLoader: Bool
    }

    /// What the dynamic loader resolves for `executable`, as `ldd` reports it (the kernel's vDSO left out).
    static func sharedLibraries(of executable: String) throws -> [SharedLibrary] {
        let output = try run("/usr/bin/ldd", [executable])
        return try parseLDD(output)
    }

    static func parseLDD(_ output: String) throws -> [SharedLibrary] {
        var libraries: [SharedLibrary] = []
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.isEmpty {
            let withoutAddress = line.replacingOccurrences(of: #"\s*\(0x[0-9a-f]+\)$"#, with: "", options: .regularExpression)
            if withoutAddress.hasSuffix("=> not found") {
                throw Problem(description: "the dynamic loader finds no \(withoutAddress.dropLast(" => not found".count))")
            }
            let parts = withoutAddress.components(separatedBy: " => ")
            if parts.count == 2 {
                guard !parts[1].isEmpty else { continue }  // the vDSO on some systems
                libraries.append(SharedLibrary(name: parts[0], path: parts[1], isLoader: false))
            } else if withoutAddress.hasPrefix("/") {
                libraries.append(SharedLibrary(name: (withoutAddress as NSString).lastPathComponent, path: withoutAddress, isLoader: true))
            }
        }
        guard libraries.contains(where: \.isLoader) else { throw Problem(description: "ldd names no dynamic loader: is the binary static?") }
        return libraries
    }

    private static func stripped(_ path: String) throws -> Data {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-strip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        _ = try run("/usr/bin/strip", ["--strip-unneeded", "-o", output.path, path])
        return try Data(contentsOf: output)
    }

    private static func run(_ tool: String, _ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw Problem(description: "\(tool) is needed to build a package (Debian: apt-get install binutils libc-bin)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Problem(description: "\(tool) \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }
}
