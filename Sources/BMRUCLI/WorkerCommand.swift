import ArgumentParser
import Ngspice

/// `bmru worker`: the process the worker pool starts; serves simulation jobs on stdin/stdout.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Serve simulation jobs for the worker pool (internal; JSON lines on stdin/stdout).",
        shouldDisplay: false
    )

    @Option(help: "OpenMP threads for device evaluation.")
    var threads: Int = 1

    @Option(help: "Seed for ngspice's random numbers.")
    var seed: Int?

    func run() {
        Worker.serve(configuration: .init(threads: threads, seed: seed))
    }
}
