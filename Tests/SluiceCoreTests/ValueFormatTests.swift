import Foundation
import SluiceCore
import Testing

/// Patterns and notations for values sources write their own way.
@Suite struct ValueFormatTests {
    @Test func patternsReadWhatTheySay() throws {
        let german = try DateTimePattern("dd.MM.yyyy")
        #expect(german.components(of: "30.11.2026") == DateComponents(year: 2026, month: 11, day: 30))
        #expect(german.components(of: "1.11.2026") == nil, "dd takes two digits")
        #expect(try DateTimePattern("d.M.yyyy").components(of: "1.2.2026") == DateComponents(year: 2026, month: 2, day: 1))
        let american = try DateTimePattern("MM/dd/yyyy HH:mm")
        #expect(american.components(of: "11/30/2026 14:05") == DateComponents(year: 2026, month: 11, day: 30, hour: 14, minute: 5))
        #expect(american.components(of: "11/30/2026 14:05 ") == nil, "nothing left over")
        let quoted = try DateTimePattern("yyyy-MM-dd'T'HH:mm:ss.SSS")
        #expect(quoted.components(of: "2026-11-30T14:05:09.250")?.nanosecond == 250_000_000)
        #expect(american.hasTime && !german.hasTime)
    }

    @Test func aPatternSaysWhereItIsWrong() {
        func problem(_ text: String) -> DateTimePattern.Problem? {
            do { _ = try DateTimePattern(text); return nil } catch { return error }
        }
        #expect(problem("dd.MM.yyyy hh:mm")?.offset == 11)
        #expect(problem("dd.MM.yyyy hh:mm")?.message.hasPrefix("unknown pattern letter 'h'") == true)
        #expect(problem("dd.MM.yyyy HH:m")?.message.hasPrefix("'m' is not a width") == true)
        #expect(problem("yy-MM-dd")?.message.hasPrefix("'yy' is not a width") == true)
        #expect(problem("dd.MM.'yyyy")?.offset == 6)
        #expect(problem("excel") == nil)
    }

    @Test func excelSerialDaysCountFromEighteenNinetyNineDecemberThirty() {
        #expect(
            DateTimePattern.excelComponents(46356) == DateComponents(year: 2026, month: 11, day: 30, hour: 0, minute: 0, second: 0, nanosecond: 0))
        #expect(DateTimePattern.excelComponents(46356.5)?.hour == 12)
        #expect(DateTimePattern.excelComponents(61) == DateComponents(year: 1900, month: 3, day: 1, hour: 0, minute: 0, second: 0, nanosecond: 0))
        #expect(DateTimePattern.excelComponents(0) == nil)
    }

    @Test func numberNotations() {
        let german = NumberNotation(decimal: ",", group: ".")
        #expect(german.normalized("1.234,56") == "1234.56")
        #expect(german.normalized("20,65") == "20.65")
        #expect(german.normalized("-1.234.567") == "-1234567")
        #expect(german.normalized("20.65") == nil, "a group of two digits")
        #expect(german.normalized("1,2,3") == nil)
        #expect(NumberNotation(decimal: ",").normalized("1.234,5") == nil, "no group separator declared")
        #expect(NumberNotation(decimal: ".", group: "'").normalized("1'234.5") == "1234.5")
    }

    /// Every number written with separators reads back as JSON writes it: random values, written by
    /// a second, naive formatter in German, Swiss and plain notation.
    @Test func anyNumberWrittenWithSeparatorsReadsBack() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let whole = UInt64.random(in: 0...999_999_999_999, using: &generator)
            let cents = Int.random(in: 0...99, using: &generator)
            let negative = Bool.random(using: &generator)
            let digits = String(whole)
            var grouped = ""
            for (index, digit) in digits.enumerated() {
                if index > 0, (digits.count - index) % 3 == 0 { grouped.append("|") }
                grouped.append(digit)
            }
            let expected = (negative ? "-" : "") + digits + "." + String(format: "%02d", cents)
            for (decimal, group) in [(",", "."), (".", "'"), (",", " ")] {
                let written = (negative ? "-" : "") + grouped.replacingOccurrences(of: "|", with: group) + decimal + String(format: "%02d", cents)
                #expect(NumberNotation(decimal: decimal.first!, group: group.first!).normalized(written) == expected, "\(written)")
            }
        }
    }

    /// Every date a pattern writes reads back as the same day: random days from 1900 to 2100, written
    /// by string formatting (not by the pattern), in three notations.
    @Test func anyDateWrittenInAPatternReadsBack() throws {
        var generator = SystemRandomNumberGenerator()
        let patterns = [("dd.MM.yyyy", "%02d.%02d.%04d"), ("MM/dd/yyyy", "%02d/%02d/%04d"), ("d.M.yyyy", "%d.%d.%04d")]
        for _ in 0..<2000 {
            let year = Int.random(in: 1900...2100, using: &generator), month = Int.random(in: 1...12, using: &generator)
            let day = Int.random(in: 1...28, using: &generator)
            for (pattern, format) in patterns {
                let written = pattern.hasPrefix("MM") ? String(format: format, month, day, year) : String(format: format, day, month, year)
                #expect(try DateTimePattern(pattern).components(of: written) == DateComponents(year: year, month: month, day: day), "\(written)")
            }
        }
    }
}
