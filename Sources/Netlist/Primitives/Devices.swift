import PDK
import SpiceValues

/// The channel type of a transistor.
public enum Polarity: String, Sendable, Equatable, CaseIterable, Codable {
    /// n-channel: sinks current, bulk at the lowest rail.
    case nmos
    /// p-channel: sources current, bulk at the highest rail.
    case pmos

    /// The PDK's device of this polarity.
    public func device(in pdk: PDK) -> PDKDescriptor.Device {
        self == .nmos ? pdk.descriptor.devices.nmos : pdk.descriptor.devices.pmos
    }
}

/// A transistor's drawn width and length in metres.
///
/// `unit` (W = 1 um, L = 2 um) is the size of the memory cell's, the comparator's and the bias
/// references' devices unless told otherwise: the geometry of the brief's GF180 cell check, far
/// above both PDKs' minima (L >= 0.28 um, W >= 0.22 um) so that channel-length modulation and
/// narrow-width effects stay small, with a 2 um^2 gate for moderate Pelgrom mismatch; W/L = 0.5
/// keeps every device in weak inversion up to a few nanoamperes. Weight mirrors use the wider
/// `CurrentMirror.mirrorUnit`.
public struct DeviceSize: Sendable, Equatable, Codable {
    /// Drawn channel width in metres.
    public var width: Double
    /// Drawn channel length in metres.
    public var length: Double

    /// A device of the given drawn width and length.
    public init(width: Double, length: Double) {
        self.width = width
        self.length = length
    }

    /// W = 1 um, L = 2 um (see the type's documentation).
    public static let unit = DeviceSize(width: 1e-6, length: 2e-6)

    /// How much smaller this size's Pelgrom mismatch is than the unit size's: sqrt(W L / W_u L_u).
    public var scaleOfMismatch: Double { (width * length / (Self.unit.width * Self.unit.length)).squareRoot() }

    /// This size with its gate area multiplied by `area`: width and length each times sqrt(area),
    /// so W / L and with it a device's current are kept, rounded to 10 nm (a multiple of the
    /// manufacturing grids of 180 nm processes). Pelgrom mismatch then falls by sqrt(area).
    public func scaled(area: Double) -> DeviceSize {
        let factor = area.squareRoot()
        func snapped(_ metres: Double) -> Double { (metres * factor / 1e-8).rounded() * 1e-8 }
        return DeviceSize(width: snapped(width), length: snapped(length))
    }

    /// This size on `pdk`'s manufacturing grid (`PDKDescriptor.grid`): width and length rounded to the
    /// nearest multiple, and up when that falls below the PDK's minimum; unchanged without a grid.
    public func snapped(to pdk: PDK) -> DeviceSize {
        guard let grid = pdk.descriptor.grid, grid > 0 else { return self }
        func snap(_ metres: Double, minimum: Double) -> Double {
            let steps = (metres / grid).rounded()
            return (steps * grid >= minimum ? steps : (minimum / grid).rounded(.up)) * grid
        }
        return DeviceSize(width: snap(width, minimum: pdk.descriptor.wmin), length: snap(length, minimum: pdk.descriptor.lmin))
    }

    /// Throws when the width or length is below `pdk`'s minimum (or not a positive number).
    public func check(against pdk: PDK, what: String) throws(NetlistError) {
        guard width.isFinite, width >= pdk.descriptor.wmin else {
            throw .belowMinimum(what: "\(what) width", value: width, minimum: pdk.descriptor.wmin, pdk: pdk.name)
        }
        guard length.isFinite, length >= pdk.descriptor.lmin else {
            throw .belowMinimum(what: "\(what) length", value: length, minimum: pdk.descriptor.lmin, pdk: pdk.name)
        }
    }
}

/// A transistor element of `pdk` (geometry checked by the caller), bulk tied to `bulk`, its size on
/// the PDK's manufacturing grid: every device of a deck is drawn through here.
func transistor(_ name: String, _ polarity: Polarity, drain: String, gate: String, source: String, bulk: String,
                size: DeviceSize, multiplier: Int = 1, pdk: PDK) -> Element {
    let drawn = size.snapped(to: pdk)
    return .mosfet(MOSFET(name: name, drain: drain, gate: gate, source: source, bulk: bulk, device: polarity.device(in: pdk),
                          width: .number(drawn.width), length: .number(drawn.length), multiplier: multiplier))
}

/// A description of a size for doc lines, in micrometres (`W=1u L=2u`).
func describe(_ size: DeviceSize, multiplier: Int = 1) -> String {
    "W=\(spiceNumber(size.width * 1e6))u L=\(spiceNumber(size.length * 1e6))u" + (multiplier == 1 ? "" : " m=\(multiplier)")
}
