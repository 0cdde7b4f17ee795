// swift-tools-version:6.1
import PackageDescription

// Built and tested on Linux only (Debian 12, Swift 6.1+): the code reads /proc, loads libngspice
// with dlopen and installs its C libraries with apt, so no Apple platform is declared.
let package = Package(
    name: "BMRUKit",
    products: [
        .executable(name: "bmru", targets: ["BMRUCLI"]),
        .library(name: "SpiceValues", targets: ["SpiceValues"]),
        .library(name: "Ngspice", targets: ["Ngspice"]),
        .library(name: "PDK", targets: ["PDK"]),
        .library(name: "BMRU", targets: ["BMRU"]),
        .library(name: "KWS", targets: ["KWS"]),
        .library(name: "Netlist", targets: ["Netlist"]),
        .library(name: "Characterize", targets: ["Characterize"]),
        .library(name: "Verify", targets: ["Verify"]),
        .library(name: "ClipSources", targets: ["ClipSources"]),
        .library(name: "Sweep", targets: ["Sweep"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C declarations of libngspice's shared API. Nothing is linked: the library is loaded with
        // dlopen so that an instance left unusable by ngspice's ControlledExit can be reloaded.
        .systemLibrary(name: "CNgspice"),
        // What a deck writer and the simulator driver share without knowing each other: analyses,
        // simulator options and the one number format of SPICE text.
        .target(name: "SpiceValues"),
        .target(
            name: "Ngspice",
            dependencies: [
                "CNgspice",
                "SpiceValues",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .target(name: "PDK"),
        .target(name: "BMRU"),
        // C libraries of the audio front end, linked through module maps.
        .systemLibrary(name: "CSndfile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CSamplerate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
        // KWS also depends on BMRU: `KeywordSpotter` feeds a model the features its config names; on
        // Crypto for the SHA-1 of the training pipeline's speaker split (`SpeechCommands`).
        .target(name: "KWS", dependencies: [
            "CSndfile", "CFFTW", "CSamplerate", "BMRU", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Netlist values, the one SPICE writer, the circuit primitives, the compiler and the
        // characterization tables it sizes from: no simulator.
        .target(name: "Netlist", dependencies: ["PDK", "BMRU", "SpiceValues"]),
        // Measuring a PDK corner: the characterization sweeps on the worker pool and their reduction
        // to tables, the mirror smoke test, the tables' SVG charts.
        .target(name: "Characterize", dependencies: ["Netlist", "Ngspice", "PDK", "SpiceValues", "BMRU"]),
        // Circuit-versus-reference verification: compiles, simulates over the worker pool, compares.
        // No audio: clips come in as frames.
        .target(name: "Verify", dependencies: [
            "Ngspice", "Netlist", "BMRU", "PDK", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Where clips come from: the selectors of verify and sweep files (`ClipSelection`), WAV folders
        // and Speech Commands through KWS's front end, features files through Verify.
        .target(name: "ClipSources", dependencies: ["Verify", "KWS", "BMRU"]),
        // Robustness sweeps (Monte Carlo, PVT, noise): plans, shard runs on the pool, merged yield
        // reports, Slurm job arrays.
        .target(name: "Sweep", dependencies: [
            "Verify", "ClipSources", "Netlist", "Ngspice", "PDK", "BMRU", .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        // Defines `gitCommit` in the target that uses it: the commit of the checkout being built, for the
        // reports' provenance ("unknown" when building from a tarball).
        .plugin(name: "GitCommit", capability: .buildTool()),
        // The `bmru` executable: argument parsing only. The target is not named `bmru` because a
        // module `bmru` beside the library `BMRU` clashes on case-insensitive file systems.
        .executableTarget(
            name: "BMRUCLI",
            dependencies: [
                "Ngspice", "PDK", "BMRU", "KWS", "Netlist", "Characterize", "Verify", "ClipSources", "Sweep",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["GitCommit"]
        ),
        // Paths and PDK_ROOT resolution shared by the test targets.
        .target(name: "TestSupport", dependencies: ["PDK"], path: "Tests/TestSupport"),
        .testTarget(name: "NgspiceTests", dependencies: ["Ngspice", "SpiceValues", "PDK", "TestSupport"]),
        .testTarget(name: "PDKTests", dependencies: ["PDK", "TestSupport"]),
        .testTarget(name: "BMRUTests", dependencies: ["BMRU"], exclude: ["Fixtures"]),
        .testTarget(
            name: "KWSTests",
            dependencies: ["KWS", "BMRU", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "SpiceValuesTests", dependencies: ["SpiceValues"]),
        // NetlistTests simulate the primitives and the compiled circuits; the calibration tests size
        // from freshly measured tables (Characterize).
        .testTarget(name: "NetlistTests", dependencies: [
            "Netlist", "Characterize", "PDK", "Ngspice", "SpiceValues", "BMRU", "TestSupport",
        ], exclude: ["Fixtures"]),
        .testTarget(name: "CharacterizeTests", dependencies: ["Characterize", "Netlist", "PDK", "Ngspice", "TestSupport"]),
        // VerifyTests also imports ClipSources: the mode guard runs a real WAV clip.
        .testTarget(name: "VerifyTests", dependencies: ["Verify", "ClipSources", "Netlist", "PDK", "BMRU", "Ngspice", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ClipSourcesTests", dependencies: ["ClipSources", "Verify", "BMRU", "TestSupport"]),
        .testTarget(name: "SweepTests", dependencies: [
            "Sweep", "ClipSources", "Verify", "Netlist", "Ngspice", "PDK", "BMRU", "TestSupport",
        ]),
        .testTarget(name: "CLITests", dependencies: ["BMRUCLI", "TestSupport"], exclude: ["Fixtures"]),
    ]
)
