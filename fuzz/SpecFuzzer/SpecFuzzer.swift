// spec -> model -> checks under libFuzzer. Every input must end in diagnostics or a model;
// a crash, a sanitizer report or a hang is a bug. Built by fuzz/run with -D FUZZING.
// In an ordinary build this file is a replayer: `SpecFuzzer FILE…` runs each input once.
import Checks
import Foundation
import SluiceCore
import SpecLoader

func exercise(_ bytes: [UInt8]) {
    let result = SpecLoader.load(path: "fuzz.yaml") { _ in bytes }
    if let spec = result.spec {
        _ = Checker.run(spec)
    } else if !result.diagnostics.hasErrors {
        fatalError("refused a spec without an error")
    }
}

#if FUZZING
    typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// libFuzzer's documented entry for programs that keep their own main.
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: FuzzCallback
    ) -> CInt

    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        exercise(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }

    /// SwiftPM links an executable's `main` to `<Target>_main`; whichever `main` the linker keeps
    /// (this one or libFuzzer's), control ends in libFuzzer's driver with the same callback.
    @_cdecl("SpecFuzzer_main")
    func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
    }
#else
    @main
    enum Replayer {
        static func main() {
            for path in CommandLine.arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                    exit(1)
                }
                exercise([UInt8](data))
                print("\(path): ok")
            }
        }
    }
#endif
