import SpiceValues
import Testing

@Suite("SPICE values")
struct SpiceValuesTests {
    @Test("The default options are the documented pA-level settings")
    func options() {
        #expect(SimulationOptions().statement
            == ".options abstol=1e-16 gmin=1e-18 vntol=1e-07 reltol=0.0001 chgtol=1e-17 itl1=500 temp=27.0")
        var fast = SimulationOptions()
        (fast.method, fast.trtol, fast.bypass) = ("gear", 40, true)
        #expect(fast.statement.hasSuffix(" temp=27.0 method=gear trtol=40.0 bypass=1"))
    }

    @Test("Analyses print their numbers as the shortest round-trip text")
    func analyses() {
        #expect(Analysis.tran(step: 1e-5, stop: 2e-3).command == "tran 1e-05 0.002 0.0")
        #expect(Analysis.tran(step: 1e-4, stop: 1.01, maxStep: 0.01).command == "tran 0.0001 1.01 0.0 0.01")
        #expect(Analysis.dc(source: "v1", start: 0, stop: 2, step: 0.5).command == "dc v1 0.0 2.0 0.5")
        #expect(spiceNumber(0.1 + 0.2) == "0.30000000000000004")
    }
}
