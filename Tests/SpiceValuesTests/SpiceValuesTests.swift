import SpiceValues
import Testing

@Suite("SPICE values")
struct SpiceValuesTests {
    @Test("The default options are the documented pA-level settings")
    func options() {
        #expect(SimulationOptions().statement
            == ".options abstol=1e-16 gmin=1e-18 vntol=1e-07 reltol=0.0001 chgtol=1e-17 itl1=500 temp=27")
        var fast = SimulationOptions()
        (fast.method, fast.trtol, fast.bypass) = ("gear", 40, true)
        #expect(fast.statement.hasSuffix(" temp=27 method=gear trtol=40 bypass=1"))
    }

    @Test("Analyses print their numbers with at most nine significant digits, without float debris")
    func analyses() {
        #expect(Analysis.tran(step: 1e-5, stop: 2e-3).command == "tran 1e-05 0.002 0")
        #expect(Analysis.tran(step: 1e-4, stop: 1.01, maxStep: 0.01).command == "tran 0.0001 1.01 0 0.01")
        #expect(Analysis.dc(source: "v1", start: 0, stop: 2, step: 0.5).command == "dc v1 0 2 0.5")
        #expect(spiceNumber(0.1 + 0.2) == "0.3" && spiceNumber(4.7250000000000005e-06) == "4.725e-06")
        #expect(spiceNumber(1.201900441741418e-09) == "1.20190044e-09" && spiceNumber(-2.5e-13) == "-2.5e-13")
    }
}
