import Testing

@testable import Checks

@Suite struct ScheduleExpressionTests {
    @Test(arguments: [
        "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(14 days)", "cron(0 4 * * ? *)", "cron(0 5 ? * MON *)",
        "cron(0 6 1 * ? *)", "cron(15 10 ? * 6L 2026)", "cron(0 8 L * ? *)", "cron(0 8 3W * ? *)", "cron(0 9 ? * 3#2 *)",
        "cron(0/15 * * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 0 1,15 JAN-MAR ? 2025-2030)", "cron(*/5 * ? * L *)",
        "cron(0 12 ? * SUN,SAT *)", "cron(0 12 ? * WED *)", "cron(0 12 ? * MON,WED,FRI *)", "cron(0 3 1 JUL ? *)",
        "cron(0 3 ? JUL-AUG TUE-WED *)", "cron(0 3 ? * WEDL *)", "cron(0 3 ? * WED#2 *)", "cron(0 3 1 APR,JUL,OCT ? *)",
    ])
    func valid(_ expression: String) {
        #expect(ScheduleExpression.problem(in: expression) == nil)
    }

    @Test(arguments: [
        ("rate(1 minutes)", "singular"), ("rate(5 minute)", "plural"), ("rate(0 hours)", "greater than zero"), ("rate(5 weeks)", "unit"),
        ("rate(five minutes)", "whole number"), ("cron(0 4 * * *)", "six fields"), ("cron(0 4 * * * *)", "exactly one"),
        ("cron(0 4 ? * ? *)", "exactly one"), ("cron(0 9 ? * 3#1,6#3 *)", "cannot be combined"), ("cron(60 4 * * ? *)", "'60'"),
        ("cron(0 24 * * ? *)", "'24'"), ("cron(0 4 32 * ? *)", "'32'"), ("cron(0 4 * 13 ? *)", "'13'"), ("cron(0 4 ? * 8 *)", "'8'"),
        ("cron(0 4 * * ? 1969)", "'1969'"), ("cron(0 4 ? * 3#6 *)", "d#n"), ("cron(0 4 L-2 * ? *)", "cannot be combined"),
        ("cron(0 4 ? * MON/2 *)", "not allowed"), ("cron(0 ? * * ? *)", "hours '?': '?' is not allowed here"), ("cron(0 4 * FOO ? *)", "not a value"),
        ("cron(0 4 10-5 * ? *)", "backwards"), ("cron(0/0 * * * ? *)", "positive"), ("every 5 minutes", "neither"),
        ("cron(0 4 1W,15 * ? *)", "cannot be combined"), ("cron(0 4 ? * 2-3L *)", "cannot be combined"),
        ("cron(0 4 ? * MON,WEDL *)", "cannot be combined"), ("cron(0 4 ? * WED-L *)", "cannot be combined"), ("cron(0 4 1 JULY ? *)", "'JULY'"),
        ("cron(0 4 ? * WEN *)", "not a value"), ("cron(0 4 ? * WED#6 *)", "d#n"),
    ])
    func invalid(_ expression: String, _ reason: String) throws {
        let problem = try #require(ScheduleExpression.problem(in: expression))
        #expect(problem.contains(reason), "\(problem)")
    }
}
