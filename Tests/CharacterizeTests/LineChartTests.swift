import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Characterize

@Suite("LineChart")
struct LineChartTests {
    let chart = LineChart(title: "a < b & c", xLabel: "x", yLabel: "y", series: [
        .init(name: "up", points: [.init(0, 0), .init(10, 1)]),
        .init(name: "down", points: [.init(0, 1), .init(5, 0.5), .init(10, 0)]),
    ])

    @Test("One polyline per series, data corners on the plot corners, escaped text, well-formed XML, same text twice")
    func drawing() throws {
        let svg = try chart.svg()
        #expect(try svg == chart.svg())
        let polylines = svg.split(separator: "\n").filter { $0.hasPrefix("<polyline") }
        #expect(polylines.count == 2)
        // Plot area: x 80..520, y 40..380 (720 x 440 canvas, margins 80/200/40/60).
        #expect(polylines[0].contains("points=\"80,380 520,40\""))
        #expect(polylines[1].contains("points=\"80,40 300,210 520,380\""))
        #expect(svg.contains("a &lt; b &amp; c") && !svg.contains("a < b"))
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }

    @Test("Log axes tick whole decades; empty charts and non-positive log x are refused")
    func axes() throws {
        #expect(LineChart.ticks(-10, -8, log: true) == [-10, -9, -8])
        let ticks = LineChart.ticks(0, 1, log: false)
        #expect(ticks.count == 6 && zip(ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]).allSatisfy { abs($0 - $1) < 1e-12 })
        var log = chart
        log.logX = true
        #expect(throws: ChartError.invalidPoint("a < b & c")) { try log.svg() }
        #expect(throws: ChartError.empty("e")) { try LineChart(title: "e", xLabel: "", yLabel: "", series: []).svg() }
    }
}
