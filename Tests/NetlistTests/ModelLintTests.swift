import BMRU
import Testing
@testable import Netlist

@Suite("Model lint")
struct ModelLintTests {
    /// The compiler tests' one-cell model (beta_lo 0.3, beta_hi 0.7, s0 on) with a 0.001 classifier
    /// weight, on their staircase: every candidate at least 0.1 units from the threshold that decides it.
    static let model: Model = {
        var model = CompilerTests.oneCell
        model.pre = Linear(inputs: 1, weight: [1], bias: [0])
        model.blocks[0].cell.candidate = Linear(inputs: 1, weight: [1], bias: [0])
        model.classifier = Linear(inputs: 1, weight: [1, 0.001], bias: [0, 0.2])
        return model
    }()

    func lint(thresholdError: Double, mismatchSigma: Double) throws -> [ModelLint.Finding] {
        let lint = ModelLint(model: Self.model, unitCurrent: 1e-9, thresholdError: thresholdError, mismatchSigma: mismatchSigma,
                             minimumRatio: 0.0167)
        return lint.findings(traces: [try Network(Self.model).run(CompilerTests.staircase)])
    }

    @Test("Margins of 0.1 units clear a 1 pA threshold error; the weight below the smallest ratio is a finding")
    func resolved() throws {
        let findings = try lint(thresholdError: 1e-12, mismatchSigma: 0)
        #expect(findings.map(\.parameter) == ["classifier.weight[1][0]"])
        #expect(findings[0].kind == "omitted weight" && abs(findings[0].margin - 1e-12) < 1e-18)
    }

    @Test("With a linear readout the omitted weights are the compiler's: W_cls W_pre on the inputs, W_cls on the block outputs, each once")
    func linearReadout() throws {
        var model = Self.model
        model.config.readout = .linear
        model.config.formatVersion = 2
        let lint = ModelLint(model: model, unitCurrent: 1e-9, thresholdError: 1e-12, mismatchSigma: 0, minimumRatio: 0.0167)
        let findings = lint.findings(traces: [try Network(model).run(CompilerTests.staircase)])
        #expect(findings.map(\.parameter) == ["classifier.pre.weight[1][0]", "classifier.weight[1][0]"])
        #expect(findings.allSatisfy { $0.kind == "omitted weight" && $0.value == 0.001 })
    }

    @Test("Mismatch of 13 % puts both thresholds within 3 sigma of candidates: feedback cells set at sqrt(2) beta_hi sigma, reset at sqrt(beta_hi^2 + 2 delta^2 + beta_lo^2) sigma")
    func mismatch() throws {
        let findings = try lint(thresholdError: 0, mismatchSigma: 0.13).filter { $0.kind == "threshold" }
        #expect(findings.map(\.parameter) == ["blocks.0.cell.beta_hi[0]", "blocks.0.cell.beta_lo[0]"])
        let reset = try #require(findings.last)
        #expect(abs(reset.resolution - 0.13 * (0.49 + 2 * 0.16 + 0.09).squareRoot() * 1e-9) < 1e-15)
        #expect(abs(findings[0].resolution - 0.13 * 0.98.squareRoot() * 1e-9) < 1e-15)
        // beta_lo decides the frames after an on state: candidates 0.5, 0.1, 0.5, 0 and 0.2, the last 0.1 units away.
        #expect(abs(reset.margin - 0.1e-9) < 1e-15 && reset.frames == 5 && reset.close == 5)
        #expect(reset.description.hasPrefix("blocks.0.cell.beta_lo[0] = 0.3: "))
    }

    @Test("Switched cells: the reset threshold spreads by sqrt(2) beta_lo sigma only, so a 0.1-unit margin at beta_lo 0.3 clears 13 % mismatch")
    func switched() throws {
        var lint = ModelLint(model: Self.model, unitCurrent: 1e-9, thresholdError: 0, mismatchSigma: 0.13, minimumRatio: 0.0167)
        lint.cellTopology = .switched
        let findings = lint.findings(traces: [try Network(Self.model).run(CompilerTests.staircase)]).filter { $0.kind == "threshold" }
        // Reset sigma 0.13 sqrt(2) 0.3 = 0.055 units: 3 sigma (0.165) still covers the 0.1 margin, 0.2 ones not.
        let reset = try #require(findings.first { $0.parameter == "blocks.0.cell.beta_lo[0]" })
        #expect(abs(reset.resolution - 0.13 * 0.18.squareRoot() * 1e-9) < 1e-15 && reset.close == 1 && reset.frames == 5)
    }

    @Test("Weight-mirror mismatch adds each frame's candidate terms: sigma 0.5 |w ReLU(u)| puts 3 of the 5 reset frames within 3 sigma")
    func weightMirrors() throws {
        var lint = ModelLint(model: Self.model, unitCurrent: 1e-9, thresholdError: 0, mismatchSigma: 0, minimumRatio: 0.0167)
        lint.weightSigma = 0.5
        let findings = lint.findings(traces: [try Network(Self.model).run(CompilerTests.staircase)]).filter { $0.kind == "threshold" }
        // Reset frames: candidates 0.5, 0.1, 0.5, 0, 0.2 (u = x, w = 1), sigmas 0.25, 0.05, 0.25, 0, 0.1 units.
        let reset = try #require(findings.first { $0.parameter == "blocks.0.cell.beta_lo[0]" })
        #expect(reset.close == 3 && reset.frames == 5 && abs(reset.resolution - 0.1e-9) < 1e-15)
    }

    @Test("A hysteresis narrower than 3 sigma of the cell's threshold error is a finding")
    func hysteresis() throws {
        let findings = try lint(thresholdError: 0.15e-9, mismatchSigma: 0).filter { $0.kind == "hysteresis" }
        #expect(findings.map(\.parameter) == ["blocks.0.cell.delta[0]"])
        #expect(findings.first?.description.contains("hysteresis 400.0 pA is below 3 sigma (450.0 pA)") == true)
    }
}
