import Foundation
import SluiceCore
import TestSupport
import Testing

@testable import Checks
@testable import SpecLoader

enum Mutator {
    static let kinds = [
        "truncate", "flip", "swap-lines", "delete-line", "duplicate-line", "deep-nesting", "huge-scalar", "alias-bomb",
        "invalid-utf8", "indent", "swap-values",
    ]

    static func mutate(_ bytes: [UInt8], kind: String, rng: inout SplitMix64) -> [UInt8] {
        var out = bytes
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func joined() -> [UInt8] { Array(lines.joined(separator: "\n").utf8) }
        switch kind {
        case "truncate": return Array(out.prefix(Int.random(in: 0..<max(1, out.count), using: &rng)))
        case "flip":
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let i = Int.random(in: 0..<out.count, using: &rng)
                out[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            }
            return out
        case "swap-lines":
            lines.swapAt(Int.random(in: 0..<lines.count, using: &rng), Int.random(in: 0..<lines.count, using: &rng))
            return joined()
        case "delete-line":
            lines.remove(at: Int.random(in: 0..<lines.count, using: &rng))
            return joined()
        case "duplicate-line":
            let i = Int.random(in: 0..<lines.count, using: &rng)
            lines.insert(lines[i], at: i)
            return joined()
        case "deep-nesting":
            let depth = Int.random(in: 100...5000, using: &rng)
            lines.insert(
                "x: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth), at: Int.random(in: 0..<lines.count, using: &rng))
            return joined()
        case "huge-scalar":
            lines.insert(
                "  huge: \"" + String(repeating: "ab", count: Int.random(in: 100_000...1_000_000, using: &rng)) + "\"",
                at: Int.random(in: 0..<lines.count, using: &rng))
            return joined()
        case "alias-bomb":
            var bomb = "bomb0: &b0 [z, z, z, z, z, z, z, z, z, z]\n"
            for level in 1...9 {
                bomb += "bomb\(level): &b\(level) [" + Array(repeating: "*b\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
            }
            return Array(bomb.utf8) + bytes
        case "invalid-utf8":
            out.insert(contentsOf: [0xC3, 0x28, 0xFF], at: Int.random(in: 0..<out.count, using: &rng))
            return out
        case "indent":
            let i = Int.random(in: 0..<lines.count, using: &rng)
            lines[i] = String(repeating: " ", count: Int.random(in: 1...6, using: &rng)) + lines[i]
            return joined()
        default:  // swap-values: put one line's value after another line's key
            let a = Int.random(in: 0..<lines.count, using: &rng), b = Int.random(in: 0..<lines.count, using: &rng)
            if let ca = lines[a].firstIndex(of: ":"), let cb = lines[b].firstIndex(of: ":") {
                lines[a] = String(lines[a][..<ca]) + String(lines[b][cb...])
            }
            return joined()
        }
    }
}

@Suite struct RobustnessTests {
    /// Thousands of mutated reference specs each end in diagnostics or a model: never a crash, never a hang,
    /// and every diagnostic points inside the file it names.
    @Test func mutatedSpecsEndInDiagnosticsOrSuccess() throws {
        let specDirectory = packageRoot.appendingPathComponent("specs")
        let names = try FileManager.default.contentsOfDirectory(atPath: specDirectory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        var rng = SplitMix64(state: 0x5EED_5111_CE)
        var outcomes: [String: Int] = [:]
        let perKindAndSpec = 60
        for name in names {
            let original = try [UInt8](Data(contentsOf: specDirectory.appendingPathComponent(name)))
            for kind in Mutator.kinds {
                for round in 0..<perKindAndSpec {
                    let mutated = Mutator.mutate(original, kind: kind, rng: &rng)
                    let file = "\(name)#\(kind)-\(round)"
                    let result = SpecLoader.load(path: file) { _ in mutated }
                    var diagnostics = result.diagnostics
                    if let spec = result.spec { diagnostics += Checker.run(spec) }
                    outcomes[result.spec == nil ? "refused" : "loaded", default: 0] += 1
                    let lineCount = mutated.filter { $0 == 0x0A }.count + 1
                    for d in diagnostics {
                        guard let location = d.location, location.file == file else { continue }
                        #expect(
                            location.line >= 1 && location.line <= lineCount + 1 && location.column >= 1,
                            "\(file): \(d.code) at \(location) outside the file")
                    }
                    if result.spec == nil { #expect(result.diagnostics.hasErrors, "\(file) refused without an error") }
                }
            }
        }
        let total = outcomes.values.reduce(0, +)
        #expect(total == names.count * Mutator.kinds.count * perKindAndSpec)
        #expect(total >= 3000)
        print(
            "robustness: \(total) mutated specs, \(outcomes["loaded", default: 0]) loaded, \(outcomes["refused", default: 0]) refused with diagnostics"
        )
    }
}

@Suite struct FuzzRegressionTests {
    /// Inputs that once crashed or hung the fuzz target (fuzz/run); each must now end in diagnostics or a model.
    @Test func fuzzerFindingsStayFixed() throws {
        let directory = packageRoot.appendingPathComponent("fuzz/regressions")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!names.isEmpty)
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
            // The fuzz target reads every include as the same bytes; so does this.
            let result = SpecLoader.load(path: "fuzz.yaml") { _ in bytes }
            if let spec = result.spec { _ = Checker.run(spec) } else { #expect(result.diagnostics.hasErrors, "\(name)") }
        }
    }
}
