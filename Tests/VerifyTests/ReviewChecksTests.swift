import BMRU
import Foundation
import Netlist
import Testing
import TestSupport
@testable import Verify

/// The report's checks: computed from a real run (latch-d4 on generic180, real libngspice), one failing
/// check failing the verdict, checks files read strictly, version 1 reports still loading.
@Suite("Review checks", .serialized)
struct ReviewChecksTests {
    static let modelDirectory = TestSupport.repository.appendingPathComponent("results/models/latch-d4")
    static let context = Verifier.Context(inputs: "golden", commandLine: ["test"], version: "test", commit: "test")

    /// latch-d4, the first `clips` golden sequences (16 frames each) and a verifier on generic180.
    static func run(clips count: Int) throws -> (Model, [Clip], Verifier) {
        let model = try Model.load(from: modelDirectory)
        let clips = try Clip.features(modelDirectory.appendingPathComponent(Model.goldenFileName), config: model.config, limit: count)
            .map { Clip(name: $0.name, frames: Array($0.frames.prefix(16)), label: $0.label) }
        let pdk = try TestSupport.catalog.pdk("generic180", environment: TestSupport.environment())
        return (model, clips, Verifier(model: model, modelDirectory: modelDirectory, compiler: try Compiler(pdk: pdk)))
    }

    func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bmru-checks-\(UUID().uuidString)")
    }

    @Test("Every check is computed from the run's own figures; a power budget below the measured power fails only that check")
    func realRun() async throws {
        let (model, clips, first) = try Self.run(clips: 2)
        var verifier = first
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try await verifier.run(clips, writingTo: out, context: Self.context)
        let checks = try #require(report.checks)
        #expect(report.formatVersion == 2 && report.limits == ReviewChecks())
        #expect(checks.map(\.name) == Check.Kind.allCases)
        let measured = Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0.measured) })
        #expect(measured[.clipDecisions] == report.predictionAgreement)
        #expect(measured[.stateBits] == report.frameStateAgreement)
        #expect(measured[.frameDecisions] == report.frameDecisionAgreement)
        #expect(measured[.suppression] == report.suppressionFactor.perBoundary.compactMap(\.agreeingFramesFactor).min())
        #expect(measured[.power] == report.power?.totalNW && measured[.failedClips] == 0)
        for check in checks where check.name != .suppression {
            let value = try #require(check.measured)
            #expect(check.passed == (check.name.isMinimum ? value >= check.limit : value <= check.limit), "\(check.name)")
        }
        let failing = report.suppressionFactor.perBoundary.filter { ($0.agreeingFramesFactor ?? .infinity) < 20 }.map(\.name)
        #expect(checks[3].failing == failing && checks[3].passed == failing.isEmpty)
        #expect(report.passed == checks.allSatisfy(\.passed))
        #expect(report.provenance.classes == model.config.classes && report.provenance.bmrukitCommit == "test")
        #expect(report.provenance.pdkModelsHash == sha256Hex(files: verifier.compiler.pdk.modelFiles) && report.provenance.pdkModelsHash?.count == 64)
        #expect(try Report.load(from: out.appendingPathComponent("report.json")) == report)
        // latch-d4 has one weight below the smallest realisable ratio: a warning, not a check.
        let lint = try #require(report.lint)
        #expect(lint.map(\.parameter) == ["blocks.0.post.weight[3][0]"] && lint[0].kind == "omitted weight", "\(lint)")
        #expect(report.markdown().contains("- \(lint[0])"))

        // Only the power budget tightened, below what the circuit draws: the saved samples are reused
        // (same jobs), every other check keeps its verdict, and the report fails on power alone.
        let power = try #require(report.power?.totalNW)
        verifier.checks = ReviewChecks()
        (verifier.checks.suppression, verifier.checks.stateBits, verifier.checks.powerNW) = (0, 0, power / 2)
        verifier.force = true
        let tight = try await verifier.run(clips, writingTo: out, context: Self.context)
        let tightChecks = try #require(tight.checks)
        #expect(tightChecks.filter { !$0.passed }.map(\.name) == [.power])
        #expect(!tight.passed && tight.limits?.powerNW == power / 2)
        #expect(tight.verdict.hasPrefix("FAILED 1 of 6 checks: mean power (nW) \(String(format: "%.1f", power))"), "\(tight.verdict)")
        #expect(tight.markdown().contains("| mean power (nW) | \(String(format: "%.1f", power)) | <= \(String(format: "%.1f", power / 2)) | **FAIL** |"))
    }

    @Test("A disagreement is explained from the clip's trace: its wrong frame decisions, the reference's margin there, the first wrong state bit")
    func disagreement() async throws {
        let (model, clips, plain) = try Self.run(clips: 1)
        var verifier = plain
        // Every cell's threshold far too high: no cell switches on, so bits and decisions go wrong. Ideal
        // biases, so that the threshold is a source that alter sets.
        verifier.compiler.idealBiases = true
        verifier.commands = (0..<model.config.hidden).map { "alter @i.xb0_cells.ithresh0_\($0)[dc] = 1e-7" }
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try await verifier.run(clips, writingTo: out, context: Self.context)
        let clip = report.perClip[0]
        let explained = try Disagreement(clip, folder: out)
        #expect(explained.frames == 16 && explained.firstWrongStateBit == clip.firstWrongStateBit)
        #expect(Double(explained.wrongFrames) == ((1 - (clip.frameDecisionAgreement ?? 1)) * 16).rounded())
        #expect((explained.wrongFrames == 0) == (explained.medianMargin == nil))
        let bit = try #require(clip.firstWrongStateBit)
        #expect(explained.description.hasSuffix("first wrong state bit b\(bit.block).u\(bit.unit) in frame \(bit.frame)"), "\(explained.description)")
    }

    @Test("A cell the reference never drives is a silent boundary: reported with its factor, passed over by the suppression check")
    func silentBoundary() async throws {
        let (loaded, clips, plain) = try Self.run(clips: 2)
        // Unit 3's candidate row all negative with a negative bias: ReLU keeps it at 0 in every frame and
        // its state starts off, so no signal crosses its boundary.
        var model = loaded
        let (unit, inputs) = (3, model.blocks[0].cell.candidate.inputs)
        model.blocks[0].cell.candidate.weight.replaceSubrange(unit * inputs..<(unit + 1) * inputs, with: repeatElement(-1, count: inputs))
        model.blocks[0].cell.candidate.bias[unit] = -1
        model.blocks[0].cell.s0[unit] = false
        var verifier = Verifier(model: model, modelDirectory: Self.modelDirectory, compiler: plain.compiler)
        verifier.checks.suppression = 1e6  // every driven boundary fails, so the check's list shows which are judged
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try await verifier.run(clips, writingTo: out, context: Self.context)
        let boundaries = report.suppressionFactor.perBoundary
        #expect(boundaries.map { $0.silent == true } == (0..<model.config.hidden).map { $0 == unit })
        #expect(boundaries[unit].stateAgreement == 1 && boundaries[unit].candidateRMSUnits < 1e-3)
        let check = try #require(report.checks?.first { $0.name == .suppression })
        let driven = boundaries.filter { $0.silent != true }
        #expect(check.failing == driven.filter { $0.agreeingFramesFactor != nil }.map(\.name))
        #expect(check.measured == driven.compactMap(\.agreeingFramesFactor).min())
        #expect(report.markdown().contains("(silent)"))
        #expect(try Report.load(from: out.appendingPathComponent("report.json")).suppressionFactor.perBoundary[unit].silent == true)
    }

    @Test("A checks file sets some limits and keeps the defaults of the rest; a bad one is an error naming the file and the field")
    func checksFiles() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-checks-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        func load(_ text: String) throws(VerifyError) -> ReviewChecks {
            try? Data(text.utf8).write(to: url)
            return try ReviewChecks.load(from: url)
        }
        var expected = ReviewChecks()
        (expected.suppression, expected.powerNW) = (10, 250)
        #expect(try load(#"{"min_suppression": 10, "max_power_nW": 250}"#) == expected)
        #expect(ReviewChecks().clipDecisions == 0.99 && ReviewChecks().stateBits == 0.995 && ReviewChecks().failedClips == 0)
        let known = "min_clip_decisions, min_state_bits, min_frame_decisions, min_suppression, max_failed_clips, max_power_nW"
        let cases: [(String, String)] = [
            (#"{"min_state_bit": 0.9}"#, "field min_state_bit: unknown (known: \(known))"),
            (#"{"min_state_bits": "high"}"#, "field min_state_bits: expected Double"),
            (#"{"max_failed_clips": 1.5}"#, "field max_failed_clips: 1.5 is not a whole number"),
            (#"{"min_state_bits": 1.5}"#, "field min_state_bits: 1.5 must be in 0...1"),
            (#"{"max_power_nW": 0}"#, "field max_power_nW: 0.0 must be > 0"),
            (#"{"min_suppression": -1}"#, "field min_suppression: -1.0 must be >= 0"),
            ("min_suppression = 20", "not valid JSON"),
        ]
        for (text, reason) in cases {
            #expect(throws: VerifyError.file(url.path, reason), "\(text)") { try load(text) }
        }
        let missing = url.deletingLastPathComponent().appendingPathComponent("no-such-checks.json")
        #expect(throws: VerifyError.file(missing.path, "No such file or directory")) { try ReviewChecks.load(from: missing) }
    }

    @Test("A version 1 report (the committed 226-clip run, two clips kept) loads: no checks or limits, its verdict from min_agreement")
    func versionOne() throws {
        let url = TestSupport.repository.appendingPathComponent("Tests/VerifyTests/Fixtures/report-v1.json")
        let report = try Report.load(from: url)
        #expect(report.formatVersion == 1 && report.checks == nil && report.limits == nil)
        #expect(report.provenance.classes == nil && report.provenance.pdkModelsHash == nil && report.provenance.bmrukitCommit == nil)
        #expect(report.passed && report.perClip.count == 2)
        #expect(report.verdict == "PASSED: prediction agreement 99.56 % against a minimum of 99.00 %.")
        #expect(report.className(report.perClip[0].referenceDecision) == "0")
        #expect(report.markdown().contains("| 0 | 3 | 100.0 % |"))
    }
}
