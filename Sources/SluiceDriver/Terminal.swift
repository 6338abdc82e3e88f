import Foundation

public enum Terminal {
    /// Colour and progress only on a terminal, and never when NO_COLOR is set (no-color.org).
    public static func isInteractive(fileDescriptor: Int32) -> Bool {
        isatty(fileDescriptor) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }
}
