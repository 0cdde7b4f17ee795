import BMRU
import Foundation
import TestSupport
import Testing
@testable import Netlist

/// The classifier's input as the compiler builds it (`Compiler.readoutTerms`): ReLU(u_B) from the
/// last residual's nodes, or the signed u_B folded into the mirrors of its own terms.
@Suite("Readout")
struct ReadoutTests {
    /// The committed kws-yes-d4 tensors read through `readout`.
    static func kws(_ readout: ModelConfig.Readout) throws -> Model {
        var model = try Model.load(from: TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4"))
        model.config.readout = readout
        model.config.formatVersion = readout.formatVersion
        return model
    }

    @Test("In an exact circuit A - B is logit 0 - logit 1 and A, B >= 0, for either readout", arguments: ModelConfig.Readout.allCases)
    func exactCurrents(readout: ModelConfig.Readout) throws {
        let model = try Self.kws(readout)
        let golden = try GoldenSet.load(
            from: TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4/\(Model.goldenFileName)"), config: model.config)
        let trace = try Network(model).run(golden.inputs.sequence(0, frames: 30))
        var negative = 0
        for t in 0..<trace.frames {
            let currents = Compiler.readoutCurrents(model: model, trace: trace, frame: t), logits = trace.logits(frame: t)
            #expect(currents.allSatisfy { $0 >= 0 })
            let difference = logits[logits.startIndex] - logits[logits.startIndex + 1]
            #expect(abs(currents[0] - currents[1] - difference) <= 1e-12 * (currents[0] + currents[1]))
            let last = (t * (model.config.blocks + 1) + model.config.blocks) * model.config.hidden
            negative += trace.residuals[last..<(last + model.config.hidden)].filter { $0 < 0 }.count
        }
        #expect(negative > 0, "the clip drives some u_B negative, where the readouts differ")
    }

    @Test("A linear readout is folded: no u_B nodes, W_cls W_pre on the input lines, W_cls on every block output; fewer transistors than ReLU")
    func folded() throws {
        let compiler = try Compiler(pdk: testPDK("gf180mcu"))
        let (relu, linear) = (try compiler.compile(try Self.kws(.relu)), try compiler.compile(try Self.kws(.linear)))
        let model = try Self.kws(.linear)
        let (blocks, n, d) = (model.config.blocks, model.config.inputs, model.config.hidden)
        let deck = try linear.deck()
        #expect(try relu.deck().contains("u\(blocks)_0") && !deck.contains("u\(blocks)_") && deck.contains("u\(blocks - 1)_0"))
        let entries = Dictionary(uniqueKeysWithValues: linear.manifest.parameters.map { ($0.parameter, $0) })
        for c in 0..<2 {
            var bias = model.classifier.bias[c]
            for i in 0..<d { bias += model.classifier.weight[c * d + i] * model.pre.bias[i] }
            #expect(entries["classifier.pre.bias[\(c)]"]?.value == bias)
            #expect(entries["classifier.bias[\(c)]"] == nil)
            for j in 0..<n {
                let product = (0..<d).reduce(0.0) { $0 + model.classifier.weight[c * d + $1] * model.pre.weight[$1 * n + j] }
                let entry = try #require(entries["classifier.pre.weight[\(c)][\(j)]"])
                #expect(abs(entry.value - product) <= 1e-12 * abs(product))
                #expect(entry.elements.count == 2, "x_j+ and x_j- each")
            }
            for i in 0..<d {
                #expect(entries["classifier.weight[\(c)][\(i)]"]?.elements.count == blocks, "one output per block output p_k")
            }
        }
        #expect(linear.manifest.totals.transistors < relu.manifest.totals.transistors)
        print("kws-yes-d4 gf180mcu nominal: relu \(relu.manifest.totals.transistors), linear \(linear.manifest.totals.transistors) transistors")
    }
}
