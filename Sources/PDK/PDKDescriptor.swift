import Foundation

/// What BMRUKit needs to know about a process design kit, read from a `pdk.json` file.
///
/// A descriptor names, per corner, the model files and `.lib` sections to load, the NMOS and PMOS
/// devices (and whether they are subcircuits, instantiated with an `X` prefix), the minimum
/// geometry, the nominal supply and the statistical switches. Paths are relative to `model_root`.
public struct PDKDescriptor: Codable, Sendable, Equatable {
    /// A `.lib FILE SECTION` statement.
    public struct Library: Codable, Sendable, Equatable {
        /// The library file, relative to the model root.
        public var file: String
        /// The section of the library to load.
        public var section: String
    }

    /// The files one process corner loads.
    public struct Corner: Codable, Sendable, Equatable {
        /// Files loaded with `.include`, in order, before the libraries.
        public var includes: [String]
        /// Library sections loaded with `.lib`.
        public var libs: [Library]
    }

    /// A transistor as the PDK names it.
    public struct Device: Codable, Sendable, Equatable {
        /// The model or subcircuit name (`nfet_03v3`, `nmos_g180`).
        public var model: String
        /// True when the device is a subcircuit (instantiated with `X`), false for a plain model (`M`).
        public var subcircuit: Bool
    }

    /// The NMOS and PMOS devices used by BMRUKit's circuits.
    public struct Devices: Codable, Sendable, Equatable {
        /// The n-channel device.
        public var nmos: Device
        /// The p-channel device.
        public var pmos: Device
    }

    /// How to switch on statistical (Monte Carlo) variation.
    public struct Statistics: Codable, Sendable, Equatable {
        /// Library sections that replace the default corner's when global variation is on (they
        /// define the devices around typical with random process parameters); empty when the PDK
        /// has no global variation.
        public var libs: [Library]
        /// Library sections loaded after the corner's when mismatch is on (nil: the corner's
        /// devices draw their own mismatch, as GF180's wrappers do).
        public var mismatchLibs: [Library]?
        /// The devices a deck with variation instantiates (nil: the nominal ones), e.g. subcircuit
        /// wrappers that draw a threshold and a mobility offset per instance.
        public var devices: Devices?
        /// The `.param` that turns on global (process) variation.
        public var globalSwitch: String
        /// The `.param` that turns on device mismatch.
        public var mismatchSwitch: String

        enum CodingKeys: String, CodingKey {
            case libs
            case mismatchLibs = "mismatch_libs"
            case devices
            case globalSwitch = "global_switch"
            case mismatchSwitch = "mismatch_switch"
        }
    }

    /// The PDK's name (`generic180`, `gf180mcu`).
    public var name: String
    /// One line saying what the PDK is.
    public var description: String
    /// Where the model files are: `embedded` (the descriptor's own folder) or a path that may start
    /// with `$VARIABLE` (e.g. `$PDK_ROOT/gf180mcuD/libs.tech/ngspice`).
    public var modelRoot: String
    /// The process corners by name.
    public var corners: [String: Corner]
    /// The corner used when none is given.
    public var defaultCorner: String
    /// The transistors.
    public var devices: Devices
    /// Minimum drawn channel length in metres.
    public var lmin: Double
    /// Minimum drawn channel width in metres.
    public var wmin: Double
    /// The manufacturing grid in metres: drawn widths and lengths are multiples of it (GF180MCU and
    /// the generic 180 nm card: 5 nm). Nil when the descriptor does not say: sizes are written as
    /// computed.
    public var grid: Double?
    /// Nominal supply voltage of the devices in volts.
    public var nominalSupply: Double
    /// Statistical switches, nil when the PDK has no statistical models.
    public var statistics: Statistics?

    enum CodingKeys: String, CodingKey {
        case name, description, corners, devices, lmin, wmin, grid = "manufacturing_grid", statistics
        case modelRoot = "model_root"
        case defaultCorner = "default_corner"
        case nominalSupply = "nominal_supply"
    }
}
