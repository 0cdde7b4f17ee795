import BMRU
import Foundation

/// The error a throwing body raised, or nil: lets tests assert on the exact case and message.
func thrown<T>(_ body: () throws(ModelError) -> T) -> ModelError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// See `thrown(_:)` for the reader's own error type.
func thrown<T>(_ body: () throws(SafetensorsError) -> T) -> SafetensorsError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A fresh empty directory under the system temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Raw safetensors bytes with a hand-written header, for corrupted-file tests.
func rawSafetensors(header: String, data: [UInt8] = [], length: UInt64? = nil) -> Data {
    var bytes = Data()
    withUnsafeBytes(of: (length ?? UInt64(header.utf8.count)).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: Array(header.utf8))
    bytes.append(contentsOf: data)
    return bytes
}

/// The package root, found from this file's path (Tests/BMRUTests/TestSupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A one-unit, one-block model small enough to compute by hand: identity projections, alpha 2,
/// beta_lo 1, beta_hi 2, s0 = 0, classifier logits [r, 0.5 - r] with r = ReLU(u_1).
func handModel() -> Model {
    let config = ModelConfig(name: "hand", inputs: 1, hidden: 1, blocks: 1, classes: ["on", "off"])
    let identity = Linear(inputs: 1, weight: [1], bias: [0])
    let cell = FQCell(candidate: identity, alpha: [2], betaLo: [1], delta: [1], s0: [false])
    return Model(config: config, pre: identity, blocks: [Block(cell: cell, post: identity)],
                 classifier: Linear(inputs: 1, weight: [1, -1], bias: [0, 0.5]))
}
