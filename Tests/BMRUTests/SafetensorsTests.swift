@testable import BMRU
import Foundation
import Testing

@Suite struct SafetensorsTests {
    @Test func roundTripPreservesTensorsAndMetadata() throws {
        let file = SafetensorsFile(tensors: [
            "a.weight": Tensor(dtype: .f64, shape: [2, 3], values: [1, -2, 3.25, .pi, -0.0, 1e-300]),
            "b": Tensor(dtype: .f32, shape: [3], values: [0.5, -1.5, 1e6]),
            "scalar": Tensor(dtype: .f64, shape: [], values: [42]),
            "empty": Tensor(dtype: .f32, shape: [0, 4], values: []),
        ], metadata: ["format": "bmru-model"])
        let data = file.serialized()
        let header = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        #expect(header % 8 == 0, "data section starts 8-byte aligned")
        #expect(try SafetensorsFile(data: data) == file)

        let url = try temporaryDirectory().appendingPathComponent("t.safetensors")
        try file.write(to: url)
        #expect(try SafetensorsFile(contentsOf: url) == file)
    }

    @Test func float32StorageRoundsToSinglePrecision() throws {
        let file = SafetensorsFile(tensors: ["x": Tensor(dtype: .f32, shape: [1], values: [0.1])])
        let read = try SafetensorsFile(data: file.serialized())
        #expect(read.tensors["x"]?.values == [Double(Float(0.1))])
    }

    @Test func readsAHandWrittenFile() throws {
        var data: [UInt8] = []
        for value in [Float(1.5), -2] { withUnsafeBytes(of: value.bitPattern.littleEndian) { data += $0 } }
        let bytes = rawSafetensors(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}}"#, data: data)
        let file = try SafetensorsFile(data: bytes)
        #expect(file.tensors["w"] == Tensor(dtype: .f32, shape: [2], values: [1.5, -2]))
        #expect(file.metadata == ["k": "v"])
    }

    @Test func rejectsFileShorterThanLengthField() {
        #expect(thrown { () throws(SafetensorsError) in try SafetensorsFile(data: Data([1, 2, 3])) } == .truncatedLength(fileSize: 3))
    }

    @Test func rejectsOversizedHeaderLength() {
        let error = thrown { () throws(SafetensorsError) in try SafetensorsFile(data: rawSafetensors(header: "{}", length: UInt64.max)) }
        #expect(error == .headerTooLarge(length: UInt64.max, limit: SafetensorsFile.maximumHeaderLength))
    }

    @Test func rejectsHeaderRunningPastEndOfFile() {
        let error = thrown { () throws(SafetensorsError) in try SafetensorsFile(data: rawSafetensors(header: "{}", length: 1000)) }
        #expect(error == .truncatedHeader(length: 1000, available: 2))
    }

    @Test(arguments: ["{not json", "[1, 2]", #"{"__metadata__": {"k": 1}}"#])
    func rejectsCorruptedHeader(header: String) {
        let error = thrown { () throws(SafetensorsError) in try SafetensorsFile(data: rawSafetensors(header: header)) }
        guard case .invalidHeader = error else {
            Issue.record("expected invalidHeader, got \(String(describing: error))")
            return
        }
    }

    @Test func rejectsUnsupportedDType() {
        let header = #"{"w":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#
        let error = thrown { () throws(SafetensorsError) in try SafetensorsFile(data: rawSafetensors(header: header, data: [0, 0, 0, 0])) }
        #expect(error == .unsupportedDType(tensor: "w", dtype: "I32"))
        #expect(error?.description == "tensor w: dtype I32 is not supported (F32 or F64)")
    }

    @Test(arguments: [
        #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#,
        #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#,
        #"{"w":[1]}"#,
    ])
    func rejectsMalformedEntry(header: String) {
        let error = thrown { () throws(SafetensorsError) in try SafetensorsFile(data: rawSafetensors(header: header, data: [0, 0, 0, 0])) }
        guard case .invalidEntry(tensor: "w", _) = error else {
            Issue.record("expected invalidEntry for w, got \(String(describing: error))")
            return
        }
    }

    @Test func rejectsShapeThatDoesNotFitByteRange() {
        let header = #"{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#
        let error = thrown { () throws(SafetensorsError) in try SafetensorsFile(data: rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 8))) }
        #expect(error == .sizeMismatch(tensor: "w", shape: [2], dtype: .f64, bytes: 8))
    }

    @Test func rejectsShapeWhoseElementCountOverflows() {
        let header = #"{"w":{"dtype":"F64","shape":[100000000000000,100000000000000],"data_offsets":[0,8]}}"#
        let error = thrown { () throws(SafetensorsError) in try SafetensorsFile(data: rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 8))) }
        guard case .sizeMismatch(tensor: "w", _, _, _) = error else {
            Issue.record("expected sizeMismatch, got \(String(describing: error))")
            return
        }
    }

    @Test func rejectsTruncatedData() {
        let file = SafetensorsFile(tensors: ["w": Tensor(shape: [4], values: [1, 2, 3, 4])])
        let data = file.serialized().dropLast(5)
        let error = thrown { () throws(SafetensorsError) in try SafetensorsFile(data: Data(data)) }
        #expect(error == .offsetsOutOfBounds(tensor: "w", begin: 0, end: 32, dataSize: 27))
    }

    @Test func rejectsOverlappingTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        let error = thrown { () throws(SafetensorsError) in try SafetensorsFile(data: rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 8))) }
        #expect(error == .overlap(tensor: "b", other: "a"))
    }

    @Test func randomCorruptionNeverCrashes() {
        let config = ModelConfig(name: "x", inputs: 3, hidden: 2, blocks: 1, classes: ["a", "b"])
        let valid = [UInt8](SafetensorsFile(tensors: Model.random(config, seed: 1).tensors(dtype: .f32)).serialized())
        var rng = SplitMix64(seed: 3)
        var rejected = 0
        for trial in 0..<500 {
            var bytes = valid
            if trial % 5 == 0 {
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
            } else {
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            // Either error is fine; reaching the end of the loop without trapping is the test.
            do {
                let file = try SafetensorsFile(data: Data(bytes))
                _ = try Model(config: config, tensors: file.tensors, file: "fuzz")
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 100)
    }

    @Test func namesTheFileOnDisk() throws {
        let url = try temporaryDirectory().appendingPathComponent("broken.safetensors")
        try Data([1, 2]).write(to: url)
        let error = thrown { () throws(ModelError) in try SafetensorsFile(contentsOf: url) }
        #expect(error?.description == "\(url.relativePath): file is 2 bytes, too short for the 8-byte header length")
        let missing = url.deletingLastPathComponent().appendingPathComponent("absent.safetensors")
        #expect(thrown { () throws(ModelError) in try SafetensorsFile(contentsOf: missing) } == .unreadable(file: missing.relativePath, reason: "no such file"))
    }
}
