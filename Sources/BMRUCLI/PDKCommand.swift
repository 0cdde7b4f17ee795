import ArgumentParser
import Characterize
import Foundation
import Ngspice
import PDK

/// `bmru pdk list|check`: the PDKs BMRUKit knows and a smoke test of their corners.
struct PDKCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pdk",
        abstract: "List PDKs and smoke-test their corners.",
        subcommands: [List.self, Check.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the PDK descriptors in the catalog (pdk/).",
            discussion: "Example: bmru pdk list"
        )

        func run() throws {
            let catalog = try PDKCatalog.locate()
            for name in catalog.names() {
                let descriptor = try PDK.readDescriptor(catalog.directory.appendingPathComponent("\(name)/pdk.json"))
                let corners = descriptor.corners.keys.sorted().joined(separator: ",")
                print("\(name)\t\(descriptor.description)\tcorners: \(corners)")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Simulate subthreshold NMOS and PMOS mirrors at 10 pA, 1 nA and 3 nA in each corner.",
            discussion: """
                Prints output/input current ratios against the width ratio; exits 1 when any deviates by more
                than --tolerance. gf180mcu needs PDK_ROOT (e.g. export PDK_ROOT=../shared/pdk).

                Example: bmru pdk check gf180mcu --corner typical
                """
        )

        @Argument(help: "PDK name (see 'bmru pdk list') or path to a pdk.json.")
        var name: String

        @Option(help: "Check only this corner (default: every corner).")
        var corner: String?

        @Option(parsing: .unconditional, help: "Largest allowed relative deviation of a mirror ratio.")
        var tolerance: Double = 0.1

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func validate() throws {
            guard tolerance > 0, tolerance <= 1 else { throw ValidationError("--tolerance is \(tolerance), must be in (0, 1]") }
        }

        func run() throws {
            let pdk = try PDKCatalog.locate().pdk(name)
            let corners = try corner.map { [try pdk.corner($0)] } ?? pdk.descriptor.corners.keys.sorted()
            let session = try NgspiceSession()
            let check = MirrorCheck()
            var report: [String: [MirrorCheck.Measurement]] = [:]
            for corner in corners {
                report[corner] = try check.run(pdk: pdk, corner: corner, session: session)
            }
            let worst = report.values.joined().map { abs($0.error) }.max() ?? 0
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print("pdk \(pdk.name): mirror W=1u L=4u, output at \(check.supply / 2) V")
                print("corner   device  input     W ratio  I ratio   error    |Vgs|")
                for corner in corners {
                    for m in report[corner] ?? [] {
                        let label = [corner.padding(8), m.polarity.rawValue.padding(7), formatCurrent(m.input).padding(9)]
                        print(label.joined(separator: " ") + String(format: " %-8.2f %-9.4f %+6.2f%%  %.3f V",
                                                                    m.widthRatio, m.ratio, 100 * m.error, m.gateVoltage))
                    }
                }
            }
            if worst > tolerance {
                throw ValidationFailure("largest mirror error \(String(format: "%.1f", 100 * worst)) % exceeds \(100 * tolerance) %")
            }
        }
    }
}
