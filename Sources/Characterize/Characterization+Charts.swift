import BMRU
import Foundation
import Netlist

extension Characterization {
    /// Writes the tables as `characterization.json` and their `charts()` as SVG files into
    /// `directory` (created if needed). Every text is made before any file is written.
    public func write(to directory: URL) throws(CharacterizeError) {
        var files: [(String, Data)] = []
        do {
            files.append((Self.fileName, try encoded()))
        } catch {
            throw .table(error)
        }
        do {
            for (name, chart) in charts() { files.append((name, Data(try chart.svg().utf8))) }
        } catch {
            throw .invalid("cannot draw the tables: \(error)")
        }
        for (name, data) in files {
            let url = directory.appendingPathComponent(name)
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try data.write(to: url, options: .atomic)
            } catch {
                throw .file(url.path, fileErrorReason(error))
            }
        }
    }

    /// One chart per table, with its file name: each mirror table as measured ratio over nominal
    /// width ratio against input current (one curve per width; 1 is the nominal rule), the cell's
    /// three sweeps (each level against the bias it is meant to follow) and the readout's offset.
    public func charts() -> [(file: String, chart: LineChart)] {
        typealias Point = LineChart.Point
        var charts: [(String, LineChart)] = mirrors.map { table in
            let series = table.widths.enumerated().map { w, width in
                LineChart.Series(name: "width x\(width)", points: table.inputs.enumerated().map { i, input in
                    Point(input, table.ratio[i][w] / width)
                })
            }
            return ("mirror-\(table.polarity.rawValue).svg",
                    LineChart(title: "\(pdk) \(corner): \(table.polarity.rawValue) weight mirrors", xLabel: "input current (A)",
                              yLabel: "measured ratio / width ratio", logX: true, series: series))
        }
        charts.append(("cell.svg", LineChart(
            title: "\(pdk) \(corner): memory cell", xLabel: "bias current (A)", yLabel: "measured current (A)", series: [
                .init(name: "on vs I_thresh (I_width 0.1 I_thresh)",
                      points: cell.grid.filter { abs($0.width / $0.threshold - 0.1) < 1e-9 }.map { Point($0.threshold, $0.on) }),
                .init(name: "on - off vs I_width (I_thresh 3.5 I_u)",
                      points: cell.grid.filter { abs($0.threshold / unitCurrent - 3.5) < 1e-9 }.map { Point($0.width, $0.on - $0.off) }),
                .init(name: "high vs I_gain", points: cell.gainSweep.map { Point($0.gain, $0.high) }),
            ])))
        charts.append(("readout.svg", LineChart(
            title: "\(pdk) \(corner): readout", xLabel: "reference current (A)", yLabel: "offset (%)", logX: true,
            series: [.init(name: "offset", points: zip(readout.levels, readout.offsets).map { Point($0, 100 * $1) })])))
        return charts
    }
}
