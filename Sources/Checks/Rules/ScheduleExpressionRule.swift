import SluiceCore

struct ScheduleExpressionRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL501", name: "schedule-expression", severity: .error,
        summary: "Schedules are valid EventBridge cron(…) or rate(…) expressions.",
        explanation: """
            rate(VALUE UNIT) takes a positive whole number and minute/hour/day, singular exactly when VALUE is 1. cron(…) has six \
            fields: minutes (0-59), hours (0-23), day-of-month (1-31, L, nW), month (1-12, JAN-DEC), day-of-week (1-7, SUN-SAT, L, dL, \
            d#n) and year (1970-2199). Exactly one of day-of-month and day-of-week is '?'. L, W and # stand alone in their field: \
            '3#1,6#3' is two expressions and EventBridge refuses it, although cfn-lint's E3027 lets it through.
            """)

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: ↓cron(0 9 ? * 3#1,6#3 *)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true }, payload: { type: object } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, event_name: name }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                pipelines:
                  - name: late
                    workload: etl
                    schedule: cron(0 9 ? * MON-FRI *)
                    source: { bucket: raw, prefix: "late/", format: jsonl }
                    fields: { event_id: { type: uuid, required: true }, payload: { type: object } }
                    targets:
                      - table: events
                        columns: { event_id: event_id, event_name: name }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        context.spec.pipelines.compactMap { pipeline in
            guard let schedule = pipeline.schedule, let problem = ScheduleExpression.problem(in: schedule.expression) else { return nil }
            return finding(problem, at: schedule.location, subject: "pipeline:\(pipeline.name)")
        }
    }
}
