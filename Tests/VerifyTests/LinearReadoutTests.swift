import BMRU
import Foundation
import Netlist
import Testing
import TestSupport
@testable import Verify

/// A linear-readout model compiled for GF180 and simulated by real ngspice agrees with the Swift
/// reference as a ReLU-readout one does.
@Suite("Linear readout on GF180", .serialized)
struct LinearReadoutTests {
    static let kws = TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4")
    /// Golden frames simulated: the test stays within seconds.
    static let frames = 12

    @Test("kws-yes-d4's tensors with a linear readout: every frame decision and state bit of a golden clip agree; the reference's class currents differ by its logit difference")
    func agreesOnAGoldenClip() async throws {
        // A copy of the committed model whose config names the linear readout (its golden file holds ReLU logits: left out).
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-linear-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var model = try Model.load(from: Self.kws)
        model.config.readout = .linear
        model.config.formatVersion = ModelConfig.Readout.linear.formatVersion
        model.config.name = "kws-yes-d4-linear"
        try model.write(to: directory)
        model = try Model.load(from: directory)
        #expect(model.config.readout == .linear)

        let clip = try #require(try Clip.features(Self.kws.appendingPathComponent(Model.goldenFileName), config: model.config,
                                                  limit: 1).first)
        let short = Clip(name: clip.name, frames: Array(clip.frames.prefix(Self.frames)), label: clip.label)
        let pdk = try TestSupport.catalog.pdk("gf180mcu", environment: TestSupport.environment())
        let compiler = try Compiler(pdk: pdk, characterization: try Characterization.load(
            from: TestSupport.repository.appendingPathComponent("results/characterization/gf180mcu")))
        let verifier = Verifier(model: model, modelDirectory: directory, compiler: compiler)
        let out = directory.appendingPathComponent("verify")
        let context = Verifier.Context(inputs: "golden", commandLine: ["test"], version: "test", commit: "test")
        let report = try await verifier.run([short], writingTo: out, context: context)
        #expect(report.failed == 0 && report.disagreed == 0)
        #expect(report.frameDecisionAgreement == 1 && report.frameStateAgreement == 1)

        let table = try TraceTable(out.appendingPathComponent(try #require(report.perClip[0].trace)))
        let column = { (name: String) in try #require(table.header.firstIndex(of: name)) }
        let (a, b, difference, circuitA, circuitB) = (try column("class_a_reference_A"), try column("class_b_reference_A"),
                                                      try column("logit_difference_reference_A"), try column("class_a_A"),
                                                      try column("class_b_A"))
        for row in table.rows {
            #expect(abs(row[a] - row[b] - row[difference]) <= 1e-12 * max(row[a], row[b]))
            // The circuit's difference follows the reference's (measured: within 5 %) as a ReLU readout's does.
            #expect(abs(row[circuitA] - row[circuitB] - row[difference]) <= 0.1 * abs(row[difference]) + 10e-12)
        }
    }
}
