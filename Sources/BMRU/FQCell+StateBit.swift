extension FQCell {
    /// The state bit of unit `unit` read from a measured state current in amperes, for a circuit built
    /// at `unitCurrent` amperes per model unit: set when the current is above half its high level
    /// alpha * I_u (a cell's state current is alpha * I_u when set and 0 when reset).
    ///
    /// The one threshold by which a circuit's state currents become bits: the verifier's comparison,
    /// its traces and the compiler's tests all read bits through it.
    public func state(current: Double, unit: Int, unitCurrent: Double) -> Bool {
        current > alpha[unit] * unitCurrent / 2
    }
}
