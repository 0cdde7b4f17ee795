/// Input current sources: a frame sequence as a PWL waveform, or an EXTERNAL source driven by the
/// host program.
///
/// Both push their current into `node` from `from` (SPICE: current flows from the positive node
/// through the source to the negative node).
public enum InputSource {
    /// A source holding `values[k]` (amperes) during frame k, frames of `frameDuration` seconds, each
    /// change a linear ramp of `edge` seconds starting at the frame boundary.
    ///
    /// Each frame contributes its two corners (boundary and end of ramp), so the simulator puts a
    /// breakpoint on every frame edge and steps freely inside the flat part of a frame.
    public static func frames(name: String, from: String, into node: String, values: [Double],
                              frameDuration: Double, edge: Double) throws(NetlistError) -> Element {
        guard !values.isEmpty else { throw .invalidParameter("input \(name) has no frames") }
        guard frameDuration > 0, edge > 0, edge < frameDuration else {
            throw .invalidParameter("input \(name): need 0 < edge (\(edge)) < frame duration (\(frameDuration))")
        }
        return .currentSource(name: name, positive: from, negative: node,
                              value: .pwl(corners(values: values, frameDuration: frameDuration, edge: edge)))
    }

    /// The PWL corners holding `values[k]` during frame k, each change a ramp of `edge` from the frame
    /// boundary: the breakpoints of every deck driven by frames.
    static func corners(values: [Double], frameDuration: Double, edge: Double) -> [PWLPoint] {
        var points = [PWLPoint(0, values[0])]
        for index in values.indices.dropFirst() {
            let start = Double(index) * frameDuration
            points += [PWLPoint(start, values[index - 1]), PWLPoint(start + edge, values[index])]
        }
        return points
    }

    /// A source whose value the host program supplies at every time point (ngspice's GetISRCData
    /// callback of `ngSpice_Init_Sync`); it sets no breakpoints, so the driver must add them at input edges.
    public static func external(name: String, from: String, into node: String) -> Element {
        .currentSource(name: name, positive: from, negative: node, value: .external)
    }
}
