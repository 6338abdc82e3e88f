/// One cut is one finding: blocked answers with the same reason, gathered with every subnet they
/// affect, rather than one finding per subnet (or per pair of subnets).
struct BlockedCut {
    var reason: String
    var path: [String]
    var sources: [String] = []
    var targets: [String] = []

    /// Groups `(source subnet, target subnet, verdict)` by the reason of each blocked verdict, in
    /// the order first seen.
    static func gather(_ answers: [(source: String, target: String?, verdict: Verdict)]) -> [BlockedCut] {
        var cuts: [BlockedCut] = []
        for answer in answers {
            guard case .blocked(let reason, let path) = answer.verdict else { continue }
            let index =
                cuts.firstIndex { $0.reason == reason }
                ?? {
                    cuts.append(BlockedCut(reason: reason, path: path))
                    return cuts.count - 1
                }()
            if !cuts[index].sources.contains(answer.source) { cuts[index].sources.append(answer.source) }
            if let target = answer.target, !cuts[index].targets.contains(target) { cuts[index].targets.append(target) }
        }
        return cuts
    }

    /// `subnet 'etl-a'` or `subnets 'etl-a', 'etl-b'`
    static func subnets(_ names: [String]) -> String {
        "subnet\(names.count == 1 ? "" : "s") \(names.map { "'\($0)'" }.joined(separator: ", "))"
    }
}
