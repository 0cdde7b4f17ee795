import Characterize
import Netlist
import Ngspice
import Testing
import TestSupport

@Suite("Mirror check")
struct MirrorCheckTests {
    @Test("Subthreshold mirrors follow their width ratio within 10 % from 10 pA to 3 nA in every corner",
          arguments: ["generic180", "gf180mcu"])
    func mirrors(name: String) throws {
        let pdk = try TestSupport.catalog.pdk(name, environment: TestSupport.environment())
        let session = try NgspiceSession()
        let check = MirrorCheck(currents: [10e-12, 100e-12, 1e-9, 3e-9])
        for corner in pdk.descriptor.corners.keys.sorted() {
            let measurements = try check.run(pdk: pdk, corner: corner, session: session)
            #expect(measurements.count == 2 * 4 * 2)
            for m in measurements {
                #expect(abs(m.error) < 0.10, "\(name) \(corner) \(m.polarity) \(m.input) A x\(m.widthRatio): ratio \(m.ratio)")
                // Subthreshold: |Vgs| of the input device stays below the threshold (up to about 0.9 V for the
                // 3.3 V GF180 PMOS in the slow corner).
                #expect(m.gateVoltage > 0.05 && m.gateVoltage < 1.0)
            }
        }
    }

    @Test("The check's deck is one SpiceWriter circuit of CurrentMirror instances, one operating point")
    func deck() throws {
        let pdk = try TestSupport.catalog.pdk("generic180")
        let circuit = try MirrorCheck(currents: [1e-9], widthRatios: [1, 2]).circuit(pdk: pdk, corner: nil)
        #expect(circuit.analyses == [.op])
        #expect(circuit.subcircuits.map(\.name) == ["nmos_mirror0", "nmos_mirror1", "pmos_mirror0", "pmos_mirror1"])
        #expect(circuit.saves.count == 2 * 2 * 2)
        let lines = try SpiceWriter().lines(circuit)
        #expect(lines.contains("iref0 vdd g0 dc 1e-09") && lines.contains("iref2 g2 0 dc 1e-09"))
        #expect(lines.contains("xm0 g0 o0 0 nmos_mirror0") && lines.contains("vo0 o0 half dc 0"))
    }
}
