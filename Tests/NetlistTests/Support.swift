import Foundation
import Ngspice
import PDK
import TestSupport
@testable import Netlist

/// The PDK `name` from the repository's `pdk/` folder (PDK_ROOT as `TestSupport` resolves it).
func testPDK(_ name: String) throws -> PDK {
    try TestSupport.catalog.pdk(name, environment: TestSupport.environment())
}

/// Supply of every test bench: the circuit's 1.8 V (GF180's 3.3 V devices run at it too).
let supply = 1.8

/// A bench with the typical-corner models, the pA options, a 1.8 V `vdd` and a `half` node at 0.9 V.
func bench(_ title: String, pdk: PDK) throws -> Circuit {
    Circuit(title: title, models: try pdk.modelStatements(corner: "typical"),
            elements: [.voltageSource(name: "dd", positive: "vdd", negative: "0", value: .dc(.number(supply))),
                       .voltageSource(name: "half", positive: "half", negative: "0", value: .dc(.number(supply / 2)))])
}

/// Loads `circuit` through the writer, runs it and returns the session for reading vectors.
func simulate(_ circuit: Circuit, _ analysis: Analysis = .deck) throws -> NgspiceSession {
    let session = try NgspiceSession()
    try session.load(lines: try SpiceWriter().lines(circuit))
    try session.run(analysis, timeout: .seconds(120))
    return session
}
