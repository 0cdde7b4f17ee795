@testable import BMRU
import Foundation
import Testing

@Suite struct ModelTests {
    let config = ModelConfig(name: "t", inputs: 3, hidden: 2, blocks: 2, classes: ["yes", "other"])

    /// Writes a random model, lets `edit` change its tensors, and loads the result.
    func load(dtype: DType = .f64, _ edit: (inout [String: Tensor]) -> Void = { _ in }) throws -> Result<Model, ModelError> {
        let directory = try temporaryDirectory()
        let model = Model.random(config, seed: 7)
        try model.write(to: directory, dtype: dtype)
        var tensors = model.tensors(dtype: dtype)
        edit(&tensors)
        try SafetensorsFile(tensors: tensors).write(to: directory.appendingPathComponent(Model.tensorsFileName))
        do {
            return .success(try Model.load(from: directory))
        } catch {
            return .failure(error)
        }
    }

    func error(_ edit: (inout [String: Tensor]) -> Void) throws -> ModelError? {
        guard case let .failure(error) = try load(edit) else { return nil }
        return error
    }

    @Test func writeThenLoadGivesTheSameModel() throws {
        let model = Model.random(config, seed: 7)
        #expect(try load().get() == model)
        #expect(model.tensors().count == 2 + 2 * 8 + 2)
        // 3*2+2 pre, per block 4+2 cell + 3*2 constants + 4+2 post, 2*2+2 classifier.
        #expect(model.parameterCount == 8 + 2 * 18 + 6)
    }

    @Test func float32ModelLoadsTheRoundedValues() throws {
        let model = try load(dtype: .f32).get()
        let original = Model.random(config, seed: 7)
        #expect(model.pre.weight == original.pre.weight.map { Double(Float($0)) })
    }

    @Test func missingTensor() throws {
        let error = try error { $0["blocks.1.cell.delta"] = nil }
        #expect(error?.description.hasSuffix("model.safetensors: missing tensor blocks.1.cell.delta") == true)
    }

    @Test func unexpectedTensor() throws {
        let error = try error { $0["blocks.2.cell.alpha"] = Tensor(shape: [2], values: [1, 1]) }
        guard case .unexpectedTensor(_, "blocks.2.cell.alpha") = error else {
            Issue.record("expected unexpectedTensor, got \(String(describing: error))")
            return
        }
    }

    @Test func shapeMismatch() throws {
        let error = try error { $0["pre.weight"] = Tensor(shape: [3, 2], values: [Double](repeating: 0, count: 6)) }
        guard case let .shapeMismatch(_, "pre.weight", expected, actual) = error else {
            Issue.record("expected shapeMismatch, got \(String(describing: error))")
            return
        }
        #expect(expected == [2, 3] && actual == [3, 2])
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteValue(value: Double) throws {
        let error = try error { $0["blocks.0.post.weight"]?.values[3] = value }
        #expect(error?.description.hasSuffix("model.safetensors: tensor blocks.0.post.weight[1, 1] = \(value): must be finite") == true)
    }

    @Test func negativeAlpha() throws {
        let error = try error { $0["blocks.0.cell.alpha"]?.values[1] = -0.1 }
        #expect(error?.description.hasSuffix("model.safetensors: tensor blocks.0.cell.alpha[1] = -0.1: alpha must be > 0") == true)
    }

    @Test func zeroDelta() throws {
        let error = try error { $0["blocks.1.cell.delta"]?.values[0] = 0 }
        #expect(error?.description.hasSuffix("tensor blocks.1.cell.delta[0] = 0.0: delta must be > 0") == true)
    }

    @Test func negativeBetaLo() throws {
        let error = try error { $0["blocks.1.cell.beta_lo"]?.values[0] = -1e-12 }
        #expect(error?.description.hasSuffix("beta_lo must be >= 0") == true)
    }

    @Test func nonBinaryInitialState() throws {
        let error = try error { $0["blocks.0.cell.s0"]?.values[0] = 0.5 }
        #expect(error?.description.hasSuffix("tensor blocks.0.cell.s0[0] = 0.5: s0 must be 0 or 1") == true)
    }

    @Test func zeroBetaLoIsAllowed() throws {
        let model = try load { $0["blocks.0.cell.beta_lo"]?.values = [0, 0] }.get()
        #expect(model.blocks[0].cell.betaLo == [0, 0])
    }

    /// Writes `json` as config.json beside a valid model and returns the load error.
    func configError(_ json: String) throws -> ModelError? {
        let directory = try temporaryDirectory()
        try Model.random(config, seed: 1).write(to: directory)
        try Data(json.utf8).write(to: directory.appendingPathComponent(Model.configFileName))
        return thrown { () throws(ModelError) in try Model.load(from: directory) }
    }

    static let validConfig = #"""
        {"format": "bmru-model", "format_version": 1, "name": "t", "cell": "fq-bmru", "inputs": 3, "hidden": 2,
         "blocks": 2, "classes": ["yes", "other"], "unit_current": 1e-9,
         "features": {"kind": "mfcc", "sample_rate": 16000, "n_mfcc": 3, "n_fft": 512, "hop_length": 160,
                      "frames": 101, "normalization": "per_clip_per_coefficient"},
         "training": {"seed": 0, "anything": [1, 2]}}
        """#

    @Test func readsTheDocumentedConfig() throws {
        #expect(try configError(Self.validConfig) == nil)
    }

    @Test(arguments: [
        ("\"hidden\": 2,", "", "field hidden: missing"),
        ("\"format\": \"bmru-model\"", "\"format\": \"other\"", "field format: is \"other\", expected \"bmru-model\""),
        ("\"format_version\": 1", "\"format_version\": 3", "field format_version: is 3, this build reads 1 to 2"),
        ("\"classes\"", "\"readout\": \"sigmoid\", \"classes\"", "field readout: is \"sigmoid\", expected \"relu\" or \"linear\""),
        ("\"classes\"", "\"readout\": 1, \"classes\"", "field readout: expected String"),
        ("\"classes\"", "\"readout\": \"linear\", \"classes\"",
         "field readout: is \"linear\", which needs format_version 2 (a reader of version 1 would ignore it)"),
        ("\"cell\": \"fq-bmru\"", "\"cell\": \"bmru\"", "field cell: is \"bmru\", expected \"fq-bmru\""),
        ("\"inputs\": 3", "\"inputs\": \"3\"", "field inputs: expected Int"),
        ("\"blocks\": 2", "\"blocks\": 0", "field blocks: is 0, must be >= 1"),
        ("[\"yes\", \"other\"]", "[\"yes\"]", "field classes: has 1 entries, needs >= 2"),
        ("[\"yes\", \"other\"]", "[\"yes\", \"yes\"]", "field classes: names must be unique and non-empty"),
        ("\"unit_current\": 1e-9", "\"unit_current\": -1e-9", "field unit_current: is -1e-09, must be in 1e-15...0.001 A"),
        ("\"unit_current\": 1e-9", "\"unit_current\": 1e20", "field unit_current: is 1e+20, must be in 1e-15...0.001 A"),
        ("\"hidden\": 2", "\"hidden\": 4.5", "field hidden: is 4.5, expected an integer"),
        ("\"frames\": 101", "\"frames\": 1e30", "field features.frames: is 1e+30, expected an integer"),
        ("\"frames\": 101", "\"frames\": 1000000000", "field features.frames: is 1000000000, must be in 1...100000"),
        ("\"n_fft\": 512", "\"n_fft\": 1073741824", "field features.n_fft: is 1073741824, must be in 16...65536"),
        ("\"n_fft\": 512", "\"n_fft\": 1", "field features.n_fft: is 1, must be in 16...65536"),
        ("\"hop_length\": 160", "\"hop_length\": 1000000", "field features.hop_length: is 1000000, must be in 1...65536"),
        ("\"sample_rate\": 16000", "\"sample_rate\": 1", "field features.sample_rate: is 1, must be in 1000...384000"),
        ("\"n_fft\": 512,", "", "field features.n_fft: required when kind is \"mfcc\""),
        ("\"n_mfcc\": 3", "\"n_mfcc\": 13", "field features.n_mfcc: is 13, must equal inputs (3)"),
        ("\"kind\": \"mfcc\"", "\"kind\": \"wav\"", "field features.kind: is \"wav\", expected \"mfcc\" or \"raw\""),
        ("{\"format\"", "{{\"format\"", "field (document): not valid JSON"),
    ])
    func invalidConfig(replace: String, with: String, message: String) throws {
        #expect(Self.validConfig.contains(replace))
        let error = try configError(Self.validConfig.replacingOccurrences(of: replace, with: with))
        #expect(error?.description.hasSuffix("config.json: \(message)") == true, "\(String(describing: error))")
    }

    /// `readout` is optional: absent (every version-1 file) reads ReLU(u_B); a version-2 file may name
    /// either readout; the config is written back as it was read.
    @Test(arguments: [
        (1, nil, ModelConfig.Readout.relu), (2, nil, .relu), (1, "relu", .relu), (2, "relu", .relu), (2, "linear", .linear),
    ] as [(Int, String?, ModelConfig.Readout)])
    func readoutField(version: Int, field: String?, readout: ModelConfig.Readout) throws {
        let json = Self.validConfig.replacingOccurrences(of: "\"format_version\": 1", with: "\"format_version\": \(version)")
            .replacingOccurrences(of: "\"classes\"", with: (field.map { "\"readout\": \"\($0)\", " } ?? "") + "\"classes\"")
        #expect(try configError(json) == nil)
        let config = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
        #expect(config.readout == readout && config.formatVersion == version)
        let encoded = String(decoding: try config.encoded(), as: UTF8.self)
        #expect(encoded.contains("\"readout\"") == (readout == .linear))
        #expect(try JSONDecoder().decode(ModelConfig.self, from: config.encoded()) == config)
    }

    /// A config made in Swift takes the lowest version that holds its readout.
    @Test func newConfigsTakeTheVersionTheirReadoutNeeds() throws {
        for readout in ModelConfig.Readout.allCases {
            let config = ModelConfig(name: "t", inputs: 3, hidden: 2, blocks: 1, classes: ["a", "b"], readout: readout)
            #expect(config.formatVersion == (readout == .relu ? 1 : 2))
            try config.validate(file: "config.json")
        }
    }

    @Test func missingDirectory() {
        let url = URL(fileURLWithPath: "/nonexistent/model", isDirectory: true)
        #expect(thrown { () throws(ModelError) in try Model.load(from: url) }?.description == "/nonexistent/model/config.json: cannot read: no such file")
    }

    @Test("A model path that is a file, or a symbolic-link loop, is reported as such")
    func pathProblems() throws {
        let directory = try temporaryDirectory()
        try Model.random(config, seed: 1).write(to: directory)
        let file = directory.appendingPathComponent(Model.configFileName)
        #expect(thrown { () throws(ModelError) in try Model.load(from: file) }?.description
            == "\(file.path): cannot read: is a file; a model is a folder holding config.json and model.safetensors")
        let loop = try temporaryDirectory()
        let link = loop.appendingPathComponent(Model.configFileName)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: link.path)
        #expect(thrown { () throws(ModelError) in try Model.load(from: loop) }?.description
            == "\(link.path): cannot read: Too many levels of symbolic links")
    }

    @Test func configRoundTripsThroughJSON() throws {
        let decoded = try JSONDecoder().decode(ModelConfig.self, from: config.encoded())
        #expect(decoded == config)
        #expect(String(decoding: try config.encoded(), as: UTF8.self).contains("\"unit_current\""))
    }

    @Test func keepsExtraFeatureSettingsAndTrainingMetadata() throws {
        let json = Self.validConfig.replacingOccurrences(of: "\"frames\": 101,", with: "\"frames\": 101, \"window\": \"hann\", \"fmax\": 8000.0, \"center\": true,")
        let config = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
        #expect(config.features.extra == ["window": .string("hann"), "fmax": .number(8000), "center": .bool(true)])
        #expect(config.features.frames == 101)
        #expect(config.training == .object(["seed": .number(0), "anything": .array([.number(1), .number(2)])]))
        #expect(try JSONDecoder().decode(ModelConfig.self, from: config.encoded()) == config)
    }
}
