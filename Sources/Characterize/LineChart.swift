import Foundation

/// A line chart written as a small standalone SVG: one polyline per series, axes with ticks, a
/// legend. Enough to look at a characterization table in a browser or a review, with no plotting
/// dependency; the text is deterministic (fixed size, fixed palette, `%g` numbers).
public struct LineChart: Sendable, Equatable {
    /// One curve.
    public struct Series: Sendable, Equatable {
        /// The legend text.
        public var name: String
        /// The points, joined in order.
        public var points: [Point]

        /// A series of `points`.
        public init(name: String, points: [Point]) {
            self.name = name
            self.points = points
        }
    }

    /// A data point.
    public struct Point: Sendable, Equatable {
        /// Coordinates in data units.
        public var x, y: Double

        /// The point (x, y).
        public init(_ x: Double, _ y: Double) {
            self.x = x
            self.y = y
        }
    }

    /// The heading.
    public var title: String
    /// Axis labels.
    public var xLabel, yLabel: String
    /// Whether the x axis is logarithmic (every x must then be > 0).
    public var logX: Bool
    /// The curves, drawn in order.
    public var series: [Series]

    /// A chart of `series`.
    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logX = logX
        self.series = series
    }

    /// Canvas size and the plot area's margins, in SVG user units.
    static let (width, height) = (720.0, 440.0)
    static let (left, right, top, bottom) = (80.0, 200.0, 40.0, 60.0)
    /// Curve colours, cycled.
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
                          "#7f7f7f", "#bcbd22"]

    /// The chart as an SVG document.
    public func svg() throws(ChartError) -> String {
        let points = series.flatMap(\.points)
        guard !points.isEmpty else { throw .empty(title) }
        guard points.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { throw .invalidPoint(title) }
        if logX, points.contains(where: { $0.x <= 0 }) { throw .invalidPoint(title) }
        let xs = points.map { logX ? log10($0.x) : $0.x }, ys = points.map(\.y)
        let (x0, x1) = Self.range(xs.min()!, xs.max()!), (y0, y1) = Self.range(ys.min()!, ys.max()!)
        let (plotWidth, plotHeight) = (Self.width - Self.left - Self.right, Self.height - Self.top - Self.bottom)
        func px(_ x: Double) -> Double { Self.left + ((logX ? log10(x) : x) - x0) / (x1 - x0) * plotWidth }
        func py(_ y: Double) -> Double { Self.top + (y1 - y) / (y1 - y0) * plotHeight }
        var lines = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(Self.width))\" height=\"\(f(Self.height))\" "
                + "font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            text(Self.left + plotWidth / 2, 24, title, anchor: "middle", size: 15),
            "<rect x=\"\(f(Self.left))\" y=\"\(f(Self.top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" "
                + "fill=\"none\" stroke=\"black\"/>",
        ]
        for tick in Self.ticks(x0, x1, log: logX) {
            let x = px(logX ? pow(10, tick) : tick), base = Self.top + plotHeight
            lines.append(line(x, base, x, base + 5, "black"))
            lines.append(text(x, base + 18, f(logX ? pow(10, tick) : tick), anchor: "middle"))
        }
        for tick in Self.ticks(y0, y1, log: false) {
            let y = py(tick)
            lines.append(line(Self.left - 5, y, Self.left, y, "black"))
            lines.append(line(Self.left, y, Self.left + plotWidth, y, "#dddddd"))
            lines.append(text(Self.left - 8, y + 4, f(tick), anchor: "end"))
        }
        lines.append(text(Self.left + plotWidth / 2, Self.height - 16, xLabel, anchor: "middle"))
        lines.append("<text transform=\"translate(18 \(f(Self.top + plotHeight / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\">\(Self.escape(yLabel))</text>")
        for (index, curve) in series.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            let coordinates = curve.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            lines.append("<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(coordinates)\"/>")
            let y = Self.top + 10 + 18 * Double(index), x = Self.width - Self.right + 16
            lines.append(line(x, y, x + 20, y, colour))
            lines.append(text(x + 26, y + 4, curve.name, anchor: "start"))
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A range around [low, high], widened to a unit when the data are flat.
    static func range(_ low: Double, _ high: Double) -> (Double, Double) {
        guard high > low else { return (low - 0.5 * max(abs(low), 1e-300), high + 0.5 * max(abs(high), 1e-300)) }
        return (low, high)
    }

    /// About five round tick values inside [low, high]; whole decades (exponents) on a log axis.
    static func ticks(_ low: Double, _ high: Double, log: Bool) -> [Double] {
        if log {
            let decades = Array(Int(low.rounded(.up))...max(Int(low.rounded(.up)), Int(high.rounded(.down))))
            return decades.map(Double.init).filter { $0 >= low - 1e-9 && $0 <= high + 1e-9 }
        }
        let raw = (high - low) / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw }!
        return stride(from: (low / step).rounded(.up) * step, through: high + step * 1e-9, by: step).map { $0 }
    }

    /// `&`, `<`, `>` and `"` escaped for SVG text and attributes.
    static func escape(_ string: String) -> String {
        string.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ colour: String) -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(colour)\"/>"
    }

    private func text(_ x: Double, _ y: Double, _ string: String, anchor: String, size: Int = 12) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\"" + (size == 12 ? "" : " font-size=\"\(size)\"")
            + ">\(Self.escape(string))</text>"
    }

    /// A number in `%g` form (4 significant digits), "-0" written as "0".
    private func f(_ value: Double) -> String {
        let text = String(format: "%.4g", value)
        return text == "-0" ? "0" : text
    }
}

/// Why a chart cannot be drawn; one line each.
public enum ChartError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The chart has no points.
    case empty(String)
    /// A point is not finite, or not positive on a logarithmic axis.
    case invalidPoint(String)

    public var description: String {
        switch self {
        case let .empty(title): "chart '\(title)' has no points"
        case let .invalidPoint(title): "chart '\(title)' has a non-finite point or a non-positive x on its log axis"
        }
    }
}
