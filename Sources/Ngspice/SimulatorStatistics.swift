import Foundation

/// What ngspice reports about its last transient (`rusage all`): time points, Newton iterations and
/// where the analysis time went. Summed over the jobs of a partitioned clip, it shows what a cut
/// saves: fewer points per node, smaller matrices to factor (docs/design/partitioned-simulation.md).
public struct SimulatorStatistics: Codable, Sendable, Equatable {
    /// Accepted and rejected time points.
    public var acceptedPoints: Int, rejectedPoints: Int
    /// Newton iterations of the transient.
    public var iterations: Int
    /// Seconds of the whole transient analysis.
    public var analysisSeconds: Double
    /// Seconds in device evaluation (matrix load), LU factorisation and the triangular solves.
    public var loadSeconds: Double, factorSeconds: Double, solveSeconds: Double

    enum CodingKeys: String, CodingKey {
        case acceptedPoints = "accepted_points", rejectedPoints = "rejected_points", iterations = "newton_iterations"
        case analysisSeconds = "analysis_s", loadSeconds = "load_s", factorSeconds = "factor_s", solveSeconds = "solve_s"
    }

    /// Statistics with the given values.
    public init(acceptedPoints: Int = 0, rejectedPoints: Int = 0, iterations: Int = 0, analysisSeconds: Double = 0,
                loadSeconds: Double = 0, factorSeconds: Double = 0, solveSeconds: Double = 0) {
        (self.acceptedPoints, self.rejectedPoints, self.iterations) = (acceptedPoints, rejectedPoints, iterations)
        (self.analysisSeconds, self.loadSeconds, self.factorSeconds, self.solveSeconds) =
            (analysisSeconds, loadSeconds, factorSeconds, solveSeconds)
    }

    /// The figures in the lines `rusage all` prints (`Transient iterations = 1435`, ...); nil when a
    /// transient's figures are missing (no transient has run).
    public init?(rusage lines: [String]) {
        var values: [String: String] = [:]
        for line in lines {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            values[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        func int(_ key: String) -> Int? { values[key].flatMap { Int($0) } }
        func seconds(_ key: String) -> Double? { values[key].flatMap { Double($0) } }
        guard let accepted = int("Accepted timepoints"), let rejected = int("Rejected timepoints"),
              let iterations = int("Transient iterations"), let analysis = seconds("Transient analysis time"),
              let load = seconds("Transient load time"), let factor = seconds("Transient factor time"),
              let solve = seconds("Transient solve time") else { return nil }
        self.init(acceptedPoints: accepted, rejectedPoints: rejected, iterations: iterations, analysisSeconds: analysis,
                  loadSeconds: load, factorSeconds: factor, solveSeconds: solve)
    }

    /// The figures of two runs added: the cost of a clip over its partitions.
    public static func + (a: Self, b: Self) -> Self {
        Self(acceptedPoints: a.acceptedPoints + b.acceptedPoints, rejectedPoints: a.rejectedPoints + b.rejectedPoints,
             iterations: a.iterations + b.iterations, analysisSeconds: a.analysisSeconds + b.analysisSeconds,
             loadSeconds: a.loadSeconds + b.loadSeconds, factorSeconds: a.factorSeconds + b.factorSeconds,
             solveSeconds: a.solveSeconds + b.solveSeconds)
    }
}
