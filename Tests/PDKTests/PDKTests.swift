import Foundation
import Testing
import TestSupport
@testable import PDK

let catalog = TestSupport.catalog

@Suite("PDK")
struct PDKTests {
    @Test("The catalog lists both PDKs and every descriptor names existing model files")
    func catalogue() throws {
        #expect(catalog.names() == ["generic180", "gf180mcu"])
        for name in catalog.names() {
            let pdk = try catalog.pdk(name, environment: TestSupport.environment())
            for corner in pdk.descriptor.corners.keys {
                let statements = try pdk.modelStatements(corner: corner)
                #expect(statements.contains { $0.hasPrefix(".lib /") && $0.hasSuffix(" \(corner)") })
            }
        }
    }

    @Test("Model paths can be written relative to a deck's folder")
    func relativePaths() throws {
        let generic = try catalog.pdk("generic180")
        let deckFolder = TestSupport.repository.appendingPathComponent("spice/some/deck")
        #expect(try generic.modelStatements(corner: "typical", relativeTo: deckFolder)
            == [".lib ../../../pdk/generic180/generic180.lib typical"])
        let file = URL(fileURLWithPath: "/a/b/c/models.lib")
        #expect(PDK.relativePath(of: file, from: URL(fileURLWithPath: "/a/b/c")) == "models.lib")
        #expect(PDK.relativePath(of: file, from: URL(fileURLWithPath: "/a/x/./y/../z")) == "../../b/c/models.lib")
    }

    @Test("Statistical switches are written only when asked for, and only for PDKs that have them")
    func statistics() throws {
        let gf180 = try catalog.pdk("gf180mcu", environment: TestSupport.environment())
        let nominal = try gf180.modelStatements(corner: "typical")
        #expect(!nominal.contains { $0.contains("sw_stat") })
        let mismatch = try gf180.modelStatements(corner: "ss", statistics: .mismatch)
        #expect(mismatch.contains(".param sw_stat_global=0 sw_stat_mismatch=1"))
        #expect(mismatch.contains { $0.hasSuffix(" ss") } && !mismatch.contains { $0.hasSuffix(" statistical") })
        let global = try gf180.modelStatements(corner: "typical", statistics: .globalAndMismatch)
        #expect(global.contains(".param sw_stat_global=1 sw_stat_mismatch=1"))
        #expect(global.contains { $0.hasSuffix(" statistical") } && !global.contains { $0.hasSuffix(" typical") })
        #expect(throws: PDKError.globalVariationAtCorner(pdk: "gf180mcu", corner: "ff")) {
            try gf180.modelStatements(corner: "ff", statistics: .global)
        }
        let generic = try catalog.pdk("generic180")
        #expect(throws: PDKError.noStatistics(pdk: "generic180")) {
            try generic.modelStatements(corner: nil, statistics: .global)
        }
        // generic180's mismatch: its section after the corner's, and the wrappers as devices.
        let genericMismatch = try generic.modelStatements(corner: "ff", statistics: .mismatch)
        #expect(genericMismatch.suffix(2).map { $0.split(separator: " ").last.map(String.init) } == ["ff", "mismatch"])
        let wrapper = generic.varied(.mismatch).descriptor.devices.nmos
        #expect(wrapper.model == "nmos_g180_mm" && wrapper.subcircuit)
        #expect(generic.varied(.none) == generic && gf180.varied(.mismatch) == gf180)
    }

    @Test("A missing PDK_ROOT names the variable and the expected path")
    func missingRoot() {
        var environment = ProcessInfo.processInfo.environment
        environment["PDK_ROOT"] = nil
        #expect(throws: PDKError.missingVariable(variable: "PDK_ROOT", expected: "$PDK_ROOT/gf180mcuD/libs.tech/ngspice")) {
            try catalog.pdk("gf180mcu", environment: environment)
        }
        environment["PDK_ROOT"] = "/nonexistent"
        #expect {
            try catalog.pdk("gf180mcu", environment: environment)
        } throws: { error in
            (error as? PDKError)?.description.contains("/nonexistent/gf180mcuD/libs.tech/ngspice") ?? false
        }
    }

    @Test("Unknown PDKs, unknown corners and broken descriptors are one-line errors naming the problem")
    func errors() throws {
        #expect(throws: PDKError.unknownPDK(name: "tsmc7", available: ["generic180", "gf180mcu"])) {
            try catalog.pdk("tsmc7")
        }
        let generic = try catalog.pdk("generic180")
        #expect(throws: PDKError.unknownCorner(pdk: "generic180", corner: "tt", available: ["ff", "fs", "sf", "ss", "typical"])) {
            try generic.corner("tt")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmrukit-pdk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("pdk.json")
        try Data(#"{"name": "x", "description": "y"}"#.utf8).write(to: file)
        #expect(throws: PDKError.invalidDescriptor(file: file.path, reason: "missing field 'corners'")) {
            try catalog.pdk(file.path)
        }
        try Data("not json".utf8).write(to: file)
        #expect(throws: PDKError.invalidDescriptor(file: file.path, reason: "not valid JSON")) {
            try catalog.pdk(file.path)
        }
        for error in [PDKError.missingVariable(variable: "PDK_ROOT", expected: "$PDK_ROOT/x"),
                      .unknownPDK(name: "a", available: ["b"])] {
            #expect(!error.description.contains("\n"))
        }
    }
}
